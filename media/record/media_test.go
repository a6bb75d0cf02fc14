package record

// Helpers of the end-to-end tests: real clips encoded by Debian's ffmpeg at
// test time, read with pion's readers, packetized with pion's packetizers,
// and the recorder's output checked with ffprobe and ffmpeg's decoders.

import (
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/pion/rtp"
	"github.com/pion/rtp/codecs"
	"github.com/pion/webrtc/v4/pkg/media/h264reader"
	"github.com/pion/webrtc/v4/pkg/media/ivfreader"
	"github.com/pion/webrtc/v4/pkg/media/oggreader"
)

const ffmpegHint = "ffmpeg and ffprobe are needed by this test: install them with `apt-get install -y ffmpeg` (Debian package ffmpeg)"

// requireFFmpeg fails the test loudly when ffmpeg is missing: these tests
// are part of the suite, not optional extras.
func requireFFmpeg(t testing.TB) {
	t.Helper()
	for _, tool := range []string{"ffmpeg", "ffprobe"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s not found. %s", tool, ffmpegHint)
		}
	}
}

// testKey is a fixed key, so golden manifests do not change.
func testKey() ed25519.PrivateKey {
	seed := make([]byte, ed25519.SeedSize)
	for i := range seed {
		seed[i] = byte(i + 1)
	}
	return ed25519.NewKeyFromSeed(seed)
}

var (
	clipOnce sync.Once
	clipDir  string
	clipErr  error
)

const (
	clipSeconds = 6
	clipFPS     = 30
)

// clips encodes the test clips once per test binary: 6 s of 320x240 at
// 30 fps with a keyframe every second as VP8 (IVF) and H.264 (Annex B,
// constrained baseline, parameter sets before every keyframe, as cameras
// send them), and 6 s of a 440 Hz tone as Opus in Ogg, one 20 ms packet
// per page.
func clips(t testing.TB) string {
	t.Helper()
	requireFFmpeg(t)
	clipOnce.Do(func() {
		clipDir, clipErr = os.MkdirTemp("", "record-clips-")
		if clipErr == nil {
			clipErr = encodeClips(clipDir, "320x240", clipSeconds, clipFPS, clipFPS, "64k", "400k")
		}
	})
	if clipErr != nil {
		t.Fatal(clipErr)
	}
	return clipDir
}

// encodeClips writes vp8.ivf, h264.264 and opus.ogg into dir.
func encodeClips(dir, size string, seconds, fps, gop int, audioRate, videoRate string) error {
	d, g := strconv.Itoa(seconds), strconv.Itoa(gop)
	src := "testsrc=size=" + size + ":rate=" + strconv.Itoa(fps)
	runs := [][]string{
		{"-f", "lavfi", "-i", src, "-t", d, "-c:v", "libvpx", "-g", g, "-keyint_min", g, "-b:v", videoRate,
			"-deadline", "realtime", "-cpu-used", "8", "-f", "ivf", filepath.Join(dir, "vp8.ivf")},
		{"-f", "lavfi", "-i", src, "-t", d, "-c:v", "libx264", "-profile:v", "baseline", "-pix_fmt", "yuv420p",
			"-g", g, "-keyint_min", g, "-sc_threshold", "0", "-bf", "0", "-preset", "veryfast",
			"-x264-params", "repeat-headers=1", "-f", "h264", filepath.Join(dir, "h264.264")},
		{"-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000", "-t", d, "-ac", "2", "-c:a", "libopus",
			"-b:a", audioRate, "-frame_duration", "20", "-page_duration", "20000", "-f", "ogg", filepath.Join(dir, "opus.ogg")},
	}
	for _, args := range runs {
		out, err := exec.Command("ffmpeg", append([]string{"-v", "error", "-y"}, args...)...).CombinedOutput()
		if err != nil {
			return errors.New("ffmpeg " + strings.Join(args, " ") + ": " + err.Error() + "\n" + string(out))
		}
	}
	return nil
}

// clipFrames are a clip's encoded frames (access units) and the RTP
// ticks each one lasts.
type clipFrames struct {
	frames [][]byte
	ticks  uint32
	rate   uint32
}

func readVP8(t testing.TB, path string) clipFrames {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, _, err := ivfreader.NewWith(f)
	if err != nil {
		t.Fatal(err)
	}
	c := clipFrames{ticks: 90000 / clipFPS, rate: 90000}
	for {
		frame, _, err := r.ParseNextFrame()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		c.frames = append(c.frames, frame)
	}
	return c
}

func readH264(t testing.TB, path string) clipFrames {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := h264reader.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	c := clipFrames{ticks: 90000 / clipFPS, rate: 90000}
	var au []byte
	hasVCL := false
	flush := func() {
		if hasVCL {
			c.frames = append(c.frames, au)
		}
		au, hasVCL = nil, false
	}
	for {
		nal, err := r.NextNAL()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		typ := nal.Data[0] & 0x1f
		switch {
		case typ == nalAUD || typ == nalSPS || typ == nalPPS || typ == 6:
			if hasVCL {
				flush()
			}
		case typ == nalSlice || typ == nalIDR:
			if hasVCL && len(nal.Data) > 1 && nal.Data[1]&0x80 != 0 { // first_mb_in_slice == 0
				flush()
			}
			hasVCL = true
		}
		au = append(au, 0, 0, 0, 1)
		au = append(au, nal.Data...)
	}
	flush()
	return c
}

