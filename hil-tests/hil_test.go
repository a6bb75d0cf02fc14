// Package hiltests runs the real binaries end to end: `hub` and `agent` built from cmd/,
// PJLink simulators over TCP, and Debian's mosquitto clients as third-party MQTT clients.
package hiltests

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/bailiff/bailiff/drivers/pjlink/pjlinksim"
	"github.com/bailiff/bailiff/internal/testutil"
)

var bin string // directory of the built binaries

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "bailiff-hil-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	bin = dir
	cmd := exec.Command("go", "build", "-o", dir+"/", "../cmd/hub", "../cmd/agent", "../cmd/devsim")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "hil-tests: build:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// proc is a running binary whose output is kept.
type proc struct {
	cmd  *exec.Cmd
	mu   sync.Mutex
	out  bytes.Buffer
	done chan struct{}
	err  error
}

func (p *proc) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.Write(b)
}

func (p *proc) output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.String()
}

func start(t *testing.T, name string, args ...string) *proc {
	t.Helper()
	path := name
	if !filepath.IsAbs(name) {
		path = filepath.Join(bin, name)
	}
	p := &proc{cmd: exec.Command(path, args...), done: make(chan struct{})}
	p.cmd.Stdout, p.cmd.Stderr = p, p
	p.cmd.Env = append(os.Environ(), "BAILIFF_TEST=1")
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.err = p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		p.cmd.Process.Kill()
		<-p.done
		if t.Failed() {
			t.Logf("%s output:\n%s", name, p.output())
		}
	})
	return p
}

// interrupt sends SIGINT and waits for a clean exit.
func (p *proc) interrupt(t *testing.T, within time.Duration) {
	t.Helper()
	p.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-p.done:
		if p.err != nil {
			t.Errorf("%s exited with %v after SIGINT", p.cmd.Path, p.err)
		}
	case <-time.After(within):
		t.Fatalf("%s did not stop within %s of SIGINT", p.cmd.Path, within)
	}
}

func (p *proc) waitOutput(t *testing.T, d time.Duration, s string) {
	t.Helper()
	testutil.Eventually(t, d, fmt.Sprintf("output %q", s), func() bool { return strings.Contains(p.output(), s) })
}

func run(t *testing.T, stdin string, name string, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(filepath.Join(bin, name), args...)
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return string(out), code
}

type api struct {
	t     *testing.T
	base  string
	token string
}

func (a *api) call(method, path string, body any) (int, map[string]any) {
	a.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, a.base+path, rd)
	if a.token != "" {
		req.Header.Set("Authorization", "Bearer "+a.token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	out := map[string]any{}
	if len(raw) > 0 && raw[0] == '[' {
		var l []any
		json.Unmarshal(raw, &l)
		out["list"] = l
	} else {
		json.Unmarshal(raw, &out)
	}
	return resp.StatusCode, out
}

func (a *api) login(user, pw string) {
	a.t.Helper()
	st, body := a.call("POST", "/api/v1/login", map[string]string{"user": user, "password": pw})
	if st != 200 {
		a.t.Fatalf("login %s: %d %v", user, st, body)
	}
	a.token = body["token"].(string)
}

func mosquittoClient(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Fatalf("%s is not installed: run ./scripts/test.sh, which installs mosquitto-clients", name)
	}
	return p
}

