package clips

import (
	"context"
	"testing"
	"time"

	"github.com/pion/rtp"
)

func TestBundledClips(t *testing.T) {
	for _, c := range []struct {
		codec  string
		frames int
	}{{H264, 30}, {VP8, 30}, {Opus, 100}} {
		clip, err := Get(c.codec)
		if err != nil {
			t.Fatal(err)
		}
		if len(clip.Frames) < c.frames-1 || len(clip.Frames) > c.frames+1 {
			t.Errorf("%s: %d frames, want about %d", c.codec, len(clip.Frames), c.frames)
		}
		if c.codec != Opus && !clip.Frames[0].Key {
			t.Errorf("%s: the clip does not start on a keyframe, so it cannot loop", c.codec)
		}
	}
	h := MustGet(H264)
	if len(h.SPS) == 0 || len(h.PPS) == 0 || h.ProfileLevelID != "42c00d" && h.ProfileLevelID[:2] != "42" {
		t.Errorf("H.264 parameter sets: sps %x pps %x profile %s", h.SPS, h.PPS, h.ProfileLevelID)
	}
	if _, err := Get("H265"); err == nil {
		t.Error("an unknown codec gave a clip")
	}
}

// Sequence numbers and timestamps run on across loops; H.264 keyframes come after SPS and
// PPS in a STAP-A; every packet fits the MTU and the last of a frame has the marker.
func TestPlayerLoops(t *testing.T) {
	c := MustGet(H264)
	p := NewPlayer(c, PlayerOptions{PayloadType: 96, MTU: 600})
	seq, ts := p.SequenceNumber(), p.Timestamp()
	var stapA, fuA, single int
	for range 3 * len(c.Frames) {
		pkts, dur := p.Next()
		if dur != time.Second/15 {
			t.Fatalf("frame duration %v", dur)
		}
		for i, pk := range pkts {
			if pk.SequenceNumber != seq {
				t.Fatalf("sequence %d, want %d", pk.SequenceNumber, seq)
			}
			if pk.Timestamp != ts {
				t.Fatalf("timestamp %d, want %d", pk.Timestamp, ts)
			}
			if pk.Marker != (i == len(pkts)-1) {
				t.Fatalf("marker on packet %d of %d", i, len(pkts))
			}
			if b, _ := pk.Marshal(); len(b) > 600 {
				t.Fatalf("packet of %d bytes over the MTU", len(b))
			}
			switch pk.Payload[0] & 0x1f {
			case 24:
				stapA++
			case 28:
				fuA++
			default:
				single++
			}
			seq++
		}
		ts += 6000
	}
	if stapA != 6 || fuA == 0 {
		t.Errorf("STAP-A %d (want one per IDR: 6), FU-A %d", stapA, fuA)
	}
	// With a large MTU every NAL unit goes whole.
	big := NewPlayer(c, PlayerOptions{MTU: 65000})
	for range len(c.Frames) {
		pkts, _ := big.Next()
		for _, pk := range pkts {
			if pk.Payload[0]&0x1f == 28 {
				t.Fatal("FU-A with an MTU larger than every NAL unit")
			}
			if pk.Payload[0]&0x1f != 24 {
				single++
			}
		}
	}
	if single < len(c.Frames) {
		t.Errorf("%d single NAL unit packets for %d frames", single, len(c.Frames))
	}
}

func TestPlayerPacesAndSkipsToKey(t *testing.T) {
	c := MustGet(VP8)
	p := NewPlayer(c, PlayerOptions{})
	p.Next()
	p.SkipToKey()
	pkts, _ := p.Next()
	if pkts[0].Payload[0]&0x10 == 0 || !c.Frames[15].Key {
		t.Fatalf("after SkipToKey the frame is not the next keyframe")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 350*time.Millisecond)
	defer cancel()
	frames := 0
	_ = p.Run(ctx, func([]*rtp.Packet) error { frames++; return nil })
	// 350 ms at 15 frames a second: 6 frames (the first at once). Loose: a busy machine.
	if frames < 3 || frames > 7 {
		t.Errorf("%d frames in 350 ms, want about 6", frames)
	}
}

func BenchmarkPlayerH264(b *testing.B) {
	p := NewPlayer(MustGet(H264), PlayerOptions{})
	b.ReportAllocs()
	for b.Loop() {
		p.Next()
	}
}
