package sfu

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"
)

// Session is one peer connection: a publisher's (WHIP) or a viewer's
// (WHEP). It ends when its peer goes (DTLS close, ICE failure), when it
// has not connected within Options.ConnectTimeout, when its stream ends
// (a viewer), or on Close.
type Session struct {
	sfu     *SFU
	key     Key
	publish bool
	pc      *webrtc.PeerConnection
	log     *slog.Logger
	stream  *Stream // the stream it publishes or views
	viewer  *viewer // a viewer's forwarding state
	// upstream: the session is a replica's pull, a viewer of the origin hub;
	// sources are the origin's tracks it receives (under mu).
	upstream bool
	sources  []*Track

	negMu sync.Mutex // one negotiation (answer, ICE restart) at a time

	mu      sync.Mutex
	closing bool
	wg      sync.WaitGroup // the session's goroutines

	connected chan struct{}
	connOnce  sync.Once
	timer     *time.Timer
	closeOnce sync.Once
	done      chan struct{}
}

// SessionStats are a viewer session's counters, summed over its tracks.
type SessionStats struct {
	Sent    int64 // packets written to the viewer
	Dropped int64 // packets dropped because its fan-out worker's queue was full
	Errors  int64 // packets whose write failed
	Queued  int   // packets waiting in its fan-out worker's queue now
}

// Session roles (newSession, logs).
const (
	rolePublisher = "publisher"
	roleViewer    = "viewer"
	roleUpstream  = "upstream" // a replica's pull: a viewer of the origin hub
)

func (s *SFU) newSession(api *webrtc.API, key Key, role string) (*Session, error) {
	publish := role == rolePublisher
	pc, err := api.NewPeerConnection(webrtc.Configuration{
		BundlePolicy:  webrtc.BundlePolicyMaxBundle,
		RTCPMuxPolicy: webrtc.RTCPMuxPolicyRequire,
	})
	if err != nil {
		return nil, fmt.Errorf("sfu: new peer connection: %w", err)
	}
	sess := &Session{
		sfu: s, key: key, publish: publish, upstream: role == roleUpstream, pc: pc,
		log:       s.log.With("site", key.Site, "room", key.Room, "stream", key.Name, "role", role),
		connected: make(chan struct{}), done: make(chan struct{}),
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		_ = pc.Close()
		return nil, fmt.Errorf("%w: sfu", ErrClosed)
	}
	s.sessions[sess] = struct{}{}
	s.pcs++
	s.mu.Unlock()
	sess.timer = time.AfterFunc(s.o.ConnectTimeout, func() {
		select {
		case <-sess.connected:
		default:
			sess.log.Info("sfu: session did not connect in time", "timeout", s.o.ConnectTimeout)
			sess.closeAsync()
		}
	})
	pc.OnConnectionStateChange(sess.onState)
	return sess, nil
}

// Key returns the key of the stream the session publishes or views.
func (s *Session) Key() Key { return s.key }

// Publisher reports whether the session publishes (WHIP) rather than
// views (WHEP).
func (s *Session) Publisher() bool { return s.publish }

// Stream returns the stream the session publishes or views.
func (s *Session) Stream() *Stream { return s.stream }

// Done is closed when the session has ended and everything it held
// (peer connection, goroutines) is released.
func (s *Session) Done() <-chan struct{} { return s.done }

// Connected is closed when the session's peer connection first connects.
func (s *Session) Connected() <-chan struct{} { return s.connected }

// State returns the peer connection's state.
func (s *Session) State() webrtc.PeerConnectionState { return s.pc.ConnectionState() }

// Stats returns a viewer session's counters (zero for a publisher).
func (s *Session) Stats() SessionStats {
	if s.viewer == nil {
		return SessionStats{}
	}
	return s.viewer.stats()
}

