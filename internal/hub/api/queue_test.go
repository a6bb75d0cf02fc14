package api

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bailiff/bailiff/internal/config"
	"github.com/bailiff/bailiff/internal/hub/auth"
	"github.com/bailiff/bailiff/internal/hub/queue"
	"github.com/bailiff/bailiff/internal/hub/registry"
	"github.com/bailiff/bailiff/internal/store"
	"github.com/bailiff/bailiff/internal/testutil/fuzzseed"
	"github.com/bailiff/bailiff/internal/wire"
)

const queueHall = `site: demo-court
room: hall
kind: litigation-hall
name: Hall
devices:
  - {id: printer, driver: escpos, address: 127.0.0.1:9100}
queue:
  printers: [printer]
  services:
    - {id: A, name: Filing, names: {zh: 立案}}
    - {id: B, name: Payments}
  windows:
    - {id: w1, name: Window 1, services: [A, B]}
    - {id: w2, name: Window 2, services: [B]}
`

// queueFixture is the API over a real queue on a real store, checked against the OpenAPI file.
type queueFixture struct {
	*oaFixture
	m *queue.Manager
}

func newQueueFixture(t testing.TB) *queueFixture {
	t.Helper()
	r, err := config.ParseRoom("hall.yaml", []byte(queueHall))
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(filepath.Join(t.TempDir(), "hub.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	feed := registry.NewFeed(64)
	m, err := queue.New(context.Background(), []*config.Room{r}, queue.Options{Store: st,
		Log:    slog.New(slog.NewTextHandler(io.Discard, nil)),
		Notify: func(e queue.Event) { feed.Publish("queue", e) },
		Print:  func(context.Context, string, string, string, wire.PrintArgs) error { return nil }})
	if err != nil {
		t.Fatal(err)
	}
	var spec *oaSpec
	if tt, ok := t.(*testing.T); ok {
		spec = loadOASpec(tt)
	}
	ust := &oaStore{users: map[string]store.User{}, sessions: map[string]store.Session{}}
	f := &oaFixture{spec: spec, feed: feed, tokens: map[string]string{}, reg: registry.New(feed, nil)}
	f.reg.SetRooms([]*config.Room{r})
	srv := &Server{Store: ust, Registry: f.reg, Feed: feed, Queues: m, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	f.handler = srv.Handler()
	for _, role := range []string{auth.RoleTechnician, auth.RoleClerk, auth.RoleMonitor, auth.RoleVisitor, auth.RoleKiosk, auth.RoleJudge} {
		tok := auth.NewSecret()
		ust.sessions[auth.HashSecret(tok)] = store.Session{TokenHash: auth.HashSecret(tok), User: role, Role: role, Expires: time.Now().Add(time.Hour)}
		f.tokens[role] = tok
	}
	return &queueFixture{oaFixture: f, m: m}
}

func TestQueueAPI(t *testing.T) {
	f := newQueueFixture(t)
	const (
		base    = "/api/v1/queues/{site}/{room}"
		tickets = base + "/tickets"
		ticket  = base + "/tickets/{number}"
		stats   = base + "/stats"
		win     = base + "/windows/{window}/"
		appJSON = "application/json"
	)
	clerk, kiosk, monitor, judge := f.tokens[auth.RoleClerk], f.tokens[auth.RoleKiosk], f.tokens[auth.RoleMonitor], f.tokens[auth.RoleJudge]
	u := func(p string) string {
		return strings.NewReplacer("{site}", "demo-court", "{room}", "hall", "{window}", "w1", "{number}", "A001").Replace(p)
	}
	tests := []struct {
		name                     string
		method, path, url        string
		token, contentType, body string
		want                     int
		wantNumber               string
	}{
		{"list", "GET", "/api/v1/queues", "/api/v1/queues", kiosk, "", "", 200, ""},
		{"issue by kiosk", "POST", tickets, u(tickets), kiosk, appJSON, `{"service":"A"}`, 201, "A001"},
		{"issue printed", "POST", tickets, u(tickets), clerk, appJSON, `{"service":"A","printer":"printer"}`, 201, "A002"},
		{"issue priority B", "POST", tickets, u(tickets), clerk, "", `{"service":"B","priority":true}`, 201, "B001"},
		{"issue priority by kiosk", "POST", tickets, u(tickets), kiosk, appJSON, `{"service":"A","priority":true}`, 403, ""},
		{"issue unknown service", "POST", tickets, u(tickets), kiosk, appJSON, `{"service":"Z"}`, 404, ""},
		{"issue bad service", "POST", tickets, u(tickets), kiosk, appJSON, `{"service":"a b"}`, 400, ""},
		{"issue no printer", "POST", tickets, u(tickets), kiosk, appJSON, `{"service":"A","printer":"nope"}`, 400, ""},
		{"issue unknown member", "POST", tickets, u(tickets), kiosk, appJSON, `{"service":"A","vip":1}`, 400, ""},
		{"issue judge", "POST", tickets, u(tickets), judge, appJSON, `{"service":"A"}`, 403, ""},
		{"issue monitor", "POST", tickets, u(tickets), monitor, appJSON, `{"service":"A"}`, 403, ""},
		{"issue no queue", "POST", tickets, "/api/v1/queues/demo-court/courtroom-1/tickets", kiosk, appJSON, `{"service":"A"}`, 404, ""},
		{"issue bad room", "POST", tickets, "/api/v1/queues/demo-court/Hall/tickets", kiosk, appJSON, `{"service":"A"}`, 400, ""},
		{"ticket", "GET", ticket, u(ticket), kiosk, "", "", 200, "A001"},
		{"ticket bad number", "GET", ticket, u(base) + "/tickets/a-1", kiosk, "", "", 400, ""},
		{"ticket unknown", "GET", ticket, u(base) + "/tickets/A999", kiosk, "", "", 404, ""},
		{"call next by kiosk", "POST", win + "call-next", u(win + "call-next"), kiosk, "", "", 403, ""},
		{"call next priority", "POST", win + "call-next", u(win + "call-next"), clerk, "", "", 200, "B001"},
		{"recall", "POST", win + "recall", u(win + "recall"), clerk, appJSON, `{}`, 200, "B001"},
		{"no-show", "POST", win + "no-show", u(win + "no-show"), clerk, "", "", 200, "B001"},
		{"no-show nothing called", "POST", win + "no-show", u(win + "no-show"), clerk, "", "", 409, ""},
		{"call next", "POST", win + "call-next", u(win + "call-next"), clerk, appJSON, "", 200, "A001"},
		{"recall the no-show", "POST", win + "recall", u(win + "recall"), clerk, appJSON, `{"number":"B001"}`, 200, "B001"},
		{"transfer", "POST", win + "transfer", u(win + "transfer"), clerk, appJSON, `{"service":"A"}`, 200, "B001"},
		{"transfer without service", "POST", win + "transfer", u(win + "transfer"), clerk, appJSON, `{}`, 400, ""},
		{"call next transferred", "POST", win + "call-next", u(win + "call-next"), clerk, "", "", 200, "B001"},
		{"complete", "POST", win + "complete", u(win + "complete"), f.tokens[auth.RoleTechnician], "", "", 200, "B001"},
		{"complete nothing called", "POST", win + "complete", u(win + "complete"), clerk, "", "", 409, ""},
		{"call next unknown window", "POST", win + "call-next", u(base) + "/windows/w9/call-next", clerk, "", "", 404, ""},
		{"call next body", "POST", win + "call-next", u(win + "call-next"), clerk, appJSON, `{"x":1}`, 400, ""},
		{"live", "GET", base, u(base), monitor, "", "", 200, ""},
		{"live visitor", "GET", base, u(base), f.tokens[auth.RoleVisitor], "", "", 403, ""},
		{"stats", "GET", stats, u(stats), monitor, "", "", 200, ""},
		{"stats dates", "GET", stats, u(stats) + "?from=2026-01-01&to=2026-01-31", monitor, "", "", 200, ""},
		{"stats bad", "GET", stats, u(stats) + "?from=yesterday", monitor, "", "", 400, ""},
		{"stats kiosk", "GET", stats, u(stats), kiosk, "", "", 403, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, body := f.expect(t, tc.method, tc.path, tc.url, tc.token, tc.contentType, tc.body, tc.want)
			if tc.wantNumber != "" {
				if got := oaMap(body)["number"]; got != tc.wantNumber {
					t.Errorf("number %v, want %s", got, tc.wantNumber)
				}
			}
		})
	}
	// The live queue shows what happened: A002 waits, nothing is called, B001 served.
	w := f.do("GET", u(base), monitor, "", "")
	var live queue.Live
	if err := json.Unmarshal(w.Body.Bytes(), &live); err != nil {
		t.Fatal(err)
	}
	if len(live.Services[0].Waiting) != 1 || live.Services[0].Waiting[0].Number != "A002" || live.Windows[0].Current != nil ||
		live.Recent[0].Number != "B001" || live.Recent[0].State != queue.Served || live.Services[0].Names["zh"] != "立案" {
		t.Errorf("live queue: %s", w.Body.String())
	}
	w = f.do("GET", u(stats), monitor, "", "")
	var st queue.Stats
	json.Unmarshal(w.Body.Bytes(), &st)
	if st.Total.Tickets != 3 || st.Total.Served != 2 || st.Total.NoShows != 0 {
		t.Errorf("stats: %s", w.Body.String())
	}
}

// queueRoutes are the queue's POST routes the fuzz target drives, by index.
var queueRoutes = []string{"tickets", "windows/w1/call-next", "windows/w1/recall", "windows/w1/no-show", "windows/w1/transfer", "windows/w1/complete"}

// queueSeeds are the fuzz target's seed bodies: route index and body.
var queueSeeds = []struct {
	name  string
	route uint8
	body  string
}{
	{"issue", 0, `{"service":"A"}`},
	{"issue-priority-printed", 0, `{"service":"B","priority":true,"printer":"printer"}`},
	{"issue-unknown-service", 0, `{"service":"Q"}`},
	{"issue-bad-printer", 0, `{"service":"A","printer":"../x"}`},
	{"issue-number-service", 0, `{"service":1}`},
	{"issue-trailing", 0, `{"service":"A"} {}`},
	{"call-next-empty", 1, ``},
	{"call-next-object", 1, `{}`},
	{"recall-number", 2, `{"number":"A001"}`},
	{"recall-long", 2, `{"number":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}`},
	{"no-show", 3, ``},
	{"transfer", 4, `{"service":"B"}`},
	{"transfer-null", 4, `null`},
	{"complete-array", 5, `[]`},
	{"unicode", 0, `{"service":"立案"}`},
}

// FuzzQueueRequest sends arbitrary bodies to the queue's POST routes: every answer is a
// documented status with a JSON body, a clear error for a 4xx, never a 5xx or a panic, and a
// ticket is only ever issued for a configured service.
func FuzzQueueRequest(f *testing.F) {
	fx := newQueueFixture(f)
	f.Fuzz(func(t *testing.T, route uint8, body string) {
		path := "/api/v1/queues/demo-court/hall/" + queueRoutes[int(route)%len(queueRoutes)]
		req := httptest.NewRequest("POST", path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+fx.tokens[auth.RoleClerk])
		w := httptest.NewRecorder()
		fx.handler.ServeHTTP(w, req)
		if w.Code >= 500 {
			t.Fatalf("%s %q → %d %s", path, body, w.Code, w.Body)
		}
		var out map[string]any
		if err := json.Unmarshal(w.Body.Bytes(), &out); err != nil {
			t.Fatalf("%s %q → %d non-JSON %q", path, body, w.Code, w.Body)
		}
		switch {
		case w.Code == http.StatusOK || w.Code == http.StatusCreated:
			if s, _ := out["service"].(string); s != "A" && s != "B" {
				t.Fatalf("%s %q → a ticket of service %q", path, body, s)
			}
		default:
			e, _ := out["error"].(map[string]any)
			if e == nil || e["code"] == "" || e["message"] == "" {
				t.Fatalf("%s %q → %d without a clear error: %s", path, body, w.Code, w.Body)
			}
		}
	})
}

// TestQueueSeedCorpus checks the seeds of FuzzQueueRequest under testdata/fuzz; run
// go test ./internal/hub/api -run TestQueueSeedCorpus -update-corpus to write them.
func TestQueueSeedCorpus(t *testing.T) {
	c := fuzzseed.Corpus{}
	for _, s := range queueSeeds {
		c.Add("FuzzQueueRequest", s.name, s.route, s.body)
	}
	fuzzseed.Check(t, c)
}
