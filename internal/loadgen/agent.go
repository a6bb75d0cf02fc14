package loadgen

import (
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/bailiff/bailiff/internal/wire"
)

// simAgent is one simulated room agent: a real MQTT client that speaks contract v1 as
// internal/agent does (persistent session, client ID = user name, retained will and birth
// with the connection's seq, a retained state per device, one ack per command), with
// devices that exist only in memory.
type simAgent struct {
	g       *Generator
	site    string
	room    string
	devices []string
	client  mqtt.Client

	statusTopic string
	seq         atomic.Uint64
	connected   atomic.Bool

	mu     sync.Mutex
	states map[string]map[string]any // device → state
	closed bool
	timers sync.WaitGroup // commands being "served"
}

func newSimAgent(g *Generator, room, password string) *simAgent {
	a := &simAgent{g: g, site: g.cfg.Creds.Site, room: room, states: map[string]map[string]any{}}
	a.statusTopic = wire.RoomTopic(a.site, room, wire.KindAgent)
	for j := range g.cfg.Devices {
		d := DeviceID(j)
		a.devices = append(a.devices, d)
		a.states[d] = map[string]any{"power": "off", "input": "1"}
	}
	user := wire.AgentUser(a.site, room)
	o := mqtt.NewClientOptions()
	o.AddBroker(g.cfg.Broker)
	o.SetClientID(user)
	o.SetUsername(user)
	o.SetPassword(password)
	o.SetProtocolVersion(4)
	o.SetCleanSession(false)
	o.SetResumeSubs(false)
	o.SetOrderMatters(false)
	o.SetKeepAlive(30 * time.Second)
	o.SetPingTimeout(10 * time.Second)
	o.SetConnectTimeout(g.cfg.ConnectTimeout)
	o.SetWriteTimeout(10 * time.Second)
	o.SetAutoReconnect(true)
	o.SetMaxReconnectInterval(5 * time.Second)
	o.SetConnectRetry(true)
	o.SetConnectRetryInterval(time.Second)
	o.SetBinaryWill(a.statusTopic, a.status(false, a.nextSeq()), 1, true)
	o.SetDefaultPublishHandler(a.onMessage)
	o.SetOnConnectHandler(a.onConnect)
	o.SetReconnectingHandler(func(_ mqtt.Client, o *mqtt.ClientOptions) {
		o.WillPayload = a.status(false, a.nextSeq())
	})
	o.SetConnectionLostHandler(func(mqtt.Client, error) {
		a.connected.Store(false)
		g.errs.add("mqtt_connection_lost")
	})
	a.client = mqtt.NewClient(o)
	return a
}

// nextSeq is the contract's seq: max(previous + 1, Unix time in ms).
func (a *simAgent) nextSeq() uint64 {
	ms := uint64(max(time.Now().UnixMilli(), 0))
	for {
		old := a.seq.Load()
		n := max(old+1, ms)
		if a.seq.CompareAndSwap(old, n) {
			return n
		}
	}
}

func (a *simAgent) status(online bool, seq uint64) []byte {
	return wire.Encode(wire.AgentStatus{Online: online, Agent: wire.AgentUser(a.site, a.room),
		Version: "loadgen", Seq: seq, At: time.Now().UTC()})
}

func (a *simAgent) onConnect(c mqtt.Client) {
	tok := c.SubscribeMultiple(map[string]byte{
		wire.RoomFilter(a.site, a.room, wire.KindCmd):   1,
		wire.RoomTopic(a.site, a.room, wire.KindConfig): 1,
	}, nil)
	if !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		a.g.errs.add("mqtt_subscribe")
	}
	a.publish(a.statusTopic, 1, true, a.status(true, a.seq.Load()))
	for _, d := range a.devices {
		a.publishState(d)
	}
	a.connected.Store(true)
	a.g.connected.Add(1)
}

// publish hands a message to paho; a failure the broker reports later is counted.
func (a *simAgent) publish(topic string, qos byte, retained bool, payload []byte) {
	tok := a.client.Publish(topic, qos, retained, payload)
	go func() {
		if !tok.WaitTimeout(30*time.Second) || tok.Error() != nil {
			a.g.errs.add("mqtt_publish")
		}
	}()
}

