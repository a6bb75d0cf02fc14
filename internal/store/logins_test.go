package store

import (
	"context"
	"testing"
	"time"
)

func TestLoginFailures(t *testing.T) { eachBackend(t, testLoginFailures) }

// Failed logins count per subject within a window, give the earliest, are forgotten on a
// reset and after an hour.
func testLoginFailures(t *testing.T, b backend) {
	ctx := context.Background()
	s, err := b.open(b.place(t))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	t0 := time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC)
	for i := range 4 {
		if err := s.LoginFailed(ctx, "user:judge", t0.Add(time.Duration(i)*time.Minute)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.LoginFailed(ctx, "addr:10.0.0.9", t0); err != nil {
		t.Fatal(err)
	}
	n, first, err := s.LoginFailures(ctx, "user:judge", t0.Add(time.Minute))
	if err != nil || n != 3 || !first.Equal(t0.Add(time.Minute)) {
		t.Fatalf("since t0+1m: %d from %v, %v; want 3 from %v", n, first, err, t0.Add(time.Minute))
	}
	if n, first, err := s.LoginFailures(ctx, "user:nobody", t0); err != nil || n != 0 || !first.IsZero() {
		t.Fatalf("none: %d %v %v", n, first, err)
	}
	if err := s.LoginReset(ctx, "user:judge"); err != nil {
		t.Fatal(err)
	}
	if n, _, _ := s.LoginFailures(ctx, "user:judge", t0); n != 0 {
		t.Fatalf("after a reset: %d", n)
	}
	if n, _, _ := s.LoginFailures(ctx, "addr:10.0.0.9", t0); n != 1 {
		t.Fatalf("another subject after the reset: %d", n)
	}
	// An hour on, a new failure sweeps the old ones.
	if err := s.LoginFailed(ctx, "user:clerk", t0.Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if n, _, _ := s.LoginFailures(ctx, "addr:10.0.0.9", t0); n != 0 {
		t.Fatalf("an hour old: %d kept", n)
	}
}
