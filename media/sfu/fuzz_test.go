package sfu

import (
	"testing"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// FuzzKeyframeStart feeds any payload to the keyframe parsers (a camera's
// packets are outside bytes) and the Opus silence maker: neither may
// panic, and silence always decodes to a frame count the TOC allows.
func FuzzKeyframeStart(f *testing.F) {
	for _, seed := range [][]byte{
		{0x90, 0x80, 0x12, 0x00}, // VP8 with a picture ID, key frame
		{0x10, 0x9d},             // VP8, start, key frame
		{0x67, 0x42},             // H.264 SPS
		{0x78, 0x00, 0x02, 0x67, 0x42, 0x00, 0x02, 0x68, 0xce},
		{0x7c, 0x85, 0x88}, // FU-A start of an IDR
		{0xfc, 0xff, 0xfe}, // Opus CELT 20 ms
		{0x4b, 0x03, 1, 2}, // Opus code 3
		{},
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		_ = keyframeStart(webrtc.MimeTypeVP8, b)
		_ = keyframeStart(webrtc.MimeTypeH264, b)
		s := silenced(&rtp.Packet{Payload: b}).Payload
		d := opusDuration(s)
		if d == 0 {
			t.Fatalf("silence % x for % x is not Opus", s, b)
		}
		if in := opusDuration(b); in != 0 && d < in {
			t.Fatalf("silence of %d units for a packet of %d", d, in)
		}
	})
}

func TestOpusSilence(t *testing.T) {
	for _, c := range []struct {
		in   []byte
		want []byte
	}{
		{[]byte{0xfc, 1, 2, 3}, []byte{0xfc, 0xff, 0xfe}},                   // CELT 20 ms stereo
		{[]byte{0x78, 1}, []byte{0xf8, 0xff, 0xfe}},                         // hybrid 20 ms mono → CELT 20 ms
		{[]byte{0x08 | 0x04, 1}, []byte{0xfc, 0xff, 0xfe}},                  // SILK 20 ms stereo
		{[]byte{0x18}, []byte{0xfb, 3, 0xff, 0xfe, 0xff, 0xfe, 0xff, 0xfe}}, // SILK 60 ms
		{[]byte{0xe0}, []byte{0xe0, 0xff, 0xfe}},                            // CELT 2.5 ms
		{nil, []byte{0xf8, 0xff, 0xfe}},                                     // malformed: 20 ms
	} {
		if got := opusSilence(c.in); string(got) != string(c.want) {
			t.Errorf("opusSilence(% x) = % x, want % x", c.in, got, c.want)
		}
	}
}
