package integration

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/bailiff/bailiff/drivers/pjlink/pjlinksim"
	"github.com/bailiff/bailiff/drivers/simreg"
	"github.com/bailiff/bailiff/internal/demo"
	"github.com/bailiff/bailiff/internal/hub"
	"github.com/bailiff/bailiff/internal/testutil"
)

// startDemo runs `hub --demo` in the test: the hub with its embedded broker, every example
// room with its real agent and a simulator behind every device. Users technician, judge and
// monitor (password demo), and a clerk added here.
func startDemo(t *testing.T) (*env, *demo.Demo) {
	t.Helper()
	for try := 0; ; try++ {
		e := &env{t: t, httpAddr: testutil.FreePort(t), mqttAddr: testutil.FreePort(t), dir: t.TempDir()}
		d, err := runDemo(t, e)
		// A free port picked here can be taken by another test's process before the demo
		// binds it: then it starts again on new ones.
		if errors.Is(err, syscall.EADDRINUSE) && try < 3 {
			continue
		}
		if err != nil {
			t.Fatalf("demo: %v", err)
		}
		if err := hub.AddUser(context.Background(), d.Hub.Store(), "clerk", "clerk", "demo"); err != nil {
			t.Fatal(err)
		}
		return e, d
	}
}

// runDemo starts the demo on e's addresses and stops it when the test ends; it returns the
// error of a demo that did not start.
func runDemo(t *testing.T, e *env) (*demo.Demo, error) {
	t.Helper()
	ready := make(chan *demo.Demo, 1)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- demo.Run(ctx, demo.Options{HTTPListen: e.httpAddr, MQTTListen: e.mqttAddr, DataDir: e.dir,
			Logger: testLogger(t), Ready: func(d *demo.Demo) { ready <- d }})
	}()
	stop := func() {
		cancel()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			t.Error("the demo did not stop within 15s")
		}
	}
	select {
	case d := <-ready:
		t.Cleanup(stop)
		return d, nil
	case err := <-done:
		cancel()
		return nil, err
	case <-time.After(30 * time.Second):
		t.Cleanup(stop)
		t.Fatal("the demo did not start within 30s")
		return nil, nil
	}
}

func (e *env) demoLogin(user string) string {
	e.t.Helper()
	st, body := e.call("POST", "/api/v1/login", "", map[string]string{"user": user, "password": demo.Password})
	if st != 200 {
		e.t.Fatalf("login %s: %d %v", user, st, body)
	}
	return body["token"].(string)
}

// waitReady waits until the room's agent is online and every device named is reachable.
func (e *env) waitReady(token, site, room string, devices ...string) {
	e.t.Helper()
	testutil.Eventually(e.t, 20*time.Second, site+"/"+room+" ready", func() bool {
		st, body := e.call("GET", "/api/v1/rooms/"+site+"/"+room, token, nil)
		if st != 200 || body["online"] != true {
			return false
		}
		reach := map[string]bool{}
		devs, _ := body["devices"].([]any)
		for _, d := range devs {
			m := d.(map[string]any)
			reach[m["id"].(string)] = m["reachable"] == true
		}
		for _, d := range devices {
			if !reach[d] {
				return false
			}
		}
		return true
	})
}

func snapshot(t *testing.T, d *demo.Demo, key string) any {
	t.Helper()
	sim, ok := d.Sims[key].(simreg.Inspector)
	if !ok {
		t.Fatalf("no inspectable simulator %s", key)
	}
	return sim.Snapshot()
}

func lampOn(t *testing.T, d *demo.Demo, key string) bool {
	m, _ := snapshot(t, d, key).(map[string]any)
	on, _ := m["active"].(bool)
	return on
}

func projectorPower(t *testing.T, d *demo.Demo, key string) pjlinksim.Power {
	st, ok := snapshot(t, d, key).(pjlinksim.State)
	if !ok {
		t.Fatalf("%s: snapshot %T", key, snapshot(t, d, key))
	}
	return st.Power
}

