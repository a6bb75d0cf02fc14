package hub

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/bailiff/bailiff/internal/hub/queue"
	"github.com/bailiff/bailiff/internal/wire"
)

// startQueues makes the litigation halls' queues: their changes go to the event stream, their
// tickets are printed through device commands, and their lengths are metrics.
func (h *Hub) startQueues() error {
	q, err := queue.New(context.Background(), h.opts.Rooms, queue.Options{
		Store:  h.store,
		Notify: func(e queue.Event) { h.feed.Publish("queue", e) },
		Print:  h.printTicket,
		Log:    h.log,
		Shared: h.sharing(), // the hubs of the group serve the halls together, through the store
	})
	if err != nil {
		return fmt.Errorf("hub: %w", err)
	}
	h.queues = q
	h.metrics.reg.MustRegister(q)
	return nil
}

// printTicket sends a print command to a room's printer and waits for its ack.
func (h *Hub) printTicket(ctx context.Context, site, room, device string, args wire.PrintArgs) error {
	raw, err := json.Marshal(args)
	if err != nil {
		return err
	}
	ack, err := h.router.Send(ctx, site, room, device, wire.ActPrint, raw, "queue")
	if err != nil {
		return err
	}
	if !ack.OK {
		if ack.Error != nil {
			return ack.Error
		}
		return fmt.Errorf("print on %s/%s/%s failed", site, room, device)
	}
	return nil
}

// queueEvent hands a device event to the queues (a kiosk button issues a ticket).
func (h *Hub) queueEvent(topic string, payload []byte) {
	if h.queues == nil || h.queues.Len() == 0 {
		return
	}
	t, err := wire.ParseTopic(topic)
	if err != nil || t.Kind != wire.KindEvent {
		return
	}
	ev, err := wire.DecodeEvent(payload)
	if err != nil {
		return // the registry counts and logs it
	}
	h.queues.HandleEvent(t.Site, t.Room, t.Device, ev)
}
