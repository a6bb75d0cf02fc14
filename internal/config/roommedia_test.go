package config_test

import (
	"strings"
	"testing"

	"github.com/bailiff/bailiff/internal/config"
)

const mediaRoom = goodRoom + `media:
  hub: http://hub.court.example:8080
  streams:
    - name: bench-cam
      camera:
        rtsp: rtsp://admin:s3cret@10.20.1.30:554/stream1
        device: projector
    - name: room-mics
      microphone:
        input: USB Audio
        channels: "2"
    - name: demo
      clip: {}
  speakers:
    - stream: remote-1
      output: HDMI
`

func TestMedia(t *testing.T) {
	r, err := config.ParseRoom("r.yaml", []byte(mediaRoom))
	if err != nil {
		t.Fatal(err)
	}
	m := r.Media
	if m.Hub != "http://hub.court.example:8080" || len(m.Streams) != 3 || len(m.Speakers) != 1 {
		t.Fatalf("media: %+v", m)
	}
	if m.Streams[0].Kind() != config.StreamCamera || m.Streams[1].Kind() != config.StreamMicrophone || m.Streams[2].Kind() != config.StreamClip {
		t.Errorf("kinds: %s %s %s", m.Streams[0].Kind(), m.Streams[1].Kind(), m.Streams[2].Kind())
	}
	if m.Streams[0].Camera.RTSP != "rtsp://admin:s3cret@10.20.1.30:554/stream1" || m.Speakers[0].Stream != "remote-1" {
		t.Errorf("values: %+v %+v", m.Streams[0].Camera, m.Speakers[0])
	}
}

func TestMediaErrors(t *testing.T) {
	f := "r.yaml"
	for _, c := range []struct {
		yaml string
		want []string
	}{
		{`media:
  hub: ftp://hub
  streams:
    - name: Bench
      camera:
        rtsp: http://admin:s3cret@cam/x
        transport: sctp
        device: nope
    - name: two
      clip: {}
      microphone: {}
    - name: two
      clip: {video: h265, audio: none}
    - name: none
  speakers:
    - stream: ""
      room: Other_Room
`, []string{
			f + `:16: media.hub: "ftp://hub": scheme "ftp" not supported; want http or https`,
			f + `:18: media.streams[0].name: invalid stream ID "Bench": want 1-63 characters of a-z, 0-9 and '-', not starting with '-'`,
			f + `:20: media.streams[0].camera.rtsp: "http://admin:xxxxx@cam/x": scheme "http" not supported; want rtsp`,
			f + `:21: media.streams[0].camera.transport: unknown transport "sctp"; want one of tcp, udp`,
			f + `:22: media.streams[0].camera.device: no device "nope" in this room`,
			f + `:23: media.streams[1]: want exactly one of camera, microphone or clip, got 2`,
			f + `:26: media.streams[2].name: duplicate stream name "two" (also media.streams[1])`,
			f + `:27: media.streams[2].clip.video: unknown video clip "h265" (did you mean "h264"?); want one of h264, vp8, none`,
			f + `:28: media.streams[3]: want exactly one of camera, microphone or clip, got 0`,
			f + `:30: media.speakers[0].stream: required`,
			f + `:31: media.speakers[0].room: invalid room ID "Other_Room": want 1-63 characters of a-z, 0-9 and '-', not starting with '-'`,
		}},
		{`media:
  hub: http://user:pw@hub:8080/api
  streams:
    - name: cam
      camera: {rtsp: "rtsp://"}
`, []string{
			f + `:16: media.hub: "http://user:xxxxx@hub:8080/api": want only scheme, host and port (the agent adds /whip/…)`,
			f + `:19: media.streams[0].camera.rtsp: "rtsp:": no host`,
		}},
	} {
		_, err := config.ParseRoom(f, []byte(goodRoom+c.yaml))
		checkErr(t, err, c.want)
		if err != nil && strings.Contains(err.Error(), "s3cret") {
			t.Errorf("an error shows the camera's password: %v", err)
		}
	}
}
