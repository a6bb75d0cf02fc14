package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"hash/fnv"
	"regexp"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver
)

// The store has one set of SQL, written for SQLite and for the part of SQL that PostgreSQL
// shares with it: upserts are ON CONFLICT … DO UPDATE SET x=excluded.x, new IDs come back by
// RETURNING, times are integer milliseconds (no time types), the reserved word user is quoted.
// What differs is done here, by the dialect:
//
//   - placeholders: ? in the store's SQL becomes $1, $2, … for PostgreSQL (bind);
//   - arguments: a Go bool is written as 1 or 0, as SQLite stores it (args);
//   - schema: each migration is translated (pgMigration): INTEGER → BIGINT (SQLite's integers
//     are 64-bit), BLOB → BYTEA, TEXT → TEXT COLLATE "C" (SQLite compares text bytewise, and
//     so must every ORDER BY and range), AUTOINCREMENT → an identity column, WITHOUT ROWID
//     dropped, and the append-only triggers become PL/pgSQL;
//   - the schema version: PRAGMA user_version, or the one row of bailiff_schema;
//   - locking: SQLite has one writer at a time, and a chained append (audit.go) takes the
//     write lock with BEGIN IMMEDIATE; PostgreSQL serves several hubs at once, so the append
//     takes a transaction-level advisory lock on its chain instead (beginAppend), and the
//     migrations run under one too.
type dialect int

const (
	sqliteDialect dialect = iota
	postgresDialect
)

// Drivers the hub's config may name (store.driver).
const (
	DriverSQLite   = "sqlite"
	DriverPostgres = "postgres"
)

// Drivers lists the values of store.driver.
var Drivers = []string{DriverSQLite, DriverPostgres}

// db is the database with the dialect applied to every statement.
type db struct {
	*sql.DB
	dialect dialect
}

// bind rewrites the ? placeholders of q for the dialect. A ? inside a quoted literal or
// identifier is left alone.
func (d dialect) bind(q string) string {
	if d != postgresDialect || !strings.Contains(q, "?") {
		return q
	}
	var b strings.Builder
	b.Grow(len(q) + 16)
	n := 0
	var quote byte
	for i := 0; i < len(q); i++ {
		c := q[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"':
			quote = c
		case c == '?':
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// args converts arguments the dialect's driver would not take as SQLite does.
func (d dialect) args(args []any) []any {
	if d != postgresDialect {
		return args
	}
	for i, a := range args {
		if v, ok := a.(bool); ok {
			n := int64(0)
			if v {
				n = 1
			}
			args[i] = n
		}
	}
	return args
}

func (d *db) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	return d.DB.ExecContext(ctx, d.dialect.bind(q), d.dialect.args(args)...)
}

func (d *db) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	return d.DB.QueryContext(ctx, d.dialect.bind(q), d.dialect.args(args)...)
}

func (d *db) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	return d.DB.QueryRowContext(ctx, d.dialect.bind(q), d.dialect.args(args)...)
}

// strings returns the first column of a query's rows, as text.
func (d *db) strings(ctx context.Context, q string, args ...any) ([]string, error) {
	rows, err := d.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

func (d *db) Exec(q string, args ...any) (sql.Result, error) {
	return d.ExecContext(context.Background(), q, args...)
}

func (d *db) Query(q string, args ...any) (*sql.Rows, error) {
	return d.QueryContext(context.Background(), q, args...)
}

func (d *db) BeginTx(ctx context.Context, opts *sql.TxOptions) (*tx, error) {
	t, err := d.DB.BeginTx(ctx, opts)
	if err != nil {
		return nil, err
	}
	return &tx{Tx: t, dialect: d.dialect}, nil
}

func (d *db) Begin() (*tx, error) { return d.BeginTx(context.Background(), nil) }

// tx is a transaction with the dialect applied.
type tx struct {
	*sql.Tx
	dialect dialect
}

func (t *tx) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	return t.Tx.ExecContext(ctx, t.dialect.bind(q), t.dialect.args(args)...)
}

func (t *tx) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	return t.Tx.QueryContext(ctx, t.dialect.bind(q), t.dialect.args(args)...)
}

