package onvifsim

import (
	"errors"

	"github.com/bailiff/bailiff/drivers/simreg"
	"github.com/bailiff/bailiff/media/rtsp"
)

func init() {
	simreg.Register("onvif", func(o simreg.Options) (simreg.Sim, error) {
		if o.Transport != "" && o.Transport != "tcp" {
			return nil, errors.New("ONVIF runs over TCP (HTTP) only")
		}
		cfg := Config{Username: o.Options["username"], Password: o.Options["password"], Logger: o.Logger}
		if p := o.Options["profile"]; p != "" {
			// The room config names a profile token: the simulated camera has it, with PTZ.
			cfg.Profiles = []Profile{{Token: p, Name: "Main", PTZ: true}}
		}
		if o.Fast {
			cfg.Speed = 5
		}
		s := New(cfg)
		if _, err := s.Listen("127.0.0.1:0"); err != nil {
			return nil, err
		}
		// An ONVIF camera streams over RTSP too (GetStreamUri names it; RTSPURL).
		rs, err := s.ServeRTSP("127.0.0.1:0", rtsp.ServerOptions{})
		if err != nil {
			s.Close()
			return nil, err
		}
		return registered{s, rs.URL(RTSPPath)}, nil
	})
}

type registered struct {
	*Sim
	rtspURL string
}

// RTSPURL is the camera's stream, as GetStreamUri answers it.
func (r registered) RTSPURL() string { return r.rtspURL }

func (r registered) Address() string { return r.Addr() }

// Snapshot is the camera's state (simreg.Inspector).
func (r registered) Snapshot() any { return r.State() }

// SetMode sets a misbehaviour by name (simreg.Misbehaver): normal, slow (2 s), silent,
// garbage, drop, drop-once, and "fault", which answers every operation with
// env:Receiver/ter:CriticalError until the mode is set again.
func (r registered) SetMode(mode string) error {
	if mode == "fault" {
		r.Sim.SetMode(Normal)
		r.Sim.SetFault("", FaultCritical)
		return nil
	}
	if _, err := r.SetModeName(mode, DropOnce); err != nil {
		return err
	}
	r.Sim.SetFault("", nil)
	return nil
}
