package integration

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bailiff/bailiff/drivers/pjlink/pjlinksim"
	"github.com/bailiff/bailiff/internal/hub"
	"github.com/bailiff/bailiff/internal/testutil"
)

// shareGroup makes a hub one of the group "court-hubs" on PostgreSQL at dsn (its broker is
// the env's mosquitto).
func shareGroup(dsn string) func(*hub.Options) {
	return func(o *hub.Options) {
		onPostgres(dsn)(o)
		o.External.ShareGroup = "court-hubs"
	}
}

// twoHubs starts two hubs of one share group on one mosquitto and one PostgreSQL, with rooms
// r1 and r2 and their agents. The first is a's own hub; the second is reached through b (its
// API only: the agents, simulators and broker are a's).
func twoHubs(t *testing.T) (a, b *env) {
	t.Helper()
	a = newEnvWith(t, 2, true, shareGroup(postgresDSN(t)))
	return a, secondHub(a)
}

// secondHub starts another hub with a's options, its own HTTP listener and data directory.
func secondHub(a *env) *env {
	t := a.t
	o := a.hubOptions()
	o.HTTPListen, o.DataDir = testutil.FreePort(t), filepath.Join(t.TempDir(), "data")
	hb, err := hub.New(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(hb.Close)
	return &env{t: t, httpAddr: hb.HTTPAddr(), hub: hb, rooms: a.rooms, sims: a.sims}
}

// Two hubs share one broker and one database: either answers any API call (a login on one
// is a session on the other, both show every room), a command through either is acked once,
// on the hub that sent it, and the audit log both write stays one valid chain.
func TestTwoHubsShareBrokerAndStore(t *testing.T) {
	a, b := twoHubs(t)
	judge := a.login("judge") // logged in on A …
	for _, h := range []*env{a, b} {
		for _, room := range []string{"r1", "r2"} {
			testutil.Eventually(t, 10*time.Second, fmt.Sprintf("%s's display reachable on hub %s", room, h.httpAddr), func() bool {
				d := h.device(judge, room, "display") // … and the token works on B
				return d != nil && d["reachable"] == true && h.roomOnline(judge, room)
			})
		}
	}
	tech := b.login("tech") // and the other way round
	if st, _ := a.call("GET", "/api/v1/rooms", tech, nil); st != 200 {
		t.Fatalf("a session made on B, used on A: %d", st)
	}

	// Commands through both hubs at once, to both rooms.
	const each = 10
	var wg sync.WaitGroup
	for _, h := range []*env{a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				room := fmt.Sprintf("r%d", i%2+1)
				st, body := h.command(judge, room, "display", "refresh", nil)
				if st != 200 || body["ok"] != true {
					t.Errorf("command %d through %s: %d %v", i, h.httpAddr, st, body)
				}
			}
		}()
	}
	wg.Wait()
	// Each hub completed its own commands, once each, and saw the other's acks as the
	// other's: none late, none lost.
	for _, h := range []*env{a, b} {
		h.waitMetric("bailiff_acks_other_hubs_total", 5*time.Second, func(v float64) bool { return v == each })
		m := h.scrape()
		if m["bailiff_acks_late_total"] != 0 || m["bailiff_command_duration_seconds_count"] != each || m["bailiff_commands_pending"] != 0 {
			t.Errorf("hub %s: late acks %v, commands %v, pending %v; want 0, %d, 0", h.httpAddr,
				m["bailiff_acks_late_total"], m["bailiff_command_duration_seconds_count"], m["bailiff_commands_pending"], each)
		}
	}
	// One audit entry per command, whichever hub it went through; the chain both wrote holds.
	for _, h := range []*env{a, b} {
		st, page := h.call("GET", "/api/v1/audit?action=command&limit=1000", tech, nil)
		entries, _ := page["entries"].([]any)
		if st != 200 || len(entries) != 2*each {
			t.Errorf("command entries on %s: %d, %d; want %d", h.httpAddr, st, len(entries), 2*each)
		}
		st, v := h.call("GET", "/api/v1/audit/verify", tech, nil)
		if st != 200 || v["ok"] != true {
			t.Errorf("audit chain on %s: %d %v", h.httpAddr, st, v)
		}
	}
}