func (t *tx) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	return t.Tx.QueryRowContext(ctx, t.dialect.bind(q), t.dialect.args(args)...)
}

func (t *tx) Exec(q string, args ...any) (sql.Result, error) {
	return t.ExecContext(context.Background(), q, args...)
}

// lockKey is the PostgreSQL advisory lock key of name (a chain, the migrations).
func lockKey(name string) int64 {
	h := fnv.New64a()
	h.Write([]byte("bailiff:" + name))
	return int64(h.Sum64())
}

// lock takes the transaction-level advisory lock of name: another transaction taking it
// waits until this one commits or rolls back.
func (t *tx) lock(ctx context.Context, name string) error {
	if t.dialect != postgresDialect {
		return nil
	}
	if _, err := t.ExecContext(ctx, `SELECT pg_advisory_xact_lock(?)`, lockKey(name)); err != nil {
		return fmt.Errorf("lock %s: %w", name, err)
	}
	return nil
}

// isUnique tells a refused duplicate of a unique key, in either dialect.
func isUnique(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code == "23505" // unique_violation
	}
	return err != nil && strings.Contains(err.Error(), "UNIQUE constraint")
}

// schemaVersion reads the schema version.
func (d *db) schemaVersion(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}) (int, error) {
	var v int
	if d.dialect == postgresDialect {
		err := q.QueryRowContext(ctx, `SELECT version FROM bailiff_schema`).Scan(&v)
		if errors.Is(err, sql.ErrNoRows) {
			return 0, nil
		}
		return v, err
	}
	err := q.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v)
	return v, err
}

// setVersion records the schema version inside the migration's transaction.
func (t *tx) setVersion(ctx context.Context, v int) error {
	if t.dialect == postgresDialect {
		_, err := t.ExecContext(ctx, `UPDATE bailiff_schema SET version=?`, v)
		return err
	}
	_, err := t.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", v))
	return err
}

// pgPrelude makes what the PostgreSQL schema needs before the first migration: the version's
// row and the function behind the append-only triggers. Idempotent.
const pgPrelude = `CREATE TABLE IF NOT EXISTS bailiff_schema (version BIGINT NOT NULL);
INSERT INTO bailiff_schema(version) SELECT 0 WHERE NOT EXISTS (SELECT 1 FROM bailiff_schema);
CREATE OR REPLACE FUNCTION bailiff_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	RAISE EXCEPTION '%', TG_ARGV[0] USING ERRCODE = 'restrict_violation';
END $$;`

var (
	pgTrigger = regexp.MustCompile(`CREATE TRIGGER (\w+) BEFORE (UPDATE|DELETE) ON (\w+)\s+BEGIN SELECT RAISE\(ABORT, '([^']*)'\); END;`)
	pgAutoinc = regexp.MustCompile(`\bINTEGER PRIMARY KEY AUTOINCREMENT\b`)
	pgInteger = regexp.MustCompile(`\bINTEGER\b`)
	pgBlob    = regexp.MustCompile(`\bBLOB\b`)
	pgText    = regexp.MustCompile(`\bTEXT\b`)
	pgRowid   = regexp.MustCompile(`\)\s*WITHOUT ROWID`)
	pgUserCol = regexp.MustCompile(`(?m)^(\s*)user(\s)`)
)

// pgMigration translates one of the SQLite migrations to PostgreSQL.
func pgMigration(m string) string {
	m = pgTrigger.ReplaceAllString(m, `CREATE TRIGGER $1 BEFORE $2 ON $3 FOR EACH ROW EXECUTE FUNCTION bailiff_refuse('$4');`)
	m = pgAutoinc.ReplaceAllString(m, `BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY`)
	m = pgInteger.ReplaceAllString(m, `BIGINT`)
	m = pgBlob.ReplaceAllString(m, `BYTEA`)
	m = pgText.ReplaceAllString(m, `TEXT COLLATE "C"`)
	m = pgRowid.ReplaceAllString(m, `)`)
	return pgUserCol.ReplaceAllString(m, `$1"user"$2`)
}