// stepOK checks that the run's step for a device ("device" or "device:action") or hub
// action ran and succeeded.
func stepOK(t *testing.T, run map[string]any, device string) {
	t.Helper()
	device, action, _ := strings.Cut(device, ":")
	steps, _ := run["steps"].([]any)
	for _, s := range steps {
		m := s.(map[string]any)
		if (m["device"] == device && (action == "" || m["action"] == action)) || m["hub"] == device {
			if m["ok"] != true {
				t.Errorf("step %v (%s) failed: %v", m["at"], device, m["error"])
			}
			return
		}
	}
	t.Errorf("no step for %s in %v", device, steps)
}

// TestHearingInCourtroom: a judge schedules and starts a hearing through the API; the
// start-hearing scene runs as real MQTT commands to the courtroom's agent, whose simulators
// show it applied (projector powered, recording lamp lit); the room is recorded; a clerk
// writes notes; ending the hearing turns it all off and seals the recording. Everything is
// in the audit log, whose chain verifies.
func TestHearingInCourtroom(t *testing.T) {
	e, d := startDemo(t)
	const site, room = "demo-court", "courtroom-1"
	judge, clerk, tech, monitor := e.demoLogin("judge"), e.demoLogin("clerk"), e.demoLogin("technician"), e.demoLogin("monitor")
	e.waitReady(tech, site, room, "projector", "rec-lamp", "dsp")
	events := e.openEvents(monitor)
	if lampOn(t, d, site+"/"+room+"/rec-lamp") || projectorPower(t, d, site+"/"+room+"/projector") != pjlinksim.PowerOff {
		t.Fatal("the room is not idle to begin with")
	}

	st, h := e.call("POST", "/api/v1/hearings", judge, map[string]any{"case": "CR-2026-0117", "title": "State v. Doe",
		"site": site, "room": room, "parties": []map[string]string{{"name": "State", "role": "prosecution"}, {"name": "J. Doe", "role": "defence"}}})
	if st != 201 || h["state"] != "scheduled" || h["judge"] != "judge" || h["access"] != "public" {
		t.Fatalf("create: %d %v", st, h)
	}
	id := h["id"].(string)

	// The judge's Start button: the scene route, which starts the room's scheduled hearing.
	st, run := e.call("POST", "/api/v1/rooms/"+site+"/"+room+"/scenes/start-hearing", judge, nil)
	if st != 200 {
		t.Fatalf("start-hearing: %d %v", st, run)
	}
	hv, _ := run["hearing"].(map[string]any)
	if hv == nil || hv["id"] != id || hv["state"] != "in-session" || len(hv["recordings"].([]any)) != 1 {
		t.Fatalf("start-hearing did not start the hearing: %v", run)
	}
	if os.Getenv("BAILIFF_TEST_SHOW") != "" {
		b, _ := json.MarshalIndent(run, "", "  ")
		t.Logf("%s", b)
	}
	for _, dev := range []string{"projector", "dsp", "cam-bench:preset", "matrix:route", "rec-lamp", "start-recording"} {
		stepOK(t, run, dev)
	}
	if !lampOn(t, d, site+"/"+room+"/rec-lamp") {
		t.Error("the recording lamp's relay is off after start-hearing")
	}
	if p := projectorPower(t, d, site+"/"+room+"/projector"); p != pjlinksim.PowerOn && p != pjlinksim.PowerWarming {
		t.Errorf("projector power %v after start-hearing", p)
	}
	recID := hv["recordings"].([]any)[0].(string)
	st, rec := e.call("GET", "/api/v1/recordings/"+recID, monitor, nil)
	if st != 200 || rec["state"] != "recording" {
		t.Fatalf("recording %s: %d %v", recID, st, rec)
	}
	events.wait(t, 5*time.Second, "scene run", func(typ string, data map[string]any) bool {
		return typ == "scene" && data["scene"] == "start-hearing" && data["room"] == room
	})
	events.wait(t, 5*time.Second, "hearing in session", func(typ string, data map[string]any) bool {
		return typ == "hearing" && data["id"] == id && data["state"] == "in-session"
	})

	// Starting it again is a conflict; so is starting another hearing in the same room.
	if st, body := e.call("POST", "/api/v1/hearings/"+id+"/start", judge, nil); st != 409 {
		t.Errorf("second start: %d %v", st, body)
	}

	// The clerk writes notes; they carry the recording and the offset into it.
	for _, text := range []string{"Hearing opened", "Witness sworn in"} {
		st, n := e.call("POST", "/api/v1/hearings/"+id+"/notes", clerk, map[string]string{"text": text})
		if st != 201 || n["recording"] != recID || n["user"] != "clerk" {
			t.Fatalf("note: %d %v", st, n)
		}
	}
	st, notes := e.call("GET", "/api/v1/hearings/"+id+"/notes", monitor, nil)
	if st != 200 || notes["verified"] != true || len(notes["notes"].([]any)) != 2 {
		t.Fatalf("notes: %d %v", st, notes)
	}

	// Pause stops the recording, resume starts a second one.
	if st, tr := e.call("POST", "/api/v1/hearings/"+id+"/pause", judge, nil); st != 200 || tr["hearing"].(map[string]any)["state"] != "paused" {
		t.Fatalf("pause: %d %v", st, tr)
	}
	if _, rec = e.call("GET", "/api/v1/recordings/"+recID, monitor, nil); rec["state"] != "stopped" {
		t.Errorf("recording after pause: %v", rec["state"])
	}
	st, tr := e.call("POST", "/api/v1/hearings/"+id+"/resume", judge, nil)
	if st != 200 || len(tr["hearing"].(map[string]any)["recordings"].([]any)) != 2 {
		t.Fatalf("resume: %d %v", st, tr)
	}

	// End: the end-hearing scene switches the room off and the recording is sealed.
	st, tr = e.call("POST", "/api/v1/hearings/"+id+"/end", judge, nil)
	if st != 200 {
		t.Fatalf("end: %d %v", st, tr)
	}
	ended := tr["hearing"].(map[string]any)
	if ended["state"] != "ended" || ended["ended"] == nil {
		t.Fatalf("end: %v", tr)
	}
	scene, _ := tr["scene"].(map[string]any)
	if scene == nil || scene["scene"] != "end-hearing" {
		t.Fatalf("end ran no end-hearing scene: %v", tr)
	}
	stepOK(t, scene, "rec-lamp")
	stepOK(t, scene, "stop-recording")
	if lampOn(t, d, site+"/"+room+"/rec-lamp") {
		t.Error("the recording lamp is still lit after end-hearing")
	}
	if p := projectorPower(t, d, site+"/"+room+"/projector"); p != pjlinksim.PowerOff && p != pjlinksim.PowerCooling {
		t.Errorf("projector power %v after end-hearing", p)
	}
	for _, r := range ended["recordings"].([]any) {
		st, rec := e.call("GET", "/api/v1/recordings/"+r.(string), monitor, nil)
		if st != 200 || rec["state"] != "stopped" || rec["verified"] != true {
			t.Errorf("recording %s after the end: %d %v", r, st, rec)
		}
	}
	if st, body := e.call("POST", "/api/v1/hearings/"+id+"/notes", clerk, map[string]string{"text": "late"}); st != 409 {
		t.Errorf("a note after the end: %d %v", st, body)
	}

	// The audit log has it all, and its chain holds.
	st, page := e.call("GET", "/api/v1/audit?limit=1000", tech, nil)
	if st != 200 {
		t.Fatalf("audit: %d %v", st, page)
	}
	seen := map[string]int{}
	for _, en := range page["entries"].([]any) {
		m := en.(map[string]any)
		seen[fmt.Sprint(m["action"])]++
	}
	for _, a := range []string{"login", "hearing-create", "hearing-start", "scene", "recording-start", "note", "hearing-pause", "hearing-resume", "hearing-end"} {
		if seen[a] == 0 {
			t.Errorf("no %s in the audit log: %v", a, seen)
		}
	}
	if st, v := e.call("GET", "/api/v1/audit/verify", tech, nil); st != 200 || v["ok"] != true {
		t.Errorf("audit verify: %d %v", st, v)
	}
	if st, _ := e.call("GET", "/api/v1/audit", judge, nil); st != 403 {
		t.Errorf("a judge reads the audit log: %d", st)
	}
}

