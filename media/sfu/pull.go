package sfu

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// Defaults for the pull of a replicated stream.
const (
	DefaultPullLinger = 5 * time.Second
	DefaultPullRetry  = 30 * time.Second
)

// Upstream is where a replica takes the streams whose rooms another hub (their origin)
// carries. Package whip's Upstream speaks WHEP to the origins.
type Upstream interface {
	// Origin names the origin of the stream of key ("" when the stream is not pulled: it is
	// published here or nowhere).
	Origin(key Key) string
	// Exchange sends the replica's offer for the stream of key to its origin and returns
	// the origin's answer, and hangup, which ends the session at the origin (called once,
	// when the pull ends). An error wrapping ErrNoStream says the origin has no such stream;
	// any other error wraps ErrUpstream.
	Exchange(ctx context.Context, key Key, offer string) (answer string, hangup func(), err error)
}

// pull is a replicated stream: a Stream of this SFU whose tracks carry what a session with
// the origin (a WHEP viewer of it) receives. The stream outlives that session: when the
// origin's publisher goes and comes back, a new session takes its place and the replica's
// viewers go on (sequence numbers and timestamps are rewritten to run on).
type pull struct {
	s      *SFU
	key    Key
	origin string
	st     *Stream
	log    *slog.Logger

	mu      sync.Mutex
	up      *Session // the session with the origin now, nil between two
	hangup  func()   // ends up at the origin
	tracks  map[string]*pulledTrack
	linger  *time.Timer // armed while the stream has no viewer
	stopped bool
	ended   chan struct{} // closed when the pull has ended
}

// pulledTrack is one track of a replicated stream and the origin's track it carries now.
type pulledTrack struct {
	t *Track

	mu  sync.Mutex // orders the packets of an old and a new source
	src *Track     // the origin's track in the session now
	rw  rewriter
	// gate: a new session's video is held back until a keyframe starts, so
	// that viewers never get frames they cannot decode across a re-pull.
	gate bool
}

// pullStream returns the replicated stream of key, starting a pull from its origin when
// there is none. It fails with ErrNoStream when key has no origin or the origin has no such
// stream.
func (s *SFU) pullStream(ctx context.Context, key Key) (*Stream, error) {
	up := s.o.Upstream
	if up == nil {
		return nil, fmt.Errorf("%w: %s", ErrNoStream, key)
	}
	origin := up.Origin(key)
	if origin == "" {
		return nil, fmt.Errorf("%w: %s", ErrNoStream, key)
	}
	s.pullMu.Lock()
	if st := s.Stream(key); st != nil {
		s.pullMu.Unlock()
		return st, nil
	}
	if w := s.pulling[key]; w != nil {
		// Another viewer started it: one pull serves them all.
		s.pullMu.Unlock()
		select {
		case <-w.done:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		if w.err != nil {
			return nil, w.err
		}
		if st := s.Stream(key); st != nil {
			return st, nil
		}
		return nil, fmt.Errorf("%w: %s", ErrNoStream, key)
	}
	w := &pulling{done: make(chan struct{})}
	if s.pulling == nil {
		s.pulling = map[Key]*pulling{}
	}
	s.pulling[key] = w
	s.pullMu.Unlock()
	defer func() {
		s.pullMu.Lock()
		delete(s.pulling, key)
		s.pullMu.Unlock()
		close(w.done)
	}()

	p := &pull{s: s, key: key, origin: origin, tracks: map[string]*pulledTrack{}, ended: make(chan struct{}),
		log: s.log.With("site", key.Site, "room", key.Room, "stream", key.Name, "origin", origin)}
	p.st = newStream(s, key, nil, 0)
	p.st.pull = p
	if _, err := p.connect(ctx); err != nil {
		w.err = err
		p.mu.Lock()
		p.stopped = true // never registered, nothing to end
		p.mu.Unlock()
		close(p.ended)
		return nil, err
	}
	if err := s.register(p.st); err != nil {
		w.err = err
		p.stop("the SFU is closing")
		return nil, err
	}
	p.log.Info("sfu: pulling a stream from its origin")
	p.idle() // the viewer that asked for it is counted from View
	return p.st, nil
}

// connect opens a session with the origin and returns how many tracks the origin sends.
func (p *pull) connect(ctx context.Context) (int, error) {
	s := p.s
	sess, err := s.newSession(s.apis.publish, p.key, roleUpstream)
	if err != nil {
		return 0, err
	}
	fail := func(err error) (int, error) {
		_ = sess.Close()
		return 0, err
	}
	for _, k := range []webrtc.RTPCodecType{webrtc.RTPCodecTypeAudio, webrtc.RTPCodecTypeVideo} {
		if _, err := sess.pc.AddTransceiverFromKind(k, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionRecvonly}); err != nil {
			return fail(fmt.Errorf("sfu: pull %s: %w", p.key, err))
		}
	}
	sess.pc.OnTrack(func(remote *webrtc.TrackRemote, recv *webrtc.RTPReceiver) { p.onTrack(sess, remote, recv) })
	offer, err := sess.offer(ctx)
	if err != nil {
		return fail(fmt.Errorf("sfu: pull %s: %w", p.key, err))
	}
	answer, hangup, err := s.o.Upstream.Exchange(ctx, p.key, offer)
	if err != nil {
		return fail(err)
	}
	n := SendingSections(answer)
	if n == 0 {
		hangup()
		return fail(fmt.Errorf("%w: %s: the origin %s sends no media", ErrUpstream, p.key, p.origin))
	}
	p.st.mu.Lock()
	if p.st.expected == 0 {
		p.st.expected = n // View waits for them
	}
	p.st.mu.Unlock()
	p.mu.Lock()
	if p.stopped {
		p.mu.Unlock()
		hangup()
		return fail(fmt.Errorf("%w: pull %s", ErrClosed, p.key))
	}
	p.up, p.hangup = sess, hangup
	p.mu.Unlock()
	if err := sess.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: answer}); err != nil {
		p.mu.Lock()
		if p.up == sess {
			p.up, p.hangup = nil, nil
		}
		p.mu.Unlock()
		hangup()
		return fail(fmt.Errorf("%w: %s: the origin's answer: %w", ErrUpstream, p.key, err))
	}
	go p.watch(sess)
	return n, nil
}

