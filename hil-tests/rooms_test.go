package hiltests

import (
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/bailiff/bailiff/internal/config"
	"github.com/bailiff/bailiff/internal/testutil"
)

// roomsDir holds the room configs the scenarios run: the examples, or BAILIFF_HIL_ROOMS
// (a directory of room configs naming real gear, with BAILIFF_HIL_REAL=1).
func roomsDir() string {
	if d := os.Getenv("BAILIFF_HIL_ROOMS"); d != "" {
		return d
	}
	return "../configs/rooms"
}

// check tells whether a device's simulator shows what a command should have done there.
type check func(snapshot map[string]any) bool

// powerOn is the check of a power-on for each driver's simulator.
var powerOn = map[string]check{
	"pjlink": func(s map[string]any) bool { p, _ := s["Power"].(float64); return p == 1 || p == 3 }, // on or warming up
}

// TestRoomScenarios runs every example room, each device behind its own simulator process
// (serial devices through socat pty pairs), with the real hub and agent binaries, and drives
// each room through the API, checking what the simulators received.
func TestRoomScenarios(t *testing.T) {
	dir := t.TempDir()
	files, _ := filepath.Glob(filepath.Join(roomsDir(), "*.yaml"))
	sort.Strings(files)
	if len(files) == 0 {
		t.Fatalf("no room configs in %s", roomsDir())
	}
	var rooms []*config.Room
	var rendered []string
	sims := map[string]map[string]*simProc{}
	for _, f := range files {
		r, out, s := simulateRoom(t, f, dir)
		rooms = append(rooms, r)
		rendered = append(rendered, out)
		sims[r.Room] = s
	}
	s := startSite(t, dir, rooms, rendered)
	for _, r := range rooms {
		s.waitReady(r)
	}
	kinds := map[string]bool{}
	for _, r := range rooms {
		kinds[r.Kind] = true
		t.Run(r.Kind+"/"+r.Room, func(t *testing.T) {
			s.t = t
			for _, d := range r.Devices {
				sim := sims[r.Room][d.ID]
				// Every device answers a refresh.
				s.command(r, d.ID, "refresh", nil)
				// Power on reaches the device.
				if c, ok := powerOn[d.Driver]; ok {
					s.command(r, d.ID, "power", map[string]any{"on": true})
					if sim != nil {
						testutil.Eventually(t, 5*time.Second, d.ID+" powered on at the simulator", func() bool { return c(sim.state(t)) })
					}
				}
			}
		})
	}
	if os.Getenv("BAILIFF_HIL_REAL") == "" && len(kinds) != len(config.Kinds) {
		t.Errorf("the example rooms cover kinds %v, want all of %v", kinds, config.Kinds)
	}
}

// A simulator that stops answering: the command ends in timeout, the other devices of the room
// keep working, and the device is back once the simulator answers again.
func TestSilentDevice(t *testing.T) {
	if os.Getenv("BAILIFF_HIL_REAL") != "" {
		t.Skip("needs simulators: it makes a device fall silent")
	}
	dir := t.TempDir()
	r, out, sims := simulateRoom(t, filepath.Join("../configs/rooms", "courtroom-1.yaml"), dir)
	s := startSite(t, dir, []*config.Room{r}, []string{out})
	s.waitReady(r)
	var silent, other string
	for _, d := range r.Devices {
		if d.Driver == "pjlink" && silent == "" {
			silent = d.ID
		} else if other == "" {
			other = d.ID
		}
	}
	sims[silent].setMode(t, "silent")
	s.commandErr(r, silent, "refresh", nil, "timeout")
	s.command(r, other, "refresh", nil)
	sims[silent].setMode(t, "normal")
	testutil.Eventually(t, 10*time.Second, silent+" answers again", func() bool {
		st, _ := s.api.call("POST", "/api/v1/rooms/"+r.Site+"/"+r.Room+"/devices/"+silent+"/commands", map[string]any{"action": "refresh"})
		return st == 200
	})
}
