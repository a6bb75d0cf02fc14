package record

import (
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4/pkg/media"
	"github.com/pion/webrtc/v4/pkg/media/samplebuilder"
)

// Kind is a track's kind.
type Kind string

// Track kinds.
const (
	Audio Kind = "audio"
	Video Kind = "video"
)

// Track describes a track to record.
type Track struct {
	// ID names the track and its files: [A-Za-z0-9][A-Za-z0-9_.-]{0,63}.
	ID string
	// Kind may be left empty: the MimeType tells.
	Kind Kind
	// MimeType: "audio/opus", "video/VP8" or "video/H264" (any case).
	MimeType string
	// ClockRate of the RTP timestamps; 48000 for Opus and 90000 for video
	// when zero.
	ClockRate uint32
	// Channels of an Opus track: 1 or 2 (the default).
	Channels uint16
	// RequestKeyframe, when set, is called (at most once a second, from
	// the track's writer goroutine; it must not block) when the recorder
	// waits for a keyframe: to start, after a loss, to cut a segment. The
	// hub sends a PLI to the publisher.
	RequestKeyframe func()
}

// TrackStats are a track's counters.
type TrackStats struct {
	ID       string
	Packets  int64 // handed to WriteRTP
	Dropped  int64 // dropped because the queue was full
	Lost     int64 // RTP packets never received (sequence gaps)
	Frames   int64 // frames written
	Skipped  int64 // frames not written: while waiting for a keyframe, or malformed
	Segments int64 // segment files started
}

// Depacketizer settings: how many packets a gap in the sequence may stay
// open waiting for a late (retransmitted) packet: about a second of a
// 2.5 Mb/s video track, or of an Opus track.
//
// The wait is counted in packets only. pion's sample builder can also give
// up on a gap after a time (WithMaxTimeDelay), but then, when a frame whose
// first packet is missing is the last thing it holds, its purge runs its
// window index past the end and walks all 65536 slots, scanning the whole
// window at each: seconds of CPU, found by FuzzDepacketize. Without the
// time limit the same walk is cheap.
const (
	maxLateVideo   = 256
	maxLateAudio   = 50
	keyRequestGap  = time.Second
	discontinuity  = 5000 // ms of disagreement between RTP time and wall time that restarts the timeline
	minFrameMS     = 1
	defaultAudioMS = 20
	defaultVideoMS = 33
)

// TrackWriter takes one track's RTP packets. WriteRTP queues them; the
// track's goroutine depacketizes them (reordering, dropping incomplete
// frames), waits for keyframes and writes the frames to segment files.
type TrackWriter struct {
	r     *Recorder
	t     Track
	codec codec
	log   *slog.Logger

	mu     sync.RWMutex
	closed bool
	q      chan queued
	done   chan struct{}

	packets, dropped, lost, frames, skipped, segments atomic.Int64

	// Owned by the goroutine.
	sb       *samplebuilder.SampleBuilder
	maxLate  uint16
	highSeq  uint16 // highest sequence number pushed
	haveHigh bool
	ssrc     uint32
	haveSSRC bool
	padding  [1 << 16 / 64]uint64 // sequence numbers of padding-only packets
	lastSeq  uint16
	haveSeq  bool
	clock    mediaClock
	needKey  bool
	lastReq  time.Time
	arrived  time.Time // when the packet being handled was queued
	seg      *segmentWriter
}

// queued is a packet in a track's queue, with the time it came.
type queued struct {
	p  *rtp.Packet
	at time.Time
}

func newTrackWriter(r *Recorder, t Track, c codec) *TrackWriter {
	tw := &TrackWriter{
		r:       r,
		t:       t,
		codec:   c,
		log:     r.log.With("stream", t.ID),
		q:       make(chan queued, r.opts.QueueSize),
		done:    make(chan struct{}),
		needKey: c.video(),
		clock:   mediaClock{rate: int64(t.ClockRate)},
	}
	tw.resetDepacketizer()
	return tw
}

func (tw *TrackWriter) resetDepacketizer() {
	tw.maxLate = maxLateAudio
	if tw.codec.video() {
		tw.maxLate = maxLateVideo
	}
	tw.haveHigh = false
	tw.sb = samplebuilder.New(tw.maxLate, tw.codec.depacketizer(), tw.t.ClockRate,
		samplebuilder.WithRTPHeaders(true))
	tw.haveSeq = false
	tw.padding = [len(tw.padding)]uint64{}
}

// WriteRTP queues a packet and returns at once; it does not keep p. A
// packet that finds the queue full is dropped and counted (Stats). It fails
// only once the track or the recording is closed or stopped: the caller
// stops feeding it then.
func (tw *TrackWriter) WriteRTP(p *rtp.Packet) error {
	tw.mu.RLock()
	defer tw.mu.RUnlock()
	if tw.closed {
		return ErrClosed
	}
	if err := tw.r.Err(); err != nil {
		return err
	}
	tw.packets.Add(1)
	select {
	case tw.q <- queued{p.Clone(), tw.r.opts.Clock()}:
	default:
		tw.dropped.Add(1)
	}
	return nil
}

