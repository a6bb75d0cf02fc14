package agent_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bailiff/bailiff/drivers"
	"github.com/bailiff/bailiff/internal/agent"
	"github.com/bailiff/bailiff/internal/config"
	"github.com/bailiff/bailiff/internal/wire"
)

func TestBirthAndStatesRetained(t *testing.T) {
	t.Parallel()
	gate := newGate()
	b := startBroker(t, freeAddr(t), gate)
	hub := newHub(t, b.addr)
	proj := &fakeDevice{input: "hdmi1"}
	before := uint64(time.Now().UnixMilli())
	ra := startAgent(t, b.addr, testRoom(addFake(t, "proj", proj)), nil)

	birth, _ := hub.status(0, "birth", online)
	if birth.Agent != ra.id || birth.Version != "test-1.0" || birth.Seq < before || birth.Seq > uint64(time.Now().UnixMilli()) {
		t.Errorf("birth = %+v; want agent %s, version test-1.0, seq the connect time in ms (≥ %d)", birth, ra.id, before)
	}
	if got := retainedStatus(t, b.addr); !got.Online || got.Seq != birth.Seq {
		t.Errorf("retained status = %+v, want the birth %+v", got, birth)
	}
	user, pass := gate.login(ra.id)
	if user != wire.AgentUser(site, roomID) || pass != password {
		t.Errorf("login user %q password %q; want %q and the password", user, pass, wire.AgentUser(site, roomID))
	}

	st := retainedState(t, b.addr, "proj")
	want := []string{wire.ActInput, wire.ActPower, wire.ActRefresh}
	if !st.Reachable || st.Error != "" || st.Driver != fakeDriver || !slices.Equal(st.Actions, want) ||
		st.State["power"] != false || st.State["input"] != "hdmi1" {
		t.Errorf("retained state = %+v; want reachable, driver %s, actions %v, power false, input hdmi1", st, fakeDriver, want)
	}
	if !ra.a.Connected() {
		t.Error("Connected() = false while connected")
	}
}

func TestCommandOK(t *testing.T) {
	t.Parallel()
	b := startBroker(t, freeAddr(t), nil)
	hub := newHub(t, b.addr)
	proj := &fakeDevice{input: "hdmi1"}
	startAgent(t, b.addr, testRoom(addFake(t, "proj", proj)), nil)
	hub.status(0, "birth", online)
	hub.state(0, "proj", "first state", func(s wire.DeviceState) bool { return s.Reachable })

	from := hub.mark()
	hub.send("proj", "c1", wire.ActPower, map[string]any{"on": true})
	ack, _ := hub.ack("proj", "c1")
	if !ack.OK || ack.Error != nil || ack.State["power"] != true {
		t.Fatalf("ack = %+v; want ok with power true", ack)
	}
	hub.state(from, "proj", "state with power on", func(s wire.DeviceState) bool { return s.State["power"] == true })
	if st := retainedState(t, b.addr, "proj"); st.State["power"] != true {
		t.Errorf("retained state %+v; want power true", st)
	}

	polls := proj.polls.Load()
	hub.send("proj", "c2", wire.ActRefresh, nil)
	if ack, _ := hub.ack("proj", "c2"); !ack.OK || ack.State["input"] != "hdmi1" {
		t.Errorf("refresh ack = %+v; want ok with the state", ack)
	}
	if proj.polls.Load() <= polls {
		t.Error("refresh did not poll the device")
	}
	if n := hub.ackCount("proj", "c1"); n != 1 {
		t.Errorf("%d acks of c1, want 1", n)
	}
}

