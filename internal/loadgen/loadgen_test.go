package loadgen

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bailiff/bailiff/internal/hub"
	"github.com/bailiff/bailiff/internal/testutil"
)

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// startHub runs a real hub on loopback with the embedded broker and provisions n agents.
func startHub(t *testing.T, n int) (*hub.Hub, *Creds) {
	t.Helper()
	h, err := hub.New(hub.Options{HTTPListen: "127.0.0.1:0", MQTTListen: testutil.FreePort(t),
		DataDir: t.TempDir(), Logger: quiet(), CommandTimeout: 3 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.Close)
	c, err := Provision(context.Background(), h.Store(), h.BrokerURL(), "load", n)
	if err != nil {
		t.Fatal(err)
	}
	return h, c
}

// startMosquittoHub provisions n agents in a data directory, starts Debian's mosquitto with
// the files WriteMosquitto makes, and a hub that uses it as its external broker.
func startMosquittoHub(t *testing.T, n int) (*hub.Hub, *Creds) {
	t.Helper()
	bin, err := exec.LookPath("mosquitto")
	if err != nil {
		bin = "/usr/sbin/mosquitto"
	}
	if _, err := os.Stat(bin); err != nil {
		t.Fatal("mosquitto is not installed (apt-get install mosquitto mosquitto-clients)")
	}
	dataDir, mqDir := t.TempDir(), t.TempDir()
	addr := testutil.FreePort(t)
	c, err := ProvisionDataDir(context.Background(), dataDir, "tcp://"+addr, "load", n)
	if err != nil {
		t.Fatal(err)
	}
	if err := WriteMosquitto(mqDir, addr, c, "hub", "hub-pw"); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-c", filepath.Join(mqDir, "mosquitto.conf"))
	var logBuf bytes.Buffer
	cmd.Stderr = &logBuf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		cmd.Wait()
	})
	testutil.Eventually(t, 5*time.Second, "mosquitto listening", func() bool {
		conn, err := net.Dial("tcp", addr)
		if err == nil {
			conn.Close()
		}
		return err == nil
	})
	h, err := hub.New(hub.Options{HTTPListen: "127.0.0.1:0", DataDir: dataDir, Logger: quiet(), CommandTimeout: 3 * time.Second,
		External: &hub.ExternalBroker{URL: "tcp://" + addr, Username: "hub", Password: "hub-pw"}})
	if err != nil {
		t.Fatalf("%v\nmosquitto: %s", err, logBuf.String())
	}
	t.Cleanup(h.Close)
	return h, c
}

// TestSmoke plays a small court (50 agents × 8 devices, 10 metering rooms, 50 commands/s for
// 5s) against a real hub, with each broker, and checks the report: every agent online, every
// command acked ok, the hub took in the state changes, no error of any kind, and the agents
// left cleanly (the hub saw them go offline).
func TestSmoke(t *testing.T) {
	for _, brk := range []string{"embedded", "mosquitto"} {
		t.Run(brk, func(t *testing.T) {
			const agents = 50
			var (
				h *hub.Hub
				c *Creds
			)
			if brk == "embedded" {
				h, c = startHub(t, agents)
			} else {
				h, c = startMosquittoHub(t, agents)
			}
			g, err := New(Config{Creds: c, HubURL: "http://" + h.HTTPAddr(), MeterRooms: 10, CommandRate: 50,
				StateRate: 40, APIClients: 4, Duration: 5 * time.Second, ConnectTimeout: 30 * time.Second, HubPID: os.Getpid()})
			if err != nil {
				t.Fatal(err)
			}
			r, err := g.Run(context.Background())
			if err != nil {
				t.Fatalf("%v\n%s", err, r)
			}
			t.Logf("\n%s", r)
			if r.AgentsOnline != agents || r.ConnectStorm <= 0 || r.ConnectStorm > 30*time.Second {
				t.Errorf("agents online %d in %v, want %d", r.AgentsOnline, r.ConnectStorm, agents)
			}
			cs := r.Commands
			// 5s at 50/s: 250 due; the pacer may start a tick late or stop a tick early.
			if cs.Sent < 200 || cs.Sent > 260 || cs.OK != cs.Sent || cs.Failed != 0 {
				t.Errorf("commands: %+v, want about 250 sent and all ok", cs)
			}
			if cs.P50 <= 0 || cs.P50 > cs.P99 || cs.P99 > cs.Max || cs.Max > 3*time.Second {
				t.Errorf("latencies not sane: %+v", cs)
			}
			// 40 changes/s plus the commands' own (about half change the power).
			if r.StatesSent < 40 || r.StatesSeen < 0.8*r.StatesSent || r.StatesSeen > 1.2*r.StatesSent {
				t.Errorf("state updates: %.1f/s sent, %.1f/s seen by the hub", r.StatesSent, r.StatesSeen)
			}
			// Meters: 10 rooms at 5 Hz on top of states and acks.
			if r.MessagesSeen < r.StatesSeen+40 {
				t.Errorf("hub took in %.1f messages/s, want at least states + meters + acks", r.MessagesSeen)
			}
			if r.ErrorCount() != 0 {
				t.Errorf("errors: %v", r.Errors)
			}
			if r.HubPeakRSS <= 0 || r.SteadyCPU <= 0 {
				t.Errorf("hub process figures missing: rss %d cpu %.1f", r.HubPeakRSS, r.SteadyCPU)
			}
			testutil.Eventually(t, 5*time.Second, "agents offline after the run", func() bool {
				n, _ := h.Registry().Counts()
				return n == 0
			})
			if !strings.Contains(r.String(), "errors          none") {
				t.Errorf("report: %s", r)
			}
		})
	}
}

