package integration

import (
	"encoding/binary"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/bailiff/bailiff/drivers/visca/viscasim"
	"github.com/bailiff/bailiff/internal/hub"
	"github.com/bailiff/bailiff/internal/testutil"
)

// levelSetter is the Shure simulator's knob for its meter levels (0-60 a channel).
type levelSetter interface{ SetLevels([]int) }

// TestVoiceFollowing runs the demo (hub, agent, Shure and VISCA simulators): the ceiling
// array's simulator makes the defence's lobe speak, and the hub recalls that seat's preset
// on the counsel camera over VISCA and cuts the program to it. By hand, the judge's panel
// turns following off and picks a camera; a speaker then moves nothing.
func TestVoiceFollowing(t *testing.T) {
	e, d := startDemo(t)
	tok := e.demoLogin("judge")
	const room = "/api/v1/rooms/demo-court/courtroom-1/program"
	mics, ok := d.Sims["demo-court/courtroom-1/mics-ceiling"].(levelSetter)
	if !ok {
		t.Fatal("no Shure simulator for mics-ceiling")
	}
	cam := func() viscasim.State {
		return snapshot(t, d, "demo-court/courtroom-1/cam-counsel").(map[string]viscasim.State)["1"]
	}
	command := func(device, action string, args map[string]any) {
		t.Helper()
		st, body := e.call("POST", "/api/v1/rooms/demo-court/courtroom-1/devices/"+device+"/commands", tok,
			map[string]any{"action": action, "args": args})
		if st != 200 || body["ok"] != true {
			t.Fatalf("%s %s %v: %d %v", device, action, args, st, body)
		}
	}
	// Quiet, and following off while the camera is set up: the counsel camera panned away,
	// that place stored as preset 2 (the defence's seat), then panned further.
	mics.SetLevels(make([]int, 8))
	if st, body := e.call("PUT", room, tok, map[string]any{"follow": false, "camera": "bench-cam"}); st != 200 || body["follow"] != false {
		t.Fatalf("follow off: %d %v", st, body)
	}
	drive := func(pan float64) {
		command("cam-counsel", "ptz", map[string]any{"pan": pan, "tilt": 0, "zoom": 0})
		time.Sleep(400 * time.Millisecond)
		command("cam-counsel", "ptz", map[string]any{"pan": 0, "tilt": 0, "zoom": 0})
		testutil.Eventually(t, 5*time.Second, "the counsel camera stops", func() bool { return !cam().Moving })
	}
	command("cam-counsel", "power", map[string]any{"on": true})
	testutil.Eventually(t, 15*time.Second, "the counsel camera on", func() bool { c := cam(); return c.Power && !c.Booting })
	drive(0.8)
	seat := cam().Pan
	command("cam-counsel", "preset", map[string]any{"store": 2})
	drive(0.8)
	if cam().Pan == seat {
		t.Fatalf("the camera did not move on from %d", seat)
	}

	// The defence speaks (level 55 is -5 dBFS; the others -60): following on.
	mics.SetLevels([]int{0, 0, 0, 55, 0, 0, 0, 0})
	if st, body := e.call("PUT", room, tok, map[string]any{"follow": true}); st != 200 || body["follow"] != true {
		t.Fatalf("follow on: %d %v", st, body)
	}
	testutil.Eventually(t, 15*time.Second, "the counsel camera at the defence's preset", func() bool {
		c := cam()
		return c.Pan == seat && !c.Moving
	})
	testutil.Eventually(t, 5*time.Second, "the program on the counsel camera", func() bool {
		_, body := e.call("GET", room, tok, nil)
		return body["camera"] == "counsel-cam"
	})

	// By hand: following off, the bench camera; the defence speaking moves nothing.
	if st, body := e.call("PUT", room, tok, map[string]any{"camera": "bench-cam"}); st != 200 || body["follow"] != false || body["camera"] != "bench-cam" {
		t.Fatalf("by hand: %d %v", st, body)
	}
	drive(-0.8)
	moved := cam().Pan
	time.Sleep(5 * time.Second) // longer than hold and release
	if p := cam().Pan; p != moved {
		t.Errorf("with following off the camera moved from %d to %d", moved, p)
	}
	if _, body := e.call("GET", room, tok, nil); body["camera"] != "bench-cam" {
		t.Errorf("with following off the program is %v", body)
	}
	for _, bad := range []map[string]any{{"camera": "no-cam"}, {}} {
		if st, _ := e.call("PUT", room, tok, bad); st != 400 {
			t.Errorf("PUT %v: %d, want 400", bad, st)
		}
	}
	if st, _ := e.call("GET", "/api/v1/rooms/demo-court/litigation-hall/program", tok, nil); st != 404 {
		t.Errorf("a room without a program: %d, want 404", st)
	}
}

