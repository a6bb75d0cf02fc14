package api

// This file checks the server against docs/openapi.yaml: every documented route is served,
// every route the server registers is documented, and real responses have a documented status
// and a body that fits the documented schema. It is a unit-level contract test: the store and
// the MQTT side are fakes; the command router is the real one over a fake publisher.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/bailiff/bailiff/internal/config"
	"github.com/bailiff/bailiff/internal/hub/auth"
	"github.com/bailiff/bailiff/internal/hub/commands"
	"github.com/bailiff/bailiff/internal/hub/queue"
	"github.com/bailiff/bailiff/internal/hub/registry"
	"github.com/bailiff/bailiff/internal/store"
	"github.com/bailiff/bailiff/internal/wire"
)

const oaSpecPath = "../../../docs/openapi.yaml"

// --- the spec ---

type oaSpec struct {
	root map[string]any
}

func loadOASpec(t testing.TB) *oaSpec {
	t.Helper()
	b, err := os.ReadFile(oaSpecPath)
	if err != nil {
		t.Fatalf("read the OpenAPI file: %v", err)
	}
	var v any
	if err := yaml.Unmarshal(b, &v); err != nil {
		t.Fatalf("%s: %v", oaSpecPath, err)
	}
	root, ok := oaNormalize(v).(map[string]any)
	if !ok {
		t.Fatalf("%s: the top level is not a mapping", oaSpecPath)
	}
	if v, _ := root["openapi"].(string); !strings.HasPrefix(v, "3.1") {
		t.Fatalf("%s: openapi %q, want 3.1.x", oaSpecPath, v)
	}
	return &oaSpec{root: root}
}

// normalize turns YAML's map[any]any (non-string keys, e.g. an unquoted 200) into
// map[string]any all the way down.
func oaNormalize(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = oaNormalize(e)
		}
		return x
	case map[any]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[fmt.Sprint(k)] = oaNormalize(e)
		}
		return m
	case []any:
		for i, e := range x {
			x[i] = oaNormalize(e)
		}
		return x
	}
	return v
}

func oaMap(v any, keys ...string) map[string]any {
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	m, _ := v.(map[string]any)
	return m
}

var oaMethods = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}

// operations lists "METHOD /path" of every operation in the file.
func (s *oaSpec) operations() []string {
	var out []string
	for p, item := range oaMap(s.root, "paths") {
		for _, m := range oaMethods {
			if _, ok := item.(map[string]any)[m]; ok {
				out = append(out, strings.ToUpper(m)+" "+p)
			}
		}
	}
	sort.Strings(out)
	return out
}

func (s *oaSpec) operation(t *testing.T, method, path string) map[string]any {
	t.Helper()
	op := oaMap(s.root, "paths", path, strings.ToLower(method))
	if op == nil {
		t.Fatalf("%s %s is not in %s", method, path, oaSpecPath)
	}
	return op
}

// resolve follows a local $ref ("#/components/…").
func (s *oaSpec) resolve(t *testing.T, v map[string]any) map[string]any {
	t.Helper()
	for range 16 {
		ref, ok := v["$ref"].(string)
		if !ok {
			return v
		}
		path, ok := strings.CutPrefix(ref, "#/")
		if !ok {
			t.Fatalf("$ref %q: only local references are supported", ref)
		}
		next := oaMap(s.root, strings.Split(path, "/")...)
		if next == nil {
			t.Fatalf("$ref %q does not resolve", ref)
		}
		v = next
	}
	t.Fatalf("$ref chain too long")
	return nil
}

// response returns the documented response of an operation for a status, or nil.
func (s *oaSpec) response(t *testing.T, op map[string]any, status int) map[string]any {
	t.Helper()
	r := oaMap(op, "responses", strconv.Itoa(status))
	if r == nil {
		r = oaMap(op, "responses", "default")
	}
	if r == nil {
		return nil
	}
	return s.resolve(t, r)
}

// --- a small JSON Schema checker: $ref, type, const, enum, required, properties,
// additionalProperties, items, minimum/maximum, minLength/maxLength, minItems/maxItems,
// maxProperties, allOf/anyOf/oneOf. Enough for this API. ---

