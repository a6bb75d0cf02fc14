package hiltests

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bailiff/bailiff/internal/hub/broker"
	"github.com/bailiff/bailiff/internal/testutil"
)

// mosquittoBroker is Debian's mosquitto run by the test as the hub's external broker, with a
// password file and the contract's ACL (`hub mosquitto-acl`).
type mosquittoBroker struct {
	t    *testing.T
	bin  string
	dir  string
	addr string
	mu   sync.Mutex
	p    *exec.Cmd
	done chan struct{}
	log  bytes.Buffer
}

// newMosquitto prepares mosquitto on a free loopback port with the user hub (password
// hub-pw); addAgents adds the agents and starts it.
func newMosquitto(t *testing.T) *mosquittoBroker {
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
	m := &mosquittoBroker{t: t, bin: bin, dir: t.TempDir(), addr: testutil.FreePort(t)}
	t.Cleanup(func() {
		m.kill()
		if t.Failed() {
			t.Logf("mosquitto log:\n%s", m.output())
		}
	})
	return m
}

func (m *mosquittoBroker) output() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.log.String()
}

func (m *mosquittoBroker) Write(b []byte) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.log.Write(b)
}

// addAgents writes the password file (hub and every agent, from the credentials `hub agents
// add` printed) and the ACL, and starts mosquitto: siteOptions.beforeHub.
func (m *mosquittoBroker) addAgents(t *testing.T, creds map[string]string) {
	t.Helper()
	pw := filepath.Join(m.dir, "passwd")
	os.WriteFile(pw, nil, 0o600)
	users := map[string]string{"hub": "hub-pw"}
	var rooms [][2]string
	for _, c := range creds {
		var u, p string
		for _, l := range strings.Split(c, "\n") {
			if v, ok := strings.CutPrefix(l, "username: "); ok {
				u = v
			}
			if v, ok := strings.CutPrefix(l, "password: "); ok {
				p = v
			}
		}
		parts := strings.Split(u, "/")
		if len(parts) != 3 || p == "" {
			t.Fatalf("credentials without an agent user and password:\n%s", c)
		}
		users[u] = p
		rooms = append(rooms, [2]string{parts[1], parts[2]})
	}
	for u, p := range users {
		if out, err := exec.Command("mosquitto_passwd", "-b", pw, u, p).CombinedOutput(); err != nil {
			t.Fatalf("mosquitto_passwd %s: %v: %s", u, err, out)
		}
	}
	acl := filepath.Join(m.dir, "acl")
	os.WriteFile(acl, []byte(broker.MosquittoACL("hub", nil, rooms)), 0o600)
	me, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	host, port, _ := net.SplitHostPort(m.addr)
	// Persistence on, as a court would run it: the agents' and the hub's sessions and the
	// retained state outlive a restart.
	os.WriteFile(filepath.Join(m.dir, "mosquitto.conf"), []byte(fmt.Sprintf(`user %s
listener %s %s
allow_anonymous false
password_file %s
acl_file %s
persistence true
persistence_location %s/
autosave_interval 1
log_dest stderr
`, me.Username, port, host, pw, acl, m.dir)), 0o600)
	m.start()
}

// start starts mosquitto and waits until it listens.
func (m *mosquittoBroker) start() {
	m.t.Helper()
	cmd := exec.Command(m.bin, "-c", filepath.Join(m.dir, "mosquitto.conf"))
	cmd.Stdout, cmd.Stderr = m, m
	if err := cmd.Start(); err != nil {
		m.t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	m.mu.Lock()
	m.p, m.done = cmd, done
	m.mu.Unlock()
	testutil.Eventually(m.t, 5*time.Second, "mosquitto listening on "+m.addr, func() bool {
		c, err := net.Dial("tcp", m.addr)
		if err == nil {
			c.Close()
		}
		return err == nil
	})
}

// kill stops mosquitto with SIGKILL (a crash: nothing saved since its last autosave).
func (m *mosquittoBroker) kill() {
	m.mu.Lock()
	p, done := m.p, m.done
	m.p = nil
	m.mu.Unlock()
	if p != nil {
		p.Process.Kill()
		<-done
	}
}
