//go:build cgo && nolibopusfile

package source

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
	"gopkg.in/hraban/opus.v2"

	"github.com/bailiff/bailiff/drivers/audio"
)

const (
	opusRate    = 48000
	opusFrame   = 960 // samples a channel in 20 ms
	maxOpusSize = 1500
)

// microphone captures a sound card (or loops a WAV file), encodes Opus and publishes it.
type microphone struct {
	o     MicrophoneOptions
	log   *slog.Logger
	open  func() (audio.Source, error)
	track *webrtc.TrackLocalStaticRTP
	pub   *Publisher

	Packets atomic.Int64
}

// NewMicrophone makes a microphone source: malgo capture (the device chosen as the audio
// driver chooses one) → Opus at 48 kHz, 20 ms packets → WHIP.
func NewMicrophone(o MicrophoneOptions) (Source, error) {
	return newMicrophone(o, nil)
}

// newMicrophone takes open to feed the encoder from elsewhere than a sound card (tests).
func newMicrophone(o MicrophoneOptions, open func() (audio.Source, error)) (*microphone, error) {
	if o.Channels == 0 {
		o.Channels = 1
	}
	if o.Channels != 1 && o.Channels != 2 {
		return nil, fmt.Errorf("source: microphone: %d channels: want 1 or 2", o.Channels)
	}
	if o.Bitrate == 0 {
		o.Bitrate = 32000 * o.Channels
	}
	if o.Publish.URL == "" {
		return nil, errors.New("source: microphone: no WHIP endpoint")
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	o.Publish.Logger = o.Logger
	if open == nil {
		open = func() (audio.Source, error) {
			return audio.OpenCapture(audio.CaptureOptions{Backend: o.Backend, Device: o.Input,
				Format: audio.Format{SampleRate: opusRate, Channels: o.Channels}})
		}
	}
	m := &microphone{o: o, log: o.Logger, open: open}
	m.track, _ = webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: opusRate, Channels: 2}, "audio", "microphone")
	m.pub = NewPublisher(o.Publish, m.track)
	return m, nil
}

// Run captures, encodes and publishes until ctx ends; a capture device that fails is opened
// again after a backoff.
func (m *microphone) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); m.pub.Run(ctx) }()
	defer wg.Wait()
	var b [6]byte
	_, _ = rand.Read(b[:])
	seq, ts := binary.BigEndian.Uint16(b[:2]), binary.BigEndian.Uint32(b[2:])
	retry(ctx, m.log, "microphone capture", m.o.Publish.MinBackoff, m.o.Publish.MaxBackoff, func(ctx context.Context) error {
		return m.capture(ctx, &seq, &ts)
	})
	return nil
}

func (m *microphone) capture(ctx context.Context, seq *uint16, ts *uint32) error {
	src, err := m.open()
	if err != nil {
		return err
	}
	defer src.Close()
	f := src.Format()
	if f.SampleRate != opusRate || f.Channels != m.o.Channels {
		return fmt.Errorf("source: microphone: the source gives %v, want %d Hz, %d ch", f, opusRate, m.o.Channels)
	}
	enc, err := opus.NewEncoder(opusRate, m.o.Channels, opus.AppVoIP)
	if err != nil {
		return fmt.Errorf("source: microphone: opus: %w", err)
	}
	_ = enc.SetBitrate(m.o.Bitrate)
	pcm := make([]float32, 0, opusFrame*m.o.Channels)
	out := make([]byte, maxOpusSize)
	m.log.Info("microphone capturing", "format", f.String())
	return src.Start(ctx, func(frame []float32) {
		for len(frame) > 0 {
			n := min(cap(pcm)-len(pcm), len(frame))
			pcm = append(pcm, frame[:n]...)
			frame = frame[n:]
			if len(pcm) < cap(pcm) {
				return
			}
			size, err := enc.EncodeFloat32(pcm, out)
			pcm = pcm[:0]
			if err != nil {
				m.log.Warn("opus encode", "error", err)
				continue
			}
			p := &rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 111, SequenceNumber: *seq, Timestamp: *ts}, Payload: append([]byte(nil), out[:size]...)}
			*seq++
			*ts += opusFrame
			_ = m.track.WriteRTP(p)
			m.Packets.Add(1)
		}
	})
}

