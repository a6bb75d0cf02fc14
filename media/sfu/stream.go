package sfu

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtp"
)

// Sink takes one track's RTP packets: a viewer's track, a recorder's
// track writer (*record.TrackWriter is one), anything downstream.
//
// WriteRTP is called from the publisher's read loop, one packet at a time
// in arrival order. It must not block (queue, or drop and count), and must
// neither change the packet nor keep it, or any slice of it, after it
// returns: copy what it keeps. An error detaches the sink from the track.
// A sink that also has a Close() error method is closed when its track
// ends: the publisher went, the stream was replaced, or the downstream was
// detached.
type Sink interface {
	WriteRTP(*rtp.Packet) error
}

// Downstream takes a stream's tracks. The hub's recorder and every viewer
// are Downstreams of the streams they consume.
type Downstream interface {
	// AddTrack is called once for each track of the stream: for those it
	// has when the downstream is attached, and for each that comes later.
	// It returns the Sink for the track's packets, or nil to leave the
	// track out. Track.Info says what it is; Track.RequestKeyframe asks
	// the publisher for a keyframe. AddTrack must not call Attach or the
	// detach function of the same stream.
	AddTrack(t *Track) (Sink, error)
}

// DownstreamFunc makes a function a Downstream.
type DownstreamFunc func(t *Track) (Sink, error)

// AddTrack calls f(t).
func (f DownstreamFunc) AddTrack(t *Track) (Sink, error) { return f(t) }

// StreamInfo describes a live stream (for GET /api/v1/streams).
type StreamInfo struct {
	Site    string      `json:"site"`
	Room    string      `json:"room"`
	Name    string      `json:"name"`
	Tracks  []TrackInfo `json:"tracks"`
	Viewers int         `json:"viewers"`
	Since   time.Time   `json:"since"`
	// Origin is the hub a replicated stream is pulled from; empty for a
	// stream published here.
	Origin string `json:"origin,omitempty"`
}

// Stream is one published stream: a publisher's tracks and the
// downstreams attached to them. It ends when its publisher goes or a new
// publisher of the same key replaces it.
type Stream struct {
	sfu     *SFU
	key     Key
	since   time.Time
	log     *slog.Logger
	pub     *Session
	pull    *pull // a replica's stream, pulled from its origin
	viewers atomic.Int32

	// attachMu orders calls into downstreams (AddTrack, Close of sinks'
	// bookkeeping): each (downstream, track) pair is offered exactly once.
	attachMu sync.Mutex

	mu       sync.Mutex
	tracks   []*Track
	downs    []*attachment
	expected int // tracks the publisher's offer announced
	closed   bool

	ready     chan struct{} // closed when every announced track is here
	readyOnce sync.Once
	done      chan struct{}
}

// attachment is one Attach: the downstream and the sinks it returned.
type attachment struct {
	d     Downstream
	sinks []*sinkRef // under Stream.attachMu
}

// sinkRef is one sink on one track.
type sinkRef struct {
	sink    Sink
	track   *Track
	att     *attachment
	removed atomic.Bool
	once    sync.Once
}

func (r *sinkRef) close() {
	r.once.Do(func() {
		if c, ok := r.sink.(io.Closer); ok {
			_ = c.Close()
		}
	})
}

func newStream(s *SFU, key Key, pub *Session, expected int) *Stream {
	return &Stream{
		sfu: s, key: key, since: time.Now(), pub: pub, expected: expected,
		log:   s.log.With("site", key.Site, "room", key.Room, "stream", key.Name),
		ready: make(chan struct{}), done: make(chan struct{}),
	}
}

// Key returns the stream's key.
func (s *Stream) Key() Key { return s.key }

// Done is closed when the stream has ended.
func (s *Stream) Done() <-chan struct{} { return s.done }

// Tracks returns the stream's tracks so far.
func (s *Stream) Tracks() []*Track {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.tracks)
}

// Info describes the stream.
func (s *Stream) Info() StreamInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	si := StreamInfo{Site: s.key.Site, Room: s.key.Room, Name: s.key.Name, Since: s.since,
		Viewers: int(s.viewers.Load()), Tracks: make([]TrackInfo, 0, len(s.tracks))}
	if s.pull != nil {
		si.Origin = s.pull.origin
	}
	for _, t := range s.tracks {
		si.Tracks = append(si.Tracks, t.info)
	}
	return si
}

