package viscasim

import (
	"fmt"
	"strconv"
	"time"

	"github.com/bailiff/bailiff/drivers/simreg"
	"github.com/bailiff/bailiff/media/rtsp"
)

func init() {
	simreg.Register("visca", func(o simreg.Options) (simreg.Sim, error) {
		cfg := Config{BootTime: 3 * time.Second, Logger: o.Logger}
		if o.Fast {
			cfg.BootTime, cfg.Speed = 50*time.Millisecond, 20
		}
		// A serial device names its camera on the line: the chain has at least that many.
		if n, err := strconv.Atoi(o.Options["camera"]); err == nil && n > 1 && n <= 7 {
			cfg.Cameras = n
		}
		s := New(cfg)
		var addr string
		var err error
		switch o.Transport {
		case "", "tcp":
			addr, err = s.ListenTCP("127.0.0.1:0")
		case "udp":
			addr, err = s.ListenUDP("127.0.0.1:0")
		case "serial":
			if o.SerialPath != "" {
				addr, err = s.ServeSerialPath(o.SerialPath)
			} else {
				addr, err = s.OpenSerial()
			}
		default:
			err = fmt.Errorf("transport %q: want tcp, udp or serial", o.Transport)
		}
		if err != nil {
			s.Close()
			return nil, err
		}
		// A simulated PTZ camera is an IP camera too: its picture over RTSP (RTSPURL).
		rs, err := s.ServeRTSP("127.0.0.1:0", rtsp.ServerOptions{})
		if err != nil {
			s.Close()
			return nil, err
		}
		return registered{s, addr, rs.URL(RTSPPath)}, nil
	})
}

type registered struct {
	*Sim
	addr    string
	rtspURL string
}

// RTSPURL is the camera's stream (rtsp://127.0.0.1:PORT/stream1).
func (r registered) RTSPURL() string { return r.rtspURL }

func (r registered) Address() string { return r.addr }

// Snapshot is the state of every camera on the simulator, by camera address (simreg.Inspector).
func (r registered) Snapshot() any {
	out := map[string]State{}
	for n := 1; n <= r.Sim.cfg.Cameras; n++ {
		out[strconv.Itoa(n)] = r.State(n)
	}
	return out
}

// SetMode sets a misbehaviour by name (simreg.Misbehaver); "slow" waits 2 s per command.
func (r registered) SetMode(name string) error {
	_, err := r.SetModeName(name, DropOnce)
	return err
}
