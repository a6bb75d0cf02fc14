package browser

import (
	"strings"
	"testing"
	"time"
)

// A missing browser is an error that says what to install, never a skip.
func TestFindMissing(t *testing.T) {
	t.Setenv("BAILIFF_CHROMIUM", "/nonexistent/chromium")
	_, err := Find()
	if err == nil || !strings.Contains(err.Error(), "BAILIFF_CHROMIUM=/nonexistent/chromium") {
		t.Fatalf("Find = %v", err)
	}
	t.Setenv("BAILIFF_CHROMIUM", "")
	t.Setenv("PATH", t.TempDir())
	if _, err := Find(); err == nil || !strings.Contains(err.Error(), "apt-get install chromium") {
		t.Fatalf("Find with nothing on PATH = %v", err)
	}
}

// An uncaught exception of a tab's page is kept for FailOnExceptions, with its message; a
// caught one and another tab's are not.
func TestExceptionsKept(t *testing.T) {
	b := Start(t, Options{})
	tab := b.Tab(t)
	b.MustEval(t, 10*time.Second, `setTimeout(() => { throw new Error("boom in the page") }, 0); try { throw new Error("handled in the page") } catch {} ; true`, nil)
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(b.exceptions.String(), "boom in the page") && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if ex := b.exceptions.String(); !strings.Contains(ex, "boom in the page") || strings.Contains(ex, "handled in the page") {
		t.Fatalf("exceptions kept: %q", ex)
	}
	if ex := tab.exceptions.String(); ex != "" {
		t.Fatalf("another tab's exceptions: %q", ex)
	}
}