func (s *Session) onState(st webrtc.PeerConnectionState) {
	switch st {
	case webrtc.PeerConnectionStateConnected:
		s.connOnce.Do(func() {
			close(s.connected)
			s.timer.Stop()
			s.log.Info("sfu: session connected")
			if s.viewer != nil {
				s.spawn(s.viewer.start)
			}
		})
	case webrtc.PeerConnectionStateFailed, webrtc.PeerConnectionStateClosed:
		s.closeAsync()
	}
}

// spawn runs f on a goroutine of the session, unless it is closing.
func (s *Session) spawn(f func()) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return false
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		f()
	}()
	return true
}

func (s *Session) closeAsync() { go func() { _ = s.Close() }() }

func (s *Session) isClosing() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closing
}

// failed wraps err with ErrClosed when the session is ending: whatever
// failed, failed because of that.
func (s *Session) failed(err error) error {
	if s.isClosing() && !errors.Is(err, ErrClosed) {
		return fmt.Errorf("%w: session: %w", ErrClosed, err)
	}
	return err
}

// Close ends the session: a publisher's stream ends with it (its viewers
// see it end); a viewer stops being sent the stream. It waits until the
// peer connection and the session's goroutines are gone. Close must not
// be called from a pion callback.
func (s *Session) Close() error {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		s.closing = true
		s.mu.Unlock()
		s.timer.Stop()
		if s.publish {
			if s.stream != nil {
				s.stream.close()
			}
		} else if s.viewer != nil {
			s.viewer.close()
		}
		if err := s.pc.GracefulClose(); err != nil {
			s.log.Debug("sfu: close peer connection", "error", err)
		}
		s.mu.Lock()
		sources := s.sources
		s.mu.Unlock()
		for _, t := range sources {
			t.end()
		}
		s.wg.Wait()
		if !s.publish && s.stream != nil {
			s.stream.viewerGone()
		}
		s.sfu.sessionEnded(s)
		s.log.Info("sfu: session ended")
		close(s.done)
	})
	<-s.done
	return nil
}

// negotiate answers an offer. between runs after the offer is set and
// before the answer is made (a viewer adds its tracks there). The answer
// holds every candidate gathered within Options.GatherTimeout.
func (s *Session) negotiate(ctx context.Context, offer string, between func() error) (string, error) {
	s.negMu.Lock()
	defer s.negMu.Unlock()
	if err := s.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: offer}); err != nil {
		return "", fmt.Errorf("%w: %w", ErrBadOffer, err)
	}
	if between != nil {
		if err := between(); err != nil {
			return "", err
		}
	}
	return s.answer(ctx)
}

func (s *Session) answer(ctx context.Context) (string, error) {
	answer, err := s.pc.CreateAnswer(nil)
	if err != nil {
		return "", fmt.Errorf("%w: create answer: %w", ErrBadOffer, err)
	}
	gathered := webrtc.GatheringCompletePromise(s.pc)
	if err := s.pc.SetLocalDescription(answer); err != nil {
		if errors.Is(err, webrtc.ErrUnsupportedCodec) || errors.Is(err, ErrNoCodec) {
			return "", fmt.Errorf("%w: %w", ErrNoCodec, err)
		}
		return "", fmt.Errorf("%w: set answer: %w", ErrBadOffer, err)
	}
	t := time.NewTimer(s.sfu.o.GatherTimeout)
	defer t.Stop()
	select {
	case <-gathered:
	case <-t.C:
		s.log.Warn("sfu: ICE gathering timed out; answering with the candidates so far")
	case <-ctx.Done():
		return "", ctx.Err()
	}
	ld := s.pc.LocalDescription()
	if ld == nil {
		return "", fmt.Errorf("sfu: no local description")
	}
	return ld.SDP, nil
}

// RemoteICE returns the peer's current ICE credentials.
func (s *Session) RemoteICE() (ufrag, pwd string) {
	rd := s.pc.RemoteDescription()
	if rd == nil {
		return "", ""
	}
	p, err := iceParameters(rd.SDP)
	if err != nil {
		return "", ""
	}
	return p.Ufrag, p.Pwd
}

