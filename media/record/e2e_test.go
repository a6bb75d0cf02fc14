package record

import (
	"crypto/ed25519"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/rtp"
)

func TestMain(m *testing.M) {
	if dir := os.Getenv(childEnv); dir != "" {
		os.Exit(crashChild(dir))
	}
	code := m.Run()
	if clipDir != "" {
		os.RemoveAll(clipDir)
	}
	os.Exit(code)
}

func quietLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// feed writes packets to a track, as the SFU would.
func feed(t testing.TB, tw *TrackWriter, pkts []*rtp.Packet) {
	t.Helper()
	for _, p := range pkts {
		if err := tw.WriteRTP(p); err != nil {
			t.Fatalf("WriteRTP: %v", err)
		}
	}
}

// segmentsOf lists a report's segments of one track.
func segmentsOf(rep *Report, track string) []Segment {
	var out []Segment
	for _, s := range rep.Segments {
		if s.Track == track {
			out = append(out, s)
		}
	}
	return out
}

// checkSegments decodes every segment of a track and checks frame counts
// and durations against what the manifest says.
func checkSegments(t *testing.T, dir string, segs []Segment, codec string, w, h int) (frames int, dur float64) {
	t.Helper()
	for _, s := range segs {
		path := filepath.Join(dir, s.File)
		if msg := decodeErrors(t, path); msg != "" {
			t.Errorf("%s: decoder errors:\n%s", s.File, msg)
		}
		p := ffprobe(t, path)
		if p.Codec != codec {
			t.Errorf("%s: codec %q, want %q", s.File, p.Codec, codec)
		}
		if w != 0 && (p.Width != w || p.Height != h) {
			t.Errorf("%s: %dx%d, want %dx%d", s.File, p.Width, p.Height, w, h)
		}
		if int64(p.Frames) != s.Frames {
			t.Errorf("%s: ffprobe reads %d frames, the manifest says %d", s.File, p.Frames, s.Frames)
		}
		if math.Abs(p.Duration*1000-float64(s.DurationMS)) > 70 {
			t.Errorf("%s: ffprobe says %.3f s, the manifest %d ms", s.File, p.Duration, s.DurationMS)
		}
		frames += p.Frames
		dur += p.Duration
	}
	return frames, dur
}

func TestRecordEndToEnd(t *testing.T) {
	for _, tc := range []struct {
		name    string
		mime    string
		packets func(testing.TB) []*rtp.Packet
		codec   string
	}{
		{"vp8", MimeTypeVP8, vp8Packets, "vp8"},
		{"h264", MimeTypeH264, h264Packets, "h264"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			video := tc.packets(t)
			audio := opusPackets(t)
			dir := filepath.Join(t.TempDir(), "rec")
			var keyRequests atomic.Int64
			rec, err := Start(Options{
				Dir: dir, Key: testKey(), Site: "main", Room: "court-1",
				SegmentDuration: 2 * time.Second, QueueSize: 1 << 16, Logger: quietLogger(),
			})
			if err != nil {
				t.Fatal(err)
			}
			vtw, err := rec.AddTrack(Track{ID: "cam1", MimeType: tc.mime, RequestKeyframe: func() { keyRequests.Add(1) }})
			if err != nil {
				t.Fatal(err)
			}
			atw, err := rec.AddTrack(Track{ID: "mic1", Kind: Audio, MimeType: MimeTypeOpus, Channels: 2})
			if err != nil {
				t.Fatal(err)
			}
			// Lose two packets in the middle of the third second; reorder
			// some everywhere.
			lostAt := len(video) * 5 / 12
			feed(t, vtw, perturb(video, 1, lostAt, lostAt+7))
			feed(t, atw, perturb(audio, 2, 60, 61, 200))
			if err := rec.Mark("note", "witness sworn in"); err != nil {
				t.Fatal(err)
			}
			vs, as := vtw.Stats(), atw.Stats()
			if err := rec.Close(); err != nil {
				t.Fatal(err)
			}
			vs, as = vtw.Stats(), atw.Stats()
			t.Logf("video %+v", vs)
			t.Logf("audio %+v", as)
			if vs.Dropped != 0 || as.Dropped != 0 {
				t.Errorf("queue drops: video %d, audio %d", vs.Dropped, as.Dropped)
			}
			if vs.Lost != 2 || as.Lost != 3 {
				t.Errorf("lost packets: video %d (want 2), audio %d (want 3)", vs.Lost, as.Lost)
			}
			if vs.Skipped == 0 || vs.Skipped > clipFPS {
				t.Errorf("video frames skipped after the loss: %d, want 1..%d (up to the next keyframe)", vs.Skipped, clipFPS)
			}
			if keyRequests.Load() == 0 {
				t.Errorf("no keyframe requested after the loss")
			}

			rep, err := Verify(dir, testKey().Public().(ed25519.PublicKey))
			if err != nil {
				t.Fatal(err)
			}
			if !rep.OK() || !rep.Closed {
				t.Fatalf("verify:\n%s", rep)
			}
			if len(rep.Markers) != 1 || rep.Markers[0].Text != "witness sworn in" {
				t.Errorf("markers: %+v", rep.Markers)
			}
			vsegs, asegs := segmentsOf(rep, "cam1"), segmentsOf(rep, "mic1")
			// 6 s in 2 s segments; the clip's audio lasts 6.02 s, so a
			// fourth audio segment of one frame may follow.
			if len(vsegs) != 3 || len(asegs) < 3 || len(asegs) > 4 {
				t.Fatalf("segments: %d video, %d audio; want 3 and 3 (or 4):\n%+v", len(vsegs), len(asegs), rep.Segments)
			}
			for i, s := range vsegs {
				if want := fmt.Sprintf("cam1-%06d.webm", i); s.File != want {
					t.Errorf("segment %d is %s, want %s", i, s.File, want)
				}
			}
			frames, dur := checkSegments(t, dir, vsegs, tc.codec, 320, 240)
			if int64(frames) != vs.Frames {
				t.Errorf("video: %d frames decoded, %d written", frames, vs.Frames)
			}
			// Two lost packets cost at most the frames up to the next keyframe.
			if total := len(readVP8OrH264(t, tc.name)); frames < total-clipFPS {
				t.Errorf("video: %d frames decoded of %d", frames, total)
			}
			if math.Abs(dur-clipSeconds) > 0.5 {
				t.Errorf("video: %.2f s in all, want about %d s", dur, clipSeconds)
			}
			aframes, adur := checkSegments(t, dir, asegs, "opus", 0, 0)
			if want := len(readOpus(t, filepath.Join(clips(t), "opus.ogg")).frames) - 3; aframes != want {
				t.Errorf("audio: %d frames decoded, want %d", aframes, want)
			}
			if math.Abs(adur-clipSeconds) > 0.3 {
				t.Errorf("audio: %.2f s in all, want about %d s", adur, clipSeconds)
			}
			for _, s := range append(vsegs[:2:2], asegs[:2]...) {
				if math.Abs(float64(s.DurationMS)-2000) > 100 {
					t.Errorf("%s lasts %d ms, want about 2000", s.File, s.DurationMS)
				}
			}
			if tc.name == "vp8" {
				checkTamper(t, dir)
			}
		})
	}
}

func readVP8OrH264(t testing.TB, name string) [][]byte {
	if name == "vp8" {
		return readVP8(t, filepath.Join(clips(t), "vp8.ivf")).frames
	}
	return readH264(t, filepath.Join(clips(t), "h264.264")).frames
}
