package integration

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/bailiff/bailiff/drivers/pjlink/pjlinksim"
	"github.com/bailiff/bailiff/internal/testutil"
	"github.com/bailiff/bailiff/internal/wire"
	"github.com/bailiff/bailiff/media/sfu"
)

// sendYAML sends a YAML body and decodes the JSON answer.
func (e *env) sendYAML(method, path, token, body string) (int, map[string]any) {
	e.t.Helper()
	req, _ := http.NewRequest(method, e.url(path), strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/yaml")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	out := map[string]any{}
	if err := json.Unmarshal(raw, &out); err != nil {
		e.t.Fatalf("%s %s: %d, not a JSON object: %q", method, path, resp.StatusCode, raw)
	}
	return resp.StatusCode, out
}

// agentConfig returns what the API says the room's agent reported of its config.
func (e *env) agentConfig(token, room string) (revision, rejected float64, reason string) {
	st, body := e.call("GET", "/api/v1/rooms/"+site+"/"+room+"/config", token, nil)
	if st != 200 {
		e.t.Fatalf("GET config: %d %v", st, body)
	}
	a, _ := body["agent"].(map[string]any)
	if a == nil {
		return -1, 0, ""
	}
	revision, _ = a["revision"].(float64)
	rejected, _ = a["rejected"].(float64)
	reason, _ = a["error"].(string)
	return
}

// restartAgentWithCache stops the room's agent and starts it again keeping pushed configs in
// cache (the agent's local config stays the room's first one).
func (e *env) restartAgentWithCache(room, cache string) {
	e.t.Helper()
	e.stopAgent(room)
	// The hub must have seen the old agent go: else the room still shows online from it, and a
	// command sent at once may meet the broker taking the new agent's session over.
	testutil.Eventually(e.t, 10*time.Second, "the room offline after its agent stopped", func() bool {
		rv, ok := e.hub.Registry().Room(site, room)
		return ok && !rv.Online
	})
	e.startAgentCaching(room, cache)
}

// TestConfigPush: a technician changes one device's address; the hub stores and publishes the
// new revision, the agent applies it by difference (only that device restarts: the other
// simulator sees no new connection), keeps it across a restart, refuses a bad config while
// running the good one, and the API shows what the agent runs and what it refused.
func TestConfigPush(t *testing.T) {
	e := newEnv(t, 1, false)
	tech := e.login("tech")
	judge := e.login("judge")
	events := e.openEvents(tech)
	cache := filepath.Join(e.dir, "r1.credentials.config.json")
	e.restartAgentWithCache("r1", cache)

	// The room's file is revision 1; the agent, started on the same config, takes it
	// without restarting anything.
	testutil.Eventually(t, 10*time.Second, "agent online, running revision 1", func() bool {
		rev, _, _ := e.agentConfig(tech, "r1")
		return rev == 1 && e.roomOnline(tech, "r1")
	})
	proj, oldDisp := e.sims["r1/projector"], e.sims["r1/display"]
	testutil.Eventually(t, 5*time.Second, "both devices polled", func() bool {
		return proj.Connections() > 0 && oldDisp.Connections() > 0
	})
	if st, body := e.command(judge, "r1", "projector", "power", map[string]any{"on": true}); st != 200 {
		t.Fatalf("power on: %d %v", st, body)
	}
	projConns := proj.Connections()

	// Only technicians see and change configs.
	if st, _ := e.call("GET", "/api/v1/rooms/"+site+"/r1/config", judge, nil); st != 403 {
		t.Fatalf("judge GET config: %d, want 403", st)
	}
	st, cur := e.call("GET", "/api/v1/rooms/"+site+"/r1/config", tech, nil)
	if st != 200 || cur["revision"] != 1.0 || cur["source"] != "file" {
		t.Fatalf("GET config: %d %v", st, cur)
	}
	text := cur["yaml"].(string)

	// Invalid YAML: 422 with line and key, nothing stored.
	bad := strings.Replace(text, "kind: tech-courtroom", "kind: tech-courtroom\ncolour: red", 1)
	st, body := e.sendYAML("PUT", "/api/v1/rooms/"+site+"/r1/config", tech, bad)
	if st != 422 || errCode(body) != "invalid_config" {
		t.Fatalf("PUT invalid config: %d %v", st, body)
	}
	probs := body["error"].(map[string]any)["problems"].([]any)
	if p := probs[0].(map[string]any); p["key"] != "colour" || p["line"] == nil {
		t.Fatalf("problem %v: want key colour with its line", p)
	}

	// Move the display to another simulator.
	newDisp := pjlinksim.New(pjlinksim.Config{})
	addr, err := newDisp.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { newDisp.Close() })
	oldAddr := ""
	for _, d := range e.rooms[0].Devices {
		if d.ID == "display" {
			oldAddr = d.Address
		}
	}
	if !strings.Contains(text, oldAddr) {
		t.Fatalf("the display's address %s is not in the config:\n%s", oldAddr, text)
	}
	changed := strings.Replace(text, oldAddr, addr, 1)
	st, body = e.sendYAML("PUT", "/api/v1/rooms/"+site+"/r1/config", tech, changed)
	if st != 200 || body["revision"] != 2.0 || body["author"] != "tech" {
		t.Fatalf("PUT config: %d %v", st, body)
	}
	testutil.Eventually(t, 10*time.Second, "agent runs revision 2", func() bool {
		rev, _, _ := e.agentConfig(tech, "r1")
		return rev == 2
	})
	testutil.Eventually(t, 5*time.Second, "the new display simulator is polled", func() bool { return newDisp.Connections() > 0 })
	testutil.Eventually(t, 5*time.Second, "the old display's connection is closed", func() bool { return oldDisp.OpenConnections() == 0 })
	if st, body := e.command(judge, "r1", "display", "power", map[string]any{"on": true}); st != 200 {
		t.Fatalf("power on the moved display: %d %v", st, body)
	}
	if p := newDisp.State().Power; p != pjlinksim.PowerWarming && p != pjlinksim.PowerOn {
		t.Fatalf("the command did not reach the new display: %+v", newDisp.State())
	}
	if p := oldDisp.State().Power; p != pjlinksim.PowerOff {
		t.Fatalf("the old display got the command: %+v", oldDisp.State())
	}
	if st, _ := e.command(judge, "r1", "projector", "refresh", nil); st != 200 {
		t.Fatalf("projector refresh after the push: %d", st)
	}
	if n := proj.Connections(); n != projConns {
		t.Fatalf("the projector, whose config did not change, reconnected: %d connections, had %d", n, projConns)
	}
	// An unchanged push stores nothing.
	if st, body := e.sendYAML("PUT", "/api/v1/rooms/"+site+"/r1/config", tech, changed); st != 200 || body["unchanged"] != true || body["revision"] != 2.0 {
		t.Fatalf("unchanged PUT: %d %v", st, body)
	}
	if st, body := e.call("GET", "/api/v1/rooms/"+site+"/r1/config/revisions", tech, nil); st != 200 || len(body["list"].([]any)) != 2 {
		t.Fatalf("revisions: %d %v", st, body)
	}
	if st, body := e.call("GET", "/api/v1/rooms/"+site+"/r1/config?revision=1", tech, nil); st != 200 || body["yaml"] != text {
		t.Fatalf("revision 1: %d %v", st, body)
	}

	// A config the agent cannot run (published as a hub with other rules might): refused,
	// reported, and the agent keeps running revision 2.
	msg, err := wire.NewRoomConfig(3, []byte(`{"site":"`+site+`","room":"r1","kind":"tech-courtroom","name":"R","devices":[{"id":"projector","driver":"pjlink"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if err := e.hub.Bus().Publish(wire.RoomTopic(site, "r1", wire.KindConfig), 1, true, wire.Encode(msg)); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, 10*time.Second, "agent reports revision 3 refused", func() bool {
		rev, rej, reason := e.agentConfig(tech, "r1")
		return rev == 2 && rej == 3 && strings.Contains(reason, "devices[0].address")
	})
	events.wait(t, 5*time.Second, "agent event with the refusal", func(typ string, d map[string]any) bool {
		c, _ := d["config"].(map[string]any)
		return typ == "agent" && c != nil && c["rejected"] == 3.0 && c["revision"] == 2.0
	})
	if st, body := e.command(judge, "r1", "display", "refresh", nil); st != 200 {
		t.Fatalf("display after a refused config: %d %v", st, body)
	}

	// Restart: the agent's local file still has the old address; it runs the kept revision 2.
	if fi, err := os.Stat(cache); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("kept config: %v %v", fi, err)
	}
	before := newDisp.Connections()
	e.restartAgentWithCache("r1", cache)
	if got := e.agents["r1"].a.ConfigStatus(); got.Revision != 2 {
		t.Fatalf("restarted agent runs revision %d, want the kept 2", got.Revision)
	}
	testutil.Eventually(t, 5*time.Second, "restarted agent polls the new display", func() bool { return newDisp.Connections() > before })
	// The hub puts the good revision back on the topic at its next push; a new push wins.
	st, body = e.sendYAML("PUT", "/api/v1/rooms/"+site+"/r1/config", tech, strings.Replace(changed, "name: Room 1", "name: Room One", 1))
	if st != 200 || body["revision"] != 3.0 {
		t.Fatalf("PUT after the refused one: %d %v", st, body)
	}
	testutil.Eventually(t, 10*time.Second, "agent runs revision 3 and forgets the refusal", func() bool {
		rev, rej, _ := e.agentConfig(tech, "r1")
		return rev == 3 && rej == 0
	})

	// Remove the display and add a screen (on the first display's simulator): the display
	// leaves the API, the screen comes, the projector is still left alone.
	projConns = proj.Connections()
	var projAddr string
	for _, d := range e.rooms[0].Devices {
		if d.ID == "projector" {
			projAddr = d.Address
		}
	}
	third := "site: " + site + "\nroom: r1\nkind: tech-courtroom\nname: Room 1\npoll: 1s\ncommand_timeout: 1s\ndevices:\n" +
		"  - id: projector\n    driver: pjlink\n    address: " + projAddr + "\n    options:\n      password: secret\n" +
		"  - id: screen\n    driver: pjlink\n    address: " + oldAddr + "\n"
	if st, body := e.sendYAML("PUT", "/api/v1/rooms/"+site+"/r1/config", tech, third); st != 200 || body["revision"] != 4.0 {
		t.Fatalf("PUT revision 4: %d %v", st, body)
	}
	testutil.Eventually(t, 10*time.Second, "screen reachable, display gone", func() bool {
		s := e.device(tech, "r1", "screen")
		return s != nil && s["reachable"] == true && e.device(tech, "r1", "display") == nil
	})
	testutil.Eventually(t, 5*time.Second, "the moved display's connection is closed", func() bool { return newDisp.OpenConnections() == 0 })
	if st, _ := e.command(judge, "r1", "display", "refresh", nil); st != 404 {
		t.Fatalf("command to the removed display: %d, want 404", st)
	}
	if st, _ := e.command(judge, "r1", "projector", "refresh", nil); st != 200 {
		t.Fatalf("projector refresh: %d", st)
	}
	if n := proj.Connections(); n != projConns {
		t.Fatalf("the projector reconnected when other devices changed: %d connections, had %d", n, projConns)
	}
}

// TestCreateRoom: a technician creates a room; it shows in the rooms list at revision 1 and
// its config is on the retained topic.
func TestCreateRoom(t *testing.T) {
	e := newEnv(t, 1, false)
	tech := e.login("tech")
	yml := "site: " + site + "\nroom: new-room\nkind: visitor-reception\nname: Reception\ndevices:\n  - id: screen\n    driver: pjlink\n    address: 127.0.0.1:1\n"
	st, body := e.sendYAML("POST", "/api/v1/rooms", tech, yml)
	if st != 201 || body["revision"] != 1.0 || body["room"] != "new-room" {
		t.Fatalf("POST room: %d %v", st, body)
	}
	if st, body := e.sendYAML("POST", "/api/v1/rooms", tech, yml); st != 409 {
		t.Fatalf("POST the same room again: %d %v", st, body)
	}
	if st, body := e.sendYAML("POST", "/api/v1/rooms", tech, "site: x\n"); st != 422 {
		t.Fatalf("POST invalid room: %d %v", st, body)
	}
	if st, body := e.call("GET", "/api/v1/rooms/"+site+"/new-room", tech, nil); st != 200 || body["configured"] != true {
		t.Fatalf("GET new room: %d %v", st, body)
	}
	obs := testutil.MustDial(t, e.hub.BrokerURL(), "observer", "pw-observer", "obs-create")
	col := testutil.MustSubscribe(t, obs, wire.RoomTopic(site, "new-room", wire.KindConfig), 1)
	m := col.Wait(t, 5*time.Second, "retained config", func(testutil.Msg) bool { return true })
	c, err := wire.DecodeRoomConfig(m.Payload)
	if err != nil || c.Revision != 1 || c.Room != "new-room" {
		t.Fatalf("retained config %s: %+v %v", m.Payload, c, err)
	}
}

// BenchmarkConfigPush measures a config push end to end: PUT …/config (validate, store the
// revision, publish it retained) → the agent checks and applies it by difference (one device
// of two restarted: its address changes between two simulators) → its birth with the new
// revision reaches the hub's registry.
func BenchmarkConfigPush(b *testing.B) {
	e := newEnv(b, 1, false)
	tech := e.login("tech")
	testutil.Eventually(b, 10*time.Second, "room online", func() bool { return e.roomOnline(tech, "r1") })
	_, cur := e.call("GET", "/api/v1/rooms/"+site+"/r1/config", tech, nil)
	text := cur["yaml"].(string)
	alt := pjlinksim.New(pjlinksim.Config{})
	altAddr, err := alt.Listen("127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { alt.Close() })
	var dispAddr string
	for _, d := range e.rooms[0].Devices {
		if d.ID == "display" {
			dispAddr = d.Address
		}
	}
	texts := [2]string{strings.Replace(text, dispAddr, altAddr, 1), text}
	var lat []time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		st, body := e.sendYAML("PUT", "/api/v1/rooms/"+site+"/r1/config", tech, texts[i%2])
		if st != 200 {
			b.Fatalf("PUT: %d %v", st, body)
		}
		want := int64(body["revision"].(float64))
		for {
			rv, _ := e.hub.Registry().Room(site, "r1")
			if rv.Agent != nil && rv.Agent.Config != nil && rv.Agent.Config.Revision == want {
				break
			}
			if time.Since(start) > 10*time.Second {
				b.Fatalf("revision %d not applied", want)
			}
			time.Sleep(100 * time.Microsecond)
		}
		lat = append(lat, time.Since(start))
	}
	b.StopTimer()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
}

// A pushed config's media is applied by difference too: streams it adds start publishing, a
// changed stream is published anew, one it drops stops, and an unchanged one runs on
// untouched (its stream on the hub is the same one).
func TestConfigPushMedia(t *testing.T) {
	e := newEnv(t, 1, false)
	tech := e.login("tech")
	testutil.Eventually(t, 10*time.Second, "agent online, running revision 1", func() bool {
		rev, _, _ := e.agentConfig(tech, "r1")
		return rev == 1 && e.roomOnline(tech, "r1")
	})
	_, cur := e.call("GET", "/api/v1/rooms/"+site+"/r1/config", tech, nil)
	base := cur["yaml"].(string)
	push := func(rev float64, media string) {
		t.Helper()
		if st, body := e.sendYAML("PUT", "/api/v1/rooms/"+site+"/r1/config", tech, base+"media:\n  hub: "+e.url("")+"\n  streams:\n"+media); st != 200 {
			t.Fatalf("push revision %v: %d %v", rev, st, body)
		}
		testutil.Eventually(t, 10*time.Second, fmt.Sprintf("agent runs revision %v", rev), func() bool {
			r, _, _ := e.agentConfig(tech, "r1")
			return r == rev
		})
	}
	streams := func() map[string]sfu.StreamInfo {
		out := map[string]sfu.StreamInfo{}
		for _, s := range e.hub.SFU().Streams() {
			if s.Room == "r1" {
				out[s.Name] = s
			}
		}
		return out
	}
	video := func(s sfu.StreamInfo) string {
		for _, tr := range s.Tracks {
			if tr.Kind == "video" {
				return tr.MimeType
			}
		}
		return ""
	}
	push(2, "    - name: cam-a\n      clip: {}\n    - name: cam-b\n      clip: {}\n")
	testutil.Eventually(t, 15*time.Second, "cam-a and cam-b published", func() bool {
		s := streams()
		return len(s) == 2 && len(s["cam-a"].Tracks) == 2 && len(s["cam-b"].Tracks) == 2
	})
	since := streams()["cam-a"].Since

	push(3, "    - name: cam-a\n      clip: {}\n    - name: cam-b\n      clip: {video: vp8}\n    - name: cam-c\n      clip: {audio: none}\n")
	testutil.Eventually(t, 15*time.Second, "cam-b republished as VP8 and cam-c added", func() bool {
		s := streams()
		return strings.Contains(strings.ToLower(video(s["cam-b"])), "vp8") && len(s["cam-c"].Tracks) == 1
	})
	if s := streams()["cam-a"]; !s.Since.Equal(since) {
		t.Errorf("the unchanged cam-a was published anew: since %v, was %v", s.Since, since)
	}

	push(4, "    - name: cam-b\n      clip: {video: vp8}\n")
	testutil.Eventually(t, 15*time.Second, "cam-a and cam-c stopped, cam-b left", func() bool {
		s := streams()
		_, b := s["cam-b"]
		return len(s) == 1 && b
	})

	// The hub takes a pushed program at once: made, then ended.
	program := "/api/v1/rooms/" + site + "/r1/program"
	if st, body := e.call("GET", program, tech, nil); st != 404 {
		t.Fatalf("program before one is configured: %d %v", st, body)
	}
	push(5, "    - name: cam-b\n      clip: {video: vp8}\n  program:\n    follow: \"off\"\n    camera: cam-b\n")
	if st, body := e.call("GET", program, tech, nil); st != 200 || body["camera"] != "cam-b" || fmt.Sprint(body["cameras"]) != "[cam-b]" {
		t.Fatalf("the pushed program: %d %v", st, body)
	}
	testutil.Eventually(t, 15*time.Second, "the program shows cam-b", func() bool {
		_, body := e.call("GET", program, tech, nil)
		return body["showing"] == "cam-b"
	})
	push(6, "    - name: cam-b\n      clip: {video: vp8}\n")
	if st, body := e.call("GET", program, tech, nil); st != 404 {
		t.Fatalf("the program after a config without one: %d %v", st, body)
	}
}