// The demo: every example room online with simulated devices, the API, an observer reading
// with mosquitto_sub but unable to command, and Ctrl-C stopping everything.
func TestDemo(t *testing.T) {
	httpAddr, mqttAddr := testutil.FreePort(t), testutil.FreePort(t)
	p := start(t, "hub", "--demo", "--http", httpAddr, "--mqtt", mqttAddr)
	p.waitOutput(t, 20*time.Second, "Press Ctrl-C to stop.")
	for _, want := range []string{"http://" + httpAddr, "technician / demo", "judge / demo", "monitor / demo", "observer / demo"} {
		if !strings.Contains(p.output(), want) {
			t.Errorf("banner lacks %q", want)
		}
	}
	a := &api{t: t, base: "http://" + httpAddr}
	if st, body := a.call("GET", "/healthz", nil); st != 200 {
		t.Fatalf("healthz: %d %v", st, body)
	}
	a.login("judge", "demo")
	testutil.Eventually(t, 15*time.Second, "five rooms online with every device reachable", func() bool {
		st, body := a.call("GET", "/api/v1/rooms", nil)
		rooms, _ := body["list"].([]any)
		if st != 200 || len(rooms) != 5 {
			return false
		}
		kinds := map[string]bool{}
		for _, r := range rooms {
			m := r.(map[string]any)
			kinds[m["kind"].(string)] = true
			if m["online"] != true {
				return false
			}
			for _, d := range m["devices"].([]any) {
				if d.(map[string]any)["reachable"] != true {
					return false
				}
			}
		}
		return len(kinds) == 5
	})
	if st, body := a.call("POST", "/api/v1/rooms/demo-court/courtroom-1/devices/projector/commands",
		map[string]any{"action": "power", "args": map[string]any{"on": true}}); st != 200 {
		t.Fatalf("demo command: %d %v", st, body)
	}
	// The panel page is served.
	if resp, err := http.Get("http://" + httpAddr + "/"); err != nil || resp.StatusCode != 200 {
		t.Fatalf("panel page: %v %v", resp, err)
	}

	// mosquitto_sub as the read-only observer sees the rooms' retained state …
	host, port, _ := net.SplitHostPort(mqttAddr)
	sub := exec.Command(mosquittoClient(t, "mosquitto_sub"), "-h", host, "-p", port, "-u", "observer", "-P", "demo",
		"-t", "bailiff/v1/+/+/d/+/state", "-C", "3", "-W", "10", "-v")
	out, err := sub.CombinedOutput()
	if err != nil || strings.Count(string(out), "\"reachable\"") < 3 {
		t.Fatalf("mosquitto_sub as observer: %v\n%s", err, out)
	}
	// … and cannot command: its publish never reaches the room.
	watch := exec.Command(mosquittoClient(t, "mosquitto_sub"), "-h", host, "-p", port, "-u", "observer", "-P", "demo",
		"-t", "bailiff/v1/demo-court/courtroom-1/d/+/cmd", "-W", "3", "-v")
	var watched bytes.Buffer
	watch.Stdout = &watched
	watch.Start()
	time.Sleep(500 * time.Millisecond)
	pub := exec.Command(mosquittoClient(t, "mosquitto_pub"), "-h", host, "-p", port, "-u", "observer", "-P", "demo",
		"-t", "bailiff/v1/demo-court/courtroom-1/d/projector/cmd", "-q", "1", "-m", `{"id":"forged","action":"power","args":{"on":false}}`)
	pub.Run()
	watch.Wait()
	if strings.Contains(watched.String(), "forged") {
		t.Fatal("the observer's command was delivered")
	}
	// A wrong password is refused.
	bad := exec.Command(mosquittoClient(t, "mosquitto_sub"), "-h", host, "-p", port, "-u", "observer", "-P", "nope", "-t", "bailiff/#", "-C", "1", "-W", "3")
	if out, err := bad.CombinedOutput(); err == nil {
		t.Fatalf("mosquitto_sub with a wrong password accepted: %s", out)
	}

	p.interrupt(t, 10*time.Second)
	for _, addr := range []string{httpAddr, mqttAddr} {
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			t.Errorf("%s still answers after the demo stopped", addr)
		}
	}
}

