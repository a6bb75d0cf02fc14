package hub

import (
	"context"
	"fmt"
	"time"

	"github.com/bailiff/bailiff/internal/hub/api"
	"github.com/bailiff/bailiff/internal/hub/broker"
	"github.com/bailiff/bailiff/internal/wire"
)

// Several hubs can share one external broker and one PostgreSQL store (ExternalBroker.
// ShareGroup): an API client or a panel may reach any of them, behind a load balancer.
//
// What every hub receives whole, on its own subscriptions: the agents' presence, device
// state, events and meters, because each hub answers GETs and event streams from its own
// registry and so must see every room; and the acks, because an ack must complete its command
// on the hub that sent it — a shared subscription would hand it to one hub of the group,
// often the wrong one. A hub's command IDs start with its node ID (commands.Router.SetOrigin),
// so another hub's acks are told apart and ignored (bailiff_acks_other_hubs_total), never
// taken as late.
//
// What the group shares ($share/<group>/…, on a second MQTT client so that the broker's two
// deliveries of one message never reach the same handler): the work a message asks of one hub
// only. That is the device events that drive the litigation hall queue (a ticket button
// pressed issues one ticket, printed once).
//
// What each hub does itself reaches the other hubs' event streams over the hub feed
// (hubfeed.go); the queues are served from the store (queue.Options.Shared); one hub, the
// leader, runs the group's periodic jobs (leader.go).
//
// In the store, what one SQLite writer made safe is locked in PostgreSQL: the audit log's and
// notes' hash chains take an advisory lock per chain, an alarm raised by two hubs at once is
// stored once, and room config revisions retry on a taken number (internal/store/dialect.go).

// sharedEvents is the filter of the events the group shares.
func sharedEvents(group string) string { return "$share/" + group + "/" + wire.FilterEvents }

// startShared connects the hub's second MQTT client, whose only subscriptions are the group's
// shared ones.
func (h *Hub) startShared(nodeID, user, password string) error {
	group := h.opts.External.ShareGroup
	bus, err := broker.DialBus(broker.BusConfig{
		URL: h.brokerURL, ClientID: "hub/" + nodeID + "/shared",
		Username: user, Password: password, Logger: h.log.With("share_group", group), TLS: h.busTLS(),
	}, 15*time.Second)
	if err != nil {
		return fmt.Errorf("hub: shared subscriptions: %w", err)
	}
	h.shared = bus
	if err := bus.Subscribe(sharedEvents(group), 1, func(topic string, payload []byte, _ bool) {
		h.queueEvent(topic, payload)
	}); err != nil {
		return fmt.Errorf("hub: shared subscriptions: %w", err)
	}
	return nil
}

// sharing reports whether this hub is one of a group sharing a broker.
func (h *Hub) sharing() bool { return h.opts.External != nil && h.opts.External.ShareGroup != "" }

// sceneLock takes a room's scene lock in the shared store, so that hubs of a share group run a
// room's scenes one at a time between them (scenes.Runner.Exclusive).
func (h *Hub) sceneLock(ctx context.Context, site, room string) (func(), bool, error) {
	l, err := h.store.TryLock(ctx, "scene/"+site+"/"+room)
	if err != nil || l == nil {
		return nil, false, err
	}
	return l.Release, true, nil
}

// sharedLoginCounts is where failed logins are counted for the whole share group (the shared
// store), so a guesser spreading tries over the hubs is limited as on one; nil for one hub.
func (h *Hub) sharedLoginCounts() api.LoginCounter {
	if !h.sharing() {
		return nil
	}
	return h.store
}
