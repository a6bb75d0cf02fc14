package agent

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bailiff/bailiff/drivers"
	"github.com/bailiff/bailiff/internal/wire"
)

// device is one device of the room and the goroutine that drives it: it runs the device's
// commands one at a time in arrival order and polls its health between them.
type device struct {
	a       *Agent
	id      string
	driver  string
	dev     drivers.Device
	actions []string
	period  time.Duration // health-poll period
	timeout time.Duration // per-command (and per-poll) deadline: the room's command_timeout
	key     string        // the device's config as it affects the device; a change restarts it
	queue   chan queued
	log     *slog.Logger
	// ready is set once dev and actions are: a driver may report (through its Notifier)
	// from its own goroutines before its constructor has returned; those reports are dropped,
	// as are reports before the agent itself is built (Agent.built).
	ready atomic.Bool

	// pending is closed when a driver call abandoned at its deadline returns at last; nil when
	// there is none. Only the device goroutine uses it.
	pending chan struct{}

	cancel context.CancelFunc // stops the goroutine started by start
	done   chan struct{}      // closed when it has stopped

	mu       sync.Mutex // guards state and stateKey, and orders the state publishes
	state    *wire.DeviceState
	stateKey []byte // state encoded without "at", to tell a change
}

// start runs the device goroutine until ctx is done or stop is called.
func (d *device) start(ctx context.Context) {
	ctx, d.cancel = context.WithCancel(ctx)
	d.done = make(chan struct{})
	go func() {
		defer close(d.done)
		d.run(ctx)
	}()
}

// run is the device goroutine. It returns when ctx is done, after the command it is
// running (which has its own deadline) is acked.
func (d *device) run(ctx context.Context) {
	defer d.waitPending()
	timer := time.NewTimer(0) // poll at once
	defer timer.Stop()
	var retry time.Duration // retry delay while the device is unreachable; 0 when it is not
	for {
		if ctx.Err() != nil { // stopping: start nothing more (select would pick at random)
			return
		}
		select {
		case <-ctx.Done():
			return
		case q := <-d.queue:
			if d.handle(ctx, q) && retry == 0 {
				timer.Reset(0) // the device looks gone: find out now
			}
		case <-timer.C:
			timer.Reset(d.healthPoll(ctx, &retry))
		}
	}
}

// healthPoll polls the device and returns when to poll next: the poll period, or while
// the device is unreachable a backoff (nextRetry) counted from the start of this poll, so a
// poll that timed out (a silent device) is not followed by a wait as well: a device that
// answers again is seen back within the poll's timeout and one exchange, not the timeout and
// a backoff.
func (d *device) healthPoll(ctx context.Context, retry *time.Duration) time.Duration {
	start := time.Now()
	st, err := d.poll(ctx)
	if ctx.Err() != nil {
		return d.period // stopping; the loop ends
	}
	if !d.observe(st, err) {
		*retry = 0
		return d.period
	}
	*retry = nextRetry(*retry, d.period, d.a.o.MaxBackoff)
	return retryWait(*retry, time.Since(start))
}

// retryWait is how long to wait after a poll that took took before the next, retry after
// the poll's start.
func retryWait(retry, took time.Duration) time.Duration { return max(0, retry-took) }

// nextRetry is the wait before the next poll of a device still unreachable after a wait of
// retry (0: it has just become unreachable): doubling from pollRetryStart, at most the poll
// period, MaxBackoff and pollRetryMax, so a device that answers again, however long it was
// away, is seen back within pollRetryMax and one poll.
func nextRetry(retry, period, maxBackoff time.Duration) time.Duration {
	ceiling := min(period, maxBackoff, pollRetryMax)
	if retry == 0 {
		return min(pollRetryStart, ceiling)
	}
	return min(2*retry, ceiling)
}

// poll asks the device for its state within the per-command deadline.
func (d *device) poll(ctx context.Context) (drivers.State, error) {
	pctx, cancel := context.WithTimeout(ctx, d.timeout)
	defer cancel()
	return callDevice(d, pctx, d.dev.Poll)
}

