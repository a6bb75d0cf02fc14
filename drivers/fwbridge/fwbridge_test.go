package fwbridge_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/bailiff/bailiff/drivers"
	"github.com/bailiff/bailiff/drivers/fwbridge"
	"github.com/bailiff/bailiff/firmware-bridge/devsim"
	"github.com/bailiff/bailiff/firmware-bridge/frame"
	"github.com/bailiff/bailiff/firmware-bridge/ota"
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
	d, err := info.New(drivers.Config{ID: "tally-1", Address: addr, Options: map[string]string{"baud": "115200", "ping_ms": "100"}, Notify: n})
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
	if got, want := drivers.Actions(d), []string{"firmware.update", "power", "refresh", "tally"}; !slices.Equal(got, want) {
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

func TestFirmwareUpdate(t *testing.T) {
	seed := make([]byte, ed25519.SeedSize)
	key := ed25519.NewKeyFromSeed(seed)
	pub := key.Public().(ed25519.PublicKey)
	sim := devsim.New(devsim.Config{Version: frame.Version{Major: 1}, Caps: frame.CapTally | frame.CapUpdate,
		TrustedKeys: []ed25519.PublicKey{pub}})
	if err := sim.Start(); err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	image := bytes.Repeat([]byte{0xA5, 0x5A, 0x00}, 2000)
	m, _ := ota.New("tally-light", frame.Version{Major: 1, Minor: 1}, image, key)
	mj, _ := json.Marshal(m)
	var n notes
	info, _ := drivers.Lookup("fwbridge")
	fetched := 0
	dev, err := info.New(drivers.Config{ID: "t", Address: sim.Address(), Notify: &n,
		Options: map[string]string{"ping_ms": "100", "firmware_key": hex.EncodeToString(pub)},
		Fetch: func(_ context.Context, url string, max int64) ([]byte, error) {
			fetched++
			if url != "http://hub/fw-1" {
				return nil, errors.New("wrong URL " + url)
			}
			return image, nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	defer dev.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	waitFor(t, "hello", func() bool { _, err := dev.Poll(ctx); return err == nil })
	args := wire.FirmwareUpdateArgs{Image: "fw-1", URL: "http://hub/fw-1", Manifest: mj, Rollout: "ro-1"}

	// Refused before anything is sent: another device type, a manifest the configured key
	// did not sign.
	other, _ := ota.New("call-button", frame.Version{Major: 2}, image, key)
	oj, _ := json.Marshal(other)
	bad := args
	bad.Manifest = oj
	if err := drivers.Do(ctx, dev, wire.ActFirmwareUpdate, &bad); drivers.Code(err) != wire.CodeBadArgs {
		t.Fatalf("other type: %v", err)
	}
	forged, _ := ota.New("tally-light", frame.Version{Major: 9}, image, ed25519.NewKeyFromSeed(bytes.Repeat([]byte{1}, 32)))
	fj, _ := json.Marshal(forged)
	bad.Manifest = fj
	if err := drivers.Do(ctx, dev, wire.ActFirmwareUpdate, &bad); drivers.Code(err) != wire.CodeBadArgs {
		t.Fatalf("forged: %v", err)
	}

	if err := drivers.Do(ctx, dev, wire.ActFirmwareUpdate, &args); err != nil {
		t.Fatal(err)
	}
	other2 := args
	other2.Rollout = "ro-2"
	if err := drivers.Do(ctx, dev, wire.ActFirmwareUpdate, &other2); drivers.Code(err) != wire.CodeBusy {
		t.Fatalf("another rollout's update at once: %v", err)
	}
	// The same rollout asked again (a hub that restarted before it learned of the first
	// ask) is taken as the one under way: nothing starts twice.
	if err := drivers.Do(ctx, dev, wire.ActFirmwareUpdate, &args); err != nil {
		t.Fatalf("the same rollout's update again: %v", err)
	}
	waitFor(t, "confirmed", func() bool {
		n.mu.Lock()
		defer n.mu.Unlock()
		for _, e := range n.events {
			if e.Type == "firmware" && e.Fields["step"] == "confirmed" {
				return true
			}
		}
		return false
	})
	n.mu.Lock()
	var steps []string
	for _, e := range n.events {
		if e.Type == "firmware" {
			if e.Fields["rollout"] != "ro-1" || e.Fields["image"] != "fw-1" {
				t.Errorf("event %v", e.Fields)
			}
			if len(steps) == 0 || steps[len(steps)-1] != e.Fields["step"] {
				steps = append(steps, e.Fields["step"].(string))
			}
		}
	}
	n.mu.Unlock()
	if want := []string{"downloading", "verifying", "rebooting", "confirmed"}; !slices.Equal(steps, want) {
		t.Fatalf("steps %v, want %v", steps, want)
	}
	if sim.Firmware() != (frame.Version{Major: 1, Minor: 1}) || fetched != 1 {
		t.Fatalf("device runs %s, fetched %d", sim.Firmware(), fetched)
	}
	// Asked again once done, it starts nothing either: the state says confirmed.
	if err := drivers.Do(ctx, dev, wire.ActFirmwareUpdate, &args); err != nil || fetched != 1 {
		t.Fatalf("the done rollout's update again: %v (fetched %d)", err, fetched)
	}
	waitFor(t, "new version in the state", func() bool {
		st, err := dev.Poll(ctx)
		return err == nil && st["firmware"] == "1.1.0" && st["firmware_update"].(map[string]any)["step"] == "confirmed"
	})
}
