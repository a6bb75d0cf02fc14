package agent

import (
	"errors"
	"fmt"
	"time"

	"github.com/bailiff/bailiff/drivers"
	"github.com/bailiff/bailiff/internal/wire"
)

// notifier carries what a device reports by itself to MQTT: events on the device's event
// topic, meters on the room's meter topic, announced state as the device's state.
type notifier struct{ d *device }

var (
	_ drivers.Notifier     = notifier{}
	_ drivers.LinkNotifier = notifier{}
)

func (n notifier) Event(typ string, fields map[string]any) {
	if typ == "" || !n.d.reporting() {
		return
	}
	a := n.d.a
	a.mu.RLock()
	defer a.mu.RUnlock()
	a.post(wire.DeviceTopic(a.site, a.room, n.d.id, wire.KindEvent), wire.Encode(wire.Event{Type: typ, Fields: fields}))
}

func (n notifier) Meter(levels map[string]float64) {
	if len(levels) == 0 || !n.d.reporting() {
		return
	}
	a := n.d.a
	if !a.started.Load() {
		return // not connected yet: levels are only worth anything live
	}
	m := wire.Meter{Levels: make(map[string]float64, len(levels)), At: time.Now().UTC()}
	for ch, v := range levels {
		m.Levels[n.d.id+"/"+ch] = max(min(v, 0), -200)
	}
	a.publish(wire.RoomTopic(a.site, a.room, wire.KindMeter), 0, false, wire.Encode(m))
}

func (n notifier) State(s drivers.State) {
	if n.d.reporting() {
		n.d.observe(s, nil)
	}
}

// Unreachable publishes the device unreachable now, with its last known state.
func (n notifier) Unreachable(err error) {
	if !n.d.reporting() {
		return
	}
	if !errors.Is(err, drivers.ErrUnreachable) {
		err = fmt.Errorf("%w: %w", err, drivers.ErrUnreachable)
	}
	n.d.observe(nil, err)
}
