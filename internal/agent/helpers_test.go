package agent_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
	mqttsrv "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/hooks/auth"
	"github.com/mochi-mqtt/server/v2/listeners"
	"github.com/mochi-mqtt/server/v2/packets"

	"github.com/bailiff/bailiff/drivers"
	"github.com/bailiff/bailiff/internal/agent"
	"github.com/bailiff/bailiff/internal/config"
	"github.com/bailiff/bailiff/internal/wire"
)

// waitTimeout bounds every wait of these tests.
const waitTimeout = 5 * time.Second

const (
	site     = "test-site"
	roomID   = "room-1"
	password = "s3cret-Pa55word-never-logged"
)

// ---- broker ----

// testBroker is a mochi MQTT broker on loopback.
type testBroker struct {
	addr string
	srv  *mqttsrv.Server
	ln   *trackingListener
	once sync.Once
}

// freeAddr returns a loopback address with a port that was free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// startBroker starts a broker on addr with hook (nil: mochi's AllowHook) and stops it when
// the test ends.
//
// It serves through listeners.NewNet with a listener of its own rather than through
// listeners.NewTCP: mochi's Close closes the clients before the listener, and a client that
// reconnects at once in between is accepted and then neither served nor closed, which a
// broker process that dies cannot do. stop drops the listener and every connection first, as
// the end of a broker process does.
func startBroker(t *testing.T, addr string, hook mqttsrv.Hook) *testBroker {
	t.Helper()
	if hook == nil {
		hook = new(auth.AllowHook)
	}
	srv := mqttsrv.New(&mqttsrv.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err := srv.AddHook(hook, nil); err != nil {
		t.Fatal(err)
	}
	var (
		l   net.Listener
		err error
	)
	for deadline := time.Now().Add(waitTimeout); ; {
		// The port of a broker just stopped may take a moment to be free again.
		l, err = net.Listen("tcp", addr)
		if err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("broker listen %s: %v", addr, err)
	}
	tl := &trackingListener{Listener: l, conns: map[net.Conn]struct{}{}}
	if err := srv.AddListener(listeners.NewNet("tcp", tl)); err != nil {
		t.Fatal(err)
	}
	if err := srv.Serve(); err != nil {
		t.Fatal(err)
	}
	b := &testBroker{addr: l.Addr().String(), srv: srv, ln: tl}
	t.Cleanup(b.stop)
	return b
}

// stop ends the broker as a dying process would: no more connects, every connection dropped.
//
// Then it closes the mochi server, once the clients are gone: mochi's Close can deadlock when
// a client connects or disconnects while it runs (Clients.GetByListener takes its read lock
// twice, mochi-mqtt/server#488). Should it hang all the same, the test goes on without it.
func (b *testBroker) stop() {
	b.once.Do(func() {
		b.ln.closeAll()
		for deadline := time.Now().Add(waitTimeout); atomic.LoadInt64(&b.srv.Info.ClientsConnected) > 0 && time.Now().Before(deadline); {
			time.Sleep(5 * time.Millisecond)
		}
		done := make(chan struct{})
		go func() {
			b.srv.Close()
			close(done)
		}()
		select {
		case <-done:
		case <-time.After(waitTimeout):
		}
	})
}

// trackingListener keeps the connections it accepted, to drop them all at once.
type trackingListener struct {
	net.Listener
	mu     sync.Mutex
	closed bool
	conns  map[net.Conn]struct{}
}

func (l *trackingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		c.Close()
		return nil, net.ErrClosed
	}
	l.conns[c] = struct{}{}
	return c, nil
}

func (l *trackingListener) closeAll() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.closed = true
	l.Listener.Close()
	for c := range l.conns {
		c.Close()
	}
}

// cut closes the broker's end of a client's connection, as a network failure would: the
// broker publishes the client's will.
func (b *testBroker) cut(t *testing.T, clientID string) {
	t.Helper()
	cl, ok := b.srv.Clients.Get(clientID)
	if !ok {
		t.Fatalf("no client %q on the broker", clientID)
	}
	cl.Stop(fmt.Errorf("test: connection cut"))
}