// The technicians' path: validate configs, issue an agent's credentials, add a user, run the
// hub and the agent binaries, command a device, stop the agent and see the room go offline.
func TestHubAndAgentBinaries(t *testing.T) {
	dir := t.TempDir()
	sim := pjlinksim.New(pjlinksim.Config{Password: "proj-pw", WarmUp: 100 * time.Millisecond})
	simAddr, err := sim.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	httpAddr, mqttAddr := testutil.FreePort(t), testutil.FreePort(t)
	os.MkdirAll(filepath.Join(dir, "rooms"), 0o755)
	hubYAML := filepath.Join(dir, "hub.yaml")
	os.WriteFile(hubYAML, []byte(fmt.Sprintf("http:\n  listen: %s\nmqtt:\n  listen: %s\ndata: data\nrooms: rooms\nmedia:\n  udp: 127.0.0.1:0\n", httpAddr, mqttAddr)), 0o644)
	roomYAML := filepath.Join(dir, "rooms", "court-7.yaml")
	os.WriteFile(roomYAML, []byte(fmt.Sprintf(`site: city-court
room: court-7
kind: tech-courtroom
name: Court 7
poll: 1s
devices:
  - id: projector
    driver: pjlink
    address: %s
    options:
      password: proj-pw
`, simAddr)), 0o644)
	badYAML := filepath.Join(dir, "bad.yaml")
	os.WriteFile(badYAML, []byte("site: city-court\nroom: Court 8\nkind: courtroom\nname: x\ndevices:\n  - id: p\n    driver: pjlink\n    adress: 1.2.3.4\n"), 0o644)

	if out, code := run(t, "", "hub", "validate", hubYAML, roomYAML); code != 0 {
		t.Fatalf("validate good files: exit %d\n%s", code, out)
	}
	out, code := run(t, "", "hub", "validate", badYAML)
	if code == 0 {
		t.Fatalf("validate bad file: exit 0\n%s", out)
	}
	for _, want := range []string{"bad.yaml:2: room", "bad.yaml:3: kind", "bad.yaml:8: devices[0].adress: unknown key"} {
		if !strings.Contains(out, want) {
			t.Errorf("validate output lacks %q:\n%s", want, out)
		}
	}

	creds, code := run(t, "", "hub", "agents", "add", "city-court/court-7", "--config", hubYAML)
	if code != 0 || !strings.Contains(creds, "username: agent/city-court/court-7") {
		t.Fatalf("agents add: exit %d\n%s", code, creds)
	}
	credFile := filepath.Join(dir, "court-7.creds")
	os.WriteFile(credFile, []byte(creds), 0o600)
	if out, code := run(t, "judge-pw\n", "hub", "users", "add", "judge", "judge", "--config", hubYAML); code != 0 {
		t.Fatalf("users add: exit %d\n%s", code, out)
	}

	h := start(t, "hub", "--config", hubYAML)
	h.waitOutput(t, 15*time.Second, "Bailiff hub: http://"+httpAddr)
	ag := start(t, "agent", "--config", roomYAML, "--credentials", credFile)

	a := &api{t: t, base: "http://" + httpAddr}
	a.login("judge", "judge-pw")
	testutil.Eventually(t, 10*time.Second, "room online, projector reachable", func() bool {
		st, body := a.call("GET", "/api/v1/rooms/city-court/court-7", nil)
		if st != 200 || body["online"] != true {
			return false
		}
		devs, _ := body["devices"].([]any)
		return len(devs) == 1 && devs[0].(map[string]any)["reachable"] == true
	})
	if st, body := a.call("POST", "/api/v1/rooms/city-court/court-7/devices/projector/commands",
		map[string]any{"action": "power", "args": map[string]any{"on": true}}); st != 200 {
		t.Fatalf("command: %d %v", st, body)
	}
	if p := sim.State().Power; p != pjlinksim.PowerWarming && p != pjlinksim.PowerOn {
		t.Fatalf("projector power = %v", p)
	}
	if strings.Contains(ag.output(), strings.TrimSpace(strings.Split(strings.Split(creds, "password: ")[1], "\n")[0])) {
		t.Error("the agent logged its password")
	}

	ag.interrupt(t, 10*time.Second)
	testutil.Eventually(t, 5*time.Second, "room offline after the agent stopped", func() bool {
		st, body := a.call("GET", "/api/v1/rooms/city-court/court-7", nil)
		return st == 200 && body["online"] == false
	})
	h.interrupt(t, 10*time.Second)
}
