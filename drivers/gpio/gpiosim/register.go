package gpiosim

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/bailiff/bailiff/drivers/simreg"
)

func init() {
	simreg.Register("gpio", func(o simreg.Options) (simreg.Sim, error) {
		if o.Transport != "" {
			return nil, errors.New("GPIO pins have no transport: leave the device's address empty")
		}
		activeLow := false
		if v, ok := o.Options["active_low"]; ok {
			b, err := strconv.ParseBool(strings.TrimSpace(v))
			if err != nil {
				return nil, fmt.Errorf("option active_low %q: want true or false", v)
			}
			activeLow = b
		}
		base := "SIM_" + sanitize(o.ID)
		var err error
		for i := 1; i <= 100; i++ {
			name := base
			if i > 1 {
				name = fmt.Sprintf("%s_%d", base, i) // the same device ID in another room
			}
			var s *Sim
			if s, err = New(Config{Name: name, ActiveLow: activeLow}); err == nil {
				return registered{s}, nil
			}
		}
		return nil, err
	})
}

// registered is a Sim as simreg starts it. It has no address: the device reaches it through
// its pin option, which DeviceOptions gives for the demo to set. The pin lives in this
// process's gpioreg, so only a driver in the same process (the demo's agents, tests) can use
// it; a devsim process serves its state and modes but no agent can reach its pin.
type registered struct{ *Sim }

// Address is "": a GPIO device has no address.
func (registered) Address() string { return "" }

// DeviceOptions are the options that point the gpio driver at the pin (simreg.DeviceOptions).
func (r registered) DeviceOptions() map[string]string { return map[string]string{"pin": r.Name()} }

// Snapshot is the line's state (simreg.Inspector).
func (r registered) Snapshot() any {
	r.pin.mu.Lock()
	defer r.pin.mu.Unlock()
	return map[string]any{
		"pin": r.pin.name, "level": levelName(bool(r.pin.level)), "active": bool(r.pin.level) != r.cfg.ActiveLow,
		"output": r.pin.out, "stuck": r.pin.stuck, "changes": len(r.pin.changes),
	}
}

// SetMode acts on the line by name (simreg.Misbehaver): "normal" (follows the button and the
// driver again, button released), "stuck" (stays where it is), and, for a button, "press",
// "release" and "click" (a bouncing press of 200 ms).
func (r registered) SetMode(mode string) error {
	switch mode {
	case "normal":
		r.SetStuck(false)
		if !r.Pin().IsOutput() {
			r.Release(false)
		}
	case "stuck":
		r.SetStuck(true)
	case "press":
		r.Press(true)
	case "release":
		r.Release(true)
	case "click":
		r.Click(200*time.Millisecond, true)
	default:
		return fmt.Errorf("gpiosim: mode %q: want normal, stuck, press, release or click", mode)
	}
	return nil
}

func levelName(high bool) string {
	if high {
		return "high"
	}
	return "low"
}
