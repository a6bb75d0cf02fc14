package hiltests

// The fault matrix: each test runs the real binaries, breaks one thing (the broker, the hub,
// the agent, the network between agent and hub, a device, a serial line, the recordings'
// disk, a device's answers), repairs it, and checks that nothing is lost: every command ends in
// exactly one outcome and none runs late at the device, the hub's view of the room converges
// within 5 s of the repair, recordings verify and play up to the fault, and the hub still has
// everything it had stored. Each logs how long recovery took ("recovery: …").

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/bailiff/bailiff/internal/config"
	"github.com/bailiff/bailiff/internal/testutil"
	"github.com/bailiff/bailiff/media/sfu/sfutest"
)

// convergeWithin is how soon after a repair the hub's view of the room must match the room.
const convergeWithin = 5 * time.Second

// commandTimeout is the hubs' commands.timeout here: short, so that a command lost to a fault
// ends soon.
const commandTimeout = 2 * time.Second

// faultRoomYAML is the room the faults are played on: a projector over TCP and a camera over a
// serial line (a socat pty pair), polled every second. A device that comes back while a poll
// of it is waiting for an answer that will never come is seen back once that poll times out:
// command_timeout (2s) bounds that.
const faultRoomYAML = `site: fault-court
room: court-f
kind: tech-courtroom
name: Fault court
poll: 1s
command_timeout: 2s
devices:
  - id: projector
    driver: pjlink
    address: 192.0.2.10
  - id: cam
    driver: visca
    address: serial:/dev/ttyUSB0
`

// faultSite is a site of one room with simulators behind its devices.
type faultSite struct {
	*site
	t    *testing.T
	dir  string
	room *config.Room
	sims map[string]*simProc
	lost *lostCmd // the last command sent during a fault, while the hub answered
}

// lostCmd is a command sent during a fault: its outcome, and how many commands the audit log
// had for its device before it.
type lostCmd struct {
	dev, code string
	before    int
}

// auditOutcomes is the results of the audit log's command entries for dev, newest first; nil
// if the hub does not answer.
func (f *faultSite) auditOutcomes(dev string) []string {
	f.t.Helper()
	st, body := f.tech.call("GET", "/api/v1/audit?action=command&limit=1000&target="+f.room.Site+"/"+f.room.Room+"/"+dev, nil)
	if st != 200 {
		return nil
	}
	out := []string{}
	entries, _ := body["entries"].([]any)
	for _, e := range entries {
		r, _ := e.(map[string]any)["result"].(string)
		out = append(out, r)
	}
	return out
}

func (f *faultSite) path() string { return "/api/v1/rooms/" + f.room.Site + "/" + f.room.Room }

// faultHubConfig is the hub.yaml of a fault test; mqtt is the block under "mqtt:" (indented
// by two spaces), extra is appended.
func faultHubConfig(httpAddr, mqtt, extra string) string {
	return fmt.Sprintf("http:\n  listen: %s\nmqtt:\n%sdata: data\nrooms: rooms\nmedia:\n  udp: 127.0.0.1:0\ncommands:\n  timeout: %s\n%s",
		httpAddr, mqtt, commandTimeout, extra)
}

// newFaultSite simulates the room roomYAML (faultRoomYAML if empty) and runs the hub (with
// the hub.yaml hubConfig makes from the HTTP address) and the room's agent.
func newFaultSite(t *testing.T, roomYAML string, o siteOptions) *faultSite {
	t.Helper()
	if os.Getenv("BAILIFF_HIL_REAL") != "" {
		t.Skip("the faults are played on simulators")
	}
	if roomYAML == "" {
		roomYAML = faultRoomYAML
	}
	dir := t.TempDir()
	src := filepath.Join(dir, "src", "court-f.yaml")
	os.MkdirAll(filepath.Dir(src), 0o755)
	if err := os.WriteFile(src, []byte(roomYAML), 0o644); err != nil {
		t.Fatal(err)
	}
	r, rendered, sims := simulateRoom(t, src, dir)
	if o.hubConfig == "" {
		o.hubConfig = faultHubConfig(testutil.FreePort(t), "  listen: "+testutil.FreePort(t)+"\n", "")
	}
	s := startSiteWith(t, dir, o, []*config.Room{r}, []string{rendered})
	f := &faultSite{site: s, t: t, dir: dir, room: r, sims: sims}
	s.waitReady(r)
	return f
}

