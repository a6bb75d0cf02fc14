package sfu

import (
	"encoding/binary"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/bailiff/bailiff/media/sfu/sfutest"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// fingerprints remember which camera sent each video payload.
type fingerprints struct {
	mu sync.Mutex
	m  map[string]string
}

func (f *fingerprints) hook(camera string) func(string, *rtp.Packet) {
	return func(kind string, p *rtp.Packet) {
		if kind != "video" {
			return
		}
		f.mu.Lock()
		f.m[string(p.Payload)] = camera
		f.mu.Unlock()
	}
}

func (f *fingerprints) camera(payload []byte) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.m[string(payload)]
}

type seen struct {
	seq    uint16
	ts     uint32
	camera string
	key    bool
}

// TestProgramSwitch publishes two cameras (different pictures, so each
// packet's camera is known) and switches a program between them twice:
// a viewer of the program sees one track whose sequence numbers have no
// gap, whose timestamps never go back, and which begins a keyframe at
// each cut; what it saved decodes (ffprobe).
func TestProgramSwitch(t *testing.T) {
	clipsA := sfutest.Load(t, sfutest.Small)
	clipsB := sfutest.Load(t, sfutest.Spec{Size: "240x180", FPS: 30, Seconds: 4, VideoBitrate: "300k", AudioBitrate: "48k"})
	for _, mime := range []string{webrtc.MimeTypeVP8, webrtc.MimeTypeH264} {
		t.Run(mime[len("video/"):], func(t *testing.T) {
			s := newTestSFU(t, testOptions())
			api := clientAPI(t, true)
			fp := &fingerprints{m: map[string]string{}}
			camA := Key{Site: testKey.Site, Room: testKey.Room, Name: "cam-a"}
			camB := Key{Site: testKey.Site, Room: testKey.Room, Name: "cam-b"}
			prog, err := s.NewProgram(testKey.Site, testKey.Room, ProgramOptions{Cameras: []string{"cam-a", "cam-b"}, Audio: []string{"cam-a"}})
			if err != nil {
				t.Fatal(err)
			}
			defer prog.Close()
			publishWith(t, s, api, camA, mime, clipsA, fp.hook("cam-a"))
			publishWith(t, s, api, camB, mime, clipsB, fp.hook("cam-b"))

			var mu sync.Mutex
			var got []seen
			dir := t.TempDir()
			v, _ := view(t, s, api, prog.Key(), sfutest.ViewerOptions{SaveDir: dir, OnPacket: func(kind string, p *rtp.Packet) {
				if kind != "video" {
					return
				}
				c := fp.camera(p.Payload)
				mu.Lock()
				got = append(got, seen{p.SequenceNumber, p.Timestamp, c, keyframeStart(mime, p.Payload)})
				mu.Unlock()
			}})
			frames := func(n int64) {
				t.Helper()
				want := v.Frames() + n
				if !sfutest.WaitFor(10*time.Second, func() bool { return v.Frames() >= want }) {
					t.Fatalf("viewer has %d frames, want %d; program %+v", v.Frames(), want, prog.Stats())
				}
			}
			// A downstream of the program like the recorder: one SSRC throughout.
			ssrcs := map[uint32]bool{}
			var smu sync.Mutex
			detach, err := prog.Stream().Attach(DownstreamFunc(func(tr *Track) (Sink, error) {
				if tr.Info().Kind != "video" {
					return nil, nil
				}
				return sinkFunc(func(p *rtp.Packet) error {
					smu.Lock()
					ssrcs[p.SSRC] = true
					smu.Unlock()
					return nil
				}), nil
			}))
			if err != nil {
				t.Fatal(err)
			}
			defer detach()
			frames(30)
			for _, cam := range []string{"cam-b", "cam-a"} {
				if err := prog.Switch(cam); err != nil {
					t.Fatal(err)
				}
				if !sfutest.WaitFor(5*time.Second, func() bool { return prog.Stats().Camera == cam }) {
					t.Fatalf("program did not cut to %s: %+v", cam, prog.Stats())
				}
				frames(30)
			}
			if err := prog.Switch("cam-z"); err == nil {
				t.Error("a switch to an unknown camera was taken")
			}
			if v.Packets("audio") == 0 {
				t.Error("no program audio")
			}
			_ = v.Close()

			mu.Lock()
			defer mu.Unlock()
			// In sequence order, once each: a packet the viewer's NACK had
			// sent again arrives late.
			ext := make([]int64, len(got))
			for i := 1; i < len(got); i++ {
				ext[i] = ext[i-1] + int64(int16(got[i].seq-got[i-1].seq))
			}
			idx := make([]int, len(got))
			for i := range idx {
				idx[i] = i
			}
			sort.SliceStable(idx, func(a, b int) bool { return ext[idx[a]] < ext[idx[b]] })
			var ordered []seen
			for k, i := range idx {
				if k > 0 && ext[i] == ext[idx[k-1]] {
					continue
				}
				ordered = append(ordered, got[i])
			}
			got = ordered
			cuts := 0
			have := map[uint16]bool{}
			for i, g := range got {
				have[g.seq] = true
				if g.camera == "" {
					t.Fatalf("packet %d came from no camera", i)
				}
				if i == 0 {
					// A viewer joins mid-stream, like a viewer of any stream: its
					// keyframe was asked for.
					if g.camera != "cam-a" {
						t.Errorf("first packet from %s, want cam-a", g.camera)
					}
					continue
				}
				prev := got[i-1]
				if g.camera != prev.camera {
					cuts++
					if !g.key {
						t.Errorf("packet %d: cut to %s without a keyframe", i, g.camera)
					}
					if d := int16(g.seq - prev.seq); d != 1 {
						t.Errorf("packet %d: cut to %s with sequence step %d", i, g.camera, d)
					}
					if d := int32(g.ts - prev.ts); d <= 0 {
						t.Errorf("packet %d: cut to %s with timestamp step %d", i, g.camera, d)
					}
				}
			}
			if cuts != 2 {
				t.Errorf("%d cuts seen, want 2", cuts)
			}
			first, last := got[0].seq, got[len(got)-1].seq
			for q := first; q != last; q++ {
				if !have[q] {
					t.Errorf("sequence number %d missing between %d and %d", q, first, last)
					break
				}
			}
			name := "video.ivf"
			if mime == webrtc.MimeTypeH264 {
				name = "video.h264"
			}
			n, err := sfutest.CountFrames(filepath.Join(dir, name))
			if err != nil || n < 60 {
				t.Errorf("the program decodes to %d frames (%v), want 60 or more", n, err)
			}
			smu.Lock()
			if len(ssrcs) != 1 {
				t.Errorf("the program's downstream saw SSRCs %v, want one", ssrcs)
			}
			smu.Unlock()
			if st := prog.Stats(); st.Switches != 3 { // the first picture, then two cuts
				t.Errorf("stats %+v", st)
			}
		})
	}
}

