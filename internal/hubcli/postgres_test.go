package hubcli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bailiff/bailiff/internal/store"
	"github.com/bailiff/bailiff/internal/testutil/pgtest"
)

var pg *pgtest.Server

// TestMain starts PostgreSQL from Debian's binaries for the admin commands' test on it; without
// them the tests fail.
func TestMain(m *testing.M) {
	var err error
	if pg, err = pgtest.Start(); err != nil {
		os.Stderr.WriteString("hubcli tests: " + err.Error() + "\n")
		os.Exit(1)
	}
	code := m.Run()
	pg.Stop()
	os.Exit(code)
}

// The admin commands work on the PostgreSQL store the hub file names: a user and an agent
// added, their audit entries, verify-audit; no hub.db is made.
func TestAdminOnPostgres(t *testing.T) {
	dsn, err := pg.Schema(t.Name())
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cfg := filepath.Join(dir, "hub.yaml")
	os.Mkdir(filepath.Join(dir, "rooms"), 0o700)
	os.WriteFile(filepath.Join(dir, "dsn"), []byte(dsn+"\n"), 0o600)
	os.WriteFile(cfg, []byte("data: data\nstore:\n  driver: postgres\n  dsn_file: dsn\n"), 0o600)
	run := func(stdin string, args ...string) (int, string, string) {
		var out, errb bytes.Buffer
		code := Main(args, strings.NewReader(stdin), &out, &errb)
		return code, out.String(), errb.String()
	}
	if code, _, stderr := run("pw-alice\n", "users", "add", "alice", "judge", "--config", cfg); code != 0 {
		t.Fatalf("users add: %d %s", code, stderr)
	}
	if code, _, stderr := run("", "agents", "add", "court/r1", "--config", cfg); code != 0 {
		t.Fatalf("agents add: %d %s", code, stderr)
	}
	code, stdout, stderr := run("", "verify-audit", "--config", cfg)
	if code != 0 || !strings.Contains(stdout, "ok, 2 entries") {
		t.Fatalf("verify-audit: %d %q %q", code, stdout, stderr)
	}
	st, err := store.OpenPostgres(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if u, err := st.User(context.Background(), "alice"); err != nil || u.Role != "judge" {
		t.Fatalf("alice in PostgreSQL: %+v %v", u, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "data", "hub.db")); !os.IsNotExist(err) {
		t.Errorf("a hub.db was made: %v", err)
	}
}