func (s *oaSpec) check(t *testing.T, schema map[string]any, v any, at string) []string {
	t.Helper()
	schema = s.resolve(t, schema)
	var errs []string
	if typ, ok := schema["type"]; ok && !oaTypeMatches(typ, v) {
		return []string{fmt.Sprintf("%s: %s is not of type %v", at, oaShort(v), typ)}
	}
	if c, ok := schema["const"]; ok && !oaSameJSON(c, v) {
		errs = append(errs, fmt.Sprintf("%s: %s, want the constant %v", at, oaShort(v), c))
	}
	if enum, ok := schema["enum"].([]any); ok {
		found := false
		for _, e := range enum {
			found = found || oaSameJSON(e, v)
		}
		if !found {
			errs = append(errs, fmt.Sprintf("%s: %s is not one of %v", at, oaShort(v), enum))
		}
	}
	if n, ok := v.(float64); ok {
		if lo, ok := oaNumber(schema["minimum"]); ok && n < lo {
			errs = append(errs, fmt.Sprintf("%s: %v below the minimum %v", at, n, lo))
		}
		if hi, ok := oaNumber(schema["maximum"]); ok && n > hi {
			errs = append(errs, fmt.Sprintf("%s: %v above the maximum %v", at, n, hi))
		}
	}
	if str, ok := v.(string); ok {
		if n, ok := oaNumber(schema["minLength"]); ok && float64(len([]rune(str))) < n {
			errs = append(errs, fmt.Sprintf("%s: %s shorter than %v", at, oaShort(v), n))
		}
		if n, ok := oaNumber(schema["maxLength"]); ok && float64(len([]rune(str))) > n {
			errs = append(errs, fmt.Sprintf("%s: %s longer than %v", at, oaShort(v), n))
		}
	}
	if obj, ok := v.(map[string]any); ok {
		if n, ok := oaNumber(schema["maxProperties"]); ok && float64(len(obj)) > n {
			errs = append(errs, fmt.Sprintf("%s: more than %v properties", at, n))
		}
		req, _ := schema["required"].([]any)
		for _, r := range req {
			if _, ok := obj[r.(string)]; !ok {
				errs = append(errs, fmt.Sprintf("%s: required property %q is missing", at, r))
			}
		}
		props := oaMap(schema, "properties")
		for k, e := range obj {
			if p, ok := props[k].(map[string]any); ok {
				errs = append(errs, s.check(t, p, e, at+"."+k)...)
				continue
			}
			switch ap := schema["additionalProperties"].(type) {
			case bool:
				if !ap {
					errs = append(errs, fmt.Sprintf("%s: property %q is not in the schema", at, k))
				}
			case map[string]any:
				errs = append(errs, s.check(t, ap, e, at+"."+k)...)
			}
		}
	}
	if arr, ok := v.([]any); ok {
		if n, ok := oaNumber(schema["minItems"]); ok && float64(len(arr)) < n {
			errs = append(errs, fmt.Sprintf("%s: fewer than %v items", at, n))
		}
		if n, ok := oaNumber(schema["maxItems"]); ok && float64(len(arr)) > n {
			errs = append(errs, fmt.Sprintf("%s: more than %v items", at, n))
		}
		if items, ok := schema["items"].(map[string]any); ok {
			for i, e := range arr {
				errs = append(errs, s.check(t, items, e, fmt.Sprintf("%s[%d]", at, i))...)
			}
		}
	}
	if all, ok := schema["allOf"].([]any); ok {
		for _, sub := range all {
			errs = append(errs, s.check(t, sub.(map[string]any), v, at)...)
		}
	}
	for _, kw := range []string{"anyOf", "oneOf"} {
		alts, ok := schema[kw].([]any)
		if !ok {
			continue
		}
		n := 0
		for _, sub := range alts {
			if len(s.check(t, sub.(map[string]any), v, at)) == 0 {
				n++
			}
		}
		if n == 0 || (kw == "oneOf" && n > 1) {
			errs = append(errs, fmt.Sprintf("%s: %s fits %d of the %s alternatives", at, oaShort(v), n, kw))
		}
	}
	return errs
}

func oaTypeMatches(typ any, v any) bool {
	switch x := typ.(type) {
	case string:
		return oaIsType(x, v)
	case []any:
		for _, t := range x {
			if s, ok := t.(string); ok && oaIsType(s, v) {
				return true
			}
		}
	}
	return false
}

func oaIsType(typ string, v any) bool {
	switch typ {
	case "object":
		_, ok := v.(map[string]any)
		return ok
	case "array":
		_, ok := v.([]any)
		return ok
	case "string":
		_, ok := v.(string)
		return ok
	case "boolean":
		_, ok := v.(bool)
		return ok
	case "number":
		_, ok := v.(float64)
		return ok
	case "integer":
		n, ok := v.(float64)
		return ok && n == math.Trunc(n)
	case "null":
		return v == nil
	}
	return false
}

func oaNumber(v any) (float64, bool) {
	switch n := v.(type) {
	case int:
		return float64(n), true
	case float64:
		return n, true
	}
	return 0, false
}

// sameJSON compares a value from YAML with one from JSON.
func oaSameJSON(a, b any) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return bytes.Equal(ja, jb)
}

func oaShort(v any) string {
	b, _ := json.Marshal(v)
	if len(b) > 80 {
		return string(b[:80]) + "…"
	}
	return string(b)
}

// --- fakes ---

type oaStore struct {
	mu       sync.Mutex
	users    map[string]store.User
	sessions map[string]store.Session
}

func (f *oaStore) User(_ context.Context, name string) (store.User, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	u, ok := f.users[name]
	if !ok {
		return store.User{}, store.ErrNotFound
	}
	return u, nil
}

func (f *oaStore) PutSession(_ context.Context, s store.Session) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sessions[s.TokenHash] = s
	return nil
}

func (f *oaStore) Session(_ context.Context, th string, now time.Time) (store.Session, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s, ok := f.sessions[th]
	if !ok || !s.Expires.After(now) {
		return store.Session{}, store.ErrNotFound
	}
	return s, nil
}

func (f *oaStore) DeleteSession(_ context.Context, th string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.sessions, th)
	return nil
}

// fakeAgent stands in for the broker and the agent: every command the router publishes is
// answered by answer (nil: no ack, so the router times out).
type oaAgent struct {
	router *commands.Router
	answer func(wire.Command) *wire.Ack
}

func (f *oaAgent) Publish(topic string, _ byte, _ bool, payload []byte) error {
	cmd, err := wire.DecodeCommand(payload)
	if err != nil {
		return err
	}
	tp, err := wire.ParseTopic(topic)
	if err != nil || tp.Kind != wire.KindCmd {
		return fmt.Errorf("fake agent: command on %q", topic)
	}
	if a := f.answer(cmd); a != nil {
		ack := wire.Encode(a)
		ackTopic := wire.DeviceTopic(tp.Site, tp.Room, tp.Device, wire.KindAck)
		go f.router.HandleAck(ackTopic, ack)
	}
	return nil
}

const (
	oaSite, oaRoom, oaDevice = "demo-court", "courtroom-1", "projector"
	oaPassword               = "correct horse"
)

