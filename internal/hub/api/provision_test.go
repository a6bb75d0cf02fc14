package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bailiff/bailiff/internal/config"
	"github.com/bailiff/bailiff/internal/hub/auth"
	"github.com/bailiff/bailiff/internal/hub/registry"
	"github.com/bailiff/bailiff/internal/store"
)

// oaProvisioning is an in-memory provisioning service that validates configs with the real
// config package; the hub's own (internal/hub) is tested end to end in internal/integration.
type oaProvisioning struct {
	mu     sync.Mutex
	revs   map[string][]string // site/room → YAML per revision
	tokens map[string]bool     // unspent tokens
}

func newOAProvisioning() *oaProvisioning {
	return &oaProvisioning{
		revs:   map[string][]string{oaSite + "/" + oaRoom: {oaRoomYAML}},
		tokens: map[string]bool{},
	}
}

const oaRoomYAML = "site: demo-court\nroom: courtroom-1\nkind: tech-courtroom\nname: Courtroom 1\ndevices:\n  - id: projector\n    driver: pjlink\n    address: 10.20.1.15\n"

func (p *oaProvisioning) view(site, room string, rev int, text string) map[string]any {
	v := map[string]any{"site": site, "room": room, "revision": rev, "source": "api", "author": "technician",
		"created": "2026-11-29T10:00:00Z", "current": len(p.revs[site+"/"+room]), "agent": map[string]any{"revision": 1}}
	if text != "" {
		v["yaml"] = text
	}
	return v
}

func (p *oaProvisioning) RoomConfig(_ context.Context, site, room string, rev int64) (any, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	rs := p.revs[site+"/"+room]
	if rev == 0 {
		rev = int64(len(rs))
	}
	if rev < 1 || rev > int64(len(rs)) {
		return nil, fmt.Errorf("%w: no such revision", ErrNotFound)
	}
	return p.view(site, room, int(rev), rs[rev-1]), nil
}

func (p *oaProvisioning) ConfigRevisions(_ context.Context, site, room string) (any, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	rs := p.revs[site+"/"+room]
	if len(rs) == 0 {
		return nil, ErrNotFound
	}
	out := []any{}
	for i := len(rs); i >= 1; i-- {
		out = append(out, p.view(site, room, i, ""))
	}
	return out, nil
}

func (p *oaProvisioning) put(site, room string, text []byte, create bool) (any, error) {
	r, err := config.ParseRoom("config.yaml", text)
	if err != nil {
		return nil, err
	}
	if !create && (r.Site != site || r.Room != room) {
		return nil, config.Errors{{File: "config.yaml", Key: "site", Msg: "not this room"}}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	k := r.Site + "/" + r.Room
	switch {
	case create && len(p.revs[k]) > 0:
		return nil, fmt.Errorf("%w: room exists", ErrConflict)
	case !create && len(p.revs[k]) == 0:
		return nil, fmt.Errorf("%w: no room", ErrNotFound)
	}
	p.revs[k] = append(p.revs[k], string(text))
	return p.view(r.Site, r.Room, len(p.revs[k]), string(text)), nil
}

func (p *oaProvisioning) PushConfig(_ context.Context, site, room string, text []byte, _ string) (any, error) {
	return p.put(site, room, text, false)
}

func (p *oaProvisioning) CreateRoom(_ context.Context, text []byte, _ string) (any, error) {
	return p.put("", "", text, true)
}

func (p *oaProvisioning) Enroll(_ context.Context, site, room string, ttl time.Duration, _ string) (any, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.revs[site+"/"+room]) == 0 {
		return nil, ErrNotFound
	}
	tok := auth.NewSecret()
	p.tokens[tok] = true
	return map[string]any{"token": tok, "site": site, "room": room, "expires": time.Now().Add(ttl).UTC()}, nil
}

func (p *oaProvisioning) Redeem(_ context.Context, token, _ string) (any, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	unspent, known := p.tokens[token]
	switch {
	case !known:
		return nil, ErrBadToken
	case !unspent:
		return nil, fmt.Errorf("%w: used", ErrTokenSpent)
	}
	p.tokens[token] = false
	return map[string]any{"site": oaSite, "room": oaRoom, "broker": "tcp://127.0.0.1:1883",
		"username": "agent/" + oaSite + "/" + oaRoom, "password": "p"}, nil
}

