package gpio

import (
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"periph.io/x/conn/v3/gpio"

	"github.com/bailiff/bailiff/drivers"
)

// Mode is what a pin does.
type Mode string

const (
	// ModeRelay drives the pin as an output: a relay (recording lamp, door strike).
	ModeRelay Mode = "relay"
	// ModeButton reads the pin as an input: a push button, debounced, reported as events.
	ModeButton Mode = "button"
)

// DefaultDebounce is how long a button's level must hold before it counts, when the
// option debounce_ms is not given. Mechanical buttons bounce for up to about 10 ms.
const DefaultDebounce = 20 * time.Millisecond

// MaxDebounce bounds the option debounce_ms.
const MaxDebounce = 10 * time.Second

// DefaultPollEvery is how often a button whose pin has no edge detection is sampled.
const DefaultPollEvery = 5 * time.Millisecond

// Options configures a Relay or a Button.
type Options struct {
	// ActiveLow inverts the pin: on (relay) or pressed (button) is the low level.
	ActiveLow bool
	// Debounce is how long a button's level must hold before the Button reports it; zero
	// reports every change at once. NewButton leaves it as it is; ParseOptions gives
	// DefaultDebounce when the option is absent.
	Debounce time.Duration
	// Pull is the button input's internal resistor: gpio.PullUp, gpio.PullDown, gpio.Float, or
	// gpio.PullNoChange (the zero value) to leave the board's setting.
	Pull gpio.Pull
	// PollEvery is how often a button is sampled when its pin has no edge detection.
	// Zero means DefaultPollEvery.
	PollEvery time.Duration
	// Notify receives a button's events and state changes, and a relay's state when a pulse
	// ends. Nil drops them.
	Notify drivers.Notifier
	// Logger gets debug records; nil discards them.
	Logger *slog.Logger
}

// Config is what a room config's options say about a pin.
type Config struct {
	Pin  string // periph pin name ("GPIO17") or any name registered in gpioreg
	Mode Mode
	Options
}

// OptionKeys are the options a device of this driver takes.
var OptionKeys = []string{"pin", "mode", "active_low", "debounce_ms", "pull"}

// ParseOptions reads a device's options: pin (required), mode (required: relay or button),
// active_low (a boolean, default false), and for buttons debounce_ms (0-10000, default 20)
// and pull (up, down or none; default: as the board has it). Errors wrap drivers.ErrBadArgs
// and name the option.
func ParseOptions(opts map[string]string) (Config, error) {
	var c Config
	for k := range opts {
		if !contains(OptionKeys, k) {
			return c, fmt.Errorf("unknown option %q (want %s): %w", k, strings.Join(OptionKeys, ", "), drivers.ErrBadArgs)
		}
	}
	c.Pin = strings.TrimSpace(opts["pin"])
	switch {
	case c.Pin == "":
		return c, fmt.Errorf("option pin is required (a pin name such as GPIO17): %w", drivers.ErrBadArgs)
	case len(c.Pin) > 64 || strings.IndexFunc(c.Pin, func(r rune) bool { return !unicode.IsPrint(r) || unicode.IsSpace(r) }) >= 0:
		return c, fmt.Errorf("option pin %q is not a pin name: %w", clip(c.Pin), drivers.ErrBadArgs)
	}
	switch m := Mode(strings.TrimSpace(opts["mode"])); m {
	case ModeRelay, ModeButton:
		c.Mode = m
	case "":
		return c, fmt.Errorf("option mode is required: relay (an output) or button (an input): %w", drivers.ErrBadArgs)
	default:
		return c, fmt.Errorf("option mode %q: want relay or button: %w", clip(string(m)), drivers.ErrBadArgs)
	}
	if v, ok := opts["active_low"]; ok {
		b, err := strconv.ParseBool(strings.TrimSpace(v))
		if err != nil {
			return c, fmt.Errorf("option active_low %q: want true or false: %w", clip(v), drivers.ErrBadArgs)
		}
		c.ActiveLow = b
	}
	c.Debounce = DefaultDebounce
	if v, ok := opts["debounce_ms"]; ok {
		if c.Mode != ModeButton {
			return c, fmt.Errorf("option debounce_ms applies to buttons only: %w", drivers.ErrBadArgs)
		}
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || n < 0 || time.Duration(n)*time.Millisecond > MaxDebounce {
			return c, fmt.Errorf("option debounce_ms %q: want 0-%d: %w", clip(v), MaxDebounce.Milliseconds(), drivers.ErrBadArgs)
		}
		c.Debounce = time.Duration(n) * time.Millisecond
	}
	if v, ok := opts["pull"]; ok {
		if c.Mode != ModeButton {
			return c, fmt.Errorf("option pull applies to buttons only: %w", drivers.ErrBadArgs)
		}
		switch strings.TrimSpace(v) {
		case "up":
			c.Pull = gpio.PullUp
		case "down":
			c.Pull = gpio.PullDown
		case "none":
			c.Pull = gpio.Float
		default:
			return c, fmt.Errorf("option pull %q: want up, down or none: %w", clip(v), drivers.ErrBadArgs)
		}
	}
	return c, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// clip shortens a value for an error message (which quotes it).
func clip(s string) string {
	if len(s) <= 32 {
		return s
	}
	i := 32
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i] + "…"
}

// active reports whether a level means on (relay) or pressed (button).
func (o Options) active(l gpio.Level) bool { return bool(l) != o.ActiveLow }

// level returns the level that means on or off.
func (o Options) level(on bool) gpio.Level { return gpio.Level(on != o.ActiveLow) }

func levelName(l gpio.Level) string {
	if l {
		return "high"
	}
	return "low"
}
