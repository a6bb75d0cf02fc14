package record

import (
	"bufio"
	"bytes"
	"crypto/ed25519"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pion/rtp"
)

// The kill -9 test runs the recorder in a child process: this test binary
// again, told by childEnv where to record (TestMain sends it to crashChild).
const (
	childEnv      = "BAILIFF_RECORD_CRASH_CHILD"
	childClipsEnv = "BAILIFF_RECORD_CRASH_CLIPS"
	killAtMS      = 4500 // media time fed when the parent kills the child
)

type timedPacket struct {
	ms    int64
	video bool
	p     *rtp.Packet
}

// paced merges a video and an audio packet stream by media time.
func paced(video, audio []*rtp.Packet) []timedPacket {
	var out []timedPacket
	for _, p := range video {
		out = append(out, timedPacket{int64(p.Timestamp-video[0].Timestamp) / 90, true, p})
	}
	for _, p := range audio {
		out = append(out, timedPacket{int64(p.Timestamp-audio[0].Timestamp) / 48, false, p})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].ms < out[j].ms })
	return out
}

// crashChild records VP8 and Opus in real time into dir, telling its
// parent on stdout how far it got ("fed <ms>" after each video frame),
// until it is killed.
func crashChild(dir string) int {
	clipDir = os.Getenv(childClipsEnv) // made by the parent
	clipOnce.Do(func() {})
	t := &testing.T{} // the clip readers want a testing.TB; they do not fail on good clips
	video, audio := vp8Packets(t), opusPackets(t)
	rec, err := Start(Options{Dir: dir, Key: testKey(), Site: "main", Room: "court-1",
		SegmentDuration: 2 * time.Second, Logger: quietLogger()})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	vtw, err := rec.AddTrack(Track{ID: "cam1", MimeType: MimeTypeVP8})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	atw, err := rec.AddTrack(Track{ID: "mic1", MimeType: MimeTypeOpus})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	start := time.Now()
	for _, tp := range paced(video, audio) {
		time.Sleep(time.Until(start.Add(time.Duration(tp.ms) * time.Millisecond)))
		tw := atw
		if tp.video {
			tw = vtw
		}
		if err := tw.WriteRTP(tp.p); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 2
		}
		if tp.video && tp.p.Marker {
			fmt.Printf("fed %d\n", tp.ms)
		}
	}
	select {} // wait for the kill
}

func TestKill9(t *testing.T) {
	cdir := clips(t)
	dir := filepath.Join(t.TempDir(), "rec")
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+dir, childClipsEnv+"="+cdir)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	fed := int64(-1)
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if ms, ok := strings.CutPrefix(sc.Text(), "fed "); ok {
			fed, _ = strconv.ParseInt(ms, 10, 64)
			if fed >= killAtMS {
				break
			}
		}
	}
	if err := cmd.Process.Signal(os.Kill); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	if fed < killAtMS {
		t.Fatalf("the child stopped at %d ms before it was killed", fed)
	}
	t.Logf("killed the recorder after %d ms of media", fed)

	pub := testKey().Public().(ed25519.PublicKey)
	rep, err := Verify(dir, pub)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("after the kill:\n%s", rep)
	if !rep.Crashed() {
		t.Fatalf("want a crashed, untampered recording")
	}
	// The segments being written (the third of each track) are unsealed;
	// the earlier ones are sealed and play.
	unsealed := map[string]bool{}
	for _, p := range rep.Problems {
		if p.Kind == ProblemUnsealed {
			unsealed[p.File] = true
		}
	}
	if !unsealed["cam1-000002.webm"] || !unsealed["mic1-000002.webm"] || len(unsealed) != 2 {
		t.Errorf("unsealed: %v; want cam1-000002.webm and mic1-000002.webm", unsealed)
	}
	startMS := map[string]int64{} // media time where the segment being written starts
	for _, s := range rep.Segments {
		if s.Sealed {
			startMS[s.Track] += s.DurationMS
			if s.Kind == "video" {
				checkSegments(t, dir, []Segment{s}, "vp8", 320, 240)
			} else {
				checkSegments(t, dir, []Segment{s}, "opus", 0, 0)
			}
		}
	}

	// What was written before the kill plays, up to about a second before it.
	for _, name := range []string{"cam1-000002.webm", "mic1-000002.webm"} {
		path := filepath.Join(dir, name)
		if msg := decodeErrorsOfCutFile(t, path); msg != "" {
			t.Errorf("%s: decoder errors:\n%s", name, msg)
		}
		// No Duration in a cut file (not ebml-go's near-zero placeholder),
		// so players take it for a stream of unknown length.
		if p := ffprobe(t, path); p.Duration != 0 && p.Duration < 1 {
			t.Errorf("%s: ffprobe says it lasts %.3f s", name, p.Duration)
		}
		if bytes.Contains(mustRead(t, path)[:200], durationID) {
			t.Errorf("%s: a cut file has a Duration element", name)
		}
		last := lastPTS(t, path)
		if got := startMS[strings.Split(name, "-")[0]] + int64(last*1000); got < fed-1000 {
			t.Errorf("%s plays up to %d ms of media; the recorder was fed %d ms", name, got, fed)
		} else {
			t.Logf("%s plays up to %d ms of media; fed %d ms", name, got, fed)
		}
	}

	// Recover seals what is there; then the recording verifies.
	rep, err = Recover(dir, testKey())
	if err != nil {
		t.Fatalf("recover: %v\n%s", err, rep)
	}
	if !rep.OK() || !rep.Closed {
		t.Fatalf("after recover:\n%s", rep)
	}
	n := 0
	for _, s := range rep.Segments {
		if s.Recovered {
			n++
		}
	}
	if n != 2 {
		t.Errorf("%d segments recovered, want 2", n)
	}
	if rep, err := Recover(dir, testKey()); err != nil || !rep.OK() {
		t.Errorf("recover again: %v\n%s", err, rep)
	}
}

// decodeErrorsOfCutFile is decodeErrors less the one complaint a cut
// file always draws.
func decodeErrorsOfCutFile(t *testing.T, path string) string {
	var keep []string
	for _, l := range strings.Split(decodeErrors(t, path), "\n") {
		if l != "" && !strings.Contains(l, "File ended prematurely") {
			keep = append(keep, l)
		}
	}
	return strings.Join(keep, "\n")
}

// lastPTS is the presentation time of a file's last packet, in seconds.
func lastPTS(t *testing.T, path string) float64 {
	t.Helper()
	out, err := exec.Command("ffprobe", "-v", "error", "-select_streams", "0", "-show_entries", "packet=pts_time",
		"-of", "csv=p=0", path).Output()
	if err != nil {
		t.Fatalf("ffprobe %s: %v", path, err)
	}
	lines := strings.Fields(string(out))
	if len(lines) == 0 {
		t.Fatalf("%s: no packets", path)
	}
	v, err := strconv.ParseFloat(lines[len(lines)-1], 64)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return v
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