// offer makes the session's offer with every candidate gathered within GatherTimeout.
func (s *Session) offer(ctx context.Context) (string, error) {
	s.negMu.Lock()
	defer s.negMu.Unlock()
	o, err := s.pc.CreateOffer(nil)
	if err != nil {
		return "", err
	}
	gathered := webrtc.GatheringCompletePromise(s.pc)
	if err := s.pc.SetLocalDescription(o); err != nil {
		return "", err
	}
	t := time.NewTimer(s.sfu.o.GatherTimeout)
	defer t.Stop()
	select {
	case <-gathered:
	case <-t.C:
		s.log.Warn("sfu: ICE gathering timed out; offering the candidates so far")
	case <-ctx.Done():
		return "", ctx.Err()
	}
	return s.pc.LocalDescription().SDP, nil
}

// SendingSections counts the audio and video sections of an answer to a receive-only offer
// that the answerer sends in: what a pull will receive.
func SendingSections(answer string) int {
	if len(answer) > MaxSDP {
		return 0
	}
	return activeSections(answer, webrtc.RTPTransceiverDirectionSendonly)
}

// onTrack takes one of the origin's tracks: the first session's make the stream's tracks;
// a later session's take the place of the earlier one's of the same ID.
func (p *pull) onTrack(sess *Session, remote *webrtc.TrackRemote, recv *webrtc.RTPReceiver) {
	info := trackInfo(remote, receiverIndex(sess.pc, remote, recv))
	src := newTrack(p.st, info, remote, sess.pc)
	p.mu.Lock()
	if p.stopped || p.up != sess {
		p.mu.Unlock()
		return
	}
	pt := p.tracks[info.ID]
	add := pt == nil
	if add {
		out := info
		pt = &pulledTrack{}
		pt.t = newLocalTrack(p.st, out, pt.requestKeyframe)
		pt.rw.rate, pt.rw.ssrc = info.ClockRate, randomSSRC()
		p.tracks[info.ID] = pt
	} else if !sameCodec(pt.t.info, info) {
		p.mu.Unlock()
		p.log.Info("sfu: the origin's stream came back in another codec; the replica's stream ends",
			"track", info.ID, "was", pt.t.info.MimeType, "now", info.MimeType)
		go p.stop("codec changed")
		return
	}
	p.mu.Unlock()
	sess.mu.Lock()
	sess.sources = append(sess.sources, src)
	sess.mu.Unlock()
	pt.mu.Lock()
	pt.gate = pt.src != nil && info.Kind == "video"
	pt.src = src
	pt.mu.Unlock()
	if add && !p.st.addTrack(pt.t) {
		return
	}
	sess.spawn(func() {
		src.readInto(func(pkt *rtp.Packet) { pt.forward(src, pkt) })
		sess.closeAsync() // the origin ended the session
	})
	sess.spawn(func() { rtcpLoop(recv, func() {}) })
	if info.Kind == "video" {
		sess.spawn(func() { src.keyframeLoop(p.s.o.KeyframeInterval) })
		if !add {
			src.RequestKeyframe() // the replica's viewers need a picture to go on from
		}
	}
}

