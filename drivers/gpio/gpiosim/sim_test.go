package gpiosim

import (
	"reflect"
	"testing"
	"time"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpioreg"

	"github.com/bailiff/bailiff/drivers/simreg"
)

func TestPin(t *testing.T) {
	s, err := New(Config{Name: "SIM_TEST_PIN"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := New(Config{Name: "SIM_TEST_PIN"}); err == nil {
		t.Fatal("a name registered twice")
	}
	p := gpioreg.ByName("SIM_TEST_PIN")
	if p == nil || p != gpio.PinIO(s.Pin()) || p.Name() != s.Name() || p.Number() <= 0 {
		t.Fatalf("gpioreg has %v", p)
	}
	if s.Level() != gpio.Low || s.Active() {
		t.Fatal("idle line of an active-high circuit is not low")
	}
	// Without edge detection asked, a press wakes nobody.
	if err := p.In(gpio.PullDown, gpio.NoEdge); err != nil {
		t.Fatal(err)
	}
	s.Press(false)
	if p.WaitForEdge(10*time.Millisecond) || p.Read() != gpio.High || !s.Active() {
		t.Fatal("press seen as an edge without edge detection, or not seen on the line")
	}
	s.Release(false)
	if err := p.In(gpio.PullNoChange, gpio.BothEdges); err != nil {
		t.Fatal(err)
	}
	if p.Pull() != gpio.PullDown || s.Pin().IsOutput() {
		t.Fatal("In: pull or direction")
	}
	s.Press(true)
	if !p.WaitForEdge(time.Second) || p.Read() != gpio.High {
		t.Fatal("no edge for a press")
	}
	if p.WaitForEdge(5 * time.Millisecond) {
		t.Fatal("an edge with the line at rest")
	}
	ch := s.Changes()
	if len(ch) != 2+7 || ch[len(ch)-1].Level != gpio.High || ch[0].Out {
		t.Fatalf("changes of a release and a bouncing press: %+v", ch)
	}
	// Only rising edges.
	if err := p.In(gpio.PullNoChange, gpio.RisingEdge); err != nil {
		t.Fatal(err)
	}
	s.Release(false)
	if p.WaitForEdge(5 * time.Millisecond) {
		t.Fatal("a falling edge woke a rising-edge wait")
	}
	go func() { time.Sleep(5 * time.Millisecond); s.Press(false) }()
	if !p.WaitForEdge(-1) {
		t.Fatal("WaitForEdge(-1)")
	}
	// Output.
	if err := p.Out(gpio.Low); err != nil || !s.Pin().IsOutput() || s.Level() != gpio.Low {
		t.Fatal("Out")
	}
	if last := s.Changes()[len(s.Changes())-1]; !last.Out || last.Level != gpio.Low {
		t.Fatalf("last change %+v", last)
	}
	if p.PWM(gpio.DutyHalf, 0) == nil || s.Pin().SetFunc("I2C1_SDA") == nil || p.Halt() != nil {
		t.Fatal("PWM, SetFunc or Halt")
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if gpioreg.ByName("SIM_TEST_PIN") != nil {
		t.Fatal("still registered after Close")
	}
}

func TestActiveLowAndNoEdges(t *testing.T) {
	s, err := New(Config{ActiveLow: true, NoEdges: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.Level() != gpio.High || s.Active() {
		t.Fatal("idle line of an active-low circuit is not high")
	}
	if err := s.Pin().In(gpio.PullUp, gpio.BothEdges); err == nil {
		t.Fatal("edge detection on a pin without it")
	}
	if err := s.Pin().In(gpio.PullUp, gpio.NoEdge); err != nil {
		t.Fatal(err)
	}
	s.Click(time.Millisecond, false)
	if got := s.Changes(); len(got) != 2 || got[0].Level != gpio.Low || got[1].Level != gpio.High {
		t.Fatalf("click on an active-low line: %+v", got)
	}
}

func TestRegistered(t *testing.T) {
	var names []string
	for i := 0; i < 2; i++ { // the same device ID in two rooms
		sim, err := simreg.Start("gpio", simreg.Options{ID: "door-strike", Options: map[string]string{"pin": "GPIO17", "mode": "relay", "active_low": "true"}})
		if err != nil {
			t.Fatal(err)
		}
		defer sim.Close()
		if sim.Address() != "" {
			t.Fatalf("address %q", sim.Address())
		}
		o, ok := sim.(simreg.DeviceOptions)
		if !ok {
			t.Fatal("the simulator gives no device options")
		}
		pin := o.DeviceOptions()["pin"]
		names = append(names, pin)
		if gpioreg.ByName(pin) == nil {
			t.Fatalf("%s not in gpioreg", pin)
		}
		if s := sim.(registered).Sim; s.Level() != gpio.High {
			t.Fatal("active_low ignored")
		}
	}
	if !reflect.DeepEqual(names, []string{"SIM_door_strike", "SIM_door_strike_2"}) {
		t.Fatalf("names %v", names)
	}
	if _, err := simreg.Start("gpio", simreg.Options{ID: "x", Transport: "tcp"}); err == nil {
		t.Fatal("a transport accepted")
	}
	if _, err := simreg.Start("gpio", simreg.Options{ID: "x", Options: map[string]string{"active_low": "maybe"}}); err == nil {
		t.Fatal("a bad active_low accepted")
	}
}

func TestModes(t *testing.T) {
	sim, err := simreg.Start("gpio", simreg.Options{ID: "bench-button", Options: map[string]string{"active_low": "true"}})
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	s := sim.(registered).Sim
	m := sim.(simreg.Misbehaver)
	snap := func() map[string]any { return sim.(simreg.Inspector).Snapshot().(map[string]any) }
	if err := m.SetMode("press"); err != nil || snap()["active"] != true || snap()["level"] != "low" {
		t.Fatalf("press: %v %v", err, snap())
	}
	if err := m.SetMode("normal"); err != nil || s.Active() {
		t.Fatalf("normal: %v %v", err, snap())
	}
	if err := m.SetMode("stuck"); err != nil {
		t.Fatal(err)
	}
	s.Press(false)
	if s.Active() || snap()["stuck"] != true {
		t.Fatal("a stuck line followed the button")
	}
	if err := s.Pin().Out(gpio.Low); err != nil || s.Level() != gpio.High {
		t.Fatal("a stuck line followed the driver")
	}
	m.SetMode("normal")
	if err := m.SetMode("click"); err != nil || s.Active() {
		t.Fatalf("click: %v", err)
	}
	if err := m.SetMode("fly"); err == nil {
		t.Fatal("unknown mode accepted")
	}
}
