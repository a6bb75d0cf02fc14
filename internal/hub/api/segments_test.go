package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bailiff/bailiff/internal/hub/auth"
	"github.com/bailiff/bailiff/internal/hub/registry"
	"github.com/bailiff/bailiff/internal/store"
)

// segmentStub is a recordings service with one recording, "rec-1", whose track "cam" has
// segments 0 and 1 of 1000 bytes each; it fails the test if the API passes it a name that is
// not a track ID or a segment number.
type segmentStub struct{ t *testing.T }

var segmentBytes = bytes.Repeat([]byte("0123456789"), 100)

func (s segmentStub) Start(context.Context, string, string) (any, error) { return nil, nil }
func (s segmentStub) Stop(context.Context, string) (any, error)          { return nil, nil }
func (s segmentStub) Get(context.Context, string) (any, error)           { return nil, nil }
func (s segmentStub) List(context.Context, func(string) bool) any        { return []any{} }

type nopCloser struct{ io.ReadSeeker }

func (nopCloser) Close() error { return nil }

func (s segmentStub) OpenSegment(_ context.Context, id, track string, n int) (SegmentFile, error) {
	if !segmentTrack.MatchString(track) || strings.ContainsAny(track, `/\`) || n < 0 || n > 999999 {
		s.t.Fatalf("the API passed on track %q segment %d", track, n)
	}
	if id != "rec-1" || track != "cam" || n > 1 {
		return SegmentFile{}, fmt.Errorf("no segment %d of %s in %s: %w", n, track, id, ErrNotFound)
	}
	return SegmentFile{File: nopCloser{bytes.NewReader(segmentBytes)}, Name: fmt.Sprintf("cam-%06d.webm", n), ModTime: time.Unix(1e9, 0)}, nil
}

// FuzzRecordingSegment sends arbitrary recording IDs, tracks, segment numbers and Range
// headers to GET /api/v1/recordings/{id}/tracks/{track}/segments/{n}: no panic, no 5xx,
// every refusal a JSON error, and a 206 exactly the bytes its Content-Range names.
func FuzzRecordingSegment(f *testing.F) {
	f.Add("rec-1", "cam", "0", "")
	f.Add("rec-1", "cam", "1", "bytes=10-19")
	f.Add("rec-1", "cam", "0", "bytes=-5")
	f.Add("rec-1", "cam", "0", "bytes=5000-")
	f.Add("rec-1", "cam", "0", "bytes=0-1,5-9")
	f.Add("rec-1", "../../hub.db", "0", "")
	f.Add("rec-1", "cam", "-1", "")
	f.Add("..", "cam", "0", "")
	f.Add("rec-1", ".cam", "00", "bytes=x")
	hash, _ := auth.HashPassword("pw")
	st := &fuzzStore{hash: hash, sessions: map[string]store.Session{}}
	srv := &Server{Store: st, Registry: registry.New(registry.NewFeed(1), nil), Feed: registry.NewFeed(1)}
	var h http.Handler
	var token string
	f.Fuzz(func(t *testing.T, id, track, n, rng string) {
		srv.Recordings = segmentStub{t}
		if h == nil {
			h = srv.Handler()
			w := httptest.NewRecorder()
			h.ServeHTTP(w, httptest.NewRequest("POST", "/api/v1/login", strings.NewReader(`{"user":"judge","password":"pw"}`)))
			var lr loginResponse
			if err := json.Unmarshal(w.Body.Bytes(), &lr); err != nil {
				t.Fatal(err)
			}
			token = lr.Token
		}
		for _, p := range []*string{&id, &track, &n} {
			if *p == "" || *p == "." || *p == ".." {
				*p = "x" // the mux cleans these away before the route is matched
			}
		}
		req := httptest.NewRequest("GET", "/api/v1/recordings/"+url.PathEscape(id)+"/tracks/"+url.PathEscape(track)+"/segments/"+url.PathEscape(n), nil)
		req.Header.Set("Authorization", "Bearer "+token)
		if rng != "" {
			req.Header.Set("Range", rng)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		switch {
		case w.Code >= 500:
			t.Fatalf("%q %q %q %q → %d %s", id, track, n, rng, w.Code, w.Body)
		case w.Code == 200:
			if !bytes.Equal(w.Body.Bytes(), segmentBytes) {
				t.Fatalf("200 with %d bytes", w.Body.Len())
			}
		case w.Code == 206:
			var from, to, size int
			if _, err := fmt.Sscanf(w.Header().Get("Content-Range"), "bytes %d-%d/%d", &from, &to, &size); err == nil {
				if size != len(segmentBytes) || !bytes.Equal(w.Body.Bytes(), segmentBytes[from:to+1]) {
					t.Fatalf("206 %s with %d bytes", w.Header().Get("Content-Range"), w.Body.Len())
				}
			} else if !strings.HasPrefix(w.Header().Get("Content-Type"), "multipart/byteranges") {
				t.Fatalf("206 without a range: %v", w.Header())
			}
		case w.Code == 416:
		default:
			var out map[string]any
			if err := json.Unmarshal(w.Body.Bytes(), &out); err != nil || out["error"] == nil {
				t.Fatalf("%q %q %q → %d without a JSON error: %q", id, track, n, w.Code, w.Body)
			}
			if w.Code != 400 && w.Code != 404 && w.Code != 405 {
				t.Fatalf("%q %q %q → %d %s", id, track, n, w.Code, w.Body)
			}
		}
		if w.Code == 200 || w.Code == 206 {
			if k, err := strconv.Atoi(n); err != nil || k < 0 || k > 1 || track != "cam" || id != "rec-1" {
				t.Fatalf("served %q %q %q", id, track, n)
			}
		}
	})
}
