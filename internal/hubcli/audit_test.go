package hubcli

import (
	"bytes"
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bailiff/bailiff/internal/store"
)

// TestVerifyAudit: admin changes land in the audit log; `hub verify-audit` passes on an intact
// log and, after a row is edited directly in SQLite, exits 1 naming that entry.
func TestVerifyAudit(t *testing.T) {
	dir := t.TempDir()
	run := func(stdin string, args ...string) (int, string, string) {
		var out, errb bytes.Buffer
		code := Main(args, strings.NewReader(stdin), &out, &errb)
		return code, out.String(), errb.String()
	}
	if code, _, stderr := run("pw-alice\n", "users", "add", "alice", "judge", "--data", dir); code != 0 {
		t.Fatalf("users add: %d %s", code, stderr)
	}
	if code, _, stderr := run("", "agents", "add", "court/r1", "--data", dir); code != 0 {
		t.Fatalf("agents add: %d %s", code, stderr)
	}
	st, err := store.Open(filepath.Join(dir, "hub.db"))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, target := range []string{"court/r1/projector", "court/r1/display"} {
		if _, err := st.AppendAudit(ctx, store.AuditEntry{User: "alice", Role: "judge", Action: "command", Target: target, Result: "ok"}); err != nil {
			t.Fatal(err)
		}
	}
	list, err := st.Audit(ctx, store.AuditFilter{Action: "user-add"})
	if err != nil || len(list) != 1 || list[0].Target != "alice" || !strings.HasPrefix(list[0].User, "cli") {
		t.Fatalf("user-add in the audit log: %+v %v", list, err)
	}
	st.Close()

	code, stdout, stderr := run("", "verify-audit", "--data", dir)
	if code != 0 || !strings.Contains(stdout, "ok, 4 entries") {
		t.Fatalf("intact log: %d %q %q", code, stdout, stderr)
	}

	// Someone with the database file rewrites an entry: a denied command becomes "ok".
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "hub.db"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`UPDATE audit SET result='forbidden' WHERE seq=3`); err == nil {
		t.Fatal("the store let an audit entry be changed")
	}
	if _, err := db.Exec(`DROP TRIGGER audit_no_update`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`UPDATE audit SET target='court/r2/projector' WHERE seq=3`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	code, stdout, stderr = run("", "verify-audit", "--data", dir)
	if code != 1 || !strings.Contains(stderr, "BROKEN at entry 3") || !strings.Contains(stderr, "changed") {
		t.Fatalf("edited log: %d %q %q", code, stdout, stderr)
	}
}