// handle runs one command and acks it. It reports whether the device now looks
// unreachable, so the loop polls it without waiting for the period.
func (d *device) handle(ctx context.Context, q queued) (suspect bool) {
	cmd := q.cmd
	log := d.log.With("id", cmd.ID, "action", cmd.Action, "by", cmd.By)
	if now := time.Now(); cmd.Expired(now) {
		d.ack(log, cmd.ID, nil, wire.Errorf(wire.CodeExpired, "command expired at %s, before %s could start it (received %s ago)",
			cmd.Expires.Format(time.RFC3339Nano), d.id, now.Sub(q.received).Round(time.Millisecond)))
		return false
	}
	args, err := wire.ParseArgs(cmd.Action, cmd.Args)
	if err != nil {
		d.ack(log, cmd.ID, nil, asWireError(err))
		return false
	}
	// A command that has started runs to its ack even when the agent is stopping. The action
	// and the poll after it share one deadline: the room's command timeout, or sooner, a
	// moment before the command expires, so the ack reaches the hub while it still waits.
	base, cancel := context.WithDeadline(context.WithoutCancel(ctx), commandDeadline(cmd, time.Now(), d.timeout))
	defer cancel()
	if cmd.Action != wire.ActRefresh {
		_, err := callDevice(d, base, func(ctx context.Context) (struct{}, error) {
			return struct{}{}, drivers.Do(ctx, d.dev, cmd.Action, args)
		})
		if err != nil {
			e := d.commandError(err, errors.Is(base.Err(), context.DeadlineExceeded))
			d.ack(log, cmd.ID, nil, e)
			return e.Code == wire.CodeUnreachable || e.Code == wire.CodeTimeout
		}
	}
	st, err := d.poll(base)
	if err != nil && cmd.Action != wire.ActRefresh && errors.Is(base.Err(), context.DeadlineExceeded) {
		// The action used up the deadline and left the poll no time: that says nothing about
		// the device. Ack with the last known state; the health poll looks again at once.
		d.ack(log, cmd.ID, d.currentState(), nil)
		return true
	}
	unreachable := d.observe(st, err)
	if cmd.Action == wire.ActRefresh && err != nil {
		d.ack(log, cmd.ID, nil, d.commandError(err, isTimeout(err)))
		return unreachable
	}
	// The action succeeded; a poll that failed after it shows in the state, not the ack.
	d.ack(log, cmd.ID, d.currentState(), nil)
	return unreachable
}

// ackMargin is how long before a command's expiry the agent stops working on it, so that its
// ack still finds the hub waiting.
const ackMargin = 200 * time.Millisecond

// commandDeadline is when a command must be done: timeout after now, or ackMargin before it
// expires if that is sooner.
func commandDeadline(cmd wire.Command, now time.Time, timeout time.Duration) time.Time {
	dl := now.Add(timeout)
	if !cmd.Expires.IsZero() {
		if e := cmd.Expires.Add(-ackMargin); e.Before(dl) {
			dl = e
		}
	}
	return dl
}

// commandError maps a driver error onto a contract error.
func (d *device) commandError(err error, timedOut bool) *wire.Error {
	if timedOut || isTimeout(err) {
		return wire.Errorf(wire.CodeTimeout, "%s did not answer in time (command timeout %v): %v", d.id, d.timeout, err)
	}
	var we *wire.Error
	if errors.As(err, &we) {
		return we
	}
	return &wire.Error{Code: drivers.Code(err), Message: err.Error()}
}

// asWireError returns err as a *wire.Error (ParseArgs returns them), else bad_args.
func asWireError(err error) *wire.Error {
	var we *wire.Error
	if errors.As(err, &we) {
		return we
	}
	return wire.Errorf(wire.CodeBadArgs, "%v", err)
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded) ||
		(errors.As(err, &ne) && ne.Timeout())
}

func (d *device) ack(log *slog.Logger, id string, state map[string]any, e *wire.Error) {
	if e != nil {
		log.Info("command failed", "code", e.Code, "error", e.Message)
	} else {
		log.Info("command done")
	}
	d.a.publish(wire.DeviceTopic(d.a.site, d.a.room, d.id, wire.KindAck), 1, false, ackPayload(id, state, e))
}

// observe turns a poll's result into the device state and publishes it when it changed.
// It reports whether the device is unreachable: a poll error that wraps
// drivers.ErrUnreachable or a timeout. Any other error is a fault of a device that answered.
// An unreachable device keeps its last known state beside the error.
func (d *device) observe(st drivers.State, err error) (unreachable bool) {
	actions := d.actions
	if _, ok := d.dev.(drivers.ActionLister); ok {
		actions = drivers.Actions(d.dev) // they follow what the device says of itself
	}
	ds := wire.DeviceState{Driver: d.driver, Actions: actions, At: time.Now().UTC()}
	switch {
	case err == nil:
		ds.Reachable = true
		ds.State = st
	case errors.Is(err, drivers.ErrUnreachable) || isTimeout(err):
		unreachable = true
		ds.Error = err.Error()
		ds.State = d.currentState()
	default:
		ds.Reachable = true
		ds.Error = err.Error()
		ds.State = st
		if st == nil {
			ds.State = d.currentState()
		}
	}
	d.setState(ds)
	return unreachable
}

