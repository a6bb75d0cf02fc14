package sfu

import (
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"
)

// viewer forwards a stream to one WHEP peer. It is a Downstream of the
// stream like any other; its tracks' sinks belong to one of the SFU's
// fan-out workers, which writes each packet to them (see fanout).
type viewer struct {
	sess   *Session
	tap    *keyTap                    // the DTLS secrets, for the fast path
	fast   atomic.Pointer[fastSender] // set once connected on the shared UDP port
	fan    *fanout
	worker int // its fan-out worker
	stop   chan struct{}
	closed atomic.Bool
	tracks []*localTrack

	mu     sync.Mutex
	detach func()
}

// newViewer makes a viewer served by one of f's workers.
func newViewer(sess *Session, f *fanout) *viewer {
	return &viewer{sess: sess, fan: f, worker: f.assign(), stop: make(chan struct{})}
}

// AddTrack gives the stream the sink of a track this viewer negotiated.
func (v *viewer) AddTrack(t *Track) (Sink, error) {
	for _, lt := range v.tracks {
		if lt.src == t && lt.bound.Load() {
			return lt, nil
		}
	}
	return nil, nil
}

// start runs once the peer connection is up: the viewer takes the fast
// path when it can, joins the stream, asks for keyframes, and forwards
// until closed.
func (v *viewer) start() {
	if ports := v.sess.sfu.apis.ports; len(ports) > 0 && v.tap != nil {
		f, err := newFastSender(v.tap, ports, v.sess.pc.SCTP().Transport().ICETransport())
		if err != nil {
			v.sess.log.Info("sfu: the viewer is sent through pion's stack", "why", err)
		} else {
			v.fast.Store(f)
		}
	}
	v.sess.spawn(v.reports)
	for _, lt := range v.tracks {
		if lt.sender != nil {
			sender, lt := lt.sender, lt
			v.sess.spawn(func() { lt.rtcpLoop(sender) })
		}
	}
	detach, err := v.sess.stream.Attach(v)
	if err != nil {
		v.sess.closeAsync()
		return
	}
	v.mu.Lock()
	if v.closed.Load() {
		v.mu.Unlock()
		detach()
		return
	}
	v.detach = detach
	v.mu.Unlock()
	for _, lt := range v.tracks {
		lt.src.RequestKeyframe()
	}
}

// close detaches the viewer from its stream and stops its writer.
func (v *viewer) close() {
	v.mu.Lock()
	if v.closed.Swap(true) {
		v.mu.Unlock()
		return
	}
	detach := v.detach
	v.detach = nil
	v.mu.Unlock()
	close(v.stop)
	if detach != nil {
		detach()
	}
	v.fan.release(v.worker)
}

func (v *viewer) stats() SessionStats {
	st := SessionStats{Queued: v.fan.workers[v.worker].queued()}
	for _, lt := range v.tracks {
		st.Sent += lt.sent.Load()
		st.Dropped += lt.dropped.Load()
		st.Errors += lt.errors.Load()
	}
	return st
}

// localTrack is one of a stream's tracks as sent to one viewer: a pion
// TrackLocal on the viewer's peer connection and the stream's Sink for it.
type localTrack struct {
	v      *viewer
	src    *Track
	sender *webrtc.RTPSender

	bound atomic.Bool
	pt    uint8
	ssrc  uint32
	ws    webrtc.TrackLocalWriter

	sent, dropped, errors atomic.Int64
	octets                atomic.Int64
	// history keeps the latest packets sent (a video track's), by
	// sequence number modulo its length, to answer NACKs.
	history []atomic.Pointer[rtp.Packet]
	// lastTS and lastAt: the RTP timestamp of the latest packet sent and
	// when (Unix nanoseconds), for sender reports.
	lastTS atomic.Uint32
	lastAt atomic.Int64
}