func readOpus(t testing.TB, path string) clipFrames {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, _, err := oggreader.NewWith(f)
	if err != nil {
		t.Fatal(err)
	}
	c := clipFrames{ticks: 960, rate: 48000}
	for {
		page, _, err := r.ParseNextPage()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if bytes.HasPrefix(page, []byte("OpusTags")) || bytes.HasPrefix(page, []byte("OpusHead")) {
			continue
		}
		c.frames = append(c.frames, page)
	}
	return c
}

// packetize turns frames into RTP packets, as a WebRTC sender would.
func packetize(c clipFrames, payloader rtp.Payloader, ssrc uint32, seq uint16, ts uint32) []*rtp.Packet {
	p := rtp.NewPacketizerWithOptions(1200, payloader, rtp.NewFixedSequencer(seq), c.rate,
		rtp.WithSSRC(ssrc), rtp.WithPayloadType(96), rtp.WithTimestamp(ts))
	var out []*rtp.Packet
	for _, f := range c.frames {
		out = append(out, p.Packetize(f, c.ticks)...)
	}
	return out
}

func vp8Packets(t testing.TB) []*rtp.Packet {
	return packetize(readVP8(t, filepath.Join(clips(t), "vp8.ivf")), &codecs.VP8Payloader{EnablePictureID: true}, 0x1111, 100, 1000)
}

func h264Packets(t testing.TB) []*rtp.Packet {
	return packetize(readH264(t, filepath.Join(clips(t), "h264.264")), &codecs.H264Payloader{}, 0x2222, 65000, 4294000000)
}

func opusPackets(t testing.TB) []*rtp.Packet {
	return packetize(readOpus(t, filepath.Join(clips(t), "opus.ogg")), &codecs.OpusPayloader{}, 0x3333, 500, 77)
}

// perturb reorders packets a little (as a network does: swaps within a
// few places) and drops the packets at the given indices. The first ten
// packets stay in order: a packet that comes after a later one at the very
// start of a stream looks, to any depacketizer, like the middle of a frame
// (the recorder then waits for the next keyframe, which the tests count on
// not happening there).
func perturb(pkts []*rtp.Packet, seed uint64, drop ...int) []*rtp.Packet {
	rng := rand.New(rand.NewPCG(seed, seed))
	out := make([]*rtp.Packet, 0, len(pkts))
	dropSet := map[int]bool{}
	for _, i := range drop {
		dropSet[i] = true
	}
	for i, p := range pkts {
		if !dropSet[i] {
			out = append(out, p)
		}
	}
	for i := 10; i+3 < len(out); i += 4 + rng.IntN(4) {
		j := i + 1 + rng.IntN(3)
		out[i], out[j] = out[j], out[i]
	}
	return out
}

// probe is what ffprobe tells of a file.
type probe struct {
	Codec    string
	Width    int
	Height   int
	Frames   int
	Duration float64 // seconds; 0 when the file does not say
}

func ffprobe(t testing.TB, path string) probe {
	t.Helper()
	// JSON on stdout only: ffprobe reports a segment cut by a crash ("File ended
	// prematurely") on stderr, which must not spoil the JSON.
	cmd := exec.Command("ffprobe", "-v", "error", "-count_frames", "-show_entries",
		"stream=codec_name,width,height,nb_read_frames:format=duration", "-of", "json", path)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("ffprobe %s: %v\n%s", path, err, stderr.Bytes())
	}
	var j struct {
		Streams []struct {
			CodecName    string `json:"codec_name"`
			Width        int    `json:"width"`
			Height       int    `json:"height"`
			NbReadFrames string `json:"nb_read_frames"`
		} `json:"streams"`
		Format struct {
			Duration string `json:"duration"`
		} `json:"format"`
	}
	if err := json.Unmarshal(out, &j); err != nil {
		t.Fatalf("ffprobe %s: %v\n%s", path, err, out)
	}
	if len(j.Streams) != 1 {
		t.Fatalf("ffprobe %s: %d streams\n%s", path, len(j.Streams), out)
	}
	s := j.Streams[0]
	p := probe{Codec: s.CodecName, Width: s.Width, Height: s.Height}
	p.Frames, _ = strconv.Atoi(s.NbReadFrames)
	p.Duration, _ = strconv.ParseFloat(j.Format.Duration, 64)
	return p
}

// decodeErrors decodes a whole file and returns what the decoder
// complained of (empty when all is well).
func decodeErrors(t testing.TB, path string) string {
	t.Helper()
	out, err := exec.Command("ffmpeg", "-v", "error", "-i", path, "-f", "null", "-").CombinedOutput()
	if err != nil {
		return err.Error() + ": " + string(out)
	}
	return string(out)
}