// Close stops the track: what is queued is written, the segment closed
// and sealed. The track's ID may then be added again.
func (tw *TrackWriter) Close() error {
	tw.shutdown()
	<-tw.done
	tw.r.removeTrack(tw)
	return tw.r.Err()
}

func (tw *TrackWriter) shutdown() {
	tw.mu.Lock()
	defer tw.mu.Unlock()
	if !tw.closed {
		tw.closed = true
		close(tw.q)
	}
}

// Stats returns the track's counters.
func (tw *TrackWriter) Stats() TrackStats {
	return TrackStats{
		ID:       tw.t.ID,
		Packets:  tw.packets.Load(),
		Dropped:  tw.dropped.Load(),
		Lost:     tw.lost.Load(),
		Frames:   tw.frames.Load(),
		Skipped:  tw.skipped.Load(),
		Segments: tw.segments.Load(),
	}
}

func (tw *TrackWriter) run() {
	defer close(tw.done)
	tick := time.NewTicker(tw.r.opts.FlushInterval)
	defer tick.Stop()
	for {
		select {
		case p, ok := <-tw.q:
			if !ok {
				tw.sb.Flush()
				tw.drain()
				tw.closeSegment(nil)
				return
			}
			tw.arrived = p.at
			tw.push(p.p)
		case <-tick.C:
			if tw.seg != nil {
				if err := tw.seg.sync(); err != nil {
					tw.r.fail(fmt.Errorf("record: write %s: %w", tw.seg.name, err))
				}
			}
		case <-tw.r.stop:
			tw.closeSegment(tw.r.Err())
			return
		}
	}
}

// push hands one packet to the depacketizer and writes what comes out.
func (tw *TrackWriter) push(p *rtp.Packet) {
	if tw.haveSSRC && p.SSRC != tw.ssrc {
		// A new source (the publisher reconnected): a new sequence and
		// timestamp space. Write what is complete, then start over.
		tw.sb.Flush()
		tw.drain()
		tw.resetDepacketizer()
		tw.clock.restart()
		if tw.codec.video() {
			tw.needKey = true
		}
		tw.log.Info("record: new SSRC", "ssrc", p.SSRC)
	}
	tw.ssrc, tw.haveSSRC = p.SSRC, true
	if tw.haveHigh {
		switch d := int16(p.SequenceNumber - tw.highSeq); {
		case d > int16(tw.maxLate):
			// More packets lost than the depacketizer waits for, or the
			// sequence jumped: start it over (video then waits for a
			// keyframe, as it would anyway). This also bounds the
			// depacketizer's window, and so its work per packet (which
			// grows with the square of a sparse window), whatever a sender
			// does.
			tw.sb.Flush()
			tw.drain()
			tw.resetDepacketizer()
			if tw.codec.video() {
				tw.needKey = true
			}
		case d < -int16(tw.maxLate):
			return // later than the depacketizer would wait for
		}
	}
	if !tw.haveHigh || int16(p.SequenceNumber-tw.highSeq) > 0 {
		tw.highSeq, tw.haveHigh = p.SequenceNumber, true
	}
	bit := &tw.padding[p.SequenceNumber/64]
	if len(p.Payload) == 0 {
		*bit |= 1 << (p.SequenceNumber % 64)
	} else {
		*bit &^= 1 << (p.SequenceNumber % 64)
	}
	tw.sb.Push(p)
	tw.drain()
}

func (tw *TrackWriter) drain() {
	for s := tw.sb.Pop(); s != nil; s = tw.sb.Pop() {
		tw.sample(s)
		if tw.r.Err() != nil {
			return
		}
	}
}

// lostBefore counts the packets missing between the previous sample and
// one that starts at seq; padding-only packets do not count.
func (tw *TrackWriter) lostBefore(seq uint16) int64 {
	if !tw.haveSeq {
		return 0
	}
	var n int64
	for s := tw.lastSeq + 1; s != seq; s++ {
		bit := &tw.padding[s/64]
		if *bit&(1<<(s%64)) == 0 {
			n++
		}
		*bit &^= 1 << (s % 64)
	}
	return n
}

