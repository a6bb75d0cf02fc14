package integration

import (
	"strings"
	"testing"
	"time"

	"github.com/bailiff/bailiff/drivers/pjlink/pjlinksim"
	"github.com/bailiff/bailiff/internal/testutil"
	"github.com/bailiff/bailiff/internal/wire"
)

// brokers runs a test against the embedded broker and against mosquitto.
func brokers(t *testing.T, f func(t *testing.T, external bool)) {
	t.Run("embedded", func(t *testing.T) { f(t, false) })
	t.Run("mosquitto", func(t *testing.T) { f(t, true) })
}

func TestCommandEndToEnd(t *testing.T) {
	brokers(t, func(t *testing.T, external bool) {
		e := newEnv(t, 2, external)
		judge := e.login("judge")
		testutil.Eventually(t, 5*time.Second, "room r1 online", func() bool { return e.roomOnline(judge, "r1") })
		testutil.Eventually(t, 5*time.Second, "projector reachable", func() bool {
			d := e.device(judge, "r1", "projector")
			return d != nil && d["reachable"] == true
		})
		events := e.openEvents(judge)

		st, body := e.command(judge, "r1", "projector", "power", map[string]any{"on": true})
		if st != 200 || body["ok"] != true {
			t.Fatalf("power on: %d %v", st, body)
		}
		state, _ := body["state"].(map[string]any)
		if p := state["power"]; p != "warming" && p != "on" {
			t.Fatalf("ack state power = %v, want warming or on", p)
		}
		// The simulator really got it (through MD5 authentication).
		if p := e.sims["r1/projector"].State().Power; p != pjlinksim.PowerWarming && p != pjlinksim.PowerOn {
			t.Fatalf("simulator power = %v", p)
		}
		// The SSE event that follows.
		events.wait(t, 5*time.Second, "projector state", func(typ string, d map[string]any) bool {
			s, _ := d["state"].(map[string]any)
			return typ == "state" && d["room"] == "r1" && d["device"] == "projector" && s != nil && (s["power"] == "warming" || s["power"] == "on")
		})
		// Once warm, input and blank work; the other room was untouched.
		testutil.Eventually(t, 5*time.Second, "projector on", func() bool { return e.sims["r1/projector"].State().Power == pjlinksim.PowerOn })
		if st, body := e.command(judge, "r1", "projector", "blank", map[string]any{"on": true}); st != 200 {
			t.Fatalf("blank: %d %v", st, body)
		}
		if !e.sims["r1/projector"].State().VideoMute {
			t.Error("simulator not blanked")
		}
		if e.sims["r2/projector"].State().Power != pjlinksim.PowerOff {
			t.Error("room r2's projector changed")
		}
		// A monitor may look but not command.
		mon := e.login("monitor")
		if st, body := e.command(mon, "r1", "projector", "power", map[string]any{"on": false}); st != 403 || errCode(body) != "forbidden" {
			t.Errorf("monitor command: %d %v", st, body)
		}
		if st, _ := e.call("GET", "/api/v1/rooms", mon, nil); st != 200 {
			t.Errorf("monitor rooms: %d", st)
		}
	})
}

func TestDeviceErrorsEndToEnd(t *testing.T) {
	e := newEnv(t, 1, false)
	judge := e.login("judge")
	testutil.Eventually(t, 5*time.Second, "display reachable", func() bool {
		d := e.device(judge, "r1", "display")
		return d != nil && d["reachable"] == true
	})
	// Busy while warming up (ERR3).
	sim := e.sims["r1/display"]
	if st, body := e.command(judge, "r1", "display", "power", map[string]any{"on": true}); st != 200 {
		t.Fatalf("power on: %d %v", st, body)
	}
	// Unsupported input on this projector (ERR2) → bad_args.
	testutil.Eventually(t, 5*time.Second, "display on", func() bool { return sim.State().Power == pjlinksim.PowerOn })
	if st, body := e.command(judge, "r1", "display", "input", map[string]any{"source": "59"}); st != 400 || errCode(body) != wire.CodeBadArgs {
		t.Errorf("bad input: %d %v", st, body)
	}
	// A silent device: the agent's deadline (1 s) ends it in timeout; the hub's is 3 s.
	sim.SetMode(pjlinksim.Silent)
	if st, body := e.command(judge, "r1", "display", "blank", map[string]any{"on": true}); st != 504 || errCode(body) != wire.CodeTimeout {
		t.Errorf("silent device: %d %v", st, body)
	}
	// Meanwhile the projector in the same room still answers.
	if st, body := e.command(judge, "r1", "projector", "refresh", nil); st != 200 {
		t.Errorf("other device while one is silent: %d %v", st, body)
	}
	// A device whose simulator is gone is unreachable, shown so, and commands say so.
	sim.Close()
	testutil.Eventually(t, 8*time.Second, "display unreachable", func() bool {
		d := e.device(judge, "r1", "display")
		return d != nil && d["reachable"] == false
	})
	if st, body := e.command(judge, "r1", "display", "power", map[string]any{"on": false}); st != 502 || errCode(body) != wire.CodeUnreachable {
		t.Errorf("unreachable device: %d %v", st, body)
	}
}

