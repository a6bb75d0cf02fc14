package integration

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bailiff/bailiff/internal/testutil"
	"github.com/bailiff/bailiff/internal/wire"
)

// What one hub of a share group does itself reaches the event streams of the other: a hearing
// started, a queue's ticket issued and called, an alarm raised and acknowledged through hub A
// are events on hub B's stream. Each arrives once: an alarm is raised by the group's leader
// only, and a hub never relays its own events back.
func TestTwoHubsEventsCrossHubs(t *testing.T) {
	e := newHallWith(t, true, shareGroup(postgresDSN(t)))
	a, b := e.env, secondHub(e.env)
	tech := e.tokens["tech"]
	for _, h := range []*env{a, b} {
		testutil.Eventually(t, 10*time.Second, "the hall online on "+h.httpAddr, func() bool { return h.roomOnline(tech, "hall") })
	}
	// A is the leader, which raises the alarms: everything below happens on A.
	testutil.Eventually(t, 5*time.Second, "one leader", func() bool { return leaders(a, b) == 1 })
	if b.hub.Leading() {
		a, b = b, a
	}
	onA, onB := a.openEvents(tech), b.openEvents(tech)

	// The hub feed is the hubs' own: an observer reading everything it may sees none of it,
	// and an agent's login cannot put an event on it.
	url := "tcp://" + e.mqttAddr
	obs := testutil.MustDial(t, url, "observer", "pw-observer", "obs-feed")
	defer obs.Disconnect(0)
	wide := testutil.MustSubscribe(t, obs, "bailiff/#", 1)
	feeds, feedErr := testutil.Subscribe(obs, wire.FilterHubsAll, 1)
	c := e.creds["hall"]
	forger := testutil.MustDial(t, url, c.Username, c.Password, "forger")
	defer forger.Disconnect(0)
	testutil.Publish(t, forger, wire.HubFeedTopic("deadbeef"), 1, false,
		`{"node":"deadbeef","seq":1,"type":"hearing","at":"2026-01-01T00:00:00Z","data":{"id":"forged","site":"court","room":"hall","state":"in-session"}}`)

	// A hearing started through A.
	judge := a.login("judge")
	st, hr := a.call("POST", "/api/v1/hearings", judge, map[string]any{"case": "XH-1", "site": site, "room": "hall"})
	if st != http.StatusCreated {
		t.Fatalf("create hearing: %d %v", st, hr)
	}
	id := hr["id"].(string)
	if st, body := a.call("POST", "/api/v1/hearings/"+id+"/start", judge, nil); st != http.StatusOK {
		t.Fatalf("start hearing: %d %v", st, body)
	}
	onB.wait(t, 5*time.Second, "the hearing started through A, on B", func(typ string, d map[string]any) bool {
		return typ == "hearing" && d["id"] == id && d["state"] == "in-session"
	})

	// A ticket issued and called through A.
	if st, body := a.call("POST", "/api/v1/queues/"+site+"/hall/tickets", e.tokens["kiosk"], map[string]any{"service": "B"}); st != http.StatusCreated {
		t.Fatalf("issue: %d %v", st, body)
	}
	if st, body := a.call("POST", "/api/v1/queues/"+site+"/hall/windows/w2/call-next", e.tokens["clerk"], nil); st != http.StatusOK || body["number"] != "B001" {
		t.Fatalf("call next: %d %v", st, body)
	}
	onB.wait(t, 5*time.Second, "the call through A, on B", func(typ string, d map[string]any) bool {
		tk, _ := d["ticket"].(map[string]any)
		return typ == "queue" && d["action"] == "called" && tk["number"] == "B001" && d["window"] == "w2"
	})

	// An alarm: the hall's agent goes away; A, the leader, raises agent-offline once, and both
	// streams show it once. Acknowledged through A, B shows that too.
	e.stopAgent("hall")
	var alarmID float64
	for _, s := range []*sse{onA, onB} {
		ev := s.wait(t, 10*time.Second, "agent-offline raised", func(typ string, d map[string]any) bool {
			return typ == "alarm" && d["kind"] == "agent-offline" && d["state"] == "raised"
		})
		alarmID = ev["data"].(map[string]any)["id"].(float64)
	}
	if st, body := a.call("POST", "/api/v1/alarms/"+strconv.Itoa(int(alarmID))+"/ack", tech, nil); st != http.StatusOK {
		t.Fatalf("ack: %d %v", st, body)
	}
	onB.wait(t, 5*time.Second, "the ack through A, on B", func(typ string, d map[string]any) bool {
		return typ == "alarm" && d["id"] == alarmID && d["state"] == "acked"
	})

	// Nothing twice: one "raised" per stream, one "called" on A's stream (not relayed back).
	time.Sleep(300 * time.Millisecond)
	for _, s := range []*sse{onA, onB} {
		if n := s.count(func(typ string, d map[string]any) bool {
			return typ == "alarm" && d["kind"] == "agent-offline" && d["state"] == "raised"
		}); n != 1 {
			t.Errorf("agent-offline raised %d times on one stream, want 1", n)
		}
		if n := s.count(func(typ string, d map[string]any) bool { return typ == "queue" && d["action"] == "called" }); n != 1 {
			t.Errorf("the call seen %d times on one stream, want 1", n)
		}
	}
	if n := onB.count(func(typ string, d map[string]any) bool { return d["id"] == "forged" }); n != 0 {
		t.Error("an agent's login put an event on the hub feed")
	}
	for _, m := range wide.Messages() {
		if strings.HasPrefix(m.Topic, wire.HubsPrefix) {
			t.Fatalf("an observer read the hub feed on %s", m.Topic)
		}
	}
	if feedErr == nil && len(feeds.Messages()) != 0 {
		t.Fatalf("an observer read %d messages of the hub feed", len(feeds.Messages()))
	}

	// What A sent, B relayed.
	ma, mb := a.scrape(), b.scrape()
	if ma["bailiff_hub_feed_sent_total"] < 4 || mb["bailiff_hub_feed_relayed_total"] < 4 ||
		ma["bailiff_hub_feed_dropped_total"]+mb["bailiff_hub_feed_dropped_total"] != 0 || ma["bailiff_leader"]+mb["bailiff_leader"] != 1 {
		t.Errorf("A sent %v, B relayed %v, dropped %v and %v, leaders %v", ma["bailiff_hub_feed_sent_total"], mb["bailiff_hub_feed_relayed_total"],
			ma["bailiff_hub_feed_dropped_total"], mb["bailiff_hub_feed_dropped_total"], ma["bailiff_leader"]+mb["bailiff_leader"])
	}
}

// count is how many of the events received so far match.
func (s *sse) count(match func(typ string, data map[string]any) bool) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, ev := range s.events {
		data, _ := ev["data"].(map[string]any)
		if typ, _ := ev["type"].(string); match(typ, data) {
			n++
		}
	}
	return n
}
