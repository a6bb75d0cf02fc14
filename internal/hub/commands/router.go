// Package commands sends commands to devices over MQTT and matches their acks by id. Every
// command ends in exactly one outcome: the agent's ack, or timeout when none came in time.
package commands

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bailiff/bailiff/internal/hub/broker"
	"github.com/bailiff/bailiff/internal/wire"
)

// Publisher is what the router needs of the MQTT client.
type Publisher interface {
	Publish(topic string, qos byte, retained bool, payload []byte) error
}

// DeadlinePublisher is a Publisher that can refuse to send at all when the broker is away
// (returning an error that wraps ErrNotSent) and bound its wait for the broker to a deadline.
// The router uses it when the publisher has it, so that a command the broker never took ends
// at once, and one that may still reach the agent later ends only when it has expired.
type DeadlinePublisher interface {
	PublishBy(topic string, retained bool, payload []byte, deadline time.Time) error
}

// ErrNotSent is what a DeadlinePublisher's error wraps when the message was not sent at all.
var ErrNotSent = broker.ErrNotSent

// Observer is told of every command's outcome and round-trip time (metrics).
type Observer func(action, code string, d time.Duration)

// Router is safe for concurrent use.
type Router struct {
	pub     Publisher
	timeout time.Duration
	log     *slog.Logger
	observe Observer

	mu      sync.Mutex
	pending map[string]chan wire.Ack

	lateAcks atomic.Int64

	// origin starts every command ID of this router ("" none): hubs sharing a broker each
	// receive every ack, and tell one for another hub's command by it (otherAcks).
	origin    string
	otherAcks atomic.Int64
}

// SetOrigin makes every command ID this router makes start with origin, and counts an ack
// whose ID does not as another hub's (OtherAcks) rather than late. Call it before Send.
func (r *Router) SetOrigin(origin string) { r.origin = origin }

// OtherAcks counts acks for commands other hubs sent (see SetOrigin).
func (r *Router) OtherAcks() int64 { return r.otherAcks.Load() }

// New returns a router that publishes with pub and gives up on an ack after timeout.
func New(pub Publisher, timeout time.Duration, log *slog.Logger, observe Observer) *Router {
	if log == nil {
		log = slog.Default()
	}
	if observe == nil {
		observe = func(string, string, time.Duration) {}
	}
	return &Router{pub: pub, timeout: timeout, log: log, observe: observe, pending: map[string]chan wire.Ack{}}
}

// LateAcks counts acks that came for no pending command (after their timeout, or unknown).
func (r *Router) LateAcks() int64 { return r.lateAcks.Load() }

// Pending is the number of commands waiting for an ack.
func (r *Router) Pending() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.pending)
}

func newID() string {
	b := make([]byte, 12)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// Send publishes a command and waits for its ack. The args are checked against the action
// first, so a bad command never reaches the agent. The returned ack is the agent's; the error
// is a *wire.Error (bad_args, unsupported, timeout, unreachable) when no ack came.
func (r *Router) Send(ctx context.Context, site, room, device, action string, args json.RawMessage, by string) (wire.Ack, error) {
	return r.SendWithin(ctx, 0, site, room, device, action, args, by)
}

// SendWithin is Send with its own timeout (a scene step's): the command expires and the wait
// ends after timeout instead of the router's; 0 is the router's.
func (r *Router) SendWithin(ctx context.Context, timeout time.Duration, site, room, device, action string, args json.RawMessage, by string) (wire.Ack, error) {
	if timeout <= 0 {
		timeout = r.timeout
	}
	start := time.Now()
	if _, err := wire.ParseArgs(action, args); err != nil {
		label := action
		if !wire.KnownAction(action) {
			label = "unknown" // a client's made-up action must not become a metric label
		}
		r.observe(label, wire.CodeOf(err), time.Since(start))
		return wire.Ack{}, err
	}
	cmd := wire.Command{ID: r.origin + newID(), Action: action, Args: args, By: by, Expires: start.Add(timeout).UTC()}
	ch := make(chan wire.Ack, 1)
	r.mu.Lock()
	r.pending[cmd.ID] = ch
	r.mu.Unlock()
	defer func() {
		r.mu.Lock()
		delete(r.pending, cmd.ID)
		r.mu.Unlock()
	}()

	topic, payload := wire.DeviceTopic(site, room, device, wire.KindCmd), wire.Encode(cmd)
	var pubErr error
	if dp, ok := r.pub.(DeadlinePublisher); ok {
		pubErr = dp.PublishBy(topic, false, payload, cmd.Expires)
		if errors.Is(pubErr, ErrNotSent) {
			// Never sent: it cannot run later, so the outcome is known now.
			r.observe(action, wire.CodeUnreachable, time.Since(start))
			return wire.Ack{}, wire.Errorf(wire.CodeUnreachable, "could not send the command to the broker: %v", pubErr)
		}
		// Sent but not confirmed: the client may still deliver it, so it ends like a command
		// without an ack, at its expiry (after which the agent does not start it), unless an
		// ack comes first.
	} else if err := r.pub.Publish(topic, 1, false, payload); err != nil {
		r.observe(action, wire.CodeUnreachable, time.Since(start))
		return wire.Ack{}, wire.Errorf(wire.CodeUnreachable, "could not send the command to the broker: %v", err)
	}
	t := time.NewTimer(time.Until(cmd.Expires))
	defer t.Stop()
	select {
	case a := <-ch:
		code := "ok"
		if !a.OK {
			code = a.Error.Code
		}
		r.observe(action, code, time.Since(start))
		return a, nil
	case <-t.C:
		if pubErr != nil {
			r.observe(action, wire.CodeUnreachable, time.Since(start))
			return wire.Ack{}, wire.Errorf(wire.CodeUnreachable, "the broker did not take the command within %s: %v", timeout, pubErr)
		}
		r.observe(action, wire.CodeTimeout, time.Since(start))
		return wire.Ack{}, wire.Errorf(wire.CodeTimeout, "no answer from %s/%s/%s within %s", site, room, device, timeout)
	case <-ctx.Done():
		r.observe(action, wire.CodeTimeout, time.Since(start))
		return wire.Ack{}, wire.Errorf(wire.CodeTimeout, "gave up waiting: %v", ctx.Err())
	}
}

// HandleAck takes one message from an ack topic.
func (r *Router) HandleAck(topic string, payload []byte) {
	a, err := wire.DecodeAck(payload)
	if err != nil {
		r.log.Warn("bad ack", "topic", topic, "error", err)
		return
	}
	r.mu.Lock()
	ch, ok := r.pending[a.ID]
	if ok {
		delete(r.pending, a.ID) // exactly one outcome, even if the ack comes twice (QoS 1)
	}
	r.mu.Unlock()
	if !ok {
		if r.origin != "" && !strings.HasPrefix(a.ID, r.origin) {
			r.otherAcks.Add(1)
			return
		}
		r.lateAcks.Add(1)
		return
	}
	ch <- a
}