func (a *simAgent) publishState(dev string) {
	a.mu.Lock()
	st := make(map[string]any, len(a.states[dev]))
	for k, v := range a.states[dev] {
		st[k] = v
	}
	a.mu.Unlock()
	a.publish(wire.DeviceTopic(a.site, a.room, dev, wire.KindState), 1, true, wire.Encode(wire.DeviceState{
		Reachable: true, State: st, Driver: "loadgen", Actions: []string{"input", "power", "refresh"}, At: time.Now().UTC(),
	}))
	a.g.statesSent.Add(1)
}

// changeState changes something of one device at random, as a device would on its own.
func (a *simAgent) changeState() {
	dev := a.devices[rand.IntN(len(a.devices))]
	a.mu.Lock()
	a.states[dev]["input"] = string(rune('1' + rand.IntN(8)))
	a.mu.Unlock()
	a.publishState(dev)
}

func (a *simAgent) meter() {
	levels := make(map[string]float64, len(a.devices))
	for _, d := range a.devices {
		levels[d+"/1"] = -90 + rand.Float64()*80
	}
	a.publish(wire.RoomTopic(a.site, a.room, wire.KindMeter), 0, false, wire.Encode(wire.Meter{Levels: levels, At: time.Now().UTC()}))
	a.g.metersSent.Add(1)
}

// onMessage takes a command: after the service time, the device "does" it, and the agent
// acks it and publishes the new state if it changed.
func (a *simAgent) onMessage(_ mqtt.Client, m mqtt.Message) {
	if m.Retained() {
		return
	}
	t, err := wire.ParseTopic(m.Topic())
	if err != nil || t.Kind != wire.KindCmd {
		return // the config topic
	}
	cmd, err := wire.DecodeCommand(m.Payload())
	if err != nil {
		a.g.errs.add("agent_bad_command")
		return
	}
	a.mu.Lock()
	st, ok := a.states[t.Device]
	if a.closed {
		a.mu.Unlock()
		return
	}
	a.timers.Add(1)
	a.mu.Unlock()
	ackTopic := wire.DeviceTopic(a.site, a.room, t.Device, wire.KindAck)
	time.AfterFunc(a.g.serviceTime(), func() {
		defer a.timers.Done()
		ack := wire.Ack{ID: cmd.ID}
		changed := false
		switch {
		case !ok:
			ack.Error = wire.Errorf(wire.CodeUnsupported, "no device %q", t.Device)
		case cmd.Expired(time.Now()):
			ack.Error = wire.Errorf(wire.CodeExpired, "expired before it started")
		default:
			args, err := wire.ParseArgs(cmd.Action, cmd.Args)
			if err != nil {
				ack.Error = wire.Errorf(wire.CodeBadArgs, "%v", err)
				break
			}
			a.mu.Lock()
			switch p := args.(type) {
			case *wire.PowerArgs:
				v := map[bool]string{true: "on", false: "off"}[*p.On]
				changed = st["power"] != v
				st["power"] = v
			case *wire.InputArgs:
				changed = st["input"] != p.Source
				st["input"] = p.Source
			case *wire.RefreshArgs:
			default:
				ack.Error = wire.Errorf(wire.CodeUnsupported, "the device does not do %s", cmd.Action)
			}
			if ack.Error == nil {
				ack.OK = true
				ack.State = make(map[string]any, len(st))
				for k, v := range st {
					ack.State[k] = v
				}
			}
			a.mu.Unlock()
		}
		a.publish(ackTopic, 1, false, wire.Encode(ack))
		if changed {
			a.publishState(t.Device)
		}
	})
}

// stop publishes the offline status (a clean stop) and disconnects.
func (a *simAgent) stop() {
	a.mu.Lock()
	a.closed = true
	a.mu.Unlock()
	a.timers.Wait()
	if a.client.IsConnectionOpen() {
		tok := a.client.Publish(a.statusTopic, 1, true, a.status(false, a.seq.Load()))
		if !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
			a.g.errs.add("mqtt_offline_status")
		}
	}
	a.client.Disconnect(250)
}
