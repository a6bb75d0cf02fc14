package hiltests

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
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

// step is one command of a scenario, and what the device's simulator must show after it.
type step struct {
	action string
	args   map[string]any
	check  func(snapshot map[string]any) bool // nil: the API's ack is all there is to see
}

func num(v any) float64 { f, _ := v.(float64); return f }

// scenarios are, per driver, the commands a room's technician or judge would send, with the
// effect each must have at the device.
var scenarios = map[string][]step{
	"pjlink": {
		{"power", map[string]any{"on": true}, func(s map[string]any) bool { p := num(s["Power"]); return p == 1 || p == 3 }},
	},
	"samsungmdc": {
		{"power", map[string]any{"on": true}, func(s map[string]any) bool { return s["On"] == true }},
		{"mute", map[string]any{"on": true}, func(s map[string]any) bool { return s["Mute"] == true }},
	},
	"visca": {
		{"power", map[string]any{"on": true}, func(s map[string]any) bool {
			for _, c := range s {
				if m, _ := c.(map[string]any); m != nil && (m["Power"] == true || m["Booting"] == true) {
					return true
				}
			}
			return false
		}},
	},
	"extron": {
		{"route", map[string]any{"input": "3", "output": "2", "kind": "video"}, func(s map[string]any) bool {
			v, _ := s["Video"].([]any)
			return len(v) >= 2 && num(v[1]) == 3
		}},
	},
	"shure": {
		{"mute", map[string]any{"on": true, "channel": "1"}, func(s map[string]any) bool {
			m, _ := s["Mute"].([]any)
			return len(m) > 0 && m[0] == true
		}},
	},
	"escpos": {
		{"print", map[string]any{"number": "A017", "service": "Case filing", "qr": "https://court.example/t/A017"}, func(s map[string]any) bool {
			b, _ := json.Marshal(s["tickets"])
			return strings.Contains(string(b), "A017") && strings.Contains(string(b), "Case filing")
		}},
	},
	"onvif": {
		{"preset", map[string]any{"recall": 2}, func(s map[string]any) bool { return num(s["Pan"]) > 0.3 }},
	},
	"audio": {
		{"mute", map[string]any{"on": true}, nil},
	},
	"fwbridge": {
		{"tally", map[string]any{"color": "red"}, func(s map[string]any) bool {
			st, _ := s["state"].(map[string]any)
			return num(st["tally"]) == 1
		}},
	},
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
				steps, ok := scenarios[d.Driver]
				if !ok {
					t.Fatalf("no scenario for driver %s", d.Driver)
				}
				for _, st := range steps {
					if st.action == "power" && d.Driver == "visca" {
						// A camera that has just booted answers "not executable" for a moment.
						testutil.Eventually(t, 5*time.Second, d.ID+" powers on", func() bool {
							code, _ := s.api.call("POST", "/api/v1/rooms/"+r.Site+"/"+r.Room+"/devices/"+d.ID+"/commands", map[string]any{"action": st.action, "args": st.args})
							return code == 200
						})
					} else {
						s.command(r, d.ID, st.action, st.args)
					}
					if sim != nil && st.check != nil {
						testutil.Eventually(t, 5*time.Second, d.ID+" "+st.action+" seen at the simulator", func() bool { return st.check(sim.state(t)) })
					}
				}
			}
		})
	}
	if os.Getenv("BAILIFF_HIL_REAL") == "" && len(kinds) != len(config.Kinds) {
		t.Errorf("the example rooms cover kinds %v, want all of %v", kinds, config.Kinds)
	}
}

// A simulator that stops answering: commands to it end in exactly one outcome, timeout, the
// hub shows it unreachable, the other devices of the room keep working; once the simulator
// answers again the hub shows it reachable within 5 s, none of the commands sent while it was
// silent runs late, and it takes commands again.
func TestSilentDevice(t *testing.T) {
	const silentFor = 8 * time.Second
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
	power := func() float64 { return num(sims[silent].state(t)["Power"]) }
	if power() != 0 {
		t.Fatalf("%s is on to begin with", silent)
	}
	sims[silent].setMode(t, "silent")
	s.commandErr(r, silent, "refresh", nil, "timeout")
	s.commandErr(r, silent, "power", map[string]any{"on": true}, "timeout")
	s.command(r, other, "refresh", nil)
	reachable := func() any {
		_, body := s.api.call("GET", "/api/v1/rooms/"+r.Site+"/"+r.Room, nil)
		devs, _ := body["devices"].([]any)
		for _, d := range devs {
			if m := d.(map[string]any); m["id"] == silent {
				return m["reachable"]
			}
		}
		return nil
	}
	testutil.Eventually(t, 10*time.Second, silent+" unreachable at the hub", func() bool { return reachable() == false })
	// Silent long enough that the agent's retries of the unreachable device have backed off
	// to their longest: the device must still be back at the hub within 5 s of answering.
	time.Sleep(silentFor)

	sims[silent].setMode(t, "normal")
	back := time.Now()
	testutil.Eventually(t, 5*time.Second, silent+" reachable at the hub again", func() bool { return reachable() == true })
	t.Logf("recovery: silent device answers again: reachable at the hub %s later", time.Since(back).Round(time.Millisecond))
	// The power command sent while it was silent never runs.
	for deadline := time.Now().Add(3 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if p := power(); p != 0 {
			t.Fatalf("%s powered (%v) after it answered again: a command sent while it was silent ran late", silent, p)
		}
	}
	s.command(r, silent, "refresh", nil)
	s.command(r, silent, "power", map[string]any{"on": true})
}