type oaFixture struct {
	room    *config.Room
	store   *store.Store // hearings and the audit log
	spec    *oaSpec
	handler http.Handler
	feed    *registry.Feed
	reg     *registry.Registry
	tokens  map[string]string // role → token
}

func newOAFixture(t testing.TB) *oaFixture {
	t.Helper()
	hash, err := auth.HashPassword(oaPassword)
	if err != nil {
		t.Fatal(err)
	}
	st := &oaStore{
		users:    map[string]store.User{"judge": {Name: "judge", Role: auth.RoleJudge, Hash: hash}},
		sessions: map[string]store.Session{},
	}
	f := &oaFixture{spec: loadOASpec(t), feed: registry.NewFeed(64), tokens: map[string]string{}}
	f.reg = registry.New(f.feed, nil)
	f.room = &config.Room{
		Site: oaSite, Room: oaRoom, Kind: "tech-courtroom", Name: "Courtroom 1",
		Devices: []config.Device{{ID: oaDevice, Driver: "pjlink", Name: "Bench projector"}, {ID: "display", Driver: "pjlink"}},
		Scenes:  oaScenes,
	}
	f.reg.SetRooms([]*config.Room{f.room})
	now := time.Now().UTC().Format(time.RFC3339Nano)
	f.reg.Handle(wire.RoomTopic(oaSite, oaRoom, wire.KindAgent),
		[]byte(`{"online":true,"agent":"agent/demo-court/courtroom-1","version":"test","seq":7,"at":"`+now+`"}`))
	f.reg.Handle(wire.DeviceTopic(oaSite, oaRoom, oaDevice, wire.KindState),
		[]byte(`{"reachable":true,"state":{"power":"off","input":"31"},"driver":"pjlink","actions":["power","refresh"],"at":"`+now+`"}`))

	fa := &oaAgent{answer: func(c wire.Command) *wire.Ack {
		switch c.Action {
		case wire.ActPower:
			return &wire.Ack{ID: c.ID, OK: true, State: map[string]any{"power": "on"}}
		case wire.ActInput:
			return &wire.Ack{ID: c.ID, Error: wire.Errorf(wire.CodeBusy, "warming up")}
		case wire.ActBlank:
			return &wire.Ack{ID: c.ID, Error: wire.Errorf(wire.CodeUnreachable, "connection refused")}
		}
		return nil // no ack: timeout
	}}
	fa.router = commands.New(fa, 200*time.Millisecond, nil, nil)
	srv := &Server{
		Store: st, Registry: f.reg, Feed: f.feed, Commands: fa.router, Recordings: oaRecordings{}, Provisioning: newOAProvisioning(), Agents: oaAgents{}, Renewer: oaRenewer{}, Invites: oaInvites{}, Firmware: oaFirmware{},
		Programs: oaPrograms{},
		Metrics: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/plain; version=0.0.4")
			io.WriteString(w, "bailiff_agents_online 1\n")
		}),
		Health: func(context.Context) map[string]error { return map[string]error{"store": nil, "broker": nil} },
		Log:    slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	f.wireHearings(t, srv, fa.router, hash)
	srv.Alarms = newOAAlarms(t, f.reg, f.feed)
	srv.Privacy = func(site, room string) bool { return room == "courtroom-1" }
	f.handler = srv.Handler()
	for _, role := range []string{auth.RoleTechnician, auth.RoleMonitor, auth.RoleVisitor} {
		tok := auth.NewSecret()
		st.sessions[auth.HashSecret(tok)] = store.Session{TokenHash: auth.HashSecret(tok), User: role, Role: role, Expires: time.Now().Add(time.Hour)}
		f.tokens[role] = tok
	}
	return f
}

// do serves one request; token "" sends none.
func (f *oaFixture) do(method, path, token, contentType, body string) *httptest.ResponseRecorder {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, path, rd)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	w := httptest.NewRecorder()
	f.handler.ServeHTTP(w, req)
	return w
}

// concrete fills a path template with IDs that exist.
func oaConcrete(p string) string {
	return strings.NewReplacer("{site}", oaSite, "{room}", oaRoom, "{device}", oaDevice).Replace(p)
}

// --- (a) every documented operation is served ---

func TestOpenAPIOperationsAreServed(t *testing.T) {
	f := newOAFixture(t)
	ops := f.spec.operations()
	if len(ops) == 0 {
		t.Fatal("no operations in the OpenAPI file")
	}
	for _, op := range ops {
		method, path, _ := strings.Cut(op, " ")
		// No token and no body: authenticated routes answer 401, the others a 4xx of their
		// own — anything but the API's fall-through 404 or the mux's 405.
		w := f.do(method, oaConcrete(path), "", "", "")
		if w.Code == http.StatusMethodNotAllowed {
			t.Errorf("%s: 405 Method Not Allowed: the server does not serve it", op)
		}
		if w.Code == http.StatusNotFound && strings.Contains(w.Body.String(), "no API route") {
			t.Errorf("%s: fell through to the API's 404: %s", op, w.Body.String())
		}
		if w.Code == http.StatusNotFound && !strings.HasPrefix(w.Header().Get("Content-Type"), "application/json") {
			t.Errorf("%s: the mux's 404: the server does not serve it", op)
		}
		if f.spec.response(t, f.spec.operation(t, method, path), w.Code) == nil {
			t.Errorf("%s without a token: status %d is not documented", op, w.Code)
		}
	}
}

// --- (b) every route the server registers is documented ---

var oaRoutePattern = regexp.MustCompile(`mux\.Handle(?:Func)?\("(\w+) (/[^"]*)"`)

