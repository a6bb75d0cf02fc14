package agent

import (
	"strings"
	"testing"

	"github.com/bailiff/bailiff/internal/config"
)

func TestMediaToken(t *testing.T) {
	if got := MediaToken("court", "r1", "s3cret"); got != "agent.court.r1.s3cret" {
		t.Errorf("token %q", got)
	}
}

// The agent makes a source per stream, publishing to the hub's WHIP path of the room; a room
// with streams and no hub URL is refused.
func TestNewMedia(t *testing.T) {
	room := &config.Room{Site: "court", Room: "r1", Kind: config.KindTechCourtroom, Name: "R1",
		Media: config.RoomMedia{Streams: []config.Stream{
			{Name: "cam", Camera: &config.Camera{RTSP: "rtsp://127.0.0.1:1/x"}},
			{Name: "clip", Clip: &config.Clip{}},
		}}}
	o := Options{Room: room, Broker: "tcp://127.0.0.1:1", Password: "pw"}
	if _, err := New(o); err == nil || !strings.Contains(err.Error(), "no hub URL") {
		t.Fatalf("no hub URL: %v", err)
	}
	o.HubURL = "http://127.0.0.1:1/"
	a, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	if len(a.media) != 2 || a.media[0].kind != config.StreamCamera || a.media[1].kind != config.StreamClip {
		t.Fatalf("media sources: %+v", a.media)
	}
	room.Media.Hub, o.HubURL = "http://hub:8080", ""
	if _, err := New(o); err != nil {
		t.Fatalf("media.hub from the room: %v", err)
	}
	if clipCodec("", "H264") != "H264" || clipCodec("none", "H264") != "" || clipCodec("vp8", "H264") != "VP8" {
		t.Error("clipCodec")
	}
}
