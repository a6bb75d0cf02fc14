package config

import (
	"fmt"
	"net/url"
	"strings"
)

// RoomMedia is what a room's agent publishes to the hub and plays in the room.
type RoomMedia struct {
	// Hub is the hub's HTTP base URL (http://hub.court.example:8080) that the agent
	// publishes to, at {hub}/whip/{site}/{room}/{stream}. The agent's --hub flag overrides it.
	Hub      string    `yaml:"hub" json:"hub,omitempty"`
	Streams  []Stream  `yaml:"streams" json:"streams,omitempty"`
	Speakers []Speaker `yaml:"speakers" json:"speakers,omitempty"`
	// Program is the room's program stream and its voice following (program.go).
	Program *Program `yaml:"program" json:"program,omitempty"`
}

// Stream is one stream the agent publishes: exactly one of Camera, Microphone and Clip.
type Stream struct {
	Name       string      `yaml:"name" json:"name"`
	Camera     *Camera     `yaml:"camera" json:"camera,omitempty"`
	Microphone *Microphone `yaml:"microphone" json:"microphone,omitempty"`
	Clip       *Clip       `yaml:"clip" json:"clip,omitempty"`
}

// Camera is an IP camera whose RTSP H.264 the agent passes on untouched.
type Camera struct {
	RTSP      string `yaml:"rtsp" json:"rtsp"`           // rtsp://[user:password@]host[:port]/path; may hold a secret
	Transport string `yaml:"transport" json:"transport"` // tcp (default) or udp
	Device    string `yaml:"device" json:"device,omitempty"`
	Audio     string `yaml:"audio" json:"audio,omitempty"` // on (default: the camera's Opus, if any) or off
}

// Microphone is a capture device of the agent's host, published as Opus.
type Microphone struct {
	Input    string `yaml:"input" json:"input,omitempty"`       // capture device name (or part of it); empty: the default
	Backend  string `yaml:"backend" json:"backend,omitempty"`   // malgo backend, as the audio driver's option
	Channels string `yaml:"channels" json:"channels,omitempty"` // 1 (default) or 2
}

// Clip is a looping bundled clip: the demo's and the tests' stand-in for a camera or a mic.
type Clip struct {
	Video string `yaml:"video" json:"video,omitempty"` // h264 (default), vp8 or none
	Audio string `yaml:"audio" json:"audio,omitempty"` // opus (default) or none
}

// Speaker plays the audio of a stream the hub carries out of one of the room's outputs.
type Speaker struct {
	Stream  string `yaml:"stream" json:"stream"`             // the stream's name
	Room    string `yaml:"room" json:"room,omitempty"`       // its room, in the same site; default this room
	Output  string `yaml:"output" json:"output,omitempty"`   // playback device name (or part of it); empty: the default
	Backend string `yaml:"backend" json:"backend,omitempty"` // malgo backend
}

// Stream kinds, as Stream.Kind names them.
const (
	StreamCamera     = "camera"
	StreamMicrophone = "microphone"
	StreamClip       = "clip"
)

// Kind tells which source a stream has ("" when none).
func (s Stream) Kind() string {
	switch {
	case s.Camera != nil:
		return StreamCamera
	case s.Microphone != nil:
		return StreamMicrophone
	case s.Clip != nil:
		return StreamClip
	}
	return ""
}

// media checks the room's media section.
func (p *problems) media(r *Room) {
	m := r.Media
	if m.Hub != "" {
		if msg := checkHubURL(m.Hub); msg != "" {
			p.add("media.hub", "%s", msg)
		}
	}
	seen := map[string]int{}
	for i, s := range m.Streams {
		k := fmt.Sprintf("media.streams[%d]", i)
		p.id(k+".name", "stream", s.Name)
		if j, dup := seen[s.Name]; dup && s.Name != "" {
			p.add(k+".name", "duplicate stream name %q (also media.streams[%d])", s.Name, j)
		} else {
			seen[s.Name] = i
		}
		n := 0
		for _, set := range []bool{s.Camera != nil, s.Microphone != nil, s.Clip != nil} {
			if set {
				n++
			}
		}
		if n != 1 {
			p.add(k, "want exactly one of camera, microphone or clip, got %d", n)
		}
		if c := s.Camera; c != nil {
			if msg := checkRTSPURL(c.RTSP); msg != "" {
				p.add(k+".camera.rtsp", "%s", msg)
			}
			p.optional(k+".camera.transport", "transport", c.Transport, []string{"tcp", "udp"})
			p.optional(k+".camera.audio", "setting", c.Audio, []string{"on", "off"})
			if c.Device != "" {
				if _, ok := r.Device(c.Device); !ok {
					p.add(k+".camera.device", "no device %q in this room", c.Device)
				}
			}
		}
		if mic := s.Microphone; mic != nil {
			p.optional(k+".microphone.channels", "channel count", mic.Channels, []string{"1", "2"})
			p.name(k+".microphone.input", mic.Input, false)
		}
		if c := s.Clip; c != nil {
			p.optional(k+".clip.video", "video clip", c.Video, []string{"h264", "vp8", "none"})
			p.optional(k+".clip.audio", "audio clip", c.Audio, []string{"opus", "none"})
			if c.Video == "none" && c.Audio == "none" {
				p.add(k+".clip", "video and audio are both none: nothing to publish")
			}
		}
	}
	for i, s := range m.Speakers {
		k := fmt.Sprintf("media.speakers[%d]", i)
		p.id(k+".stream", "stream", s.Stream)
		if s.Room != "" {
			p.id(k+".room", "room", s.Room)
		}
		p.name(k+".output", s.Output, false)
	}
	p.program(r)
}

// optional checks a value that may be empty (its default) or one of want.
func (p *problems) optional(key, what, s string, want []string) {
	if s != "" {
		p.oneOf(key, what, s, want)
	}
}

// checkHubURL checks the hub's HTTP base URL: http(s)://host[:port] and nothing else.
func checkHubURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return fmt.Sprintf("%s: want http://host[:port] or https://host[:port]", quote(s))
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Sprintf("%s: scheme %q not supported; want http or https", quote(u.Redacted()), u.Scheme)
	}
	if u.User != nil || strings.Trim(u.Path, "/") != "" || u.RawQuery != "" || u.Fragment != "" {
		return fmt.Sprintf("%s: want only scheme, host and port (the agent adds /whip/…)", quote(u.Redacted()))
	}
	return ""
}

// checkRTSPURL checks a camera's RTSP URL without ever quoting its password.
func checkRTSPURL(s string) string {
	if s == "" {
		return "required: the camera's stream, rtsp://[user:password@]host[:port]/path"
	}
	u, err := url.Parse(s)
	if err != nil {
		return "does not parse; want rtsp://[user:password@]host[:port]/path"
	}
	if u.Scheme != "rtsp" {
		return fmt.Sprintf("%s: scheme %q not supported; want rtsp", quote(u.Redacted()), u.Scheme)
	}
	if u.Hostname() == "" {
		return fmt.Sprintf("%s: no host", quote(u.Redacted()))
	}
	return ""
}
