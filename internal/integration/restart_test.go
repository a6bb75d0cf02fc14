package integration

import (
	"testing"
	"time"

	"github.com/bailiff/bailiff/internal/hub"
	"github.com/bailiff/bailiff/internal/testutil"
)

// A restart of the hub keeps users, API sessions, agent credentials, retained state and the
// agents' broker sessions; agents come back by themselves.
func TestHubRestart(t *testing.T) { stores(t, testHubRestart) }

func testHubRestart(t *testing.T, onStore func(*hub.Options)) {
	e := newEnvWith(t, 1, false, onStore)
	judge := e.login("judge")
	testutil.Eventually(t, 5*time.Second, "projector reachable", func() bool {
		d := e.device(judge, "r1", "projector")
		return d != nil && d["reachable"] == true
	})
	if st, body := e.command(judge, "r1", "projector", "power", map[string]any{"on": true}); st != 200 {
		t.Fatalf("power on: %d %v", st, body)
	}
	// Stop the agent, so what the hub shows after the restart can only come from what the
	// broker kept: retained state and the agent's status.
	e.stopAgent("r1")
	e.hub.Close()
	e.startHub()

	// The old token still works: users and sessions survived.
	testutil.Eventually(t, 5*time.Second, "retained projector state after restart", func() bool {
		d := e.device(judge, "r1", "projector")
		s, _ := d["state"].(map[string]any)
		return s != nil && (s["power"] == "warming" || s["power"] == "on")
	})
	if e.roomOnline(judge, "r1") {
		t.Error("room shows online with its agent stopped")
	}
	// A command to a room whose agent is offline fails at once, not after the timeout.
	start := time.Now()
	if st, body := e.command(judge, "r1", "projector", "refresh", nil); st != 502 || errCode(body) != "unreachable" || time.Since(start) > time.Second {
		t.Errorf("command to an offline room: %d %v after %s", st, body, time.Since(start))
	}
	if _, err := testutil.Dial(e.hub.BrokerURL(), "observer", "pw-observer", "obs-r"); err != nil {
		t.Errorf("observer after restart: %v", err)
	}
	// The agent's credentials survived too: it logs in again and commands work.
	e.startAgent("r1")
	testutil.Eventually(t, 5*time.Second, "room online again", func() bool { return e.roomOnline(judge, "r1") })
	if st, body := e.command(judge, "r1", "projector", "refresh", nil); st != 200 {
		t.Fatalf("command after restart: %d %v", st, body)
	}
}

// The broker goes away under a running agent and comes back: within 5 s the room's state is
// back and commands work again.
func TestBrokerRestartUnderAgent(t *testing.T) {
	brokers(t, func(t *testing.T, external bool) {
		e := newEnv(t, 1, external)
		judge := e.login("judge")
		testutil.Eventually(t, 5*time.Second, "room online", func() bool { return e.roomOnline(judge, "r1") })
		if external {
			e.mosq.restart()
		} else {
			// The embedded broker lives in the hub: restart the hub on the same ports.
			e.hub.Close()
			e.startHub()
		}
		start := time.Now()
		var online bool
		var proj map[string]any
		for deadline := start.Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			proj, online = e.device(judge, "r1", "projector"), e.roomOnline(judge, "r1")
			if online && proj != nil && proj["reachable"] == true {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("not within 5s: room online and projector reachable after the broker restart; "+
					"the hub last saw the room online=%v and the projector %v", online, proj)
			}
		}
		testutil.Eventually(t, 5*time.Second, "a command works", func() bool {
			st, _ := e.command(judge, "r1", "projector", "refresh", nil)
			return st == 200
		})
		t.Logf("recovered %s after the broker came back", time.Since(start).Round(time.Millisecond))
	})
}

// A hearing in session when the hub stops is still in session after the restart: its notes
// and their chain survive, its recording is sealed, and a new
// recording of the room starts and joins the hearing.
func TestHearingSurvivesRestart(t *testing.T) { stores(t, testHearingSurvivesRestart) }

func testHearingSurvivesRestart(t *testing.T, onStore func(*hub.Options)) {
	e := newEnvWith(t, 1, false, onStore)
	judge := e.login("judge")
	id := e.hearingWithNote(judge, "R-1", "r1", "before the restart")
	e.hub.Close()
	e.startHub()
	st, h := e.call("GET", "/api/v1/hearings/"+id, judge, nil)
	recs, _ := h["recordings"].([]any)
	if st != 200 || h["state"] != "in-session" || len(recs) != 2 {
		t.Fatalf("after the restart: %d %v", st, h)
	}
	// The hub sealed it as it stopped (a crash would leave it to be recovered at the start).
	if _, r := e.call("GET", "/api/v1/recordings/"+recs[0].(string), judge, nil); r["state"] != "stopped" || r["verified"] != true {
		t.Errorf("the recording the restart interrupted: %v", r)
	}
	if _, r := e.call("GET", "/api/v1/recordings/"+recs[1].(string), judge, nil); r["state"] != "recording" {
		t.Errorf("the new recording: %v", r)
	}
	if st, n := e.call("POST", "/api/v1/hearings/"+id+"/notes", judge, map[string]string{"text": "after the restart"}); st != 201 || n["seq"] != float64(2) || n["recording"] != recs[1] {
		t.Fatalf("note after the restart: %d %v", st, n)
	}
	if _, notes := e.call("GET", "/api/v1/hearings/"+id+"/notes", judge, nil); notes["verified"] != true {
		t.Errorf("notes: %v", notes)
	}
	if st, tr := e.call("POST", "/api/v1/hearings/"+id+"/end", judge, nil); st != 200 {
		t.Fatalf("end: %d %v", st, tr)
	}
	tech := e.login("tech")
	if st, v := e.call("GET", "/api/v1/audit/verify", tech, nil); st != 200 || v["ok"] != true {
		t.Errorf("audit after the restart: %d %v", st, v)
	}
}
