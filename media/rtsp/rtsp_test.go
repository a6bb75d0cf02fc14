package rtsp

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/pion/rtp"

	"github.com/bailiff/bailiff/media/clips"
)

// newServer serves clips at "cam" (H.264 + Opus) and "video" (H.264 only).
func newServer(t *testing.T, o ServerOptions) (*Server, *sent) {
	t.Helper()
	got := &sent{payloads: map[string]bool{}}
	o.OnPacket = got.add
	s := NewServer(o)
	if err := s.AddPath("cam", clips.MustGet(clips.H264), clips.MustGet(clips.Opus)); err != nil {
		t.Fatal(err)
	}
	if err := s.AddPath("video", clips.MustGet(clips.H264), nil); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Listen("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, got
}

// sent remembers the payloads a server sent.
type sent struct {
	mu       sync.Mutex
	payloads map[string]bool
}

func (s *sent) add(_ string, track int, p *rtp.Packet) {
	s.mu.Lock()
	s.payloads[fmt.Sprint(track, string(p.Payload))] = true
	s.mu.Unlock()
}

func (s *sent) has(track int, p []byte) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.payloads[fmt.Sprint(track, string(p))]
}

func withUser(raw, user, pass string) string {
	u, _ := url.Parse(raw)
	u.User = url.UserPassword(user, pass)
	return u.String()
}

// pull describes, sets up every media and plays; it returns the client and its description.
func pull(t *testing.T, ctx context.Context, raw string, o Options) (*Client, *Description, error) {
	t.Helper()
	c, err := Dial(ctx, raw, o)
	if err != nil {
		return nil, nil, err
	}
	d, err := c.Describe(ctx)
	if err != nil {
		c.Close()
		return nil, nil, err
	}
	for i := range d.Media {
		if _, err := c.Setup(ctx, &d.Media[i]); err != nil {
			c.Close()
			return nil, nil, err
		}
	}
	if err := c.Play(ctx); err != nil {
		c.Close()
		return nil, nil, err
	}
	return c, d, nil
}

// collect runs the client for d and checks every packet is one the server sent.
func collect(t *testing.T, c *Client, srv *sent, d time.Duration) (video, audio int, err error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	var mismatch int
	err = c.Run(ctx, func(tr *Track, p *rtp.Packet) {
		track := 0
		if tr.Media.Type == "audio" {
			track = 1
			audio++
		} else {
			video++
		}
		if !srv.has(track, p.Payload) {
			mismatch++
		}
	})
	if mismatch > 0 {
		t.Errorf("%d packets the server did not send (of %d)", mismatch, video+audio)
	}
	return video, audio, err
}

