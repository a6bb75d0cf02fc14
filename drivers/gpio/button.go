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

// idleWait bounds one wait for an edge, so a Button notices Close.
const idleWait = 100 * time.Millisecond

// Button is an input pin with a push button. It implements drivers.Device. From its first
// Poll on, a goroutine watches the pin: with edge detection (WaitForEdge) where the pin has
// it, else by sampling it every Options.PollEvery. Each change that holds for
// Options.Debounce is reported as an event "button" {"pin", "pressed"} and as the new state.
// Its methods are safe for concurrent use.
type Button struct {
	name    string
	resolve func() (gpio.PinIO, error)
	opts    Options
	log     *slog.Logger
	notify  drivers.Notifier

	mu      sync.Mutex
	closed  bool
	started bool
	polling bool       // the pin has no edge detection
	level   gpio.Level // the debounced level
	presses int
	stop    chan struct{}
	done    chan struct{}
}

var _ drivers.Device = (*Button)(nil)

// NewButton returns a Button on pin. It does not touch the pin until the first Poll.
func NewButton(pin gpio.PinIO, o Options) *Button {
	return newButton(pin.Name(), func() (gpio.PinIO, error) { return pin, nil }, o)
}

func newButton(name string, resolve func() (gpio.PinIO, error), o Options) *Button {
	if o.PollEvery <= 0 {
		o.PollEvery = DefaultPollEvery
	}
	return &Button{name: name, resolve: resolve, opts: o, log: drivers.Logger(o.Logger), notify: notifier(o)}
}

// Poll starts watching the pin on the first call (and after a failed start), and returns
// "pin", "pressed" and "level" (the debounced level, "high" or "low"), and "presses" (how
// many presses the Button has seen).
func (b *Button) Poll(ctx context.Context) (drivers.State, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("gpio: poll button: %w", err)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil, fmt.Errorf("gpio: poll button: %w", errClosed)
	}
	if !b.started {
		if err := b.start(); err != nil {
			return nil, fmt.Errorf("gpio: poll button: %w", err)
		}
	}
	return b.state(), nil
}

// start sets the pin up as an input and starts the watcher (b.mu held).
func (b *Button) start() error {
	p, err := b.resolve()
	if err != nil {
		return err
	}
	polling := false
	if err := p.In(b.opts.Pull, gpio.BothEdges); err != nil {
		// No edge detection on this pin (or not for this process): sample it instead.
		if err2 := p.In(b.opts.Pull, gpio.NoEdge); err2 != nil {
			return fmt.Errorf("set pin %s as an input: %v: %w", b.name, err2, drivers.ErrDevice)
		}
		b.log.Debug("gpio: no edge detection, sampling the pin", "pin", b.name, "every", b.opts.PollEvery, "error", err)
		polling = true
	}
	b.level = p.Read()
	b.started, b.polling = true, polling
	b.stop, b.done = make(chan struct{}), make(chan struct{})
	go b.watch(p, newDebouncer(b.opts.Debounce, b.level), polling, b.stop, b.done)
	return nil
}

// state returns the state (b.mu held).
func (b *Button) state() drivers.State {
	return drivers.State{"pin": b.name, "pressed": b.opts.active(b.level), "level": levelName(b.level), "presses": b.presses}
}

// watch follows the pin until stop is closed.
func (b *Button) watch(p gpio.PinIO, deb *debouncer, polling bool, stop, done chan struct{}) {
	defer close(done)
	var tick *time.Timer
	if polling {
		tick = time.NewTimer(0)
		defer tick.Stop()
	}
	for {
		select {
		case <-stop:
			return
		default:
		}
		wait := deb.wait(time.Now(), idleWait)
		edge := false
		if polling {
			tick.Reset(min(wait, b.opts.PollEvery))
			select {
			case <-tick.C:
			case <-stop:
				return
			}
		} else {
			edge = p.WaitForEdge(wait)
		}
		now := time.Now()
		l := p.Read()
		if edge {
			deb.edge(now, l)
		} else {
			deb.sample(now, l)
		}
		if l, ok := deb.settle(now); ok {
			b.changed(l)
		}
	}
}

// changed reports a new debounced level.
func (b *Button) changed(l gpio.Level) {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return
	}
	b.level = l
	pressed := b.opts.active(l)
	if pressed {
		b.presses++
	}
	st := b.state()
	b.mu.Unlock()
	b.log.Debug("gpio: button", "pin", b.name, "pressed", pressed)
	b.notify.Event("button", map[string]any{"pin": b.name, "pressed": pressed})
	b.notify.State(st)
}

// Close stops watching the pin and waits for the watcher (at most about 100 ms).
func (b *Button) Close() error {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return nil
	}
	b.closed = true
	started, stop, done := b.started, b.stop, b.done
	b.mu.Unlock()
	if started {
		close(stop)
		<-done
	}
	return nil
}