// Bind picks the viewer's payload type for the publisher's codec.
func (lt *localTrack) Bind(ctx webrtc.TrackLocalContext) (webrtc.RTPCodecParameters, error) {
	c, ok := matchCodec(lt.src.info, ctx.CodecParameters())
	if !ok {
		return webrtc.RTPCodecParameters{}, fmt.Errorf("%w: viewer cannot receive %s %s", ErrNoCodec,
			lt.src.info.MimeType, lt.src.info.Fmtp)
	}
	lt.pt = uint8(c.PayloadType)
	lt.ssrc = uint32(ctx.SSRC())
	lt.ws = ctx.WriteStream()
	lt.bound.Store(true)
	return c, nil
}

// Unbind is called when the sender stops.
func (lt *localTrack) Unbind(webrtc.TrackLocalContext) error {
	lt.bound.Store(false)
	return nil
}

// ID is the track's ID in the stream.
func (lt *localTrack) ID() string { return lt.src.info.ID }

// RID is empty: no simulcast.
func (lt *localTrack) RID() string { return "" }

// StreamID is the stream's name (the msid the viewer sees).
func (lt *localTrack) StreamID() string { return lt.src.stream.key.Name }

// Kind is the track's kind.
func (lt *localTrack) Kind() webrtc.RTPCodecType { return webrtc.NewRTPCodecType(lt.src.info.Kind) }

// WriteRTP writes a packet to the viewer at once. The stream's tracks
// do not call it: they hand packets to the viewer's fan-out worker (see
// Track.forward); it serves a caller holding the sink alone.
func (lt *localTrack) WriteRTP(p *rtp.Packet) error {
	if lt.v.closed.Load() {
		return ErrClosed
	}
	lt.write(p, nil)
	return nil
}

// Close ends the viewer: its stream ended.
func (lt *localTrack) Close() error {
	lt.v.sess.closeAsync()
	return nil
}

// write sends one packet with the viewer's SSRC and payload type, and
// keeps it for NACKs. A fast-path datagram goes into outs when they are
// set (the fan-out worker's batches).
func (lt *localTrack) write(p *rtp.Packet, outs []*outBatch) {
	if !lt.bound.Load() || lt.v.closed.Load() {
		return
	}
	if !lt.send(p, outs) {
		return
	}
	if len(lt.history) > 0 {
		lt.history[int(p.SequenceNumber)%len(lt.history)].Store(p)
	}
	lt.sent.Add(1)
	lt.octets.Add(int64(len(p.Payload)))
	lt.lastTS.Store(p.Timestamp)
	lt.lastAt.Store(time.Now().UnixNano())
	lt.src.stream.sfu.totals.packetsOut.Add(1)
	lt.src.stream.sfu.totals.bytesOut.Add(int64(len(p.Payload)))
}

// send encrypts and sends one packet: on the fast path when the viewer
// has it, else through pion. Header extensions are dropped: their IDs
// were the publisher's.
func (lt *localTrack) send(p *rtp.Packet, outs []*outBatch) bool {
	var err error
	if f := lt.v.fast.Load(); f != nil {
		h := lt.header(p)
		err = f.send(&h, p.Payload, outs)
	} else {
		h := lt.header(p) // pion keeps it: a new one each time
		_, err = lt.ws.WriteRTP(&h, p.Payload)
	}
	if err != nil {
		lt.errors.Add(1)
		return false
	}
	return true
}

// header is p's header as the viewer is sent it.
func (lt *localTrack) header(p *rtp.Packet) rtp.Header {
	return rtp.Header{
		Version: 2, Marker: p.Marker, PayloadType: lt.pt, SequenceNumber: p.SequenceNumber,
		Timestamp: p.Timestamp, SSRC: lt.ssrc, CSRC: p.CSRC,
	}
}

// resend answers a NACK with the packets still kept.
func (lt *localTrack) resend(n *rtcp.TransportLayerNack) {
	if len(lt.history) == 0 || !lt.bound.Load() {
		return
	}
	for _, pair := range n.Nacks {
		for _, seq := range pair.PacketList() {
			if p := lt.history[int(seq)%len(lt.history)].Load(); p != nil && p.SequenceNumber == seq {
				lt.send(p, nil)
			}
		}
	}
}

