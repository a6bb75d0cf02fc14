package escpossim

import (
	"context"
	"fmt"
	"net"
	"time"

	"github.com/bailiff/bailiff/drivers/transport"

	"github.com/bailiff/bailiff/drivers/simreg"
)

func init() {
	simreg.Register("escpos", func(o simreg.Options) (simreg.Sim, error) {
		s := New(Config{Logger: o.Logger})
		var err error
		switch o.Transport {
		case "", "tcp":
			_, err = s.Listen("127.0.0.1:0")
		case "serial":
			if o.SerialPath == "" {
				_, err = s.ServePTY() // a pty takes any baud rate the driver asks for
				break
			}
			var c net.Conn
			if c, err = transport.Dial(context.Background(), "serial:"+o.SerialPath, transport.Options{}); err == nil {
				go s.ServeConn(c)
				return serialSim{registered{s}, "serial:" + o.SerialPath}, nil
			}
		default:
			err = fmt.Errorf("ESC/POS runs over TCP or serial, not %s", o.Transport)
		}
		if err != nil {
			s.Close()
			return nil, err
		}
		return registered{s}, nil
	})
}

type registered struct{ *Sim }

// Snapshot is the printer's state and what it has printed (simreg.Inspector).
func (r registered) Snapshot() any {
	return map[string]any{"state": r.State(), "tickets": r.Tickets()}
}

// SetMode sets a misbehaviour by name (simreg.Misbehaver); "slow" waits 2 s per command.
func (r registered) SetMode(name string) error {
	m, err := simreg.ModeByName(name, Normal, DropOnce)
	if err != nil {
		return err
	}
	if m == Slow {
		r.Sim.SetDelay(2 * time.Second)
	}
	r.Sim.SetMode(m)
	return nil
}

// serialSim is a printer served on an existing serial line (one end of a socat pair).
type serialSim struct {
	registered
	addr string
}

func (s serialSim) Address() string { return s.addr }
