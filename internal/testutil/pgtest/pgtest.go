// Package pgtest starts a real PostgreSQL server for tests, from Debian's binaries
// (/usr/lib/postgresql/*/bin, the postgresql package), in a temporary directory. It listens on
// a Unix socket in that directory only (listen_addresses is empty), so nothing reaches the
// network, and it is stopped and removed by Stop. Run as root, the server runs as the postgres
// user, since PostgreSQL refuses root.
//
// Each test takes a schema of its own (Schema): a DSN whose search_path is a new, empty
// schema, so tests share one server started once (in TestMain) and never see each other's
// tables.
package pgtest

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver
)

// Server is a running PostgreSQL server.
type Server struct {
	dir  string // the temporary directory: data/ and the socket
	cmd  *exec.Cmd
	done chan error
	db   *sql.DB
	n    atomic.Int64
}

// Binaries returns the directory of Debian's PostgreSQL binaries (the newest version
// installed), or an error that says how to install them.
func Binaries() (string, error) {
	found, _ := filepath.Glob("/usr/lib/postgresql/*/bin/postgres")
	if len(found) == 0 {
		return "", errors.New("pgtest: PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/postgres): apt-get install postgresql")
	}
	sort.Slice(found, func(i, j int) bool { return version(found[i]) > version(found[j]) })
	return filepath.Dir(found[0]), nil
}

func version(bin string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(bin))))
	return v
}

// Start initializes a database cluster in a new temporary directory and starts the server.
// Commits are not waited for on disk (synchronous_commit=off): a crash loses the last
// moments but never corrupts, as SQLite's synchronous=NORMAL in WAL mode, which the store
// uses.
func Start() (*Server, error) {
	bin, err := Binaries()
	if err != nil {
		return nil, err
	}
	// In /tmp rather than $TMPDIR: the postgres user must reach it, and the socket's path
	// must stay under the 107 bytes a Unix socket address holds.
	base := ""
	if fi, err := os.Stat("/tmp"); err == nil && fi.IsDir() {
		base = "/tmp"
	}
	dir, err := os.MkdirTemp(base, "bailiff-pg-")
	if err != nil {
		return nil, fmt.Errorf("pgtest: %w", err)
	}
	s := &Server{dir: dir, done: make(chan error, 1)}
	cred, err := credential(dir)
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	data := filepath.Join(dir, "data")
	initdb := exec.Command(filepath.Join(bin, "initdb"), "-D", data, "-U", "postgres", "--auth=trust",
		"--encoding=UTF8", "--locale=C", "--no-sync")
	initdb.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	if out, err := initdb.CombinedOutput(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("pgtest: initdb: %w\n%s", err, out)
	}
	logf, err := os.Create(filepath.Join(dir, "server.log"))
	if err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("pgtest: %w", err)
	}
	s.cmd = exec.Command(filepath.Join(bin, "postgres"), "-D", data, "-k", dir,
		"-c", "listen_addresses=", "-c", "synchronous_commit=off", "-c", "max_connections=300",
		"-c", "shared_buffers=32MB", "-c", "logging_collector=off")
	s.cmd.Stdout, s.cmd.Stderr = logf, logf
	// The server goes with the test binary should that die without calling Stop.
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred, Pdeathsig: syscall.SIGTERM}
	if err := s.cmd.Start(); err != nil {
		logf.Close()
		os.RemoveAll(dir)
		return nil, fmt.Errorf("pgtest: start postgres: %w", err)
	}
	go func() { s.done <- s.cmd.Wait(); logf.Close() }()
	if s.db, err = sql.Open("pgx", s.DSN("")); err != nil {
		s.Stop()
		return nil, fmt.Errorf("pgtest: %w", err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err = s.db.PingContext(ctx)
		cancel()
		if err == nil {
			return s, nil
		}
		select {
		case werr := <-s.done:
			s.done <- werr
			log, _ := os.ReadFile(filepath.Join(dir, "server.log"))
			s.Stop()
			return nil, fmt.Errorf("pgtest: postgres exited: %v\n%s", werr, log)
		default:
		}
		if time.Now().After(deadline) {
			s.Stop()
			return nil, fmt.Errorf("pgtest: postgres did not answer within 30s: %w", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// credential returns whom to run the server as: nil (this user), or postgres when this is
// root, with dir handed to it.
func credential(dir string) (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("pgtest: running as root needs the postgres user (made by the postgresql package): %w", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	if err := os.Chown(dir, uid, gid); err != nil {
		return nil, fmt.Errorf("pgtest: %w", err)
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}

// DSN returns a DSN of the server's postgres database; with schema, its search_path is that
// schema.
func (s *Server) DSN(schema string) string {
	dsn := "host=" + s.dir + " user=postgres dbname=postgres sslmode=disable"
	if schema != "" {
		dsn += " search_path=" + schema
	}
	return dsn
}

// Schema makes a new empty schema and returns a DSN that works in it.
func (s *Server) Schema(prefix string) (string, error) {
	if len(prefix) > 40 { // PostgreSQL cuts names at 63 bytes
		prefix = prefix[:40]
	}
	name := fmt.Sprintf("%s_%d", strings.ToLower(prefix), s.n.Add(1))
	name = strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_' {
			return r
		}
		return '_'
	}, name)
	if _, err := s.db.Exec(`CREATE SCHEMA ` + name); err != nil {
		return "", fmt.Errorf("pgtest: create schema %s: %w", name, err)
	}
	return s.DSN(name), nil
}

// Stop stops the server (a fast shutdown) and removes its directory.
func (s *Server) Stop() {
	if s.db != nil {
		s.db.Close()
	}
	if s.cmd != nil && s.cmd.Process != nil {
		s.cmd.Process.Signal(syscall.SIGINT)
		select {
		case <-s.done:
		case <-time.After(15 * time.Second):
			s.cmd.Process.Kill()
			<-s.done
		}
	}
	os.RemoveAll(s.dir)
}