func TestPullTCPAndUDP(t *testing.T) {
	for _, tr := range []string{TCP, UDP} {
		t.Run(tr, func(t *testing.T) {
			s, got := newServer(t, ServerOptions{})
			ctx := context.Background()
			c, d, err := pull(t, ctx, s.URL("cam"), Options{Transport: tr, Timeout: 2 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			h := d.H264()
			if h == nil || !bytes.Equal(h.SPS, clips.MustGet(clips.H264).SPS) || h.PacketizationMode != 1 || h.ProfileLevelID == "" {
				t.Fatalf("H.264 media: %+v", h)
			}
			if a := d.Audio("OPUS"); a == nil || a.ClockRate != 48000 || a.Channels != 2 {
				t.Fatalf("Opus media: %+v", a)
			}
			v, a, err := collect(t, c, got, 800*time.Millisecond)
			if err != nil {
				t.Fatal(err)
			}
			if v < 20 || a < 20 {
				t.Errorf("in 0.8 s: %d video and %d audio packets", v, a)
			}
			if s.Playing() != 1 {
				t.Errorf("playing sessions: %d", s.Playing())
			}
			c.Close()
			waitFor(t, "TEARDOWN ends the session", func() bool { return s.Playing() == 0 })
		})
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting: %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestAuth(t *testing.T) {
	for _, basic := range []bool{false, true} {
		t.Run(fmt.Sprint("basic=", basic), func(t *testing.T) {
			s, got := newServer(t, ServerOptions{User: "admin", Password: "s3cret:x", Basic: basic})
			ctx := context.Background()
			if _, _, err := pull(t, ctx, s.URL("video"), Options{}); !errors.Is(err, ErrUnauthorized) {
				t.Fatalf("no credentials: %v", err)
			}
			if _, _, err := pull(t, ctx, withUser(s.URL("video"), "admin", "wrong"), Options{}); !errors.Is(err, ErrUnauthorized) {
				t.Fatalf("wrong password: %v", err)
			} else if bytes.Contains([]byte(err.Error()), []byte("wrong")) {
				t.Fatalf("the error shows the password: %v", err)
			}
			c, _, err := pull(t, ctx, withUser(s.URL("video"), "admin", "s3cret:x"), Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if v, _, err := collect(t, c, got, 300*time.Millisecond); err != nil || v == 0 {
				t.Fatalf("%d packets, %v", v, err)
			}
		})
	}
}

func TestNotFound(t *testing.T) {
	s, _ := newServer(t, ServerOptions{})
	if _, _, err := pull(t, context.Background(), s.URL("nope"), Options{}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown path: %v", err)
	}
}

// Garbage between the frames: the client resynchronises and still gets only real packets.
func TestGarbageResync(t *testing.T) {
	s, got := newServer(t, ServerOptions{})
	s.SetMode(Garbage)
	c, _, err := pull(t, context.Background(), s.URL("cam"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	v, a, err := collect(t, c, got, 800*time.Millisecond)
	if err != nil || v < 20 || a < 20 {
		t.Fatalf("%d video, %d audio, %v", v, a, err)
	}
	if c.rd.Skipped == 0 {
		t.Error("no garbage was skipped")
	}
}

// A server that drops the session or goes silent ends Run with an error, promptly.
func TestServerStopsMidStream(t *testing.T) {
	for _, how := range []string{"drop", "stall", "close"} {
		t.Run(how, func(t *testing.T) {
			s, _ := newServer(t, ServerOptions{})
			c, _, err := pull(t, context.Background(), s.URL("video"), Options{Timeout: 500 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			var n int
			var mu sync.Mutex
			done := make(chan error, 1)
			go func() {
				done <- c.Run(context.Background(), func(*Track, *rtp.Packet) { mu.Lock(); n++; mu.Unlock() })
			}()
			waitFor(t, "packets", func() bool { mu.Lock(); defer mu.Unlock(); return n > 5 })
			switch how {
			case "drop":
				s.DropSessions()
			case "stall":
				s.SetMode(Stall)
			case "close":
				s.Close()
			}
			select {
			case err := <-done:
				if err == nil {
					t.Fatal("Run ended without an error")
				}
			case <-time.After(3 * time.Second):
				t.Fatal("Run still running 3 s after the server stopped")
			}
		})
	}
}

// With a 2 s session timeout the server closes silent connections: the client's keep-alives
// keep it playing.
func TestKeepAlive(t *testing.T) {
	s, got := newServer(t, ServerOptions{SessionTimeout: 2 * time.Second})
	for _, tr := range []string{TCP, UDP} {
		c, _, err := pull(t, context.Background(), s.URL("video"), Options{Transport: tr, Timeout: time.Second})
		if err != nil {
			t.Fatal(err)
		}
		if v, _, err := collect(t, c, got, 3500*time.Millisecond); err != nil || v < 50 {
			t.Fatalf("%s: %d packets over 3.5 s, %v", tr, v, err)
		}
		c.Close()
	}
}

func TestDialErrors(t *testing.T) {
	for _, u := range []string{"http://x/y", "rtsp://", "::"} {
		if _, err := Dial(context.Background(), u, Options{}); err == nil {
			t.Errorf("Dial(%q) worked", u)
		}
	}
	if _, err := Dial(context.Background(), "rtsp://127.0.0.1:1/x", Options{Timeout: time.Second}); err == nil {
		t.Error("Dial to a closed port worked")
	}
	if got := Redact("rtsp://admin:pw@cam/x"); got != "rtsp://admin@cam/x" {
		t.Errorf("Redact: %q", got)
	}
}
