package sfutest

import (
	"context"
	"errors"
	"io"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bailiff/bailiff/media/source"
	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/rtp/codecs"
	"github.com/pion/webrtc/v4"
	"github.com/pion/webrtc/v4/pkg/media/h264writer"
	"github.com/pion/webrtc/v4/pkg/media/ivfwriter"
	"github.com/pion/webrtc/v4/pkg/media/oggwriter"
)

// NewAPI returns a pion API for test peers that only ever use loopback:
// UDP over IPv4, loopback candidates, no mDNS, remote candidates accepted
// only on loopback. With interceptors, the peer behaves like a browser
// (NACKs, reports, TWCC sequence numbers and feedback); without, it costs
// less CPU (benchmarks).
func NewAPI(interceptors bool) (*webrtc.API, error) {
	return NewAPIWith(interceptors, nil)
}

// NewAPIWith is NewAPI with tune applied to the setting engine last (e.g.
// to give the peer a socket of its own with SetICEUDPMux).
func NewAPIWith(interceptors bool, tune func(*webrtc.SettingEngine)) (*webrtc.API, error) {
	m := &webrtc.MediaEngine{}
	if err := m.RegisterDefaultCodecs(); err != nil {
		return nil, err
	}
	ir := &interceptor.Registry{}
	if interceptors {
		if err := webrtc.RegisterDefaultInterceptors(m, ir); err != nil {
			return nil, err
		}
		// Like a browser, number outgoing packets for TWCC feedback.
		if err := webrtc.ConfigureTWCCHeaderExtensionSender(m, ir); err != nil {
			return nil, err
		}
	}
	se := webrtc.SettingEngine{}
	LoopbackOnly(&se)
	if tune != nil {
		tune(&se)
	}
	return webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithInterceptorRegistry(ir), webrtc.WithSettingEngine(se)), nil
}

// LoopbackOnly restricts a setting engine to loopback: no packet of a
// test ever leaves the machine, whatever a hostile candidate says.
func LoopbackOnly(se *webrtc.SettingEngine) {
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	se.SetIncludeLoopbackCandidate(true)
	se.SetIPFilter(func(ip net.IP) bool { return ip.IsLoopback() })
	se.SetRemoteIPFilter(func(ip net.IP) bool { return ip.IsLoopback() })
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
}

// Loopback is a filter for sfu's Network.RemoteIPFilter in tests.
func Loopback(ip net.IP) bool { return ip.IsLoopback() }

// offer makes a peer's offer with every candidate in it.
func offer(ctx context.Context, pc *webrtc.PeerConnection) (string, error) {
	if pc.SignalingState() == webrtc.SignalingStateHaveLocalOffer {
		return pc.LocalDescription().SDP, nil
	}
	o, err := pc.CreateOffer(nil)
	if err != nil {
		return "", err
	}
	done := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(o); err != nil {
		return "", err
	}
	select {
	case <-done:
	case <-ctx.Done():
		return "", ctx.Err()
	}
	return pc.LocalDescription().SDP, nil
}

// Publisher publishes an Opus track and a video track (VP8 or H.264) from
// clips, in real time, and counts the keyframe requests it gets. Like an
// encoder, it answers a PLI or FIR with a keyframe: it skips ahead to the
// clip's next one.
type Publisher struct {
	PC           *webrtc.PeerConnection
	Audio, Video *webrtc.TrackLocalStaticRTP
	videoMime    string

	// OnSend, when set before Run, is called with each packet written.
	OnSend func(kind string, p *rtp.Packet)
	// Pace, when set before Run, sends the video through the agent's
	// pacer (source.Pacer) at Pace times its recent bit rate, as a
	// browser's pacer does (2.5). Zero sends each frame as one burst.
	Pace float64

	// DropEvery, when set before Run, leaves out every DropEvery-th video
	// packet (a lossy uplink: the hub should NACK them).
	DropEvery int

	PLIs, FIRs, NACKs atomic.Int64
	RRs, TWCCs        atomic.Int64 // receiver reports, transport-wide CC feedback
	SentAudio         atomic.Int64
	SentVideo         atomic.Int64
	wantKey           atomic.Bool

	wg sync.WaitGroup
}