// send sends a command and returns the HTTP status and the error code (0 and "unreachable"
// when the hub did not answer).
func (f *faultSite) send(dev, action string, args any) (int, string) {
	f.t.Helper()
	st, body := f.api.call("POST", f.path()+"/devices/"+dev+"/commands", map[string]any{"action": action, "args": args})
	if st == 0 {
		return 0, "unreachable"
	}
	e, _ := body["error"].(map[string]any)
	code, _ := e["code"].(string)
	return st, code
}

// devices is the hub's view of the room's devices, by ID, and whether the room is online.
func (f *faultSite) devices() (map[string]map[string]any, bool) {
	st, body := f.api.call("GET", f.path(), nil)
	if st != 200 {
		return nil, false
	}
	out := map[string]map[string]any{}
	devs, _ := body["devices"].([]any)
	for _, d := range devs {
		m := d.(map[string]any)
		out[m["id"].(string)] = m
	}
	return out, body["online"] == true
}

// converged reports whether the hub shows the room online, every device reachable, and each
// device's power as its simulator has it.
func (f *faultSite) converged() bool {
	devs, online := f.devices()
	if !online || len(devs) != len(f.room.Devices) {
		return false
	}
	for id, d := range devs {
		if d["reachable"] != true {
			return false
		}
		sim := f.sims[id]
		if sim == nil {
			continue
		}
		on, known := simPower(sim)
		if !known {
			continue
		}
		st, _ := d["state"].(map[string]any)
		if (st["power"] == "on" || st["power"] == "warming") != on {
			return false
		}
	}
	return true
}

// waitConverged waits (at most convergeWithin) for the hub's view to match the room and logs
// how long that took from since.
func (f *faultSite) waitConverged(what string, since time.Time) time.Duration {
	f.t.Helper()
	testutil.Eventually(f.t, convergeWithin-time.Since(since), what+": the hub's view of the room converges", f.converged)
	d := time.Since(since)
	f.t.Logf("recovery: %s: converged %s after the repair", what, d.Round(time.Millisecond))
	return d
}

// simPower is whether the simulated device is powered (warming up counts), if it has power.
func simPower(s *simProc) (on, known bool) {
	resp, err := http.Get(s.Control + "/state")
	if err != nil {
		return false, false
	}
	defer resp.Body.Close()
	m := map[string]any{}
	if decodeJSON(resp, &m) != nil {
		return false, false
	}
	switch s.Driver {
	case "pjlink":
		p := num(m["Power"])
		return p == 1 || p == 3, true
	case "visca":
		for _, c := range m {
			if cm, _ := c.(map[string]any); cm != nil && (cm["Power"] == true || cm["Booting"] == true) {
				return true, true
			}
		}
		return false, true
	}
	return false, false
}

// powered fails the test unless the simulator's power is want.
func (f *faultSite) powered(dev string, want bool, why string) {
	f.t.Helper()
	on, known := simPower(f.sims[dev])
	if !known || on != want {
		f.t.Fatalf("%s: %s powered %v (known %v), want %v", why, dev, on, known, want)
	}
}

// power commands dev on or off and fails unless the command is acked ok and the simulator
// shows it. A camera that has just booted answers "not executable" for a moment: retried.
func (f *faultSite) power(dev string, on bool) {
	f.t.Helper()
	testutil.Eventually(f.t, 5*time.Second, fmt.Sprintf("%s power %v acked", dev, on), func() bool {
		st, _ := f.send(dev, "power", map[string]any{"on": on})
		return st == 200
	})
	testutil.Eventually(f.t, 5*time.Second, fmt.Sprintf("%s power %v at the device", dev, on), func() bool {
		p, _ := simPower(f.sims[dev])
		return p == on
	})
}

