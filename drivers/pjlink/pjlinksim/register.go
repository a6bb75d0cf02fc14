package pjlinksim

import (
	"errors"
	"time"

	"github.com/bailiff/bailiff/drivers/simreg"
)

func init() {
	simreg.Register("pjlink", func(o simreg.Options) (simreg.Sim, error) {
		if o.Transport != "" && o.Transport != "tcp" {
			return nil, errors.New("PJLink runs over TCP only")
		}
		cfg := Config{Password: o.Options["password"], Name: o.Name, WarmUp: 3 * time.Second, CoolDown: 2 * time.Second,
			LampHours: 1200, LampHourEvery: 10 * time.Second, Logger: o.Logger}
		if o.Fast {
			cfg.WarmUp, cfg.CoolDown = 50*time.Millisecond, 50*time.Millisecond
		}
		s := New(cfg)
		if _, err := s.Listen("127.0.0.1:0"); err != nil {
			return nil, err
		}
		return registered{s}, nil
	})
}

type registered struct{ *Sim }

func (r registered) Address() string { return r.Addr() }

// Snapshot is the projector's state (simreg.Inspector).
func (r registered) Snapshot() any { return r.State() }

// SetMode sets a misbehaviour by name (simreg.Misbehaver).
func (r registered) SetMode(mode string) error {
	m, err := simreg.ModeByName(mode, Normal, DropOnce)
	if err != nil {
		return err
	}
	if m == Slow {
		r.Sim.SetDelay(2 * time.Second)
	}
	r.Sim.SetMode(m)
	return nil
}
