package store

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
)

// The migrations make the same schema in SQLite and, translated, in PostgreSQL: the same
// tables, columns (type, nullability), primary keys, unique constraints, indexes and
// append-only triggers.
func TestSameSchemaOnBothBackends(t *testing.T) {
	var got [2]map[string]string
	for i, b := range backends {
		s := b.store(t)
		var err error
		if got[i], err = describe(context.Background(), s); err != nil {
			t.Fatalf("%s: %v", b.name, err)
		}
	}
	lite, pgs := got[0], got[1]
	if len(lite) < 20 {
		t.Fatalf("the SQLite schema is too small to be real: %v", lite)
	}
	for k, v := range lite {
		if pgs[k] != v {
			t.Errorf("%s: sqlite %q, postgres %q", k, v, pgs[k])
		}
	}
	for k, v := range pgs {
		if _, ok := lite[k]; !ok {
			t.Errorf("%s: only in postgres (%q)", k, v)
		}
	}
}

// describe lists the schema as "what" → "how": table/column → type, nullability and key;
// table/index:name → its columns; table/unique → its column lists; table/trigger:name.
func describe(ctx context.Context, s *Store) (map[string]string, error) {
	out := map[string]string{}
	pg := s.db.dialect == postgresDialect
	tablesQ := `SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'`
	if pg {
		tablesQ = `SELECT table_name FROM information_schema.tables WHERE table_schema=current_schema() AND table_name<>'bailiff_schema'`
	}
	tables, err := s.db.strings(ctx, tablesQ)
	if err != nil {
		return nil, err
	}
	for _, tb := range tables {
		// Columns.
		q := `SELECT name, lower(type), "notnull" OR pk>0, pk>0, '' FROM pragma_table_info(?)`
		if pg {
			q = `SELECT c.column_name, CASE c.data_type WHEN 'bigint' THEN 'integer' WHEN 'bytea' THEN 'blob' ELSE c.data_type END,
				c.is_nullable='NO', EXISTS (SELECT 1 FROM pg_index i JOIN pg_attribute a ON a.attrelid=i.indrelid AND a.attnum=ANY(i.indkey)
					WHERE i.indrelid=CAST(c.table_name AS regclass) AND i.indisprimary AND a.attname=c.column_name),
				COALESCE(c.collation_name, '')
				FROM information_schema.columns c WHERE c.table_schema=current_schema() AND c.table_name=?`
		}
		rows, err := s.db.QueryContext(ctx, q, tb)
		if err != nil {
			return nil, fmt.Errorf("columns of %s: %w", tb, err)
		}
		for rows.Next() {
			var col, typ, coll string
			var notNull, pk bool
			if err := rows.Scan(&col, &typ, &notNull, &pk, &coll); err != nil {
				rows.Close()
				return nil, err
			}
			if pg && typ == "text" && coll != "C" {
				typ += " collate " + coll // differs from SQLite's bytewise comparison
			}
			out[tb+"/"+col] = fmt.Sprintf("%s notnull=%v pk=%v", typ, notNull, pk)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
		// Indexes made by CREATE INDEX, and unique constraints.
		idxQ := `SELECT l.name, group_concat(i.name, ',') FROM pragma_index_list(?) l, pragma_index_info(l.name) i
			WHERE l.origin='c' GROUP BY l.name`
		uniQ := `SELECT group_concat(i.name, ',') FROM pragma_index_list(?) l, pragma_index_info(l.name) i
			WHERE l.origin='u' GROUP BY l.name`
		if pg {
			idxQ = `SELECT c.relname, string_agg(a.attname, ',' ORDER BY k.n) FROM pg_index i
				JOIN pg_class c ON c.oid=i.indexrelid
				CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, n)
				JOIN pg_attribute a ON a.attrelid=i.indrelid AND a.attnum=k.attnum
				WHERE i.indrelid=CAST(? AS regclass) AND NOT EXISTS (SELECT 1 FROM pg_constraint x WHERE x.conindid=i.indexrelid)
				GROUP BY c.relname`
			uniQ = `SELECT string_agg(a.attname, ',' ORDER BY k.n) FROM pg_constraint x
				CROSS JOIN LATERAL unnest(x.conkey) WITH ORDINALITY AS k(attnum, n)
				JOIN pg_attribute a ON a.attrelid=x.conrelid AND a.attnum=k.attnum
				WHERE x.conrelid=CAST(? AS regclass) AND x.contype='u' GROUP BY x.conname`
		}
		if rows, err = s.db.QueryContext(ctx, idxQ, tb); err != nil {
			return nil, fmt.Errorf("indexes of %s: %w", tb, err)
		}
		for rows.Next() {
			var name, cols string
			if err := rows.Scan(&name, &cols); err != nil {
				rows.Close()
				return nil, err
			}
			out[tb+"/index:"+name] = cols
		}
		rows.Close()
		uniques, err := s.db.strings(ctx, uniQ, tb)
		if err != nil {
			return nil, fmt.Errorf("unique keys of %s: %w", tb, err)
		}
		if len(uniques) > 0 {
			slices.Sort(uniques)
			out[tb+"/unique"] = strings.Join(uniques, " ")
		}
	}
	// Triggers.
	trQ := `SELECT tbl_name || '/trigger:' || name FROM sqlite_master WHERE type='trigger'`
	if pg {
		trQ = `SELECT DISTINCT event_object_table || '/trigger:' || trigger_name FROM information_schema.triggers
			WHERE trigger_schema=current_schema()`
	}
	trs, err := s.db.strings(ctx, trQ)
	if err != nil {
		return nil, err
	}
	for _, tr := range trs {
		out[tr] = "present"
	}
	return out, nil
}