// TestOpenAPIProvisioning checks the provisioning routes' real answers against the spec.
func TestOpenAPIProvisioning(t *testing.T) {
	f := newOAFixture(t)
	tech, mon := f.tokens[auth.RoleTechnician], f.tokens[auth.RoleMonitor]
	cfg := oaConcrete("/api/v1/rooms/{site}/{room}/config")
	const yamlCT = "application/yaml"
	check := func(method, tmpl, path, token, ct, body string, want int) any {
		t.Helper()
		w := f.do(method, path, token, ct, body)
		if w.Code != want {
			t.Fatalf("%s %s: %d, want %d: %s", method, path, w.Code, want, w.Body)
		}
		return f.checkResponse(t, method, tmpl, w)
	}
	const cfgT = "/api/v1/rooms/{site}/{room}/config"
	check("GET", cfgT, cfg, tech, "", "", 200)
	check("GET", cfgT, cfg, mon, "", "", 403)
	check("GET", cfgT, cfg+"?revision=9", tech, "", "", 404)
	check("GET", cfgT, cfg+"?revision=x", tech, "", "", 400)
	body := check("PUT", cfgT, cfg, tech, yamlCT, strings.Replace(oaRoomYAML, "Courtroom 1", "Courtroom One", 1), 200).(map[string]any)
	if body["revision"] != 2.0 {
		t.Fatalf("PUT: %v", body)
	}
	bad := check("PUT", cfgT, cfg, tech, yamlCT, strings.Replace(oaRoomYAML, "    address: 10.20.1.15\n", "", 1), 422).(map[string]any)
	p := bad["error"].(map[string]any)["problems"].([]any)[0].(map[string]any)
	if p["key"] != "devices[0].address" || p["line"] != 6.0 {
		t.Fatalf("problem = %v, want devices[0].address on line 6", p)
	}
	check("PUT", cfgT, cfg, tech, "application/json", "{}", 415)
	check("PUT", cfgT, cfg, tech, yamlCT, "", 400)
	check("PUT", cfgT, oaConcrete("/api/v1/rooms/{site}/other/config"), tech, yamlCT, strings.Replace(oaRoomYAML, "courtroom-1", "other", 1), 404)
	check("PUT", cfgT, cfg, tech, yamlCT, strings.Repeat("#", MaxBody+1), 413)
	check("GET", cfgT+"/revisions", cfg+"/revisions", tech, "", "", 200)
	check("POST", "/api/v1/rooms", "/api/v1/rooms", tech, yamlCT, strings.Replace(oaRoomYAML, "courtroom-1", "hall-2", 1), 201)
	check("POST", "/api/v1/rooms", "/api/v1/rooms", tech, yamlCT, oaRoomYAML, 409)
	check("POST", "/api/v1/rooms", "/api/v1/rooms", tech, yamlCT, "site: demo-court\n", 422)

	tok := check("POST", "/api/v1/enrollments", "/api/v1/enrollments", tech, "application/json", `{"site":"demo-court","room":"courtroom-1","ttl":"30m"}`, 201).(map[string]any)["token"].(string)
	check("POST", "/api/v1/enrollments", "/api/v1/enrollments", tech, "application/json", `{"site":"demo-court","room":"nope"}`, 404)
	check("POST", "/api/v1/enrollments", "/api/v1/enrollments", tech, "application/json", `{"site":"demo-court","room":"courtroom-1","ttl":"1s"}`, 400)
	check("POST", "/api/v1/enrollments", "/api/v1/enrollments", mon, "application/json", `{"site":"demo-court","room":"courtroom-1"}`, 403)
	check("POST", "/api/v1/enroll", "/api/v1/enroll", "", "application/json", `{"token":"`+tok+`"}`, 200)
	check("POST", "/api/v1/enroll", "/api/v1/enroll", "", "application/json", `{"token":"`+tok+`"}`, 401)
	for i := 0; i < enrollFailures; i++ { // one failure so far; these reach the limit
		f.do("POST", "/api/v1/enroll", "", "application/json", `{"token":"wrong"}`)
	}
	w := f.do("POST", "/api/v1/enroll", "", "application/json", `{"token":"`+tok+`"}`)
	if w.Code != 429 || w.Header().Get("Retry-After") == "" {
		t.Fatalf("after %d failures: %d %s", enrollFailures+1, w.Code, w.Body)
	}
	f.checkResponse(t, "POST", "/api/v1/enroll", w)
}

func TestFailLimiter(t *testing.T) {
	var l failLimiter
	now := time.Now()
	for i := 0; i < enrollFailures; i++ {
		if l.blocked("a", now) != 0 {
			t.Fatalf("blocked after %d failures", i)
		}
		l.fail("a", now)
	}
	if l.blocked("a", now) == 0 || l.blocked("b", now) != 0 {
		t.Fatal("the limit is not per address")
	}
	if l.blocked("a", now.Add(enrollWindow)) != 0 {
		t.Fatal("still blocked after the window")
	}
}

// newProvisionFuzzServer serves the provisioning routes over oaProvisioning with a technician
// token.
func newProvisionFuzzServer(t *testing.T) (http.Handler, string) {
	st := &fuzzStore{sessions: map[string]store.Session{}}
	tok := auth.NewSecret()
	st.sessions[auth.HashSecret(tok)] = store.Session{TokenHash: auth.HashSecret(tok), User: "tech", Role: auth.RoleTechnician, Expires: time.Now().Add(time.Hour)}
	reg := registry.New(registry.NewFeed(4), nil)
	srv := &Server{Store: st, Registry: reg, Feed: registry.NewFeed(4), Provisioning: newOAProvisioning()}
	return srv.Handler(), tok
}

