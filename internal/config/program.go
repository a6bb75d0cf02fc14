package config

import (
	"fmt"
	"strings"
	"time"
)

// Program is the room's program stream (what remote parties and the
// recording see) and its voice following: which camera shows which seat.
type Program struct {
	// Follow is "on" to follow the voice when the hub starts, "off" (the
	// default) for a fixed camera; the judge's panel can change it.
	Follow string `yaml:"follow" json:"follow,omitempty"`
	// Camera is the camera stream shown first (default: the first seat's).
	Camera string `yaml:"camera" json:"camera,omitempty"`
	// Audio names the microphone streams of the program, in order of
	// preference (default: every microphone stream of the room).
	Audio []string `yaml:"audio" json:"audio,omitempty"`
	// MinLevelDB is the level (dBFS, -100 to -1; default -45) a
	// microphone must reach to count as speech.
	MinLevelDB int `yaml:"min_level_db" json:"min_level_db,omitempty"`
	// Attack is how long a seat must speak before it is shown (default 400ms).
	Attack Duration `yaml:"attack" json:"attack,omitempty"`
	// Hold is how long a shot stands at least (default 3s).
	Hold Duration `yaml:"hold" json:"hold,omitempty"`
	// Release: the seat shown keeps the picture while it spoke within
	// this (default 1.5s).
	Release Duration `yaml:"release" json:"release,omitempty"`
	Seats   []Seat   `yaml:"seats" json:"seats,omitempty"`
}

// Seat maps one microphone channel to a camera shot.
type Seat struct {
	// Mic is the channel as the room's meter names it: device/channel
	// ("mics-ceiling/1").
	Mic string `yaml:"mic" json:"mic"`
	// Camera is the camera stream that frames the seat (media.streams).
	Camera string `yaml:"camera" json:"camera"`
	// Preset is the camera's preset for the seat (0-255), recalled over
	// the camera stream's camera.device when it has one.
	Preset int `yaml:"preset" json:"preset"`
	// Role is "judge" for the judge's microphone (first when several
	// speak), or empty.
	Role string `yaml:"role" json:"role,omitempty"`
}

// FollowOn reports whether voice following starts on.
func (g *Program) FollowOn() bool { return g.Follow == "on" }

// Judge reports whether the seat is the judge's.
func (s Seat) Judge() bool { return s.Role == "judge" }

// program checks media.program.
func (p *problems) program(r *Room) {
	g := r.Media.Program
	if g == nil {
		return
	}
	const k = "media.program"
	streams := map[string]Stream{}
	for _, s := range r.Media.Streams {
		streams[s.Name] = s
	}
	isCamera := func(name string) bool {
		s, ok := streams[name]
		return ok && (s.Camera != nil || (s.Clip != nil && s.Clip.Video != "none"))
	}
	if len(g.Seats) == 0 && g.Camera == "" {
		p.add(k, "want seats (microphone → camera) or a camera")
	}
	if g.Camera != "" && !isCamera(g.Camera) {
		p.add(k+".camera", "no camera stream %q in media.streams", g.Camera)
	}
	for i, a := range g.Audio {
		s, ok := streams[a]
		if !ok || s.Kind() == StreamCamera && s.Camera.Audio == "off" {
			p.add(fmt.Sprintf("%s.audio[%d]", k, i), "no stream %q with audio in media.streams", a)
		}
	}
	p.optional(k+".follow", "setting", g.Follow, []string{"on", "off"})
	if g.MinLevelDB != 0 && (g.MinLevelDB < -100 || g.MinLevelDB > -1) {
		p.add(k+".min_level_db", "%d dBFS: want -100 to -1", g.MinLevelDB)
	}
	for _, d := range []struct {
		key string
		v   Duration
		hi  time.Duration
	}{{"attack", g.Attack, 10 * time.Second}, {"hold", g.Hold, time.Minute}, {"release", g.Release, time.Minute}} {
		if d.v != 0 {
			p.between(k+"."+d.key, d.v, 0, d.hi)
		}
	}
	seen := map[string]int{}
	judges := 0
	for i, s := range g.Seats {
		sk := fmt.Sprintf("%s.seats[%d]", k, i)
		dev, ch, ok := strings.Cut(s.Mic, "/")
		if !ok || dev == "" || ch == "" {
			p.add(sk+".mic", "%s: want device/channel, as the room's meter names it (mics-ceiling/1)", quote(s.Mic))
		} else if _, found := r.Device(dev); !found {
			p.add(sk+".mic", "no device %q in this room", dev)
		}
		if j, dup := seen[s.Mic]; dup {
			p.add(sk+".mic", "microphone %q has a seat already (%s.seats[%d])", s.Mic, k, j)
		} else {
			seen[s.Mic] = i
		}
		if !isCamera(s.Camera) {
			p.add(sk+".camera", "no camera stream %q in media.streams", s.Camera)
		}
		if s.Preset < 0 || s.Preset > 255 {
			p.add(sk+".preset", "%d: want 0-255", s.Preset)
		}
		p.optional(sk+".role", "role", s.Role, []string{"judge"})
		if s.Judge() {
			judges++
		}
	}
	if judges > 1 {
		p.add(k+".seats", "%d seats are the judge's; want at most one", judges)
	}
}
