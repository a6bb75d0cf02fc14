package gpio

import (
	"errors"
	"sync"
	"testing"
	"time"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpioreg"

	"github.com/bailiff/bailiff/drivers"
	"github.com/bailiff/bailiff/drivers/gpio/gpiosim"
)

func TestParseOptions(t *testing.T) {
	for name, c := range map[string]struct {
		in   map[string]string
		want Config
	}{
		"relay": {map[string]string{"pin": "GPIO17", "mode": "relay"},
			Config{Pin: "GPIO17", Mode: ModeRelay, Options: Options{Debounce: DefaultDebounce}}},
		"active low relay": {map[string]string{"pin": " P1_11 ", "mode": "relay", "active_low": "true"},
			Config{Pin: "P1_11", Mode: ModeRelay, Options: Options{ActiveLow: true, Debounce: DefaultDebounce}}},
		"button": {map[string]string{"pin": "27", "mode": "button", "active_low": "1", "debounce_ms": "35", "pull": "up"},
			Config{Pin: "27", Mode: ModeButton, Options: Options{ActiveLow: true, Debounce: 35 * time.Millisecond, Pull: gpio.PullUp}}},
		"button no pull, no debounce": {map[string]string{"pin": "GPIO4", "mode": "button", "debounce_ms": "0", "pull": "none"},
			Config{Pin: "GPIO4", Mode: ModeButton, Options: Options{Debounce: 0, Pull: gpio.Float}}},
		"button pull down": {map[string]string{"pin": "GPIO4", "mode": "button", "pull": "down", "active_low": "false"},
			Config{Pin: "GPIO4", Mode: ModeButton, Options: Options{Debounce: DefaultDebounce, Pull: gpio.PullDown}}},
	} {
		got, err := ParseOptions(c.in)
		if err != nil || got != c.want {
			t.Errorf("%s: %+v, %v; want %+v", name, got, err, c.want)
		}
	}
	for name, in := range map[string]map[string]string{
		"empty":              {},
		"no mode":            {"pin": "GPIO1"},
		"bad mode":           {"pin": "GPIO1", "mode": "output"},
		"pull for a relay":   {"pin": "GPIO1", "mode": "relay", "pull": "up"},
		"debounce too long":  {"pin": "GPIO1", "mode": "button", "debounce_ms": "10001"},
		"debounce not a num": {"pin": "GPIO1", "mode": "button", "debounce_ms": "20ms"},
		"control character":  {"pin": "GPIO\x001", "mode": "button"},
		"long pin":           {"pin": "GPIO1234567890123456789012345678901234567890123456789012345678901234567890", "mode": "relay"},
	} {
		if _, err := ParseOptions(in); err == nil || !errors.Is(err, drivers.ErrBadArgs) {
			t.Errorf("%s: error %v", name, err)
		}
	}
}

// stubHost replaces host.Init for a test and counts its calls.
func stubHost(t *testing.T, err error) *int {
	t.Helper()
	var mu sync.Mutex
	n := 0
	old := hostInit
	hostInit = func() error {
		mu.Lock()
		defer mu.Unlock()
		n++
		return err
	}
	t.Cleanup(func() { hostInit = old })
	return &n
}

func TestLookupInitialisesTheHostOnlyForUnknownPins(t *testing.T) {
	calls := stubHost(t, nil)
	sim, err := gpiosim.New(gpiosim.Config{Name: "TEST_LOOKUP"})
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	p, err := Lookup("TEST_LOOKUP")
	if err != nil || p == nil || p.Name() != "TEST_LOOKUP" || *calls != 0 {
		t.Fatalf("Lookup = %v, %v; host.Init called %d times", p, err, *calls)
	}
	_, err = Lookup("TEST_NOT_THERE")
	if drivers.Code(err) != "unreachable" || *calls != 1 {
		t.Fatalf("unknown pin: %v; host.Init called %d times", err, *calls)
	}
	stubHost(t, errors.New("no GPIO on this machine"))
	if _, err := Lookup("TEST_NOT_THERE"); drivers.Code(err) != "unreachable" || !errors.Is(err, drivers.ErrUnreachable) {
		t.Fatalf("host.Init failed: %v", err)
	}
}

// TestReconnect: a device whose pin is missing at first finds it once it appears (a USB GPIO
// adapter plugged in, a simulator started late).
func TestReconnect(t *testing.T) {
	stubHost(t, nil)
	d, err := factory(drivers.Config{ID: "btn", Options: map[string]string{"pin": "TEST_LATE", "mode": "button"}})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	r, err := factory(drivers.Config{ID: "lamp", Options: map[string]string{"pin": "TEST_LATE_RELAY", "mode": "relay"}})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for _, dev := range []drivers.Device{d, r} {
		if _, err := dev.Poll(t.Context()); drivers.Code(err) != "unreachable" {
			t.Fatalf("missing pin: %v", err)
		}
	}
	for _, name := range []string{"TEST_LATE", "TEST_LATE_RELAY"} {
		sim, err := gpiosim.New(gpiosim.Config{Name: name})
		if err != nil {
			t.Fatal(err)
		}
		defer sim.Close()
	}
	for _, dev := range []drivers.Device{d, r} {
		if _, err := dev.Poll(t.Context()); err != nil {
			t.Fatalf("after the pin appeared: %v", err)
		}
	}
	if gpioreg.ByName("TEST_LATE") == nil {
		t.Fatal("pin gone")
	}
}
