package browser

import (
	"strings"
	"testing"
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
