package agent_test

import (
	"encoding/json"
	"testing"

	"github.com/bailiff/bailiff/internal/wire"
)

// What a driver reports by itself reaches MQTT: events on the device's event topic, levels on
// the room's meter topic as "<device>/<channel>", announced state as the device's state.
func TestNotifier(t *testing.T) {
	t.Parallel()
	b := startBroker(t, freeAddr(t), nil)
	hub := newHub(t, b.addr)
	mic := &fakeDevice{input: "x"}
	startAgent(t, b.addr, testRoom(addFake(t, "mic", mic)), nil)
	hub.status(0, "birth", online)
	mic.mu.Lock()
	n := mic.notify
	mic.mu.Unlock()
	if n == nil {
		t.Fatal("the driver got no notifier")
	}
	from := hub.mark()
	n.Event("button", map[string]any{"pin": "GPIO4", "pressed": true})
	n.Meter(map[string]float64{"1": -20.5, "2": 3})
	n.State(map[string]any{"power": true, "input": "announced"})

	ev, _ := hub.waitMsg(from, wire.DeviceTopic(site, roomID, "mic", wire.KindEvent), "button event", func(message) bool { return true })
	e, err := wire.DecodeEvent(ev.payload)
	if err != nil || e.Type != "button" || e.Fields["pin"] != "GPIO4" {
		t.Errorf("event %s: %+v %v", ev.payload, e, err)
	}
	mt, _ := hub.waitMsg(from, wire.RoomTopic(site, roomID, wire.KindMeter), "meter", func(message) bool { return true })
	m, err := wire.DecodeMeter(mt.payload)
	if err != nil || m.Levels["mic/1"] != -20.5 || m.Levels["mic/2"] != 0 {
		t.Errorf("meter %s: %+v %v", mt.payload, m, err)
	}
	hub.state(from, "mic", "announced state", func(s wire.DeviceState) bool {
		b, _ := json.Marshal(s.State)
		return s.Reachable && s.State["input"] == "announced" && len(b) > 0
	})
}