// A kiosk button pressed in a hall served by two hubs issues and prints one ticket: its event
// reaches the group's queues through the shared subscription, so one hub takes it.
func TestTwoHubsOneTicketPerPress(t *testing.T) {
	e := newHallWith(t, true, shareGroup(postgresDSN(t)))
	b := secondHub(e.env)
	mon := e.tokens["monitor"]
	for _, h := range []*env{e.env, b} {
		testutil.Eventually(t, 10*time.Second, "the hall online on "+h.httpAddr, func() bool { return h.roomOnline(mon, "hall") })
	}
	// Both hubs' shared subscriptions are in place before the hub is started (New waits
	// for its SUBACKs).
	e.button.Click(30*time.Millisecond, true)
	e.waitTickets(1)
	time.Sleep(300 * time.Millisecond) // room for a second ticket, were a hub to print one
	if n := len(e.printer.Tickets()); n != 1 {
		t.Fatalf("%d tickets printed for one press, want 1", n)
	}
	ts, err := e.hub.Store().QueueTicketsIssued(context.Background(), site, "hall", time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
	if err != nil || len(ts) != 1 || ts[0].Source != "button:button" {
		t.Fatalf("tickets stored: %+v %v", ts, err)
	}
}

// BenchmarkTwoHubsRoundTrip is the command round trip with two hubs of a share group on
// mosquitto and PostgreSQL: one client per hub, back to back, each to its own room. Every ack
// reaches both hubs.
func BenchmarkTwoHubsRoundTrip(b *testing.B) {
	a := newEnvWith(b, 2, true, shareGroup(postgresDSN(b)))
	hb := secondHub(a)
	judge := a.login("judge")
	for i, h := range []*env{a, hb} {
		room := fmt.Sprintf("r%d", i+1)
		testutil.Eventually(b, 10*time.Second, room+" reachable", func() bool {
			d := h.device(judge, room, "display")
			return d != nil && d["reachable"] == true
		})
	}
	var mu sync.Mutex
	var lat []time.Duration
	b.ResetTimer()
	var wg sync.WaitGroup
	for i, h := range []*env{a, hb} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			room := fmt.Sprintf("r%d", i+1)
			local := make([]time.Duration, 0, b.N/2+1)
			for n := i; n < b.N; n += 2 {
				start := time.Now()
				if st, body := h.command(judge, room, "display", "refresh", nil); st != 200 {
					b.Errorf("command: %d %v", st, body)
					return
				}
				local = append(local, time.Since(start))
			}
			mu.Lock()
			lat = append(lat, local...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	b.StopTimer()
	reportLatencies(b, lat)
}

// A room runs one scene at a time across the group: while a scene runs through hub A, the
// same room's scene through hub B is refused as busy (409), and runs once A's has ended.
func TestTwoHubsOneSceneAtATime(t *testing.T) {
	a, b := twoHubs(t)
	// The scene comes in a config pushed through A: B takes it from the store.
	tech := a.login("tech")
	_, cur := a.call("GET", "/api/v1/rooms/"+site+"/r1/config", tech, nil)
	text := cur["yaml"].(string) + "scenes:\n  - name: wake\n    steps:\n      - {device: display, action: refresh}\n"
	if st, body := a.sendYAML("PUT", "/api/v1/rooms/"+site+"/r1/config", tech, text); st != 200 {
		t.Fatalf("push the scene: %d %v", st, body)
	}
	judge := a.login("judge")
	testutil.Eventually(t, 10*time.Second, "hub B knows the pushed scene", func() bool {
		_, body := b.call("GET", "/api/v1/rooms/"+site+"/r1/config", tech, nil)
		_, scenes := b.call("GET", "/api/v1/rooms/"+site+"/r1/scenes", judge, nil)
		return body["revision"] == 2.0 && strings.Contains(fmt.Sprint(scenes), "wake")
	})
	for _, h := range []*env{a, b} {
		testutil.Eventually(t, 10*time.Second, "r1's display reachable on "+h.httpAddr, func() bool {
			d := h.device(judge, "r1", "display")
			return d != nil && d["reachable"] == true
		})
	}
	// The display is slow to answer: a run through A holds the room for a second.
	disp := a.sims["r1/display"]
	disp.SetDelay(time.Second)
	disp.SetMode(pjlinksim.Slow)
	path := "/api/v1/rooms/" + site + "/r1/scenes/wake"
	done := make(chan int, 1)
	go func() {
		st, _ := a.call("POST", path, judge, nil)
		done <- st
	}()
	// A's run has the room once its step's command is on its way.
	testutil.Eventually(t, 5*time.Second, "the scene's command pending on A", func() bool {
		return a.scrape()["bailiff_commands_pending"] >= 1
	})
	select {
	case st := <-done:
		t.Fatalf("the scene through A ended (%d) before B was asked", st)
	default:
	}
	if st, body := b.call("POST", path, judge, nil); st != 409 || !strings.Contains(errMessage(body), "another hub") {
		t.Fatalf("the same room's scene through B while A runs one: %d %v", st, body)
	}
	if st := <-done; st != 200 {
		t.Fatalf("the scene through A: %d", st)
	}
	disp.SetMode(pjlinksim.Normal)
	if st, body := b.call("POST", path, judge, nil); st != 200 {
		t.Fatalf("the scene through B once A's ended: %d %v", st, body)
	}
}

// Failed logins count across the group: a guesser who spreads tries over both hubs is locked
// out as on one (three on A and two on B lock the user on both), and a login resets the count.
func TestTwoHubsLoginLimitsShared(t *testing.T) {
	a, b := twoHubs(t)
	try := func(h *env, password string) int {
		st, _ := h.call("POST", "/api/v1/login", "", map[string]any{"user": "clerk", "password": password})
		return st
	}
	for i, h := range []*env{a, a, a, b, b} {
		if st := try(h, "guess"); st != 401 {
			t.Fatalf("guess %d: %d, want 401", i+1, st)
		}
	}
	for _, h := range []*env{a, b} {
		if st := try(h, "pw-clerk"); st != 429 {
			t.Errorf("the right password on %s after five guesses over both hubs: %d, want 429", h.httpAddr, st)
		}
	}
	// Another user is not locked, and its login clears its own count on both hubs.
	for i := range 4 {
		if st, _ := b.call("POST", "/api/v1/login", "", map[string]any{"user": "judge", "password": fmt.Sprint("guess", i)}); st != 401 {
			t.Fatalf("judge's guess %d: %d", i, st)
		}
	}
	if st, _ := a.call("POST", "/api/v1/login", "", map[string]any{"user": "judge", "password": "pw-judge"}); st != 200 {
		t.Fatalf("judge after four guesses: %d", st)
	}
	for i := range 4 {
		if st, _ := b.call("POST", "/api/v1/login", "", map[string]any{"user": "judge", "password": fmt.Sprint("again", i)}); st != 401 {
			t.Fatalf("judge's guess %d after a login: %d (the count was not reset)", i, st)
		}
	}
}
