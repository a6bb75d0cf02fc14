package store

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/bailiff/bailiff/internal/testutil/pgtest"
)

// pg is the PostgreSQL server the package's tests share, started once by TestMain.
var pg *pgtest.Server

// TestMain starts PostgreSQL from Debian's binaries for the whole package. Without them the
// tests fail: PostgreSQL is half of what they check.
func TestMain(m *testing.M) {
	var err error
	if pg, err = pgtest.Start(); err != nil {
		fmt.Fprintln(os.Stderr, "store tests:", err)
		os.Exit(1)
	}
	code := m.Run()
	pg.Stop()
	os.Exit(code)
}

// backend is one kind of database the store runs on.
type backend struct {
	name string
	// place returns where a new, empty database is: a file path or a DSN.
	place func(t testing.TB) string
	open  func(place string) (*Store, error)
}

var backends = []backend{
	{
		name:  "sqlite",
		place: func(t testing.TB) string { return filepath.Join(t.TempDir(), "hub.db") },
		open:  Open,
	},
	{
		name: "postgres",
		place: func(t testing.TB) string {
			dsn, err := pg.Schema(t.Name())
			if err != nil {
				t.Fatal(err)
			}
			return dsn
		},
		open: func(dsn string) (*Store, error) { return OpenPostgres(context.Background(), dsn) },
	},
}

// eachBackend runs f as a subtest per backend.
func eachBackend(t *testing.T, f func(t *testing.T, b backend)) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) { f(t, b) })
	}
}

// store opens a store on a new, empty database of the backend, closed when the test ends.
func (b backend) store(t testing.TB) *Store {
	t.Helper()
	s, err := b.open(b.place(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// dropTrigger removes an append-only guard, as someone with the database's files or its
// owner's password could.
func dropTrigger(t *testing.T, s *Store, trigger, table string) {
	t.Helper()
	q := `DROP TRIGGER ` + trigger
	if s.db.dialect == postgresDialect {
		q += ` ON ` + table
	}
	if _, err := s.db.Exec(q); err != nil {
		t.Fatal(err)
	}
}