// lostCommand sends a command that the fault must keep from the device: it must end in
// exactly one terminal outcome (one of codes), quickly.
func (f *faultSite) lostCommand(dev string, args any, codes ...string) {
	f.t.Helper()
	before := f.auditOutcomes(dev)
	start := time.Now()
	st, code := f.send(dev, "power", args)
	took := time.Since(start)
	if before != nil && st != 0 {
		f.lost = &lostCmd{dev: dev, code: code, before: len(before)}
	}
	ok := false
	for _, c := range codes {
		ok = ok || c == code
	}
	if st == 200 || !ok {
		f.t.Fatalf("command during the fault: %d %q, want one of %v", st, code, codes)
	}
	if took > commandTimeout+2*time.Second {
		f.t.Fatalf("command during the fault took %s to end (timeout %s)", took, commandTimeout)
	}
}

// notLate checks, for a while after recovery, that a command lost to the fault never runs at
// the device (its power stays as it was), and that the hub recorded exactly one outcome for
// it (the one the API answered): a late ack adds none.
func (f *faultSite) notLate(dev string, want bool) {
	f.t.Helper()
	deadline := time.Now().Add(commandTimeout + time.Second)
	for time.Now().Before(deadline) {
		f.powered(dev, want, "after recovery, a command sent during the fault ran late")
		time.Sleep(100 * time.Millisecond)
	}
	if l := f.lost; l != nil {
		f.lost = nil
		got := f.auditOutcomes(l.dev)
		if len(got) != l.before+1 || got[0] != l.code {
			f.t.Fatalf("the audit log has %d outcomes for %s (newest first %v) after the lost command, want %d, the newest %q",
				len(got), l.dev, got, l.before+1, l.code)
		}
	}
}

// kill sends SIGKILL and waits for the process to end.
func (p *proc) kill() {
	p.cmd.Process.Kill()
	<-p.done
}

// restartSim stops a device's simulator and starts it again on the same serial line.
func (f *faultSite) restartSim(dev string, kill bool) {
	f.t.Helper()
	s := f.sims[dev]
	if kill {
		s.p.kill()
	} else {
		s.p.cmd.Process.Signal(syscall.SIGTERM)
		<-s.p.done
	}
	f.startSim(dev)
}

// startSim starts the device's simulator again with the arguments it first had.
func (f *faultSite) startSim(dev string) {
	f.t.Helper()
	s := f.sims[dev]
	p := start(f.t, "devsim", s.p.cmd.Args[1:]...)
	testutil.Eventually(f.t, 10*time.Second, dev+" simulator ready again", func() bool {
		line, _, ok := strings.Cut(p.output(), "\n")
		return ok && strings.Contains(line, `"control"`)
	})
	line, _, _ := strings.Cut(p.output(), "\n")
	ns := &simProc{}
	if err := decodeJSONString(line, ns); err != nil {
		f.t.Fatal(err)
	}
	ns.p, ns.cable = p, s.cable
	f.sims[dev] = ns
}

// waitReachable waits until the hub shows dev reachable (or not), and returns how long it took.
func (f *faultSite) waitReachable(dev string, want bool, within time.Duration) time.Duration {
	f.t.Helper()
	start := time.Now()
	testutil.Eventually(f.t, within, fmt.Sprintf("%s reachable %v at the hub", dev, want), func() bool {
		devs, _ := f.devices()
		return devs != nil && devs[dev] != nil && devs[dev]["reachable"] == want
	})
	return time.Since(start)
}

// Broker restart, embedded: the hub stops gracefully and starts again on the same ports; the
// agent reconnects by itself, the room converges, and a command sent while the hub was down
// fails at once and never runs later.
func TestFaultEmbeddedBrokerRestart(t *testing.T) {
	f := newFaultSite(t, "", siteOptions{})
	f.power("projector", true)
	f.power("cam", true)
	f.hub.interrupt(t, 10*time.Second)
	f.lostCommand("projector", map[string]any{"on": false}, "unreachable")
	// While the hub is away the camera power-cycles: the hub must learn it is off.
	f.restartSim("cam", true)
	f.startHub()
	repaired := time.Now()
	f.waitConverged("embedded broker restart", repaired)
	f.notLate("projector", true)
	f.power("projector", false)
	f.power("cam", true)
}

