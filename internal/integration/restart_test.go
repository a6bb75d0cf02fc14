package integration

import (
	"testing"
	"time"

	"github.com/bailiff/bailiff/internal/testutil"
)

// A restart of the hub keeps users, API sessions, agent credentials, retained state and the
// agents' broker sessions; agents come back by themselves.
func TestHubRestart(t *testing.T) {
	e := newEnv(t, 1, false)
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
		testutil.Eventually(t, 5*time.Second, "room online and projector reachable after the broker restart", func() bool {
			d := e.device(judge, "r1", "projector")
			return e.roomOnline(judge, "r1") && d != nil && d["reachable"] == true
		})
		testutil.Eventually(t, 5*time.Second, "a command works", func() bool {
			st, _ := e.command(judge, "r1", "projector", "refresh", nil)
			return st == 200
		})
		t.Logf("recovered %s after the broker came back", time.Since(start).Round(time.Millisecond))
	})
}
