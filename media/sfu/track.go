package sfu

import (
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// TrackInfo describes a published track.
type TrackInfo struct {
	// ID names the track in its stream: its kind and its place among the
	// tracks of that kind in the publisher's offer ("audio0", "video0",
	// "video1"), so it is stable across reconnects and safe in file names.
	ID string `json:"id"`
	// Kind is "audio" or "video".
	Kind string `json:"kind"`
	// MimeType is the codec: "audio/opus", "video/VP8" or "video/H264".
	MimeType  string `json:"codec"`
	ClockRate uint32 `json:"clock_rate"`
	Channels  uint16 `json:"channels,omitempty"`
	// Fmtp is the codec's SDP format parameters (H.264 profile, …).
	Fmtp string `json:"fmtp,omitempty"`
}

// TrackStats are a published track's counters.
type TrackStats struct {
	Packets   int64 // RTP packets received from the publisher
	Bytes     int64 // their payload bytes
	Sinks     int   // sinks attached now
	Keyframes int64 // PLIs sent to the publisher
}

// Track is one of a publisher's tracks.
type Track struct {
	stream *Stream
	info   TrackInfo
	remote *webrtc.TrackRemote
	pc     *webrtc.PeerConnection

	sinkMu sync.Mutex
	sinks  atomic.Pointer[[]*sinkRef]
	// lanes are the viewers' sinks, by fan-out worker (under sinkMu for
	// changes, copied on write).
	lanes atomic.Pointer[[][]*localTrack]

	kf      chan struct{}
	ended   chan struct{}
	endOnce sync.Once

	// keyframe, when set, answers RequestKeyframe instead of a PLI (a
	// program's track asks its current camera).
	keyframe func()
	// muted replaces an audio track's payloads with Opus silence towards
	// every sink (privacy).
	muted atomic.Bool

	packets, bytes, plis atomic.Int64
}

// newTrack makes a publisher's track.
func newTrack(st *Stream, info TrackInfo, remote *webrtc.TrackRemote, pc *webrtc.PeerConnection) *Track {
	t := newLocalTrack(st, info, nil)
	t.remote, t.pc = remote, pc
	return t
}

// newLocalTrack makes a track the hub makes itself (a program's, a
// pull's); keyframe, when set, answers RequestKeyframe.
func newLocalTrack(st *Stream, info TrackInfo, keyframe func()) *Track {
	t := &Track{stream: st, info: info, keyframe: keyframe, kf: make(chan struct{}, 1), ended: make(chan struct{})}
	t.sinks.Store(&[]*sinkRef{})
	t.lanes.Store(&[][]*localTrack{})
	return t
}

// Info describes the track.
func (t *Track) Info() TrackInfo { return t.info }

// Stream returns the track's stream.
func (t *Track) Stream() *Stream { return t.stream }

// Stats returns the track's counters.
func (t *Track) Stats() TrackStats {
	return TrackStats{Packets: t.packets.Load(), Bytes: t.bytes.Load(),
		Sinks: len(*t.sinks.Load()) + t.viewerSinks(), Keyframes: t.plis.Load()}
}

// RequestKeyframe asks the publisher for a keyframe (a PLI) of a video
// track; it does nothing for audio. It never blocks. PLIs go out at most
// once per Options.KeyframeInterval: requests in between are answered by
// one PLI when the interval has passed.
func (t *Track) RequestKeyframe() {
	if t.info.Kind != "video" {
		return
	}
	if t.keyframe != nil {
		t.keyframe()
		return
	}
	select {
	case t.kf <- struct{}{}:
	default:
	}
}

func (t *Track) keyframeLoop(interval time.Duration) {
	for {
		select {
		case <-t.ended:
			return
		case <-t.kf:
		}
		err := t.pc.WriteRTCP([]rtcp.Packet{&rtcp.PictureLossIndication{MediaSSRC: uint32(t.remote.SSRC())}})
		if err == nil {
			t.plis.Add(1)
		}
		tm := time.NewTimer(interval)
		select {
		case <-t.ended:
			tm.Stop()
			return
		case <-tm.C:
		}
	}
}

// readLoop reads the publisher's packets and hands each to every sink.
// Each packet gets its own buffer: sinks (viewers' queues) share it, and
// nothing changes it once it is read.
func (t *Track) readLoop(done func()) {
	defer done()
	t.readInto(t.forward)
}

// readInto reads the remote track's packets and hands each to out, until the track ends.
func (t *Track) readInto(out func(*rtp.Packet)) {
	buf := make([]byte, 1600)
	for {
		n, _, err := t.remote.Read(buf)
		if err != nil {
			return
		}
		b := make([]byte, n)
		copy(b, buf[:n])
		p := &rtp.Packet{}
		if p.Unmarshal(b) != nil || len(p.Payload) == 0 {
			continue // malformed, or padding only (a bandwidth probe)
		}
		t.stream.sfu.totals.packetsIn.Add(1)
		t.stream.sfu.totals.bytesIn.Add(int64(len(p.Payload)))
		out(p)
	}
}

// forward counts a packet and hands it to every sink, as it is or with
// an Opus silence payload while the track is muted: to the viewers'
// fan-out workers, one job for each with viewers of the track, and to
// the other sinks (recorder, program, …) directly.
func (t *Track) forward(p *rtp.Packet) {
	t.packets.Add(1)
	t.bytes.Add(int64(len(p.Payload)))
	if t.muted.Load() {
		p = silenced(p)
	}
	if l := t.lanes.Load(); l != nil && len(*l) > 0 {
		lanes, fan := *l, t.stream.sfu.fan
		audio := t.info.Kind == "audio"
		for i, lts := range lanes {
			if len(lts) > 0 && !fan.workers[i].push(p, lts, audio) {
				for _, lt := range lts {
					lt.dropped.Add(1)
				}
				t.stream.sfu.totals.dropped.Add(int64(len(lts)))
			}
		}
	}
	for _, r := range *t.sinks.Load() {
		if err := r.sink.WriteRTP(p); err != nil {
			t.stream.sinkFailed(r, err)
		}
	}
}

// rtcpLoop reads the publisher's RTCP for this track, so that the
// interceptors see its sender reports (the receiver reports' LSR/DLSR).
func rtcpLoop(r *webrtc.RTPReceiver, done func()) {
	defer done()
	buf := make([]byte, 1500)
	for {
		if _, _, err := r.Read(buf); err != nil {
			return
		}
	}
}

// addSink adds a sink: a viewer's to its worker's lane, any other to the
// sinks written directly.
func (t *Track) addSink(r *sinkRef) {
	t.sinkMu.Lock()
	defer t.sinkMu.Unlock()
	if lt, ok := r.sink.(*localTrack); ok {
		lanes := slices.Clone(*t.lanes.Load())
		for len(lanes) <= lt.v.worker {
			lanes = append(lanes, nil)
		}
		lanes[lt.v.worker] = append(slices.Clone(lanes[lt.v.worker]), lt)
		t.lanes.Store(&lanes)
		return
	}
	s := append(slices.Clone(*t.sinks.Load()), r)
	t.sinks.Store(&s)
}

func (t *Track) removeSink(r *sinkRef) {
	t.sinkMu.Lock()
	defer t.sinkMu.Unlock()
	if lt, ok := r.sink.(*localTrack); ok {
		lanes := slices.Clone(*t.lanes.Load())
		if lt.v.worker < len(lanes) {
			lanes[lt.v.worker] = slices.DeleteFunc(slices.Clone(lanes[lt.v.worker]), func(x *localTrack) bool { return x == lt })
			t.lanes.Store(&lanes)
		}
		return
	}
	s := slices.DeleteFunc(slices.Clone(*t.sinks.Load()), func(x *sinkRef) bool { return x == r })
	t.sinks.Store(&s)
}

// viewerSinks counts the viewers' sinks.
func (t *Track) viewerSinks() int {
	n := 0
	for _, lts := range *t.lanes.Load() {
		n += len(lts)
	}
	return n
}

// end drops every sink and stops the keyframe loop.
func (t *Track) end() {
	t.endOnce.Do(func() {
		t.sinkMu.Lock()
		t.sinks.Store(&[]*sinkRef{})
		t.lanes.Store(&[][]*localTrack{})
		t.sinkMu.Unlock()
		close(t.ended)
	})
}

// trackInfo describes a remote track; index is its place among the
// publisher's transceivers of its kind.
func trackInfo(remote *webrtc.TrackRemote, index int) TrackInfo {
	c := remote.Codec()
	kind := remote.Kind().String()
	return TrackInfo{
		ID: kind + strconv.Itoa(index), Kind: kind, MimeType: canonicalMime(c.MimeType),
		ClockRate: c.ClockRate, Channels: c.Channels, Fmtp: c.SDPFmtpLine,
	}
}

// canonicalMime spells a codec the way pion's constants do.
func canonicalMime(m string) string {
	for _, c := range []string{webrtc.MimeTypeOpus, webrtc.MimeTypeVP8, webrtc.MimeTypeH264} {
		if strings.EqualFold(m, c) {
			return c
		}
	}
	return m
}
