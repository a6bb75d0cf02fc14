package hub

import (
	"context"
	"testing"
	"time"

	"github.com/bailiff/bailiff/internal/config"
	"github.com/bailiff/bailiff/internal/hub/api"
	"github.com/bailiff/bailiff/media/sfu"
)

const programRoom = `site: court
room: r1
kind: tech-courtroom
name: R1
devices:
  - {id: mics, driver: shure, name: Mics, address: 127.0.0.1}
media:
  streams:
    - {name: cam-a, clip: {audio: none}}
    - {name: cam-b, clip: {video: vp8, audio: none}}
    - {name: room-mics, clip: {video: none}}
  program:
    follow: "on"
    hold: 1s
    seats:
      - {mic: mics/1, camera: cam-a, role: judge}
      - {mic: mics/2, camera: cam-b}
`

// A room's program, its voice following and its privacy: a meter reading cuts the program,
// the panel's setting and the privacy flag survive a restart, and privacy silences the
// room's sound streams and the program.
func TestProgramAndPrivacyAcrossRestarts(t *testing.T) {
	room, err := config.ParseRoom("r1.yaml", []byte(programRoom))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	data := t.TempDir()
	h := testHub(t, data, room)
	key := sfu.Key{Site: "court", Room: "r1", Name: "program"}
	if h.sfu.Stream(key) == nil {
		t.Fatal("no program stream")
	}
	rp := h.programs.room("court", "r1")
	now := time.Now()
	for i := range 10 { // the second seat speaks for a second
		rp.levels(map[string]float64{"mics/1": -70, "mics/2": -10}, now.Add(time.Duration(i)*100*time.Millisecond))
	}
	waitFor(t, func() bool { return rp.prog.Stats().Want == "cam-b" }, "the program asks for cam-b")
	if v, _ := h.programs.Program(ctx, "court", "r1"); v.(ProgramView).Camera != "cam-b" {
		t.Errorf("program %+v", v)
	}

	if _, err := h.actions.Do(ctx, "court", "r1", config.HubPrivacyOn, "judge"); err != nil {
		t.Fatal(err)
	}
	f := false
	if _, err := h.programs.SetProgram(ctx, "court", "r1", api.ProgramRequest{Follow: &f, Camera: "cam-a"}, "judge"); err != nil {
		t.Fatal(err)
	}
	if _, err := h.programs.SetProgram(ctx, "court", "r1", api.ProgramRequest{Camera: "nope"}, "judge"); err == nil {
		t.Error("an unknown camera was taken")
	}
	h.Close()

	h = testHub(t, data, room)
	defer h.Close()
	if !h.Privacy("court", "r1") {
		t.Fatal("privacy did not survive the restart")
	}
	for _, name := range []string{"program", "room-mics"} {
		if !h.sfu.Muted(sfu.Key{Site: "court", Room: "r1", Name: name}) {
			t.Errorf("%s is not muted after the restart", name)
		}
	}
	if h.sfu.Muted(sfu.Key{Site: "court", Room: "r1", Name: "cam-a"}) {
		t.Error("a stream without sound is muted")
	}
	v, _ := h.programs.Program(ctx, "court", "r1")
	if pv := v.(ProgramView); pv.Follow || pv.Camera != "cam-a" || !pv.Privacy {
		t.Errorf("after the restart: %+v", pv)
	}
	if _, err := h.actions.Do(ctx, "court", "r1", config.HubPrivacyOff, "judge"); err != nil {
		t.Fatal(err)
	}
	if h.Privacy("court", "r1") || h.sfu.Muted(sfu.Key{Site: "court", Room: "r1", Name: "program"}) {
		t.Error("privacy off left the room muted")
	}
}

func waitFor(t *testing.T, cond func() bool, what string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not within 5s: %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// The feed drops a subscriber that falls behind: voice following subscribes again and goes
// on following the meters it publishes.
func TestFollowingOutlivesAFeedDrop(t *testing.T) {
	room, err := config.ParseRoom("r1.yaml", []byte(programRoom))
	if err != nil {
		t.Fatal(err)
	}
	h := testHub(t, t.TempDir(), room)
	defer h.Close()
	for i := 0; h.feed.Dropped() == 0 && i < 1_000_000; i++ {
		h.feed.Publish("noise", i)
	}
	if h.feed.Dropped() == 0 {
		t.Fatal("the feed dropped nobody")
	}
	rp := h.programs.room("court", "r1")
	deadline := time.Now().Add(5 * time.Second)
	for rp.prog.Stats().Want != "cam-b" {
		if time.Now().After(deadline) {
			t.Fatalf("following stopped after a feed drop: %+v", rp.prog.Stats())
		}
		h.feed.Publish("meter", map[string]any{"site": "court", "room": "r1", "levels": map[string]float64{"mics/2": -10}})
		time.Sleep(50 * time.Millisecond)
	}
}
