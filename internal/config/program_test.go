package config_test

import (
	"testing"

	"github.com/bailiff/bailiff/internal/config"
)

func TestProgram(t *testing.T) {
	r, err := config.ParseRoom("r.yaml", []byte(mediaRoom+`  program:
    follow: "on"
    camera: bench-cam
    audio: [room-mics]
    min_level_db: -40
    hold: 4s
    seats:
      - {mic: projector/1, camera: bench-cam, preset: 2, role: judge}
      - {mic: projector/2, camera: demo}
`))
	if err != nil {
		t.Fatal(err)
	}
	g := r.Media.Program
	if g == nil || !g.FollowOn() || g.Camera != "bench-cam" || g.MinLevelDB != -40 || g.Hold.D().Seconds() != 4 ||
		len(g.Seats) != 2 || g.Seats[0].Preset != 2 || !g.Seats[0].Judge() || g.Seats[1].Judge() {
		t.Fatalf("program %+v", g)
	}
}

func TestProgramErrors(t *testing.T) {
	f := "r.yaml"
	_, err := config.ParseRoom(f, []byte(mediaRoom+`  program:
    camera: room-mics
    audio: [nope]
    min_level_db: 3
    hold: 2m
    seats:
      - {mic: projector, camera: bench-cam, role: judge}
      - {mic: nope/1, camera: room-mics, preset: 1, role: judge}
      - {mic: projector/1, camera: demo, preset: 300}
      - {mic: projector/1, camera: bench-cam}
`))
	checkErr(t, err, []string{
		f + `:32: media.program.camera: no camera stream "room-mics" in media.streams`,
		f + `:33: media.program.audio[0]: no stream "nope" with audio in media.streams`,
		f + `:34: media.program.min_level_db: 3 dBFS: want -100 to -1`,
		f + `:35: media.program.hold: must be between 0s and 1m, got 2m`,
		f + `:36: media.program.seats: 2 seats are the judge's; want at most one`,
		f + `:37: media.program.seats[0].mic: "projector": want device/channel, as the room's meter names it (mics-ceiling/1)`,
		f + `:38: media.program.seats[1].mic: no device "nope" in this room`,
		f + `:38: media.program.seats[1].camera: no camera stream "room-mics" in media.streams`,
		f + `:39: media.program.seats[2].preset: 300: want 0-255`,
		f + `:40: media.program.seats[3].mic: microphone "projector/1" has a seat already (media.program.seats[2])`,
	})
}