// forward hands a packet of the origin's track src on, as the replicated track's (after a
// re-pull, video from the first keyframe on).
func (pt *pulledTrack) forward(src *Track, pkt *rtp.Packet) {
	pt.mu.Lock()
	defer pt.mu.Unlock()
	if pt.src != src {
		return
	}
	if pt.gate {
		if !keyframeStart(pt.t.info.MimeType, pkt.Payload) {
			return
		}
		pt.gate = false
	}
	pt.t.forward(pt.rw.rewrite(pkt, src, time.Now()))
}

// requestKeyframe asks the origin for a keyframe (its viewer's PLI reaches the publisher).
func (pt *pulledTrack) requestKeyframe() {
	pt.mu.Lock()
	src := pt.src
	pt.mu.Unlock()
	if src != nil {
		src.RequestKeyframe()
	}
}

// watch waits for the session with the origin to end, then connects again while the stream
// has viewers: the origin's publisher may be coming back. It gives up after PullRetry.
func (p *pull) watch(sess *Session) {
	<-sess.Done()
	p.mu.Lock()
	if p.stopped || p.up != sess {
		p.mu.Unlock()
		return
	}
	p.up = nil
	hangup := p.hangup
	p.hangup = nil
	p.mu.Unlock()
	hangup()
	p.log.Info("sfu: the session with the origin ended; pulling again")
	deadline := time.Now().Add(p.s.o.PullRetry)
	wait := 100 * time.Millisecond
	for {
		select {
		case <-p.ended:
			return
		case <-time.After(wait):
		}
		ctx, cancel := context.WithTimeout(context.Background(), p.s.o.GatherTimeout+10*time.Second)
		_, err := p.connect(ctx)
		cancel()
		if err == nil {
			p.log.Info("sfu: pulling again from the origin")
			return
		}
		if errors.Is(err, ErrClosed) {
			return
		}
		if time.Now().After(deadline) {
			p.log.Warn("sfu: the origin did not give the stream back; the replica's stream ends",
				"retry", p.s.o.PullRetry, "error", err)
			p.stop("the origin's stream did not come back")
			return
		}
		p.log.Debug("sfu: pull again", "error", err)
		wait = min(wait*2, 2*time.Second)
	}
}

// idle arms the linger: the pull stops if the stream still has no viewer when it fires.
func (p *pull) idle() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stopped {
		return
	}
	if p.linger != nil {
		p.linger.Stop()
	}
	p.linger = time.AfterFunc(p.s.o.PullLinger, func() {
		if p.st.viewers.Load() == 0 {
			p.stop("no viewer left")
		}
	})
}

// stop ends the pull: the stream ends (its viewers see it end) and the session with the
// origin closes. Idempotent; not from a pion callback.
func (p *pull) stop(why string) {
	p.mu.Lock()
	if p.stopped {
		p.mu.Unlock()
		return
	}
	p.stopped = true
	if p.linger != nil {
		p.linger.Stop()
	}
	up, hangup := p.up, p.hangup
	p.up, p.hangup = nil, nil
	p.mu.Unlock()
	close(p.ended)
	p.st.close()
	if up != nil {
		_ = up.Close()
	}
	if hangup != nil {
		hangup()
	}
	p.log.Info("sfu: pull stopped", "why", why)
}

// Pulled reports whether the stream is a replica of another hub's, and names that hub.
func (s *Stream) Pulled() (origin string, ok bool) {
	if s.pull == nil {
		return "", false
	}
	return s.pull.origin, true
}