// NewPublisher makes a publishing peer: audio/opus and a video track of
// videoMime (webrtc.MimeTypeVP8 or webrtc.MimeTypeH264; "" for none).
func NewPublisher(api *webrtc.API, videoMime string) (*Publisher, error) {
	return NewPublisherConfig(api, videoMime, webrtc.Configuration{})
}

// NewPublisherConfig is NewPublisher with a peer connection configuration
// (ICE servers, a relay-only transport policy); bundling is always on.
func NewPublisherConfig(api *webrtc.API, videoMime string, cfg webrtc.Configuration) (*Publisher, error) {
	cfg.BundlePolicy = webrtc.BundlePolicyMaxBundle
	pc, err := api.NewPeerConnection(cfg)
	if err != nil {
		return nil, err
	}
	p := &Publisher{PC: pc, videoMime: videoMime}
	add := func(c webrtc.RTPCodecCapability, id string) (*webrtc.TrackLocalStaticRTP, error) {
		t, err := webrtc.NewTrackLocalStaticRTP(c, id, "pub")
		if err != nil {
			return nil, err
		}
		tr, err := pc.AddTransceiverFromTrack(t, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly})
		if err != nil {
			return nil, err
		}
		p.wg.Add(1)
		go p.rtcp(tr.Sender())
		return t, nil
	}
	if p.Audio, err = add(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}, "audio"); err != nil {
		_ = pc.Close()
		return nil, err
	}
	if videoMime != "" {
		c := webrtc.RTPCodecCapability{MimeType: videoMime, ClockRate: 90000}
		if videoMime == webrtc.MimeTypeH264 {
			c.SDPFmtpLine = "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f"
		}
		if p.Video, err = add(c, "video"); err != nil {
			_ = pc.Close()
			return nil, err
		}
	}
	return p, nil
}

func (p *Publisher) rtcp(s *webrtc.RTPSender) {
	defer p.wg.Done()
	for {
		pkts, _, err := s.ReadRTCP()
		if err != nil {
			return
		}
		for _, pk := range pkts {
			switch pk.(type) {
			case *rtcp.PictureLossIndication:
				p.PLIs.Add(1)
				p.wantKey.Store(true)
			case *rtcp.FullIntraRequest:
				p.FIRs.Add(1)
				p.wantKey.Store(true)
			case *rtcp.TransportLayerNack:
				p.NACKs.Add(1)
			case *rtcp.ReceiverReport:
				p.RRs.Add(1)
			case *rtcp.TransportLayerCC:
				p.TWCCs.Add(1)
			}
		}
	}
}

// Offer makes the publisher's offer, with all its candidates.
func (p *Publisher) Offer(ctx context.Context) (string, error) { return offer(ctx, p.PC) }

// SetAnswer applies the hub's answer.
func (p *Publisher) SetAnswer(sdp string) error {
	return p.PC.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: sdp})
}

