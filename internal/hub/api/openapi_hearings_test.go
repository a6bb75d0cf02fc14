package api

// The OpenAPI checks of the scene, hearing, note and audit routes: real scene runner (over the
// real command router and the fake agent), real hearings service and audit log on a real
// in-memory store. Requests that succeed are checked against the documented request schema
// too, so the file and the server agree on what goes in as well as what comes out.

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/bailiff/bailiff/internal/config"
	"github.com/bailiff/bailiff/internal/hub/audit"
	"github.com/bailiff/bailiff/internal/hub/auth"
	"github.com/bailiff/bailiff/internal/hub/hearings"
	"github.com/bailiff/bailiff/internal/hub/registry"
	"github.com/bailiff/bailiff/internal/hub/scenes"
	"github.com/bailiff/bailiff/internal/store"
)

var oaScenes = []config.Scene{
	{Name: "start-hearing", Title: "Start hearing", Steps: []config.Step{
		{Device: oaDevice, Action: "power", Args: config.Args(`{"on":true}`)},
		{Hub: config.HubStartRecording},
	}},
	{Name: "end-hearing", OnError: config.OnErrorContinue, Steps: []config.Step{
		{Hub: config.HubStopRecording},
		{Device: oaDevice, Action: "power", Args: config.Args(`{"on":false}`)},
	}},
	// The display's blank is unreachable (the fake agent says so): the run fails but goes on.
	{Name: "privacy-on", Steps: []config.Step{
		{Parallel: []config.Step{
			{Device: oaDevice, Action: "power", Args: config.Args(`{"on":true}`)},
			{Device: "display", Action: "blank", Args: config.Args(`{"on":true}`), OnError: config.OnErrorContinue},
		}},
		{Hub: config.HubPrivacyOn},
	}},
	// The projector's refresh gets no ack (the fake agent's timeout): the run aborts.
	{Name: "check", Steps: []config.Step{
		{Device: oaDevice, Action: "refresh", Timeout: config.Duration(100 * time.Millisecond)},
		{Hub: config.HubPrivacyOff},
	}},
}

// oaHub does hub steps the way the hub does, publishing privacy and recording events.
type oaHub struct {
	feed *registry.Feed
	mu   sync.Mutex
	rec  map[string]string // site/room → recording ID
	n    int
}

func (h *oaHub) Do(_ context.Context, site, room, action, by string) (string, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	switch action {
	case config.HubStartRecording:
		if h.rec[site+"/"+room] == "" {
			h.n++
			h.rec[site+"/"+room] = "rec-" + string(rune('0'+h.n))
			h.feed.Publish("recording", map[string]any{"site": site, "room": room, "id": h.rec[site+"/"+room], "state": "recording"})
		}
	case config.HubStopRecording:
		if id := h.rec[site+"/"+room]; id != "" {
			delete(h.rec, site+"/"+room)
			h.feed.Publish("recording", map[string]any{"site": site, "room": room, "id": id, "state": "stopped"})
		}
	default:
		h.feed.Publish("privacy", map[string]any{"site": site, "room": room, "on": action == config.HubPrivacyOn, "by": by})
	}
	return "did " + action, nil
}

// Start, Stop and Active make it the hearings' recorder too.
func (h *oaHub) Start(ctx context.Context, site, room string) (string, error) {
	h.Do(ctx, site, room, config.HubStartRecording, "")
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.rec[site+"/"+room], nil
}
func (h *oaHub) Stop(ctx context.Context, id string) error {
	h.Do(ctx, oaSite, oaRoom, config.HubStopRecording, "")
	return nil
}
func (h *oaHub) Active(site, room string) (string, time.Time, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	id, ok := h.rec[site+"/"+room]
	return id, time.Now().Add(-time.Second), ok
}

func (f *oaFixture) wireHearings(t testing.TB, srv *Server, cmd scenes.Commander, judgeHash string) {
	t.Helper()
	st, err := store.Open(":memory:")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	for _, u := range []store.User{{Name: "judge", Role: auth.RoleJudge, Hash: judgeHash}, {Name: "clerk", Role: auth.RoleClerk, Hash: judgeHash}} {
		if err := st.PutUser(context.Background(), u); err != nil {
			t.Fatal(err)
		}
	}
	f.store = st
	h := &oaHub{feed: f.feed, rec: map[string]string{}}
	runner := &scenes.Runner{Commands: cmd, Hub: h, Timeout: 200 * time.Millisecond, Online: f.reg.Online,
		Room:   func(site, room string) (*config.Room, bool) { return f.room, site == oaSite && room == oaRoom },
		Report: func(r scenes.Run) { f.feed.Publish("scene", r) }}
	srv.Audit = &audit.Log{Store: st}
	srv.AuditLog = st
	srv.Scenes = runner
	srv.Hearings = &hearings.Service{Store: st, Scenes: runner, Recorder: h, Audit: srv.Audit, Publish: f.feed.Publish,
		RoomKnown: func(site, room string) bool { return site == oaSite && room == oaRoom }}
}

