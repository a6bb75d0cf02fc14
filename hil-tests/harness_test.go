package hiltests

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/bailiff/bailiff/drivers/transport"
	"github.com/bailiff/bailiff/internal/config"
	"github.com/bailiff/bailiff/internal/testutil"
)

// simProc is one device simulator running as a process of its own (cmd/devsim).
type simProc struct {
	p       *proc
	cable   *proc             // the socat pty pair of a serial device
	Driver  string            `json:"driver"`
	ID      string            `json:"id"`
	Address string            `json:"address"`
	Control string            `json:"control"`
	Options map[string]string `json:"options"`
}

// state returns the simulator's snapshot from its control API.
func (s *simProc) state(t *testing.T) map[string]any {
	t.Helper()
	resp, err := http.Get(s.Control + "/state")
	if err != nil {
		t.Fatalf("%s state: %v", s.ID, err)
	}
	defer resp.Body.Close()
	out := map[string]any{}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("%s state: %v", s.ID, err)
	}
	return out
}

// setMode tells the simulator to misbehave.
func (s *simProc) setMode(t *testing.T, mode string) {
	t.Helper()
	resp, err := http.Post(s.Control+"/mode", "application/json", strings.NewReader(`{"mode":"`+mode+`"}`))
	if err != nil || resp.StatusCode != http.StatusNoContent {
		t.Fatalf("%s mode %s: %v %v", s.ID, mode, resp, err)
	}
	resp.Body.Close()
}

// socatPair links two ptys with socat, as a null-modem cable: the simulator opens one end,
// the agent the other.
func socatPair(t *testing.T, dir, id string) (simEnd, agentEnd string, cable *proc) {
	t.Helper()
	bin, err := exec.LookPath("socat")
	if err != nil {
		t.Fatal("socat is not installed: run ./scripts/test.sh, which installs it")
	}
	simEnd, agentEnd = filepath.Join(dir, id+"-sim"), filepath.Join(dir, id+"-agent")
	cable = start(t, bin, "-d", "-d",
		"pty,raw,echo=0,link="+simEnd, "pty,raw,echo=0,link="+agentEnd)
	testutil.Eventually(t, 5*time.Second, "socat's ptys", func() bool {
		_, e1 := os.Stat(simEnd)
		_, e2 := os.Stat(agentEnd)
		return e1 == nil && e2 == nil
	})
	return simEnd, agentEnd, cable
}

// withoutDevices is steps without those on the given devices (in parallel groups too); a group
// left empty goes as well.
func withoutDevices(steps []config.Step, left map[string]bool) []config.Step {
	var out []config.Step
	for _, st := range steps {
		if st.Device != "" && left[st.Device] {
			continue
		}
		if len(st.Parallel) > 0 {
			if st.Parallel = withoutDevices(st.Parallel, left); len(st.Parallel) == 0 {
				continue
			}
		}
		out = append(out, st)
	}
	return out
}

