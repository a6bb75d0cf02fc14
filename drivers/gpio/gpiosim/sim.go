// Package gpiosim is a GPIO pin with a relay or a push button on it, for tests, hil-tests and
// the hub's --demo. GPIO has no wire protocol, so the simulator is a pin that implements
// periph's gpio.PinIO, registered in periph's gpioreg under a name of its own ("SIM_lamp")
// that the gpio driver in the same process opens as it opens a board's pin.
//
// The simulated line follows its circuit: the button side drives it (Press, Release, with
// contact bounce if asked), the driver drives it as an output (the relay), and input edges
// wake WaitForEdge as a kernel's edge detection does. A pin can also refuse edge detection,
// so the driver has to sample it.
package gpiosim

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpioreg"
	"periph.io/x/conn/v3/physic"
	"periph.io/x/conn/v3/pin"
)

// Config describes a simulated pin.
type Config struct {
	// Name is the name registered in gpioreg; "" picks "SIM_<n>".
	Name string
	// ActiveLow: the circuit is active low, so the idle line (released button, relay off
	// before anyone drives it) is high, as with a pull-up.
	ActiveLow bool
	// NoEdges makes In refuse edge detection, as a pin without interrupts does.
	NoEdges bool
}

// Change is one change of the line's level.
type Change struct {
	At    time.Time
	Level gpio.Level
	Out   bool // the driver wrote it (Out), not the button
}

// Sim is a simulated pin registered in gpioreg. Its methods are safe for concurrent use.
type Sim struct {
	cfg Config
	pin *Pin
}

var seq atomic.Int64

// New makes a pin and registers it in gpioreg. A name already registered is an error.
func New(cfg Config) (*Sim, error) {
	if cfg.Name == "" {
		cfg.Name = fmt.Sprintf("SIM_%d", seq.Add(1))
	}
	p := &Pin{name: cfg.Name, num: 10000 + int(seq.Add(1)), level: gpio.Level(cfg.ActiveLow), noEdges: cfg.NoEdges,
		edges: make(chan struct{}, 1)}
	if err := gpioreg.Register(p); err != nil {
		return nil, fmt.Errorf("gpiosim: %w", err)
	}
	return &Sim{cfg: cfg, pin: p}, nil
}

// Name returns the name the pin is registered under.
func (s *Sim) Name() string { return s.pin.name }

// Pin returns the pin.
func (s *Sim) Pin() *Pin { return s.pin }

// Close removes the pin from gpioreg. The driver may still hold it; it keeps working.
func (s *Sim) Close() error {
	if err := gpioreg.Unregister(s.pin.name); err != nil {
		return fmt.Errorf("gpiosim: %w", err)
	}
	return nil
}

// Level returns the line's level.
func (s *Sim) Level() gpio.Level { return s.pin.Read() }

// Active reports whether the line is at its active level: relay energised, button pressed.
func (s *Sim) Active() bool { return bool(s.pin.Read()) != s.cfg.ActiveLow }

// Changes returns every change of the line so far.
func (s *Sim) Changes() []Change {
	s.pin.mu.Lock()
	defer s.pin.mu.Unlock()
	return append([]Change(nil), s.pin.changes...)
}

// Press presses the button and returns once the line rests at the active level. With bounce
// the contact chatters for about 3 ms first.
func (s *Sim) Press(bounce bool) { s.drive(true, bounce) }

// Release releases the button, with or without bounce.
func (s *Sim) Release(bounce bool) { s.drive(false, bounce) }

// Click presses the button, holds it, and releases it, bouncing both ways when asked.
func (s *Sim) Click(hold time.Duration, bounce bool) {
	s.Press(bounce)
	time.Sleep(hold)
	s.Release(bounce)
}

// SetStuck makes the line stay at its level whatever the button or the driver does (a
// broken wire, a relay driver that died), or follow them again.
func (s *Sim) SetStuck(stuck bool) {
	s.pin.mu.Lock()
	defer s.pin.mu.Unlock()
	s.pin.stuck = stuck
}

// Glitch pulls the line to the active level for d and back: noise a debouncer must ignore.
func (s *Sim) Glitch(d time.Duration) {
	s.drive(true, false)
	time.Sleep(d)
	s.drive(false, false)
}

// bounceGaps are the gaps between the chatter edges of a bouncing contact.
var bounceGaps = []time.Duration{300 * time.Microsecond, 500 * time.Microsecond, 200 * time.Microsecond, 800 * time.Microsecond, 400 * time.Microsecond, time.Millisecond}

func (s *Sim) drive(active, bounce bool) {
	to := gpio.Level(active != s.cfg.ActiveLow)
	if bounce {
		for i, gap := range bounceGaps {
			s.pin.set(to == (i%2 == 0))
			time.Sleep(gap)
		}
	}
	s.pin.set(to)
}

