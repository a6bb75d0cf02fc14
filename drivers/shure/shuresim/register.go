package shuresim

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/bailiff/bailiff/drivers/simreg"
)

func init() {
	simreg.Register("shure", func(o simreg.Options) (simreg.Sim, error) {
		cfg := Config{Logger: o.Logger}
		switch m := strings.ToLower(o.Options["model"]); m {
		case "", "mxa", "mxa910":
		case "mxa920", "mxa710", "mxa310", "p300":
			cfg.Model = strings.ToUpper(m)
		default:
			return nil, fmt.Errorf("unknown model %q", o.Options["model"])
		}
		if v, ok := o.Options["channels"]; ok {
			n, err := strconv.Atoi(v)
			if err != nil {
				return nil, fmt.Errorf("option channels %q: %w", v, err)
			}
			maxCh := 9
			if cfg.Model == "P300" {
				maxCh = 28
			}
			if n < 1 || n > maxCh {
				return nil, fmt.Errorf("option channels %d: want 1-%d", n, maxCh)
			}
			cfg.Channels = n
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

// Snapshot is the device's state (simreg.Inspector).
func (r registered) Snapshot() any { return r.State() }

// SetMode sets a misbehaviour by name (simreg.Misbehaver); "slow" waits 2 s per command.
func (r registered) SetMode(name string) error {
	_, err := r.SetModeName(name, Refuse)
	return err
}