// simulateRoom starts a simulator process for every device of the room config at path,
// and writes a copy of the config pointing at them (serial devices through socat pairs).
// With BAILIFF_HIL_REAL set, it starts nothing and returns the config as it is, so the
// scenarios run against the real gear the config names.
func simulateRoom(t *testing.T, path, outDir string) (*config.Room, string, map[string]*simProc) {
	t.Helper()
	r, err := config.LoadRoom(path)
	if err != nil {
		t.Fatal(err)
	}
	if os.Getenv("BAILIFF_HIL_REAL") != "" {
		return r, path, nil
	}
	sims := map[string]*simProc{}
	// GPIO pins are the agent host's own: a simulator in another process cannot stand in
	// for them. They are left out here (the demo and the gpio package's tests cover them;
	// with BAILIFF_HIL_REAL the real pins are used).
	kept := r.Devices[:0]
	left := map[string]bool{}
	for _, d := range r.Devices {
		if d.Driver != "gpio" {
			kept = append(kept, d)
		} else {
			left[d.ID] = true
		}
	}
	r.Devices = kept
	// The room's scenes lose their steps on the devices left out,
	for i := range r.Scenes {
		r.Scenes[i].Steps = withoutDevices(r.Scenes[i].Steps, left)
	}
	// And the queue its kiosk buttons on them.
	buttons := r.Queue.Buttons[:0]
	for _, b := range r.Queue.Buttons {
		if !left[b.Device] {
			buttons = append(buttons, b)
		}
	}
	r.Queue.Buttons = buttons
	// The example rooms' media name cameras and a hub on the court's network: nothing of a
	// test may go there. The media path has its own end-to-end tests (internal/integration).
	r.Media = config.RoomMedia{}
	for i := range r.Devices {
		d := &r.Devices[i]
		kind, _, err := transport.Parse(d.Address, transport.Options{TCPPort: 1, UDPPort: 1})
		if err != nil || d.Address == "" {
			kind = ""
		}
		args := []string{"--driver", d.Driver, "--id", d.ID, "--name", d.Name, "--fast"}
		if kind != "" {
			args = append(args, "--transport", kind)
		}
		for k, v := range d.Options {
			args = append(args, "--option", k+"="+v)
		}
		agentEnd := ""
		var cable *proc
		if kind == transport.Serial {
			var simEnd string
			simEnd, agentEnd, cable = socatPair(t, outDir, d.ID)
			args = append(args, "--serial", simEnd)
		}
		p := start(t, "devsim", args...)
		s := &simProc{p: p}
		testutil.Eventually(t, 10*time.Second, d.ID+" simulator ready", func() bool {
			line, _, ok := strings.Cut(p.output(), "\n")
			return ok && json.Unmarshal([]byte(line), s) == nil && s.Control != ""
		})
		s.p, s.cable = p, cable
		sims[d.ID] = s
		d.Address = s.Address
		if agentEnd != "" {
			d.Address = "serial:" + agentEnd
		}
		for k, v := range s.Options {
			if d.Options == nil {
				d.Options = map[string]string{}
			}
			d.Options[k] = v
		}
	}
	b, err := yaml.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(outDir, "rooms", filepath.Base(path))
	os.MkdirAll(filepath.Dir(out), 0o755)
	if err := os.WriteFile(out, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return r, out, sims
}

// site is a running hub with its rooms' agents (the binaries), and what it takes to start
// each again.
type site struct {
	t         *testing.T
	api       *api
	tech      *api // a technician's session
	hub       *proc
	hubYAML   string
	agent     map[string]*proc
	agentArgs map[string][]string
	agentWrap []string
}

// startSite runs the hub binary with the given rendered room configs, a judge and a technician
// user, and each room's agent binary.
func startSite(t *testing.T, dir string, rooms []*config.Room, files []string) *site {
	t.Helper()
	httpAddr, mqttAddr := testutil.FreePort(t), testutil.FreePort(t)
	return startSiteWith(t, dir, siteOptions{hubConfig: fmt.Sprintf("http:\n  listen: %s\nmqtt:\n  listen: %s\ndata: data\nrooms: rooms\nmedia:\n  udp: 127.0.0.1:0\n", httpAddr, mqttAddr)}, rooms, files)
}

// siteOptions change how startSiteWith starts a site.
type siteOptions struct {
	hubConfig string // hub.yaml; it must set http.listen
	// beforeHub, if set, runs once the rooms' agents have credentials (by room: the output of
	// `hub agents add`), before the hub starts (to start an external broker that knows them).
	beforeHub func(t *testing.T, creds map[string]string)
	// agentWrap, if set, runs each agent under this command (e.g. ip netns exec NAME).
	agentWrap []string
}

// startSiteWith is startSite with options.
func startSiteWith(t *testing.T, dir string, o siteOptions, rooms []*config.Room, files []string) *site {
	t.Helper()
	hubConfig := o.hubConfig
	hubYAML := filepath.Join(dir, "hub.yaml")
	os.WriteFile(hubYAML, []byte(hubConfig), 0o644)
	if out, code := run(t, "", "hub", "validate", hubYAML); code != 0 {
		t.Fatalf("validate: %s", out)
	}
	for _, u := range [][2]string{{"judge", "judge"}, {"tech", "technician"}} {
		if out, code := run(t, u[0]+"-pw\n", "hub", "users", "add", u[0], u[1], "--config", hubYAML); code != 0 {
			t.Fatalf("users add: %s", out)
		}
	}
	s := &site{t: t, hubYAML: hubYAML, agent: map[string]*proc{}, agentArgs: map[string][]string{}, agentWrap: o.agentWrap}
	creds := map[string]string{}
	for i, r := range rooms {
		// The credentials are standard output (a note for an external broker goes to standard error).
		cmd := exec.Command(filepath.Join(bin, "hub"), "agents", "add", r.Site+"/"+r.Room, "--config", hubYAML)
		var stderr strings.Builder
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("agents add: %v: %s", err, stderr.String())
		}
		c := string(out)
		creds[r.Room] = c
		cf := filepath.Join(dir, r.Room+".creds")
		os.WriteFile(cf, []byte(c), 0o600)
		s.agentArgs[r.Room] = []string{"--config", files[i], "--credentials", cf}
	}
	if o.beforeHub != nil {
		o.beforeHub(t, creds)
	}
	s.hub = start(t, "hub", "--config", hubYAML)
	s.hub.waitOutput(t, 15*time.Second, "Bailiff hub: http://")
	for _, r := range rooms {
		s.startAgent(r.Room)
	}
	var cfg struct {
		HTTP struct {
			Listen string `yaml:"listen"`
		} `yaml:"http"`
	}
	if err := yaml.Unmarshal([]byte(hubConfig), &cfg); err != nil || cfg.HTTP.Listen == "" {
		t.Fatalf("hub config without http.listen: %v", err)
	}
	s.api = &api{t: t, base: "http://" + cfg.HTTP.Listen}
	s.api.login("judge", "judge-pw")
	s.tech = &api{t: t, base: s.api.base}
	s.tech.login("tech", "tech-pw")
	return s
}