func oaServerRoutes(t *testing.T) []string {
	t.Helper()
	src, err := os.ReadFile("api.go")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, m := range oaRoutePattern.FindAllStringSubmatch(string(src), -1) {
		out = append(out, m[1]+" "+m[2])
	}
	sort.Strings(out)
	// A guard against a refactor that hides the routes from the pattern: the API has at
	// least these many routes today.
	if len(out) < 8 {
		t.Fatalf("found only %d routes in api.go (%v): has the way routes are registered changed?", len(out), out)
	}
	return out
}

func TestServerRoutesAreDocumented(t *testing.T) {
	s := loadOASpec(t)
	documented := map[string]bool{}
	for _, op := range s.operations() {
		documented[op] = true
	}
	for _, r := range oaServerRoutes(t) {
		if !documented[r] {
			t.Errorf("the server serves %s but %s does not document it", r, oaSpecPath)
		}
		delete(documented, r)
	}
	for op := range documented {
		t.Errorf("%s documents %s but api.go registers no such route", oaSpecPath, op)
	}
}

// --- (c) real requests: documented status, body fits the documented schema ---

// expect serves one request to url (an instance of the documented path), fails unless its
// status is want, and checks the response against the file; it returns the response and its
// decoded body.
func (f *oaFixture) expect(t *testing.T, method, path, url, token, contentType, body string, want int) (*httptest.ResponseRecorder, any) {
	t.Helper()
	w := f.do(method, url, token, contentType, body)
	if w.Code != want {
		t.Fatalf("status %d, want %d; body %s", w.Code, want, w.Body.String())
	}
	return w, f.checkResponse(t, method, path, w)
}

// checkResponse checks that the operation documents w's status, that a JSON body fits the
// documented schema, and returns the decoded body.
func (f *oaFixture) checkResponse(t *testing.T, method, path string, w *httptest.ResponseRecorder) any {
	t.Helper()
	op := f.spec.operation(t, method, path)
	resp := f.spec.response(t, op, w.Code)
	if resp == nil {
		t.Fatalf("%s %s: status %d is not documented; body %s", method, path, w.Code, w.Body.String())
	}
	content := oaMap(resp, "content")
	if len(content) == 0 {
		if w.Body.Len() != 0 {
			t.Errorf("%s %s %d: documented without a body, got %q", method, path, w.Code, w.Body.String())
		}
		return nil
	}
	ct := w.Header().Get("Content-Type")
	mt, _, _ := strings.Cut(ct, ";")
	media := oaMap(content, strings.TrimSpace(mt))
	if media == nil {
		t.Fatalf("%s %s %d: Content-Type %q is not documented", method, path, w.Code, ct)
	}
	if mt != "application/json" {
		return w.Body.String()
	}
	var body any
	if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
		t.Fatalf("%s %s %d: body is not JSON: %v", method, path, w.Code, err)
	}
	schema := oaMap(media, "schema")
	if schema == nil {
		t.Fatalf("%s %s %d: no schema documented", method, path, w.Code)
	}
	for _, e := range f.spec.check(t, schema, body, "body") {
		t.Errorf("%s %s %d: %s", method, path, w.Code, e)
	}
	return body
}