func (tw *TrackWriter) sample(s *media.Sample) {
	if len(s.RTPHeaders) > 0 {
		lost := tw.lostBefore(s.RTPHeaders[0].SequenceNumber)
		tw.lastSeq, tw.haveSeq = s.RTPHeaders[len(s.RTPHeaders)-1].SequenceNumber, true
		if lost > 0 {
			tw.lost.Add(lost)
			if tw.codec.video() && !tw.needKey {
				tw.needKey = true // later frames refer to what was lost
				tw.log.Debug("record: packets lost, waiting for a keyframe", "lost", lost)
			}
		}
	}
	now := tw.arrived
	data, key, err := tw.codec.frame(s.Data)
	if err != nil {
		if !errors.Is(err, errEmptyFrame) {
			tw.skipped.Add(1)
			if tw.codec.video() {
				tw.needKey = true
			}
		}
		return
	}
	ms := tw.clock.ms(s.PacketTimestamp, now)
	dur := s.Duration.Milliseconds()
	if dur < minFrameMS || dur > 1000 {
		dur = defaultAudioMS
		if tw.codec.video() {
			dur = defaultVideoMS
		}
	}
	if tw.codec.video() {
		if tw.needKey && !key {
			tw.skipped.Add(1)
			tw.requestKeyframe(now)
			return
		}
		if key {
			tw.needKey = false
		}
	}

	if tw.seg != nil {
		elapsed := ms - tw.seg.startMS
		switch {
		case elapsed >= tw.r.opts.SegmentDuration.Milliseconds() && (key || !tw.codec.video()):
			tw.closeSegment(nil)
		case key && tw.codec.config() != tw.seg.config:
			tw.log.Info("record: codec configuration changed, new segment")
			tw.closeSegment(nil)
		case elapsed >= tw.r.opts.SegmentDuration.Milliseconds():
			tw.requestKeyframe(now) // cut as soon as one comes
		}
	}
	if tw.seg == nil {
		if err := tw.openSegment(ms); err != nil {
			tw.r.fail(err)
			return
		}
	}
	if err := tw.seg.write(key, ms, dur, data); err != nil {
		tw.r.fail(fmt.Errorf("record: write %s: %w", tw.seg.name, err))
		return
	}
	tw.frames.Add(1)
}

func (tw *TrackWriter) requestKeyframe(now time.Time) {
	if tw.t.RequestKeyframe == nil || now.Sub(tw.lastReq) < keyRequestGap {
		return
	}
	tw.lastReq = now
	tw.t.RequestKeyframe()
}

func (tw *TrackWriter) openSegment(ms int64) error {
	index := tw.r.takeIndex(tw.t.ID)
	name := fmt.Sprintf("%s-%06d.webm", tw.t.ID, index)
	if err := tw.r.appendOpen(tw.t, index, name); err != nil {
		return err
	}
	w, err := openSegment(tw.r.opts.open, tw.r.opts.Dir, name, index,
		tw.codec.trackEntry(tw.t.ID), tw.codec.video(), tw.codec.config(), ms, tw.clock.wall(ms))
	if err != nil {
		return err
	}
	if err := tw.r.opts.syncDir(tw.r.opts.Dir); err != nil {
		w.close()
		return fmt.Errorf("record: sync %s: %w", tw.r.opts.Dir, err)
	}
	w.track = tw.t
	tw.seg = w
	tw.segments.Add(1)
	tw.log.Debug("record: segment started", "file", name)
	return nil
}

// closeSegment finishes the open segment, if any, and hands it to the
// sealer. cause, when set, is the error that stopped the recording.
func (tw *TrackWriter) closeSegment(cause error) {
	w := tw.seg
	if w == nil {
		return
	}
	tw.seg = nil
	err := w.close()
	if err != nil && cause == nil {
		cause = err
		tw.r.fail(fmt.Errorf("record: write %s: %w", w.name, err))
	}
	w.err = cause
	tw.r.sealq <- w
}

// mediaClock maps a track's RTP timestamps to milliseconds of media time,
// unwrapping them and keeping them steady across a new SSRC or a jump.
type mediaClock struct {
	rate     int64
	started  bool // a first timestamp was seen
	have     bool // lastTS is valid (false after restart)
	lastTS   uint32
	ext      int64 // RTP ticks since the base
	baseMS   int64
	lastMS   int64
	lastWall time.Time
	wall0    time.Time // wall time of media time 0
}

func (c *mediaClock) restart() { c.have = false }

func (c *mediaClock) ms(ts uint32, now time.Time) int64 {
	if !c.started {
		c.started, c.have = true, true
		c.lastTS, c.ext, c.baseMS, c.lastMS = ts, 0, 0, 0
		c.wall0, c.lastWall = now, now
		return 0
	}
	dw := now.Sub(c.lastWall).Milliseconds()
	if !c.have {
		c.have = true
		c.lastTS, c.ext = ts, 0
		c.baseMS = c.lastMS + max(dw, minFrameMS)
		c.lastMS, c.lastWall = c.baseMS, now
		return c.baseMS
	}
	c.ext += int64(int32(ts - c.lastTS))
	c.lastTS = ts
	ms := c.baseMS + c.ext*1000/c.rate
	if d := ms - c.lastMS; d-dw > discontinuity || dw-d > discontinuity {
		// The RTP clock jumped (or stood still) against the wall clock:
		// follow the wall clock from here.
		c.baseMS = c.lastMS + max(dw, minFrameMS)
		c.ext = 0
		ms = c.baseMS
	}
	if ms < c.lastMS {
		ms = c.lastMS // timestamps must not run backwards in a WebM track
	}
	c.lastMS, c.lastWall = ms, now
	return ms
}

// wall returns the wall-clock time of a media time.
func (c *mediaClock) wall(ms int64) time.Time {
	return c.wall0.Add(time.Duration(ms) * time.Millisecond)
}
