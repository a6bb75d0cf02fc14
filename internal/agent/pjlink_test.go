package agent_test

import (
	"strings"
	"testing"
	"time"

	_ "github.com/bailiff/bailiff/drivers/all"
	"github.com/bailiff/bailiff/drivers/pjlink/pjlinksim"
	"github.com/bailiff/bailiff/internal/config"
	"github.com/bailiff/bailiff/internal/wire"
)

// TestPJLinkProjector runs the agent with the real PJLink driver against the simulator.
func TestPJLinkProjector(t *testing.T) {
	t.Parallel()
	const pjPassword = "pj-Secret-123"
	newSim := func(addr string) *pjlinksim.Sim {
		t.Helper()
		sim := pjlinksim.New(pjlinksim.Config{Password: pjPassword, Name: "Bench projector"})
		var err error
		for deadline := time.Now().Add(waitTimeout); ; {
			if _, err = sim.Listen(addr); err == nil || time.Now().After(deadline) {
				break
			}
			time.Sleep(20 * time.Millisecond) // the port of the last simulator may be in use a moment
		}
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { sim.Close() })
		return sim
	}
	sim := newSim("127.0.0.1:0")
	addr := sim.Addr()

	b := startBroker(t, freeAddr(t), nil)
	hub := newHub(t, b.addr)
	room := testRoom(config.Device{ID: "projector", Driver: "pjlink", Address: addr,
		Poll: config.Duration(300 * time.Millisecond), Options: map[string]string{"password": pjPassword}})
	room.Timeout = config.Duration(time.Second)
	ra := startAgent(t, b.addr, room, nil)
	hub.status(0, "birth", online)
	st := hub.state(0, "projector", "first state", func(s wire.DeviceState) bool { return s.Reachable })
	if st.State["power"] != "off" || st.State["name"] != "Bench projector" || st.Driver != "pjlink" {
		t.Errorf("first state %+v", st)
	}

	ok := func(id, action string, args any, check func(map[string]any) bool) {
		t.Helper()
		hub.send("projector", id, action, args)
		ack, _ := hub.ack("projector", id)
		if !ack.OK || !check(ack.State) {
			t.Fatalf("%s %v: ack %+v %+v", action, args, ack, ack.Error)
		}
	}
	fail := func(id, action string, args any, code string) {
		t.Helper()
		hub.send("projector", id, action, args)
		ack, _ := hub.ack("projector", id)
		if ack.OK || ack.Error.Code != code {
			t.Fatalf("%s %v: ack %+v %+v; want %s", action, args, ack, ack.Error, code)
		}
	}

	ok("on", wire.ActPower, map[string]any{"on": true}, func(s map[string]any) bool { return s["power"] == "on" })
	if got := sim.State().Power; got != pjlinksim.PowerOn {
		t.Errorf("simulator power %v after power on", got)
	}
	ok("in", wire.ActInput, map[string]any{"source": "32"}, func(s map[string]any) bool { return s["input"] == "32" })
	ok("blank", wire.ActBlank, map[string]any{"on": true}, func(s map[string]any) bool { return s["video_mute"] == true })
	hub.state(0, "projector", "state with the picture blanked", func(s wire.DeviceState) bool { return s.State["video_mute"] == true })
	if rs := retainedState(t, b.addr, "projector"); rs.State["power"] != "on" || rs.State["input"] != "32" {
		t.Errorf("retained state %+v", rs)
	}

	fail("in-bad", wire.ActInput, map[string]any{"source": "59"}, wire.CodeBadArgs)                // not installed: ERR2
	fail("mute-ch", wire.ActMute, map[string]any{"on": true, "channel": "left"}, wire.CodeBadArgs) // one channel only
	fail("ptz", wire.ActPTZ, map[string]any{"pan": 0.5}, wire.CodeUnsupported)

	sim.SetMode(pjlinksim.Silent)
	start := time.Now()
	fail("silent", wire.ActPower, map[string]any{"on": false}, wire.CodeTimeout)
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("timeout ack after %v; the room's timeout is 1s", d)
	}
	sim.SetMode(pjlinksim.Normal)

	sim.SetFailure(true)
	from := hub.mark()
	fail("refresh-fault", wire.ActRefresh, nil, wire.CodeDeviceError)
	st = hub.state(from, "projector", "fault", func(s wire.DeviceState) bool { return strings.Contains(s.Error, "ERR4") })
	if !st.Reachable {
		t.Errorf("state with the projector failing: %+v; want reachable with the fault", st)
	}
	from = hub.mark()
	sim.SetFailure(false)
	hub.state(from, "projector", "healthy again", func(s wire.DeviceState) bool { return s.Reachable && s.Error == "" })

	from = hub.mark()
	sim.Close()
	st = hub.state(from, "projector", "unreachable", func(s wire.DeviceState) bool { return !s.Reachable })
	if st.Error == "" || st.State["input"] != "32" {
		t.Errorf("unreachable state %+v; want the error and the last known state", st)
	}
	fail("gone", wire.ActPower, map[string]any{"on": true}, wire.CodeUnreachable)

	from = hub.mark()
	newSim(addr)
	st = hub.state(from, "projector", "reachable again", func(s wire.DeviceState) bool { return s.Reachable && s.Error == "" })
	if st.State["power"] != "off" {
		t.Errorf("state of the new projector %+v", st)
	}
	ok("on-again", wire.ActPower, map[string]any{"on": true}, func(s map[string]any) bool { return s["power"] == "on" })

	if strings.Contains(ra.log.String(), pjPassword) {
		t.Error("the projector's password is in the agent's log")
	}
}