func TestOpenAPIResponses(t *testing.T) {
	f := newOAFixture(t)
	tech := f.tokens[auth.RoleTechnician]
	const (
		login    = "/api/v1/login"
		logout   = "/api/v1/logout"
		rooms    = "/api/v1/rooms"
		roomPath = "/api/v1/rooms/{site}/{room}"
		cmdPath  = "/api/v1/rooms/{site}/{room}/devices/{device}/commands"
		events   = "/api/v1/events"
		invites  = "/api/v1/invites"
		invite1  = "/api/v1/invites/{id}"
		inviteMe = "/api/v1/invite"
		appJSON  = "application/json"
	)
	cmdURL := oaConcrete(cmdPath)
	tests := []struct {
		name                     string
		method, path, url        string
		token, contentType, body string
		want                     int
		wantCode                 string // the error code, for errors
	}{
		{"health", "GET", "/healthz", "/healthz", "", "", "", 200, ""},
		{"metrics", "GET", "/metrics", "/metrics", "", "", "", 200, ""},
		{"login ok", "POST", login, login, "", appJSON, `{"user":"judge","password":"` + oaPassword + `"}`, 200, ""},
		{"login without content type", "POST", login, login, "", "", `{"user":"judge","password":"` + oaPassword + `"}`, 200, ""},
		{"login wrong password", "POST", login, login, "", appJSON, `{"user":"judge","password":"nope"}`, 401, "unauthorized"},
		{"login unknown user", "POST", login, login, "", appJSON, `{"user":"nobody","password":"nope"}`, 401, "unauthorized"},
		{"login missing password", "POST", login, login, "", appJSON, `{"user":"judge"}`, 400, "bad_request"},
		{"login unknown member", "POST", login, login, "", appJSON, `{"user":"judge","password":"x","otp":1}`, 400, "bad_request"},
		{"login form", "POST", login, login, "", "application/x-www-form-urlencoded", `user=judge`, 415, "bad_request"},
		{"login too large", "POST", login, login, "", appJSON, `{"user":"` + strings.Repeat("a", MaxBody) + `"}`, 413, "bad_request"},
		{"rooms", "GET", rooms, rooms, tech, "", "", 200, ""},
		{"rooms unauthenticated", "GET", rooms, rooms, "", "", "", 401, "unauthorized"},
		{"rooms bad token", "GET", rooms, rooms, "not-a-token", "", "", 401, "unauthorized"},
		{"rooms visitor", "GET", rooms, rooms, f.tokens[auth.RoleVisitor], "", "", 403, "forbidden"},
		{"room", "GET", roomPath, oaConcrete(roomPath), tech, "", "", 200, ""},
		{"room not found", "GET", roomPath, "/api/v1/rooms/demo-court/courtroom-9", tech, "", "", 404, "not_found"},
		{"room bad ID", "GET", roomPath, "/api/v1/rooms/Demo_Court/courtroom-1", tech, "", "", 400, "bad_request"},
		{"command ok", "POST", cmdPath, cmdURL, tech, appJSON, `{"action":"power","args":{"on":true}}`, 200, ""},
		{"command bad args", "POST", cmdPath, cmdURL, tech, appJSON, `{"action":"power","args":{"on":"yes"}}`, 400, "bad_args"},
		{"command out of range", "POST", cmdPath, cmdURL, tech, appJSON, `{"action":"gain","args":{"db":100}}`, 400, "bad_args"},
		{"command no action", "POST", cmdPath, cmdURL, tech, appJSON, `{"args":{}}`, 400, "bad_args"},
		{"command bad JSON", "POST", cmdPath, cmdURL, tech, appJSON, `{"action":`, 400, "bad_request"},
		{"command unknown action", "POST", cmdPath, cmdURL, tech, appJSON, `{"action":"explode"}`, 422, "unsupported"},
		{"command busy", "POST", cmdPath, cmdURL, tech, appJSON, `{"action":"input","args":{"source":"hdmi1"}}`, 409, "busy"},
		{"command unreachable", "POST", cmdPath, cmdURL, tech, appJSON, `{"action":"blank","args":{"on":true}}`, 502, "unreachable"},
		{"command timeout", "POST", cmdPath, cmdURL, tech, appJSON, `{"action":"refresh"}`, 504, "timeout"},
		{"command unknown device", "POST", cmdPath, "/api/v1/rooms/demo-court/courtroom-1/devices/smoke/commands", tech, appJSON, `{"action":"refresh"}`, 404, "not_found"},
		{"command unknown room", "POST", cmdPath, "/api/v1/rooms/demo-court/nowhere/devices/projector/commands", tech, appJSON, `{"action":"refresh"}`, 404, "not_found"},
		{"command monitor", "POST", cmdPath, cmdURL, f.tokens[auth.RoleMonitor], appJSON, `{"action":"refresh"}`, 403, "forbidden"},
		{"command unauthenticated", "POST", cmdPath, cmdURL, "", appJSON, `{"action":"refresh"}`, 401, "unauthorized"},
		{"events unauthenticated", "GET", events, events, "", "", "", 401, "unauthorized"},
		{"logout unauthenticated", "POST", logout, logout, "", "", "", 401, "unauthorized"},
		{"invite", "POST", invites, invites, tech, appJSON, `{"site":"demo-court","room":"courtroom-1","hearing":"h-1","name":"A. Witness","expires_in":"2h"}`, 201, ""},
		{"invite seconds", "POST", invites, invites, tech, appJSON, `{"site":"demo-court","room":"courtroom-1","hearing":"h-1","name":"A. Witness","expires_in":3600}`, 201, ""},
		{"invite no name", "POST", invites, invites, tech, appJSON, `{"site":"demo-court","room":"courtroom-1","hearing":"h-1"}`, 400, "bad_request"},
		{"invite too long", "POST", invites, invites, tech, appJSON, `{"site":"demo-court","room":"courtroom-1","hearing":"h-1","name":"x","expires_in":"90d"}`, 400, "bad_request"},
		{"invite unknown room", "POST", invites, invites, tech, appJSON, `{"site":"demo-court","room":"nowhere","hearing":"h-1","name":"x"}`, 404, "not_found"},
		{"invite monitor", "POST", invites, invites, f.tokens[auth.RoleMonitor], appJSON, `{"site":"demo-court","room":"courtroom-1","hearing":"h","name":"x"}`, 403, "forbidden"},
		{"invites", "GET", invites, invites + "?site=demo-court&room=courtroom-1", tech, "", "", 200, ""},
		{"invites bad site", "GET", invites, invites + "?site=Bad_Site", tech, "", "", 400, "bad_request"},
		{"invites visitor", "GET", invites, invites, f.tokens[auth.RoleVisitor], "", "", 403, "forbidden"},
		{"revoke", "DELETE", invite1, "/api/v1/invites/0123456789abcdef", tech, "", "", 200, ""},
		{"revoke unknown", "DELETE", invite1, "/api/v1/invites/fedcba9876543210", tech, "", "", 404, "not_found"},
		{"revoke bad ID", "DELETE", invite1, "/api/v1/invites/xyz", tech, "", "", 400, "bad_request"},
		{"own invite", "GET", inviteMe, inviteMe, "invite.x.y", "", "", 200, ""},
		{"own invite revoked", "GET", inviteMe, inviteMe, "invite.x.revoked", "", "", 401, "unauthorized"},
		{"own invite, a session token", "GET", inviteMe, inviteMe, tech, "", "", 401, "unauthorized"},
		{"own invite, no token", "GET", inviteMe, inviteMe, "", "", "", 401, "unauthorized"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w, body := f.expect(t, tc.method, tc.path, tc.url, tc.token, tc.contentType, tc.body, tc.want)
			if tc.wantCode != "" {
				if got := oaMap(body, "error")["code"]; got != tc.wantCode {
					t.Errorf("error code %v, want %s", got, tc.wantCode)
				}
			}
			// A token refused carries the challenge (a refused login does not: it is no token).
			if w.Code == http.StatusUnauthorized && tc.path != login && w.Header().Get("WWW-Authenticate") == "" {
				t.Error("401 without WWW-Authenticate")
			}
		})
	}

	// The rooms list carries the optional parts too (agent, device state, actions), so the
	// schema check above saw them.
	w := f.do("GET", rooms, tech, "", "")
	var list []registry.RoomView
	if err := json.Unmarshal(w.Body.Bytes(), &list); err != nil || len(list) != 1 || list[0].Agent == nil || len(list[0].Devices) != 2 {
		t.Fatalf("rooms = %s (%v)", w.Body.String(), err)
	}

	// A logged-in token logs out once: 204 with no body, then 401.
	w = f.do("POST", login, "", appJSON, `{"user":"judge","password":"`+oaPassword+`"}`)
	var lr loginResponse
	if err := json.Unmarshal(w.Body.Bytes(), &lr); err != nil || lr.Token == "" {
		t.Fatalf("login: %s", w.Body.String())
	}
	w = f.do("POST", logout, lr.Token, "", "")
	if w.Code != http.StatusNoContent {
		t.Fatalf("logout: %d %s", w.Code, w.Body.String())
	}
	f.checkResponse(t, "POST", logout, w)
	if w = f.do("GET", rooms, lr.Token, "", ""); w.Code != http.StatusUnauthorized {
		t.Fatalf("after logout: %d", w.Code)
	}
}

