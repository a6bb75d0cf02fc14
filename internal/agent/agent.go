package agent

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/bailiff/bailiff/drivers"
	"github.com/bailiff/bailiff/internal/config"
	"github.com/bailiff/bailiff/internal/wire"
	"github.com/bailiff/bailiff/media/source"
)

// Defaults of Options.
const (
	// DefaultMaxBackoff is short: after the broker comes back the room must be at the hub
	// within seconds, however long the broker was away (paho's reconnect wait doubles from 1s
	// up to it), and a refused connect costs a broker little.
	DefaultMaxBackoff = 3 * time.Second
	DefaultQueueLen   = 16
)

const (
	defaultTimeout = 5 * time.Second // per-command deadline when the room sets none
	pollRetryStart = 500 * time.Millisecond
	// pollRetryMax is the longest wait between polls of an unreachable device: the hub must
	// see a device back within seconds of it answering again, however long it was away.
	pollRetryMax = 2 * time.Second

	keepAlive       = 30 * time.Second
	pingTimeout     = 10 * time.Second
	connectTimeout  = 10 * time.Second
	writeTimeout    = 10 * time.Second
	maxConnectRetry = 2 * time.Second // first-connect retry interval (paho does not back off there)
	subscribeWait   = 10 * time.Second
	offlineWait     = 3 * time.Second
	quiesceMS       = 250
	outboxLen       = 256
)

// Options configure an Agent.
type Options struct {
	Room     *config.Room
	Broker   string // tcp://host:port (also mqtt://, ssl://, tls://, mqtts://, ws://, wss://)
	Username string // agent user of the room (wire.AgentUser); "" with a password: that user
	Password string // never logged
	ClientID string // default wire.AgentUser(site, room), which the hub's broker requires
	Version  string // reported in the birth; default "dev"
	Logger   *slog.Logger
	// MaxBackoff caps the broker reconnect backoff and the retry backoff of an unreachable
	// device. Default 3s.
	MaxBackoff time.Duration
	// QueueLen is how many commands may wait for one device; a command beyond it is acked
	// busy. Default 16.
	QueueLen int
	// ConfigCache is the file where the agent keeps the last config the hub pushed that it
	// applied, so that a restart runs it; "" keeps none. See configpush.go.
	ConfigCache string
	// HubURL is the hub's HTTP base URL for media (http://hub:8080); it overrides the room's
	// media.hub. Needed only when the room has media streams or speakers.
	HubURL string
	// MediaEndpoint holds the settings of every media session (HTTP client, pion API,
	// backoff); its URL and Token are set per stream.
	MediaEndpoint source.Endpoint
	// TLS is the TLS configuration for an ssl:// (tls://, mqtts://) broker: the CA to trust
	// and the agent's client certificate (Credentials.TLSConfig); nil: paho's default.
	TLS *tls.Config
}

// Agent runs one room: its MQTT session and one goroutine per device.
type Agent struct {
	o        Options
	site     string
	room     string
	log      *slog.Logger
	retry    time.Duration      // first-connect retry interval
	devices  []*device          // guarded by mu (a pushed config changes them)
	byID     map[string]*device // guarded by mu
	mediaMu  sync.Mutex
	media    []*mediaSource // the room's media sources, as the running config has them
	mediaRun sync.WaitGroup // running sources
	// built is set when New has made everything: a driver that reports from its own goroutine
	// while New is still making the other devices is dropped until then (device.ready).
	built    atomic.Bool
	seq      seqGen
	started  atomic.Bool
	client   mqtt.Client // made by New; Run connects it
	brokerLG string      // the broker URL without user info, for logs

	statusTopic string
	configTopic string
	cmdFilter   string
	cmdPrefix   string // bailiff/v1/{site}/{room}/d/

	// mu orders the message handler (read side) against shutdown (write side).
	mu           sync.RWMutex
	closed       bool // device queues take no more commands
	outboxClosed bool // the outbox takes no more messages
	outbox       chan outMsg

	push configPush // the room config the hub pushes; configpush.go

	// On-connect handlers in progress; none starts once closing is set.
	hmu      sync.Mutex
	closing  bool
	handlers sync.WaitGroup
	connMu   sync.Mutex // one on-connect handler at a time
}

