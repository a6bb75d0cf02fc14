package source

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"

	"github.com/bailiff/bailiff/media/rtsp"
)

// CameraOptions configure a Camera.
type CameraOptions struct {
	RTSP      string // rtsp://[user:pass@]host[:554]/path; credentials are never logged
	Transport string // rtsp.TCP (default) or rtsp.UDP
	// Timeout bounds each RTSP answer and the longest silence of the stream; default 10 s.
	Timeout time.Duration
	// NoAudio leaves the camera's audio out even when it is Opus (the only camera audio
	// WebRTC and the hub take as it is; other codecs are always left out).
	NoAudio bool
	// MaxPayload bounds the RTP payloads sent on; default DefaultMaxPayload.
	MaxPayload int
	// Publish is the hub's WHIP endpoint for the stream.
	Publish Endpoint
	Logger  *slog.Logger
	// OnPacket, if set, is called with each RTP packet read from the camera (before any
	// rewriting), from the reading goroutine.
	OnPacket func(video bool, p *rtp.Packet)
	// Pace is the multiple of the video's recent bit rate at which its bursts are sent on
	// (see Pacer): 0 is DefaultPace, below 0 sends every packet as it comes.
	Pace float64
}

// Camera pulls an IP camera's H.264 (and Opus, if it has it) over RTSP and publishes it to
// the hub over WHIP, untouched but for what WebRTC needs (see h264Fixer). It reconnects to
// the camera and to the hub on its own, each with a backoff.
type Camera struct {
	o   CameraOptions
	log *slog.Logger

	mu  sync.Mutex
	pub *Publisher

	packets atomic.Int64 // RTP packets from the camera
	pulls   atomic.Int64 // RTSP sessions that played
}

// NewCamera checks o and makes a camera source; Run starts it.
func NewCamera(o CameraOptions) (*Camera, error) {
	if o.RTSP == "" {
		return nil, errors.New("source: camera: no RTSP URL")
	}
	if o.Publish.URL == "" {
		return nil, errors.New("source: camera: no WHIP endpoint")
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	o.Publish.Logger = o.Logger
	o.Publish.defaults()
	return &Camera{o: o, log: o.Logger.With("camera", rtsp.Redact(o.RTSP))}, nil
}

// Packets counts the RTP packets read from the camera.
func (c *Camera) Packets() int64 { return c.packets.Load() }

// Pulls counts the RTSP sessions that started playing.
func (c *Camera) Pulls() int64 { return c.pulls.Load() }

// Publisher is the current WHIP publisher, or nil before the camera first answered.
func (c *Camera) Publisher() *Publisher {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.pub
}

// cameraTracks are the WebRTC tracks of one camera format.
type cameraTracks struct {
	key          string // what the tracks were made for: profile, audio
	video, audio *webrtc.TrackLocalStaticRTP
	writeVideo   func(*rtp.Packet) error // through the pacer, if any
	cancel       context.CancelFunc
	done         chan struct{}
}

// Run pulls and publishes until ctx ends.
func (c *Camera) Run(ctx context.Context) error {
	fix := newH264Fixer(c.o.MaxPayload)
	var audioNum numbering
	audioNum.gap = 960
	var cur *cameraTracks
	defer func() {
		if cur != nil {
			cur.cancel()
			<-cur.done
		}
	}()
	retry(ctx, c.log, "camera stream", c.o.Publish.MinBackoff, c.o.Publish.MaxBackoff, func(ctx context.Context) error {
		return c.pull(ctx, func(d *rtsp.Description, h264, opus *rtsp.Media) {
			key := h264.ProfileLevelID + fmt.Sprint(opus != nil)
			if cur == nil || cur.key != key {
				if cur != nil {
					cur.cancel()
					<-cur.done
				}
				cur = c.publish(ctx, key, h264, opus)
			}
			fix.session(h264.SPS, h264.PPS)
			audioNum.restart()
		}, func(video bool, p *rtp.Packet) {
			if video {
				for _, q := range fix.push(p) {
					_ = cur.writeVideo(q)
				}
			} else if cur.audio != nil {
				audioNum.begin(p)
				dropExtensions(p)
				audioNum.number(p, []*rtp.Packet{p})
				_ = cur.audio.WriteRTP(p)
			}
		})
	})
	return nil
}

// publish makes the tracks for a camera format and starts publishing them.
func (c *Camera) publish(ctx context.Context, key string, h264, opus *rtsp.Media) *cameraTracks {
	t := &cameraTracks{key: key, done: make(chan struct{})}
	fmtp := "level-asymmetry-allowed=1;packetization-mode=1"
	if h264.ProfileLevelID != "" {
		fmtp += ";profile-level-id=" + h264.ProfileLevelID
	}
	t.video, _ = webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeH264, ClockRate: 90000, SDPFmtpLine: fmtp}, "video", "camera")
	tracks := []webrtc.TrackLocal{t.video}
	if opus != nil {
		t.audio, _ = webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}, "audio", "camera")
		tracks = append(tracks, t.audio)
	}
	pub := NewPublisher(c.o.Publish, tracks...)
	c.mu.Lock()
	c.pub = pub
	c.mu.Unlock()
	pctx, cancel := context.WithCancel(ctx)
	t.cancel = cancel
	t.writeVideo = t.video.WriteRTP
	var pacer *Pacer
	if c.o.Pace >= 0 {
		pacer = NewPacer(t.video.WriteRTP, c.o.Pace)
		t.writeVideo = pacer.Write
	}
	go func() {
		defer close(t.done)
		pub.Run(pctx)
		if pacer != nil {
			pacer.Close()
		}
	}()
	return t
}

