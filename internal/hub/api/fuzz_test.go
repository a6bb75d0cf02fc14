package api

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/bailiff/bailiff/internal/config"
	"github.com/bailiff/bailiff/internal/hub/auth"
	"github.com/bailiff/bailiff/internal/hub/registry"
	"github.com/bailiff/bailiff/internal/store"
	"github.com/bailiff/bailiff/internal/wire"
)

// fuzzStore knows one user, "judge" / "pw", and keeps sessions in memory.
type fuzzStore struct {
	hash     string
	sessions map[string]store.Session
}

func (f *fuzzStore) User(_ context.Context, name string) (store.User, error) {
	if name != "judge" {
		return store.User{}, store.ErrNotFound
	}
	return store.User{Name: "judge", Role: "judge", Hash: f.hash}, nil
}
func (f *fuzzStore) PutSession(_ context.Context, s store.Session) error {
	f.sessions[s.TokenHash] = s
	return nil
}
func (f *fuzzStore) Session(_ context.Context, th string, now time.Time) (store.Session, error) {
	if s, ok := f.sessions[th]; ok && now.Before(s.Expires) {
		return s, nil
	}
	return store.Session{}, store.ErrNotFound
}
func (f *fuzzStore) DeleteSession(_ context.Context, th string) error {
	delete(f.sessions, th)
	return nil
}

// checkingCommander answers ok, after checking what the API let through.
type checkingCommander struct{ t *testing.T }

func (c checkingCommander) Send(_ context.Context, site, room, device, action string, args json.RawMessage, by string) (wire.Ack, error) {
	if !wire.ValidID(site) || !wire.ValidID(room) || !wire.ValidID(device) || by != "judge" {
		c.t.Fatalf("API passed on %q/%q/%q by %q", site, room, device, by)
	}
	if _, err := wire.ParseArgs(action, args); err != nil {
		return wire.Ack{}, err
	}
	return wire.Ack{ID: "x", OK: true}, nil
}

// FuzzCommandRequest sends arbitrary bodies and paths to the command route: every answer is a
// JSON error or ok, never a panic or a 5xx.
func FuzzCommandRequest(f *testing.F) {
	f.Add("projector", `{"action":"power","args":{"on":true}}`)
	f.Add("projector", `{"action":"power","args":{"on":"x"}}`)
	f.Add("projector", `{"action":"explode"}`)
	f.Add("coffee", `{"action":"refresh"}`)
	f.Add("PROJ", `{}`)
	f.Add("projector", `{"action":"power"`)
	f.Add("projector", `[1,2]`)
	f.Add("projector", `{"action":"ptz","args":{"pan":2}}`)
	hash, _ := auth.HashPassword("pw")
	reg := registry.New(registry.NewFeed(4), nil)
	reg.SetRooms([]*config.Room{{Site: "s", Room: "r", Devices: []config.Device{{ID: "projector", Driver: "pjlink"}}}})
	reg.Handle("bailiff/v1/s/r/agent", []byte(`{"online":true,"agent":"a","version":"1","seq":1,"at":"2026-11-29T10:00:00Z"}`))
	st := &fuzzStore{hash: hash, sessions: map[string]store.Session{}}
	srv := &Server{Store: st, Registry: reg, Feed: registry.NewFeed(4)}
	var h http.Handler
	var token string
	f.Fuzz(func(t *testing.T, device, body string) {
		if h == nil {
			srv.Commands = checkingCommander{t}
			h = srv.Handler()
			w := httptest.NewRecorder()
			h.ServeHTTP(w, httptest.NewRequest("POST", "/api/v1/login", strings.NewReader(`{"user":"judge","password":"pw"}`)))
			var lr loginResponse
			if err := json.Unmarshal(w.Body.Bytes(), &lr); err != nil {
				t.Fatal(err)
			}
			token = lr.Token
		}
		srv.Commands = checkingCommander{t}
		if device == "" || device == "." || device == ".." {
			device = "projector"
		}
		req := httptest.NewRequest("POST", "/api/v1/rooms/s/r/devices/"+url.PathEscape(device)+"/commands", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code >= 500 {
			t.Fatalf("%s → %d %s", body, w.Code, w.Body)
		}
		var out map[string]any
		if err := json.Unmarshal(w.Body.Bytes(), &out); err != nil {
			t.Fatalf("%s → %d non-JSON %q", body, w.Code, w.Body)
		}
		if w.Code != 200 {
			e, _ := out["error"].(map[string]any)
			if e == nil || e["code"] == "" || e["message"] == "" {
				t.Fatalf("%s → %d without a clear error: %s", body, w.Code, w.Body)
			}
		}
	})
}

// FuzzLogin: arbitrary login bodies never log anyone in but judge with the right password.
func FuzzLogin(f *testing.F) {
	f.Add(`{"user":"judge","password":"pw"}`)
	f.Add(`{"user":"judge","password":"PW"}`)
	f.Add(`{"user":"","password":""}`)
	f.Add(`{"user":"judge"}`)
	f.Add(`not json`)
	hash, _ := auth.HashPassword("pw")
	srv := &Server{Store: &fuzzStore{hash: hash, sessions: map[string]store.Session{}}, Registry: registry.New(registry.NewFeed(1), nil), Feed: registry.NewFeed(1)}
	h := srv.Handler()
	f.Fuzz(func(t *testing.T, body string) {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("POST", "/api/v1/login", strings.NewReader(body)))
		var req loginRequest
		ok := json.Unmarshal([]byte(body), &req) == nil && req.User == "judge" && req.Password == "pw"
		if w.Code == 200 && !ok {
			t.Fatalf("%q logged in", body)
		}
		if w.Code >= 500 {
			t.Fatalf("%q → %d", body, w.Code)
		}
	})
}