// Every contract error code a command can end with has a documented status for the command
// route, and the Error schema lists every code.
func TestOpenAPICommandStatuses(t *testing.T) {
	s := loadOASpec(t)
	op := s.operation(t, "POST", "/api/v1/rooms/{site}/{room}/devices/{device}/commands")
	for _, code := range wire.Codes {
		st := statusOf(code)
		if s.response(t, op, st) == nil {
			t.Errorf("code %s maps to %d, which the command route does not document", code, st)
		}
	}
	enum, _ := oaMap(s.root, "components", "schemas", "Error", "properties", "error", "properties", "code")["enum"].([]any)
	have := map[string]bool{}
	for _, e := range enum {
		have[fmt.Sprint(e)] = true
	}
	for _, c := range append([]string{"bad_request", "unauthorized", "not_found", "internal"}, wire.Codes...) {
		if !have[c] {
			t.Errorf("the Error schema's code enum lacks %q", c)
		}
	}
	actions, _ := oaMap(s.root, "components", "schemas", "CommandRequest", "properties", "action")["enum"].([]any)
	var got []string
	for _, a := range actions {
		got = append(got, fmt.Sprint(a))
	}
	sort.Strings(got)
	if strings.Join(got, ",") != strings.Join(wire.ActionNames(), ",") {
		t.Errorf("CommandRequest actions %v, want %v", got, wire.ActionNames())
	}
}

// The event stream: token in the query, documented content type, and each event's envelope
// and data fit the documented schemas.
func TestOpenAPIEventStream(t *testing.T) {
	f := newOAFixture(t)
	ts := httptest.NewServer(f.handler)
	defer ts.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", ts.URL+"/api/v1/events?access_token="+f.tokens[auth.RoleMonitor], nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	op := f.spec.operation(t, "GET", "/api/v1/events")
	r := f.spec.response(t, op, resp.StatusCode)
	if resp.StatusCode != http.StatusOK || r == nil {
		t.Fatalf("events: status %d", resp.StatusCode)
	}
	if ct := resp.Header.Get("Content-Type"); oaMap(r, "content", ct) == nil {
		t.Fatalf("events: Content-Type %q is not documented", ct)
	}
	events := oaMap(op, "x-events")
	if len(events) == 0 {
		t.Fatal("events: no x-events in the OpenAPI file")
	}

	// Wait until the stream is open (its preamble), then make one event of each type the
	// registry sends.
	rd := bufio.NewReader(resp.Body)
	if line, err := rd.ReadString('\n'); err != nil || !strings.HasPrefix(line, "retry: ") {
		t.Fatalf("first line %q, %v", line, err)
	}
	now := time.Now().UTC().Format(time.RFC3339Nano)
	f.reg.Handle(wire.DeviceTopic(oaSite, oaRoom, oaDevice, wire.KindState),
		[]byte(`{"reachable":false,"state":{"power":"on"},"error":"connection refused","at":"`+now+`"}`)) // state + alarm
	f.reg.Handle(wire.DeviceTopic(oaSite, oaRoom, oaDevice, wire.KindEvent), []byte(`{"type":"button","pin":"GPIO4"}`))
	f.reg.Handle(wire.RoomTopic(oaSite, oaRoom, wire.KindMeter), []byte(`{"levels":{"mic-1/1":-20.5},"at":"`+now+`"}`))
	f.makeHearingEvents(t) // scene, privacy, hearing, recording (while the agent is online)
	f.reg.Handle(wire.RoomTopic(oaSite, oaRoom, wire.KindAgent),
		[]byte(`{"online":false,"agent":"agent/demo-court/courtroom-1","version":"test","seq":7,"at":"`+now+`"}`)) // agent + alarm
	// The hub's firmware rollouts publish on the same feed (internal/hub.RolloutView).
	var rollout any
	json.Unmarshal([]byte(`{"id":"ro-1","image":"fw-1","device_type":"tally-light","version":"1.1.0",
		"request":{"site":"demo-court","room":"courtroom-1","all":true},"state":"running","by":"tech",
		"created":"`+now+`","updated":"`+now+`","devices":[{"site":"demo-court","room":"courtroom-1","device":"tally-1",
		"from":"1.0.0","step":"downloading","percent":40,"updated":"`+now+`"}]}`), &rollout)
	f.feed.Publish("firmware-rollout", rollout)
	f.feed.Publish("queue", queue.Event{Site: oaSite, Room: "litigation-hall", Action: "called", Window: "w1",
		Ticket: &queue.Ticket{Number: "A001", Service: "A", ServiceName: "Filing", State: queue.Called, Window: "w1",
			Issued: time.Now().UTC(), Called: time.Now().UTC(), Calls: 1}, Waiting: map[string]int{"A": 2}})
	f.feed.Publish("program", map[string]any{"site": oaSite, "room": oaRoom, "follow": true, "camera": "bench-cam", "by": "follow", "mic": "mics-ceiling/1"})
	// A config pushed (internal/hub's provisioning) tells the feed, for the other hubs.
	f.feed.Publish("room-config", map[string]any{"site": oaSite, "room": oaRoom, "revision": 2, "by": "tech"})

	seen := map[string]bool{}
	var id, typ string
	for len(seen) < len(events) {
		line, err := rd.ReadString('\n')
		if err != nil {
			t.Fatalf("stream ended after %v: %v", seen, err)
		}
		line = strings.TrimRight(line, "\n")
		switch {
		case strings.HasPrefix(line, "id: "):
			id = strings.TrimPrefix(line, "id: ")
		case strings.HasPrefix(line, "event: "):
			typ = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: "):
			var env map[string]any
			if err := json.Unmarshal([]byte(strings.TrimPrefix(line, "data: ")), &env); err != nil {
				t.Fatalf("data line %q: %v", line, err)
			}
			for _, e := range f.spec.check(t, map[string]any{"$ref": "#/components/schemas/EventEnvelope"}, env, "envelope") {
				t.Error(e)
			}
			if fmt.Sprint(env["type"]) != typ || fmt.Sprint(env["id"]) != id {
				t.Errorf("event %s/%s has envelope type %v id %v", id, typ, env["type"], env["id"])
			}
			ref, ok := events[typ].(string)
			if !ok {
				t.Fatalf("event type %q is not in x-events", typ)
			}
			for _, e := range f.spec.check(t, map[string]any{"$ref": ref}, env["data"], typ) {
				t.Error(e)
			}
			seen[typ] = true
		}
	}
}

