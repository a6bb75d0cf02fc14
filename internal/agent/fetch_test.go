package agent

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bailiff/bailiff/internal/config"
)

// fetch: the agent's own credentials as the bearer, only to the broker's host, at most max
// bytes, and a refusal says what the hub said.
func TestFetch(t *testing.T) {
	var gotAuth string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotAuth = r.Header.Get("Authorization")
		switch r.URL.Path {
		case "/img":
			w.Write([]byte("0123456789"))
		default:
			http.Error(w, `{"error":{"code":"not_found"}}`, http.StatusNotFound)
		}
	}))
	defer srv.Close()
	room := &config.Room{Site: "court", Room: "r1", Kind: config.KindTechCourtroom}
	a, err := New(Options{Room: room, Broker: "tcp://127.0.0.1:1883", Password: "s3cret"})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	b, err := a.fetch(ctx, srv.URL+"/img", 100)
	if err != nil || string(b) != "0123456789" || gotAuth != "Bearer agent.court.r1.s3cret" {
		t.Fatalf("fetch: %q, %v, auth %q", b, err, gotAuth)
	}
	if _, err := a.fetch(ctx, srv.URL+"/img", 5); err == nil || !strings.Contains(err.Error(), "more than 5 bytes") {
		t.Fatalf("too large: %v", err)
	}
	if _, err := a.fetch(ctx, srv.URL+"/none", 100); err == nil || !strings.Contains(err.Error(), "404") {
		t.Fatalf("not found: %v", err)
	}
	// A hub listening on every address names itself so: the broker's host is meant.
	for _, unspec := range []string{"0.0.0.0", "[::]"} {
		gotAuth = ""
		b, err := a.fetch(ctx, strings.Replace(srv.URL, "127.0.0.1", unspec, 1)+"/img", 100)
		if err != nil || string(b) != "0123456789" || gotAuth == "" {
			t.Fatalf("%s: %q, %v", unspec, b, err)
		}
	}
	gotAuth = ""
	other := strings.Replace(srv.URL, "127.0.0.1", "localhost", 1)
	for _, u := range []string{other + "/img", "file:///etc/passwd", "ftp://127.0.0.1/x", "http://"} {
		if _, err := a.fetch(ctx, u, 100); err == nil {
			t.Errorf("%s: fetched", u)
		}
	}
	if gotAuth != "" {
		t.Fatal("the credentials went to another host")
	}
}

// A hub that is away for a moment (it answers 503, or not at all) is tried again until it
// serves; one that refuses (404) is asked once; past FetchRetryFor the last error is given.
func TestFetchRetries(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := calls.Add(1)
		switch {
		case r.URL.Path == "/none":
			http.Error(w, "no such image", http.StatusNotFound)
		case r.URL.Path == "/down" || n <= 2:
			http.Error(w, "starting", http.StatusServiceUnavailable)
		default:
			w.Write([]byte("image"))
		}
	}))
	defer srv.Close()
	a, err := New(Options{Room: &config.Room{Site: "court", Room: "r1", Kind: config.KindTechCourtroom}, Broker: "tcp://127.0.0.1:1883", Password: "p"})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if b, err := a.fetch(ctx, srv.URL+"/img", 100); err != nil || string(b) != "image" || calls.Load() != 3 {
		t.Fatalf("fetch through two 503s: %q, %v, %d calls", b, err, calls.Load())
	}
	calls.Store(10)
	if _, err := a.fetch(ctx, srv.URL+"/none", 100); err == nil || calls.Load() != 11 {
		t.Fatalf("404: %v after %d calls, want 1", err, calls.Load()-10)
	}
	old := FetchRetryFor
	FetchRetryFor = 2 * time.Second
	defer func() { FetchRetryFor = old }()
	if _, err := a.fetch(ctx, srv.URL+"/down", 100); err == nil || !strings.Contains(err.Error(), "503") {
		t.Fatalf("a hub down past the retry time: %v", err)
	}
	// Nothing listens: the connection is refused, and tried again until the time is up.
	ln := srv.Listener.Addr().String()
	srv.Close()
	if _, err := a.fetch(ctx, "http://"+ln+"/img", 100); err == nil || !strings.Contains(err.Error(), "refused") {
		t.Fatalf("no hub: %v", err)
	}
}
