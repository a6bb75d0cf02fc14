package gpio_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"periph.io/x/conn/v3/gpio/gpiotest"

	pgpio "periph.io/x/conn/v3/gpio"

	"github.com/bailiff/bailiff/drivers"
	"github.com/bailiff/bailiff/drivers/gpio"
	"github.com/bailiff/bailiff/drivers/gpio/gpiosim"
	"github.com/bailiff/bailiff/drivers/gpio/internal/golden"
	"github.com/bailiff/bailiff/drivers/internal/drivertest"
)

// recorder is a drivers.Notifier that keeps what it gets.
type recorder struct {
	mu     sync.Mutex
	events []recorded
	states []drivers.State
}

type recorded struct {
	at     time.Time
	typ    string
	fields map[string]any
}

func (r *recorder) Event(typ string, fields map[string]any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, recorded{time.Now(), typ, fields})
}

func (r *recorder) Meter(map[string]float64) {}

func (r *recorder) State(s drivers.State) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.states = append(r.states, s)
}

func (r *recorder) snapshot() ([]recorded, []drivers.State) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]recorded(nil), r.events...), append([]drivers.State(nil), r.states...)
}

// presses returns the "pressed" field of each button event.
func (r *recorder) presses() []bool {
	ev, _ := r.snapshot()
	out := []bool{}
	for _, e := range ev {
		if e.typ == "button" {
			out = append(out, e.fields["pressed"].(bool))
		}
	}
	return out
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	drivertest.Eventually(t, 5*time.Second, what, cond)
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	drivertest.WantCode(t, err, code, "gpio: ")
}

var bg = context.Background()

func TestRelaySet(t *testing.T) {
	for _, activeLow := range []bool{false, true} {
		t.Run(fmt.Sprintf("active_low=%v", activeLow), func(t *testing.T) {
			p := newFakePin(&gpiotest.Pin{N: "GPIO17"})
			r := gpio.NewRelay(p, gpio.Options{ActiveLow: activeLow})
			defer r.Close()
			if len(p.outs()) != 0 {
				t.Fatal("NewRelay touched the pin")
			}
			on, off := pgpio.High, pgpio.Low
			if activeLow {
				on, off = off, on
			}
			if err := r.SetRelay(bg, true); err != nil {
				t.Fatal(err)
			}
			st, err := r.Poll(bg)
			if err != nil || !reflect.DeepEqual(st, drivers.State{"pin": "GPIO17", "on": true, "level": levelName(on), "pulsing": false}) {
				t.Fatalf("Poll = %v, %v", st, err)
			}
			if err := r.SetRelay(bg, false); err != nil {
				t.Fatal(err)
			}
			if got := p.outs(); !reflect.DeepEqual(got, []pgpio.Level{on, off}) {
				t.Fatalf("levels written %v, want %v %v", got, on, off)
			}
			if st, _ := r.Poll(bg); st["on"] != false || st["level"] != levelName(off) {
				t.Fatalf("Poll = %v", st)
			}
		})
	}
}

func levelName(l pgpio.Level) string {
	if l {
		return "high"
	}
	return "low"
}

func TestRelayPulse(t *testing.T) {
	for _, activeLow := range []bool{false, true} {
		t.Run(fmt.Sprintf("active_low=%v", activeLow), func(t *testing.T) {
			p := newFakePin(&gpiotest.Pin{N: "DOOR"})
			rec := &recorder{}
			r := gpio.NewRelay(p, gpio.Options{ActiveLow: activeLow, Notify: rec})
			defer r.Close()
			t0 := time.Now()
			if err := r.Pulse(bg, 60); err != nil {
				t.Fatal(err)
			}
			st, _ := r.Poll(bg)
			if time.Since(t0) < 50*time.Millisecond && (st["on"] != true || st["pulsing"] != true) {
				t.Fatalf("during the pulse: %v", st)
			}
			eventually(t, "the end of the pulse", func() bool { _, st := rec.snapshot(); return len(st) > 0 })
			if d := time.Since(t0); d < 60*time.Millisecond {
				t.Fatalf("pulse ended after %v", d)
			}
			_, states := rec.snapshot()
			if states[0]["on"] != false || states[0]["pulsing"] != false {
				t.Fatalf("state at the end of the pulse %v", states[0])
			}
			on := pgpio.Level(!activeLow)
			if got := p.outs(); !reflect.DeepEqual(got, []pgpio.Level{on, !on}) {
				t.Fatalf("levels written %v", got)
			}
		})
	}
}