// makeHearingEvents makes one event of each type the scene runner and the hearings send.
func (f *oaFixture) makeHearingEvents(t *testing.T) {
	t.Helper()
	tech := f.tokens[auth.RoleTechnician]
	if w := f.do("POST", "/api/v1/rooms/"+oaSite+"/"+oaRoom+"/scenes/privacy-on", tech, "", ""); w.Code != 200 {
		t.Fatalf("privacy-on: %d %s", w.Code, w.Body)
	}
	w := f.do("POST", "/api/v1/hearings", tech, "application/json", `{"case":"CR-1","site":"`+oaSite+`","room":"`+oaRoom+`","judge":"judge"}`)
	if w.Code != 201 {
		t.Fatalf("create: %d %s", w.Code, w.Body)
	}
	if w := f.do("POST", "/api/v1/rooms/"+oaSite+"/"+oaRoom+"/scenes/start-hearing", tech, "", ""); w.Code != 200 {
		t.Fatalf("start-hearing: %d %s", w.Code, w.Body)
	}
}

// checkRequest checks a request body against the operation's documented request schema.
func (f *oaFixture) checkRequest(t *testing.T, method, path, body string) {
	t.Helper()
	rb := oaMap(f.spec.operation(t, method, path), "requestBody")
	if rb == nil {
		if body != "" {
			t.Errorf("%s %s: sent a body, but none is documented", method, path)
		}
		return
	}
	if body == "" {
		if req, _ := rb["required"].(bool); req {
			t.Errorf("%s %s: the body is documented as required, and the server took none", method, path)
		}
		return
	}
	schema := oaMap(f.spec.resolve(t, rb), "content", "application/json", "schema")
	var v any
	if err := json.Unmarshal([]byte(body), &v); err != nil {
		t.Fatalf("%s: %v", body, err)
	}
	for _, e := range f.spec.check(t, schema, v, "request") {
		t.Errorf("%s %s: the server took %s, the documented schema does not: %s", method, path, body, e)
	}
}

