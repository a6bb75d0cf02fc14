package mdcsim

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/bailiff/bailiff/drivers/simreg"
)

func init() {
	simreg.Register("samsungmdc", startRegistered)
}

// startRegistered starts a display for the demo and the harness: in standby, volume 25, on
// HDMI1, answering to the device's display ID ("id" option; 0 for the broadcast ID), over
// TCP, a new pty pair, or the serial line at o.SerialPath.
func startRegistered(o simreg.Options) (simreg.Sim, error) {
	cfg := Config{Volume: 25, Logger: o.Logger}
	if s, ok := o.Options["id"]; ok {
		n, err := strconv.ParseUint(strings.TrimSpace(s), 0, 8)
		if err != nil || n > broadcast {
			return nil, fmt.Errorf("mdcsim: option id %q: want 0-254", s)
		}
		if n == broadcast {
			n = 0 // a broadcast device reaches every display; this one answers to ID 0
		}
		cfg.ID = byte(n)
	}
	s := New(cfg)
	addr, err := s.StartFor(o, s.serve, s.serve)
	if err != nil {
		s.Close()
		return nil, err
	}
	return registered{Sim: s, addr: addr}, nil
}

type registered struct {
	*Sim
	addr string
}

var (
	_ simreg.Inspector  = registered{}
	_ simreg.Misbehaver = registered{}
)

func (r registered) Address() string { return r.addr }

// Snapshot is the display's state (simreg.Inspector).
func (r registered) Snapshot() any { return r.State() }

// SetMode sets a misbehaviour by name (simreg.Misbehaver): normal, slow (2 s), silent,
// garbage, drop, drop-once.
func (r registered) SetMode(mode string) error {
	if _, err := r.SetModeName(mode, DropOnce); err != nil {
		return fmt.Errorf("mdcsim: %w", err)
	}
	return nil
}
