package sfu

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// SFU forwards published streams to their downstreams. Create it with New
// and stop it with Close.
type SFU struct {
	o    Options
	log  *slog.Logger
	apis *apis
	fan  *fanout

	totals totals // since the SFU started

	mu       sync.Mutex
	closed   bool
	streams  map[Key]*Stream
	sessions map[*Session]struct{}
	pcs      int
	watchers map[int]func(*Stream)
	nextW    int
	muted    map[[2]string]map[string]bool // site, room → stream names whose audio is silenced

	pullMu  sync.Mutex
	pulling map[Key]*pulling // pulls being started
}

// pulling is a pull being started: viewers that ask meanwhile wait for it.
type pulling struct {
	done chan struct{}
	err  error
}

// Stats counts what the SFU holds.
type Stats struct {
	Streams         int
	Publishers      int
	Viewers         int
	FastViewers     int // viewers sent on the fast path (fastpath.go)
	Pulls           int // sessions with origin hubs (a replica's pulls)
	PeerConnections int // not yet fully closed
}

// New starts an SFU: with Options.Network.UDPAddr set, it listens there.
func New(o Options) (*SFU, error) {
	if err := o.setDefaults(); err != nil {
		return nil, err
	}
	a, err := newAPIs(&o)
	if err != nil {
		return nil, err
	}
	s := &SFU{o: o, log: o.Logger, apis: a, fan: newFanout(o.WriteWorkers, o.ViewerQueue, a.ports), streams: map[Key]*Stream{},
		sessions: map[*Session]struct{}{}, watchers: map[int]func(*Stream){}}
	if len(a.muxAddrs) > 0 {
		s.log.Info("sfu: ICE listens", "udp", fmt.Sprint(a.muxAddrs))
	}
	return s, nil
}

// UDPAddrs returns the addresses the shared UDP port listens on (empty
// without Network.UDPAddr).
func (s *SFU) UDPAddrs() []net.Addr { return slices.Clone(s.apis.muxAddrs) }

// Close ends every session and stream and releases the UDP port.
func (s *SFU) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	var pulls []*pull
	for _, st := range s.streams {
		if st.pull != nil {
			pulls = append(pulls, st.pull)
		}
	}
	sessions := make([]*Session, 0, len(s.sessions))
	for sess := range s.sessions {
		sessions = append(sessions, sess)
	}
	s.mu.Unlock()
	var wg sync.WaitGroup
	for _, p := range pulls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p.stop("the SFU is closing") // hangs up at the origin
		}()
	}
	for _, sess := range sessions {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = sess.Close()
		}()
	}
	wg.Wait()
	s.fan.close()
	return s.apis.close()
}

// Publish answers a publisher's offer (WHIP) for the stream key: the
// answer carries every candidate of the hub. The stream replaces one
// already published under the same key (whose viewers see it end).
func (s *SFU) Publish(ctx context.Context, key Key, offer string) (*Session, string, error) {
	if err := key.Valid(); err != nil {
		return nil, "", err
	}
	if _, err := checkOffer(offer, true); err != nil {
		return nil, "", err
	}
	if st := s.Stream(key); st != nil && st.pub == nil && st.pull == nil {
		return nil, "", fmt.Errorf("%w: %s is the hub's program", ErrBadKey, key)
	}
	sess, err := s.newSession(s.apis.publish, key, rolePublisher)
	if err != nil {
		return nil, "", err
	}
	st := newStream(s, key, sess, 0)
	sess.stream = st
	sess.pc.OnTrack(func(remote *webrtc.TrackRemote, recv *webrtc.RTPReceiver) { sess.onTrack(remote, recv) })
	answer, err := sess.negotiate(ctx, offer, nil)
	if err == nil {
		if n := acceptedSections(answer); n == 0 {
			err = fmt.Errorf("%w: the hub takes none of the offered media", ErrNoCodec)
		} else {
			st.mu.Lock()
			st.expected = n
			st.mu.Unlock()
		}
	}
	if err != nil {
		_ = sess.Close()
		return nil, "", err
	}

	if err := s.register(st); err != nil {
		_ = sess.Close()
		return nil, "", err
	}
	return sess, answer, nil
}

// register makes st the stream of its key, ending the one before it, and
// shows it to the watchers.
func (s *SFU) register(st *Stream) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return fmt.Errorf("%w: sfu", ErrClosed)
	}
	old := s.streams[st.key]
	s.streams[st.key] = st
	watchers := make([]func(*Stream), 0, len(s.watchers))
	for _, f := range s.watchers {
		watchers = append(watchers, f)
	}
	s.mu.Unlock()
	if old != nil {
		st.log.Info("sfu: a new publisher replaces the stream")
		old.close()
		if old.pub != nil {
			old.pub.closeAsync()
		}
		if old.pull != nil {
			go old.pull.stop("a publisher here replaces it")
		}
	}
	if st.pull != nil {
		// A copy of the origin's stream: the origin records it and makes its program.
		return nil
	}
	st.log.Info("sfu: stream published")
	for _, f := range watchers {
		f(st)
	}
	return nil
}

