package store

import (
	"context"
	"testing"
	"time"
)

// A session lock is held by one store at a time and passes on when released or when its
// holder's connection dies; locks of different schemas are different locks.
func TestTryLock(t *testing.T) {
	ctx := context.Background()
	dsn, err := pg.Schema(t.Name())
	if err != nil {
		t.Fatal(err)
	}
	open := func(dsn string) *Store {
		s, err := OpenPostgres(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	a, b := open(dsn), open(dsn)
	la, err := a.TryLock(ctx, "leader")
	if err != nil || la == nil {
		t.Fatalf("first lock: %v %v", la, err)
	}
	if lb, err := b.TryLock(ctx, "leader"); err != nil || lb != nil {
		t.Fatalf("a second holder: %v %v", lb, err)
	}
	if lb, err := b.TryLock(ctx, "other"); err != nil || lb == nil {
		t.Fatalf("another name: %v %v", lb, err)
	} else {
		lb.Release()
	}
	other, err := pg.Schema(t.Name() + "_other")
	if err != nil {
		t.Fatal(err)
	}
	if lc, err := open(other).TryLock(ctx, "leader"); err != nil || lc == nil {
		t.Fatalf("the same name in another schema: %v %v", lc, err)
	} else {
		defer lc.Release()
	}
	pid, err := b.LockHolder(ctx, "leader")
	if err != nil || pid == 0 {
		t.Fatalf("holder: %d %v", pid, err)
	}
	la.Release()
	lb, err := b.TryLock(ctx, "leader")
	if err != nil || lb == nil {
		t.Fatalf("after release: %v %v", lb, err)
	}
	// The holder's session ends: the lock is lost, and free.
	pid, _ = a.LockHolder(ctx, "leader")
	if _, err := a.db.Exec(`SELECT pg_terminate_backend(?)`, pid); err != nil {
		t.Fatal(err)
	}
	select {
	case <-lb.Lost():
	case <-time.After(5 * time.Second):
		t.Fatal("a lock whose session ended is not reported lost")
	}
	lb.Release()
	if la, err = a.TryLock(ctx, "leader"); err != nil || la == nil {
		t.Fatalf("after the holder's session ended: %v %v", la, err)
	}
	la.Release()
}

// In SQLite (one hub per file) the lock is always granted.
func TestTryLockSQLite(t *testing.T) {
	s := backends[0].store(t)
	for range 2 {
		l, err := s.TryLock(context.Background(), "leader")
		if err != nil || l == nil {
			t.Fatalf("%v %v", l, err)
		}
		defer l.Release()
	}
	if pid, err := s.LockHolder(context.Background(), "leader"); pid != 0 || err != nil {
		t.Fatalf("holder in SQLite: %d %v", pid, err)
	}
}
