package store

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// What is committed reaches the database file by the background checkpoint, long before the
// log is large enough for SQLite's own; and Close stops the checkpointer (twice is harmless).
func TestBackgroundCheckpoint(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hub.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	s.stopCheckpoints()
	s.startCheckpoints(50 * time.Millisecond)
	fi, _ := os.Stat(path)
	before := fi.Size()
	ctx := context.Background()
	for range 300 {
		if _, err := s.AppendAudit(ctx, AuditEntry{User: "judge", Action: "command", Target: "court/r1/projector", Result: "ok", Detail: string(make([]byte, 500))}); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		fi, _ := os.Stat(path)
		if fi.Size() > before+100_000 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("database file still %d bytes (was %d): nothing checkpointed", fi.Size(), before)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s.stopCheckpoints()
	s2, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if rep, err := s2.VerifyAudit(ctx); err != nil || rep.Entries != 300 {
		t.Fatalf("after reopen: %+v %v", rep, err)
	}
}