// Broker restart, external: the hub and the agent use Debian's mosquitto, which is killed and
// started again 8 s later. A command sent while it is down ends in one outcome and does not run once
// mosquitto is back; the room converges; commands work again.
func TestFaultMosquittoRestart(t *testing.T) {
	mq := newMosquitto(t)
	f := newFaultSite(t, "", siteOptions{
		hubConfig: faultHubConfig(testutil.FreePort(t), fmt.Sprintf(
			"  external:\n    url: tcp://%s\n    username: hub\n    password: hub-pw\n", mq.addr), ""),
		beforeHub: mq.addAgents,
	})
	f.power("projector", true)
	f.power("cam", true)

	mq.kill()
	f.lostCommand("projector", map[string]any{"on": false}, "timeout", "unreachable", "unavailable")
	f.restartSim("cam", true) // the camera power-cycles meanwhile: the hub must learn it is off
	// Away long enough that the agent's reconnect backoff has grown: it must still be back
	// within 5 s of the broker.
	time.Sleep(8 * time.Second)
	mq.start()
	repaired := time.Now()
	f.waitConverged("mosquitto killed and restarted", repaired)
	f.notLate("projector", true)
	f.power("projector", false)
	f.power("cam", true)
}

// An agent killed with SIGKILL: the hub sees the room offline within the agent's keepalive
// (its will, published by the broker as the connection drops); a command meanwhile times out;
// the agent started again converges within 5 s and the lost command never runs.
func TestFaultAgentKill(t *testing.T) {
	f := newFaultSite(t, "", siteOptions{})
	f.power("projector", true)
	f.power("cam", true)
	killed := time.Now()
	f.agent[f.room.Room].kill()
	testutil.Eventually(t, 30*time.Second, "the room offline at the hub", func() bool {
		_, online := f.devices()
		return !online
	})
	t.Logf("recovery: agent kill -9: room offline at the hub %s after the kill", time.Since(killed).Round(time.Millisecond))
	f.lostCommand("projector", map[string]any{"on": false}, "timeout", "unreachable")
	f.restartSim("cam", true) // the camera power-cycles meanwhile: the hub must learn it is off
	restarted := time.Now()
	f.startAgent(f.room.Room)
	f.waitConverged("agent kill -9, agent restarted", restarted)
	f.notLate("projector", true)
	f.power("projector", false)
}

// A device's simulator killed and started again (the device power-cycled): the hub shows it
// unreachable, then reachable with the state the device has now (off, as after a power cut),
// and commands reach it again.
func TestFaultDeviceRestart(t *testing.T) {
	f := newFaultSite(t, "", siteOptions{})
	f.power("cam", true)
	f.sims["cam"].p.kill()
	d := f.waitReachable("cam", false, 10*time.Second)
	t.Logf("recovery: device simulator killed: unreachable at the hub after %s", d.Round(time.Millisecond))
	f.lostCommand("cam", map[string]any{"on": false}, "timeout", "unreachable")
	repaired := time.Now()
	f.startSim("cam")
	f.waitConverged("device simulator restarted", repaired)
	f.notLate("cam", false) // a restarted camera starts off
	f.power("cam", true)
	f.power("projector", true)
}

// A serial line closed under the agent: the socat pty pair (the cable) is killed, so the
// agent's end of the line vanishes; the camera goes unreachable, the projector keeps working;
// the line comes back (and the camera's simulator opens its end of it again) and the camera
// converges and answers commands.
func TestFaultSerialLineClosed(t *testing.T) {
	f := newFaultSite(t, "", siteOptions{})
	f.power("cam", true)
	cable := f.sims["cam"].cable
	cable.kill()
	d := f.waitReachable("cam", false, 10*time.Second)
	t.Logf("recovery: serial line closed: camera unreachable at the hub after %s", d.Round(time.Millisecond))
	f.lostCommand("cam", map[string]any{"on": false}, "timeout", "unreachable")
	f.power("projector", true)
	// The camera's simulator held its end of the line, which is gone with the cable.
	f.sims["cam"].p.kill()
	repaired := time.Now()
	f.sims["cam"].cable = restartCable(t, cable)
	f.startSim("cam")
	f.waitConverged("serial line back", repaired)
	f.notLate("cam", false) // a restarted camera starts off
	f.power("cam", true)
}