func TestCommandErrors(t *testing.T) {
	t.Parallel()
	b := startBroker(t, freeAddr(t), nil)
	hub := newHub(t, b.addr)
	proj := &fakeDevice{}
	faulty := &fakeDevice{actErr: fmt.Errorf("fake: lamp failure: %w", drivers.ErrDevice)}
	gone := &fakeDevice{unreachable: true}
	slow := &fakeDevice{actDelay: time.Minute}
	deaf := &fakeDevice{actDelay: 3 * time.Second, deaf: true}
	room := testRoom(addFake(t, "proj", proj), addFake(t, "faulty", faulty), addFake(t, "gone", gone),
		addFake(t, "slow", slow), addFake(t, "deaf", deaf))
	room.Timeout = config.Duration(300 * time.Millisecond)
	startAgent(t, b.addr, room, nil)
	hub.status(0, "birth", online)

	for _, tc := range []struct {
		name, dev, action string
		args              any
		expires           time.Time
		code, msg         string
		within            time.Duration // the ack comes this soon (0: no bound)
	}{
		{name: "bad args", dev: "proj", action: wire.ActPower, args: map[string]any{"on": "yes"}, code: wire.CodeBadArgs},
		{name: "missing args", dev: "proj", action: wire.ActPower, args: map[string]any{}, code: wire.CodeBadArgs, msg: `"on"`},
		{name: "unknown action", dev: "proj", action: "dance", code: wire.CodeUnsupported, msg: "dance"},
		{name: "capability", dev: "proj", action: wire.ActMute, args: map[string]any{"on": true}, code: wire.CodeUnsupported, msg: "mute"},
		{name: "unknown device", dev: "ghost", action: wire.ActPower, args: map[string]any{"on": true},
			code: wire.CodeUnsupported, msg: "no device ghost in room test-site/room-1"},
		{name: "expired", dev: "proj", action: wire.ActPower, args: map[string]any{"on": true},
			expires: time.Now().Add(-time.Second), code: wire.CodeExpired},
		{name: "device error", dev: "faulty", action: wire.ActPower, args: map[string]any{"on": true}, code: wire.CodeDeviceError, msg: "lamp failure"},
		{name: "unreachable", dev: "gone", action: wire.ActPower, args: map[string]any{"on": true}, code: wire.CodeUnreachable},
		{name: "timeout", dev: "slow", action: wire.ActPower, args: map[string]any{"on": true}, code: wire.CodeTimeout, within: 2 * time.Second},
		{name: "timeout, driver ignores ctx", dev: "deaf", action: wire.ActPower, args: map[string]any{"on": true},
			code: wire.CodeTimeout, within: 2 * time.Second},
		{name: "refresh of unreachable", dev: "gone", action: wire.ActRefresh, code: wire.CodeUnreachable},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id := "cmd-" + strings.ReplaceAll(tc.name, " ", "-")
			start := time.Now()
			if tc.expires.IsZero() {
				hub.send(tc.dev, id, tc.action, tc.args)
			} else {
				hub.send(tc.dev, id, tc.action, tc.args, tc.expires)
			}
			ack, _ := hub.ack(tc.dev, id)
			if ack.OK || ack.Error == nil || ack.Error.Code != tc.code || !strings.Contains(ack.Error.Message, tc.msg) {
				t.Fatalf("ack = %+v %+v; want code %s with %q", ack, ack.Error, tc.code, tc.msg)
			}
			if tc.within > 0 && time.Since(start) > tc.within {
				t.Errorf("ack took %v, want within %v", time.Since(start), tc.within)
			}
		})
	}
	if calls := proj.callLog(); len(calls) != 0 {
		t.Errorf("proj ran %v; want nothing (every command was refused)", calls)
	}
	// The agent is still fine.
	hub.send("proj", "after", wire.ActPower, map[string]any{"on": true})
	if ack, _ := hub.ack("proj", "after"); !ack.OK {
		t.Errorf("ack after errors = %+v", ack)
	}
}

func TestBusyWhenQueueFull(t *testing.T) {
	t.Parallel()
	b := startBroker(t, freeAddr(t), nil)
	hub := newHub(t, b.addr)
	gate := make(chan struct{})
	started := make(chan string, 10)
	proj := &fakeDevice{gate: gate, started: started}
	room := testRoom(addFake(t, "proj", proj))
	room.Timeout = config.Duration(waitTimeout)
	startAgent(t, b.addr, room, func(o *agent.Options) { o.QueueLen = 2 })
	hub.status(0, "birth", online)

	hub.send("proj", "c1", wire.ActInput, map[string]any{"source": "a"})
	select {
	case <-started:
	case <-time.After(waitTimeout):
		t.Fatal("c1 did not start")
	}
	hub.send("proj", "c2", wire.ActInput, map[string]any{"source": "b"})
	hub.send("proj", "c3", wire.ActInput, map[string]any{"source": "c"})
	hub.send("proj", "c4", wire.ActInput, map[string]any{"source": "d"})
	ack, _ := hub.ack("proj", "c4")
	if ack.OK || ack.Error.Code != wire.CodeBusy {
		t.Fatalf("c4 ack = %+v; want busy", ack)
	}
	close(gate)
	var last int
	for _, id := range []string{"c1", "c2", "c3"} {
		ack, pos := hub.ack("proj", id)
		if !ack.OK {
			t.Errorf("%s ack = %+v; want ok", id, ack)
		}
		if pos < last {
			t.Errorf("%s acked out of order", id)
		}
		last = pos
	}
	if got, want := proj.callLog(), []string{"input a", "input b", "input c"}; !slices.Equal(got, want) {
		t.Errorf("device ran %v, want %v", got, want)
	}
}

