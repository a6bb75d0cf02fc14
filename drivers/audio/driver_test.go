package audio_test

import (
	"context"
	"errors"
	"maps"
	"math"
	"sync"
	"testing"
	"time"

	"github.com/bailiff/bailiff/drivers"
	"github.com/bailiff/bailiff/drivers/audio"
	"github.com/bailiff/bailiff/drivers/audio/audiosim"
	"github.com/bailiff/bailiff/drivers/simreg"
	"github.com/bailiff/bailiff/internal/wire"
)

// meters is a drivers.Notifier that keeps the levels and events.
type meters struct {
	mu     sync.Mutex
	levels []map[string]float64
	events []string
}

func (m *meters) Event(typ string, _ map[string]any) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.events = append(m.events, typ)
}

func (m *meters) Meter(l map[string]float64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.levels = append(m.levels, maps.Clone(l))
}

func (m *meters) State(drivers.State) {}

// next waits for n levels after now and returns the last.
func (m *meters) next(t *testing.T, n int) map[string]float64 {
	t.Helper()
	m.mu.Lock()
	from := len(m.levels)
	m.mu.Unlock()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		m.mu.Lock()
		if len(m.levels) >= from+n {
			l := m.levels[len(m.levels)-1]
			m.mu.Unlock()
			return l
		}
		m.mu.Unlock()
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("no levels")
	return nil
}

func near(a, b float64) bool { return math.Abs(a-b) < 0.1 }

func newDevice(t *testing.T, opts map[string]string, n drivers.Notifier) drivers.Device {
	t.Helper()
	info, ok := drivers.Lookup("audio")
	if !ok {
		t.Fatal("driver audio is not registered")
	}
	dev, err := info.New(drivers.Config{ID: "bench-mic", Options: opts, Notify: n})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dev.Close() })
	return dev
}

func do(t *testing.T, dev drivers.Device, action, args string) {
	t.Helper()
	a, err := wire.ParseArgs(action, []byte(args))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := drivers.Do(ctx, dev, action, a); err != nil {
		t.Fatalf("%s %s: %v", action, args, err)
	}
}

func poll(t *testing.T, dev drivers.Device) (drivers.State, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return dev.Poll(ctx)
}

// The driver end to end on the simulator's WAV file: state, levels at the meter rate, mute
// and gain through the contract's actions.
func TestDriverWithSimulator(t *testing.T) {
	for _, float := range []bool{false, true} {
		sim, err := audiosim.New(audiosim.Config{Signal: audiosim.Tone, Level: -20, Channels: 2, Float: float})
		if err != nil {
			t.Fatal(err)
		}
		defer sim.Close()
		opts := sim.DeviceOptions()
		opts["meter_rate_ms"] = "100"
		opts["channels"] = "2"
		rec := &meters{}
		dev := newDevice(t, opts, rec)

		st, err := poll(t, dev)
		if err != nil {
			t.Fatal(err)
		}
		sf := "s16"
		if float {
			sf = "f32"
		}
		if st["status"] != audio.StatusRunning || st["source"] != "wav" || st["file"] != sim.Path() || st["loop"] != true ||
			st["sample_rate"] != 48000 || st["channels"] != 2 || st["sample_format"] != sf || st["muted"] != false || st["gain_db"] != 0.0 {
			t.Fatalf("state %v", st)
		}
		l := rec.next(t, 2)
		for _, ch := range []string{"1", "2"} {
			if !near(l[ch], -23.01) || !near(l[ch+"/peak"], -20) {
				t.Fatalf("levels %v", l)
			}
		}

		do(t, dev, "gain", `{"db":-6}`)
		if l := rec.next(t, 2); !near(l["1"], -29.01) || !near(l["2/peak"], -26) {
			t.Fatalf("at -6 dB: %v", l)
		}
		do(t, dev, "mute", `{"on":true}`)
		if l := rec.next(t, 2); l["1"] != audio.Floor || l["2/peak"] != audio.Floor {
			t.Fatalf("muted: %v", l)
		}
		st, _ = poll(t, dev)
		if st["muted"] != true || st["gain_db"] != -6.0 || st["levels"].(map[string]float64)["1"] != audio.Floor {
			t.Fatalf("muted state %v", st)
		}
		do(t, dev, "mute", `{"on":false}`)
		do(t, dev, "gain", `{"db":0}`)
		if l := rec.next(t, 2); !near(l["1"], -23.01) {
			t.Fatalf("unmuted: %v", l)
		}
		ctx := context.Background()
		if err := drivers.Do(ctx, dev, "mute", &wire.MuteArgs{On: ptr(true), Channel: "1"}); drivers.Code(err) != "bad_args" {
			t.Fatalf("mute of channel 1: %v", err)
		}
		if err := drivers.Do(ctx, dev, "power", &wire.PowerArgs{On: ptr(true)}); drivers.Code(err) != "unsupported" {
			t.Fatalf("power: %v", err)
		}
	}
}