// TestSealedHearing: a sealed hearing, its recording and its notes are for technicians and
// the hearing's own judge only — on the hearing routes and on the recordings routes.
func TestSealedHearing(t *testing.T) {
	e, d := startDemo(t)
	const site, room = "demo-court", "interrogation-1"
	ctx := context.Background()
	if err := hub.AddUser(ctx, d.Hub.Store(), "judge2", "judge", "demo"); err != nil {
		t.Fatal(err)
	}
	judge, judge2, clerk, tech, monitor := e.demoLogin("judge"), e.demoLogin("judge2"), e.demoLogin("clerk"), e.demoLogin("technician"), e.demoLogin("monitor")
	e.waitReady(tech, site, room, "display", "table-mic")
	st, h := e.call("POST", "/api/v1/hearings", clerk, map[string]any{"case": "CR-2026-0999", "site": site, "room": room, "judge": "judge", "access": "sealed"})
	if st != 201 {
		t.Fatalf("create: %d %v", st, h)
	}
	id := h["id"].(string)
	// The clerk made it but may not see it now; nor may another judge or a monitor.
	for name, tok := range map[string]string{"clerk": clerk, "judge2": judge2, "monitor": monitor} {
		if st, body := e.call("GET", "/api/v1/hearings/"+id, tok, nil); st != 403 {
			t.Errorf("%s sees the sealed hearing: %d %v", name, st, body)
		}
		if _, list := e.call("GET", "/api/v1/hearings?site="+site, tok, nil); len(list["list"].([]any)) != 0 {
			t.Errorf("%s lists the sealed hearing: %v", name, list)
		}
	}
	st, tr := e.call("POST", "/api/v1/hearings/"+id+"/start", judge, nil)
	if st != 200 {
		t.Fatalf("start: %d %v", st, tr)
	}
	stepOK(t, tr["scene"].(map[string]any), "display")
	recID := tr["hearing"].(map[string]any)["recordings"].([]any)[0].(string)
	if st, n := e.call("POST", "/api/v1/hearings/"+id+"/notes", judge, map[string]string{"text": "Detainee identified"}); st != 201 {
		t.Fatalf("note: %d %v", st, n)
	}
	for name, tok := range map[string]string{"clerk": clerk, "judge2": judge2, "monitor": monitor} {
		if st, _ := e.call("GET", "/api/v1/recordings/"+recID, tok, nil); st != 403 {
			t.Errorf("%s reaches the sealed recording: %d", name, st)
		}
		if st, _ := e.call("GET", "/api/v1/hearings/"+id+"/notes", tok, nil); st != 403 {
			t.Errorf("%s reads the sealed notes: %d", name, st)
		}
		_, list := e.call("GET", "/api/v1/recordings", tok, nil)
		for _, r := range list["list"].([]any) {
			if r.(map[string]any)["id"] == recID {
				t.Errorf("%s lists the sealed recording", name)
			}
		}
	}
	if st, _ := e.call("POST", "/api/v1/recordings/"+recID+"/stop", clerk, nil); st != 403 {
		t.Errorf("a clerk stops the sealed recording: %d", st)
	}
	for name, tok := range map[string]string{"judge": judge, "technician": tech} {
		if st, _ := e.call("GET", "/api/v1/recordings/"+recID, tok, nil); st != 200 {
			t.Errorf("%s cannot reach the recording: %d", name, st)
		}
		if st, n := e.call("GET", "/api/v1/hearings/"+id+"/notes", tok, nil); st != 200 || len(n["notes"].([]any)) != 1 {
			t.Errorf("%s cannot read the notes: %d %v", name, st, n)
		}
	}
	if st, tr := e.call("POST", "/api/v1/hearings/"+id+"/end", judge, nil); st != 200 || tr["hearing"].(map[string]any)["state"] != "ended" {
		t.Fatalf("end: %d %v", st, tr)
	}
}