// outMsg is an answer the message handler leaves for the outbox goroutine to publish.
type outMsg struct {
	topic   string
	payload []byte
}

// DefaultClientID is the MQTT client ID an agent uses unless told otherwise: its user name,
// "agent/{site}/{room}". The hub's broker accepts an agent only under that client ID, so no
// other login can take over (and inherit) the agent's session.
func DefaultClientID(site, room string) string { return wire.AgentUser(site, room) }

// New checks o and makes every device of the room through its driver. Drivers do not
// connect here; Run starts polling them.
func New(o Options) (*Agent, error) {
	if o.Room == nil {
		return nil, errors.New("agent: no room config")
	}
	r := o.Room
	if err := wire.CheckID("site", r.Site); err != nil {
		return nil, fmt.Errorf("agent: %w", err)
	}
	if err := wire.CheckID("room", r.Room); err != nil {
		return nil, fmt.Errorf("agent: %w", err)
	}
	brokerLG, err := checkBroker(o.Broker)
	if err != nil {
		return nil, err
	}
	if o.Username == "" && o.Password != "" {
		o.Username = wire.AgentUser(r.Site, r.Room)
	}
	if o.Username != "" {
		if s, rm, ok := wire.ParseAgentUser(o.Username); !ok || s != r.Site || rm != r.Room {
			return nil, fmt.Errorf("agent: user name %q is not the agent of room %s/%s (want %q)",
				o.Username, r.Site, r.Room, wire.AgentUser(r.Site, r.Room))
		}
	}
	if o.ClientID == "" {
		o.ClientID = DefaultClientID(r.Site, r.Room)
	}
	if o.Version == "" {
		o.Version = "dev"
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = DefaultMaxBackoff
	}
	if o.QueueLen <= 0 {
		o.QueueLen = DefaultQueueLen
	}
	var pushed []byte
	if o.ConfigCache != "" {
		r, pushed = loadCachedConfig(o, r) // the last config the hub pushed, if there is a good one
		o.Room = r
	}
	a := &Agent{
		o:           o,
		site:        r.Site,
		room:        r.Room,
		log:         o.Logger.With("site", r.Site, "room", r.Room),
		retry:       min(maxConnectRetry, o.MaxBackoff),
		byID:        map[string]*device{},
		brokerLG:    brokerLG,
		statusTopic: wire.RoomTopic(r.Site, r.Room, wire.KindAgent),
		configTopic: wire.RoomTopic(r.Site, r.Room, wire.KindConfig),
		cmdFilter:   wire.RoomFilter(r.Site, r.Room, wire.KindCmd),
		cmdPrefix:   wire.Prefix + "/" + r.Site + "/" + r.Room + "/d/",
		outbox:      make(chan outMsg, outboxLen),
	}
	a.push.init(a, r, pushed)
	for i := range r.Devices {
		if _, dup := a.byID[r.Devices[i].ID]; dup {
			err = fmt.Errorf("agent: device %q: listed twice", r.Devices[i].ID)
		}
		var d *device
		if err == nil {
			d, err = a.newDevice(r, &r.Devices[i])
		}
		if err != nil {
			for _, made := range a.devices {
				_ = made.dev.Close()
			}
			return nil, err
		}
		a.devices = append(a.devices, d)
		a.byID[d.id] = d
	}
	if a.media, err = a.newMedia(a.o.Room, nil); err != nil {
		for _, made := range a.devices {
			_ = made.dev.Close()
		}
		return nil, err
	}
	a.client = mqtt.NewClient(a.clientOptions()) // starts nothing
	a.built.Store(true)
	return a, nil
}