// Pin is a simulated GPIO pin; it implements gpio.PinIO.
type Pin struct {
	name    string
	num     int
	noEdges bool
	edges   chan struct{} // holds one pending edge, as edges do not pile up in a kernel either

	mu       sync.Mutex
	level    gpio.Level
	stuck    bool // the line no longer follows the button nor the driver's writes
	out      bool // set as an output
	pull     gpio.Pull
	edge     gpio.Edge
	changes  []Change
	inCalls  int
	outCalls int
}

var _ gpio.PinIO = (*Pin)(nil)

// set changes the line from the circuit side and signals an edge to a waiting reader.
func (p *Pin) set(l gpio.Level) {
	p.mu.Lock()
	if l == p.level || p.stuck {
		p.mu.Unlock()
		return
	}
	p.level = l
	p.changes = append(p.changes, Change{At: time.Now(), Level: l})
	want := p.edge == gpio.BothEdges || (p.edge == gpio.RisingEdge && l) || (p.edge == gpio.FallingEdge && !l)
	p.mu.Unlock()
	if want {
		select {
		case p.edges <- struct{}{}:
		default:
		}
	}
}

// String implements conn.Resource.
func (p *Pin) String() string { return p.name }

// Halt implements conn.Resource; it does nothing.
func (p *Pin) Halt() error { return nil }

// Name implements pin.Pin.
func (p *Pin) Name() string { return p.name }

// Number implements pin.Pin.
func (p *Pin) Number() int { return p.num }

// Function implements pin.Pin.
func (p *Pin) Function() string { return string(p.Func()) }

// Func implements pin.PinFunc.
func (p *Pin) Func() pin.Func {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.out {
		return gpio.OUT
	}
	return gpio.IN
}

// SupportedFuncs implements pin.PinFunc.
func (p *Pin) SupportedFuncs() []pin.Func { return []pin.Func{gpio.IN, gpio.OUT} }

// SetFunc implements pin.PinFunc.
func (p *Pin) SetFunc(f pin.Func) error {
	switch f {
	case gpio.IN:
		return p.In(gpio.PullNoChange, gpio.NoEdge)
	case gpio.OUT:
		return p.Out(p.Read())
	}
	return fmt.Errorf("gpiosim: %s: function %q not supported", p.name, f)
}

// ErrNoEdges is what In answers when edge detection is asked of a pin configured without it.
var ErrNoEdges = errors.New("gpiosim: edge detection not supported on this pin")

// In implements gpio.PinIn. The pull is recorded; the line's level stays the circuit's.
func (p *Pin) In(pull gpio.Pull, edge gpio.Edge) error {
	if edge != gpio.NoEdge && p.noEdges {
		return fmt.Errorf("%s: %w", p.name, ErrNoEdges)
	}
	p.mu.Lock()
	p.out, p.edge, p.inCalls = false, edge, p.inCalls+1
	if pull != gpio.PullNoChange {
		p.pull = pull
	}
	p.mu.Unlock()
	select { // forget an edge from before
	case <-p.edges:
	default:
	}
	return nil
}

// Read implements gpio.PinIn.
func (p *Pin) Read() gpio.Level {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.level
}

// WaitForEdge implements gpio.PinIn: true when an edge came since the last call or comes
// within timeout (-1: no timeout).
func (p *Pin) WaitForEdge(timeout time.Duration) bool {
	if timeout < 0 {
		<-p.edges
		return true
	}
	select {
	case <-p.edges:
		return true
	default:
	}
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-p.edges:
		return true
	case <-t.C:
		return false
	}
}

// Pull implements gpio.PinIn.
func (p *Pin) Pull() gpio.Pull {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.pull
}

// DefaultPull implements gpio.PinIn.
func (p *Pin) DefaultPull() gpio.Pull { return gpio.PullNoChange }

// Out implements gpio.PinOut: the pin becomes an output at level l.
func (p *Pin) Out(l gpio.Level) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.out, p.outCalls = true, p.outCalls+1
	if l != p.level && !p.stuck {
		p.level = l
		p.changes = append(p.changes, Change{At: time.Now(), Level: l, Out: true})
	}
	return nil
}

// PWM implements gpio.PinOut; the simulator has none.
func (p *Pin) PWM(gpio.Duty, physic.Frequency) error {
	return fmt.Errorf("gpiosim: %s: PWM not supported", p.name)
}

// IsOutput reports whether the pin was last set up as an output.
func (p *Pin) IsOutput() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out
}

// sanitize makes a device ID fit a pin name: letters, digits and underscores.
func sanitize(id string) string {
	var b strings.Builder
	for _, r := range id {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	return b.String()
}