func TestRelayPulseCutShort(t *testing.T) {
	p := newFakePin(&gpiotest.Pin{N: "LAMP"})
	rec := &recorder{}
	r := gpio.NewRelay(p, gpio.Options{Notify: rec})
	if err := r.Pulse(bg, 50); err != nil {
		t.Fatal(err)
	}
	if err := r.SetRelay(bg, true); err != nil { // a steady on replaces the pulse
		t.Fatal(err)
	}
	time.Sleep(120 * time.Millisecond)
	if st, _ := r.Poll(bg); st["on"] != true || st["pulsing"] != false {
		t.Fatalf("the pulse's end switched a steady relay off: %v", st)
	}
	// A new pulse restarts the time.
	if err := r.Pulse(bg, 80); err != nil {
		t.Fatal(err)
	}
	time.Sleep(40 * time.Millisecond)
	t1 := time.Now()
	if err := r.Pulse(bg, 80); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the end of the second pulse", func() bool { st, _ := r.Poll(bg); return st["on"] == false })
	if d := time.Since(t1); d < 80*time.Millisecond {
		t.Fatalf("off %v after the second pulse started", d)
	}
	// Close during a pulse switches the relay off.
	if err := r.Pulse(bg, 10000); err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if p.Read() != pgpio.Low {
		t.Fatal("Close left a pulsing relay on")
	}
	wantCode(t, r.SetRelay(bg, true), "unreachable")
	_, err := r.Poll(bg)
	wantCode(t, err, "unreachable")
}

func TestRelayErrors(t *testing.T) {
	p := newFakePin(&gpiotest.Pin{N: "GPIO5"})
	r := gpio.NewRelay(p, gpio.Options{})
	defer r.Close()
	for _, ms := range []int{0, -1, 60001} {
		wantCode(t, r.Pulse(bg, ms), "bad_args")
	}
	ctx, cancel := context.WithCancel(bg)
	cancel()
	if err := r.SetRelay(ctx, true); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %v", err)
	}
	if len(p.outs()) != 0 {
		t.Fatal("a refused call touched the pin")
	}
	p.Lock()
	p.OutErr = errors.New("permission denied")
	p.Unlock()
	err := r.SetRelay(bg, true)
	wantCode(t, err, "device_error")
	if !strings.Contains(err.Error(), "permission denied") {
		t.Fatalf("error %q", err)
	}
}

// liveScale stretches the golden timings for the real-time replay, so a busy machine keeps
// what must and must not count apart.
const liveScale = 3

// TestButtonGolden replays the golden edge sequences that are coarse enough for real time on
// a fake pin, as periph's gpiotest does: each level sent on EdgesChan. When the machine is so
// busy that the edges went out at times that change what must count, it skips the case.
func TestButtonGolden(t *testing.T) {
	for _, c := range golden.Cases {
		if !c.Live {
			continue
		}
		t.Run(c.Name, func(t *testing.T) {
			c.Debounce *= liveScale
			p := newFakePin(&gpiotest.Pin{N: "BTN", L: pgpio.Level(c.StartHigh), EdgesChan: make(chan pgpio.Level, 16)})
			rec := &recorder{}
			b := gpio.NewButton(p, gpio.Options{ActiveLow: c.ActiveLow, Debounce: c.Debounce, Notify: rec})
			defer b.Close()
			st, err := b.Poll(bg)
			if err != nil {
				t.Fatal(err)
			}
			if st["pressed"] != (c.StartHigh != c.ActiveLow) {
				t.Fatalf("state at start %v", st)
			}
			t0 := time.Now()
			actual := c
			actual.Steps = nil
			for _, s := range c.Steps {
				time.Sleep(time.Until(t0.Add(s.At * liveScale)))
				actual.Steps = append(actual.Steps, golden.Step{At: time.Since(t0), High: s.High})
				p.EdgesChan <- pgpio.Level(s.High)
			}
			// What the edges as they went out must give.
			want := golden.Simulate(actual)
			if !reflect.DeepEqual(pressedOf(want), pressedOf(c.Want)) {
				t.Skipf("machine too busy: edges went out at %v, which gives %v, not the case's %v", actual.Steps, want, c.Want)
			}
			for end := time.Now().Add(5 * time.Second); len(rec.presses()) < len(want) && time.Now().Before(end); {
				time.Sleep(2 * time.Millisecond)
			}
			time.Sleep(c.Debounce + 50*time.Millisecond) // room for an event too many
			if got := rec.presses(); !reflect.DeepEqual(got, pressedOf(want)) {
				t.Fatalf("events %v, want %v", got, want)
			}
			ev, states := rec.snapshot()
			for i, e := range ev {
				if early := t0.Add(want[i].At - time.Millisecond); e.at.Before(early) {
					t.Errorf("event %d at %v, before its debounce ended (%v)", i, e.at.Sub(t0), want[i].At)
				}
				if e.fields["pin"] != "BTN" {
					t.Errorf("event %v", e.fields)
				}
			}
			if len(states) != len(want) {
				t.Fatalf("%d states for %d events", len(states), len(want))
			}
			if n := len(want); n > 0 {
				final, _ := b.Poll(bg)
				if final["pressed"] != want[n-1].Pressed || !reflect.DeepEqual(final, states[n-1]) {
					t.Fatalf("final state %v, last announced %v", final, states[n-1])
				}
			}
		})
	}
}

