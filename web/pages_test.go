package web

import (
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

// An invite link's path opens the visitor's page, under the same policy as every page.
func TestJoinPath(t *testing.T) {
	h := Handler()
	for _, path := range []string{JoinPath, "/join.html"} {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("GET", path, nil))
		body, _ := io.ReadAll(w.Body)
		if w.Code != http.StatusOK || !strings.Contains(string(body), `src="/join.js"`) {
			t.Errorf("GET %s: %d %.200s", path, w.Code, body)
		}
		if csp := w.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") {
			t.Errorf("GET %s: CSP %q", path, csp)
		}
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/join/x", nil))
	if w.Code != http.StatusNotFound {
		t.Errorf("GET /join/x: %d, want 404", w.Code)
	}
}

// The pages keep to the policy: no inline script or style, nothing from another origin.
func TestPagesKeepToThePolicy(t *testing.T) {
	inline := regexp.MustCompile(`(?i)<script(?:\s[^>]*)?>\s*[^<\s]|<style|\sstyle=|\son[a-z]+=|javascript:`)
	remote := regexp.MustCompile(`(?i)(?:src|href)="(?:https?:)?//`)
	err := fs.WalkDir(static, "static", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".html") {
			return err
		}
		b, err := static.ReadFile(path)
		if err != nil {
			return err
		}
		if m := inline.Find(b); m != nil {
			t.Errorf("%s: inline script or style: %q", path, m)
		}
		if m := remote.Find(b); m != nil {
			t.Errorf("%s: loads from another origin: %q", path, m)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