type sinkFunc func(*rtp.Packet) error

func (f sinkFunc) WriteRTP(p *rtp.Packet) error { return f(p) }

// TestProgramOptions refuses programs that cannot be.
func TestProgramOptions(t *testing.T) {
	s := newTestSFU(t, testOptions())
	for _, o := range []ProgramOptions{
		{},
		{Cameras: []string{"a"}, Camera: "b"},
		{Cameras: []string{"program"}},
		{Name: "Bad Name", Cameras: []string{"a"}},
	} {
		if p, err := s.NewProgram("hq", "court-1", o); err == nil {
			p.Close()
			t.Errorf("%+v was taken", o)
		}
	}
	p, err := s.NewProgram("hq", "court-1", ProgramOptions{Cameras: []string{"a"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.NewProgram("hq", "court-1", ProgramOptions{Cameras: []string{"a"}}); err == nil {
		t.Error("a second program of the same key was taken")
	}
	p.Close()
	if s.Stream(p.Key()) != nil {
		t.Error("a closed program is still listed")
	}
}

// TestMutedAudio mutes a stream's audio while a viewer saves it: decoded
// (ffmpeg), the muted stretch is silent and the rest is not.
func TestMutedAudio(t *testing.T) {
	clips := sfutest.Load(t, sfutest.Small)
	s := newTestSFU(t, testOptions())
	api := clientAPI(t, true)
	publish(t, s, api, testKey, webrtc.MimeTypeVP8, clips)
	dir := t.TempDir()
	v, _ := view(t, s, api, testKey, sfutest.ViewerOptions{SaveDir: dir, NoVideo: true})
	at := func(n int64) int64 {
		t.Helper()
		if !sfutest.WaitFor(10*time.Second, func() bool { return v.Packets("audio") >= n }) {
			t.Fatalf("viewer has %d audio packets, want %d", v.Packets("audio"), n)
		}
		return v.Packets("audio")
	}
	at(50)
	s.SetMuted(testKey.Site, testKey.Room, []string{testKey.Name})
	from := v.Packets("audio")
	to := at(from+100) - 0
	s.SetMuted(testKey.Site, testKey.Room, nil)
	at(to + 60)
	_ = v.Close()
	pcm := decodeOpus(t, filepath.Join(dir, "audio.ogg"))
	const perPacket = 960 // 20 ms at 48 kHz, mono after decoding
	window := func(a, b int64) float64 {
		return rms(pcm[min(a*perPacket, int64(len(pcm))):min(b*perPacket, int64(len(pcm)))])
	}
	// A margin of packets either side: a packet queued when the flag
	// changed.
	before, during, after := window(10, from-5), window(from+10, to-10), window(to+15, to+55)
	t.Logf("RMS before %.1f, muted %.1f, after %.1f", before, during, after)
	if !(during <= 1 && before >= 1000 && after >= 1000) { // NaN (too short) fails too
		t.Errorf("RMS before %.1f, muted %.1f, after %.1f: want silence only while muted", before, during, after)
	}
}

// decodeOpus decodes an Ogg Opus file to 48 kHz mono 16-bit samples.
func decodeOpus(t *testing.T, path string) []int16 {
	t.Helper()
	out := filepath.Join(t.TempDir(), "pcm.raw")
	cmd := exec.Command("ffmpeg", "-v", "error", "-i", path, "-ac", "1", "-ar", "48000", "-f", "s16le", out)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg: %v: %s", err, b)
	}
	raw, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	pcm := make([]int16, len(raw)/2)
	for i := range pcm {
		pcm[i] = int16(binary.LittleEndian.Uint16(raw[2*i:]))
	}
	return pcm
}

func rms(s []int16) float64 {
	if len(s) == 0 {
		return math.NaN()
	}
	var sum float64
	for _, x := range s {
		sum += float64(x) * float64(x)
	}
	return math.Sqrt(sum / float64(len(s)))
}
