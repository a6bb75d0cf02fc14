package gpio

import (
	"reflect"
	"testing"
	"time"

	"periph.io/x/conn/v3/gpio"

	"github.com/bailiff/bailiff/drivers/gpio/internal/golden"
)

var t0 = time.Unix(1_000_000, 0)

// simulate feeds a golden case's edges to a debouncer at their exact times, settling it
// whenever its wait ends before the next edge, as the watcher does, and returns the events
// a Button would report.
func simulate(c golden.Case) []golden.Event {
	b := newDebouncer(c.Debounce, gpio.Level(c.StartHigh))
	out := []golden.Event{}
	settleBefore := func(limit time.Duration, open bool) {
		if !b.pending {
			return
		}
		at := b.since.Sub(t0) + b.d
		if open || at < limit {
			if l, ok := b.settle(t0.Add(at)); ok {
				out = append(out, golden.Event{At: at, Pressed: bool(l) != c.ActiveLow})
			}
		}
	}
	for _, s := range c.Steps {
		settleBefore(s.At, false)
		b.edge(t0.Add(s.At), gpio.Level(s.High))
		if l, ok := b.settle(t0.Add(s.At)); ok { // a zero debounce counts at once
			out = append(out, golden.Event{At: s.At, Pressed: bool(l) != c.ActiveLow})
		}
	}
	settleBefore(0, true)
	return out
}

func TestDebounceGolden(t *testing.T) {
	for _, c := range golden.Cases {
		t.Run(c.Name, func(t *testing.T) {
			want := c.Want
			if want == nil {
				want = []golden.Event{}
			}
			if got := simulate(c); !reflect.DeepEqual(got, want) {
				t.Fatalf("events %v, want %v", got, want)
			}
		})
	}
}

func TestDebouncerWaitAndSample(t *testing.T) {
	b := newDebouncer(20*time.Millisecond, gpio.Low)
	if w := b.wait(t0, time.Second); w != time.Second {
		t.Fatalf("idle wait %v", w)
	}
	b.sample(t0, gpio.Low) // no change: nothing pending
	if b.pending {
		t.Fatal("a sample without a change is pending")
	}
	b.sample(t0, gpio.High)
	if w := b.wait(t0.Add(5*time.Millisecond), time.Second); w != 15*time.Millisecond {
		t.Fatalf("wait %v", w)
	}
	b.sample(t0.Add(10*time.Millisecond), gpio.High) // same level: the wait runs on
	if _, ok := b.settle(t0.Add(19 * time.Millisecond)); ok {
		t.Fatal("settled early")
	}
	if l, ok := b.settle(t0.Add(20 * time.Millisecond)); !ok || l != gpio.High {
		t.Fatalf("settle = %v %v", l, ok)
	}
	if w := b.wait(t0.Add(time.Hour), time.Second); w != time.Second {
		t.Fatalf("wait after settling %v", w)
	}
	if w := (&debouncer{d: time.Millisecond, pending: true, since: t0}).wait(t0.Add(time.Hour), time.Second); w != 0 {
		t.Fatalf("overdue wait %v", w)
	}
}

// TestGoldenModel checks the golden table against the reference model.
func TestGoldenModel(t *testing.T) {
	for _, c := range golden.Cases {
		want := c.Want
		if want == nil {
			want = []golden.Event{}
		}
		if got := golden.Simulate(c); !reflect.DeepEqual(got, want) {
			t.Errorf("%s: model gives %v, table says %v", c.Name, got, want)
		}
	}
}