// startAgent starts the room's agent binary (again), with the arguments it was first given.
func (s *site) startAgent(room string) {
	s.t.Helper()
	if w := s.agentWrap; len(w) > 0 {
		args := append(append(append([]string{}, w[1:]...), filepath.Join(bin, "agent")), s.agentArgs[room]...)
		s.agent[room] = start(s.t, w[0], args...)
		return
	}
	s.agent[room] = start(s.t, "agent", s.agentArgs[room]...)
}

// startHub starts the hub binary (again) on its config and waits until it serves.
func (s *site) startHub() {
	s.t.Helper()
	s.hub = start(s.t, "hub", "--config", s.hubYAML)
	s.hub.waitOutput(s.t, 20*time.Second, "Bailiff hub: http://")
}

// waitReady waits until every device of the room is reachable.
func (s *site) waitReady(r *config.Room) {
	s.t.Helper()
	testutil.Eventually(s.t, 20*time.Second, r.Room+" online with every device reachable", func() bool {
		st, body := s.api.call("GET", "/api/v1/rooms/"+r.Site+"/"+r.Room, nil)
		if st != 200 || body["online"] != true {
			return false
		}
		devs, _ := body["devices"].([]any)
		if len(devs) != len(r.Devices) {
			return false
		}
		for _, d := range devs {
			if d.(map[string]any)["reachable"] != true {
				return false
			}
		}
		return true
	})
}

// command sends a command and fails the test unless it is acked ok.
func (s *site) command(r *config.Room, dev, action string, args any) map[string]any {
	s.t.Helper()
	st, body := s.api.call("POST", "/api/v1/rooms/"+r.Site+"/"+r.Room+"/devices/"+dev+"/commands", map[string]any{"action": action, "args": args})
	if st != 200 || body["ok"] != true {
		s.t.Fatalf("%s %s %v: %d %v", dev, action, args, st, body)
	}
	state, _ := body["state"].(map[string]any)
	return state
}

// commandErr sends a command that must fail with code.
func (s *site) commandErr(r *config.Room, dev, action string, args any, code string) {
	s.t.Helper()
	st, body := s.api.call("POST", "/api/v1/rooms/"+r.Site+"/"+r.Room+"/devices/"+dev+"/commands", map[string]any{"action": action, "args": args})
	e, _ := body["error"].(map[string]any)
	if st == 200 || e == nil || e["code"] != code {
		s.t.Fatalf("%s %s %v: %d %v, want error %s", dev, action, args, st, body, code)
	}
}