func ptr[T any](v T) *T { return &v }

// An unplugged microphone (no file) is unreachable; it comes back by itself when plugged in.
func TestDriverMissingAndBack(t *testing.T) {
	sim, err := audiosim.New(audiosim.Config{Signal: audiosim.Tone, Duration: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	if err := sim.Remove(); err != nil {
		t.Fatal(err)
	}
	rec := &meters{}
	dev := newDevice(t, sim.DeviceOptions(), rec)
	st, err := poll(t, dev)
	if !errors.Is(err, drivers.ErrUnreachable) || drivers.Code(err) != "unreachable" || st["status"] != audio.StatusFailed {
		t.Fatalf("missing file: %v, %v", st, err)
	}
	if err := sim.Restore(); err != nil {
		t.Fatal(err)
	}
	rec.next(t, 1) // reopened after the backoff (500 ms)
	if st, err := poll(t, dev); err != nil || st["status"] != audio.StatusRunning {
		t.Fatalf("back: %v, %v", st, err)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.events) != 1 || rec.events[0] != "fault" {
		t.Fatalf("events %v", rec.events)
	}
}

// A file that is not audio is a device error: reachable, but wrong.
func TestDriverCorruptFile(t *testing.T) {
	sim, err := audiosim.New(audiosim.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	if err := sim.Corrupt(); err != nil {
		t.Fatal(err)
	}
	dev := newDevice(t, sim.DeviceOptions(), drivers.Discard)
	st, err := poll(t, dev)
	if !errors.Is(err, audio.ErrBadWAV) || drivers.Code(err) != "device_error" || st["status"] != audio.StatusFailed {
		t.Fatalf("corrupt file: %v, %v", st, err)
	}
}

// A file in another format than the options ask is refused.
func TestDriverFormatMismatch(t *testing.T) {
	sim, err := audiosim.New(audiosim.Config{SampleRate: 16000})
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	opts := sim.DeviceOptions()
	opts["sample_rate"] = "48000"
	dev := newDevice(t, opts, drivers.Discard)
	if _, err := poll(t, dev); drivers.Code(err) != "device_error" {
		t.Fatalf("mismatch: %v", err)
	}
}

// A file that does not loop ends; the input says so and is not an error.
func TestDriverEnds(t *testing.T) {
	sim, err := audiosim.New(audiosim.Config{NoLoop: true, Duration: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	dev := newDevice(t, sim.DeviceOptions(), drivers.Discard)
	deadline := time.Now().Add(5 * time.Second)
	for {
		st, err := poll(t, dev)
		if err != nil {
			t.Fatal(err)
		}
		if st["status"] == audio.StatusEnded {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("state %v", st)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// What the demo does: start the simulator from the registry, merge its DeviceOptions into
// the device's, and run the driver on them.
func TestDriverFromRegistry(t *testing.T) {
	devOpts := map[string]string{"device": "USB Podium Mic", "backend": "alsa", "meter_rate_ms": "100"}
	sim, err := simreg.Start("audio", simreg.Options{ID: "bench-mic", Options: devOpts, Fast: true})
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	opts := maps.Clone(devOpts)
	maps.Copy(opts, sim.(interface{ DeviceOptions() map[string]string }).DeviceOptions())
	rec := &meters{}
	dev := newDevice(t, opts, rec)
	if st, err := poll(t, dev); err != nil || st["status"] != audio.StatusRunning {
		t.Fatalf("%v, %v", st, err)
	}
	// Speech-like: the loudest window of a second peaks near the simulator's −10 dBFS.
	rec.next(t, 10)
	rec.mu.Lock()
	defer rec.mu.Unlock()
	loudest := -200.0
	for _, l := range rec.levels {
		loudest = max(loudest, l["1/peak"])
	}
	if loudest < -16 || loudest > -9.9 {
		t.Fatalf("loudest peak %v dBFS", loudest)
	}
}
