package gpio

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"periph.io/x/conn/v3/gpio"

	"github.com/bailiff/bailiff/drivers"
)

// MaxPulse is the longest Pulse (contract v1: pulse.ms 1-60000).
const MaxPulse = 60 * time.Second

// Relay is an output pin driving a relay. It implements drivers.Device and drivers.Relay.
// Its methods are safe for concurrent use.
type Relay struct {
	name    string
	resolve func() (gpio.PinIO, error)
	opts    Options
	log     *slog.Logger
	notify  drivers.Notifier

	mu     sync.Mutex
	pin    gpio.PinIO // nil until the first call that needs it, and after a failed write
	closed bool
	gen    int         // counts pulses and what cancels them, so a stale timer does nothing
	timer  *time.Timer // the end of the pulse under way; nil when none
}

var (
	_ drivers.Device = (*Relay)(nil)
	_ drivers.Relay  = (*Relay)(nil)
)

// NewRelay returns a Relay on pin. It does not touch the pin until the first call.
func NewRelay(pin gpio.PinIO, o Options) *Relay {
	return newRelay(pin.Name(), func() (gpio.PinIO, error) { return pin, nil }, o)
}

func newRelay(name string, resolve func() (gpio.PinIO, error), o Options) *Relay {
	return &Relay{name: name, resolve: resolve, opts: o, log: drivers.Logger(o.Logger), notify: notifier(o)}
}

func notifier(o Options) drivers.Notifier {
	if o.Notify != nil {
		return o.Notify
	}
	return drivers.Discard
}

// open returns the pin, resolving it on first use (r.mu held).
func (r *Relay) open() (gpio.PinIO, error) {
	if r.closed {
		return nil, errClosed
	}
	if r.pin == nil {
		p, err := r.resolve()
		if err != nil {
			return nil, err
		}
		r.pin = p
	}
	return r.pin, nil
}

// out drives the pin to on or off (r.mu held). A failed write forgets the pin, so the next
// call looks it up again.
func (r *Relay) out(p gpio.PinIO, on bool) error {
	if err := p.Out(r.opts.level(on)); err != nil {
		r.pin = nil
		return fmt.Errorf("set pin %s %s: %v: %w", r.name, levelName(r.opts.level(on)), err, drivers.ErrDevice)
	}
	return nil
}

// cancelPulse stops the pulse under way, if any, without touching the pin (r.mu held).
func (r *Relay) cancelPulse() {
	r.gen++
	if r.timer != nil {
		r.timer.Stop()
		r.timer = nil
	}
}

// SetRelay switches the relay on or off. It ends a pulse under way.
func (r *Relay) SetRelay(ctx context.Context, on bool) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("gpio: relay %s: %w", drivers.OnOff(on), err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	p, err := r.open()
	if err == nil {
		r.cancelPulse()
		err = r.out(p, on)
	}
	if err != nil {
		return fmt.Errorf("gpio: relay %s: %w", drivers.OnOff(on), err)
	}
	return nil
}

// Pulse switches the relay on and returns; the relay switches off by itself ms milliseconds
// later and reports its new state through Options.Notify. A pulse under way is cut short
// and the new one starts. ms must be 1-60000 (drivers.ErrBadArgs).
func (r *Relay) Pulse(ctx context.Context, ms int) error {
	d := time.Duration(ms) * time.Millisecond
	if ms < 1 || d > MaxPulse {
		return fmt.Errorf("gpio: pulse %d ms: want 1-%d: %w", ms, MaxPulse.Milliseconds(), drivers.ErrBadArgs)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("gpio: pulse %d ms: %w", ms, err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	p, err := r.open()
	if err == nil {
		r.cancelPulse()
		err = r.out(p, true)
	}
	if err != nil {
		return fmt.Errorf("gpio: pulse %d ms: %w", ms, err)
	}
	gen := r.gen
	r.timer = time.AfterFunc(d, func() { r.endPulse(gen) })
	return nil
}

// endPulse switches the relay off at the end of pulse gen, unless something replaced it.
func (r *Relay) endPulse(gen int) {
	r.mu.Lock()
	if gen != r.gen || r.pin == nil {
		r.mu.Unlock()
		return
	}
	r.timer = nil
	p := r.pin
	err := r.out(p, false)
	var st drivers.State
	if err == nil {
		st = r.state(p)
	}
	r.mu.Unlock()
	if err != nil {
		r.log.Warn("gpio: relay did not switch off at the end of a pulse", "pin", r.name, "error", err)
		r.notify.Event("fault", map[string]any{"pin": r.name, "error": "relay did not switch off at the end of a pulse: " + err.Error()})
		return
	}
	r.notify.State(st)
}

// state reads the pin (r.mu held).
func (r *Relay) state(p gpio.PinIO) drivers.State {
	l := p.Read()
	return drivers.State{"pin": r.name, "on": r.opts.active(l), "level": levelName(l), "pulsing": r.timer != nil}
}

// Poll reads the pin: "pin", "on", "level" ("high" or "low") and "pulsing".
func (r *Relay) Poll(ctx context.Context) (drivers.State, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("gpio: poll relay: %w", err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	p, err := r.open()
	if err != nil {
		return nil, fmt.Errorf("gpio: poll relay: %w", err)
	}
	return r.state(p), nil
}

// Close ends a pulse under way, switching the relay off; a relay switched on with SetRelay
// stays on. Calls after Close fail with drivers.ErrUnreachable.
func (r *Relay) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil
	}
	pulsing := r.timer != nil
	r.cancelPulse()
	r.closed = true
	if pulsing && r.pin != nil {
		if err := r.out(r.pin, false); err != nil {
			return fmt.Errorf("gpio: close: %w", err)
		}
	}
	return nil
}