// Run sends the clips in real time, looping, until ctx ends.
func (p *Publisher) Run(ctx context.Context, video, audio []Frame) {
	var wg sync.WaitGroup
	send := func(t *webrtc.TrackLocalStaticRTP, kind string, frames []Frame, pay rtp.Payloader, rate uint32, sent *atomic.Int64) {
		defer wg.Done()
		if t == nil || len(frames) == 0 {
			return
		}
		pk := rtp.NewPacketizer(1200, 0, 0, pay, rtp.NewRandomSequencer(), rate)
		write := func(pkt *rtp.Packet) error {
			if p.DropEvery > 0 && kind == "video" && pkt.SequenceNumber%uint16(p.DropEvery) == 0 {
				return nil
			}
			if p.OnSend != nil {
				p.OnSend(kind, pkt)
			}
			err := t.WriteRTP(pkt)
			if err == nil {
				sent.Add(1)
			}
			return err
		}
		if p.Pace > 0 && kind == "video" {
			pacer := source.NewPacer(write, p.Pace) // as the agent paces a camera
			defer pacer.Close()
			write = pacer.Write
		}
		start := time.Now()
		var at time.Duration
		for i := 0; ; i++ {
			if kind == "video" && p.wantKey.Swap(false) {
				for j := range len(frames) {
					if frames[(i+j)%len(frames)].Key {
						i += j
						break
					}
				}
			}
			f := frames[i%len(frames)]
			if d := time.Until(start.Add(at)); d > 0 {
				select {
				case <-ctx.Done():
					return
				case <-time.After(d):
				}
			} else if ctx.Err() != nil {
				return
			}
			for _, pkt := range pk.Packetize(f.Data, uint32(f.Duration*time.Duration(rate)/time.Second)) {
				if err := write(pkt); errors.Is(err, io.ErrClosedPipe) {
					return
				}
			}
			at += f.Duration
		}
	}
	var vp rtp.Payloader = &codecs.VP8Payloader{EnablePictureID: true}
	if p.videoMime == webrtc.MimeTypeH264 {
		vp = &codecs.H264Payloader{}
	}
	wg.Add(2)
	go send(p.Video, "video", video, vp, 90000, &p.SentVideo)
	go send(p.Audio, "audio", audio, &codecs.OpusPayloader{}, 48000, &p.SentAudio)
	wg.Wait()
}

// Close closes the peer connection and waits for its goroutines.
func (p *Publisher) Close() error {
	err := p.PC.GracefulClose()
	p.wg.Wait()
	return err
}

// ViewerOptions configure a Viewer.
type ViewerOptions struct {
	// NoAudio, NoVideo leave a kind out of the offer.
	NoAudio, NoVideo bool
	// SaveDir, when set, receives video.ivf (VP8) or video.h264 and
	// audio.ogg, written from the packets as they come, for a decoder to
	// check.
	SaveDir string
	// OnPacket, when set, is called with each packet read.
	OnPacket func(kind string, p *rtp.Packet)
	// Config configures the peer connection (ICE servers, transport policy).
	Config webrtc.Configuration
}

// Viewer receives a stream and counts what arrives.
type Viewer struct {
	PC *webrtc.PeerConnection
	o  ViewerOptions

	audioPackets, videoPackets, videoFrames atomic.Int64
	senderReports                           atomic.Int64
	codecs                                  sync.Map // kind → mime type
	ended                                   chan struct{}
	endOnce                                 sync.Once
	wg                                      sync.WaitGroup
	mu                                      sync.Mutex
	closers                                 []io.Closer
}

// NewViewer makes a receive-only peer.
func NewViewer(api *webrtc.API, o ViewerOptions) (*Viewer, error) {
	cfg := o.Config
	cfg.BundlePolicy = webrtc.BundlePolicyMaxBundle
	pc, err := api.NewPeerConnection(cfg)
	if err != nil {
		return nil, err
	}
	v := &Viewer{PC: pc, o: o, ended: make(chan struct{})}
	for _, k := range []struct {
		skip bool
		kind webrtc.RTPCodecType
	}{{o.NoAudio, webrtc.RTPCodecTypeAudio}, {o.NoVideo, webrtc.RTPCodecTypeVideo}} {
		if k.skip {
			continue
		}
		if _, err := pc.AddTransceiverFromKind(k.kind, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionRecvonly}); err != nil {
			_ = pc.Close()
			return nil, err
		}
	}
	pc.OnTrack(func(t *webrtc.TrackRemote, r *webrtc.RTPReceiver) {
		v.wg.Add(2)
		go v.read(t)
		go v.rtcp(r)
	})
	pc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		if s == webrtc.PeerConnectionStateClosed || s == webrtc.PeerConnectionStateFailed {
			v.endOnce.Do(func() { close(v.ended) })
		}
	})
	return v, nil
}

