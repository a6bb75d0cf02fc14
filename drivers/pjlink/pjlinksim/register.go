package pjlinksim

import (
	"time"

	"github.com/bailiff/bailiff/drivers/simreg"
)

func init() {
	simreg.Register("pjlink", func(o simreg.Options) (simreg.Sim, error) {
		cfg := Config{Password: o.Options["password"], Name: o.Name, WarmUp: 3 * time.Second, CoolDown: 2 * time.Second,
			LampHours: 1200, LampHourEvery: 10 * time.Second, Logger: o.Logger}
		if o.Fast {
			cfg.WarmUp, cfg.CoolDown = 50*time.Millisecond, 50*time.Millisecond
		}
		s := New(cfg)
		if _, err := s.StartFor(o, s.serve, nil); err != nil {
			s.Close()
			return nil, err
		}
		return registered{s}, nil
	})
}

type registered struct{ *Sim }

func (r registered) Address() string { return r.Addr() }

// Snapshot is the projector's state (simreg.Inspector).
func (r registered) Snapshot() any { return r.State() }

// SetMode sets a misbehaviour by name (simreg.Misbehaver); "slow" waits 2 s per command.
func (r registered) SetMode(mode string) error {
	_, err := r.SetModeName(mode, DropOnce)
	return err
}