// checkAnswer fails on a panic-free but unclear answer: a 5xx, a body that is not JSON, or an
// error without a code and message.
func checkAnswer(t *testing.T, in string, w *httptest.ResponseRecorder) map[string]any {
	t.Helper()
	if w.Code >= 500 {
		t.Fatalf("%q → %d %s", in, w.Code, w.Body)
	}
	var out map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &out); err != nil {
		t.Fatalf("%q → %d non-JSON %q", in, w.Code, w.Body)
	}
	if w.Code >= 300 {
		e, _ := out["error"].(map[string]any)
		if e == nil || e["code"] == "" || e["message"] == "" {
			t.Fatalf("%q → %d without a clear error: %s", in, w.Code, w.Body)
		}
	}
	return out
}

// fuzzRoomConfigBody sends arbitrary YAML to a room-config route: a clear answer every time,
// and a success only for a config that validates.
func fuzzRoomConfigBody(f *testing.F, method, path string, ok int) {
	f.Add(oaRoomYAML)
	f.Add(strings.Replace(oaRoomYAML, "10.20.1.15", "", 1))
	f.Add(strings.Replace(oaRoomYAML, "courtroom-1", "hall-2", 1))
	f.Add("site: demo-court\nroom: courtroom-1\n")
	f.Add("{")
	f.Add("- a\n- b\n")
	f.Add("site: &a demo-court\nroom: *a\n")
	var h http.Handler
	var tok string
	f.Fuzz(func(t *testing.T, body string) {
		if h == nil {
			h, tok = newProvisionFuzzServer(t)
		}
		req := httptest.NewRequest(method, path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Content-Type", "application/yaml")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		checkAnswer(t, body, w)
		if w.Code == ok {
			if _, err := config.ParseRoom("x.yaml", []byte(body)); err != nil {
				t.Fatalf("%q accepted but does not validate: %v", body, err)
			}
		}
	})
}

// FuzzPutRoomConfig fuzzes the body of PUT …/config.
func FuzzPutRoomConfig(f *testing.F) {
	fuzzRoomConfigBody(f, "PUT", "/api/v1/rooms/demo-court/courtroom-1/config", http.StatusOK)
}

// FuzzCreateRoom fuzzes the body of POST /api/v1/rooms.
func FuzzCreateRoom(f *testing.F) {
	fuzzRoomConfigBody(f, "POST", "/api/v1/rooms", http.StatusCreated)
}

// FuzzEnrollmentRequest sends arbitrary bodies to POST /api/v1/enrollments.
func FuzzEnrollmentRequest(f *testing.F) {
	f.Add(`{"site":"demo-court","room":"courtroom-1"}`)
	f.Add(`{"site":"demo-court","room":"courtroom-1","ttl":"30m"}`)
	f.Add(`{"site":"demo-court","room":"courtroom-1","ttl":"-5m"}`)
	f.Add(`{"site":"Demo","room":""}`)
	f.Add(`{"site":"demo-court","room":"courtroom-1","x":1}`)
	f.Add(`[]`)
	var h http.Handler
	var tok string
	f.Fuzz(func(t *testing.T, body string) {
		if h == nil {
			h, tok = newProvisionFuzzServer(t)
		}
		req := httptest.NewRequest("POST", "/api/v1/enrollments", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+tok)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		out := checkAnswer(t, body, w)
		if w.Code == 201 {
			if s, _ := out["token"].(string); len(s) < 32 {
				t.Fatalf("%q → token %q", body, s)
			}
		}
	})
}

// FuzzEnrollRequest sends arbitrary bodies to POST /api/v1/enroll: no body but a real token
// gets credentials.
func FuzzEnrollRequest(f *testing.F) {
	f.Add(`{"token":"abc"}`)
	f.Add(`{"token":""}`)
	f.Add(`{"token":7}`)
	f.Add(`{"token":"a","extra":true}`)
	f.Add(`not json`)
	var h http.Handler
	f.Fuzz(func(t *testing.T, body string) {
		if h == nil {
			h, _ = newProvisionFuzzServer(t)
		}
		req := httptest.NewRequest("POST", "/api/v1/enroll", strings.NewReader(body))
		req.RemoteAddr = fmt.Sprintf("192.0.2.%d:1234", len(body)%250) // spread over addresses: the limiter is tested elsewhere
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		checkAnswer(t, body, w)
		if w.Code == 200 {
			t.Fatalf("%q enrolled without a token that was issued", body)
		}
	})
}

// oaAgents revokes the demo room's agent once; any other is not found.
type oaAgents struct{}

func (oaAgents) RevokeAgent(_ context.Context, site, room, _ string) error {
	if site == "demo-court" && room == "courtroom-1" {
		return nil
	}
	return fmt.Errorf("%w: no agent credentials for %s/%s", ErrNotFound, site, room)
}