func TestSlowDeviceDoesNotDelayOthers(t *testing.T) {
	t.Parallel()
	b := startBroker(t, freeAddr(t), nil)
	hub := newHub(t, b.addr)
	slow := &fakeDevice{actDelay: 2 * time.Second}
	fast := &fakeDevice{}
	room := testRoom(addFake(t, "slow", slow), addFake(t, "fast", fast))
	room.Timeout = config.Duration(waitTimeout)
	startAgent(t, b.addr, room, nil)
	hub.status(0, "birth", online)

	hub.send("slow", "s1", wire.ActPower, map[string]any{"on": true})
	start := time.Now()
	hub.send("fast", "f1", wire.ActPower, map[string]any{"on": true})
	hub.send("fast", "f2", wire.ActInput, map[string]any{"source": "hdmi2"})
	if ack, _ := hub.ack("fast", "f2"); !ack.OK {
		t.Fatalf("fast ack = %+v", ack)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("fast device acked after %v; the slow one held it up", d)
	}
	if hub.ackCount("slow", "s1") != 0 {
		t.Error("slow device acked before the fast one")
	}
	if ack, _ := hub.ack("slow", "s1"); !ack.OK {
		t.Errorf("slow ack = %+v", ack)
	}
}

func TestExpiresWhileQueued(t *testing.T) {
	t.Parallel()
	b := startBroker(t, freeAddr(t), nil)
	hub := newHub(t, b.addr)
	gate := make(chan struct{})
	started := make(chan string, 10)
	proj := &fakeDevice{gate: gate, started: started}
	room := testRoom(addFake(t, "proj", proj))
	room.Timeout = config.Duration(waitTimeout)
	startAgent(t, b.addr, room, nil)
	hub.status(0, "birth", online)

	hub.send("proj", "c1", wire.ActInput, map[string]any{"source": "a"})
	<-started
	expires := time.Now().Add(200 * time.Millisecond)
	hub.send("proj", "c2", wire.ActInput, map[string]any{"source": "late"}, expires)
	waitUntil(t, "c2 expiry", func() bool { return time.Now().After(expires) })
	close(gate)
	if ack, _ := hub.ack("proj", "c1"); !ack.OK {
		t.Errorf("c1 ack = %+v", ack)
	}
	if ack, _ := hub.ack("proj", "c2"); ack.OK || ack.Error.Code != wire.CodeExpired {
		t.Errorf("c2 ack = %+v; want expired", ack)
	}
	if got := proj.callLog(); !slices.Equal(got, []string{"input a"}) {
		t.Errorf("device ran %v; the expired command must not run", got)
	}
}

