package escpossim

import (
	"github.com/bailiff/bailiff/drivers/simreg"
)

func init() {
	simreg.Register("escpos", func(o simreg.Options) (simreg.Sim, error) {
		s := New(Config{Logger: o.Logger})
		// A pty takes any baud rate the driver asks for.
		addr, err := s.StartFor(o, s.serve, s.serve)
		if err != nil {
			s.Close()
			return nil, err
		}
		return registered{s, addr}, nil
	})
}

type registered struct {
	*Sim
	addr string
}

func (r registered) Address() string { return r.addr }

// Snapshot is the printer's state and what it has printed (simreg.Inspector).
func (r registered) Snapshot() any {
	return map[string]any{"state": r.State(), "tickets": r.Tickets()}
}

// SetMode sets a misbehaviour by name (simreg.Misbehaver); "slow" waits 2 s per command.
func (r registered) SetMode(name string) error {
	_, err := r.SetModeName(name, DropOnce)
	return err
}