// LocalICE returns the session's own ICE credentials and candidates.
func (s *Session) LocalICE() (ICEParameters, error) {
	ld := s.pc.LocalDescription()
	if ld == nil {
		return ICEParameters{}, fmt.Errorf("%w: no local description", ErrClosed)
	}
	return iceParameters(ld.SDP)
}

// AddICECandidate adds a trickled remote candidate ("candidate:…"; an
// empty one means end of candidates).
func (s *Session) AddICECandidate(candidate string) error {
	v := strings.TrimPrefix(candidate, "candidate:")
	if v != "" {
		if _, err := ice.UnmarshalCandidate(v); err != nil {
			return fmt.Errorf("%w: %w", ErrBadCandidate, err)
		}
	}
	s.negMu.Lock()
	defer s.negMu.Unlock()
	if s.isClosing() {
		return fmt.Errorf("%w: session", ErrClosed)
	}
	if err := s.pc.AddICECandidate(webrtc.ICECandidateInit{Candidate: candidate}); err != nil {
		return s.failed(fmt.Errorf("%w: %w", ErrBadCandidate, err))
	}
	return nil
}

// RestartICE restarts ICE with the peer's new credentials, as a WHIP or
// WHEP PATCH asks (RFC 9725 §4.3.3): the media stays as negotiated; the
// session answers with new credentials of its own and its candidates.
// Trickle the peer's new candidates with AddICECandidate afterwards. On a
// session that is ending it fails with ErrClosed.
func (s *Session) RestartICE(ctx context.Context, ufrag, pwd string) (p ICEParameters, err error) {
	if !validICEChars(ufrag, 4) || !validICEChars(pwd, 22) {
		return ICEParameters{}, fmt.Errorf("%w: bad ICE credentials", ErrBadCandidate)
	}
	s.negMu.Lock()
	defer s.negMu.Unlock()
	defer func() {
		if err != nil {
			err = s.failed(err)
		}
	}()
	if s.isClosing() {
		return ICEParameters{}, fmt.Errorf("%w: session", ErrClosed)
	}
	rd := s.pc.RemoteDescription()
	if rd == nil {
		return ICEParameters{}, fmt.Errorf("%w: no remote description", ErrClosed)
	}
	offer, err := withICECredentials(rd.SDP, ufrag, pwd)
	if err != nil {
		return ICEParameters{}, fmt.Errorf("sfu: ice restart: %w", err)
	}
	if err := s.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: offer}); err != nil {
		return ICEParameters{}, fmt.Errorf("sfu: ice restart: %w", err)
	}
	ans, err := s.answer(ctx)
	if err != nil {
		return ICEParameters{}, err
	}
	s.log.Info("sfu: ICE restarted")
	return iceParameters(ans)
}

// validICEChars: ice-char is ALPHA / DIGIT / "+" / "/" (RFC 8839 §5.4),
// ufrag 4 to 256 characters, pwd 22 to 256.
func validICEChars(s string, min int) bool {
	if len(s) < min || len(s) > 256 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '+' || c == '/') {
			return false
		}
	}
	return true
}

// acceptedSections counts the audio and video sections an answer accepts
// to receive.
func acceptedSections(answer string) int {
	return activeSections(answer, webrtc.RTPTransceiverDirectionRecvonly)
}

// activeSections counts the audio and video sections of an SDP that are in
// use (a port, or bundle-only) and whose direction is dir or sendrecv.
func activeSections(sdpText string, dir webrtc.RTPTransceiverDirection) int {
	var sd sdp.SessionDescription
	if sd.UnmarshalString(sdpText) != nil {
		return 0
	}
	n := 0
	for _, md := range sd.MediaDescriptions {
		k := md.MediaName.Media
		if (k != "audio" && k != "video") || md.MediaName.Port.Value == 0 && !hasAttr(md.Attributes, "bundle-only") {
			continue
		}
		if d := direction(md.Attributes, webrtc.RTPTransceiverDirectionSendrecv); d == dir || d == webrtc.RTPTransceiverDirectionSendrecv {
			n++
		}
	}
	return n
}
