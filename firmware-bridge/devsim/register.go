package devsim

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/bailiff/bailiff/drivers/simreg"
	"github.com/bailiff/bailiff/firmware-bridge/frame"
	"github.com/bailiff/bailiff/firmware-bridge/ota"
)

func init() {
	simreg.Register("fwbridge", func(o simreg.Options) (simreg.Sim, error) {
		if o.Transport != "" && o.Transport != "serial" {
			return nil, fmt.Errorf("transport %q: a firmware-bridge device is on a serial line", o.Transport)
		}
		cfg := Config{Serial: serialOf(o.ID), Caps: frame.CapTally | frame.CapButton | frame.CapUpdate, Logger: o.Logger}
		// The device trusts the key its room config names (the hub's firmware key).
		if k, ok := o.Options["firmware_key"]; ok {
			pub, err := ota.ParsePublicKey(k)
			if err != nil {
				return nil, err
			}
			cfg.TrustedKeys = append(cfg.TrustedKeys, pub)
		}
		// Its line runs at the room config's baud rate, as a real UART (not with Fast).
		if b, err := strconv.Atoi(o.Options["baud"]); err == nil && b > 0 && !o.Fast {
			cfg.Baud = b
		}
		s := New(cfg)
		var err error
		if o.SerialPath != "" {
			err = s.StartOn(o.SerialPath)
		} else {
			err = s.Start()
		}
		if err != nil {
			s.Close()
			return nil, err
		}
		return registered{s}, nil
	})
}

// serialOf makes a serial number from a device ID (printable, no space, at most 32 bytes).
func serialOf(id string) string {
	s := strings.Map(func(r rune) rune {
		if r > 0x20 && r < 0x7f {
			return r
		}
		return -1
	}, "SIM-"+id)
	return s[:min(len(s), frame.MaxString)]
}

type registered struct{ *Sim }

// Snapshot is the device's state by key name, its firmware version and the frames it dropped
// (simreg.Inspector).
func (r registered) Snapshot() any {
	st := map[string]any{}
	for k, v := range r.State() {
		st[keyName(k)] = v
	}
	return map[string]any{"state": st, "firmware": r.Firmware().String(), "dropped": r.Stats().Dropped()}
}

func keyName(k frame.Key) string {
	switch k {
	case frame.KeyTally:
		return "tally"
	case frame.KeySign:
		return "sign"
	case frame.KeyButton:
		return "button"
	case frame.KeyRelay:
		return "relay"
	case frame.KeyBrightness:
		return "brightness"
	}
	return fmt.Sprintf("key_%d", k)
}

// SetMode sets a misbehaviour by name (simreg.Misbehaver): "normal", "silent" (reads but does
// not answer), "garbage" (sends a burst of line noise now), and the update faults of Fault.
func (r registered) SetMode(mode string) error {
	switch mode {
	case "normal":
		r.SetSilent(false)
		r.SetFault(FaultNone)
		return nil
	case "silent":
		r.SetSilent(true)
		return nil
	case "garbage":
		return r.SendGarbage(64)
	}
	for f, name := range faultNames {
		if name == mode {
			r.SetFault(f)
			return nil
		}
	}
	return fmt.Errorf("devsim: unknown mode %q (want normal, silent, garbage or one of %v)", mode, slicesOfNames())
}

func slicesOfNames() []string { return slices.Sorted(maps.Values(faultNames)) }
