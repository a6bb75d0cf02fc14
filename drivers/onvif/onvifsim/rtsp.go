package onvifsim

import (
	"fmt"
	"strings"

	"github.com/bailiff/bailiff/media/rtsp"
)

// RTSPPath is the path of the simulated camera's stream.
const RTSPPath = "Streaming/Channels/101"

// ServeRTSP makes the simulated camera stream a looping H.264 picture with Opus sound over
// RTSP (package media/rtsp) until the Sim is closed, and answer the Media Service's
// GetStreamUri with its URL for every profile. It returns the RTSP server.
func (s *Sim) ServeRTSP(addr string, o rtsp.ServerOptions) (*rtsp.Server, error) {
	if o.Logger == nil {
		o.Logger = s.log
	}
	srv, err := rtsp.ServeCamera(addr, RTSPPath, o)
	if err != nil {
		return nil, fmt.Errorf("onvifsim: %w", err)
	}
	u := srv.URL(RTSPPath)
	s.streamURI.Store(&u)
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		<-s.done
		srv.Close()
	}()
	return srv, nil
}

// streamURIReply answers GetStreamUri for a profile of the camera.
func (s *Sim) streamURIReply(a *args) (string, *Fault) {
	u := s.streamURI.Load()
	if u == nil {
		return "", FaultActionNotSupported
	}
	if a.ProfileToken == nil {
		return "", senderFault("Invalid Args: ProfileToken missing", "ter:InvalidArgs")
	}
	found := false
	for _, p := range s.cfg.Profiles {
		found = found || p.Token == strings.TrimSpace(*a.ProfileToken)
	}
	if !found {
		return "", FaultNoProfile
	}
	return "<trt:GetStreamUriResponse><trt:MediaUri><tt:Uri>" + esc(*u) + "</tt:Uri>" +
		"<tt:InvalidAfterConnect>false</tt:InvalidAfterConnect><tt:InvalidAfterReboot>false</tt:InvalidAfterReboot>" +
		"<tt:Timeout>PT0S</tt:Timeout></trt:MediaUri></trt:GetStreamUriResponse>", nil
}
