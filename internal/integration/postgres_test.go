package integration

import (
	"context"
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

// stopPostgres stops the tests' PostgreSQL, if a test started it (TestMain).
func stopPostgres() {
	if pgSrv != nil {
		pgSrv.Stop()
	}
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

// stores runs f with the hub's store on each backend: SQLite in the data directory (onStore
// nil) and PostgreSQL.
func stores(t *testing.T, f func(t *testing.T, onStore func(*hub.Options))) {
	t.Run("sqlite", func(t *testing.T) { f(t, nil) })
	t.Run("postgres", func(t *testing.T) { f(t, onPostgres(postgresDSN(t))) })
}

// The hub runs on PostgreSQL end to end: logins, a command, a hearing's note and the audit log
// all there, and no SQLite file made. (TestHubRestart and TestHearingSurvivesRestart run on
// PostgreSQL too.)
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
	id := e.hearingWithNote(judge, "PG-1", "r1", "kept in PostgreSQL")
	if st, notes := e.call("GET", "/api/v1/hearings/"+id+"/notes", judge, nil); st != 200 || len(notesOf(notes)) != 1 || notes["verified"] != true {
		t.Errorf("notes: %d %v", st, notes)
	}
	tech := e.login("tech")
	st, v := e.call("GET", "/api/v1/audit/verify", tech, nil)
	if st != 200 || v["ok"] != true || v["entries"].(float64) < 5 {
		t.Fatalf("audit: %d %v", st, v)
	}
	if _, err := os.Stat(filepath.Join(e.dir, "data", "hub.db")); !os.IsNotExist(err) {
		t.Errorf("a SQLite file was made beside PostgreSQL: %v", err)
	}
	if _, err := e.hub.Store().Hearing(context.Background(), id); err != nil {
		t.Errorf("the hearing is not in the hub's store: %v", err)
	}
}

// hearingWithNote creates a hearing of room, starts it, writes one note and returns its ID.
func (e *env) hearingWithNote(token, caseNo, room, note string) string {
	e.t.Helper()
	st, h := e.call("POST", "/api/v1/hearings", token, map[string]any{"case": caseNo, "site": site, "room": room})
	if st != 201 {
		e.t.Fatalf("create: %d %v", st, h)
	}
	id := h["id"].(string)
	if st, tr := e.call("POST", "/api/v1/hearings/"+id+"/start", token, nil); st != 200 {
		e.t.Fatalf("start: %d %v", st, tr)
	}
	if st, n := e.call("POST", "/api/v1/hearings/"+id+"/notes", token, map[string]string{"text": note}); st != 201 {
		e.t.Fatalf("note: %d %v", st, n)
	}
	return id
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
