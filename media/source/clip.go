package source

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"

	"github.com/bailiff/bailiff/media/clips"
)

// ClipOptions configure a Clip source.
type ClipOptions struct {
	Video string // clips.H264, clips.VP8 or "" for none
	Audio string // clips.Opus or "" for none
	// Publish is the hub's WHIP endpoint for the stream.
	Publish Endpoint
	Logger  *slog.Logger
	// OnPacket, if set, is called with each packet before it is written.
	OnPacket func(video bool, p *rtp.Packet)
	// Pace is the multiple of the video's recent bit rate at which each frame is sent (see
	// Pacer): 0 is DefaultPace, below 0 sends each frame as one burst.
	Pace float64
}

// Clip publishes looping bundled clips to the hub over WHIP, in real time: the demo's and
// the tests' stand-in for a camera or a microphone. It answers the hub's keyframe requests
// by skipping to the clip's next keyframe.
type Clip struct {
	o      ClipOptions
	pub    *Publisher
	video  *clips.Player
	audio  *clips.Player
	vtrack *webrtc.TrackLocalStaticRTP
	atrack *webrtc.TrackLocalStaticRTP
}

// NewClip checks o and makes a clip source.
func NewClip(o ClipOptions) (*Clip, error) {
	if o.Video == "" && o.Audio == "" {
		return nil, errors.New("source: clip: neither video nor audio")
	}
	if o.Publish.URL == "" {
		return nil, errors.New("source: clip: no WHIP endpoint")
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	o.Publish.Logger = o.Logger
	c := &Clip{o: o}
	var tracks []webrtc.TrackLocal
	if o.Video != "" {
		vc, err := clips.Get(o.Video)
		if err != nil || vc.Codec == clips.Opus {
			return nil, fmt.Errorf("source: clip: video %q: want H264 or VP8", o.Video)
		}
		vcap := webrtc.RTPCodecCapability{MimeType: "video/" + vc.Codec, ClockRate: 90000}
		if vc.Codec == clips.H264 {
			vcap.SDPFmtpLine = "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=" + vc.ProfileLevelID
		}
		c.vtrack, _ = webrtc.NewTrackLocalStaticRTP(vcap, "video", "clip")
		c.video = clips.NewPlayer(vc, clips.PlayerOptions{})
		tracks = append(tracks, c.vtrack)
	}
	if o.Audio != "" {
		ac, err := clips.Get(o.Audio)
		if err != nil || ac.Codec != clips.Opus {
			return nil, fmt.Errorf("source: clip: audio %q: want opus", o.Audio)
		}
		c.atrack, _ = webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}, "audio", "clip")
		c.audio = clips.NewPlayer(ac, clips.PlayerOptions{})
		tracks = append(tracks, c.atrack)
	}
	c.pub = NewPublisher(o.Publish, tracks...)
	if c.video != nil {
		c.pub.OnKeyframeRequest = c.video.SkipToKey
	}
	return c, nil
}

// Publisher is the clip's WHIP publisher.
func (c *Clip) Publisher() *Publisher { return c.pub }

// Run plays and publishes until ctx ends.
func (c *Clip) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	play := func(p *clips.Player, write func(*rtp.Packet) error, video bool) {
		defer wg.Done()
		_ = p.Run(ctx, func(pkts []*rtp.Packet) error {
			for _, pk := range pkts {
				if c.o.OnPacket != nil {
					c.o.OnPacket(video, pk)
				}
				_ = write(pk)
			}
			return nil
		})
	}
	if c.video != nil {
		write := c.vtrack.WriteRTP
		if c.o.Pace >= 0 {
			pacer := NewPacer(c.vtrack.WriteRTP, c.o.Pace)
			defer pacer.Close()
			write = pacer.Write
		}
		wg.Add(1)
		go play(c.video, write, true)
	}
	if c.audio != nil {
		wg.Add(1)
		go play(c.audio, c.atrack.WriteRTP, false)
	}
	c.pub.Run(ctx)
	wg.Wait()
	return nil
}