// speaker views a stream over WHEP, decodes its Opus and plays it on an output.
type speaker struct {
	o    SpeakerOptions
	log  *slog.Logger
	link link
	jb   *jitter

	Decoded atomic.Int64 // packets decoded
	Played  atomic.Int64 // samples played that were not silence
}

// NewSpeaker makes a speaker: WHEP view of a stream → Opus decoding → malgo playback on
// the chosen output (chosen as the audio driver chooses a capture device).
func NewSpeaker(o SpeakerOptions) (Source, error) { return newSpeaker(o) }

func newSpeaker(o SpeakerOptions) (*speaker, error) {
	if o.View.URL == "" {
		return nil, errors.New("source: speaker: no WHEP endpoint")
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	o.View.Logger = o.Logger
	o.View.defaults()
	s := &speaker{o: o, log: o.Logger, jb: newJitter(opusRate * 2 / 5 * 2)} // 400 ms of stereo
	s.link = link{ep: o.View, kind: "view", setup: s.setup}
	return s, nil
}

func (s *speaker) setup(pc *webrtc.PeerConnection) error {
	if _, err := pc.AddTransceiverFromKind(webrtc.RTPCodecTypeAudio, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionRecvonly}); err != nil {
		return err
	}
	pc.OnTrack(func(t *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		if t.Kind() != webrtc.RTPCodecTypeAudio {
			return
		}
		go s.decode(t)
	})
	return nil
}

func (s *speaker) decode(t *webrtc.TrackRemote) {
	dec, err := opus.NewDecoder(opusRate, 2)
	if err != nil {
		s.log.Error("opus decoder", "error", err)
		return
	}
	pcm := make([]float32, 5760*2) // 120 ms, the longest Opus packet
	for {
		p, _, err := t.ReadRTP()
		if err != nil {
			if !errors.Is(err, io.EOF) {
				s.log.Debug("speaker track ended", "error", err)
			}
			return
		}
		n, err := dec.DecodeFloat32(p.Payload, pcm)
		if err != nil {
			continue
		}
		s.Decoded.Add(1)
		s.jb.write(pcm[:2*n])
	}
}

// Run views and plays until ctx ends; a playback device that fails is opened again after a
// backoff.
func (s *speaker) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); s.link.run(ctx) }()
	defer wg.Wait()
	retry(ctx, s.log, "speaker output", s.o.View.MinBackoff, s.o.View.MaxBackoff, s.play)
	return nil
}

func (s *speaker) play(ctx context.Context) error {
	p, err := audio.OpenPlayback(audio.PlaybackOptions{Backend: s.o.Backend, Device: s.o.Output, Format: audio.Format{SampleRate: opusRate, Channels: 2}})
	if err != nil {
		return err
	}
	defer p.Close()
	s.log.Info("speaker playing", "output", p.Name())
	return p.Start(ctx, func(out []float32) {
		n := s.jb.read(out)
		for _, v := range out[:n] {
			if v != 0 {
				s.Played.Add(int64(n))
				break
			}
		}
	})
}

// jitter is a bounded buffer of decoded samples between the network and the audio thread:
// when full, the oldest samples go (latency stays bounded); when empty, silence plays.
type jitter struct {
	mu  sync.Mutex
	buf []float32
	max int
}

func newJitter(max int) *jitter { return &jitter{max: max} }

func (j *jitter) write(s []float32) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.buf = append(j.buf, s...)
	if over := len(j.buf) - j.max; over > 0 {
		j.buf = append(j.buf[:0], j.buf[over:]...)
	}
}

func (j *jitter) read(out []float32) int {
	j.mu.Lock()
	defer j.mu.Unlock()
	n := copy(out, j.buf)
	j.buf = append(j.buf[:0], j.buf[n:]...)
	return n
}
