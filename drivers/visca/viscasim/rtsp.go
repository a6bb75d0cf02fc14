package viscasim

import (
	"fmt"

	"github.com/bailiff/bailiff/media/rtsp"
)

// RTSPPath is the path of a simulated camera's stream, as many IP cameras name their main
// stream.
const RTSPPath = "stream1"

// ServeRTSP makes the simulated camera an IP camera as well: it serves a looping H.264
// picture with Opus sound at rtsp://ADDR/stream1 (package media/rtsp; o may demand
// credentials) until the Sim is closed. It returns the RTSP server, whose URL(RTSPPath) is
// the stream's URL and which can be told to misbehave.
func (s *Sim) ServeRTSP(addr string, o rtsp.ServerOptions) (*rtsp.Server, error) {
	if o.Logger == nil {
		o.Logger = s.log
	}
	srv, err := rtsp.ServeCamera(addr, RTSPPath, o)
	if err != nil {
		return nil, fmt.Errorf("viscasim: %w", err)
	}
	if !s.Go(func() {
		<-s.Done()
		srv.Close()
	}) {
		srv.Close()
		return nil, fmt.Errorf("viscasim: the simulator is closed")
	}
	return srv, nil
}
