// Package drivertest holds what the tests of the drivers and their simulators share.
package drivertest

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/bailiff/bailiff/drivers"
)

// Ctx returns a context that ends after d, and is cancelled when the test ends.
func Ctx(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// WantCode fails t unless err has the contract error code code and starts with prefix (the
// driver's name and a colon: "pjlink: ").
func WantCode(t testing.TB, err error, code, prefix string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want %s", code)
	}
	if got := drivers.Code(err); got != code {
		t.Fatalf("error %q has code %s, want %s", err, got, code)
	}
	if !strings.HasPrefix(err.Error(), prefix) {
		t.Fatalf("error %q does not start with %s", err, prefix)
	}
}

// Eventually polls cond every 2 ms until it holds, and fails t when d passes first.
func Eventually(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	end := time.Now().Add(d)
	for !cond() {
		if time.Now().After(end) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}