// SetMuted replaces the audio of the named streams of a room with Opus
// silence towards every downstream (viewers, the recorder, a program),
// now and for streams published later under those names, until it is
// called again; no names unmutes the room. Packets keep their sequence
// numbers and timestamps, so decoders keep time (a bench conference).
func (s *SFU) SetMuted(site, room string, names []string) {
	set := map[string]bool{}
	for _, n := range names {
		set[n] = true
	}
	s.mu.Lock()
	if s.muted == nil {
		s.muted = map[[2]string]map[string]bool{}
	}
	if len(set) == 0 {
		delete(s.muted, [2]string{site, room})
	} else {
		s.muted[[2]string{site, room}] = set
	}
	var list []*Stream
	for k, st := range s.streams {
		if k.Site == site && k.Room == room {
			list = append(list, st)
		}
	}
	s.mu.Unlock()
	for _, st := range list {
		for _, t := range st.Tracks() {
			if t.info.Kind == "audio" {
				t.muted.Store(set[st.key.Name])
			}
		}
	}
}

// Muted reports whether the audio of the stream of key is silenced (SetMuted).
func (s *SFU) Muted(k Key) bool { return s.isMuted(k) }

// isMuted reports whether a stream's audio is to be silenced.
func (s *SFU) isMuted(k Key) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.muted[[2]string{k.Site, k.Room}][k.Name]
}

// onTrack adds a publisher's remote track to its stream and starts
// forwarding it.
func (sess *Session) onTrack(remote *webrtc.TrackRemote, recv *webrtc.RTPReceiver) {
	t := newTrack(sess.stream, trackInfo(remote, receiverIndex(sess.pc, remote, recv)), remote, sess.pc)
	if !sess.stream.addTrack(t) {
		return
	}
	if !sess.spawn(func() { t.readLoop(func() {}) }) {
		return
	}
	sess.spawn(func() { rtcpLoop(recv, func() {}) })
	if t.info.Kind == "video" {
		sess.spawn(func() { t.keyframeLoop(sess.sfu.o.KeyframeInterval) })
	}
}

// receiverIndex is the place of a remote track's receiver among the peer connection's
// transceivers of its kind.
func receiverIndex(pc *webrtc.PeerConnection, remote *webrtc.TrackRemote, recv *webrtc.RTPReceiver) int {
	index := 0
	for _, tr := range pc.GetTransceivers() {
		if tr.Receiver() == recv {
			break
		}
		if tr.Kind() == remote.Kind() {
			index++
		}
	}
	return index
}

// View answers a viewer's offer (WHEP) for a published stream: the viewer
// is sent each of the stream's tracks its offer can receive, from the
// moment it connects (when a keyframe is asked for) until either side
// goes. A stream whose publisher has just come is waited for (up to
// Options.TrackWait) until its tracks are here.
func (s *SFU) View(ctx context.Context, key Key, offer string) (*Session, string, error) {
	if err := key.Valid(); err != nil {
		return nil, "", err
	}
	if _, err := checkOffer(offer, false); err != nil {
		return nil, "", err
	}
	st, tracks, err := s.join(ctx, key)
	if err != nil {
		return nil, "", err
	}
	tap := &keyTap{}
	api, err := s.apis.viewAPI(tap)
	if err != nil {
		st.viewerGone()
		return nil, "", fmt.Errorf("sfu: viewer's API: %w", err)
	}
	sess, err := s.newSession(api, key, roleViewer)
	if err != nil {
		st.viewerGone()
		return nil, "", err
	}
	sess.stream = st // from here sess.Close gives the viewer's place back
	v := newViewer(sess, s.fan)
	v.tap = tap
	sess.viewer = v
	answer, err := sess.negotiate(ctx, offer, func() error { return v.addTracks(offer, tracks) })
	if err != nil {
		_ = sess.Close()
		return nil, "", err
	}
	return sess, answer, nil
}

// join takes a viewer's place in the stream of key (pulling it from its origin when this SFU
// is a replica of it) and returns the stream's tracks once they are here.
func (s *SFU) join(ctx context.Context, key Key) (*Stream, []*Track, error) {
	for try := 0; ; try++ {
		st := s.Stream(key)
		if st == nil {
			var err error
			if st, err = s.pullStream(ctx, key); err != nil {
				return nil, nil, err
			}
		}
		if int(st.viewers.Add(1)) > s.o.MaxViewers {
			st.viewerGone()
			return nil, nil, fmt.Errorf("%w: %s has %d", ErrTooManyViewers, key, s.o.MaxViewers)
		}
		tracks, err := st.waitTracks(ctx, s.o.TrackWait)
		if err == nil && len(tracks) == 0 {
			err = fmt.Errorf("%w: %s", ErrNotReady, key)
		}
		if err == nil {
			return st, tracks, nil
		}
		st.viewerGone()
		if st.pull == nil || try > 0 || !errors.Is(err, ErrNoStream) {
			return nil, nil, err
		}
		// The pull stopped (its linger ran out) just as this viewer came: start another.
	}
}