func TestMalformedPayloads(t *testing.T) {
	t.Parallel()
	b := startBroker(t, freeAddr(t), nil)
	hub := newHub(t, b.addr)
	proj := &fakeDevice{}
	startAgent(t, b.addr, testRoom(addFake(t, "proj", proj)), nil)
	hub.status(0, "birth", online)

	cmdTopic := func(dev string) string { return wire.DeviceTopic(site, roomID, dev, wire.KindCmd) }
	badEvent := func(from int, dev string) {
		t.Helper()
		hub.waitMsg(from, wire.DeviceTopic(site, roomID, dev, wire.KindEvent), "bad_command event", func(m message) bool {
			ev, err := wire.DecodeEvent(m.payload)
			if err != nil {
				t.Errorf("bad event %s: %v", m.payload, err)
				return false
			}
			e, _ := ev.Fields["error"].(string)
			return ev.Type == agent.EventBadCommand && e != ""
		})
	}
	for _, p := range []string{`not json`, `{"action":"power","args":{"on":true}}`, `[1,2]`, ``, `{"id":42,"action":"power"}`} {
		from := hub.mark()
		hub.publish(cmdTopic("proj"), []byte(p))
		badEvent(from, "proj")
	}
	from := hub.mark()
	hub.publish(cmdTopic("ghost"), []byte(`%%%`))
	badEvent(from, "ghost")

	for id, p := range map[string]string{
		"m1": `{"id":"m1","action":"power","args":{"on":tr`,
		"m2": `{"id":"m2","action":"power","args":{"on":true},"bogus":1}`,
		"m3": `{"args":{"id":"inner"},"id":"m3"}`,
		"m4": `{"id":"m4","action":"power"} trailing`,
	} {
		hub.publish(cmdTopic("proj"), []byte(p))
		if ack, _ := hub.ack("proj", id); ack.OK || ack.Error.Code != wire.CodeBadArgs {
			t.Errorf("ack of %s = %+v; want bad_args", p, ack)
		}
	}
	hub.send("proj", "ok", wire.ActPower, map[string]any{"on": true})
	if ack, _ := hub.ack("proj", "ok"); !ack.OK {
		t.Errorf("ack after bad input = %+v", ack)
	}
	if calls := proj.callLog(); !slices.Equal(calls, []string{"power true"}) {
		t.Errorf("device ran %v", calls)
	}
}

func TestUnreachableAndRecovery(t *testing.T) {
	t.Parallel()
	b := startBroker(t, freeAddr(t), nil)
	hub := newHub(t, b.addr)
	proj := &fakeDevice{input: "hdmi1"}
	dev := addFake(t, "proj", proj)
	dev.Poll = config.Duration(300 * time.Millisecond)
	startAgent(t, b.addr, testRoom(dev), nil)
	hub.status(0, "birth", online)
	hub.state(0, "proj", "reachable", func(s wire.DeviceState) bool { return s.Reachable })

	from := hub.mark()
	proj.set(func(f *fakeDevice) { f.unreachable = true })
	st := hub.state(from, "proj", "unreachable", func(s wire.DeviceState) bool { return !s.Reachable })
	if !strings.Contains(st.Error, "unreachable") || st.State["input"] != "hdmi1" {
		t.Errorf("state = %+v; want the error and the last known state", st)
	}
	// Unreachable, it is retried quickly (every 200ms: MaxBackoff), not every poll period.
	polls := proj.polls.Load()
	waitUntil(t, "retries", func() bool { return proj.polls.Load() >= polls+3 })

	from = hub.mark()
	proj.set(func(f *fakeDevice) { f.unreachable = false; f.input = "hdmi2" })
	st = hub.state(from, "proj", "reachable again", func(s wire.DeviceState) bool { return s.Reachable })
	if st.Error != "" || st.State["input"] != "hdmi2" {
		t.Errorf("state = %+v; want no error, input hdmi2", st)
	}

	from = hub.mark()
	proj.set(func(f *fakeDevice) { f.fault = "lamp overheated" })
	st = hub.state(from, "proj", "fault", func(s wire.DeviceState) bool { return s.Error != "" })
	if !st.Reachable || !strings.Contains(st.Error, "lamp overheated") || st.State["input"] != "hdmi2" {
		t.Errorf("state = %+v; want reachable with the fault and the state", st)
	}

	// Unchanged states are not published again.
	from = hub.mark()
	polls = proj.polls.Load()
	waitUntil(t, "more polls", func() bool { return proj.polls.Load() >= polls+3 })
	for _, m := range hub.messages()[from:] {
		if m.topic == wire.DeviceTopic(site, roomID, "proj", wire.KindState) {
			t.Errorf("state published again though unchanged: %s", m.payload)
		}
	}
}