// pressedOf returns the pressed value of each event.
func pressedOf(events []golden.Event) []bool {
	out := []bool{}
	for _, e := range events {
		out = append(out, e.Pressed)
	}
	return out
}

func TestButtonWithoutEdgeDetection(t *testing.T) {
	// gpiotest's pin refuses edges while EdgesChan is nil: the Button samples it.
	p := newFakePin(&gpiotest.Pin{N: "BTN"})
	rec := &recorder{}
	b := gpio.NewButton(p, gpio.Options{Debounce: 15 * time.Millisecond, Pull: pgpio.PullDown, PollEvery: 2 * time.Millisecond, Notify: rec})
	defer b.Close()
	if _, err := b.Poll(bg); err != nil {
		t.Fatal(err)
	}
	if p.Pull() != pgpio.PullDown {
		t.Fatalf("pull %v", p.Pull())
	}
	p.set(pgpio.High)
	eventually(t, "the press", func() bool { return len(rec.presses()) == 1 })
	p.set(pgpio.Low)
	eventually(t, "the release", func() bool { return len(rec.presses()) == 2 })
	if got := rec.presses(); !reflect.DeepEqual(got, []bool{true, false}) {
		t.Fatalf("events %v", got)
	}
	if st, _ := b.Poll(bg); st["presses"] != 1 || st["pressed"] != false {
		t.Fatalf("state %v", st)
	}
}

func TestButtonClose(t *testing.T) {
	p := newFakePin(&gpiotest.Pin{N: "BTN", EdgesChan: make(chan pgpio.Level, 4)})
	rec := &recorder{}
	b := gpio.NewButton(p, gpio.Options{Debounce: 5 * time.Millisecond, Notify: rec})
	if err := b.Close(); err != nil { // never started
		t.Fatal(err)
	}
	b = gpio.NewButton(p, gpio.Options{Debounce: 5 * time.Millisecond, Notify: rec})
	if _, err := b.Poll(bg); err != nil {
		t.Fatal(err)
	}
	t0 := time.Now()
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(t0); d > time.Second {
		t.Fatalf("Close took %v", d)
	}
	p.EdgesChan <- pgpio.High
	time.Sleep(30 * time.Millisecond)
	if len(rec.presses()) != 0 {
		t.Fatal("event after Close")
	}
	_, err := b.Poll(bg)
	wantCode(t, err, "unreachable")
}

// TestWithSimulator runs the driver, made by its factory as the agent makes it, on gpiosim
// pins found through gpioreg.
func TestWithSimulator(t *testing.T) {
	info, ok := drivers.Lookup("gpio")
	if !ok {
		t.Fatal("gpio is not registered")
	}
	t.Run("button", func(t *testing.T) {
		const debounce = 30 * time.Millisecond
		for _, noEdges := range []bool{false, true} {
			sim, err := gpiosim.New(gpiosim.Config{ActiveLow: true, NoEdges: noEdges})
			if err != nil {
				t.Fatal(err)
			}
			defer sim.Close()
			rec := &recorder{}
			d, err := info.New(drivers.Config{ID: "kiosk-button", Notify: rec,
				Options: map[string]string{"pin": sim.Name(), "mode": "button", "active_low": "true", "debounce_ms": "30", "pull": "up"}})
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			if st, err := d.Poll(bg); err != nil || st["pressed"] != false || st["level"] != "high" {
				t.Fatalf("Poll = %v, %v", st, err)
			}
			if sim.Pin().Pull() != pgpio.PullUp || sim.Pin().IsOutput() {
				t.Fatal("the pin is not an input with a pull-up")
			}
			want := []bool{}
			for i := 0; i < 4; i++ {
				n := len(sim.Changes())
				if i < 3 {
					sim.Click(150*time.Millisecond, true)
				} else {
					sim.Glitch(time.Millisecond)
				}
				// What the line did, as it happened, must give what the click or glitch means.
				happened := golden.Simulate(lineCase(sim.Changes()[n:], debounce))
				if expect := pressedOf(happened); (i < 3 && !reflect.DeepEqual(expect, []bool{true, false})) || (i == 3 && len(expect) != 0) {
					t.Skipf("machine too busy: the line's changes %+v give %v", sim.Changes()[n:], expect)
				}
				want = append(want, pressedOf(happened)...)
				for end := time.Now().Add(5 * time.Second); len(rec.presses()) < len(want) && time.Now().Before(end); {
					time.Sleep(2 * time.Millisecond)
				}
				time.Sleep(debounce + 20*time.Millisecond)
				if got := rec.presses(); !reflect.DeepEqual(got, want) {
					t.Fatalf("no edges %v, after %d: events %v, want %v", noEdges, i, got, want)
				}
			}
			if st, _ := d.Poll(bg); st["presses"] != 3 {
				t.Fatalf("state %v", st)
			}
		}
	})
	t.Run("relay", func(t *testing.T) {
		sim, err := gpiosim.New(gpiosim.Config{Name: "SIM_TEST_DOOR", ActiveLow: true})
		if err != nil {
			t.Fatal(err)
		}
		defer sim.Close()
		rec := &recorder{}
		d, err := info.New(drivers.Config{ID: "door", Notify: rec, Options: map[string]string{"pin": "SIM_TEST_DOOR", "mode": "relay", "active_low": "1"}})
		if err != nil {
			t.Fatal(err)
		}
		defer d.Close()
		if st, err := d.Poll(bg); err != nil || st["on"] != false {
			t.Fatalf("Poll = %v, %v", st, err)
		}
		if err := d.(drivers.Relay).Pulse(bg, 40); err != nil {
			t.Fatal(err)
		}
		eventually(t, "the end of the pulse", func() bool { return !sim.Active() })
		ch := sim.Changes()
		if len(ch) != 2 || !ch[0].Out || ch[0].Level != pgpio.Low || !ch[1].Out || ch[1].Level != pgpio.High || ch[1].At.Sub(ch[0].At) < 40*time.Millisecond {
			t.Fatalf("changes %+v", ch)
		}
		if err := d.(drivers.Relay).SetRelay(bg, true); err != nil || !sim.Active() {
			t.Fatalf("SetRelay: %v", err)
		}
	})
}