// addTracks adds to the viewer's peer connection each track whose kind
// and codec its offer can receive.
func (v *viewer) addTracks(offer string, tracks []*Track) error {
	pc := v.sess.pc
	kinds := map[string][]webrtc.RTPCodecParameters{}
	for _, k := range []string{"audio", "video"} {
		kinds[k] = offeredCodecs(offer, k)
	}
	skipped := 0
	for _, t := range tracks {
		if _, ok := matchCodec(t.info, kinds[t.info.Kind]); !ok {
			skipped++
			continue
		}
		lt := &localTrack{v: v, src: t}
		if t.info.Kind == "video" {
			lt.history = make([]atomic.Pointer[rtp.Packet], v.sess.sfu.o.NACKBuffer)
		}
		sender, err := pc.AddTrack(lt)
		if err != nil {
			return fmt.Errorf("sfu: add track %s: %w", t.info.ID, err)
		}
		var tr *webrtc.RTPTransceiver
		for _, x := range pc.GetTransceivers() {
			if x.Sender() == sender {
				tr = x
			}
		}
		if tr == nil || tr.Mid() == "" {
			// No section of the offer is left for it.
			_ = pc.RemoveTrack(sender)
			continue
		}
		lt.sender = sender
		v.tracks = append(v.tracks, lt)
	}
	if len(v.tracks) == 0 {
		if skipped > 0 {
			return fmt.Errorf("%w: the viewer receives none of the stream's codecs", ErrNoCodec)
		}
		return fmt.Errorf("%w: the offer receives none of the stream's tracks", ErrBadOffer)
	}
	return nil
}

// Stream returns the stream published under key, or nil.
func (s *SFU) Stream(key Key) *Stream {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.streams[key]
}

// Streams describes every live stream, ordered by key.
func (s *SFU) Streams() []StreamInfo {
	s.mu.Lock()
	list := make([]*Stream, 0, len(s.streams))
	for _, st := range s.streams {
		list = append(list, st)
	}
	s.mu.Unlock()
	out := make([]StreamInfo, 0, len(list))
	for _, st := range list {
		out = append(out, st.Info())
	}
	slices.SortFunc(out, func(a, b StreamInfo) int {
		return cmp.Or(cmp.Compare(a.Site, b.Site), cmp.Compare(a.Room, b.Room), cmp.Compare(a.Name, b.Name))
	})
	return out
}

// Watch calls f with every stream published here now and, until cancel is
// called, with each stream published later (a new publisher of a key is a
// new stream); not with a replica's pulled streams, which its origin records. f runs on the publishing goroutine: it should attach what
// it needs (the recorder) and return.
func (s *SFU) Watch(f func(*Stream)) (cancel func()) {
	s.mu.Lock()
	id := s.nextW
	s.nextW++
	s.watchers[id] = f
	now := make([]*Stream, 0, len(s.streams))
	for _, st := range s.streams {
		now = append(now, st)
	}
	s.mu.Unlock()
	for _, st := range now {
		f(st)
	}
	return func() {
		s.mu.Lock()
		delete(s.watchers, id)
		s.mu.Unlock()
	}
}

// Totals are what the SFU carried since it started, over every stream and viewer that ever
// was (the hub's RTP metrics).
type Totals struct {
	PacketsIn, BytesIn   int64 // RTP packets and payload bytes received from publishers
	PacketsOut, BytesOut int64 // sent to viewers
	Dropped              int64 // not sent: a fan-out worker's queue was full (counted per viewer)
}

type totals struct{ packetsIn, bytesIn, packetsOut, bytesOut, dropped atomic.Int64 }

// Totals returns what the SFU carried since it started.
func (s *SFU) Totals() Totals {
	t := &s.totals
	return Totals{PacketsIn: t.packetsIn.Load(), BytesIn: t.bytesIn.Load(),
		PacketsOut: t.packetsOut.Load(), BytesOut: t.bytesOut.Load(), Dropped: t.dropped.Load()}
}

// Stats counts streams and sessions.
func (s *SFU) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := Stats{Streams: len(s.streams), PeerConnections: s.pcs}
	for sess := range s.sessions {
		if sess.publish {
			st.Publishers++
		} else if sess.upstream {
			st.Pulls++
		} else {
			st.Viewers++
			if sess.viewer != nil && sess.viewer.fast.Load() != nil {
				st.FastViewers++
			}
		}
	}
	return st
}

func (s *SFU) sessionEnded(sess *Session) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.sessions[sess]; ok {
		delete(s.sessions, sess)
		s.pcs--
	}
}

func (s *SFU) streamEnded(st *Stream) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.streams[st.key] == st {
		delete(s.streams, st.key)
	}
}
