package store

import (
	"strings"
	"testing"
)

func TestBind(t *testing.T) {
	for _, c := range []struct{ in, sqlite, pg string }{
		{`SELECT 1`, `SELECT 1`, `SELECT 1`},
		{`a=? AND b=?`, `a=? AND b=?`, `a=$1 AND b=$2`},
		{`x='?' AND y=? AND "we?ird"=?`, `x='?' AND y=? AND "we?ird"=?`, `x='?' AND y=$1 AND "we?ird"=$2`},
		{`x='it''s ?' OR z=?`, `x='it''s ?' OR z=?`, `x='it''s ?' OR z=$1`},
	} {
		if got := sqliteDialect.bind(c.in); got != c.sqlite {
			t.Errorf("sqlite bind(%q) = %q", c.in, got)
		}
		if got := postgresDialect.bind(c.in); got != c.pg {
			t.Errorf("postgres bind(%q) = %q, want %q", c.in, got, c.pg)
		}
	}
	args := postgresDialect.args([]any{true, false, "x", 3})
	if args[0] != int64(1) || args[1] != int64(0) || args[2] != "x" || args[3] != 3 {
		t.Errorf("postgres args = %v", args)
	}
}

// Every migration translates without a SQLite word left that PostgreSQL would refuse or take
// otherwise; the schema itself is compared in TestSameSchemaOnBothBackends.
func TestPgMigration(t *testing.T) {
	for i, m := range migrations {
		pm := pgMigration(m)
		for _, word := range []string{"INTEGER", "BLOB", "AUTOINCREMENT", "WITHOUT ROWID", "RAISE(ABORT", "\tuser "} {
			if strings.Contains(pm, word) {
				t.Errorf("migration %d still has %q:\n%s", i+1, word, pm)
			}
		}
	}
	got := pgMigration("CREATE TRIGGER t_no_update BEFORE UPDATE ON t\n\t\tBEGIN SELECT RAISE(ABORT, 'no'); END;")
	if want := `CREATE TRIGGER t_no_update BEFORE UPDATE ON t FOR EACH ROW EXECUTE FUNCTION bailiff_refuse('no');`; got != want {
		t.Errorf("trigger:\n got %s\nwant %s", got, want)
	}
}
