package viscasim

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/pion/rtp"

	"github.com/bailiff/bailiff/media/rtsp"
)

// The simulated camera is an IP camera too: an RTSP client pulls its H.264 picture.
func TestServeRTSP(t *testing.T) {
	s := New(Config{})
	defer s.Close()
	srv, err := s.ServeRTSP("127.0.0.1:0", rtsp.ServerOptions{User: "admin", Password: "pw"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	u := strings.Replace(srv.URL(RTSPPath), "rtsp://", "rtsp://admin:pw@", 1)
	c, err := rtsp.Dial(ctx, u, rtsp.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	d, err := c.Describe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if d.H264() == nil || d.Audio("OPUS") == nil {
		t.Fatalf("the camera's stream: %+v", d.Media)
	}
	if _, err := c.Setup(ctx, d.H264()); err != nil {
		t.Fatal(err)
	}
	if err := c.Play(ctx); err != nil {
		t.Fatal(err)
	}
	n := 0
	rctx, rcancel := context.WithCancel(ctx)
	_ = c.Run(rctx, func(*rtsp.Track, *rtp.Packet) {
		if n++; n == 10 {
			rcancel()
		}
	})
	rcancel()
	if n < 10 {
		t.Fatalf("%d packets", n)
	}
}
