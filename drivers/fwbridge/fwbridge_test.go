package fwbridge_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/bailiff/bailiff/drivers"
	"github.com/bailiff/bailiff/drivers/fwbridge"
	"github.com/bailiff/bailiff/firmware-bridge/devsim"
	"github.com/bailiff/bailiff/firmware-bridge/frame"
	"github.com/bailiff/bailiff/internal/wire"
)

type notes struct {
	mu     sync.Mutex
	events []wire.Event
	states []drivers.State
}

func (n *notes) Event(typ string, f map[string]any) {
	n.mu.Lock()
	n.events = append(n.events, wire.Event{Type: typ, Fields: f})
	n.mu.Unlock()
}
func (n *notes) Meter(map[string]float64) {}
func (n *notes) State(s drivers.State) {
	n.mu.Lock()
	n.states = append(n.states, s)
	n.mu.Unlock()
}

func newDevice(t *testing.T, addr string, n drivers.Notifier) drivers.Device {
	t.Helper()
	info, ok := drivers.Lookup("fwbridge")
	if !ok {
		t.Fatal("fwbridge not registered")
	}
	d, err := info.New(drivers.Config{ID: "tally-1", Address: addr, Options: map[string]string{"baud": "115200", "ping_ms": "50"}, Notify: n})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for end := time.Now().Add(5 * time.Second); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(end) {
			t.Fatalf("not within 5s: %s", what)
		}
	}
}

func TestDevice(t *testing.T) {
	sim := devsim.New(devsim.Config{Serial: "TL-9", Version: frame.Version{Major: 2, Minor: 1},
		Caps: frame.CapTally | frame.CapButton | frame.CapSign | frame.CapUpdate})
	if err := sim.Start(); err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	var n notes
	d := newDevice(t, sim.Address(), &n)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	waitFor(t, "hello", func() bool { n.mu.Lock(); defer n.mu.Unlock(); return len(n.states) > 0 })
	if got, want := drivers.Actions(d), []string{"power", "refresh", "tally"}; !slices.Equal(got, want) {
		t.Fatalf("actions %v, want %v", got, want)
	}
	st, err := d.Poll(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st["tally"] != "off" || st["sign"] != false || st["button"] != false || st["device_type"] != "tally-light" ||
		st["firmware"] != "2.1.0" || st["serial"] != "TL-9" ||
		!slices.Equal(st["capabilities"].([]string), []string{"tally", "button", "sign", "firmware_update"}) {
		t.Fatalf("state %v", st)
	}

	args, _ := wire.ParseArgs(wire.ActTally, []byte(`{"color":"red"}`))
	if err := drivers.Do(ctx, d, wire.ActTally, args); err != nil {
		t.Fatal(err)
	}
	args, _ = wire.ParseArgs(wire.ActPower, []byte(`{"on":true}`))
	if err := drivers.Do(ctx, d, wire.ActPower, args); err != nil {
		t.Fatal(err)
	}
	if s := sim.State(); s[frame.KeyTally] != 1 || s[frame.KeySign] != 1 {
		t.Fatalf("device state %v", s)
	}
	// The device has no relay: unsupported, from its capabilities, without asking it.
	args, _ = wire.ParseArgs(wire.ActRelay, []byte(`{"on":true}`))
	if err := drivers.Do(ctx, d, wire.ActRelay, args); drivers.Code(err) != wire.CodeUnsupported {
		t.Fatalf("relay on a tally light: %v", err)
	}

	if err := sim.Press(2); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "button event", func() bool { n.mu.Lock(); defer n.mu.Unlock(); return len(n.events) > 0 })
	n.mu.Lock()
	e := n.events[0]
	last := n.states[len(n.states)-1]
	n.mu.Unlock()
	if e.Type != "button" || e.Fields["index"] != 2 || e.Fields["pressed"] != true {
		t.Fatalf("event %+v", e)
	}
	waitFor(t, "button state", func() bool {
		n.mu.Lock()
		defer n.mu.Unlock()
		last = n.states[len(n.states)-1]
		return last["button"] == true
	})

	// Unplugged: unreachable.
	sim.Close()
	waitFor(t, "unreachable", func() bool {
		_, err := d.Poll(ctx)
		return errors.Is(err, drivers.ErrUnreachable)
	})
}

func TestDeviceAckCodes(t *testing.T) {
	for _, c := range []struct {
		s    frame.Status
		code string
	}{{frame.StatusUnsupported, wire.CodeUnsupported}, {frame.StatusBadArgs, wire.CodeBadArgs},
		{frame.StatusBusy, wire.CodeBusy}, {frame.StatusDeviceError, wire.CodeDeviceError}, {9, wire.CodeDeviceError}} {
		if got := drivers.Code(fwbridge.StatusError(c.s)); got != c.code {
			t.Errorf("status %d: %s, want %s", c.s, got, c.code)
		}
	}
	if fwbridge.StatusError(frame.StatusOK) != nil {
		t.Error("ok is an error")
	}
}

func TestFactoryErrors(t *testing.T) {
	info, _ := drivers.Lookup("fwbridge")
	for _, c := range []drivers.Config{
		{ID: "x", Address: "10.0.0.1:23"},
		{ID: "x", Address: "serial:/dev/ttyUSB0", Options: map[string]string{"baud": "fast"}},
		{ID: "x", Address: "serial:/dev/ttyUSB0", Options: map[string]string{"ping_ms": "0"}},
		{ID: "x", Address: "serial:/dev/ttyUSB0", Options: map[string]string{"firmware_key": "abcd"}},
	} {
		if d, err := info.New(c); err == nil {
			d.Close()
			t.Errorf("%+v: no error", c)
		}
	}
}
