package extronsim

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/bailiff/bailiff/drivers/simreg"
)

func init() {
	simreg.Register("extron", startRegistered)
}

// startRegistered starts a switcher for the demo and the harness: the size of the device's
// "inputs" and "outputs" options (8×4 by default), each output tied to the input of the same
// number, demanding the device's "password" over TCP, on TCP or a new pty pair.
func startRegistered(o simreg.Options) (simreg.Sim, error) {
	cfg := Config{Password: o.Options["password"], Logger: o.Logger, Inputs: 8, Outputs: 4}
	for key, dst := range map[string]*int{"inputs": &cfg.Inputs, "outputs": &cfg.Outputs} {
		if v, ok := o.Options[key]; ok {
			n, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil || n < 1 || n > 512 {
				return nil, fmt.Errorf("extronsim: option %s %q: want 1-512", key, v)
			}
			*dst = n
		}
	}
	if cfg.Inputs >= 100 || cfg.Outputs >= 100 {
		cfg.Digits = 3
	}
	for out := 1; out <= cfg.Outputs; out++ {
		in := out
		if in > cfg.Inputs {
			in = 0
		}
		cfg.Video, cfg.Audio = append(cfg.Video, in), append(cfg.Audio, in)
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

// Snapshot is the switcher's state (simreg.Inspector).
func (r registered) Snapshot() any { return r.State() }

// SetMode sets a misbehaviour by name (simreg.Misbehaver): normal, slow (2 s), silent,
// garbage, drop, drop-once, or an E-code ("E22") to answer every command with ("normal"
// clears it).
func (r registered) SetMode(mode string) error {
	if len(mode) == 3 && (mode[0] == 'E' || mode[0] == 'e') {
		return r.Sim.SetError(strings.ToUpper(mode))
	}
	m, err := r.SetModeName(mode, DropOnce)
	if err != nil {
		return fmt.Errorf("extronsim: %w (or an E-code such as E22)", err)
	}
	if m == Normal {
		r.Sim.SetError("")
	}
	return nil
}