func TestParseMetrics(t *testing.T) {
	in := `# HELP x y
# TYPE bailiff_agents_online gauge
bailiff_agents_online 3
bailiff_command_duration_seconds_count{action="power",outcome="ok"} 2
bailiff_command_duration_seconds_count{action="input",outcome="ok"} 5
weird{a="}"} 1.5e3
`
	m, err := ParseMetrics(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if m["bailiff_agents_online"] != 3 || m["bailiff_command_duration_seconds_count"] != 7 || m["weird"] != 1500 {
		t.Errorf("parsed %v", m)
	}
	for _, bad := range []string{"x{a=\"b\" 1\n", "x\n", "x abc\n"} {
		if _, err := ParseMetrics(strings.NewReader(bad)); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func TestProcSelf(t *testing.T) {
	cpu, err := ProcCPU(os.Getpid())
	if err != nil || cpu < 0 {
		t.Fatalf("cpu %v, %v", cpu, err)
	}
	rss, hwm, err := ProcMemory(os.Getpid())
	if err != nil || rss < 1<<20 || hwm < rss {
		t.Fatalf("rss %d hwm %d, %v", rss, hwm, err)
	}
	if _, err := ProcCPU(0); err == nil {
		t.Error("no error for pid 0")
	}
}

func TestCredsRoundTrip(t *testing.T) {
	_, c := startHub(t, 3)
	f := filepath.Join(t.TempDir(), "creds.json")
	if err := WriteCreds(f, c); err != nil {
		t.Fatal(err)
	}
	got, err := ReadCreds(f)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Agents) != 3 || got.Agents[2].Room != "r0003" || got.APIPassword != c.APIPassword {
		t.Errorf("read back %+v", got)
	}
	os.WriteFile(f, []byte(`{"site":"Bad Site","api_user":"u","api_password":"p","agents":[{"room":"r1"}]}`), 0o600)
	if _, err := ReadCreds(f); err == nil || !strings.Contains(err.Error(), "site") {
		t.Errorf("bad site: %v", err)
	}
	if _, err := New(Config{Creds: c, HubURL: "http://x", Agents: 4}); err == nil {
		t.Error("more agents than credentials: no error")
	}
}

// The real agent binary with the eight devices of the command centre: it gets every device
// reachable, and the figures are those of a live process.
func TestAgentFootprint(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "agent")
	if out, err := exec.Command("go", "build", "-o", bin, "../../cmd/agent").CombinedOutput(); err != nil {
		t.Fatalf("build the agent: %v\n%s", err, out)
	}
	f, err := AgentFootprint(context.Background(), FootprintConfig{AgentBin: bin, Settle: 100 * time.Millisecond, Duration: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Log(f)
	if f.Devices != 8 || f.RSS < 1<<20 || f.PeakRSS < f.RSS || f.CPU < 0 || f.CPU > 200 || f.Duration < 2*time.Second {
		t.Errorf("figures not sane: %+v", f)
	}
	if _, err := AgentFootprint(context.Background(), FootprintConfig{AgentBin: bin, Room: "no-such-room"}); err == nil {
		t.Error("unknown room: no error")
	}
}

// Interrupted in the steady phase (Ctrl-C), a run still reports what it did, says it was
// interrupted, and its agents leave cleanly.
func TestInterrupted(t *testing.T) {
	h, c := startHub(t, 10)
	g, err := New(Config{Creds: c, HubURL: "http://" + h.HTTPAddr(), MeterRooms: 2, CommandRate: 20, APIClients: 2,
		Duration: time.Minute, ConnectTimeout: 20 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		testutil.Eventually(t, 20*time.Second, "agents online", func() bool { n, _ := h.Registry().Counts(); return n == 10 })
		time.Sleep(2 * time.Second)
		cancel()
	}()
	start := time.Now()
	r, err := g.Run(ctx)
	if err != context.Canceled {
		t.Fatalf("err %v, want context.Canceled", err)
	}
	if time.Since(start) > 30*time.Second || r.Commands.Sent < 10 || r.Commands.OK != r.Commands.Sent || r.Steady <= 0 {
		t.Errorf("report after interruption: %+v", r.Commands)
	}
	testutil.Eventually(t, 5*time.Second, "agents offline", func() bool { n, _ := h.Registry().Counts(); return n == 0 })
}