// lineCase turns changes of a simulated active-low button line into a golden case.
func lineCase(changes []gpiosim.Change, debounce time.Duration) golden.Case {
	c := golden.Case{ActiveLow: true, Debounce: debounce, StartHigh: true}
	if len(changes) == 0 {
		return c
	}
	t0 := changes[0].At
	for _, ch := range changes {
		c.Steps = append(c.Steps, golden.Step{At: ch.At.Sub(t0), High: bool(ch.Level)})
	}
	return c
}

func TestFactory(t *testing.T) {
	info, _ := drivers.Lookup("gpio")
	if info.DefaultPort != 0 || info.Description == "" ||
		!reflect.DeepEqual(info.Options, []string{"pin", "mode", "active_low", "debounce_ms", "pull"}) {
		t.Fatalf("registration %+v", info)
	}
	relay, err := info.New(drivers.Config{ID: "lamp", Options: map[string]string{"pin": "NO_SUCH_PIN_ANYWHERE", "mode": "relay"}})
	if err != nil {
		t.Fatal(err)
	}
	if got := drivers.Actions(relay); !reflect.DeepEqual(got, []string{"pulse", "refresh", "relay"}) {
		t.Fatalf("relay actions %v", got)
	}
	button, err := info.New(drivers.Config{ID: "btn", Options: map[string]string{"pin": "NO_SUCH_PIN_ANYWHERE", "mode": "button"}})
	if err != nil {
		t.Fatal(err)
	}
	if got := drivers.Actions(button); !reflect.DeepEqual(got, []string{"refresh"}) {
		t.Fatalf("button actions %v", got)
	}
	for name, cfg := range map[string]drivers.Config{
		"address":          {ID: "x", Address: "10.0.0.1", Options: map[string]string{"pin": "GPIO1", "mode": "relay"}},
		"no pin":           {ID: "x", Options: map[string]string{"mode": "relay"}},
		"no mode":          {ID: "x", Options: map[string]string{"pin": "GPIO1"}},
		"debounce relay":   {ID: "x", Options: map[string]string{"pin": "GPIO1", "mode": "relay", "debounce_ms": "5"}},
		"unknown option":   {ID: "x", Options: map[string]string{"pin": "GPIO1", "mode": "relay", "invert": "true"}},
		"bad active_low":   {ID: "x", Options: map[string]string{"pin": "GPIO1", "mode": "relay", "active_low": "yes"}},
		"bad pull":         {ID: "x", Options: map[string]string{"pin": "GPIO1", "mode": "button", "pull": "sideways"}},
		"negative bounce":  {ID: "x", Options: map[string]string{"pin": "GPIO1", "mode": "button", "debounce_ms": "-1"}},
		"pin with a space": {ID: "x", Options: map[string]string{"pin": "GPIO 1", "mode": "button"}},
	} {
		_, err := info.New(cfg)
		if err == nil {
			t.Errorf("%s: accepted", name)
			continue
		}
		if drivers.Code(err) != "bad_args" || !strings.HasPrefix(err.Error(), `gpio: device "x": `) {
			t.Errorf("%s: error %q", name, err)
		}
	}
}
