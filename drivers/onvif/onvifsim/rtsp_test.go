package onvifsim

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/bailiff/bailiff/media/rtsp"
)

// GetStreamUri names the camera's RTSP stream, which an RTSP client then describes; before
// ServeRTSP the operation is not supported, and an unknown profile is refused.
func TestGetStreamUri(t *testing.T) {
	s := New(Config{})
	addr := start(t, s)
	req := func(profile string) string {
		return `<trt:GetStreamUri><trt:StreamSetup><tt:Stream>RTP-Unicast</tt:Stream><tt:Transport><tt:Protocol>RTSP</tt:Protocol></tt:Transport></trt:StreamSetup><trt:ProfileToken>` + profile + `</trt:ProfileToken></trt:GetStreamUri>`
	}
	if status, reply := post(t, addr, MediaPath, envelope(req("main"))); status == 200 || !strings.Contains(reply, "ter:ActionNotSupported") {
		t.Fatalf("without RTSP: %d %s", status, reply)
	}
	if _, err := s.ServeRTSP("127.0.0.1:0", rtsp.ServerOptions{}); err != nil {
		t.Fatal(err)
	}
	if status, reply := post(t, addr, MediaPath, envelope(req("nope"))); status == 200 || !strings.Contains(reply, "ter:NoProfile") {
		t.Fatalf("unknown profile: %d %s", status, reply)
	}
	status, reply := post(t, addr, MediaPath, envelope(req("main")))
	m := regexp.MustCompile(`<tt:Uri>([^<]+)</tt:Uri>`).FindStringSubmatch(reply)
	if status != 200 || m == nil {
		t.Fatalf("GetStreamUri: %d %s", status, reply)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := rtsp.Dial(ctx, m[1], rtsp.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	d, err := c.Describe(ctx)
	if err != nil || d.H264() == nil {
		t.Fatalf("the stream of %s: %v %+v", m[1], err, d)
	}
}
