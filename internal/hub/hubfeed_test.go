package hub

import (
	"encoding/json"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/bailiff/bailiff/internal/hub/registry"
	"github.com/bailiff/bailiff/internal/testutil/fuzzseed"
	"github.com/bailiff/bailiff/internal/wire"
)

// hubFeedSeeds are messages on another hub's feed topic: node, payload.
var hubFeedSeeds = []struct{ name, node, payload string }{
	{"hearing", "3fa9c01e", `{"node":"3fa9c01e","seq":1,"type":"hearing","at":"2026-11-29T09:30:00Z","data":{"id":"h-1","site":"court","room":"r1","state":"in-session"}}`},
	{"queue", "3fa9c01e", `{"node":"3fa9c01e","seq":2,"type":"queue","at":"2026-11-29T09:30:01Z","data":{"site":"court","room":"hall","action":"called","waiting":{"A":1}}}`},
	{"own node", "0000aaaa", `{"node":"0000aaaa","seq":1,"type":"alarm","at":"2026-11-29T09:30:00Z","data":{}}`},
	{"node mismatch", "3fa9c01e", `{"node":"12345678","seq":1,"type":"alarm","at":"2026-11-29T09:30:00Z","data":{}}`},
	{"agent event", "3fa9c01e", `{"node":"3fa9c01e","seq":3,"type":"state","at":"2026-11-29T09:30:00Z","data":{}}`},
	{"no data", "3fa9c01e", `{"node":"3fa9c01e","seq":4,"type":"scene","at":"2026-11-29T09:30:00Z"}`},
	{"not json", "3fa9c01e", `{"node":`},
	{"bad data", "3fa9c01e", `{"node":"3fa9c01e","seq":5,"type":"scene","data":nul}`},
}

func TestSeedCorpus(t *testing.T) {
	c := fuzzseed.Corpus{}
	for _, s := range hubFeedSeeds {
		c.Add("FuzzHubFeedReceive", s.name, s.node, []byte(s.payload))
	}
	fuzzseed.Check(t, c)
}

// newTestHubFeed is a hub feed of node "0000aaaa" relaying into a feed of its own.
func newTestHubFeed() (*hubFeed, *registry.Feed) {
	feed := registry.NewFeed(64)
	h := &Hub{feed: feed, log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	return &hubFeed{h: h, node: "0000aaaa", last: map[string]uint64{}}, feed
}

// FuzzHubFeedReceive: whatever comes on another hub's feed topic, the hub relays at most one
// event, never of an agent's kind, never from its own node, with JSON data, and never the same
// node's sequence number twice.
func FuzzHubFeedReceive(f *testing.F) {
	for _, s := range hubFeedSeeds {
		f.Add(s.node, []byte(s.payload))
	}
	f.Fuzz(func(t *testing.T, node string, payload []byte) {
		hf, feed := newTestHubFeed()
		ch, stop := feed.Subscribe()
		defer stop()
		topic := wire.HubsPrefix + "/feed/" + node
		hf.receive(topic, payload)
		hf.receive(topic, payload) // a QoS 1 duplicate
		n := 0
		for len(ch) > 0 {
			ev := <-ch
			n++
			if agentEvents[ev.Type] || ev.Type == "" || !json.Valid(ev.Data) {
				t.Fatalf("relayed %+v", ev)
			}
		}
		if n > 1 || (n == 1 && node == hf.node) {
			t.Fatalf("relayed %d events from node %q", n, node)
		}
	})
}

// An event relayed from another hub is on the feed, and its out function never sees it; an
// own event goes out, an agent's does not.
func TestHubFeedRelaysOnce(t *testing.T) {
	hf, feed := newTestHubFeed()
	var out []string
	feed.SetOut(func(ev registry.Event) { out = append(out, ev.Type) })
	ch, stop := feed.Subscribe()
	defer stop()
	at := time.Date(2026, 11, 29, 9, 30, 0, 0, time.UTC)
	for seq, typ := range []string{"hearing", "hearing", "queue"} {
		if seq == 1 {
			seq = 0 // a duplicate of the first
		}
		b, _ := json.Marshal(hubFeedMessage{Node: "3fa9c01e", Seq: uint64(seq + 1), Type: typ, At: at, Data: json.RawMessage(`{"x":1}`)})
		hf.receive(wire.HubFeedTopic("3fa9c01e"), b)
	}
	feed.Publish("scene", map[string]int{"y": 2})
	var got []string
	for len(ch) > 0 {
		ev := <-ch
		got = append(got, ev.Type)
		if ev.Type == "hearing" && !ev.At.Equal(at) {
			t.Errorf("relayed at %v, want the sender's %v", ev.At, at)
		}
	}
	if len(got) != 3 || got[0] != "hearing" || got[1] != "queue" || got[2] != "scene" {
		t.Errorf("feed got %v, want hearing, queue, scene", got)
	}
	if len(out) != 1 || out[0] != "scene" {
		t.Errorf("sent out %v, want only the own scene", out)
	}
}