func TestWillOnAbruptDisconnect(t *testing.T) {
	t.Parallel()
	gate := newGate()
	b := startBroker(t, freeAddr(t), gate)
	hub := newHub(t, b.addr)
	ra := startAgent(t, b.addr, testRoom(addFake(t, "proj", &fakeDevice{})), nil)
	birth, _ := hub.status(0, "birth", online)

	// The connection dies and the agent cannot get back: the broker publishes the will,
	// which carries the seq of that connection.
	gate.refuse(ra.id, true)
	from := hub.mark()
	b.cut(t, ra.id)
	will, _ := hub.status(from, "will", offline)
	if will.Seq != birth.Seq || will.Agent != ra.id {
		t.Errorf("will = %+v; want the seq of its connection %d", will, birth.Seq)
	}
	if got := retainedStatus(t, b.addr); got.Online || got.Seq != birth.Seq {
		t.Errorf("retained status = %+v; want the will", got)
	}
	waitUntil(t, "agent to notice", func() bool { return !ra.a.Connected() })

	// It comes back with a higher seq, and the next will carries that seq.
	gate.refuse(ra.id, false)
	birth2, _ := hub.status(from, "new birth", online)
	if birth2.Seq <= birth.Seq {
		t.Errorf("seq after reconnect %d, want > %d", birth2.Seq, birth.Seq)
	}
	from = hub.mark()
	b.cut(t, ra.id)
	will2, _ := hub.status(from, "second will", offline)
	if will2.Seq != birth2.Seq {
		t.Errorf("second will seq %d, want %d", will2.Seq, birth2.Seq)
	}
	// A birth of the cut connection that the broker had not acknowledged may come again
	// (QoS 1 redelivery after the reconnect); the new connection's birth is the one with a
	// new seq.
	birth3, _ := hub.status(from, "third birth", func(s wire.AgentStatus) bool { return s.Online && s.Seq != birth2.Seq })
	if birth3.Seq <= birth2.Seq {
		t.Errorf("seq %d after second reconnect, want > %d", birth3.Seq, birth2.Seq)
	}
	hub.send("proj", "after", wire.ActPower, map[string]any{"on": true})
	if ack, _ := hub.ack("proj", "after"); !ack.OK {
		t.Errorf("ack after reconnects = %+v", ack)
	}
}

func TestCommandQueuedDuringBlip(t *testing.T) {
	t.Parallel()
	gate := newGate()
	b := startBroker(t, freeAddr(t), gate)
	hub := newHub(t, b.addr)
	proj := &fakeDevice{}
	ra := startAgent(t, b.addr, testRoom(addFake(t, "proj", proj)), nil)
	hub.status(0, "birth", online)

	gate.refuse(ra.id, true)
	from := hub.mark()
	b.cut(t, ra.id)
	hub.status(from, "will", offline)
	// The persistent session keeps these for the agent.
	hub.send("proj", "during", wire.ActPower, map[string]any{"on": true})
	stale := time.Now()
	hub.send("proj", "stale", wire.ActInput, map[string]any{"source": "x"}, stale.Add(100*time.Millisecond))
	waitUntil(t, `"stale" to expire while the agent is away`, func() bool { return time.Since(stale) > 100*time.Millisecond })
	gate.refuse(ra.id, false)

	if ack, _ := hub.ack("proj", "during"); !ack.OK || ack.State["power"] != true {
		t.Errorf("ack of the command sent during the blip = %+v", ack)
	}
	if ack, _ := hub.ack("proj", "stale"); ack.OK || ack.Error.Code != wire.CodeExpired {
		t.Errorf("ack of the expired command = %+v; want expired", ack)
	}
	if got := proj.callLog(); !slices.Equal(got, []string{"power true"}) {
		t.Errorf("device ran %v", got)
	}
}

func TestBrokerRestart(t *testing.T) {
	t.Parallel()
	b := startBroker(t, freeAddr(t), nil)
	hub := newHub(t, b.addr)
	proj := &fakeDevice{input: "hdmi1"}
	other := &fakeDevice{input: "sdi"}
	startAgent(t, b.addr, testRoom(addFake(t, "proj", proj), addFake(t, "other", other)), nil)
	birth, _ := hub.status(0, "birth", online)
	hub.state(0, "other", "state", func(s wire.DeviceState) bool { return s.Reachable })

	from := hub.mark()
	b.stop()
	restarted := time.Now()
	b2 := startBroker(t, b.addr, nil)
	birth2, _ := hub.status(from, "birth after restart", online)
	if birth2.Seq <= birth.Seq {
		t.Errorf("seq %d after restart, want > %d", birth2.Seq, birth.Seq)
	}
	if got := retainedStatus(t, b2.addr); !got.Online || got.Seq != birth2.Seq {
		t.Errorf("retained status on the new broker = %+v", got)
	}
	for dev, input := range map[string]string{"proj": "hdmi1", "other": "sdi"} {
		if st := retainedState(t, b2.addr, dev); !st.Reachable || st.State["input"] != input {
			t.Errorf("retained state of %s on the new broker = %+v", dev, st)
		}
	}
	hub.send("proj", "after", wire.ActPower, map[string]any{"on": true})
	if ack, _ := hub.ack("proj", "after"); !ack.OK {
		t.Errorf("ack after restart = %+v", ack)
	}
	if d := time.Since(restarted); d > waitTimeout {
		t.Errorf("agent back after %v, want within %v", d, waitTimeout)
	}
}