// senderReport describes what the track sent, for its RTCP sender
// report: the RTP time of now is the latest packet's, moved on by the
// time since it was sent.
func (lt *localTrack) senderReport(now time.Time) (*rtcp.SenderReport, bool) {
	sent := lt.sent.Load()
	if sent == 0 || !lt.bound.Load() {
		return nil, false
	}
	since := now.UnixNano() - lt.lastAt.Load()
	rtpNow := lt.lastTS.Load() + uint32(since*int64(lt.src.info.ClockRate)/int64(time.Second))
	return &rtcp.SenderReport{
		SSRC: lt.ssrc, NTPTime: ntpTime(now), RTPTime: rtpNow,
		PacketCount: uint32(sent), OctetCount: uint32(lt.octets.Load()),
	}, true
}

// ntpTime is t in NTP's 64-bit format (seconds since 1900, fraction).
func ntpTime(t time.Time) uint64 {
	const ntpEpochOffset = 2208988800 // 1900 to 1970, in seconds
	ns := t.UnixNano()
	secs := uint64(ns/int64(time.Second)) + ntpEpochOffset
	frac := uint64(ns%int64(time.Second)) << 32 / uint64(time.Second)
	return secs<<32 | frac
}

// reportInterval is how often a viewer is sent sender reports.
const reportInterval = time.Second

// reports sends the viewer a sender report for each track every second
// (its decoder syncs audio with video by them) until it is closed.
func (v *viewer) reports() {
	t := time.NewTicker(reportInterval)
	defer t.Stop()
	for {
		select {
		case <-v.stop:
			return
		case now := <-t.C:
			var pkts []rtcp.Packet
			for _, lt := range v.tracks {
				if sr, ok := lt.senderReport(now); ok {
					pkts = append(pkts, sr)
				}
			}
			if len(pkts) > 0 {
				_ = v.sess.pc.WriteRTCP(pkts)
			}
		}
	}
}

// rtcpLoop reads the viewer's RTCP for one track: NACKs are answered
// from the track's history; PLIs and FIRs ask the publisher for a
// keyframe (rate-limited by the track).
func (lt *localTrack) rtcpLoop(sender *webrtc.RTPSender) {
	for {
		pkts, _, err := sender.ReadRTCP()
		if err != nil {
			return
		}
		for _, p := range pkts {
			switch p := p.(type) {
			case *rtcp.PictureLossIndication, *rtcp.FullIntraRequest:
				lt.src.RequestKeyframe()
			case *rtcp.TransportLayerNack:
				lt.resend(p)
			}
		}
	}
}

// offeredCodecs lists the codecs a viewer's offer receives in sections of
// one kind.
func offeredCodecs(offer string, kind string) []webrtc.RTPCodecParameters {
	var sd sdp.SessionDescription
	if sd.UnmarshalString(offer) != nil {
		return nil
	}
	var out []webrtc.RTPCodecParameters
	codecs := sd.GetCodecMap()
	for _, md := range sd.MediaDescriptions {
		if md.MediaName.Media != kind {
			continue
		}
		for _, f := range md.MediaName.Formats {
			c, ok := codecs[parsePT(f)]
			if !ok || c.Name == "" {
				continue
			}
			out = append(out, webrtc.RTPCodecParameters{
				RTPCodecCapability: webrtc.RTPCodecCapability{
					MimeType: kind + "/" + c.Name, ClockRate: c.ClockRate, SDPFmtpLine: c.Fmtp,
				},
				PayloadType: webrtc.PayloadType(c.PayloadType),
			})
		}
	}
	return out
}

func parsePT(s string) uint8 {
	n := 0
	for _, c := range strings.TrimSpace(s) {
		if c < '0' || c > '9' || n > 127 {
			return 255
		}
		n = n*10 + int(c-'0')
	}
	if n > 127 {
		return 255
	}
	return uint8(n)
}
