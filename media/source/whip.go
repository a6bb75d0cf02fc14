package source

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/pion/interceptor"
	"github.com/pion/webrtc/v4"
)

// Defaults of Endpoint.
const (
	DefaultMinBackoff     = 500 * time.Millisecond
	DefaultMaxBackoff     = 15 * time.Second
	DefaultConnectTimeout = 15 * time.Second
	maxAnswer             = 64 << 10
)

// Endpoint is a WHIP or WHEP endpoint of the hub and how to reach it.
type Endpoint struct {
	URL   string // http(s)://hub:8080/whip/{site}/{room}/{stream} (or /whep/…)
	Token string // the Bearer token; never logged
	// HTTP is the client for the signalling requests; default one with a 10 s timeout.
	HTTP *http.Client
	// API makes the peer connections; default NewAPI(nil).
	API *webrtc.API
	// MinBackoff and MaxBackoff bound the wait between attempts to (re)connect.
	MinBackoff, MaxBackoff time.Duration
	// ConnectTimeout bounds how long a new session may take to connect.
	ConnectTimeout time.Duration
	Logger         *slog.Logger
}

func (e *Endpoint) defaults() {
	if e.HTTP == nil {
		e.HTTP = &http.Client{Timeout: 10 * time.Second}
	}
	if e.API == nil {
		e.API, _ = NewAPI(nil)
	}
	if e.MinBackoff <= 0 {
		e.MinBackoff = DefaultMinBackoff
	}
	if e.MaxBackoff <= 0 {
		e.MaxBackoff = DefaultMaxBackoff
	}
	if e.ConnectTimeout <= 0 {
		e.ConnectTimeout = DefaultConnectTimeout
	}
	if e.Logger == nil {
		e.Logger = slog.Default()
	}
}

// NewAPI makes a pion API with the default codecs and interceptors (NACK, RTCP reports,
// TWCC), and ICE that notices a lost hub within seconds. se, if not nil, is used as the
// setting engine (tests restrict it to loopback).
func NewAPI(se *webrtc.SettingEngine) (*webrtc.API, error) {
	m := &webrtc.MediaEngine{}
	if err := m.RegisterDefaultCodecs(); err != nil {
		return nil, err
	}
	ir := &interceptor.Registry{}
	if err := webrtc.RegisterDefaultInterceptors(m, ir); err != nil {
		return nil, err
	}
	if se == nil {
		se = &webrtc.SettingEngine{}
	}
	se.SetICETimeouts(3*time.Second, 6*time.Second, time.Second)
	return webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithInterceptorRegistry(ir), webrtc.WithSettingEngine(*se)), nil
}

// session is one WHIP/WHEP resource on the hub.
type session struct {
	pc       *webrtc.PeerConnection
	location string
	ep       *Endpoint
	state    chan webrtc.PeerConnectionState
	ice      []webrtc.ICEServer // from the answer's Link headers
}

// dial makes a peer connection (with ice, the ICE servers the hub named last time), lets
// setup add its tracks or transceivers, posts the offer with every candidate (no trickle)
// and applies the answer.
func dial(ctx context.Context, ep *Endpoint, ice []webrtc.ICEServer, setup func(*webrtc.PeerConnection) error) (*session, error) {
	pc, err := ep.API.NewPeerConnection(webrtc.Configuration{BundlePolicy: webrtc.BundlePolicyMaxBundle, ICEServers: ice})
	if err != nil {
		return nil, fmt.Errorf("source: peer connection: %w", err)
	}
	s := &session{pc: pc, ep: ep, state: make(chan webrtc.PeerConnectionState, 16)}
	pc.OnConnectionStateChange(func(st webrtc.PeerConnectionState) {
		select {
		case s.state <- st:
		default:
		}
	})
	fail := func(err error) (*session, error) {
		_ = pc.Close()
		return nil, err
	}
	if err := setup(pc); err != nil {
		return fail(err)
	}
	offer, err := pc.CreateOffer(nil)
	if err != nil {
		return fail(fmt.Errorf("source: offer: %w", err))
	}
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(offer); err != nil {
		return fail(fmt.Errorf("source: offer: %w", err))
	}
	select {
	case <-gathered:
	case <-ctx.Done():
		return fail(ctx.Err())
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, ep.URL, strings.NewReader(pc.LocalDescription().SDP))
	if err != nil {
		return fail(fmt.Errorf("source: %w", err))
	}
	req.Header.Set("Content-Type", "application/sdp")
	if ep.Token != "" {
		req.Header.Set("Authorization", "Bearer "+ep.Token)
	}
	resp, err := ep.HTTP.Do(req)
	if err != nil {
		return fail(fmt.Errorf("source: POST %s: %w", ep.URL, err))
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		return fail(httpError("POST", ep.URL, resp))
	}
	loc := resp.Header.Get("Location")
	base, _ := url.Parse(ep.URL)
	l, err := base.Parse(loc)
	if loc == "" || err != nil {
		return fail(fmt.Errorf("source: POST %s: 201 without a usable Location (%q)", ep.URL, loc))
	}
	s.location = l.String()
	s.ice = parseICELinks(resp.Header.Values("Link"))
	answer, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer+1))
	if err != nil || len(answer) > maxAnswer {
		s.delete()
		return fail(fmt.Errorf("source: POST %s: reading the answer: %v", ep.URL, errOr(err, "over 64 KiB")))
	}
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: string(answer)}); err != nil {
		s.delete()
		return fail(fmt.Errorf("source: POST %s: the hub's answer: %w", ep.URL, err))
	}
	return s, nil
}

