package sfu

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtp"
)

// ProgramOptions configure a room's program stream.
type ProgramOptions struct {
	// Name is the program stream's name in the room ("program" if empty).
	Name string
	// Cameras are the names of the room's camera streams the program may
	// show: each one's first video track.
	Cameras []string
	// Audio are the names of the room's microphone streams: the program's
	// audio is the first audio track of the first of them that is live
	// (audio is forwarded, never mixed).
	Audio []string
	// Camera is the camera shown first (Cameras[0] if empty).
	Camera string
}

// ProgramStats count a program's switches.
type ProgramStats struct {
	Camera   string // the camera forwarded now ("" before the first keyframe)
	Want     string // the camera asked for
	Switches int64  // cuts made (on a keyframe)
}

// Program is a room's program stream: video from one of the room's
// camera streams, switchable at run time, and audio from its microphone
// stream. Viewers and the recorder take it like any other stream. A
// switch takes effect on the new camera's next keyframe (asked for at
// once); until then the old camera goes on. SSRCs, sequence numbers and
// timestamps are rewritten so that the program's tracks are continuous:
// a viewer sees one track with no gap in its sequence numbers across a
// switch, whose first packet after a switch begins a keyframe.
type Program struct {
	sfu   *SFU
	o     ProgramOptions
	st    *Stream
	watch func()

	mu       sync.Mutex // orders the program's packets; under it: what follows
	video    *Track
	audio    *Track
	cams     map[string]*Track // camera → its live video track
	mics     map[string]*Track // microphone stream → its live audio track
	cur      string            // camera being forwarded
	want     string            // camera asked for
	aSrc     *Track            // audio track being forwarded
	vOut     rewriter
	aOut     rewriter
	detaches []func()
	closed   bool

	switches atomic.Int64
	kf       chan struct{} // keyframe requests, served by keyframeLoop
}

// NewProgram makes the program stream of a room: its key is (site, room,
// o.Name). It takes its tracks from the cameras' and microphones' streams
// as they are published, now and later, until Close.
func (s *SFU) NewProgram(site, room string, o ProgramOptions) (*Program, error) {
	if o.Name == "" {
		o.Name = "program"
	}
	key := Key{Site: site, Room: room, Name: o.Name}
	if err := key.Valid(); err != nil {
		return nil, err
	}
	if len(o.Cameras) == 0 {
		return nil, fmt.Errorf("%w: program %s has no cameras", ErrBadKey, key)
	}
	for _, n := range slices.Concat(o.Cameras, o.Audio) {
		if n == o.Name {
			return nil, fmt.Errorf("%w: program %s takes from itself", ErrBadKey, key)
		}
	}
	if o.Camera == "" {
		o.Camera = o.Cameras[0]
	}
	if !slices.Contains(o.Cameras, o.Camera) {
		return nil, fmt.Errorf("%w: %q is not a camera of program %s", ErrBadKey, o.Camera, key)
	}
	if st := s.Stream(key); st != nil {
		return nil, fmt.Errorf("%w: %s is already published", ErrBadKey, key)
	}
	expected := 1
	if len(o.Audio) > 0 {
		expected = 2
	}
	p := &Program{sfu: s, o: o, want: o.Camera, cams: map[string]*Track{}, mics: map[string]*Track{}}
	p.st = newStream(s, key, nil, expected)
	p.vOut.rate, p.aOut.rate = 90000, 48000
	p.vOut.ssrc, p.aOut.ssrc = randomSSRC(), randomSSRC()
	if err := s.register(p.st); err != nil {
		return nil, err
	}
	p.kf = make(chan struct{}, 1)
	go p.keyframeLoop()
	p.watch = s.Watch(p.source)
	return p, nil
}

// Key returns the program stream's key.
func (p *Program) Key() Key { return p.st.key }

// Stream returns the program stream.
func (p *Program) Stream() *Stream { return p.st }

// Stats says which camera is shown and how many cuts were made.
func (p *Program) Stats() ProgramStats {
	p.mu.Lock()
	defer p.mu.Unlock()
	return ProgramStats{Camera: p.cur, Want: p.want, Switches: p.switches.Load()}
}

// Switch asks for camera to be shown: from its next keyframe, which is
// asked for at once. A camera whose codec is not the program's is
// refused.
func (p *Program) Switch(camera string) error {
	if !slices.Contains(p.o.Cameras, camera) {
		return fmt.Errorf("%w: %q is not a camera of program %s", ErrBadKey, camera, p.st.key)
	}
	p.mu.Lock()
	t := p.cams[camera]
	if t != nil && p.video != nil && !sameCodec(t.info, p.video.info) {
		p.mu.Unlock()
		return fmt.Errorf("%w: camera %s sends %s, the program %s", ErrNoCodec, camera, t.info.MimeType, p.video.info.MimeType)
	}
	p.want = camera
	p.mu.Unlock()
	if t != nil {
		t.RequestKeyframe()
	}
	return nil
}

// Close ends the program stream (its viewers see it end) and leaves its
// sources.
func (p *Program) Close() {
	p.watch()
	p.mu.Lock()
	p.closed = true
	d := p.detaches
	p.detaches = nil
	p.mu.Unlock()
	for _, f := range d {
		f()
	}
	p.st.close()
}

// source attaches the program to a camera's or microphone's stream.
func (p *Program) source(st *Stream) {
	k := st.Key()
	if k.Site != p.st.key.Site || k.Room != p.st.key.Room {
		return
	}
	name := k.Name
	cam, mic := slices.Contains(p.o.Cameras, name), slices.Contains(p.o.Audio, name)
	if !cam && !mic {
		return
	}
	detach, err := st.Attach(DownstreamFunc(func(t *Track) (Sink, error) {
		return p.addSource(name, cam, mic, t), nil
	}))
	if err != nil {
		return
	}
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		detach()
		return
	}
	p.detaches = append(p.detaches, detach)
	p.mu.Unlock()
}