type rtpWriter interface {
	WriteRTP(*rtp.Packet) error
	Close() error
}

func (v *Viewer) read(t *webrtc.TrackRemote) {
	defer v.wg.Done()
	kind := t.Kind().String()
	mime := t.Codec().MimeType
	v.codecs.Store(kind, mime)
	var w rtpWriter
	if v.o.SaveDir != "" {
		var err error
		switch strings.ToLower(mime) {
		case strings.ToLower(webrtc.MimeTypeVP8):
			w, err = ivfwriter.New(filepath.Join(v.o.SaveDir, "video.ivf"), ivfwriter.WithCodec(webrtc.MimeTypeVP8))
		case strings.ToLower(webrtc.MimeTypeH264):
			w, err = h264writer.New(filepath.Join(v.o.SaveDir, "video.h264"))
		case strings.ToLower(webrtc.MimeTypeOpus):
			w, err = oggwriter.New(filepath.Join(v.o.SaveDir, "audio.ogg"), 48000, 2)
		}
		if err == nil && w != nil {
			v.mu.Lock()
			v.closers = append(v.closers, w)
			v.mu.Unlock()
		}
	}
	for {
		p, _, err := t.ReadRTP()
		if err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrClosedPipe) || strings.Contains(err.Error(), "closed") {
				v.endOnce.Do(func() { close(v.ended) })
				return
			}
			continue
		}
		if kind == "video" {
			v.videoPackets.Add(1)
			if p.Marker {
				v.videoFrames.Add(1)
			}
		} else {
			v.audioPackets.Add(1)
		}
		if v.o.OnPacket != nil {
			v.o.OnPacket(kind, p)
		}
		if w != nil {
			_ = w.WriteRTP(p)
		}
	}
}

func (v *Viewer) rtcp(r *webrtc.RTPReceiver) {
	defer v.wg.Done()
	for {
		pkts, _, err := r.ReadRTCP()
		if err != nil {
			return
		}
		for _, p := range pkts {
			if _, ok := p.(*rtcp.SenderReport); ok {
				v.senderReports.Add(1)
			}
		}
	}
}

// SenderReports returns how many RTCP sender reports arrived.
func (v *Viewer) SenderReports() int64 { return v.senderReports.Load() }

// Offer makes the viewer's offer, with all its candidates.
func (v *Viewer) Offer(ctx context.Context) (string, error) { return offer(ctx, v.PC) }

// SetAnswer applies the hub's answer.
func (v *Viewer) SetAnswer(sdp string) error {
	return v.PC.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: sdp})
}

// Packets returns how many packets of a kind ("audio", "video") arrived.
func (v *Viewer) Packets(kind string) int64 {
	if kind == "video" {
		return v.videoPackets.Load()
	}
	return v.audioPackets.Load()
}

// Frames returns how many video frames ended (RTP marker bits) so far.
func (v *Viewer) Frames() int64 { return v.videoFrames.Load() }

// Codec returns the mime type a kind arrived in, or "".
func (v *Viewer) Codec(kind string) string {
	m, _ := v.codecs.Load(kind)
	s, _ := m.(string)
	return s
}

// Ended is closed when the hub ended the session (or it failed).
func (v *Viewer) Ended() <-chan struct{} { return v.ended }

// Close closes the peer connection, waits for its readers and closes the
// saved files.
func (v *Viewer) Close() error {
	err := v.PC.GracefulClose()
	v.wg.Wait()
	v.mu.Lock()
	defer v.mu.Unlock()
	for _, c := range v.closers {
		_ = c.Close()
	}
	v.closers = nil
	return err
}

// WaitFor polls cond every 20 ms until it holds or timeout passes.
func WaitFor(timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
}