// The documented command bodies agree with the hub's own check (wire.ParseArgs) on the
// edges of every action's args, so a client that validates against the file sends what the
// hub takes.
func TestOpenAPICommandArgs(t *testing.T) {
	s := loadOASpec(t)
	schema := map[string]any{"$ref": "#/components/schemas/CommandRequest"}
	lines := func(n int) string {
		return `{"lines":[` + strings.TrimSuffix(strings.Repeat(`"x",`, n), ",") + `]}`
	}
	cases := []struct{ action, args string }{
		{"power", `{"on":true}`}, {"power", `{}`}, {"power", `{"on":"yes"}`}, {"power", `{"on":true,"x":1}`}, {"power", ``},
		{"input", `{"source":"hdmi1"}`}, {"input", `{"source":""}`},
		{"input", `{"source":"` + strings.Repeat("a", 64) + `"}`}, {"input", `{"source":"` + strings.Repeat("a", 65) + `"}`},
		{"mute", `{"on":false}`}, {"mute", `{"on":true,"channel":"3"}`}, {"mute", `{"channel":"3"}`},
		{"gain", `{"db":-120}`}, {"gain", `{"db":60}`}, {"gain", `{"db":60.5}`}, {"gain", `{"db":-121}`}, {"gain", `{}`},
		{"preset", `{"recall":0}`}, {"preset", `{"store":255}`}, {"preset", `{"store":256}`}, {"preset", `{"recall":-1}`},
		{"preset", `{"recall":1,"store":2}`}, {"preset", `{}`}, {"preset", `{"recall":1.5}`},
		{"ptz", `{"pan":1,"tilt":-1,"zoom":0}`}, {"ptz", `{}`}, {"ptz", ``}, {"ptz", `null`}, {"ptz", `{"pan":1.01}`}, {"ptz", `{"zoom":-2}`},
		{"blank", `{"on":true}`}, {"blank", `{}`},
		{"route", `{"input":"1","output":"3"}`}, {"route", `{"input":"1","output":"3","kind":"audio"}`},
		{"route", `{"input":"1","output":"3","kind":"smell"}`}, {"route", `{"input":"1"}`}, {"route", `{"input":"","output":"3"}`},
		{"relay", `{"on":false}`}, {"relay", `{"on":null}`},
		{"pulse", `{"ms":1}`}, {"pulse", `{"ms":60000}`}, {"pulse", `{"ms":0}`}, {"pulse", `{"ms":60001}`}, {"pulse", `{}`},
		{"print", `{"number":"A017","service":"Filing"}`}, {"print", lines(1)}, {"print", lines(64)}, {"print", lines(65)},
		{"print", `{}`}, {"print", `{"number":""}`}, {"print", `{"lines":[]}`}, {"print", `{"number":"1","cut":true,"qr":"x"}`},
		{"refresh", ``}, {"refresh", `null`}, {"refresh", `{}`}, {"refresh", `{"x":1}`},
		{"explode", `{}`},
	}
	for _, tc := range cases {
		body := `{"action":"` + tc.action + `"`
		if tc.args != "" {
			body += `,"args":` + tc.args
		}
		body += "}"
		var v any
		if err := json.Unmarshal([]byte(body), &v); err != nil {
			t.Fatalf("%s: %v", body, err)
		}
		_, err := wire.ParseArgs(tc.action, json.RawMessage(tc.args))
		hubTakes := err == nil
		errs := s.check(t, schema, v, "body")
		if docTakes := len(errs) == 0; docTakes != hubTakes {
			t.Errorf("%s: the hub takes it: %v (%v); the OpenAPI schema takes it: %v %v", body, hubTakes, err, docTakes, errs)
		}
	}
}

