package mdcsim

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/bailiff/bailiff/drivers/simreg"
	"github.com/bailiff/bailiff/drivers/transport"
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
	var addr string
	var err error
	switch {
	case o.Transport == "" || o.Transport == "tcp":
		addr, err = s.Listen("127.0.0.1:0")
	case o.Transport == "serial" && o.SerialPath == "":
		addr, err = s.ListenPTY()
	case o.Transport == "serial":
		addr, err = serveSerialPath(s, o)
	default:
		err = fmt.Errorf("mdcsim: MDC runs over TCP or a serial line, not %q", o.Transport)
	}
	if err != nil {
		s.Close()
		return nil, err
	}
	return registered{Sim: s, addr: addr}, nil
}

// serveSerialPath serves the existing serial device o.SerialPath, with the line settings of
// the device's options.
func serveSerialPath(s *Sim, o simreg.Options) (string, error) {
	var topts transport.Options
	if err := transport.SerialOptions(o.Options, &topts); err != nil {
		return "", err
	}
	addr := "serial:" + o.SerialPath
	c, err := transport.Dial(context.Background(), addr, topts)
	if err != nil {
		return "", err
	}
	go s.ServeLine(c)
	return addr, nil
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
	m, err := simreg.ModeByName(mode, Normal, DropOnce)
	if err != nil {
		return fmt.Errorf("mdcsim: %w", err)
	}
	if m == Slow {
		r.Sim.SetDelay(2 * time.Second)
	}
	r.Sim.SetMode(m)
	return nil
}