func TestBadInput(t *testing.T) {
	e := newEnv(t, 1, false)
	judge := e.login("judge")
	testutil.Eventually(t, 5*time.Second, "room online", func() bool { return e.roomOnline(judge, "r1") })

	// API side: each refused with a clear error before anything reaches an agent.
	for _, c := range []struct {
		path, body string
		status     int
		code, msg  string
	}{
		{"/api/v1/rooms/court/r1/devices/projector/commands", `{"action":"explode"}`, 422, "unsupported", `unknown action "explode"`},
		{"/api/v1/rooms/court/r1/devices/projector/commands", `{"action":"power","args":{"on":"yes"}}`, 400, "bad_args", "power"},
		{"/api/v1/rooms/court/r1/devices/projector/commands", `{"action":"power"`, 400, "bad_request", "bad JSON body"},
		{"/api/v1/rooms/court/r1/devices/projector/commands", `{"action":"power","colour":1}`, 400, "bad_request", `unknown field "colour"`},
		{"/api/v1/rooms/court/r1/devices/coffee/commands", `{"action":"power","args":{"on":true}}`, 404, "not_found", `no device "coffee"`},
		{"/api/v1/rooms/court/r9/devices/projector/commands", `{"action":"power","args":{"on":true}}`, 404, "not_found", "no room court/r9"},
		{"/api/v1/rooms/court/R1/devices/projector/commands", `{"action":"power","args":{"on":true}}`, 400, "bad_request", "invalid room ID"},
	} {
		st, body := e.call("POST", c.path, judge, c.body)
		msg, _ := body["error"].(map[string]any)["message"].(string)
		if st != c.status || errCode(body) != c.code || !strings.Contains(msg, c.msg) {
			t.Errorf("POST %s %s = %d %v; want %d %s %q", c.path, c.body, st, body, c.status, c.code, c.msg)
		}
	}

	// MQTT side: garbage straight onto the agent's command topics.
	obs := testutil.MustDial(t, e.hub.BrokerURL(), "observer", "pw-observer", "obs-1")
	acks := testutil.MustSubscribe(t, obs, "bailiff/v1/court/r1/d/+/ack", 1)
	evs := testutil.MustSubscribe(t, obs, "bailiff/v1/court/r1/d/+/event", 1)
	bus := e.hub.Bus()
	bus.Publish("bailiff/v1/court/r1/d/projector/cmd", 1, false, []byte(`{not json`))
	bus.Publish("bailiff/v1/court/r1/d/projector/cmd", 1, false, []byte(`{"id":"x1","action":"explode"}`))
	bus.Publish("bailiff/v1/court/r1/d/coffee/cmd", 1, false, []byte(`{"id":"x2","action":"power","args":{"on":true}}`))
	bus.Publish("bailiff/v1/court/r1/d/projector/cmd", 1, false, []byte(`{"id":"x3","action":"power","args":{"on":1}}`))
	bus.Publish("bailiff/v1/court/r1/d/projector/cmd", 1, false, []byte(`{"id":"x4","action":"power","args":{"on":true},"expires":"2020-01-01T00:00:00Z"}`))
	evs.Wait(t, 5*time.Second, "bad_command event", func(m testutil.Msg) bool { return strings.Contains(string(m.Payload), `"bad_command"`) })
	for id, code := range map[string]string{"x1": "unsupported", "x2": "unsupported", "x3": "bad_args", "x4": "expired"} {
		m := acks.Wait(t, 5*time.Second, "ack "+id, func(m testutil.Msg) bool { return strings.Contains(string(m.Payload), `"id":"`+id+`"`) })
		a, err := wire.DecodeAck(m.Payload)
		if err != nil || a.OK || a.Error.Code != code {
			t.Errorf("ack %s = %s, want code %s", id, m.Payload, code)
		}
	}
	if e.sims["r1/projector"].State().Power != pjlinksim.PowerOff {
		t.Error("an expired or bad command reached the projector")
	}
	// Garbage on agent topics does not disturb the hub's picture.
	bus.Publish("bailiff/v1/court/r1/d/projector/state", 1, false, []byte(`garbage`))
	// And the agent keeps working.
	if st, body := e.command(judge, "r1", "projector", "refresh", nil); st != 200 {
		t.Fatalf("after bad input: %d %v", st, body)
	}
	if d := e.device(judge, "r1", "projector"); d == nil || d["reachable"] != true {
		t.Errorf("projector after garbage state: %v", d)
	}
}