func checkBroker(s string) (redacted string, err error) {
	if s == "" {
		return "", errors.New("agent: no broker URL")
	}
	u, err := url.Parse(s)
	if err != nil {
		// url's error repeats the URL, which may hold a password: say less.
		return "", errors.New("agent: broker URL does not parse; want tcp://host:port")
	}
	switch u.Scheme {
	case "tcp", "mqtt", "ssl", "tls", "mqtts", "ws", "wss":
	default:
		return "", fmt.Errorf("agent: broker %s: scheme %q: want tcp, mqtt, ssl, tls, mqtts, ws or wss", u.Redacted(), u.Scheme)
	}
	if u.Host == "" {
		return "", fmt.Errorf("agent: broker %s: no host", u.Redacted())
	}
	return u.Redacted(), nil
}

// newDevice makes the device dc of room r through its driver.
func (a *Agent) newDevice(r *config.Room, dc *config.Device) (*device, error) {
	if err := wire.CheckID("device", dc.ID); err != nil {
		return nil, fmt.Errorf("agent: %w", err)
	}
	info, ok := drivers.Lookup(dc.Driver)
	if !ok {
		return nil, fmt.Errorf("agent: device %q: unknown driver %q (this agent has: %s)",
			dc.ID, dc.Driver, strings.Join(drivers.Names(), ", "))
	}
	for k := range dc.Options {
		known := false
		for _, o := range info.Options {
			known = known || o == k
		}
		if !known {
			return nil, fmt.Errorf("agent: device %q: driver %q has no option %q", dc.ID, dc.Driver, k)
		}
	}
	log := a.log.With("device", dc.ID)
	d := &device{
		a:       a,
		id:      dc.ID,
		driver:  dc.Driver,
		period:  r.DevicePoll(*dc),
		timeout: roomTimeout(r),
		key:     deviceKey(r, dc),
		queue:   make(chan queued, a.o.QueueLen),
		log:     log,
	}
	dev, err := info.New(drivers.Config{
		ID:      dc.ID,
		Address: withDefaultPort(dc.Address, info.DefaultPort),
		Options: maps.Clone(dc.Options),
		Logger:  log,
		Notify:  notifier{d},
		Fetch:   a.fetch,
	})
	if err != nil {
		return nil, fmt.Errorf("agent: device %q (driver %s): %w", dc.ID, dc.Driver, err)
	}
	if dev == nil {
		return nil, fmt.Errorf("agent: device %q (driver %s): driver made no device", dc.ID, dc.Driver)
	}
	d.dev, d.actions = dev, drivers.Actions(dev)
	d.ready.Store(true)
	return d, nil
}

