package agent

import (
	"bytes"
	"encoding/json"
	"strings"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/bailiff/bailiff/internal/wire"
)

// EventBadCommand is the type of the event published when a command payload cannot be read
// and has no id to ack.
const EventBadCommand = "bad_command"

// queued is a command waiting for its device.
type queued struct {
	cmd      wire.Command
	received time.Time
}

// onMessage is paho's handler for every message. It runs in paho's router goroutine, so it
// only decodes and enqueues; it never waits on the network or on a device.
func (a *Agent) onMessage(_ mqtt.Client, m mqtt.Message) {
	topic := m.Topic()
	if topic == a.configTopic {
		a.onConfig(m.Payload())
		return
	}
	rest, ok := strings.CutPrefix(topic, a.cmdPrefix)
	dev, ok2 := strings.CutSuffix(rest, "/"+string(wire.KindCmd))
	if !ok || !ok2 || dev == "" || strings.Contains(dev, "/") {
		a.log.Warn("message on an unexpected topic", "topic", topic)
		return
	}
	if m.Retained() {
		// A retained command would run again on every subscribe; the hub never retains them.
		a.log.Warn("retained command ignored", "device", dev)
		return
	}
	a.onCommand(dev, m.Payload())
}

func (a *Agent) onCommand(devID string, payload []byte) {
	a.mu.RLock()
	defer a.mu.RUnlock()
	ackTopic := wire.DeviceTopic(a.site, a.room, devID, wire.KindAck)

	cmd, err := wire.DecodeCommand(payload)
	if err != nil {
		id := recoverID(payload)
		if id == "" {
			a.log.Warn("unreadable command", "device", devID, "error", err)
			a.post(wire.DeviceTopic(a.site, a.room, devID, wire.KindEvent), wire.Encode(wire.Event{
				Type:   EventBadCommand,
				Fields: map[string]any{"error": err.Error()},
			}))
			return
		}
		a.log.Warn("bad command", "device", devID, "id", id, "error", err)
		a.post(ackTopic, ackPayload(id, nil, wire.Errorf(wire.CodeBadArgs, "%v", err)))
		return
	}
	d := a.byID[devID]
	if d == nil {
		a.log.Warn("command for an unknown device", "device", devID, "id", cmd.ID, "action", cmd.Action)
		a.post(ackTopic, ackPayload(cmd.ID, nil, wire.Errorf(wire.CodeUnsupported,
			"no device %s in room %s/%s", devID, a.site, a.room)))
		return
	}
	if a.closed {
		a.post(ackTopic, ackPayload(cmd.ID, nil, wire.Errorf(wire.CodeBusy, "the agent is shutting down")))
		return
	}
	select {
	case d.queue <- queued{cmd: cmd, received: time.Now()}:
	default:
		d.log.Warn("command queue full", "id", cmd.ID, "action", cmd.Action)
		a.post(ackTopic, ackPayload(cmd.ID, nil, wire.Errorf(wire.CodeBusy,
			"device %s is busy: %d commands are waiting", devID, cap(d.queue))))
	}
}

// recoverID returns the "id" of a command payload that did not decode, when the payload
// starts as a JSON object whose "id" member is a usable string (1-128 characters) — even if
// the payload breaks off or goes wrong after it. Otherwise it returns "".
func recoverID(b []byte) string {
	if len(b) > wire.MaxPayload {
		b = b[:wire.MaxPayload]
	}
	d := json.NewDecoder(bytes.NewReader(b))
	if t, err := d.Token(); err != nil || t != json.Delim('{') {
		return ""
	}
	for {
		t, err := d.Token()
		if err != nil {
			return ""
		}
		key, ok := t.(string)
		if !ok {
			return "" // the object ended
		}
		if key == "id" {
			v, err := d.Token()
			if s, ok := v.(string); err == nil && ok && s != "" && len(s) <= 128 {
				return s
			}
			return ""
		}
		if skipValue(d) != nil {
			return ""
		}
	}
}

// skipValue reads one JSON value from d.
func skipValue(d *json.Decoder) error {
	depth := 0
	for {
		t, err := d.Token()
		if err != nil {
			return err
		}
		switch t {
		case json.Delim('{'), json.Delim('['):
			depth++
		case json.Delim('}'), json.Delim(']'):
			depth--
		}
		if depth == 0 {
			return nil
		}
	}
}

// ackPayload encodes an ack: ok with state when e is nil, else the error.
func ackPayload(id string, state map[string]any, e *wire.Error) []byte {
	ack := wire.Ack{ID: id}
	if e == nil {
		ack.OK = true
		ack.State = state
	} else {
		ack.Error = e
	}
	b, err := json.Marshal(ack)
	if err != nil { // a driver's state that JSON cannot hold; the ack still goes out
		ack.State = nil
		b = wire.Encode(ack)
	}
	return b
}