func TestACL(t *testing.T) {
	brokers(t, func(t *testing.T, external bool) {
		e := newEnv(t, 2, external)
		url := "tcp://" + e.mqttAddr
		judge := e.login("judge")
		testutil.Eventually(t, 5*time.Second, "rooms online", func() bool { return e.roomOnline(judge, "r1") && e.roomOnline(judge, "r2") })
		// Take r1's credentials to play a compromised agent of room r1 (its real agent stops).
		e.stopAgent("r1")
		c := e.creds["r1"]
		a, err := testutil.Dial(url, c.Username, c.Password, c.Username)
		if err != nil {
			t.Fatalf("agent r1 login: %v", err)
		}
		defer a.Disconnect(0)
		if _, err := testutil.Subscribe(a, "bailiff/v1/court/r2/d/+/cmd", 1); err == nil && !external {
			t.Error("agent r1 may read room r2's commands")
		}
		obs := testutil.MustDial(t, url, "observer", "pw-observer", "obs-acl")
		seen := testutil.MustSubscribe(t, obs, "bailiff/v1/court/+/d/+/state", 1)
		testutil.Publish(t, a, "bailiff/v1/court/r2/d/projector/state", 0, true, `{"reachable":true,"state":{"forged":true},"at":"2026-01-01T00:00:00Z"}`)
		testutil.Publish(t, a, "bailiff/v1/court/r1/d/projector/state", 0, true, `{"reachable":true,"state":{"own":true},"at":"2026-01-01T00:00:00Z"}`)
		seen.Wait(t, 5*time.Second, "own state", func(m testutil.Msg) bool { return strings.Contains(string(m.Payload), `"own":true`) })
		for _, m := range seen.Messages() {
			if strings.Contains(string(m.Payload), "forged") {
				t.Fatalf("agent r1 published room r2's state: %s", m.Topic)
			}
		}
		// A command for room r2 never reaches r1's login, even through a wide filter.
		wide, err := testutil.Subscribe(a, "bailiff/v1/court/+/d/+/cmd", 1)
		if st, _ := e.command(judge, "r2", "display", "refresh", nil); st != 200 {
			t.Fatalf("r2 refresh: %d", st)
		}
		if err == nil {
			for _, m := range wide.Messages() {
				if strings.Contains(m.Topic, "/r2/") {
					t.Fatalf("agent r1 read room r2's command on %s", m.Topic)
				}
			}
		}
		// The observer cannot publish commands: its forged command is not delivered.
		r2 := testutil.MustDial(t, url, "observer", "pw-observer", "obs-acl-2")
		cmds := testutil.MustSubscribe(t, r2, "bailiff/v1/court/r2/d/+/cmd", 1)
		testutil.Publish(t, obs, "bailiff/v1/court/r2/d/display/cmd", 0, false, `{"id":"forged","action":"power","args":{"on":true}}`)
		if st, _ := e.command(judge, "r2", "display", "refresh", nil); st != 200 {
			t.Fatalf("r2 refresh: %d", st)
		}
		cmds.Wait(t, 5*time.Second, "the hub's command", func(m testutil.Msg) bool { return strings.Contains(string(m.Payload), `"refresh"`) })
		for _, m := range cmds.Messages() {
			if strings.Contains(string(m.Payload), "forged") {
				t.Fatal("the observer's command was delivered")
			}
		}
		// Wrong passwords are refused.
		if c, err := testutil.Dial(url, c.Username, "wrong", c.Username); err == nil {
			c.Disconnect(0)
			t.Error("agent login with a wrong password accepted")
		}
		if c, err := testutil.Dial(url, "observer", "wrong", "obs-x"); err == nil {
			c.Disconnect(0)
			t.Error("observer login with a wrong password accepted")
		}
		if st, body := e.call("POST", "/api/v1/login", "", map[string]string{"user": "judge", "password": "wrong"}); st != 401 || errCode(body) != "unauthorized" {
			t.Errorf("API login with a wrong password: %d %v", st, body)
		}
		if st, _ := e.call("GET", "/api/v1/rooms", "not-a-token", nil); st != 401 {
			t.Errorf("API with a bad token: %d", st)
		}
	})
}