// decodeJSON and decodeJSONString read a JSON body or line.
func decodeJSON(resp *http.Response, v any) error { return json.NewDecoder(resp.Body).Decode(v) }

func decodeJSONString(s string, v any) error { return json.Unmarshal([]byte(s), v) }

// restartCable starts a socat pty pair again as it was first started.
func restartCable(t *testing.T, old *proc) *proc {
	t.Helper()
	var links []string
	for _, a := range old.cmd.Args {
		if _, l, ok := strings.Cut(a, "link="); ok {
			links = append(links, l)
			os.Remove(l) // left behind by a socat killed with SIGKILL
		}
	}
	p := start(t, old.cmd.Path, old.cmd.Args[1:]...)
	testutil.Eventually(t, 5*time.Second, "socat's ptys again", func() bool {
		for _, l := range links {
			if _, err := os.Stat(l); err != nil {
				return false
			}
		}
		return true
	})
	return p
}

// publisher publishes the test clips to the room's program stream over WHIP as the
// technician, until stopped.
type publisher struct {
	pub    *sfutest.Publisher
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

func publish(t *testing.T, f *faultSite, name string) *publisher {
	t.Helper()
	clips := sfutest.Load(t, sfutest.Small)
	wapi, err := sfutest.NewAPI(true)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := sfutest.NewPublisher(wapi, "video/VP8")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	p := &publisher{pub: pub, cancel: cancel}
	t.Cleanup(p.stop)
	offer, err := pub.Offer(ctx)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("POST", f.api.base+"/whip/"+f.room.Site+"/"+f.room.Room+"/"+name, strings.NewReader(offer))
	req.Header.Set("Content-Type", "application/sdp")
	req.Header.Set("Authorization", "Bearer "+f.tech.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	answer := string(b)
	if resp.StatusCode != 201 {
		t.Fatalf("WHIP publish: %d %s", resp.StatusCode, answer)
	}
	if err := pub.SetAnswer(answer); err != nil {
		t.Fatal(err)
	}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for ctx.Err() == nil {
			pub.Run(ctx, clips.VP8, clips.Opus)
		}
	}()
	return p
}

func (p *publisher) stop() {
	p.cancel()
	p.wg.Wait()
	p.pub.Close()
}

// stored is what the hub has stored that a crash must not lose, as the API shows it.
type stored struct {
	hearing   map[string]any
	notes     []any
	auditN    float64
	revisions []any
}

func (f *faultSite) stored(hearing string) stored {
	f.t.Helper()
	var s stored
	st, h := f.api.call("GET", "/api/v1/hearings/"+hearing, nil)
	if st != 200 {
		f.t.Fatalf("hearing %s: %d %v", hearing, st, h)
	}
	s.hearing = h
	st, n := f.api.call("GET", "/api/v1/hearings/"+hearing+"/notes", nil)
	if st != 200 || n["verified"] != true {
		f.t.Fatalf("notes of %s: %d %v", hearing, st, n)
	}
	s.notes, _ = n["notes"].([]any)
	st, a := f.tech.call("GET", "/api/v1/audit/verify", nil)
	if st != 200 || a["ok"] != true {
		f.t.Fatalf("audit chain: %d %v", st, a)
	}
	s.auditN = num(a["entries"])
	st, r := f.tech.call("GET", f.path()+"/config/revisions", nil)
	if st != 200 {
		f.t.Fatalf("config revisions: %d %v", st, r)
	}
	s.revisions, _ = r["list"].([]any)
	return s
}

// The hub killed with SIGKILL during a hearing that is being recorded: after a restart the
// hearing is still in session, its notes, the audit chain and the room's config revisions are
// all there; the recording cut by the kill verifies (`hub verify-recording`) and plays up to
// about the kill; the hearing records again (a new recording, which takes the stream published
// anew); the room converges; and a command sent while the hub was dead never runs.
func TestFaultHubKillDuringHearing(t *testing.T) {
	sfutest.RequireFFmpeg(t)
	f := newFaultSite(t, "", siteOptions{})
	const site, room = "fault-court", "court-f"

	// A config revision pushed through the API, a hearing in session, a note, and the room's
	// program stream recorded.
	rendered, err := os.ReadFile(filepath.Join(f.dir, "rooms", "court-f.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	pushed := strings.Replace(string(rendered), "name: Fault court", "name: Fault court (revised)", 1)
	if st, out := f.tech.putYAML("PUT", f.path()+"/config", pushed); st != 200 {
		t.Fatalf("push config: %d %s", st, out)
	}
	st, h := f.api.call("POST", "/api/v1/hearings", map[string]any{"case": "CR-2026-0999", "title": "State v. Crash", "site": site, "room": room})
	if st != 201 {
		t.Fatalf("schedule: %d %v", st, h)
	}
	id := h["id"].(string)
	if st, tr := f.api.call("POST", "/api/v1/hearings/"+id+"/start", nil); st != 200 {
		t.Fatalf("start: %d %v", st, tr)
	}
	pub := publish(t, f, "program")
	_, h = f.api.call("GET", "/api/v1/hearings/"+id, nil)
	recs, _ := h["recordings"].([]any)
	if len(recs) != 1 {
		t.Fatalf("hearing in session with recordings %v, want one", recs)
	}
	recID := recs[0].(string)
	testutil.Eventually(t, 15*time.Second, "both tracks of the stream recorded", func() bool {
		_, r := f.api.call("GET", "/api/v1/recordings/"+recID, nil)
		tracks, _ := r["tracks"].([]any)
		return r["state"] == "recording" && len(tracks) == 2
	})
	recorded := time.Now()
	if st, n := f.api.call("POST", "/api/v1/hearings/"+id+"/notes", map[string]any{"text": "Witness sworn in."}); st != 201 && st != 200 {
		t.Fatalf("note: %d %v", st, n)
	}
	f.power("projector", true)
	f.power("cam", true)
	time.Sleep(2 * time.Second) // media into the files
	before := f.stored(id)

	killed := time.Now()
	f.hub.kill()
	pub.stop()
	fed := killed.Sub(recorded)
	f.lostCommand("projector", map[string]any{"on": false}, "unreachable")
	f.restartSim("cam", true) // the camera power-cycles meanwhile: the hub must learn it is off

	f.startHub()
	restarted := time.Now()
	f.waitConverged("hub kill -9, hub restarted", restarted)
	after := f.stored(id)
	if fmt.Sprint(after.notes) != fmt.Sprint(before.notes) || len(after.notes) != 1 {
		t.Errorf("notes after the crash:\n%v\nwant\n%v", after.notes, before.notes)
	}
	if fmt.Sprint(after.revisions) != fmt.Sprint(before.revisions) || len(after.revisions) != 2 {
		t.Errorf("config revisions after the crash:\n%v\nwant\n%v", after.revisions, before.revisions)
	}
	if after.auditN < before.auditN {
		t.Errorf("audit entries: %v after the crash, %v before", after.auditN, before.auditN)
	}
	if after.hearing["state"] != "in-session" || after.hearing["case"] != "CR-2026-0999" {
		t.Errorf("hearing after the crash: %v", after.hearing)
	}

	// The recording the kill cut: sealed by the restarted hub, verified, playable.
	_, r := f.api.call("GET", "/api/v1/recordings/"+recID, nil)
	if r["state"] != "recovered" || r["verified"] != true {
		t.Fatalf("recording cut by the crash: %v", r)
	}
	recDir := filepath.Join(f.dir, "data", r["dir"].(string))
	if out, code := run(t, "", "hub", "verify-recording", "--config", f.hubYAML, recDir); code != 0 {
		t.Fatalf("hub verify-recording: exit %d\n%s", code, out)
	}
	files, _ := filepath.Glob(filepath.Join(recDir, "*.webm"))
	if len(files) != 2 {
		t.Fatalf("recording files %v, want a video and an audio file", files)
	}
	for _, file := range files {
		if msg := decodeErrors(t, file); msg != "" {
			t.Errorf("%s does not decode:\n%s", filepath.Base(file), msg)
		}
		// A video file starts at the stream's first keyframe (one a second in the clip).
		played := lastPTS(t, file)
		t.Logf("recovery: hub kill -9: %s plays %.2f s; the stream was recorded %.2f s before the kill", filepath.Base(file), played, fed.Seconds())
		if played < fed.Seconds()-1.5 {
			t.Errorf("%s plays %.2f s; the stream was recorded for %.2f s before the kill", filepath.Base(file), played, fed.Seconds())
		}
	}

	// The hearing records again: a second recording, which takes the stream published anew.
	_, h = f.api.call("GET", "/api/v1/hearings/"+id, nil)
	recs, _ = h["recordings"].([]any)
	if len(recs) != 2 {
		t.Fatalf("hearing after the restart has recordings %v, want the cut one and a new one", recs)
	}
	publish(t, f, "program")
	testutil.Eventually(t, 15*time.Second, "the new recording takes the stream", func() bool {
		_, r := f.api.call("GET", "/api/v1/recordings/"+recs[1].(string), nil)
		tracks, _ := r["tracks"].([]any)
		return r["state"] == "recording" && len(tracks) == 2
	})
	f.notLate("projector", true)
	f.power("projector", false)
}

// decodeErrors is what ffmpeg's decoders say of a file, less the complaint a file cut by a
// crash always draws.
func decodeErrors(t *testing.T, path string) string {
	t.Helper()
	out, _ := exec.Command("ffmpeg", "-v", "error", "-i", path, "-f", "null", "-").CombinedOutput()
	var keep []string
	for _, l := range strings.Split(string(out), "\n") {
		if l != "" && !strings.Contains(l, "File ended prematurely") {
			keep = append(keep, l)
		}
	}
	return strings.Join(keep, "\n")
}

// lastPTS is the presentation time of a media file's last packet, in seconds.
func lastPTS(t *testing.T, path string) float64 {
	t.Helper()
	out, err := exec.Command("ffprobe", "-v", "error", "-select_streams", "0", "-show_entries", "packet=pts_time",
		"-of", "csv=p=0", path).Output()
	if err != nil {
		t.Fatalf("ffprobe %s: %v", path, err)
	}
	lines := strings.Fields(string(out))
	if len(lines) == 0 {
		return 0
	}
	v, _ := strconv.ParseFloat(lines[len(lines)-1], 64)
	return v
}

// partitionRoomYAML is a room whose only device is on a serial line: the line (a pty) is
// reached from inside a network namespace as from outside, so the partition cuts only the
// agent from the hub.
const partitionRoomYAML = `site: fault-court
room: court-f
kind: tech-courtroom
name: Fault court
poll: 1s
command_timeout: 2s
devices:
  - id: cam
    driver: visca
    address: serial:/dev/ttyUSB0
`

// A network partition between the agent (in a network namespace of its own) and the hub
// (listening on the host's end of a veth pair): a command sent during the partition ends in
// one outcome, timeout, and never runs once the link is back, although the agent then gets
// it; what changed at the room meanwhile (the camera power-cycled) reaches the hub within 5 s
// of the link coming back; commands work again.
func TestFaultPartition(t *testing.T) {
	n := newNetns(t)
	_, port, _ := strings.Cut(testutil.FreePort(t), ":")
	f := newFaultSite(t, partitionRoomYAML, siteOptions{
		hubConfig: faultHubConfig(testutil.FreePort(t), "  listen: "+n.hostIP+":"+port+"\n", ""),
		agentWrap: n.exec(),
	})
	f.power("cam", true)

	cut := time.Now()
	n.partition()
	f.restartSim("cam", true) // the camera power-cycles during the partition: it is off
	f.lostCommand("cam", map[string]any{"on": true}, "timeout")
	time.Sleep(time.Second)
	n.heal()
	healed := time.Now()
	t.Logf("recovery: partition: the link was cut for %s", healed.Sub(cut).Round(time.Millisecond))
	f.waitConverged("network partition healed", healed)
	f.notLate("cam", false)
	// The command did reach the agent once the link was back, and the agent refused it.
	testutil.Eventually(t, 5*time.Second, "the agent refuses the command that came late", func() bool {
		return strings.Contains(f.agent[f.room.Room].output(), "code=expired")
	})
	f.power("cam", true)
}

// mountTmpfs mounts a tmpfs of size bytes at dir, unmounted when the test ends, failed or not.
// It fails loudly when it cannot (it needs root; CI runs the hil-tests as root).
func mountTmpfs(t *testing.T, dir string, size int) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", fmt.Sprintf("size=%d,mode=0755", size), "tmpfs", dir).CombinedOutput(); err != nil {
		t.Fatalf("mount a tmpfs at %s: %v: %s (needs root; CI runs the hil-tests as root)", dir, err, out)
	}
	// Lazily: the hub, stopped after this runs, may still hold files there.
	t.Cleanup(func() { exec.Command("umount", "-l", dir).Run() })
}

// A full disk for recordings: the recordings directory is a small tmpfs, nearly full. The
// recording stops with a recording-failed alarm; what was written before verifies and plays;
// the hub keeps serving (commands, the API); once space is freed a new recording works.
func TestFaultDiskFull(t *testing.T) {
	sfutest.RequireFFmpeg(t)
	f := newFaultSite(t, "", siteOptions{})
	recRoot := filepath.Join(f.dir, "data", "recordings")
	const size, free = 4 << 20, 160 << 10
	mountTmpfs(t, recRoot, size)
	filler := filepath.Join(recRoot, "filler")
	if err := os.WriteFile(filler, make([]byte, size-free), 0o600); err != nil {
		t.Fatal(err)
	}

	st, rec := f.api.call("POST", "/api/v1/recordings", map[string]string{"site": f.room.Site, "room": f.room.Room})
	recID, _ := rec["id"].(string)
	if st != 201 || recID == "" {
		t.Fatalf("start recording: %d %v", st, rec)
	}
	pub := publish(t, f, "program")
	started := time.Now()
	testutil.Eventually(t, 30*time.Second, "the recording stops with a recording-failed alarm", func() bool {
		_, r := f.api.call("GET", "/api/v1/recordings/"+recID, nil)
		if r["state"] != "failed" {
			return false
		}
		_, a := f.api.call("GET", "/api/v1/alarms?active=1", nil)
		list, _ := a["list"].([]any)
		for _, x := range list {
			if m := x.(map[string]any); m["kind"] == "recording-failed" && m["room"] == f.room.Room {
				return true
			}
		}
		return false
	})
	t.Logf("recovery: disk full: the recording stopped with an alarm %s after publishing began", time.Since(started).Round(time.Millisecond))
	pub.stop()

	// The hub keeps serving.
	if st, _ := f.api.call("GET", "/healthz", nil); st != 200 {
		t.Errorf("healthz after the disk filled: %d", st)
	}
	f.power("projector", true)

	// What was written verifies and plays.
	_, r := f.api.call("GET", "/api/v1/recordings/"+recID, nil)
	recDir := filepath.Join(f.dir, "data", r["dir"].(string))
	out, code := run(t, "", "hub", "verify-recording", "--config", f.hubYAML, recDir)
	t.Logf("hub verify-recording of the recording the full disk stopped: exit %d\n%s", code, out)
	if code != 0 {
		t.Errorf("hub verify-recording: exit %d", code)
	}
	files, _ := filepath.Glob(filepath.Join(recDir, "*.webm"))
	if len(files) == 0 {
		t.Fatal("nothing was recorded before the disk filled")
	}
	for _, file := range files {
		if msg := decodeErrors(t, file); msg != "" {
			t.Errorf("%s does not decode:\n%s", filepath.Base(file), msg)
		}
	}

	// Space freed: the room records again.
	os.Remove(filler)
	st, rec = f.api.call("POST", "/api/v1/recordings", map[string]string{"site": f.room.Site, "room": f.room.Room})
	if st != 201 {
		t.Fatalf("recording after space was freed: %d %v", st, rec)
	}
	publish(t, f, "program")
	testutil.Eventually(t, 15*time.Second, "the new recording takes the stream", func() bool {
		_, r := f.api.call("GET", "/api/v1/recordings/"+rec["id"].(string), nil)
		tracks, _ := r["tracks"].([]any)
		return r["state"] == "recording" && len(tracks) == 2
	})
}
