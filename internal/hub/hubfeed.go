package hub

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bailiff/bailiff/internal/hub/registry"
	"github.com/bailiff/bailiff/internal/wire"
)

// The hubs of a share group tell one another what each does itself, so that an event stream
// on any hub shows it live. What agents publish (presence, state, device events, meters)
// reaches every hub from the broker already and is not passed on; everything else a hub
// publishes on its feed — hearings, scenes, recordings, privacy, the program, queues, alarms,
// firmware rollouts — goes out on its feed topic (wire.HubFeedTopic, QoS 1, not retained) and
// every other hub relays it into its own feed (registry.Feed.Relay), which never sends it on
// again. A hub ignores its own topic, and a QoS 1 duplicate by its sequence number.

// agentEvents are the feed's event types made from what agents publish: every hub has them.
var agentEvents = map[string]bool{"state": true, "agent": true, "device-event": true, "meter": true}

// hubFeedMessage is one feed event on a hub's feed topic.
type hubFeedMessage struct {
	Node string          `json:"node"`
	Seq  uint64          `json:"seq"` // per node, from 1; a hub's node ID is new at every start
	Type string          `json:"type"`
	At   time.Time       `json:"at"`
	Data json.RawMessage `json:"data"`
}

// hubFeed sends this hub's own feed events to the other hubs and relays theirs.
type hubFeed struct {
	h    *Hub
	node string
	out  chan registry.Event
	done chan struct{}
	stop sync.Once

	seq                    uint64 // sender goroutine only
	sent, relayed, dropped atomic.Int64
	mu                     sync.Mutex
	last                   map[string]uint64 // node → the last sequence number relayed
}

// hubFeedBuffer is how many events may wait to go out; beyond it they are dropped (counted).
const hubFeedBuffer = 1024

// startHubFeed subscribes to the other hubs' feed topics and sends this hub's own events.
func (h *Hub) startHubFeed(node string) error {
	f := &hubFeed{h: h, node: node, out: make(chan registry.Event, hubFeedBuffer), done: make(chan struct{}),
		last: map[string]uint64{}}
	if err := h.bus.Subscribe(wire.FilterHubFeeds, 1, func(topic string, payload []byte, _ bool) {
		f.receive(topic, payload)
	}); err != nil {
		return err
	}
	h.hubFeed = f
	h.feed.SetOut(func(ev registry.Event) {
		if agentEvents[ev.Type] {
			return
		}
		select {
		case f.out <- ev:
		default:
			f.dropped.Add(1)
		}
	})
	go f.send()
	return nil
}

// send publishes the queued events in order until close.
func (f *hubFeed) send() {
	topic := wire.HubFeedTopic(f.node)
	for {
		select {
		case <-f.done:
			return
		case ev := <-f.out:
			f.seq++
			b, err := json.Marshal(hubFeedMessage{Node: f.node, Seq: f.seq, Type: ev.Type, At: ev.At, Data: ev.Data})
			if err == nil {
				err = f.h.bus.Publish(topic, 1, false, b)
			}
			if err != nil {
				f.dropped.Add(1)
				f.h.log.Warn("feed event to the other hubs", "type", ev.Type, "error", err)
				continue
			}
			f.sent.Add(1)
		}
	}
}

// receive relays another hub's event into this hub's feed.
func (f *hubFeed) receive(topic string, payload []byte) {
	node := topic[strings.LastIndexByte(topic, '/')+1:]
	if node == f.node {
		return
	}
	var m hubFeedMessage
	if err := json.Unmarshal(payload, &m); err != nil || m.Node != node || m.Type == "" || agentEvents[m.Type] || len(m.Data) == 0 {
		f.h.log.Warn("bad feed event from another hub", "topic", topic, "error", err)
		return
	}
	f.mu.Lock()
	dup := m.Seq <= f.last[node]
	if !dup {
		f.last[node] = m.Seq
	}
	f.mu.Unlock()
	if dup {
		return
	}
	f.relayed.Add(1)
	f.h.feed.Relay(m.Type, m.At, m.Data)
	if m.Type == "room-config" { // off the broker's delivery goroutine: it reads the store
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			f.h.prov.follow(ctx, m.Data)
		}()
	}
}

func (f *hubFeed) close() { f.stop.Do(func() { close(f.done) }) }

// hubFeedCount reads one of the hub feed's counters, 0 when the hub shares nothing.
func (h *Hub) hubFeedCount(get func(*hubFeed) int64) float64 {
	if h.hubFeed == nil {
		return 0
	}
	return float64(get(h.hubFeed))
}