func (d *device) setState(ds wire.DeviceState) {
	ds.State = maps.Clone(ds.State)
	if ds.State == nil {
		ds.State = map[string]any{}
	}
	key, err := stateKey(ds)
	if err != nil {
		msg := "state cannot be encoded: " + err.Error()
		if ds.Error != "" {
			msg = ds.Error + "; " + msg
		}
		ds.Error = msg
		ds.State = map[string]any{}
		key, _ = stateKey(ds)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	prev := d.state
	d.state = &ds
	if prev != nil && bytes.Equal(key, d.stateKey) {
		return
	}
	d.stateKey = key
	switch {
	case !ds.Reachable && (prev == nil || prev.Reachable):
		d.log.Warn("device unreachable", "error", ds.Error)
	case ds.Reachable && prev != nil && !prev.Reachable:
		d.log.Info("device reachable again")
	case ds.Error != "" && (prev == nil || prev.Error != ds.Error):
		d.log.Warn("device reports a fault", "error", ds.Error)
	}
	// Not connected: the on-connect handler republishes every state.
	if d.a.connected() {
		d.publishStateLocked()
	}
}

func stateKey(ds wire.DeviceState) ([]byte, error) {
	ds.At = time.Time{}
	return json.Marshal(ds)
}

// republish publishes the last known state again (after a connect).
func (d *device) republish() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.state != nil {
		d.publishStateLocked()
	}
}

// publishStateLocked publishes the state, retained. d.mu is held so that two publishes of
// this device's state reach paho in the order the state changed.
func (d *device) publishStateLocked() {
	d.a.publish(wire.DeviceTopic(d.a.site, d.a.room, d.id, wire.KindState), 1, true, wire.Encode(d.state))
}

// currentState returns the last known state map (nil before the first poll).
func (d *device) currentState() map[string]any {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.state == nil {
		return nil
	}
	return d.state.State
}

// drain acks busy every command still queued (the agent is stopping).
func (d *device) drain() { d.drainWith("the agent is shutting down") }

// callDevice runs f on the device and returns by ctx's deadline even when the driver does
// not honour ctx. A call abandoned that way is left to finish; the next call waits for it
// first (within its own deadline), so the device is never called from two goroutines at once.
func callDevice[T any](d *device, ctx context.Context, f func(context.Context) (T, error)) (T, error) {
	var zero T
	if d.pending != nil {
		select {
		case <-d.pending:
			d.pending = nil
		case <-ctx.Done():
			return zero, fmt.Errorf("an earlier call to the device has not returned: %w", ctx.Err())
		}
	}
	type result struct {
		v   T
		err error
	}
	res := make(chan result, 1)
	done := make(chan struct{})
	go func() {
		defer close(done)
		v, err := f(ctx)
		res <- result{v, err}
	}()
	select {
	case r := <-res:
		<-done
		return r.v, r.err
	case <-ctx.Done():
		// A driver that honours ctx returns about now, with an error that says more.
		grace := time.NewTimer(callGrace)
		defer grace.Stop()
		select {
		case r := <-res:
			<-done
			return r.v, r.err
		case <-grace.C:
		}
		d.pending = done
		return zero, fmt.Errorf("the driver did not return by the deadline: %w", ctx.Err())
	}
}

// callGrace is how long past the deadline callDevice waits for the driver's own answer.
const callGrace = 50 * time.Millisecond

// waitPending waits, a while, for a driver call abandoned at its deadline.
func (d *device) waitPending() {
	if d.pending == nil {
		return
	}
	t := time.NewTimer(d.timeout)
	defer t.Stop()
	select {
	case <-d.pending:
		d.pending = nil
	case <-t.C:
		d.log.Error("a driver call has not returned long after its deadline; closing the device anyway")
	}
}

// reporting tells whether the device's Notifier may publish yet: the device and its agent
// are both made.
func (d *device) reporting() bool { return d.ready.Load() && d.a.built.Load() }
