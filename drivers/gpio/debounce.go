package gpio

import (
	"time"

	"periph.io/x/conn/v3/gpio"
)

// debouncer turns the raw levels of a bouncing contact into debounced ones: a level counts
// once the pin has held it for d since its last edge. It is a plain state machine fed with
// times, so tests drive it without a clock.
type debouncer struct {
	d       time.Duration
	stable  gpio.Level // the debounced level: the last one reported, or the one at start
	raw     gpio.Level // the level last read
	since   time.Time  // the last edge, or the last change a sample found
	pending bool       // the pin moved since the level last settled
}

func newDebouncer(d time.Duration, level gpio.Level) *debouncer {
	return &debouncer{d: d, stable: level, raw: level}
}

// edge records an edge at t, after which the pin reads l. Any edge restarts the wait, even
// one that leaves the level where it was: the contact is still bouncing.
func (b *debouncer) edge(t time.Time, l gpio.Level) {
	b.raw, b.since, b.pending = l, t, true
}

// sample records a level read at t without an edge (a pin without edge detection, or an
// edge the driver missed); only a change restarts the wait.
func (b *debouncer) sample(t time.Time, l gpio.Level) {
	if l != b.raw || (!b.pending && l != b.stable) {
		b.edge(t, l)
	}
}

// settle returns the new debounced level, and true, when the pin has held a level other than
// the debounced one for d at t.
func (b *debouncer) settle(t time.Time) (gpio.Level, bool) {
	if !b.pending || t.Sub(b.since) < b.d {
		return b.stable, false
	}
	b.pending = false
	if b.raw == b.stable {
		return b.stable, false // a glitch: back where it was
	}
	b.stable = b.raw
	return b.stable, true
}

// wait returns how long from t until settle may report: the rest of the debounce time, or
// idle when the pin is quiet.
func (b *debouncer) wait(t time.Time, idle time.Duration) time.Duration {
	if !b.pending {
		return idle
	}
	return max(0, b.d-t.Sub(b.since))
}