// Attach makes d a downstream of the stream: d.AddTrack is called for each
// track now and for each that comes later. The returned function detaches
// d (closing its sinks); calling it again, or after the stream ended, does
// nothing.
func (s *Stream) Attach(d Downstream) (detach func(), err error) {
	s.attachMu.Lock()
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		s.attachMu.Unlock()
		return nil, fmt.Errorf("%w: stream %s", ErrClosed, s.key)
	}
	a := &attachment{d: d}
	s.downs = append(s.downs, a)
	tracks := slices.Clone(s.tracks)
	s.mu.Unlock()
	for _, t := range tracks {
		s.connect(a, t)
	}
	s.attachMu.Unlock()
	return func() { s.detach(a) }, nil
}

// connect offers track t to attachment a. Under attachMu.
func (s *Stream) connect(a *attachment, t *Track) {
	sink, err := a.d.AddTrack(t)
	if err != nil {
		s.log.Warn("sfu: downstream refused a track", "track", t.info.ID, "error", err)
		return
	}
	if sink == nil {
		return
	}
	r := &sinkRef{sink: sink, track: t, att: a}
	a.sinks = append(a.sinks, r)
	t.addSink(r)
}

func (s *Stream) detach(a *attachment) {
	s.attachMu.Lock()
	s.mu.Lock()
	i := slices.Index(s.downs, a)
	if i >= 0 {
		s.downs = slices.Delete(s.downs, i, i+1)
	}
	s.mu.Unlock()
	refs := a.sinks
	a.sinks = nil
	for _, r := range refs {
		r.track.removeSink(r)
	}
	s.attachMu.Unlock()
	for _, r := range refs {
		r.close()
	}
}

// sinkFailed detaches one sink whose WriteRTP failed. From a read loop.
func (s *Stream) sinkFailed(r *sinkRef, err error) {
	if r.removed.Swap(true) {
		return
	}
	r.track.removeSink(r)
	s.log.Info("sfu: sink detached after a write error", "track", r.track.info.ID, "error", err)
	go r.close()
}

// addTrack adds a publisher's track and offers it to every downstream.
func (s *Stream) addTrack(t *Track) bool {
	s.attachMu.Lock()
	defer s.attachMu.Unlock()
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return false
	}
	s.tracks = append(s.tracks, t)
	if len(s.tracks) >= s.expected {
		s.readyOnce.Do(func() { close(s.ready) })
	}
	downs := slices.Clone(s.downs)
	s.mu.Unlock()
	if t.info.Kind == "audio" {
		// After the track is listed: SetMuted from now on sees it.
		t.muted.Store(s.sfu.isMuted(s.key))
	}
	s.log.Info("sfu: track published", "track", t.info.ID, "codec", t.info.MimeType)
	for _, a := range downs {
		s.connect(a, t)
	}
	return true
}

// viewerGone gives a viewer's place back; a pulled stream left with none may stop.
func (s *Stream) viewerGone() {
	if s.viewers.Add(-1) == 0 && s.pull != nil {
		s.pull.idle()
	}
}

// waitTracks waits until every track the publisher announced is here, or
// for at most wait. It returns the tracks present then.
func (s *Stream) waitTracks(ctx context.Context, wait time.Duration) ([]*Track, error) {
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-s.ready:
	case <-t.C:
	case <-s.done:
		return nil, fmt.Errorf("%w: %s", ErrNoStream, s.key)
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return s.Tracks(), nil
}

// close ends the stream: every sink is closed. Idempotent.
func (s *Stream) close() {
	s.attachMu.Lock()
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		s.attachMu.Unlock()
		return
	}
	s.closed = true
	downs := s.downs
	s.downs = nil
	tracks := s.tracks
	s.mu.Unlock()
	var refs []*sinkRef
	for _, a := range downs {
		refs = append(refs, a.sinks...)
		a.sinks = nil
	}
	for _, t := range tracks {
		t.end()
	}
	s.attachMu.Unlock()
	close(s.done)
	for _, r := range refs {
		r.close()
	}
	s.sfu.streamEnded(s)
	s.log.Info("sfu: stream ended")
}
