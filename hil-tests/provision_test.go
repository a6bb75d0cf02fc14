package hiltests

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bailiff/bailiff/drivers/pjlink/pjlinksim"
	"github.com/bailiff/bailiff/internal/testutil"
)

// putYAML sends a room config to the API.
func (a *api) putYAML(method, path, body string) (int, string) {
	a.t.Helper()
	req, _ := http.NewRequest(method, a.base+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+a.token)
	req.Header.Set("Content-Type", "application/yaml")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// A technician enrolls a room's agent with the real binaries — `agent enroll` with a one-time
// token, then `agent --credentials` — and pushes a config that moves the projector to another
// address: the agent applies it, the command reaches the new simulator, a restarted agent
// runs the pushed config although its local file still has the old address, and an agent
// given no room file at all runs the hub's config.
func TestEnrollAndPushBinaries(t *testing.T) {
	dir := t.TempDir()
	oldSim := pjlinksim.New(pjlinksim.Config{WarmUp: 100 * time.Millisecond})
	oldAddr, err := oldSim.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer oldSim.Close()
	newSim := pjlinksim.New(pjlinksim.Config{WarmUp: 100 * time.Millisecond})
	newAddr, err := newSim.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer newSim.Close()

	httpAddr, mqttAddr := testutil.FreePort(t), testutil.FreePort(t)
	os.MkdirAll(filepath.Join(dir, "rooms"), 0o755)
	hubYAML := filepath.Join(dir, "hub.yaml")
	os.WriteFile(hubYAML, []byte(fmt.Sprintf("http:\n  listen: %s\nmqtt:\n  listen: %s\ndata: data\nrooms: rooms\n", httpAddr, mqttAddr)), 0o644)
	roomText := fmt.Sprintf("site: city-court\nroom: court-9\nkind: tech-courtroom\nname: Court 9\npoll: 1s\ndevices:\n  - id: projector\n    driver: pjlink\n    address: %s\n", oldAddr)
	roomYAML := filepath.Join(dir, "rooms", "court-9.yaml")
	os.WriteFile(roomYAML, []byte(roomText), 0o644)
	if out, code := run(t, "tech-pw\n", "hub", "users", "add", "tech", "technician", "--config", hubYAML); code != 0 {
		t.Fatalf("users add: exit %d\n%s", code, out)
	}
	h := start(t, "hub", "--config", hubYAML)
	h.waitOutput(t, 15*time.Second, "Bailiff hub: http://"+httpAddr)

	a := &api{t: t, base: "http://" + httpAddr}
	a.login("tech", "tech-pw")
	st, body := a.call("POST", "/api/v1/enrollments", map[string]string{"site": "city-court", "room": "court-9"})
	if st != 201 {
		t.Fatalf("enrollment: %d %v", st, body)
	}
	token := body["token"].(string)
	credFile := filepath.Join(dir, "court-9.yaml")
	out, code := run(t, "", "agent", "enroll", "--hub", "http://"+httpAddr, "--token", token, "--out", credFile)
	if code != 0 || !strings.Contains(out, "enrolled as the agent of city-court/court-9") {
		t.Fatalf("agent enroll: exit %d\n%s", code, out)
	}
	if fi, err := os.Stat(credFile); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("credentials file: %v %v", fi, err)
	}
	if out, code := run(t, "", "agent", "enroll", "--hub", "http://"+httpAddr, "--token", token, "--out", filepath.Join(dir, "again.yaml")); code == 0 || !strings.Contains(out, "used") {
		t.Fatalf("second enroll with the same token: exit %d\n%s", code, out)
	}

	ag := start(t, "agent", "--config", roomYAML, "--credentials", credFile)
	online := func() bool {
		st, body := a.call("GET", "/api/v1/rooms/city-court/court-9", nil)
		if st != 200 || body["online"] != true {
			return false
		}
		devs, _ := body["devices"].([]any)
		return len(devs) == 1 && devs[0].(map[string]any)["reachable"] == true
	}
	testutil.Eventually(t, 10*time.Second, "the enrolled room online", online)

	st, body = a.call("GET", "/api/v1/rooms/city-court/court-9/config", nil)
	if st != 200 || body["yaml"] != roomText {
		t.Fatalf("config: %d %v", st, body)
	}
	if st, out := a.putYAML("PUT", "/api/v1/rooms/city-court/court-9/config", strings.Replace(roomText, oldAddr, newAddr, 1)); st != 200 {
		t.Fatalf("push: %d %s", st, out)
	}
	ag.waitOutput(t, 10*time.Second, "room config applied")
	testutil.Eventually(t, 10*time.Second, "the agent reports revision 2", func() bool {
		_, body := a.call("GET", "/api/v1/rooms/city-court/court-9/config", nil)
		ac, _ := body["agent"].(map[string]any)
		return ac != nil && ac["revision"] == 2.0
	})
	if st, body := a.call("POST", "/api/v1/rooms/city-court/court-9/devices/projector/commands",
		map[string]any{"action": "power", "args": map[string]any{"on": true}}); st != 200 {
		t.Fatalf("command: %d %v", st, body)
	}
	if p := newSim.State().Power; p != pjlinksim.PowerWarming && p != pjlinksim.PowerOn {
		t.Fatalf("the new projector's power = %v: the pushed config did not reach it", p)
	}
	if p := oldSim.State().Power; p != pjlinksim.PowerOff {
		t.Fatalf("the old projector's power = %v", p)
	}
	if bytes.Contains([]byte(ag.output()), []byte("password: ")) {
		t.Error("the agent logged its credentials")
	}

	// Restart: the local file still names the old projector; the agent runs the pushed
	// revision it kept beside its credentials.
	ag.interrupt(t, 10*time.Second)
	if _, err := os.Stat(filepath.Join(dir, "court-9.config.json")); err != nil {
		t.Fatalf("kept config: %v", err)
	}
	before := oldSim.Connections()
	ag2 := start(t, "agent", "--config", roomYAML, "--credentials", credFile)
	ag2.waitOutput(t, 10*time.Second, "running the room config the hub pushed last")
	testutil.Eventually(t, 10*time.Second, "the room online again", online)
	if n := oldSim.Connections(); n != before {
		t.Fatalf("the restarted agent connected to the old projector (%d connections, had %d)", n, before)
	}
	ag2.interrupt(t, 10*time.Second)

	// No room file and no kept config: the agent takes its room from its credentials and its
	// devices from the hub's retained config.
	os.Remove(filepath.Join(dir, "court-9.config.json"))
	before = newSim.Connections()
	ag3 := start(t, "agent", "--credentials", credFile)
	testutil.Eventually(t, 10*time.Second, "the room online from the hub's config alone", online)
	if newSim.Connections() == before {
		t.Fatal("the agent without a room file did not reach the projector of the pushed config")
	}
	ag3.interrupt(t, 10*time.Second)
	h.interrupt(t, 10*time.Second)
}