// The examples in the file fit their own schemas, so what a reader copies is right.
func TestOpenAPIExamples(t *testing.T) {
	s := loadOASpec(t)
	n := 0
	checkMedia := func(where string, media map[string]any) {
		schema := oaMap(media, "schema")
		if schema == nil {
			return
		}
		var examples []any
		if ex, ok := media["example"]; ok {
			examples = append(examples, ex)
		}
		for _, ex := range oaMap(media, "examples") {
			if v, ok := ex.(map[string]any)["value"]; ok {
				examples = append(examples, v)
			}
		}
		for _, ex := range examples {
			// Through JSON, so that YAML's ints become JSON numbers as a client sees them.
			var v any
			b, err := json.Marshal(ex)
			if err == nil {
				err = json.Unmarshal(b, &v)
			}
			if err != nil {
				t.Fatalf("%s: example: %v", where, err)
			}
			for _, e := range s.check(t, schema, v, "example") {
				t.Errorf("%s: %s", where, e)
			}
			n++
		}
	}
	for _, op := range s.operations() {
		method, path, _ := strings.Cut(op, " ")
		o := s.operation(t, method, path)
		if rb := oaMap(o, "requestBody"); rb != nil {
			checkMedia(op+" request", oaMap(s.resolve(t, rb), "content", "application/json"))
		}
		for status, r := range oaMap(o, "responses") {
			checkMedia(op+" "+status, oaMap(s.resolve(t, r.(map[string]any)), "content", "application/json"))
		}
	}
	if n < 10 {
		t.Errorf("checked only %d examples", n)
	}
}

// oaRecordings is a recording service that knows one recording, "r1".
type oaRecordings struct{}

func (oaRecordings) view(id string) map[string]any {
	return map[string]any{"id": id, "site": "court", "room": "r1", "dir": "recordings/court/r1/" + id, "state": "recording", "started": "2026-11-29T10:00:00Z"}
}
func (r oaRecordings) Start(_ context.Context, site, room string) (any, error) {
	return r.view("r1"), nil
}
func (r oaRecordings) Stop(_ context.Context, id string) (any, error) {
	if id != "r1" {
		return nil, ErrNotFound
	}
	return r.view(id), nil
}
func (r oaRecordings) Get(ctx context.Context, id string) (any, error) { return r.Stop(ctx, id) }
func (r oaRecordings) List(context.Context, func(string) bool) any     { return []any{r.view("r1")} }

// oaInvites is an invite service that knows one invite, 0123456789abcdef.
type oaPrograms struct{}

func (oaPrograms) Program(_ context.Context, site, room string) (any, error) {
	if site != oaSite || room != oaRoom {
		return nil, fmt.Errorf("%w: room %s/%s has no program", ErrNotFound, site, room)
	}
	return map[string]any{"site": site, "room": room, "follow": true, "camera": "bench-cam", "showing": "bench-cam",
		"cameras": []string{"bench-cam", "witness-cam"}, "privacy": false}, nil
}

func (p oaPrograms) SetProgram(ctx context.Context, site, room string, req ProgramRequest, _ string) (any, error) {
	v, err := p.Program(ctx, site, room)
	if err != nil {
		return nil, err
	}
	m := v.(map[string]any)
	if req.Camera != "" {
		m["camera"], m["follow"] = req.Camera, false
	}
	if req.Follow != nil {
		m["follow"] = *req.Follow
	}
	return m, nil
}

type oaInvites struct{}

func (oaInvites) view(id string) map[string]any {
	return map[string]any{"id": id, "site": "demo-court", "room": "courtroom-1", "hearing": "h-1", "name": "A. Witness",
		"stream": "visitor-" + id, "created_by": "technician", "created": "2026-11-29T10:00:00Z", "expires": "2026-11-29T14:00:00Z", "state": "valid"}
}

func (i oaInvites) Create(_ context.Context, by string, req InviteRequest) (any, error) {
	v := i.view("0123456789abcdef")
	v["token"], v["link"] = "invite.x.y", "/join#invite.x.y"
	return v, nil
}

func (i oaInvites) List(context.Context, string, string) (any, error) {
	return []any{i.view("0123456789abcdef")}, nil
}

func (i oaInvites) Revoke(_ context.Context, _, id string) (any, error) {
	if id != "0123456789abcdef" {
		return nil, fmt.Errorf("no invite %s: %w", id, ErrNotFound)
	}
	v := i.view(id)
	v["state"], v["revoked"] = "revoked", "2026-11-29T11:00:00Z"
	return v, nil
}

func (i oaInvites) Self(_ context.Context, token string) (any, error) {
	if token != "invite.x.y" {
		return nil, fmt.Errorf("invite 0123456789abcdef is revoked: %w", ErrUnauthorized)
	}
	v := i.view("0123456789abcdef")
	for _, k := range []string{"created_by", "created", "state"} {
		delete(v, k)
	}
	v["streams"] = []any{map[string]any{"site": "demo-court", "room": "courtroom-1", "name": "program", "tracks": []any{},
		"viewers": 0, "since": "2026-11-29T10:00:00Z", "whep": "/whep/demo-court/courtroom-1/program"}}
	return v, nil
}

// oaFirmware is a firmware service that knows no image.
type oaFirmware struct{}

func (oaFirmware) Upload(context.Context, string, string, string, io.Reader, string) (any, error) {
	return nil, ErrBadRequest
}
func (oaFirmware) List(context.Context) (any, error)        { return []any{}, nil }
func (oaFirmware) Get(context.Context, string) (any, error) { return nil, ErrNotFound }
func (oaFirmware) Open(context.Context, string) (io.ReadSeekCloser, int64, error) {
	return nil, 0, ErrNotFound
}
func (oaFirmware) StartRollout(context.Context, string, json.RawMessage, string) (any, error) {
	return nil, ErrNotFound
}
func (oaFirmware) GetRollout(context.Context, string) (any, error) { return nil, ErrNotFound }