// gateHook allows everything, except connects of the client IDs it is told to refuse. It
// records the user names and passwords it sees.
type gateHook struct {
	mqttsrv.HookBase
	mu      sync.Mutex
	refused map[string]bool
	logins  map[string][2]string // client ID → user, password
}

func newGate() *gateHook {
	return &gateHook{refused: map[string]bool{}, logins: map[string][2]string{}}
}

func (h *gateHook) ID() string { return "test-gate" }

func (h *gateHook) Provides(b byte) bool {
	return b == mqttsrv.OnConnectAuthenticate || b == mqttsrv.OnACLCheck
}

func (h *gateHook) OnConnectAuthenticate(cl *mqttsrv.Client, pk packets.Packet) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.logins[cl.ID] = [2]string{string(pk.Connect.Username), string(pk.Connect.Password)}
	return !h.refused[cl.ID]
}

func (h *gateHook) OnACLCheck(*mqttsrv.Client, string, bool) bool { return true }

func (h *gateHook) refuse(id string, on bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.refused[id] = on
}

func (h *gateHook) login(id string) (user, pass string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	l := h.logins[id]
	return l[0], l[1]
}

// ---- hub client ----

type message struct {
	topic    string
	payload  []byte
	retained bool
}

// hubClient plays the hub: it publishes commands and records everything under bailiff/v1/.
type hubClient struct {
	t    *testing.T
	c    mqtt.Client
	subs atomic.Int64 // completed subscriptions (one per connect)

	mu   sync.Mutex
	msgs []message
}

var clientSeq atomic.Int64

func newHub(t *testing.T, addr string) *hubClient {
	t.Helper()
	h := &hubClient{t: t}
	o := mqtt.NewClientOptions().AddBroker("tcp://" + addr).
		SetClientID(fmt.Sprintf("test-hub-%d", clientSeq.Add(1))).
		SetCleanSession(true).
		SetAutoReconnect(true).SetMaxReconnectInterval(100 * time.Millisecond).
		SetConnectRetry(true).SetConnectRetryInterval(50 * time.Millisecond).
		SetOnConnectHandler(func(c mqtt.Client) {
			tok := c.Subscribe(wire.FilterAll, 1, h.record)
			if tok.WaitTimeout(waitTimeout) && tok.Error() == nil {
				h.subs.Add(1)
			}
		})
	h.c = mqtt.NewClient(o)
	if tok := h.c.Connect(); !tok.WaitTimeout(waitTimeout) || tok.Error() != nil {
		t.Fatalf("hub connect: %v", tok.Error())
	}
	t.Cleanup(func() { h.c.Disconnect(100) })
	waitUntil(t, "hub subscribed", func() bool { return h.subs.Load() > 0 })
	return h
}

func (h *hubClient) record(_ mqtt.Client, m mqtt.Message) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.msgs = append(h.msgs, message{m.Topic(), slices.Clone(m.Payload()), m.Retained()})
}

// mark returns the position of the next message, for waits that want only newer ones.
func (h *hubClient) mark() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.msgs)
}

func (h *hubClient) messages() []message {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.msgs)
}

