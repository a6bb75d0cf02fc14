package integration

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bailiff/bailiff/firmware-bridge/devsim"
	"github.com/bailiff/bailiff/firmware-bridge/frame"
	"github.com/bailiff/bailiff/internal/config"
	"github.com/bailiff/bailiff/internal/hub"
	"github.com/bailiff/bailiff/internal/testutil"
)

// newFirmwareEnv is a hub, and one room "fw" whose agent has two fwbridge tally lights (devsim
// on pty pairs) that trust the hub's firmware key.
func newFirmwareEnv(t *testing.T) (*env, []*devsim.Sim) {
	e := &env{t: t, dir: t.TempDir(), agents: map[string]*runningAgent{}, creds: map[string]hub.Credentials{}, timeout: 3 * time.Second}
	e.httpAddr = testutil.FreePort(t)
	e.mqttAddr = testutil.FreePort(t)
	key, err := hub.FirmwareKey(filepath.Join(e.dir, "data")) // the key the hub will find at start
	if err != nil {
		t.Fatal(err)
	}
	r := &config.Room{Site: site, Room: "fw", Kind: config.KindTechCourtroom, Name: "Firmware room",
		Poll: config.Duration(time.Second), Timeout: config.Duration(2 * time.Second)}
	var sims []*devsim.Sim
	for i := 1; i <= 2; i++ {
		s := devsim.New(devsim.Config{Serial: fmt.Sprintf("TL-%d", i), Version: frame.Version{Major: 1},
			Caps: frame.CapTally | frame.CapButton | frame.CapUpdate, TrustedKeys: []ed25519.PublicKey{key.Public().(ed25519.PublicKey)},
			ConfirmTimeout: 5 * time.Second})
		if err := s.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		sims = append(sims, s)
		r.Devices = append(r.Devices, config.Device{ID: fmt.Sprintf("tally-%d", i), Driver: "fwbridge", Address: s.Address(),
			Options: map[string]string{"ping_ms": "200"}})
	}
	if err := r.Validate(); err != nil {
		t.Fatal(err)
	}
	e.rooms = []*config.Room{r}
	e.startHub()
	ctx := context.Background()
	if err := hub.AddUser(ctx, e.hub.Store(), "tech", "technician", "pw-tech"); err != nil {
		t.Fatal(err)
	}
	c, err := hub.AddAgent(ctx, e.hub.Store(), e.hub.BrokerURL(), site, r.Room)
	if err != nil {
		t.Fatal(err)
	}
	e.creds[r.Room] = c
	e.startAgent(r.Room)
	t.Cleanup(e.close)
	return e, sims
}

func (e *env) upload(token, deviceType, version string, image []byte) (int, map[string]any) {
	e.t.Helper()
	req, _ := http.NewRequest("POST", e.url("/api/v1/firmware?device_type="+deviceType+"&version="+version), bytes.NewReader(image))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/octet-stream")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	out := map[string]any{}
	json.Unmarshal(raw, &out)
	return resp.StatusCode, out
}