// withDefaultPort adds port to a host address that has none. Serial paths and addresses
// that already have a port are left alone.
func withDefaultPort(addr string, port int) string {
	if port == 0 || addr == "" || strings.ContainsAny(addr, `/\`) || strings.HasPrefix(addr, "COM") {
		return addr
	}
	if _, _, err := net.SplitHostPort(addr); err == nil {
		return addr
	}
	return net.JoinHostPort(strings.Trim(addr, "[]"), strconv.Itoa(port))
}

// Connected reports whether the agent has an open connection to the broker.
func (a *Agent) Connected() bool { return a.client.IsConnectionOpen() }

// Run connects to the broker and runs the devices until ctx is done. Then it lets running
// commands finish (each within its deadline), acks queued ones busy, publishes its retained
// online:false, disconnects, closes every device and returns. A broker that is down is not an
// error: the agent keeps trying. Run may be called once.
func (a *Agent) Run(ctx context.Context) error {
	if !a.started.CompareAndSwap(false, true) {
		return errors.New("agent: Run called more than once")
	}
	outboxDone := make(chan struct{})
	go a.drainOutbox(outboxDone)

	devCtx, stopDevices := context.WithCancel(ctx)
	defer stopDevices()
	for _, d := range a.devices {
		d.start(devCtx)
	}
	configDone := a.push.run(ctx, devCtx)

	a.mediaMu.Lock()
	a.startMedia(devCtx, a.media)
	a.mediaMu.Unlock()
	defer a.mediaRun.Wait()

	a.log.Info("agent starting", "broker", a.brokerLG, "client", a.o.ClientID, "user", a.o.Username,
		"version", a.o.Version, "devices", len(a.devices))
	connectTok := a.client.Connect()

	<-ctx.Done()
	a.log.Info("agent stopping")

	// Running commands finish and are acked; queued ones are answered busy. A config being
	// applied is applied first.
	<-configDone
	stopDevices()
	for _, d := range a.devices {
		<-d.done
	}
	a.mu.Lock()
	a.closed = true
	a.mu.Unlock()
	for _, d := range a.devices {
		d.drain()
	}

	// No birth may follow the offline status.
	a.hmu.Lock()
	a.closing = true
	a.hmu.Unlock()
	a.handlers.Wait()

	if a.client.IsConnectionOpen() {
		tok := a.client.Publish(a.statusTopic, 1, true, a.status(false, a.seq.last()))
		switch {
		case !tok.WaitTimeout(offlineWait):
			a.log.Warn("offline status not confirmed by the broker in time")
		case tok.Error() != nil:
			a.log.Warn("cannot publish offline status", "error", tok.Error())
		}
	}
	a.client.Disconnect(quiesceMS)
	a.waitDisconnected(connectTok)

	a.mu.Lock()
	a.outboxClosed = true
	a.mu.Unlock()
	close(a.outbox)
	<-outboxDone

	for _, d := range a.devices {
		if err := d.dev.Close(); err != nil {
			d.log.Warn("closing device", "error", err)
		}
	}
	a.log.Info("agent stopped")
	return nil
}

// waitDisconnected waits until paho has stopped: a connect or reconnect in progress ends
// only after its current sleep.
func (a *Agent) waitDisconnected(connectTok mqtt.Token) {
	deadline := time.Now().Add(a.retry + a.o.MaxBackoff + connectTimeout + time.Second)
	for a.client.IsConnected() && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if !connectTok.WaitTimeout(time.Until(deadline)) {
		a.log.Warn("MQTT client still connecting at shutdown")
	}
}

func (a *Agent) clientOptions() *mqtt.ClientOptions {
	o := mqtt.NewClientOptions()
	o.AddBroker(a.o.Broker)
	o.SetClientID(a.o.ClientID)
	o.SetUsername(a.o.Username)
	o.SetPassword(a.o.Password)
	o.SetProtocolVersion(4) // MQTT 3.1.1, no fallback to 3.1
	o.SetCleanSession(false)
	o.SetStore(newCopyStore())
	o.SetResumeSubs(false) // the on-connect handler subscribes anew every time
	o.SetOrderMatters(true)
	o.SetKeepAlive(keepAlive)
	o.SetPingTimeout(pingTimeout)
	o.SetConnectTimeout(connectTimeout)
	o.SetWriteTimeout(writeTimeout)
	o.SetAutoReconnect(true)
	o.SetMaxReconnectInterval(a.o.MaxBackoff)
	o.SetConnectRetry(true)
	o.SetConnectRetryInterval(a.retry)
	o.SetBinaryWill(a.statusTopic, a.status(false, a.seq.next()), 1, true)
	// Queued commands of the persistent session may arrive before the on-connect handler
	// subscribes, so every message goes through the default handler.
	o.SetDefaultPublishHandler(a.onMessage)
	if a.o.TLS != nil {
		o.SetTLSConfig(a.o.TLS)
	}
	o.SetOnConnectHandler(a.onConnect)
	o.SetReconnectingHandler(a.onReconnecting)
	o.SetConnectionNotificationHandler(a.onConnNotification)
	return o
}

// status encodes the agent status (birth or will) with seq.
func (a *Agent) status(online bool, seq uint64) []byte {
	return wire.Encode(wire.AgentStatus{
		Online:  online,
		Agent:   a.o.ClientID,
		Version: a.o.Version,
		Seq:     seq,
		At:      time.Now().UTC(),
		Config:  a.push.status(),
	})
}

// onReconnecting runs before each reconnect attempt with paho's live options: the
// connection it may make gets a new seq, in its will now and in its birth later.
func (a *Agent) onReconnecting(_ mqtt.Client, o *mqtt.ClientOptions) {
	o.WillPayload = a.status(false, a.seq.next())
}

func (a *Agent) onConnNotification(_ mqtt.Client, n mqtt.ConnectionNotification) {
	switch n := n.(type) {
	case mqtt.ConnectionNotificationFailed:
		a.log.Warn("cannot connect to broker", "broker", a.brokerLG, "error", n.Reason)
	case mqtt.ConnectionNotificationLost:
		a.log.Warn("connection to broker lost", "broker", a.brokerLG, "error", n.Reason)
	case mqtt.ConnectionNotificationConnecting:
		if n.IsReconnect {
			a.log.Debug("reconnecting to broker", "broker", a.brokerLG, "attempt", n.Attempt)
		}
	}
}

// onConnect runs (in its own goroutine) after every connect: subscribe, birth, states.
func (a *Agent) onConnect(c mqtt.Client) {
	if !a.beginHandler() {
		return
	}
	defer a.handlers.Done()
	a.connMu.Lock()
	defer a.connMu.Unlock()

	seq := a.seq.last()
	tok := c.SubscribeMultiple(map[string]byte{a.cmdFilter: 1, a.configTopic: 1}, nil)
	switch {
	case !tok.WaitTimeout(subscribeWait):
		a.log.Error("subscribe not acknowledged in time", "timeout", subscribeWait)
	case tok.Error() != nil:
		a.log.Error("cannot subscribe", "error", tok.Error())
	default:
		if st, ok := tok.(*mqtt.SubscribeToken); ok {
			for f, q := range st.Result() {
				if q > 2 {
					a.log.Error("broker refused subscription", "topic", f)
				}
			}
		}
	}
	a.publish(a.statusTopic, 1, true, a.status(true, seq))
	for _, d := range a.deviceList() {
		d.republish()
	}
	a.log.Info("connected to broker", "broker", a.brokerLG, "seq", seq)
}

// publish hands a message to paho without waiting for the broker; an immediate failure is
// logged. QoS 1 messages published while paho reconnects are sent when it is back.
func (a *Agent) publish(topic string, qos byte, retained bool, payload []byte) {
	tok := a.client.Publish(topic, qos, retained, payload)
	select {
	case <-tok.Done():
		if err := tok.Error(); err != nil {
			a.log.Warn("cannot publish", "topic", topic, "error", err)
		}
	default:
	}
}

// post leaves a message (an ack or an event, QoS 1) for the outbox. The caller holds a.mu
// for reading. The outbox is bounded: when a flood fills it, the message is dropped with an
// error in the log.
func (a *Agent) post(topic string, payload []byte) {
	if a.outboxClosed {
		a.log.Warn("agent stopped; answer not sent", "topic", topic)
		return
	}
	select {
	case a.outbox <- outMsg{topic, payload}:
	default:
		a.log.Error("outbox full; answer dropped", "topic", topic)
	}
}

func (a *Agent) drainOutbox(done chan<- struct{}) {
	defer close(done)
	for m := range a.outbox {
		a.publish(m.topic, 1, false, m.payload)
	}
}

func (a *Agent) connected() bool { return a.client.IsConnectionOpen() }

// seqGen makes the seq of each connection: max(previous + 1, Unix time in ms).
type seqGen struct {
	v   atomic.Uint64
	now func() time.Time // nil: time.Now
}

func (g *seqGen) next() uint64 {
	now := time.Now
	if g.now != nil {
		now = g.now
	}
	ms := uint64(max(now().UnixMilli(), 0))
	for {
		old := g.v.Load()
		n := max(old+1, ms)
		if g.v.CompareAndSwap(old, n) {
			return n
		}
	}
}

func (g *seqGen) last() uint64 { return g.v.Load() }