// waitMsg waits for a message at or after position from on topic for which ok holds, and
// returns it and its position.
func (h *hubClient) waitMsg(from int, topic string, what string, ok func(message) bool) (message, int) {
	h.t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for {
		msgs := h.messages()
		for i := from; i < len(msgs); i++ {
			if msgs[i].topic == topic && ok(msgs[i]) {
				return msgs[i], i
			}
		}
		if time.Now().After(deadline) {
			var b strings.Builder
			for i, m := range msgs[min(from, len(msgs)):] {
				fmt.Fprintf(&b, "\n  %d %s %s", from+i, m.topic, m.payload)
			}
			h.t.Fatalf("no %s on %s within %v; messages since %d:%s", what, topic, waitTimeout, from, b.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (h *hubClient) publish(topic string, payload []byte) {
	h.t.Helper()
	tok := h.c.Publish(topic, 1, false, payload)
	if !tok.WaitTimeout(waitTimeout) || tok.Error() != nil {
		h.t.Fatalf("publish %s: %v", topic, tok.Error())
	}
}

// send publishes a command to a device of the test room.
func (h *hubClient) send(dev, id, action string, args any, expires ...time.Time) {
	h.t.Helper()
	c := map[string]any{"id": id, "action": action, "by": "test"}
	if args != nil {
		c["args"] = args
	}
	if len(expires) > 0 {
		c["expires"] = expires[0]
	}
	b, err := json.Marshal(c)
	if err != nil {
		h.t.Fatal(err)
	}
	h.publish(wire.DeviceTopic(site, roomID, dev, wire.KindCmd), b)
}

// ack waits for the ack of command id on dev's ack topic.
func (h *hubClient) ack(dev, id string) (wire.Ack, int) {
	h.t.Helper()
	var ack wire.Ack
	_, pos := h.waitMsg(0, wire.DeviceTopic(site, roomID, dev, wire.KindAck), "ack of "+id, func(m message) bool {
		a, err := wire.DecodeAck(m.payload)
		if err != nil {
			h.t.Errorf("bad ack %s: %v", m.payload, err)
			return false
		}
		ack = a
		return a.ID == id
	})
	return ack, pos
}

// ackCount counts the acks of command id so far.
func (h *hubClient) ackCount(dev, id string) int {
	n := 0
	for _, m := range h.messages() {
		if m.topic != wire.DeviceTopic(site, roomID, dev, wire.KindAck) {
			continue
		}
		if a, err := wire.DecodeAck(m.payload); err == nil && a.ID == id {
			n++
		}
	}
	return n
}

// state waits for a state of dev, at or after position from, for which ok holds.
func (h *hubClient) state(from int, dev, what string, ok func(wire.DeviceState) bool) wire.DeviceState {
	h.t.Helper()
	var st wire.DeviceState
	h.waitMsg(from, wire.DeviceTopic(site, roomID, dev, wire.KindState), what, func(m message) bool {
		s, err := wire.DecodeDeviceState(m.payload)
		if err != nil {
			h.t.Errorf("bad state %s: %v", m.payload, err)
			return false
		}
		st = s
		return ok(s)
	})
	return st
}

// status waits for an agent status, at or after position from, for which ok holds.
func (h *hubClient) status(from int, what string, ok func(wire.AgentStatus) bool) (wire.AgentStatus, int) {
	h.t.Helper()
	var st wire.AgentStatus
	_, pos := h.waitMsg(from, wire.RoomTopic(site, roomID, wire.KindAgent), what, func(m message) bool {
		s, err := wire.DecodeAgentStatus(m.payload)
		if err != nil {
			h.t.Errorf("bad agent status %s: %v", m.payload, err)
			return false
		}
		st = s
		return ok(s)
	})
	return st, pos
}

func online(s wire.AgentStatus) bool  { return s.Online }
func offline(s wire.AgentStatus) bool { return !s.Online }

// retained connects a fresh client to addr and returns the message retained on topic
// (it fails the test when there is none).
func retained(t *testing.T, addr, topic string) []byte {
	t.Helper()
	got := make(chan mqtt.Message, 1)
	o := mqtt.NewClientOptions().AddBroker("tcp://" + addr).
		SetClientID(fmt.Sprintf("test-reader-%d", clientSeq.Add(1))).SetCleanSession(true)
	c := mqtt.NewClient(o)
	if tok := c.Connect(); !tok.WaitTimeout(waitTimeout) || tok.Error() != nil {
		t.Fatalf("reader connect: %v", tok.Error())
	}
	defer c.Disconnect(50)
	tok := c.Subscribe(topic, 1, func(_ mqtt.Client, m mqtt.Message) {
		select {
		case got <- m:
		default:
		}
	})
	if !tok.WaitTimeout(waitTimeout) || tok.Error() != nil {
		t.Fatalf("reader subscribe: %v", tok.Error())
	}
	select {
	case m := <-got:
		if !m.Retained() {
			t.Fatalf("message on %s is not retained", topic)
		}
		return m.Payload()
	case <-time.After(waitTimeout):
		t.Fatalf("nothing retained on %s", topic)
		return nil
	}
}

func retainedStatus(t *testing.T, addr string) wire.AgentStatus {
	t.Helper()
	s, err := wire.DecodeAgentStatus(retained(t, addr, wire.RoomTopic(site, roomID, wire.KindAgent)))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func retainedState(t *testing.T, addr, dev string) wire.DeviceState {
	t.Helper()
	s, err := wire.DecodeDeviceState(retained(t, addr, wire.DeviceTopic(site, roomID, dev, wire.KindState)))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// ---- agent ----

// logBuffer collects the agent's log; it is shown when a test fails.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

type runningAgent struct {
	a      *agent.Agent
	id     string // MQTT client ID
	log    *logBuffer
	cancel context.CancelFunc
	done   chan error
	once   sync.Once
	err    error
}

// testRoom returns the test room with devs, polling every second, commands timing out
// after 2s.
func testRoom(devs ...config.Device) *config.Room {
	return &config.Room{
		Site: site, Room: roomID, Kind: config.KindTechCourtroom, Name: "Test room",
		Poll: config.Duration(time.Second), Timeout: config.Duration(2 * time.Second),
		Devices: devs,
	}
}

// startAgent runs an agent for room against the broker at addr; mod may change its options.
// The agent is stopped when the test ends.
func startAgent(t *testing.T, addr string, room *config.Room, mod func(*agent.Options)) *runningAgent {
	t.Helper()
	logs := &logBuffer{}
	o := agent.Options{
		Room:       room,
		Broker:     "tcp://" + addr,
		Username:   wire.AgentUser(room.Site, room.Room),
		Password:   password,
		ClientID:   fmt.Sprintf("test-agent-%d", clientSeq.Add(1)),
		Version:    "test-1.0",
		Logger:     slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		MaxBackoff: 200 * time.Millisecond,
		QueueLen:   4,
	}
	if mod != nil {
		mod(&o)
	}
	a, err := agent.New(o)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &runningAgent{a: a, id: o.ClientID, log: logs, cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- a.Run(ctx) }()
	t.Cleanup(func() {
		r.stop(t)
		if t.Failed() {
			t.Logf("agent log:\n%s", logs.String())
		}
		if strings.Contains(logs.String(), password) {
			t.Errorf("the password is in the agent's log")
		}
	})
	return r
}

// stop cancels the agent and waits for Run to return.
func (r *runningAgent) stop(t *testing.T) error {
	t.Helper()
	r.once.Do(func() {
		r.cancel()
		select {
		case r.err = <-r.done:
		case <-time.After(3 * waitTimeout):
			t.Fatalf("Run did not return")
		}
	})
	return r.err
}

// waitUntil polls cond until it holds or the wait times out.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// agentGoroutines returns the stacks of goroutines running code of package agent (not of
// its tests).
func agentGoroutines() []string {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	var out []string
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "bailiff/bailiff/internal/agent.") {
			out = append(out, g)
		}
	}
	return out
}

// countGoroutines counts the goroutines whose stack contains s.
func countGoroutines(s string) int {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	n := 0
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, s) {
			n++
		}
	}
	return n
}

// ---- fake driver ----

// fakeDriver is registered for these tests only.
const fakeDriver = "agenttest-fake"

var fakes sync.Map // address → *fakeDevice

func init() {
	drivers.Register(drivers.Info{
		Name:        fakeDriver,
		Description: "in-memory device for the agent's tests",
		Options:     []string{"note"},
		New: func(cfg drivers.Config) (drivers.Device, error) {
			f, ok := fakes.Load(cfg.Address)
			if !ok {
				return nil, fmt.Errorf("fake: no device at %q", cfg.Address)
			}
			fd := f.(*fakeDevice)
			fd.mu.Lock()
			fd.notify = cfg.Notify
			fd.mu.Unlock()
			return fd, nil
		},
	})
}

// fakeDevice is a projector-like device with power and input (no mute), told how to misbehave.
type fakeDevice struct {
	mu          sync.Mutex
	power       bool
	input       string
	unreachable bool          // every call fails with drivers.ErrUnreachable
	fault       string        // Poll reports this fault (with the state)
	actErr      error         // actions fail with it
	actDelay    time.Duration // actions take this long (honouring ctx unless deaf)
	pollDelay   time.Duration // polls take this long (honouring ctx)
	deaf        bool          // the delay ignores ctx
	gate        chan struct{} // when set, actions wait for it to close (or ctx)
	started     chan string   // when set, actions report their start here
	calls       []string      // actions done, in order

	notify drivers.Notifier // what the agent gave the device

	polls  atomic.Int64
	closed atomic.Bool
}

// addFake registers f under a fresh address and returns a device config for it.
func addFake(t *testing.T, id string, f *fakeDevice) config.Device {
	addr := fmt.Sprintf("fake-%d-%s", clientSeq.Add(1), id)
	fakes.Store(addr, f)
	t.Cleanup(func() { fakes.Delete(addr) })
	return config.Device{ID: id, Driver: fakeDriver, Address: addr}
}

func (f *fakeDevice) set(fn func(f *fakeDevice)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn(f)
}

func (f *fakeDevice) callLog() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.calls)
}

