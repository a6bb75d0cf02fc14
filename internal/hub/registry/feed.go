package registry

import (
	"encoding/json"
	"sync"
	"sync/atomic"
	"time"
)

// Event is one change, as sent to the API's event stream.
type Event struct {
	ID   uint64          `json:"id"`
	Type string          `json:"type"` // state, agent, alarm, hearing, device-event, meter
	At   time.Time       `json:"at"`
	Data json.RawMessage `json:"data"`
}

// Feed fans events out to subscribers. A subscriber that falls behind by more than its buffer
// is dropped (its channel closed) so it never slows the others; an event stream client then
// reconnects.
type Feed struct {
	mu     sync.Mutex
	subs   map[chan Event]struct{}
	seq    atomic.Uint64
	buffer int
	drops  atomic.Int64
	out    atomic.Pointer[func(Event)]
}

// NewFeed returns a feed whose subscribers each buffer up to buffer events.
func NewFeed(buffer int) *Feed {
	return &Feed{subs: map[chan Event]struct{}{}, buffer: buffer}
}

// Publish sends an event to every subscriber, and to the out function (SetOut).
func (f *Feed) Publish(typ string, data any) {
	b, err := json.Marshal(data)
	if err != nil {
		return
	}
	ev := f.send(typ, time.Now().UTC(), b)
	if out := f.out.Load(); out != nil {
		(*out)(ev)
	}
}

// Relay sends an event that another hub published on its own feed to every subscriber, with
// this feed's next ID; the out function does not see it, so it is never sent back.
func (f *Feed) Relay(typ string, at time.Time, data json.RawMessage) {
	f.send(typ, at, data)
}

// SetOut makes fn see every event published on this feed (not those relayed). fn runs on the
// publisher's goroutine, often under its lock: it must not block.
func (f *Feed) SetOut(fn func(Event)) { f.out.Store(&fn) }

func (f *Feed) send(typ string, at time.Time, data json.RawMessage) Event {
	ev := Event{ID: f.seq.Add(1), Type: typ, At: at, Data: data}
	f.mu.Lock()
	defer f.mu.Unlock()
	for ch := range f.subs {
		select {
		case ch <- ev:
		default:
			delete(f.subs, ch)
			close(ch)
			f.drops.Add(1)
		}
	}
	return ev
}

// Subscribe returns a channel of events and a function that ends the subscription.
func (f *Feed) Subscribe() (<-chan Event, func()) {
	ch := make(chan Event, f.buffer)
	f.mu.Lock()
	f.subs[ch] = struct{}{}
	f.mu.Unlock()
	return ch, func() {
		f.mu.Lock()
		defer f.mu.Unlock()
		if _, ok := f.subs[ch]; ok {
			delete(f.subs, ch)
			close(ch)
		}
	}
}

// Subscribers is the number of subscribers now.
func (f *Feed) Subscribers() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.subs)
}

// Dropped counts subscribers dropped for falling behind.
func (f *Feed) Dropped() int64 { return f.drops.Load() }
