package gpio

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"periph.io/x/conn/v3/gpio"

	"github.com/bailiff/bailiff/drivers"
	"github.com/bailiff/bailiff/drivers/gpio/internal/golden"
	"github.com/bailiff/bailiff/internal/testutil/fuzzseed"
)

// encodeCase writes an edge sequence as fuzz input: debounce in ms, flags (1 start high,
// 2 active low), then for each step the ms since the one before and its level.
func encodeCase(c golden.Case) []byte {
	flags := byte(0)
	if c.StartHigh {
		flags |= 1
	}
	if c.ActiveLow {
		flags |= 2
	}
	b := []byte{byte(c.Debounce / time.Millisecond), flags}
	var prev time.Duration
	for _, s := range c.Steps {
		lvl := byte(0)
		if s.High {
			lvl = 1
		}
		b = append(b, byte((s.At-prev)/time.Millisecond), lvl)
		prev = s.At
	}
	return b
}

func decodeCase(b []byte) golden.Case {
	var c golden.Case
	if len(b) < 2 {
		return c
	}
	c.Debounce = time.Duration(b[0]) * time.Millisecond
	c.StartHigh, c.ActiveLow = b[1]&1 != 0, b[1]&2 != 0
	var at time.Duration
	for i := 2; i+1 < len(b) && len(c.Steps) < 512; i += 2 {
		at += time.Duration(b[i]) * time.Millisecond
		c.Steps = append(c.Steps, golden.Step{At: at, High: b[i+1]&1 != 0})
	}
	return c
}

// FuzzDebounce feeds edge sequences to the debouncer and checks it against the reference
// model, and that its events alternate and each comes a debounce after an edge.
func FuzzDebounce(f *testing.F) {
	for _, c := range golden.Cases {
		f.Add(encodeCase(c))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c := decodeCase(data)
		got := simulate(c)
		if want := golden.Simulate(c); !reflect.DeepEqual(got, want) {
			t.Fatalf("case %+v: debouncer %v, model %v", c, got, want)
		}
		pressed := c.StartHigh != c.ActiveLow
		for _, e := range got {
			if e.Pressed == pressed {
				t.Fatalf("events %v do not alternate from pressed=%v", got, c.StartHigh != c.ActiveLow)
			}
			pressed = e.Pressed
			found := false
			for _, s := range c.Steps {
				if s.At+c.Debounce == e.At && (s.High != c.ActiveLow) == e.Pressed {
					found = true
				}
			}
			if !found {
				t.Fatalf("event %v is not a debounce after an edge to its level", e)
			}
		}
	})
}

var optionSeeds = []struct {
	pin, mode, activeLow, debounce, pull string
	present                              uint8
}{
	{"GPIO17", "relay", "", "", "", 0b00011},
	{"GPIO27", "button", "true", "25", "up", 0b11111},
	{"P1_11", "button", "0", "0", "none", 0b11111},
	{"GPIO4", "button", "yes", "-1", "sideways", 0b11111},
	{"", "relay", "", "", "", 0b00011},
	{"GPIO 4", "button", "", "10001", "down", 0b11011},
	{"GPIO5", "relay", "1", "5", "up", 0b11111},
}

// FuzzParseOptions feeds a device's options from a room config to ParseOptions.
func FuzzParseOptions(f *testing.F) {
	for _, s := range optionSeeds {
		f.Add(s.pin, s.mode, s.activeLow, s.debounce, s.pull, s.present)
	}
	f.Fuzz(func(t *testing.T, pin, mode, activeLow, debounce, pull string, present uint8) {
		in := map[string]string{}
		for i, kv := range [][2]string{{"pin", pin}, {"mode", mode}, {"active_low", activeLow}, {"debounce_ms", debounce}, {"pull", pull}} {
			if present&(1<<i) != 0 {
				in[kv[0]] = kv[1]
			}
		}
		c, err := ParseOptions(in)
		if err != nil {
			if !errors.Is(err, drivers.ErrBadArgs) || drivers.Code(err) != "bad_args" {
				t.Fatalf("ParseOptions(%q) error %v", in, err)
			}
			return
		}
		if c.Pin == "" || c.Pin != strings.TrimSpace(c.Pin) || len(c.Pin) > 64 {
			t.Fatalf("pin %q", c.Pin)
		}
		if c.Mode != ModeRelay && c.Mode != ModeButton {
			t.Fatalf("mode %q", c.Mode)
		}
		if c.Debounce < 0 || c.Debounce > MaxDebounce {
			t.Fatalf("debounce %v", c.Debounce)
		}
		switch c.Pull {
		case gpio.PullNoChange, gpio.Float, gpio.PullUp, gpio.PullDown:
		default:
			t.Fatalf("pull %v", c.Pull)
		}
		if c.Mode == ModeRelay && (c.Pull != gpio.PullNoChange || c.Debounce != DefaultDebounce) {
			t.Fatalf("relay with button options %+v", c)
		}
	})
}

// TestSeedCorpus checks that testdata/fuzz holds the golden cases and option seeds; run
// go test ./drivers/gpio -run TestSeedCorpus -update-corpus to write them.
func TestSeedCorpus(t *testing.T) {
	corpus := fuzzseed.Corpus{}
	for _, c := range golden.Cases {
		corpus.Add("FuzzDebounce", c.Name, encodeCase(c))
	}
	for i, s := range optionSeeds {
		corpus.Add("FuzzParseOptions", fmt.Sprintf("seed-%d", i), s.pin, s.mode, s.activeLow, s.debounce, s.pull, s.present)
	}
	fuzzseed.Check(t, corpus)
}

// TestSeedCorpusParses checks that the committed seeds are in the go fuzz format and that
// the encoding of edge sequences round-trips.
func TestSeedCorpusParses(t *testing.T) {
	fuzzseed.CheckFormat(t)
}
