package source

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/rtp"

	"github.com/bailiff/bailiff/media/clips"
	"github.com/bailiff/bailiff/media/rtsp"
	"github.com/bailiff/bailiff/media/sfu/sfutest"
)

// payloads is a set of RTP payloads seen.
type payloads struct {
	mu  sync.Mutex
	set map[string]bool
}

func (p *payloads) add(b []byte) {
	p.mu.Lock()
	if p.set == nil {
		p.set = map[string]bool{}
	}
	p.set[string(b)] = true
	p.mu.Unlock()
}

func (p *payloads) has(b []byte) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.set[string(b)]
}

// A looping clip published over WHIP reaches a WHEP viewer, video and audio.
func TestClipToViewer(t *testing.T) {
	h := startHub(t, "127.0.0.1:0")
	c, err := NewClip(ClipOptions{Video: clips.VP8, Audio: clips.Opus, Publish: h.endpoint(t, "clip"), Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	stop := start(c)
	defer stop()
	v := h.view(t, "clip", sfutest.ViewerOptions{})
	waitFor(t, 10*time.Second, "video and audio at the viewer", func() bool { return v.Packets("video") > 30 && v.Packets("audio") > 30 })
	if got := v.Codec("video"); got != "video/VP8" {
		t.Errorf("video codec %q", got)
	}
	// Stopping the source deletes its WHIP session: the stream ends.
	stop()
	waitFor(t, 5*time.Second, "the stream gone", func() bool { return len(h.sfu.Streams()) == 0 })
}

// The camera path: an RTSP camera's H.264 reaches a WHEP viewer with the same payload bytes.
func TestCameraToViewer(t *testing.T) {
	for _, tr := range []string{rtsp.TCP, rtsp.UDP} {
		t.Run(tr, func(t *testing.T) {
			h := startHub(t, "127.0.0.1:0")
			var sent payloads
			cam := rtsp.NewServer(rtsp.ServerOptions{User: "admin", Password: "pw", Logger: quiet(),
				OnPacket: func(_ string, track int, p *rtp.Packet) {
					if track == 0 {
						sent.add(p.Payload)
					}
				}})
			cam.AddPath("stream1", clips.MustGet(clips.H264), clips.MustGet(clips.Opus))
			addr, err := cam.Listen("127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer cam.Close()
			c, err := NewCamera(CameraOptions{RTSP: "rtsp://admin:pw@" + addr + "/stream1", Transport: tr, Publish: h.endpoint(t, "cam"), Logger: quiet()})
			if err != nil {
				t.Fatal(err)
			}
			stop := start(c)
			defer stop()
			var got, same, mismatch int
			var mu sync.Mutex
			v := h.view(t, "cam", sfutest.ViewerOptions{OnPacket: func(kind string, p *rtp.Packet) {
				if kind != "video" {
					return
				}
				mu.Lock()
				defer mu.Unlock()
				got++
				if sent.has(p.Payload) {
					same++
				} else {
					mismatch++
				}
			}})
			waitFor(t, 10*time.Second, "H.264 and Opus at the viewer", func() bool {
				mu.Lock()
				defer mu.Unlock()
				return same > 50 && v.Packets("audio") > 20
			})
			if c := v.Codec("video"); c != "video/H264" {
				t.Errorf("viewer's codec %q", c)
			}
			mu.Lock()
			defer mu.Unlock()
			if mismatch > 0 {
				t.Errorf("%d of %d video packets differ from what the camera sent", mismatch, got)
			}
		})
	}
}

// A refusal by the hub comes back as an HTTPError with the hub's code and message.
func TestRefusals(t *testing.T) {
	h := startHub(t, "127.0.0.1:0")
	for _, c := range []struct {
		token, path string
		want        error
		code        string
	}{
		{"nope", "/whip/court/r1/x", ErrUnauthorized, "unauthorized"},
		{"view-only", "/whip/court/r1/x", ErrForbidden, "forbidden"},
		{token, "/whip/court/r1/Bad_Name", ErrNotFound, "not_found"},
	} {
		ep := h.endpoint(t, "x")
		ep.URL, ep.Token = h.url(c.path), c.token
		ep.defaults()
		_, err := dial(context.Background(), &ep, nil, (&Publisher{}).setup)
		var he *HTTPError
		if !errors.Is(err, c.want) || !errors.As(err, &he) || he.Code != c.code || he.Message == "" {
			t.Errorf("%s %s: %v (%+v)", c.token, c.path, err, he)
		}
	}
	// The publisher keeps trying, and says why it cannot publish.
	ep := h.endpoint(t, "x")
	ep.Token = "nope"
	p := NewPublisher(ep)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	p.Run(ctx)
	if p.Connected() || !strings.Contains(p.LastError(), "401") || !strings.Contains(p.LastError(), "missing or invalid bearer token") {
		t.Errorf("last error %q", p.LastError())
	}
	// A hub that is not there.
	ep.URL = "http://127.0.0.1:1/whip/a/b/c"
	ep.defaults()
	if _, err := dial(context.Background(), &ep, nil, (&Publisher{}).setup); err == nil {
		t.Error("no hub, yet dial worked")
	}
}

// The hub restarts: the publisher notices and publishes again.
func TestReconnectAfterHubRestart(t *testing.T) {
	h := startHub(t, "127.0.0.1:0")
	c, err := NewClip(ClipOptions{Video: clips.H264, Publish: h.endpoint(t, "clip"), Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	stop := start(c)
	defer stop()
	waitFor(t, 10*time.Second, "published", c.Publisher().Connected)
	h.stop()
	waitFor(t, 15*time.Second, "the publisher notices the hub is gone", func() bool { return !c.Publisher().Connected() })
	h2 := startHub(t, h.addr)
	waitFor(t, 15*time.Second, "published again", func() bool { return c.Publisher().Connected() && c.Publisher().Sessions() >= 2 })
	v := h2.view(t, "clip", sfutest.ViewerOptions{NoAudio: true})
	waitFor(t, 10*time.Second, "video at the new hub's viewer", func() bool { return v.Packets("video") > 20 })
}

// start runs a source until the returned stop is called (once or more).
func start(src interface{ Run(context.Context) error }) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = src.Run(ctx); close(done) }()
	return func() { cancel(); <-done }
}

// The camera drops its session: the source pulls again by itself, and the viewer's stream
// goes on with sequence numbers that do not jump.
func TestCameraReconnects(t *testing.T) {
	h := startHub(t, "127.0.0.1:0")
	cam := rtsp.NewServer(rtsp.ServerOptions{Logger: quiet()})
	cam.AddPath("stream1", clips.MustGet(clips.H264), nil)
	addr, err := cam.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer cam.Close()
	ep := h.endpoint(t, "cam")
	c, err := NewCamera(CameraOptions{RTSP: "rtsp://" + addr + "/stream1", Publish: ep, Timeout: time.Second, Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	defer start(c)()
	var mu sync.Mutex
	var last uint16
	var n, jumps int
	v := h.view(t, "cam", sfutest.ViewerOptions{NoAudio: true, OnPacket: func(kind string, p *rtp.Packet) {
		mu.Lock()
		defer mu.Unlock()
		if n > 0 && p.SequenceNumber-last > 100 {
			jumps++
		}
		last = p.SequenceNumber
		n++
	}})
	waitFor(t, 10*time.Second, "video at the viewer", func() bool { return v.Packets("video") > 20 })
	cam.DropSessions()
	waitFor(t, 10*time.Second, "the camera pulled again", func() bool { return c.Pulls() >= 2 })
	before := v.Packets("video")
	waitFor(t, 10*time.Second, "video after the camera came back", func() bool { return v.Packets("video") > before+30 })
	if c.Publisher().Sessions() != 1 {
		t.Errorf("the WHIP session was redone %d times for a camera reconnect", c.Publisher().Sessions())
	}
	mu.Lock()
	defer mu.Unlock()
	if jumps > 0 {
		t.Errorf("%d jumps in the sequence numbers across the camera's reconnect", jumps)
	}
}

// Most cameras send Main or High profile: such a stream goes through too, its profile
// offered as the camera's SDP says.
func TestCameraHighProfile(t *testing.T) {
	sfutest.RequireFFmpeg(t)
	dir := t.TempDir()
	out, err := exec.Command("ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=15", "-t", "2",
		"-c:v", "libx264", "-profile:v", "high", "-pix_fmt", "yuv420p", "-g", "15", "-bf", "0", "-x264-params", "repeat-headers=1",
		"-f", "h264", filepath.Join(dir, "high.264")).CombinedOutput()
	if err != nil {
		t.Fatalf("ffmpeg: %v\n%s", err, out)
	}
	f, err := os.Open(filepath.Join(dir, "high.264"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	frames, err := clips.ReadH264(f, time.Second/15)
	if err != nil {
		t.Fatal(err)
	}
	clip := &clips.Clip{Codec: clips.H264, ClockRate: 90000, Frames: frames}
	clip.SPS, clip.PPS = clips.ParameterSets(frames)
	clip.ProfileLevelID = fmt.Sprintf("%x", clip.SPS[1:4])
	if clip.SPS[1] != 100 {
		t.Fatalf("not High profile: %s", clip.ProfileLevelID)
	}
	h := startHub(t, "127.0.0.1:0")
	cam := rtsp.NewServer(rtsp.ServerOptions{Logger: quiet()})
	cam.AddPath("high", clip, nil)
	addr, err := cam.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer cam.Close()
	c, err := NewCamera(CameraOptions{RTSP: "rtsp://" + addr + "/high", Publish: h.endpoint(t, "high"), Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	defer start(c)()
	v := h.view(t, "high", sfutest.ViewerOptions{NoAudio: true})
	waitFor(t, 10*time.Second, "High profile H.264 at the viewer", func() bool { return v.Packets("video") > 30 })
	if c := v.Codec("video"); c != "video/H264" {
		t.Errorf("codec %q", c)
	}
}

// A camera that sends SPS and PPS only in its SDP: the source puts them before every IDR, so
// a browser can start decoding at any keyframe.
func TestCameraParameterSetsOutOfBand(t *testing.T) {
	h := startHub(t, "127.0.0.1:0")
	cam := rtsp.NewServer(rtsp.ServerOptions{Logger: quiet(), ParamsOutOfBand: true})
	cam.AddPath("cam", clips.MustGet(clips.H264), nil)
	addr, err := cam.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer cam.Close()
	var inBand atomic.Int64
	c, err := NewCamera(CameraOptions{RTSP: "rtsp://" + addr + "/cam", Publish: h.endpoint(t, "cam"), Logger: quiet(),
		OnPacket: func(_ bool, p *rtp.Packet) {
			if t := p.Payload[0] & 0x1f; t == 7 || t == 8 || t == 24 {
				inBand.Add(1)
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	defer start(c)()
	var mu sync.Mutex
	var stapA, idrAfterStapA, idr int
	prev := byte(0)
	h.view(t, "cam", sfutest.ViewerOptions{NoAudio: true, OnPacket: func(kind string, p *rtp.Packet) {
		mu.Lock()
		defer mu.Unlock()
		typ := p.Payload[0] & 0x1f
		isIDR := typ == 5 || typ == 28 && p.Payload[1]&0x80 != 0 && p.Payload[1]&0x1f == 5
		switch {
		case typ == 24:
			stapA++
		case isIDR:
			idr++
			if prev == 24 {
				idrAfterStapA++
			}
		}
		prev = typ
	}})
	waitFor(t, 10*time.Second, "three keyframes at the viewer", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return idr >= 3
	})
	mu.Lock()
	defer mu.Unlock()
	if n := inBand.Load(); n != 0 {
		t.Fatalf("the camera sent %d parameter set packets in band", n)
	}
	if stapA < 3 || idrAfterStapA < idr-1 {
		t.Errorf("%d STAP-A, %d of %d IDRs right after one", stapA, idrAfterStapA, idr)
	}
}

// A camera that sends packets larger than a WebRTC path takes (up to 64 KiB over TCP): the
// source splits them into FU-A fragments the viewer can reassemble.
func TestCameraLargePackets(t *testing.T) {
	h := startHub(t, "127.0.0.1:0")
	cam := rtsp.NewServer(rtsp.ServerOptions{Logger: quiet(), MTU: 16000})
	cam.AddPath("cam", clips.MustGet(clips.H264), nil)
	addr, err := cam.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer cam.Close()
	var big atomic.Int64
	c, err := NewCamera(CameraOptions{RTSP: "rtsp://" + addr + "/cam", Publish: h.endpoint(t, "cam"), Logger: quiet(),
		OnPacket: func(_ bool, p *rtp.Packet) {
			if len(p.Payload) > DefaultMaxPayload {
				big.Add(1)
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	defer start(c)()
	var mu sync.Mutex
	var largest, frames int
	var au []byte
	h.view(t, "cam", sfutest.ViewerOptions{NoAudio: true, OnPacket: func(kind string, p *rtp.Packet) {
		mu.Lock()
		defer mu.Unlock()
		largest = max(largest, len(p.Payload))
		// Reassemble FU-A fragments: a whole NAL unit ends with the end bit.
		if p.Payload[0]&0x1f == 28 {
			if p.Payload[1]&0x80 != 0 {
				au = []byte{p.Payload[0]&0xe0 | p.Payload[1]&0x1f}
			}
			if au != nil {
				au = append(au, p.Payload[2:]...)
			}
			if p.Payload[1]&0x40 != 0 && au != nil {
				frames++
				au = nil
			}
		}
	}})
	waitFor(t, 10*time.Second, "reassembled NAL units at the viewer", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return frames > 20
	})
	if big.Load() == 0 {
		t.Fatal("the camera sent no packet over the bound: the test tests nothing")
	}
	mu.Lock()
	defer mu.Unlock()
	if largest > DefaultMaxPayload {
		t.Errorf("a %d-byte payload reached the viewer", largest)
	}
}