// pull runs one RTSP session: describe, set up H.264 (and Opus), play, read until it fails.
func (c *Camera) pull(ctx context.Context, ready func(*rtsp.Description, *rtsp.Media, *rtsp.Media), on func(bool, *rtp.Packet)) error {
	rc, err := rtsp.Dial(ctx, c.o.RTSP, rtsp.Options{Transport: c.o.Transport, Timeout: c.o.Timeout, Logger: c.log})
	if err != nil {
		return err
	}
	defer rc.Close()
	d, err := rc.Describe(ctx)
	if err != nil {
		return err
	}
	h264 := d.H264()
	if h264 == nil {
		return fmt.Errorf("%w (it offers %s)", rtsp.ErrNoH264, codecList(d))
	}
	if h264.PacketizationMode > 1 {
		return fmt.Errorf("source: camera: H.264 packetization-mode %d (interleaved) is not supported by WebRTC", h264.PacketizationMode)
	}
	video, err := rc.Setup(ctx, h264)
	if err != nil {
		return err
	}
	var opus *rtsp.Media
	if a := d.Audio("OPUS"); a != nil && !c.o.NoAudio {
		if _, err := rc.Setup(ctx, a); err == nil {
			opus = a
		} else {
			c.log.Warn("camera audio not set up; going on without it", "error", err)
		}
	}
	if err := rc.Play(ctx); err != nil {
		return err
	}
	c.pulls.Add(1)
	c.log.Info("camera stream playing", "profile", h264.ProfileLevelID, "audio", opus != nil)
	ready(d, h264, opus)
	return rc.Run(ctx, func(t *rtsp.Track, p *rtp.Packet) {
		c.packets.Add(1)
		isVideo := t == video
		if c.o.OnPacket != nil {
			c.o.OnPacket(isVideo, p)
		}
		on(isVideo, p)
	})
}

func codecList(d *rtsp.Description) string {
	s := ""
	for i, m := range d.Media {
		if i > 0 {
			s += ", "
		}
		s += m.Type + " " + m.Codec
	}
	if s == "" {
		return "no media"
	}
	return s
}
