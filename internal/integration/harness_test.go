// Package integration runs the whole path in one process on loopback: the HTTP API, the hub,
// a real MQTT broker (the hub's embedded one, or Debian's mosquitto started by the test), real
// agents, the PJLink driver and PJLink simulators over TCP.
package integration

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/bailiff/bailiff/drivers/pjlink/pjlinksim"
	"github.com/bailiff/bailiff/internal/agent"
	"github.com/bailiff/bailiff/internal/config"
	"github.com/bailiff/bailiff/internal/hub"
	"github.com/bailiff/bailiff/internal/hub/broker"
	"github.com/bailiff/bailiff/internal/testutil"
	"github.com/bailiff/bailiff/media/sfu"
	"github.com/bailiff/bailiff/media/sfu/sfutest"
	"github.com/bailiff/bailiff/web"

	_ "github.com/bailiff/bailiff/drivers/all"
)

const site = "court"

func testLogger(t testing.TB) *slog.Logger {
	if os.Getenv("BAILIFF_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// env is one test's world: simulators, a broker, a hub and agents.
type env struct {
	t        testing.TB
	dir      string
	httpAddr string
	mqttAddr string
	rooms    []*config.Room
	sims     map[string]*pjlinksim.Sim // room/device
	mosq     *mosquitto                // nil: the hub embeds its broker
	hub      *hub.Hub
	agents   map[string]*runningAgent // room
	creds    map[string]hub.Credentials
	timeout  time.Duration
	hubOpts  func(*hub.Options) // changes the hub's options before it starts; nil: none
	web      http.Handler       // the panels the hub serves; nil: none
	// With TLS on the hub (tls_test.go): the API client and the agents' TLS, trusting the
	// hub's CA.
	https    *http.Client
	agentTLS *tls.Config
}

type runningAgent struct {
	a      *agent.Agent
	cancel context.CancelFunc
	done   chan struct{}
}

// newEnv makes rooms r1…rN, each with a projector (with a password) and a display.
func newEnv(t testing.TB, rooms int, external bool) *env {
	return newEnvWith(t, rooms, external, nil)
}

// newEnvWith is newEnv with hub options changed by mod.
func newEnvWith(t testing.TB, rooms int, external bool, mod func(*hub.Options)) *env {
	e := &env{t: t, dir: t.TempDir(), sims: map[string]*pjlinksim.Sim{}, agents: map[string]*runningAgent{},
		creds: map[string]hub.Credentials{}, timeout: 3 * time.Second, hubOpts: mod}
	e.httpAddr = testutil.FreePort(t)
	e.mqttAddr = testutil.FreePort(t)
	for i := 1; i <= rooms; i++ {
		r := &config.Room{Site: site, Room: fmt.Sprintf("r%d", i), Kind: config.KindTechCourtroom, Name: fmt.Sprintf("Room %d", i),
			Poll: config.Duration(time.Second), Timeout: config.Duration(time.Second)}
		for _, dev := range []struct{ id, pw string }{{"projector", "secret"}, {"display", ""}} {
			sim := pjlinksim.New(pjlinksim.Config{Password: dev.pw, WarmUp: 50 * time.Millisecond, CoolDown: 50 * time.Millisecond})
			addr, err := sim.Listen("127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { sim.Close() })
			e.sims[r.Room+"/"+dev.id] = sim
			d := config.Device{ID: dev.id, Driver: "pjlink", Address: addr}
			if dev.pw != "" {
				d.Options = map[string]string{"password": dev.pw}
			}
			r.Devices = append(r.Devices, d)
		}
		if err := r.Validate(); err != nil {
			t.Fatal(err)
		}
		e.rooms = append(e.rooms, r)
	}
	e.boot(external)
	return e
}

// newEnvRooms starts a world around rooms the test made: the hub (with the broker it embeds,
// serving the panels) and an agent per room, and the users judge, monitor and tech.
func newEnvRooms(t testing.TB, rooms ...*config.Room) *env {
	return newEnvRoomsWith(t, false, nil, rooms...)
}

// newEnvRoomsWith is newEnvRooms with mosquitto as the broker when external, and the hub's
// options changed by mod.
func newEnvRoomsWith(t testing.TB, external bool, mod func(*hub.Options), rooms ...*config.Room) *env {
	e := &env{t: t, dir: t.TempDir(), sims: map[string]*pjlinksim.Sim{}, agents: map[string]*runningAgent{},
		creds: map[string]hub.Credentials{}, timeout: 3 * time.Second, rooms: rooms, web: web.Handler(), hubOpts: mod}
	e.httpAddr = testutil.FreePort(t)
	e.mqttAddr = testutil.FreePort(t)
	e.boot(external)
	return e
}

// boot starts the broker (mosquitto when external), the hub, the users and the agents.
func (e *env) boot(external bool) {
	t := e.t
	if external {
		e.mosq = startMosquitto(t, e.mqttAddr, e.rooms)
	}
	e.startHub()
	ctx := context.Background()
	for _, u := range [][2]string{{"judge", "judge"}, {"monitor", "monitor"}, {"tech", "technician"}} {
		if err := hub.AddUser(ctx, e.hub.Store(), u[0], u[1], "pw-"+u[0]); err != nil {
			t.Fatal(err)
		}
	}
	if err := hub.AddObserver(ctx, e.hub.Store(), "observer", "pw-observer"); err != nil {
		t.Fatal(err)
	}
	for _, r := range e.rooms {
		var c hub.Credentials
		if e.mosq != nil {
			c = hub.Credentials{Broker: "tcp://" + e.mqttAddr, Username: "agent/" + site + "/" + r.Room, Password: e.mosq.passwords["agent/"+site+"/"+r.Room]}
		} else {
			var err error
			if c, err = hub.AddAgent(ctx, e.hub.Store(), e.hub.BrokerURL(), site, r.Room); err != nil {
				t.Fatal(err)
			}
		}
		e.creds[r.Room] = c
		e.startAgent(r.Room)
	}
	t.Cleanup(e.close)
}

func (e *env) startHub() {
	// Kept-alive connections to a hub that was closed would answer the next request with EOF.
	http.DefaultClient.CloseIdleConnections()
	h, err := hub.New(e.hubOptions())
	// A free port picked for the first start can be taken by another test's process before
	// the hub binds it: the first start takes new ones (a restart must keep its ports).
	for try := 0; e.hub == nil && errors.Is(err, syscall.EADDRINUSE) && try < 3; try++ {
		e.httpAddr = testutil.FreePort(e.t)
		if e.mosq == nil {
			e.mqttAddr = testutil.FreePort(e.t)
		}
		h, err = hub.New(e.hubOptions())
	}
	if err != nil {
		e.t.Fatal(err)
	}
	e.hub = h
	e.trustHubCA()
}

// hubOptions are the options of the env's hub.
func (e *env) hubOptions() hub.Options {
	o := hub.Options{HTTPListen: e.httpAddr, MQTTListen: e.mqttAddr, DataDir: filepath.Join(e.dir, "data"),
		Rooms: e.rooms, CommandTimeout: e.timeout, Logger: testLogger(e.t), Web: e.web,
		// Media stays on loopback: no packet of a test leaves the machine.
		Media: sfu.Network{UDPAddr: "127.0.0.1:0", Loopback: true, RemoteIPFilter: sfutest.Loopback}}
	if e.mosq != nil {
		o.External = &hub.ExternalBroker{URL: "tcp://" + e.mqttAddr, Username: "hub", Password: e.mosq.passwords["hub"]}
	}
	if e.hubOpts != nil {
		e.hubOpts(&o)
	}
	return o
}

func (e *env) startAgent(room string) { e.startAgentCaching(room, "") }

// startAgentCaching starts the room's agent on its first config, keeping the configs the hub
// pushes in cache ("" keeps none).
func (e *env) startAgentCaching(room, cache string) {
	var r *config.Room
	for _, x := range e.rooms {
		if x.Room == room {
			r = x
		}
	}
	c := e.creds[room]
	a, err := agent.New(agent.Options{Room: r, Broker: c.Broker, Username: c.Username, Password: c.Password, ClientID: c.Username,
		Version: "test", Logger: testLogger(e.t).With("room", room), MaxBackoff: 500 * time.Millisecond, ConfigCache: cache,
		TLS: e.agentTLS, MediaEndpoint: loopbackMedia(e.t)})
	if err != nil {
		e.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ra := &runningAgent{a: a, cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(ra.done)
		a.Run(ctx)
	}()
	e.agents[room] = ra
}

func (e *env) stopAgent(room string) {
	if ra := e.agents[room]; ra != nil {
		ra.cancel()
		<-ra.done
		delete(e.agents, room)
	}
}

func (e *env) close() {
	for r := range e.agents {
		e.stopAgent(r)
	}
	if e.hub != nil {
		e.hub.Close()
	}
}

func (e *env) url(path string) string {
	if e.https != nil {
		return "https://" + e.httpAddr + path
	}
	return "http://" + e.httpAddr + path
}

// call makes an API request and decodes the JSON answer into a map.
func (e *env) call(method, path, token string, body any) (int, map[string]any) {
	e.t.Helper()
	var rd io.Reader
	if body != nil {
		switch b := body.(type) {
		case string:
			rd = strings.NewReader(b)
		default:
			j, _ := json.Marshal(b)
			rd = bytes.NewReader(j)
		}
	}
	req, _ := http.NewRequest(method, e.url(path), rd)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	client := http.DefaultClient
	if e.https != nil {
		client = e.https
	}
	resp, err := client.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	out := map[string]any{}
	if len(raw) > 0 && raw[0] == '{' {
		if err := json.Unmarshal(raw, &out); err != nil {
			e.t.Fatalf("%s %s: bad JSON %q: %v", method, path, raw, err)
		}
	} else if len(raw) > 0 && raw[0] == '[' {
		var list []any
		json.Unmarshal(raw, &list)
		out["list"] = list
	}
	return resp.StatusCode, out
}

func (e *env) login(user string) string {
	e.t.Helper()
	st, body := e.call("POST", "/api/v1/login", "", map[string]string{"user": user, "password": "pw-" + user})
	if st != 200 {
		e.t.Fatalf("login %s: %d %v", user, st, body)
	}
	return body["token"].(string)
}

func (e *env) command(token, room, device, action string, args any) (int, map[string]any) {
	e.t.Helper()
	return e.call("POST", "/api/v1/rooms/"+site+"/"+room+"/devices/"+device+"/commands", token, map[string]any{"action": action, "args": args})
}

func errCode(body map[string]any) string {
	if e, ok := body["error"].(map[string]any); ok {
		c, _ := e["code"].(string)
		return c
	}
	return ""
}

// device returns a device of a room as the API shows it.
func (e *env) device(token, room, dev string) map[string]any {
	e.t.Helper()
	st, body := e.call("GET", "/api/v1/rooms/"+site+"/"+room, token, nil)
	if st != 200 {
		return nil
	}
	devs, _ := body["devices"].([]any)
	for _, d := range devs {
		if m := d.(map[string]any); m["id"] == dev {
			return m
		}
	}
	return nil
}

// roomOnline reports whether the API shows the room's agent online.
func (e *env) roomOnline(token, room string) bool {
	st, body := e.call("GET", "/api/v1/rooms/"+site+"/"+room, token, nil)
	return st == 200 && body["online"] == true
}

// sse is an open event stream.
type sse struct {
	mu     sync.Mutex
	events []map[string]any
	cancel context.CancelFunc
	ch     chan struct{}
}

func (e *env) openEvents(token string) *sse {
	e.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", e.url("/api/v1/events"), nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		cancel()
		e.t.Fatal(err)
	}
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		cancel()
		e.t.Fatalf("events: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	s := &sse{cancel: cancel, ch: make(chan struct{}, 1)}
	go func() {
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			line := sc.Text()
			if data, ok := strings.CutPrefix(line, "data: "); ok {
				m := map[string]any{}
				if json.Unmarshal([]byte(data), &m) == nil {
					s.mu.Lock()
					s.events = append(s.events, m)
					s.mu.Unlock()
					select {
					case s.ch <- struct{}{}:
					default:
					}
				}
			}
		}
	}()
	e.t.Cleanup(cancel)
	return s
}

// wait returns the first event matching, failing after d.
func (s *sse) wait(t testing.TB, d time.Duration, what string, match func(typ string, data map[string]any) bool) map[string]any {
	t.Helper()
	deadline := time.After(d)
	for {
		s.mu.Lock()
		evs := append([]map[string]any(nil), s.events...)
		s.mu.Unlock()
		for _, ev := range evs {
			data, _ := ev["data"].(map[string]any)
			if typ, _ := ev["type"].(string); match(typ, data) {
				return ev
			}
		}
		select {
		case <-s.ch:
		case <-time.After(50 * time.Millisecond):
		case <-deadline:
			t.Fatalf("no event %s within %s (got %d events)", what, d, len(evs))
		}
	}
}

// mosquitto is Debian's broker, started by the test with the contract's ACL.
type mosquitto struct {
	t         testing.TB
	conf      string
	cmd       *exec.Cmd
	addr      string
	passwords map[string]string
}

func startMosquitto(t testing.TB, addr string, rooms []*config.Room) *mosquitto {
	t.Helper()
	bin, err := exec.LookPath("mosquitto")
	if err != nil {
		for _, p := range []string{"/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto"} {
			if _, e := os.Stat(p); e == nil {
				bin = p
			}
		}
	}
	if bin == "" {
		t.Fatal("mosquitto is not installed: run ./scripts/test.sh, which installs it (apt-get install mosquitto mosquitto-clients)")
	}
	dir := t.TempDir()
	m := &mosquitto{t: t, addr: addr, passwords: map[string]string{"hub": "hub-pw", "observer": "pw-observer"}}
	var rs [][2]string
	for _, r := range rooms {
		rs = append(rs, [2]string{site, r.Room})
		m.passwords["agent/"+site+"/"+r.Room] = "agent-pw-" + r.Room
	}
	pwFile := filepath.Join(dir, "passwd")
	os.WriteFile(pwFile, nil, 0o600)
	for u, p := range m.passwords {
		if out, err := exec.Command("mosquitto_passwd", "-b", pwFile, u, p).CombinedOutput(); err != nil {
			t.Fatalf("mosquitto_passwd %s: %v: %s", u, err, out)
		}
	}
	aclFile := filepath.Join(dir, "acl")
	os.WriteFile(aclFile, []byte(broker.MosquittoACL("hub", []string{"observer"}, rs)), 0o600)
	host, port, _ := net.SplitHostPort(addr)
	m.conf = filepath.Join(dir, "mosquitto.conf")
	// Run as the test's own user: as root, mosquitto would drop to a user that cannot read
	// the test's private files.
	me, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(m.conf, []byte(fmt.Sprintf(`user %s
listener %s %s
allow_anonymous false
password_file %s
acl_file %s
persistence true
persistence_location %s/
log_dest stderr
set_tcp_nodelay true
`, me.Username, port, host, pwFile, aclFile, dir)), 0o600)
	m.start(bin)
	t.Cleanup(m.stop)
	return m
}

func (m *mosquitto) start(bin string) {
	m.t.Helper()
	if bin == "" {
		bin = m.cmd.Path
	}
	m.cmd = exec.Command(bin, "-c", m.conf)
	var logBuf bytes.Buffer
	m.cmd.Stderr = &logBuf
	if err := m.cmd.Start(); err != nil {
		m.t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, err := net.Dial("tcp", m.addr)
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			m.t.Fatalf("mosquitto did not listen on %s: %s", m.addr, logBuf.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (m *mosquitto) stop() {
	if m.cmd != nil && m.cmd.Process != nil {
		m.cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { m.cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			m.cmd.Process.Kill()
			<-done
		}
	}
}

func (m *mosquitto) restart() {
	m.stop()
	m.start("")
}
