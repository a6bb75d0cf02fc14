package audio

import (
	"maps"
	"sync"
	"testing"
	"time"

	"github.com/bailiff/bailiff/drivers"
)

// recorder is a drivers.Notifier that keeps what it is told, with when.
type recorder struct {
	mu      sync.Mutex
	meters  []map[string]float64
	at      []time.Time
	events  []string
	states  []drivers.State
	changed chan struct{}
}

func newRecorder() *recorder { return &recorder{changed: make(chan struct{}, 1)} }

func (r *recorder) poke() {
	select {
	case r.changed <- struct{}{}:
	default:
	}
}

func (r *recorder) Event(typ string, fields map[string]any) {
	r.mu.Lock()
	r.events = append(r.events, typ)
	r.mu.Unlock()
	r.poke()
}

func (r *recorder) Meter(levels map[string]float64) {
	r.mu.Lock()
	r.meters = append(r.meters, maps.Clone(levels))
	r.at = append(r.at, time.Now())
	r.mu.Unlock()
	r.poke()
}

func (r *recorder) State(s drivers.State) {
	r.mu.Lock()
	r.states = append(r.states, maps.Clone(s))
	r.mu.Unlock()
	r.poke()
}

// waitFor waits until cond, called with r.mu held, is true.
func (r *recorder) waitFor(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.After(timeout)
	for {
		r.mu.Lock()
		ok := cond()
		r.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-r.changed:
		case <-time.After(10 * time.Millisecond):
		case <-deadline:
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
	}
}

// waitMeters waits for at least n meter calls and returns them all.
func (r *recorder) waitMeters(t *testing.T, n int, timeout time.Duration) []map[string]float64 {
	t.Helper()
	r.waitFor(t, "meters", timeout, func() bool { return len(r.meters) >= n })
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]map[string]float64(nil), r.meters...)
}

func (r *recorder) reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.meters, r.at, r.events, r.states = nil, nil, nil, nil
}