func TestCleanShutdown(t *testing.T) {
	// Not parallel: it counts goroutines.
	b := startBroker(t, freeAddr(t), nil)
	hub := newHub(t, b.addr)
	pahoBefore := countGoroutines("eclipse/paho")
	gate := make(chan struct{})
	started := make(chan string, 10)
	proj := &fakeDevice{gate: gate, started: started}
	room := testRoom(addFake(t, "proj", proj), addFake(t, "probe", &fakeDevice{}))
	room.Timeout = config.Duration(waitTimeout)
	ra := startAgent(t, b.addr, room, nil)
	birth, _ := hub.status(0, "birth", online)

	// One command running and one queued when the agent is told to stop: the first finishes
	// and is acked, the second is acked busy, and then the agent says it is offline.
	hub.send("proj", "running", wire.ActPower, map[string]any{"on": true})
	<-started
	hub.send("proj", "queued", wire.ActPower, map[string]any{"on": false})
	// The agent handles messages in order: once the probe is acked, "queued" is queued.
	hub.send("probe", "probe", wire.ActRefresh, nil)
	hub.ack("probe", "probe")
	stopped := make(chan error, 1)
	go func() { stopped <- ra.stop(t) }()
	waitUntil(t, "the agent to begin stopping", func() bool { return strings.Contains(ra.log.String(), "agent stopping") })
	close(gate)
	select {
	case err := <-stopped:
		if err != nil {
			t.Errorf("Run = %v", err)
		}
	case <-time.After(3 * waitTimeout):
		t.Fatal("Run did not return")
	}
	ack1, pos1 := hub.ack("proj", "running")
	ack2, pos2 := hub.ack("proj", "queued")
	if !ack1.OK {
		t.Errorf("running command ack = %+v; want ok", ack1)
	}
	if ack2.OK || ack2.Error.Code != wire.CodeBusy {
		t.Errorf("queued command ack = %+v; want busy", ack2)
	}
	st, pos := hub.status(0, "offline status", offline)
	if st.Seq != birth.Seq {
		t.Errorf("offline seq %d, want %d", st.Seq, birth.Seq)
	}
	if pos < pos1 || pos < pos2 {
		t.Error("offline status published before the acks")
	}
	if got := retainedStatus(t, b.addr); got.Online || got.Seq != birth.Seq {
		t.Errorf("retained status = %+v; want offline with seq %d", got, birth.Seq)
	}
	if !proj.closed.Load() {
		t.Error("device not closed")
	}
	if gs := agentGoroutines(); len(gs) > 0 {
		t.Errorf("goroutines of the agent left after Run:\n%s", strings.Join(gs, "\n\n"))
	}
	deadline := time.Now().Add(waitTimeout)
	for countGoroutines("eclipse/paho") > pahoBefore && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := countGoroutines("eclipse/paho"); n > pahoBefore {
		t.Errorf("%d paho goroutines after Run, %d before the agent started", n, pahoBefore)
	}
}

func TestStartsBeforeBroker(t *testing.T) {
	t.Parallel()
	addr := freeAddr(t)
	ra := startAgent(t, addr, testRoom(addFake(t, "proj", &fakeDevice{})), nil)
	waitUntil(t, "a refused connect", func() bool { return strings.Contains(ra.log.String(), "cannot connect to broker") })
	if ra.a.Connected() {
		t.Fatal("connected without a broker")
	}
	b := startBroker(t, addr, nil)
	hub := newHub(t, b.addr)
	hub.status(0, "birth", online)
	hub.send("proj", "c1", wire.ActPower, map[string]any{"on": true})
	if ack, _ := hub.ack("proj", "c1"); !ack.OK {
		t.Errorf("ack = %+v", ack)
	}
}