func errOr(err error, s string) any {
	if err != nil {
		return err
	}
	return s
}

// delete ends the resource on the hub (best effort, briefly).
func (s *session) delete() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodDelete, s.location, nil)
	if err != nil {
		return
	}
	if s.ep.Token != "" {
		req.Header.Set("Authorization", "Bearer "+s.ep.Token)
	}
	if resp, err := s.ep.HTTP.Do(req); err == nil {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
		resp.Body.Close()
	}
}

func (s *session) close() {
	s.delete()
	_ = s.pc.Close()
}

// wait waits for the session to connect, then for it to end; it returns why it ended, or nil
// when ctx did.
func (s *session) wait(ctx context.Context, connected func()) error {
	t := time.NewTimer(s.ep.ConnectTimeout)
	defer t.Stop()
	up := false
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			if !up {
				return errors.New("source: the session did not connect in time")
			}
		case st := <-s.state:
			switch st {
			case webrtc.PeerConnectionStateConnected:
				if !up {
					up = true
					connected()
				}
			case webrtc.PeerConnectionStateFailed:
				return errors.New("source: the connection to the hub failed")
			case webrtc.PeerConnectionStateClosed:
				return errors.New("source: the connection to the hub closed")
			}
		}
	}
}

// link keeps a WHIP or WHEP session up: it connects, waits until the session ends, then
// connects again after a backoff, until ctx ends; it then deletes the session.
type link struct {
	ep        Endpoint
	kind      string // "publish" or "view", for logs
	setup     func(*webrtc.PeerConnection) error
	connected atomic.Bool
	sessions  atomic.Int64 // sessions that connected
	lastErr   atomic.Value // string
	// ice are the ICE servers (STUN, TURN) the hub's last answer named: the next attempt
	// uses them, so an agent behind NAT gets through on its retry.
	ice []webrtc.ICEServer
}

func (l *link) run(ctx context.Context) {
	log := l.ep.Logger
	backoff := l.ep.MinBackoff
	for ctx.Err() == nil {
		start := time.Now()
		s, err := dial(ctx, &l.ep, l.ice, l.setup)
		if err == nil {
			l.ice = s.ice
			err = s.wait(ctx, func() {
				l.connected.Store(true)
				l.sessions.Add(1)
				log.Info("media session up", "kind", l.kind, "url", l.ep.URL)
			})
			l.connected.Store(false)
			s.close()
		}
		if ctx.Err() != nil {
			return
		}
		l.lastErr.Store(err.Error())
		if time.Since(start) > 30*time.Second {
			backoff = l.ep.MinBackoff // it ran a while: try again soon
		}
		var he *HTTPError
		if errors.As(err, &he) && he.permanent() {
			backoff = l.ep.MaxBackoff // the hub said no: do not hammer it
		}
		log.Warn("media session down; retrying", "kind", l.kind, "url", l.ep.URL, "in", backoff.Round(time.Millisecond), "error", err)
		jitter := time.Duration(rand.Int64N(int64(backoff)/4 + 1))
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff + jitter):
		}
		backoff = min(2*backoff, l.ep.MaxBackoff)
	}
}

// Publisher publishes tracks to a WHIP endpoint and keeps them published: it reconnects
// with a backoff when the hub goes away or the connection fails. The tracks outlive the
// sessions: write to them at any time (nothing is sent while disconnected).
type Publisher struct {
	l      link
	tracks []webrtc.TrackLocal
	// OnKeyframeRequest, if set before Run, is called when the hub asks for a keyframe
	// (PLI or FIR).
	OnKeyframeRequest func()
}

// NewPublisher makes a publisher of tracks to ep.
func NewPublisher(ep Endpoint, tracks ...webrtc.TrackLocal) *Publisher {
	ep.defaults()
	p := &Publisher{tracks: tracks}
	p.l = link{ep: ep, kind: "publish", setup: p.setup}
	return p
}

func (p *Publisher) setup(pc *webrtc.PeerConnection) error {
	for _, t := range p.tracks {
		tr, err := pc.AddTransceiverFromTrack(t, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly})
		if err != nil {
			return fmt.Errorf("source: track %s: %w", t.ID(), err)
		}
		go p.readRTCP(tr.Sender())
	}
	return nil
}

func (p *Publisher) readRTCP(s *webrtc.RTPSender) {
	buf := make([]byte, 1500)
	for {
		n, _, err := s.Read(buf)
		if err != nil {
			return
		}
		if p.OnKeyframeRequest != nil && hasKeyframeRequest(buf[:n]) {
			p.OnKeyframeRequest()
		}
	}
}

// hasKeyframeRequest looks for a PLI (PSFB FMT 1) or FIR (PSFB FMT 4) in a compound packet.
func hasKeyframeRequest(b []byte) bool {
	for len(b) >= 4 {
		fmt, pt := b[0]&0x1f, b[1]
		if pt == 206 && (fmt == 1 || fmt == 4) {
			return true
		}
		n := (int(b[2])<<8 | int(b[3]) + 1) * 4
		if n > len(b) {
			return false
		}
		b = b[n:]
	}
	return false
}

// Run publishes until ctx ends, then deletes the session on the hub.
func (p *Publisher) Run(ctx context.Context) { p.l.run(ctx) }

// Connected tells whether a session is up now.
func (p *Publisher) Connected() bool { return p.l.connected.Load() }

// Sessions counts the sessions that connected so far (reconnects show as more than one).
func (p *Publisher) Sessions() int64 { return p.l.sessions.Load() }

// LastError is why the last session ended or failed, or "".
func (p *Publisher) LastError() string { s, _ := p.l.lastErr.Load().(string); return s }