func TestOpenAPIHearings(t *testing.T) {
	f := newOAFixture(t)
	tech, monitor, visitor := f.tokens[auth.RoleTechnician], f.tokens[auth.RoleMonitor], f.tokens[auth.RoleVisitor]
	// A judge's session, for sealed hearings.
	w := f.do("POST", "/api/v1/login", "", "application/json", `{"user":"judge","password":"`+oaPassword+`"}`)
	var lr loginResponse
	json.Unmarshal(w.Body.Bytes(), &lr)
	judge := lr.Token
	const (
		appJSON   = "application/json"
		scenesP   = "/api/v1/rooms/{site}/{room}/scenes"
		sceneP    = "/api/v1/rooms/{site}/{room}/scenes/{scene}"
		hearingsP = "/api/v1/hearings"
		hearingP  = "/api/v1/hearings/{id}"
		notesP    = "/api/v1/hearings/{id}/notes"
		auditP    = "/api/v1/audit"
		verifyP   = "/api/v1/audit/verify"
	)
	scene := func(name string) string { return "/api/v1/rooms/" + oaSite + "/" + oaRoom + "/scenes/" + name }
	var id, sealed string
	hearing := func(suffix string) func() string {
		return func() string { return "/api/v1/hearings/" + id + suffix }
	}
	sealedURL := func(suffix string) func() string {
		return func() string { return "/api/v1/hearings/" + sealed + suffix }
	}
	fixed := func(u string) func() string { return func() string { return u } }
	create := `{"case":"CR-2026-0117","title":"State v. Doe","site":"demo-court","room":"courtroom-1","judge":"judge","parties":[{"name":"State","role":"prosecution"}],"scheduled":"2026-11-29T09:00:00Z"}`
	tests := []struct {
		name                     string
		method, path             string
		url                      func() string
		token, contentType, body string
		want                     int
		wantCode                 string
		after                    func(body any)
	}{
		{"scenes", "GET", scenesP, fixed("/api/v1/rooms/demo-court/courtroom-1/scenes"), monitor, "", "", 200, "", nil},
		{"scenes of no room", "GET", scenesP, fixed("/api/v1/rooms/demo-court/nowhere/scenes"), monitor, "", "", 404, "not_found", nil},
		{"scenes visitor", "GET", scenesP, fixed("/api/v1/rooms/demo-court/courtroom-1/scenes"), visitor, "", "", 403, "forbidden", nil},
		{"scene partly failing", "POST", sceneP, fixed(scene("privacy-on")), tech, "", "", 200, "", func(b any) {
			m := b.(map[string]any)
			if m["ok"] != false || m["aborted"] != nil || len(m["steps"].([]any)) != 3 {
				t.Errorf("privacy-on: %v", m)
			}
		}},
		{"scene aborted", "POST", sceneP, fixed(scene("check")), tech, "", "", 200, "", func(b any) {
			steps := b.(map[string]any)["steps"].([]any)
			if b.(map[string]any)["aborted"] != true || steps[1].(map[string]any)["skipped"] != true {
				t.Errorf("check: %v", b)
			}
		}},
		{"scene unknown", "POST", sceneP, fixed(scene("dance")), tech, "", "", 404, "not_found", nil},
		{"scene bad body", "POST", sceneP, fixed(scene("privacy-on")), tech, appJSON, `{"hearing":"x","y":1}`, 400, "bad_request", nil},
		{"scene hearing with the wrong scene", "POST", sceneP, fixed(scene("privacy-on")), tech, appJSON, `{"hearing":"0123456789abcdef01234567"}`, 400, "bad_request", nil},
		{"scene no such hearing", "POST", sceneP, fixed(scene("start-hearing")), tech, appJSON, `{"hearing":"0123456789abcdef01234567"}`, 404, "not_found", nil},
		{"scene monitor", "POST", sceneP, fixed(scene("privacy-on")), monitor, "", "", 403, "forbidden", nil},
		{"create", "POST", hearingsP, fixed(hearingsP), tech, appJSON, create, 201, "", func(b any) { id = b.(map[string]any)["id"].(string) }},
		{"create sealed", "POST", hearingsP, fixed(hearingsP), tech, appJSON, `{"case":"CR-9","site":"demo-court","room":"courtroom-1","judge":"judge","access":"sealed"}`, 201, "", func(b any) { sealed = b.(map[string]any)["id"].(string) }},
		{"create bad", "POST", hearingsP, fixed(hearingsP), tech, appJSON, `{"case":"","site":"Demo","room":"courtroom-1","access":"secret"}`, 400, "bad_request", nil},
		{"create judge not a judge", "POST", hearingsP, fixed(hearingsP), tech, appJSON, `{"case":"X","site":"demo-court","room":"courtroom-1","judge":"clerk"}`, 400, "bad_request", nil},
		{"create no room", "POST", hearingsP, fixed(hearingsP), tech, appJSON, `{"case":"X","site":"demo-court","room":"nowhere","judge":"judge"}`, 400, "bad_request", nil},
		{"create monitor", "POST", hearingsP, fixed(hearingsP), monitor, appJSON, create, 403, "forbidden", nil},
		{"list", "GET", hearingsP, fixed(hearingsP + "?site=demo-court&date=2026-11-29"), monitor, "", "", 200, "", func(b any) {
			if l := b.([]any); len(l) != 1 || l[0].(map[string]any)["id"] != id {
				t.Errorf("the monitor's list: %v", l)
			}
		}},
		{"list bad date", "GET", hearingsP, fixed(hearingsP + "?date=29.11.2026"), monitor, "", "", 400, "bad_request", nil},
		{"list unknown parameter", "GET", hearingsP, fixed(hearingsP + "?judge=x"), monitor, "", "", 400, "bad_request", nil},
		{"get", "GET", hearingP, hearing(""), monitor, "", "", 200, "", nil},
		{"get sealed monitor", "GET", hearingP, sealedURL(""), monitor, "", "", 403, "forbidden", nil},
		{"get sealed judge", "GET", hearingP, sealedURL(""), judge, "", "", 200, "", nil},
		{"get bad ID", "GET", hearingP, fixed("/api/v1/hearings/xyz"), monitor, "", "", 400, "bad_request", nil},
		{"get unknown", "GET", hearingP, fixed("/api/v1/hearings/0123456789abcdef01234567"), monitor, "", "", 404, "not_found", nil},
		{"note before the start", "POST", notesP, hearing("/notes"), tech, appJSON, `{"text":"early"}`, 409, "conflict", nil},
		{"start", "POST", "/api/v1/hearings/{id}/start", hearing("/start"), tech, "", "", 200, "", func(b any) {
			h := b.(map[string]any)["hearing"].(map[string]any)
			if h["state"] != "in-session" || len(h["recordings"].([]any)) != 1 || b.(map[string]any)["scene"] == nil {
				t.Errorf("start: %v", b)
			}
		}},
		{"start again", "POST", "/api/v1/hearings/{id}/start", hearing("/start"), tech, "", "", 409, "conflict", nil},
		{"start sealed too", "POST", "/api/v1/hearings/{id}/start", sealedURL("/start"), judge, "", "", 409, "conflict", nil},
		{"note", "POST", notesP, hearing("/notes"), tech, appJSON, `{"text":"Witness sworn in"}`, 201, "", nil},
		{"note blank", "POST", notesP, hearing("/notes"), tech, appJSON, `{"text":"  "}`, 400, "bad_request", nil},
		{"note monitor", "POST", notesP, hearing("/notes"), monitor, appJSON, `{"text":"x"}`, 403, "forbidden", nil},
		{"notes", "GET", notesP, hearing("/notes"), monitor, "", "", 200, "", func(b any) {
			if m := b.(map[string]any); m["verified"] != true || len(m["notes"].([]any)) != 1 {
				t.Errorf("notes: %v", m)
			}
		}},
		{"pause", "POST", "/api/v1/hearings/{id}/pause", hearing("/pause"), tech, "", "", 200, "", nil},
		{"resume", "POST", "/api/v1/hearings/{id}/resume", hearing("/resume"), tech, "", "", 200, "", nil},
		{"end by the scene", "POST", sceneP, fixed(scene("end-hearing")), tech, "", "", 200, "", func(b any) {
			h := b.(map[string]any)["hearing"].(map[string]any)
			if h["id"] != id || h["state"] != "ended" || len(h["recordings"].([]any)) != 2 {
				t.Errorf("end-hearing: %v", b)
			}
		}},
		{"end again", "POST", "/api/v1/hearings/{id}/end", hearing("/end"), tech, "", "", 409, "conflict", nil},
		{"resume ended", "POST", "/api/v1/hearings/{id}/resume", hearing("/resume"), tech, "", "", 409, "conflict", nil},
		{"audit", "GET", auditP, fixed(auditP + "?limit=5"), tech, "", "", 200, "", func(b any) {
			if m := b.(map[string]any); len(m["entries"].([]any)) != 5 || m["next"] == nil {
				t.Errorf("audit page: %v", m)
			}
		}},
		{"audit filtered", "GET", auditP, fixed(auditP + "?action=hearing-start&target=" + oaSite), tech, "", "", 200, "", nil},
		{"audit bad limit", "GET", auditP, fixed(auditP + "?limit=0"), tech, "", "", 400, "bad_request", nil},
		{"audit bad from", "GET", auditP, fixed(auditP + "?from=yesterday"), tech, "", "", 400, "bad_request", nil},
		{"audit judge", "GET", auditP, fixed(auditP), judge, "", "", 403, "forbidden", nil},
		{"audit verify", "GET", verifyP, fixed(verifyP), tech, "", "", 200, "", func(b any) {
			if m := b.(map[string]any); m["ok"] != true || m["entries"].(float64) < 5 {
				t.Errorf("verify: %v", m)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := f.do(tc.method, tc.url(), tc.token, tc.contentType, tc.body)
			if w.Code != tc.want {
				t.Fatalf("status %d, want %d; body %s", w.Code, tc.want, w.Body.String())
			}
			body := f.checkResponse(t, tc.method, tc.path, w)
			if tc.wantCode != "" {
				if got := oaMap(body, "error")["code"]; got != tc.wantCode {
					t.Errorf("error code %v, want %s", got, tc.wantCode)
				}
			}
			if w.Code < 300 {
				f.checkRequest(t, tc.method, tc.path, tc.body)
			}
			if tc.after != nil {
				tc.after(body)
			}
		})
	}
}
