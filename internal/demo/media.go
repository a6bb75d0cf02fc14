package demo

import (
	"log/slog"
	"net"

	"github.com/pion/ice/v4"
	"github.com/pion/webrtc/v4"

	"github.com/bailiff/bailiff/internal/config"
	"github.com/bailiff/bailiff/media/source"
)

// rtspSim is a simulator that serves its camera's picture over RTSP (the VISCA and ONVIF
// simulators).
type rtspSim interface{ RTSPURL() string }

// pointMedia makes the rooms' media run on simulators: a camera whose device's simulator
// serves RTSP is pulled from it; any other camera, and every microphone, becomes a looping
// clip (the demo has no sound card, and the hub's binary is built without cgo); speakers
// are left out. It returns how many streams each kind became.
func (d *Demo) pointMedia(rooms []*config.Room, log *slog.Logger) (cameras, clips int) {
	for _, r := range rooms {
		m := &r.Media
		for i := range m.Streams {
			s := &m.Streams[i]
			switch {
			case s.Camera != nil:
				if sim, ok := d.Sims[r.Site+"/"+r.Room+"/"+s.Camera.Device].(rtspSim); ok {
					s.Camera.RTSP = sim.RTSPURL()
					s.Camera.Transport = ""
					cameras++
					continue
				}
				s.Camera, s.Clip = nil, &config.Clip{Video: "h264", Audio: "none"}
			case s.Microphone != nil:
				s.Microphone, s.Clip = nil, &config.Clip{Video: "none", Audio: "opus"}
			}
			clips++
		}
		if len(m.Speakers) > 0 {
			log.Info("demo: room speakers left out (no sound card)", "site", r.Site, "room", r.Room, "speakers", len(m.Speakers))
			m.Speakers = nil
		}
	}
	return cameras, clips
}

// mediaEndpoint is how the demo's agents reach the hub's media: on loopback only, like the
// hub's own media, unless the demo may listen elsewhere.
func mediaEndpoint(loopback bool) source.Endpoint {
	if !loopback {
		return source.Endpoint{}
	}
	se := webrtc.SettingEngine{}
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	se.SetIncludeLoopbackCandidate(true)
	se.SetIPFilter(func(ip net.IP) bool { return ip.IsLoopback() })
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	api, err := source.NewAPI(&se)
	if err != nil {
		return source.Endpoint{}
	}
	return source.Endpoint{API: api}
}
