package integration

import (
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/bailiff/bailiff/internal/hub"
	"github.com/bailiff/bailiff/internal/store"
	"github.com/bailiff/bailiff/internal/testutil"
	"github.com/bailiff/bailiff/internal/testutil/pgtest"
)

// PostgreSQL, started from Debian's binaries by the first test that needs it and stopped by
// TestMain.
var (
	pgOnce sync.Once
	pgSrv  *pgtest.Server
	pgErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if pgSrv != nil {
		pgSrv.Stop()
	}
	os.Exit(code)
}

// postgresDSN returns a DSN of a new, empty schema of the tests' PostgreSQL.
func postgresDSN(t testing.TB) string {
	t.Helper()
	pgOnce.Do(func() { pgSrv, pgErr = pgtest.Start() })
	if pgErr != nil {
		t.Fatal(pgErr)
	}
	dsn, err := pgSrv.Schema(t.Name())
	if err != nil {
		t.Fatal(err)
	}
	return dsn
}

// onPostgres makes a hub keep its state in PostgreSQL at dsn.
func onPostgres(dsn string) func(*hub.Options) {
	return func(o *hub.Options) { o.StoreDriver, o.StoreDSN = store.DriverPostgres, dsn }
}

// The hub runs on PostgreSQL end to end: logins, commands, the audit log, a hearing's notes,
// the embedded broker's retained state, and all of it again after a restart; no SQLite file
// is made.
func TestHubOnPostgres(t *testing.T) {
	e := newEnvWith(t, 1, false, onPostgres(postgresDSN(t)))
	judge := e.login("judge")
	testutil.Eventually(t, 5*time.Second, "projector reachable", func() bool {
		d := e.device(judge, "r1", "projector")
		return d != nil && d["reachable"] == true
	})
	if st, body := e.command(judge, "r1", "projector", "power", map[string]any{"on": true}); st != 200 || body["ok"] != true {
		t.Fatalf("power on: %d %v", st, body)
	}
	st, h := e.call("POST", "/api/v1/hearings", judge, map[string]any{"case": "PG-1", "site": site, "room": "r1"})
	if st != 201 {
		t.Fatalf("hearing: %d %v", st, h)
	}
	id := h["id"].(string)
	if st, tr := e.call("POST", "/api/v1/hearings/"+id+"/start", judge, nil); st != 200 {
		t.Fatalf("start: %d %v", st, tr)
	}
	if st, n := e.call("POST", "/api/v1/hearings/"+id+"/notes", judge, map[string]string{"text": "kept in PostgreSQL"}); st != 201 {
		t.Fatalf("note: %d %v", st, n)
	}
	if _, err := os.Stat(filepath.Join(e.dir, "data", "hub.db")); !os.IsNotExist(err) {
		t.Errorf("a SQLite file was made beside PostgreSQL: %v", err)
	}

	e.stopAgent("r1")
	e.hub.Close()
	e.startHub()
	// The session, the embedded broker's retained state, the hearing and its note survived.
	testutil.Eventually(t, 5*time.Second, "retained projector state after restart", func() bool {
		d := e.device(judge, "r1", "projector")
		s, _ := d["state"].(map[string]any)
		return s != nil && (s["power"] == "warming" || s["power"] == "on")
	})
	if st, notes := e.call("GET", "/api/v1/hearings/"+id+"/notes", judge, nil); st != 200 || len(notesOf(notes)) != 1 || notes["verified"] != true {
		t.Errorf("notes after restart: %d %v", st, notes)
	}
	e.startAgent("r1")
	testutil.Eventually(t, 5*time.Second, "room online again", func() bool { return e.roomOnline(judge, "r1") })
	if st, body := e.command(judge, "r1", "projector", "refresh", nil); st != 200 {
		t.Fatalf("command after restart: %d %v", st, body)
	}
	tech := e.login("tech")
	st, v := e.call("GET", "/api/v1/audit/verify", tech, nil)
	if st != 200 || v["ok"] != true || v["entries"].(float64) < 6 {
		t.Fatalf("audit after restart: %d %v", st, v)
	}
}

// notesOf returns the notes of a GET …/notes answer.
func notesOf(body map[string]any) []any {
	l, _ := body["notes"].([]any)
	return l
}

// BenchmarkCommandRoundTripStore is the one-room command round trip, one client back to back,
// with its audit entry, on each store: SQLite in the data directory and PostgreSQL.
func BenchmarkCommandRoundTripStore(b *testing.B) {
	for _, st := range []string{store.DriverSQLite, store.DriverPostgres} {
		b.Run("store="+st, func(b *testing.B) {
			var mod func(*hub.Options)
			if st == store.DriverPostgres {
				mod = onPostgres(postgresDSN(b))
			}
			benchRoundTripWith(b, 1, 0, false, mod)
		})
	}
}