func TestStopWithoutBroker(t *testing.T) {
	t.Parallel()
	proj := &fakeDevice{}
	ra := startAgent(t, freeAddr(t), testRoom(addFake(t, "proj", proj)), nil)
	waitUntil(t, "a poll", func() bool { return proj.polls.Load() > 0 })
	start := time.Now()
	if err := ra.stop(t); err != nil {
		t.Errorf("Run = %v", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("stopping took %v", d)
	}
	if !proj.closed.Load() {
		t.Error("device not closed")
	}
}

func TestNew(t *testing.T) {
	t.Parallel()
	good := func() agent.Options {
		return agent.Options{Room: testRoom(addFake(t, "proj", &fakeDevice{})), Broker: "tcp://127.0.0.1:1883"}
	}
	for _, tc := range []struct {
		name string
		mod  func(o *agent.Options)
		want string
	}{
		{"no room", func(o *agent.Options) { o.Room = nil }, "no room"},
		{"no broker", func(o *agent.Options) { o.Broker = "" }, "no broker"},
		{"bad scheme", func(o *agent.Options) { o.Broker = "http://x:1" }, "scheme"},
		{"password in URL not echoed", func(o *agent.Options) { o.Broker = "http://u:" + password + "@x:1" }, "scheme"},
		{"bad site", func(o *agent.Options) { o.Room.Site = "Bad Site" }, "site"},
		{"unknown driver", func(o *agent.Options) {
			o.Room.Devices = append(o.Room.Devices, config.Device{ID: "cam", Driver: "nosuch"})
		}, `device "cam": unknown driver "nosuch"`},
		{"unknown option", func(o *agent.Options) { o.Room.Devices[0].Options = map[string]string{"speed": "1"} }, `option "speed"`},
		{"duplicate device", func(o *agent.Options) { o.Room.Devices = append(o.Room.Devices, o.Room.Devices[0]) }, "twice"},
		{"driver fails", func(o *agent.Options) {
			o.Room.Devices = append(o.Room.Devices, config.Device{ID: "x", Driver: fakeDriver, Address: "nowhere"})
		}, `device "x"`},
		{"wrong user", func(o *agent.Options) { o.Username = wire.AgentUser(site, "other-room") }, "not the agent of room"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := good()
			tc.mod(&o)
			_, err := agent.New(o)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("New = %v; want an error with %q", err, tc.want)
			}
			if strings.Contains(err.Error(), password) {
				t.Errorf("error shows the password: %v", err)
			}
		})
	}
	o := good()
	o.Password = password
	if _, err := agent.New(o); err != nil {
		t.Errorf("New with a password and no user = %v; want the room's agent user", err)
	}
}

// An action that takes most of the command's deadline leaves the poll after it no time; that
// must not make the device look unreachable.
func TestSlowActionLeavesPollNoTime(t *testing.T) {
	t.Parallel()
	b := startBroker(t, freeAddr(t), nil)
	hub := newHub(t, b.addr)
	proj := &fakeDevice{actDelay: 400 * time.Millisecond, pollDelay: 150 * time.Millisecond}
	room := testRoom(addFake(t, "proj", proj))
	room.Timeout = config.Duration(500 * time.Millisecond)
	startAgent(t, b.addr, room, nil)
	hub.status(0, "birth", online)
	hub.state(0, "proj", "first state", func(s wire.DeviceState) bool { return s.Reachable })

	from := hub.mark()
	hub.send("proj", "c1", wire.ActPower, map[string]any{"on": true})
	if ack, _ := hub.ack("proj", "c1"); !ack.OK {
		t.Fatalf("ack = %+v %+v; want ok", ack, ack.Error)
	}
	hub.state(from, "proj", "state with power on", func(s wire.DeviceState) bool { return s.Reachable && s.State["power"] == true })
	for _, m := range hub.messages()[from:] {
		if s, err := wire.DecodeDeviceState(m.payload); err == nil && m.topic == wire.DeviceTopic(site, roomID, "proj", wire.KindState) && !s.Reachable {
			t.Errorf("device shown unreachable: %s", m.payload)
		}
	}
}