// TestPrivacyRecording records the courtroom across a bench conference (the privacy-on and
// privacy-off scenes): the recording verifies, carries privacy-start and privacy-end
// markers, and its program sound, decoded by ffmpeg, is silent between them and not
// outside.
func TestPrivacyRecording(t *testing.T) {
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		t.Fatal("ffmpeg is needed (apt-get install -y ffmpeg)")
	}
	e, d := startDemo(t)
	tok := e.demoLogin("judge")
	st, rec := e.call("POST", "/api/v1/recordings", tok, map[string]any{"site": "demo-court", "room": "courtroom-1"})
	if st != 201 && st != 200 {
		t.Fatalf("start recording: %d %v", st, rec)
	}
	id := rec["id"].(string)
	time.Sleep(3 * time.Second)
	scene := func(name string) {
		t.Helper()
		if st, body := e.call("POST", "/api/v1/rooms/demo-court/courtroom-1/scenes/"+name, tok, nil); st != 200 {
			t.Fatalf("%s: %d %v", name, st, body)
		}
	}
	scene("privacy-on")
	if !d.Hub.Privacy("demo-court", "courtroom-1") {
		t.Fatal("privacy is not on")
	}
	if _, body := e.call("GET", "/api/v1/rooms/demo-court/courtroom-1/program", tok, nil); body["privacy"] != true {
		t.Errorf("the program does not show privacy: %v", body)
	}
	time.Sleep(4 * time.Second)
	scene("privacy-off")
	time.Sleep(3 * time.Second)
	if st, body := e.call("POST", "/api/v1/recordings/"+id+"/stop", tok, nil); st != 200 {
		t.Fatalf("stop: %d %v", st, body)
	}
	_, rv := e.call("GET", "/api/v1/recordings/"+id, tok, nil)
	rep, err := hub.VerifyRecording(e.dir, filepath.Join(e.dir, rv["dir"].(string)))
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() {
		t.Fatalf("the recording does not verify: %+v", rep.Problems)
	}
	var on, off time.Time
	for _, m := range rep.Markers {
		switch m.Kind {
		case "privacy-start":
			on = m.At
		case "privacy-end":
			off = m.At
		}
	}
	if on.IsZero() || off.IsZero() || !off.After(on) {
		t.Fatalf("markers %+v: want privacy-start then privacy-end", rep.Markers)
	}
	var file string
	var start time.Time
	for _, s := range rep.Segments {
		if s.Track == "program-audio0" && (file == "" || s.Start.Before(start)) {
			file, start = filepath.Join(rep.Dir, s.File), s.Start
		}
	}
	if file == "" {
		t.Fatalf("no program-audio0 segment in %+v", rep.Segments)
	}
	pcm := decode(t, file)
	at := func(tm time.Time) int { return int(tm.Sub(start).Seconds() * 48000) }
	win := func(a, b int) float64 {
		a, b = max(a, 0), min(b, len(pcm))
		if a >= b {
			return math.NaN()
		}
		var sum float64
		for _, x := range pcm[a:b] {
			sum += float64(x) * float64(x)
		}
		return math.Sqrt(sum / float64(b-a))
	}
	margin := 48000 / 2
	before := win(at(on)-2*48000, at(on)-margin)
	during := win(at(on)+margin, at(off)-margin)
	after := win(at(off)+margin, at(off)+2*48000)
	t.Logf("program sound RMS: before %.1f, in the bench conference %.1f, after %.1f", before, during, after)
	if !(during <= 1 && before >= 100 && after >= 100) {
		t.Errorf("RMS before %.1f, during %.1f, after %.1f: want silence only during privacy", before, during, after)
	}
}

// decode decodes a recorded audio segment to 48 kHz mono 16-bit samples.
func decode(t *testing.T, path string) []int16 {
	t.Helper()
	out := filepath.Join(t.TempDir(), "pcm.raw")
	if b, err := exec.Command("ffmpeg", "-v", "error", "-i", path, "-ac", "1", "-ar", "48000", "-f", "s16le", out).CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg %s: %v: %s", path, err, b)
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