// waitRollout polls a rollout until it leaves "running".
func (e *env) waitRollout(token, id string) map[string]any {
	e.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		st, body := e.call("GET", "/api/v1/firmware/rollouts/"+id, token, nil)
		if st != 200 {
			e.t.Fatalf("rollout %s: %d %v", id, st, body)
		}
		if body["state"] != "running" {
			return body
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("rollout still running after 30s: %v", body)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func steps(ro map[string]any) map[string]string {
	out := map[string]string{}
	devs, _ := ro["devices"].([]any)
	for _, d := range devs {
		m := d.(map[string]any)
		out[m["device"].(string)] = fmt.Sprint(m["step"])
	}
	return out
}

// waitTallies waits until both tally lights are reachable and have said what they are.
func (e *env) waitTallies(token string) {
	e.t.Helper()
	for _, d := range []string{"tally-1", "tally-2"} {
		testutil.Eventually(e.t, 10*time.Second, d+" reachable", func() bool {
			dv := e.device(token, "fw", d)
			st, _ := dv["state"].(map[string]any)
			return dv != nil && dv["reachable"] == true && st["device_type"] == "tally-light"
		})
	}
}

// A hub that stops during a rollout takes it up again when it starts: the devices already
// asked are not asked to start again, the others are, and the rollout ends done with every
// device on the new firmware.
func TestFirmwareRolloutResumesAfterHubRestart(t *testing.T) {
	e, sims := newFirmwareEnv(t)
	tech := e.login("tech")
	e.waitTallies(tech)
	st, img := e.upload(tech, "tally-light", "1.1.0", bytes.Repeat([]byte("resumed firmware "), 700))
	if st != 201 {
		t.Fatalf("upload: %d %v", st, img)
	}
	st, ro := e.call("POST", "/api/v1/firmware/"+img["id"].(string)+"/rollouts", tech, map[string]any{"site": site, "room": "fw", "all": true})
	if st != 201 {
		t.Fatalf("rollout: %d %v", st, ro)
	}
	id := ro["id"].(string)
	if _, now := e.call("GET", "/api/v1/firmware/rollouts/"+id, tech, nil); now["state"] != "running" {
		t.Fatalf("the rollout ended before the hub could stop during it: %v", now)
	}
	e.hub.Close()
	e.startHub()
	done := e.waitRollout(tech, id)
	if s := steps(done); done["state"] != "done" || s["tally-1"] != "confirmed" || s["tally-2"] != "confirmed" {
		t.Fatalf("the resumed rollout: %v", done)
	}
	for i, s := range sims {
		if s.Firmware() != (frame.Version{Major: 1, Minor: 1}) {
			t.Errorf("device %d runs %s", i+1, s.Firmware())
		}
	}
}

// A technician uploads an image and rolls it out to the room: the first device is updated
// alone, then the other; each step reaches the API and the event stream; both run the new
// firmware. A rollout whose first device fails stops there, and both keep their firmware.
func TestFirmwareRolloutEndToEnd(t *testing.T) {
	e, sims := newFirmwareEnv(t)
	tech := e.login("tech")
	events := e.openEvents(tech)
	e.waitTallies(tech)

	image := bytes.Repeat([]byte("new firmware "), 800)
	st, img := e.upload(tech, "tally-light", "1.1.0", image)
	if st != 201 {
		t.Fatalf("upload: %d %v", st, img)
	}
	id := img["id"].(string)
	if st, body := e.call("POST", "/api/v1/firmware/"+id+"/rollouts", tech, map[string]any{"site": site, "room": "fw", "all": true}); st != 201 {
		t.Fatalf("rollout: %d %v", st, body)
	} else {
		ro := e.waitRollout(tech, body["id"].(string))
		if ro["state"] != "done" || steps(ro)["tally-1"] != "confirmed" || steps(ro)["tally-2"] != "confirmed" {
			t.Fatalf("rollout %v", ro)
		}
	}
	for i, s := range sims {
		if s.Firmware() != (frame.Version{Major: 1, Minor: 1}) {
			t.Errorf("device %d runs %s", i+1, s.Firmware())
		}
	}
	events.wait(t, 5*time.Second, "a device's confirmed firmware event", func(typ string, d map[string]any) bool {
		ev, _ := d["event"].(map[string]any)
		return typ == "device-event" && ev["type"] == "firmware" && ev["step"] == "confirmed"
	})
	events.wait(t, 5*time.Second, "a downloading firmware event with its percentage", func(typ string, d map[string]any) bool {
		ev, _ := d["event"].(map[string]any)
		return typ == "device-event" && ev["type"] == "firmware" && ev["step"] == "downloading" && ev["percent"] != nil
	})
	events.wait(t, 5*time.Second, "the rollout's end", func(typ string, d map[string]any) bool {
		return typ == "firmware-rollout" && d["state"] == "done"
	})
	waitState := func(dev, version string) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			dv := e.device(tech, "fw", dev)
			if st, _ := dv["state"].(map[string]any); st["firmware"] == version {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s state %v, want firmware %s", dev, dv, version)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	waitState("tally-1", "1.1.0")
	waitState("tally-2", "1.1.0")

	// A newer image whose first device corrupts a chunk: the rollout stops at it.
	st, img2 := e.upload(tech, "tally-light", "1.2.0", bytes.Repeat([]byte("newer "), 900))
	if st != 201 {
		t.Fatalf("upload 1.2.0: %d %v", st, img2)
	}
	sims[0].SetFault(devsim.FaultCorruptChunk)
	st, body := e.call("POST", "/api/v1/firmware/"+img2["id"].(string)+"/rollouts", tech, map[string]any{"site": site, "room": "fw", "all": true})
	if st != 201 {
		t.Fatalf("rollout 1.2.0: %d %v", st, body)
	}
	ro := e.waitRollout(tech, body["id"].(string))
	if s := steps(ro); ro["state"] != "failed" || s["tally-1"] != "failed" || s["tally-2"] != "cancelled" {
		t.Fatalf("rollout with a failing first device: %v", ro)
	}
	for i, s := range sims {
		if s.Firmware() != (frame.Version{Major: 1, Minor: 1}) {
			t.Errorf("device %d runs %s after the failed rollout", i+1, s.Firmware())
		}
	}

	// Nothing to roll out to: an image for a type the room does not have.
	_, other := e.upload(tech, "call-button", "1.0.0", []byte("button firmware"))
	if st, body := e.call("POST", "/api/v1/firmware/"+other["id"].(string)+"/rollouts", tech, map[string]any{"site": site, "all": true}); st != 409 {
		t.Fatalf("rollout without targets: %d %v", st, body)
	}
	for _, bad := range []map[string]any{{"site": site}, {"site": site, "device": "tally-1"}, {"site": "Bad!", "all": true},
		{"site": site, "room": "fw", "device": "tally-1", "all": true}} {
		if st, body := e.call("POST", "/api/v1/firmware/"+id+"/rollouts", tech, bad); st != 400 {
			t.Errorf("rollout %v: %d %v", bad, st, body)
		}
	}
	if st, _ := e.call("GET", "/api/v1/firmware/rollouts/ro-none", tech, nil); st != 404 {
		t.Errorf("unknown rollout: %d", st)
	}
}

// Hot-plug through the whole path: a tally light on a serial port named by a stable link (as
// /dev/serial/by-id/… is) is unplugged — the API shows it unreachable at once, long before the
// room's next poll — and a device is plugged in again: it is reachable and its state is read
// afresh.
func TestFirmwareBridgeHotPlug(t *testing.T) {
	e := &env{t: t, dir: t.TempDir(), agents: map[string]*runningAgent{}, creds: map[string]hub.Credentials{}, timeout: 3 * time.Second}
	e.httpAddr = testutil.FreePort(t)
	e.mqttAddr = testutil.FreePort(t)
	link := filepath.Join(e.dir, "ttyTally")
	plug := func() *devsim.Sim {
		t.Helper()
		s := devsim.New(devsim.Config{Serial: "TL-1"})
		if err := s.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		os.Remove(link)
		if err := os.Symlink(strings.TrimPrefix(s.Address(), "serial:"), link); err != nil {
			t.Fatal(err)
		}
		return s
	}
	sim := plug()
	// The room polls once a minute: what the test sees comes from the bridge, not a poll.
	r := &config.Room{Site: site, Room: "hp", Kind: config.KindTechCourtroom, Name: "Hot-plug room",
		Poll: config.Duration(time.Minute), Timeout: config.Duration(2 * time.Second),
		Devices: []config.Device{{ID: "tally", Driver: "fwbridge", Address: "serial:" + link, Options: map[string]string{"ping_ms": "200"}}}}
	if err := r.Validate(); err != nil {
		t.Fatal(err)
	}
	e.rooms = []*config.Room{r}
	e.startHub()
	ctx := context.Background()
	if err := hub.AddUser(ctx, e.hub.Store(), "tech", "technician", "pw-tech"); err != nil {
		t.Fatal(err)
	}
	c, err := hub.AddAgent(ctx, e.hub.Store(), e.hub.BrokerURL(), site, r.Room)
	if err != nil {
		t.Fatal(err)
	}
	e.creds[r.Room] = c
	e.startAgent(r.Room)
	t.Cleanup(e.close)
	tech := e.login("tech")
	state := func() (bool, map[string]any) {
		dv := e.device(tech, "hp", "tally")
		if dv == nil {
			return false, nil
		}
		st, _ := dv["state"].(map[string]any)
		return dv["reachable"] == true, st
	}
	testutil.Eventually(t, 10*time.Second, "the tally light reachable", func() bool { up, st := state(); return up && st["tally"] == "off" })
	if st, body := e.command(tech, "hp", "tally", "tally", map[string]any{"color": "red"}); st != 200 {
		t.Fatalf("tally red: %d %v", st, body)
	}
	testutil.Eventually(t, 5*time.Second, "red in the state", func() bool { _, st := state(); return st["tally"] == "red" })
	// The agent polled the device before its hello (unreachable) and polls again within its
	// first retry (500ms); after that, the next poll is a minute away.
	time.Sleep(1500 * time.Millisecond)

	sim.Close()
	os.Remove(link)
	testutil.Eventually(t, 3*time.Second, "unreachable once unplugged", func() bool { up, _ := state(); return !up })
	if st, body := e.command(tech, "hp", "tally", "tally", map[string]any{"color": "green"}); st == 200 {
		t.Fatalf("a command to an unplugged device succeeded: %v", body)
	}

	plug() // a fresh device: its tally is off
	testutil.Eventually(t, 10*time.Second, "reachable again with its state read afresh", func() bool {
		up, st := state()
		return up && st["tally"] == "off"
	})
	if st, body := e.command(tech, "hp", "tally", "tally", map[string]any{"color": "green"}); st != 200 {
		t.Fatalf("tally green after replug: %d %v", st, body)
	}
}