// addSource takes a camera's video track or a microphone's audio track.
func (p *Program) addSource(name string, cam, mic bool, t *Track) Sink {
	var add *Track
	p.mu.Lock()
	switch {
	case cam && t.info.Kind == "video" && p.cams[name] == nil:
		if p.video == nil {
			info := t.info
			info.ID = "video0"
			p.video = newLocalTrack(p.st, info, p.askKeyframe)
			add = p.video
		}
		p.cams[name] = t
	case mic && t.info.Kind == "audio" && p.mics[name] == nil:
		if p.audio == nil {
			info := t.info
			info.ID = "audio0"
			p.audio = newLocalTrack(p.st, info, nil)
			add = p.audio
		}
		p.mics[name] = t
		p.pickAudio()
	default:
		p.mu.Unlock()
		return nil
	}
	want := name == p.want && cam
	p.mu.Unlock()
	if add != nil {
		p.st.addTrack(add)
	}
	if want {
		t.RequestKeyframe()
	}
	return &programSink{p: p, name: name, src: t}
}

// pickAudio forwards the first live microphone in the configured order.
// Under mu.
func (p *Program) pickAudio() {
	for _, n := range p.o.Audio {
		if t := p.mics[n]; t != nil {
			p.aSrc = t
			return
		}
	}
	p.aSrc = nil
}

// askKeyframe queues a keyframe request; it never blocks (a sink may ask
// from inside the program's forwarding).
func (p *Program) askKeyframe() {
	select {
	case p.kf <- struct{}{}:
	default:
	}
}

func (p *Program) keyframeLoop() {
	for {
		select {
		case <-p.st.done:
			return
		case <-p.kf:
			p.requestKeyframe()
		}
	}
}

// requestKeyframe asks the camera asked for (and the one shown, if it is
// another) for a keyframe: a viewer joined or lost a picture.
func (p *Program) requestKeyframe() {
	p.mu.Lock()
	ts := []*Track{p.cams[p.want]}
	if p.cur != p.want {
		ts = append(ts, p.cams[p.cur])
	}
	p.mu.Unlock()
	for _, t := range ts {
		if t != nil {
			t.RequestKeyframe()
		}
	}
}

// programSink is the program's sink on one source track.
type programSink struct {
	p    *Program
	name string
	src  *Track
}

// WriteRTP forwards the packet if its track is the program's source now;
// a packet of the camera asked for that begins a keyframe makes the cut.
func (s *programSink) WriteRTP(pkt *rtp.Packet) error {
	p := s.p
	now := time.Now()
	p.mu.Lock()
	defer p.mu.Unlock()
	if s.src.info.Kind == "audio" {
		if p.aSrc != s.src || p.audio == nil {
			return nil
		}
		p.audio.forward(p.aOut.rewrite(pkt, s.src, now))
		return nil
	}
	if p.video == nil {
		return nil
	}
	if s.name == p.want && s.name != p.cur {
		if !sameCodec(s.src.info, p.video.info) || !keyframeStart(s.src.info.MimeType, pkt.Payload) {
			if p.cur == "" {
				return nil
			}
		} else {
			p.cur = s.name
			p.switches.Add(1)
		}
	}
	if s.name != p.cur || p.cams[s.name] != s.src {
		return nil
	}
	p.video.forward(p.vOut.rewrite(pkt, s.src, now))
	return nil
}

// Close is called when the source track ends.
func (s *programSink) Close() error {
	p := s.p
	p.mu.Lock()
	defer p.mu.Unlock()
	if s.src.info.Kind == "audio" {
		if p.mics[s.name] == s.src {
			delete(p.mics, s.name)
			p.pickAudio()
		}
		return nil
	}
	if p.cams[s.name] == s.src {
		delete(p.cams, s.name)
		if p.cur == s.name {
			p.cur = "" // the next keyframe of the camera asked for starts again
		}
	}
	return nil
}

func randomSSRC() uint32 {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return binary.BigEndian.Uint32(b[:])
}

func sameCodec(a, b TrackInfo) bool {
	return strings.EqualFold(a.MimeType, b.MimeType) && a.ClockRate == b.ClockRate
}

// rewriter maps a source's sequence numbers and timestamps onto one
// continuous output: when the source changes, the next packet follows the
// last one sent (sequence number + 1, timestamp advanced by the time
// that passed).
type rewriter struct {
	rate    uint32
	ssrc    uint32 // the program track's own
	src     *Track
	started bool
	seqOff  uint16
	tsOff   uint32
	lastSeq uint16
	lastTS  uint32
	lastAt  time.Time
}

func (r *rewriter) rewrite(p *rtp.Packet, src *Track, now time.Time) *rtp.Packet {
	if src != r.src {
		r.src = src
		if r.started {
			gap := uint32(now.Sub(r.lastAt).Seconds() * float64(r.rate))
			r.seqOff = r.lastSeq + 1 - p.SequenceNumber
			r.tsOff = r.lastTS + max(gap, 1) - p.Timestamp
		} else {
			r.seqOff, r.tsOff = 0, 0
		}
	}
	q := &rtp.Packet{Header: p.Header, Payload: p.Payload}
	q.SSRC = r.ssrc
	q.SequenceNumber += r.seqOff
	q.Timestamp += r.tsOff
	// Only forward progress moves the reference (a late packet of the
	// source keeps its place).
	if !r.started || int16(q.SequenceNumber-r.lastSeq) > 0 {
		r.lastSeq, r.lastTS, r.lastAt = q.SequenceNumber, q.Timestamp, now
	}
	r.started = true
	return q
}