func (f *fakeDevice) Poll(ctx context.Context) (drivers.State, error) {
	f.polls.Add(1)
	f.mu.Lock()
	delay := f.pollDelay
	f.mu.Unlock()
	if delay > 0 {
		select {
		case <-time.After(delay):
		case <-ctx.Done():
			return nil, fmt.Errorf("fake: poll: %w", ctx.Err())
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.unreachable {
		return nil, fmt.Errorf("fake: connect: %w", drivers.ErrUnreachable)
	}
	st := drivers.State{"power": f.power, "input": f.input}
	if f.fault != "" {
		return st, fmt.Errorf("fake: %s: %w", f.fault, drivers.ErrDevice)
	}
	return st, nil
}

func (f *fakeDevice) Close() error {
	f.closed.Store(true)
	return nil
}

func (f *fakeDevice) act(ctx context.Context, name string, apply func()) error {
	f.mu.Lock()
	delay, deaf, gate, started, unreachable, actErr := f.actDelay, f.deaf, f.gate, f.started, f.unreachable, f.actErr
	f.mu.Unlock()
	if started != nil {
		select {
		case started <- name:
		default:
		}
	}
	if unreachable {
		return fmt.Errorf("fake: connect: %w", drivers.ErrUnreachable)
	}
	if delay > 0 {
		if deaf {
			time.Sleep(delay)
		} else {
			select {
			case <-time.After(delay):
			case <-ctx.Done():
				return fmt.Errorf("fake: %s: %w", name, ctx.Err())
			}
		}
	}
	if gate != nil {
		select {
		case <-gate:
		case <-ctx.Done():
			return fmt.Errorf("fake: %s: %w", name, ctx.Err())
		}
	}
	if actErr != nil {
		return actErr
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, name)
	apply()
	return nil
}

func (f *fakeDevice) SetPower(ctx context.Context, on bool) error {
	return f.act(ctx, fmt.Sprintf("power %v", on), func() { f.power = on })
}

func (f *fakeDevice) SetInput(ctx context.Context, source string) error {
	return f.act(ctx, "input "+source, func() { f.input = source })
}

var (
	_ drivers.Powerer       = (*fakeDevice)(nil)
	_ drivers.InputSelector = (*fakeDevice)(nil)
)
