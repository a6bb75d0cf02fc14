// Package sfutest helps test code that publishes to or views from the
// SFU: it encodes small clips with Debian's ffmpeg at test time, reads
// them into frames, and runs pion peers that publish them in real time or
// view a stream and count (and optionally save) what arrives. The hub's
// integration tests use it too.
package sfutest

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bailiff/bailiff/media/clips"
)

// FFmpegHint says how to get ffmpeg where it is missing.
const FFmpegHint = "ffmpeg and ffprobe are needed: install them with `apt-get install -y ffmpeg` (Debian package ffmpeg)"

// RequireFFmpeg fails the test when ffmpeg or ffprobe is missing: the
// media tests are part of the suite, not optional extras.
func RequireFFmpeg(tb testing.TB) {
	tb.Helper()
	for _, tool := range []string{"ffmpeg", "ffprobe"} {
		if _, err := exec.LookPath(tool); err != nil {
			tb.Fatalf("%s not found. %s", tool, FFmpegHint)
		}
	}
}

// Frame is one encoded frame (a VP8 frame, an H.264 access unit in Annex
// B, an Opus packet) and how long it lasts.
type Frame = clips.Frame

// Spec says what clips to encode.
type Spec struct {
	Size         string // "320x240"
	FPS          int    // frames a second; a keyframe every second
	Seconds      int
	VideoBitrate string // "400k"
	AudioBitrate string // "64k"
	// Noise (0–100) adds temporal noise to the picture, so the encoder
	// needs its whole bit rate (a benchmark's steady 2.5 Mb/s).
	Noise int
}

// Clips are a clip set read into frames.
type Clips struct {
	Dir             string
	VP8, H264, Opus []Frame
	Spec            Spec
}

var (
	cacheMu sync.Mutex
	cache   = map[Spec]*Clips{}
)

// Small is the clip set the functional tests use: 320x240 at 30 fps, 4 s.
var Small = Spec{Size: "320x240", FPS: 30, Seconds: 4, VideoBitrate: "400k", AudioBitrate: "48k"}

// Load encodes the clips of spec (once per test binary) and reads them.
// Call Cleanup from TestMain to remove the files.
func Load(tb testing.TB, spec Spec) *Clips {
	tb.Helper()
	RequireFFmpeg(tb)
	cacheMu.Lock()
	defer cacheMu.Unlock()
	if c, ok := cache[spec]; ok {
		return c
	}
	dir, err := os.MkdirTemp("", "sfutest-clips-")
	if err != nil {
		tb.Fatal(err)
	}
	c, err := Encode(dir, spec)
	if err != nil {
		_ = os.RemoveAll(dir)
		tb.Fatal(err)
	}
	cache[spec] = c
	return c
}

// Cleanup removes the clips Load encoded.
func Cleanup() {
	cacheMu.Lock()
	defer cacheMu.Unlock()
	for k, c := range cache {
		_ = os.RemoveAll(c.Dir)
		delete(cache, k)
	}
}

// Encode writes vp8.ivf, h264.264 (constrained baseline, parameter sets
// before every keyframe, as cameras send them) and opus.ogg (20 ms
// packets, one a page) into dir, and reads them.
func Encode(dir string, s Spec) (*Clips, error) {
	d, fps := strconv.Itoa(s.Seconds), strconv.Itoa(s.FPS)
	src := "testsrc2=size=" + s.Size + ":rate=" + fps
	if s.Noise > 0 {
		src += ",noise=alls=" + strconv.Itoa(s.Noise) + ":allf=t"
	}
	runs := [][]string{
		{"-f", "lavfi", "-i", src, "-t", d, "-c:v", "libvpx", "-g", fps, "-keyint_min", fps, "-b:v", s.VideoBitrate,
			"-deadline", "realtime", "-cpu-used", "8", "-f", "ivf", filepath.Join(dir, "vp8.ivf")},
		{"-f", "lavfi", "-i", src, "-t", d, "-c:v", "libx264", "-profile:v", "baseline", "-pix_fmt", "yuv420p",
			"-g", fps, "-keyint_min", fps, "-sc_threshold", "0", "-bf", "0", "-preset", "veryfast",
			"-b:v", s.VideoBitrate, "-maxrate", s.VideoBitrate, "-bufsize", s.VideoBitrate, "-x264-params", "repeat-headers=1:slices=1", "-f", "h264", filepath.Join(dir, "h264.264")},
		{"-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000", "-t", d, "-ac", "2", "-c:a", "libopus",
			"-b:a", s.AudioBitrate, "-frame_duration", "20", "-page_duration", "20000", "-f", "ogg", filepath.Join(dir, "opus.ogg")},
	}
	for _, args := range runs {
		out, err := exec.Command("ffmpeg", append([]string{"-v", "error", "-y"}, args...)...).CombinedOutput()
		if err != nil {
			return nil, fmt.Errorf("sfutest: ffmpeg %s: %w\n%s", strings.Join(args, " "), err, out)
		}
	}
	c := &Clips{Dir: dir, Spec: s}
	var err error
	frame := time.Second / time.Duration(s.FPS)
	if c.VP8, err = ReadIVF(filepath.Join(dir, "vp8.ivf"), frame); err != nil {
		return nil, err
	}
	if c.H264, err = ReadH264(filepath.Join(dir, "h264.264"), frame); err != nil {
		return nil, err
	}
	if c.Opus, err = ReadOgg(filepath.Join(dir, "opus.ogg")); err != nil {
		return nil, err
	}
	return c, nil
}

// ReadIVF reads the frames of an IVF file (VP8).
func ReadIVF(path string, frame time.Duration) ([]Frame, error) {
	return readFile(path, func(r io.Reader) ([]Frame, error) { return clips.ReadIVF(r, frame) })
}

// ReadH264 reads an Annex B file into access units, each in Annex B (clips.ReadH264).
func ReadH264(path string, frame time.Duration) ([]Frame, error) {
	return readFile(path, func(r io.Reader) ([]Frame, error) { return clips.ReadH264(r, frame) })
}

// ReadOgg reads the Opus packets of an Ogg file (one packet a page).
func ReadOgg(path string) ([]Frame, error) { return readFile(path, clips.ReadOgg) }

func readFile(path string, read func(io.Reader) ([]Frame, error)) ([]Frame, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	out, err := read(f)
	if err != nil {
		return nil, fmt.Errorf("sfutest: %s: %w", path, err)
	}
	return out, nil
}

// CountFrames decodes a media file with ffprobe and returns how many
// frames of its first stream decoded.
func CountFrames(path string) (int, error) {
	out, err := exec.Command("ffprobe", "-v", "error", "-count_frames", "-select_streams", "0",
		"-show_entries", "stream=nb_read_frames", "-of", "csv=p=0", path).CombinedOutput()
	if err != nil {
		return 0, fmt.Errorf("sfutest: ffprobe %s: %w\n%s", path, err, out)
	}
	n, err := strconv.Atoi(strings.TrimSpace(strings.Split(string(out), "\n")[0]))
	if err != nil {
		return 0, fmt.Errorf("sfutest: ffprobe %s: %q", path, out)
	}
	return n, nil
}
