package shure

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"time"

	"github.com/bailiff/bailiff/drivers"
	"github.com/bailiff/bailiff/drivers/internal/devlink"
)

// link is one connection to the device. lost is closed when it ends; err says why.
type link struct {
	conn net.Conn
	lost chan struct{}
	err  error
}

// expect is one report a request waits for: param on channel ch (-1: none), and when value
// is not "" that value (compared as a number when both are digits).
type expect struct {
	param string
	ch    int
	value string
}

func (e expect) matches(m Message) bool {
	if m.Kind != KindRep || m.Param != e.param || channelNumber(m.Channel) != e.ch {
		return false
	}
	if e.value == "" || e.value == m.Value {
		return true
	}
	if isDigits(e.value) && isDigits(m.Value) {
		a, _ := strconv.Atoi(e.value)
		b, _ := strconv.Atoi(m.Value)
		return a == b
	}
	return false
}

// request is the exchange in flight: the reports it waits for, filled in as they come.
type request struct {
	cmd  string // the first command, for errors
	want []expect
	got  []Message
	have []bool
	left int
	done chan struct{}
	err  error
}

func newRequest(cmd string, want []expect) *request {
	return &request{cmd: cmd, want: want, got: make([]Message, len(want)), have: make([]bool, len(want)),
		left: len(want), done: make(chan struct{})}
}

// offer gives m to the request; it reports whether m was one of its answers. d.mu is held.
func (r *request) offer(m Message) bool {
	if r.left == 0 {
		return false
	}
	if isErr(m) {
		r.err = &ReplyError{Command: r.cmd}
		r.left = 0
		close(r.done)
		return true
	}
	for i, e := range r.want {
		if !r.have[i] && e.matches(m) {
			r.got[i], r.have[i] = m, true
			r.left--
			if r.left == 0 {
				close(r.done)
			}
			return true
		}
	}
	return false
}

// fail ends the request with err. d.mu is held.
func (r *request) fail(err error) {
	if r.left == 0 {
		return
	}
	r.err, r.left = err, 0
	close(r.done)
}

// start starts the connection goroutine once, at the first exchange: New and the factory
// never touch the network.
func (d *Device) start() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.started || d.closed {
		return
	}
	d.started = true
	d.wg.Add(1)
	go d.run()
}

// run keeps one connection open: it dials, turns metering on, reads and dispatches every
// message until the connection ends, then dials again after a backoff (at once when an
// exchange is waiting). It returns when the Device is closed.
func (d *Device) run() {
	defer d.wg.Done()
	backoff := d.opts.MinBackoff
	for {
		dctx, cancel := context.WithTimeout(d.ctx, d.opts.Timeout)
		c, err := d.dial(dctx)
		cancel()
		if err != nil {
			if d.ctx.Err() != nil {
				return
			}
			d.log.Debug("shure: connect failed", "error", err, "retry_in", backoff)
			d.attemptFailed(err)
			if !d.sleep(backoff) {
				return
			}
			backoff = min(2*backoff, d.opts.MaxBackoff)
			continue
		}
		l := &link{conn: c, lost: make(chan struct{})}
		if !d.setLink(l) {
			c.Close()
			return
		}
		if d.connected.Add(1) > 1 {
			d.log.Debug("shure: connected again")
		}
		err = d.setup(l)
		if err == nil {
			err = d.readLoop(l)
		}
		d.dropLink(l, err)
		if d.ctx.Err() != nil {
			return
		}
		d.log.Debug("shure: connection lost", "error", err)
		// A device that closed an idle connection comes back at once; one that keeps dropping
		// it is tried no faster than the backoff.
		if time.Since(d.linkSince(l)) > d.opts.MaxBackoff {
			backoff = d.opts.MinBackoff
		}
		if !d.sleep(backoff) {
			return
		}
		backoff = min(2*backoff, d.opts.MaxBackoff)
	}
}

// setup sends what a new connection needs: the meter rate (metering is per connection and
// off until asked for).
func (d *Device) setup(l *link) error {
	if d.opts.MeterRate <= 0 {
		return nil
	}
	cmd := Command{Kind: KindSet, Param: ParamMeterRate, Value: fmt.Sprintf("%05d", d.opts.MeterRate.Milliseconds())}
	l.conn.SetWriteDeadline(time.Now().Add(d.opts.Timeout))
	_, err := l.conn.Write([]byte(cmd.String()))
	return err
}

// readLoop reads messages until the connection fails or goes out of step. With metering on,
// samples arrive at the meter rate; a connection silent for much longer than that is dead.
func (d *Device) readLoop(l *link) error {
	r := newReader(l.conn)
	idle := time.Duration(0)
	if d.opts.MeterRate > 0 {
		idle = max(10*d.opts.MeterRate, 3*time.Second)
	}
	for {
		if idle > 0 {
			l.conn.SetReadDeadline(time.Now().Add(idle))
		}
		m, err := readMessage(r)
		if err != nil {
			if isGarbled(err) {
				d.mu.Lock()
				if d.pending != nil {
					d.pending.fail(err)
				}
				d.mu.Unlock()
			}
			return err
		}
		if m.Kind != KindRep && m.Kind != KindSample {
			err := garbled(Command{Kind: m.Kind, Channel: m.Channel, Param: m.Param, Value: m.Value}.String(), "a device sends REP and SAMPLE only")
			d.mu.Lock()
			if d.pending != nil {
				d.pending.fail(err)
			}
			d.mu.Unlock()
			return err
		}
		d.dispatch(m)
	}
}

// dispatch handles one message: a sample goes to the meters; a report updates the state,
// completes the exchange waiting for it, and otherwise, when it changed the state of a
// device polled before, goes to Notify.State with the whole state.
func (d *Device) dispatch(m Message) {
	if m.Kind == KindSample {
		d.notify.Meter(meterLevels(m.Levels))
		return
	}
	d.mu.Lock()
	changed, err := d.cache.apply(m)
	if err != nil {
		d.log.Debug("shure: report not understood", "error", err)
	}
	answered := d.pending != nil && d.pending.offer(m)
	var st drivers.State
	if changed && !answered && d.polled {
		st = d.cache.state()
	}
	d.mu.Unlock()
	if isErr(m) && !answered {
		d.log.Debug("shure: REP ERR with no command waiting")
	}
	if st != nil {
		d.notify.State(st)
	}
}

// exchange sends cmds in one write and waits until every report in want has come (or REP
// ERR). what names the operation in errors. When the connection is lost while it waits, it
// is sent once more on a new one: every command this driver sends is idempotent.
func (d *Device) exchange(ctx context.Context, what string, cmds []Command, want []expect) ([]Message, error) {
	var out []byte
	for _, c := range cmds {
		b, err := c.encode()
		if err != nil {
			return nil, fmt.Errorf("shure: %s: %w", what, err)
		}
		out = append(out, b...)
	}
	d.reqMu.Lock()
	defer d.reqMu.Unlock()
	for attempt := 1; ; attempt++ {
		got, again, err := d.try(ctx, cmds[0].String(), out, want)
		if err == nil {
			return got, nil
		}
		if again && attempt == 1 {
			d.log.Debug("shure: connection lost during an exchange, sending again", "error", err)
			continue
		}
		return nil, fmt.Errorf("shure: %s: %w", what, err)
	}
}

// try makes one attempt at an exchange. again reports whether a new connection may cure
// the failure.
func (d *Device) try(ctx context.Context, first string, out []byte, want []expect) (got []Message, again bool, err error) {
	if err := ctx.Err(); err != nil {
		return nil, false, devlink.CtxError("", err)
	}
	deadline, fromCtx := devlink.Deadline(ctx, d.opts.Timeout)
	l, err := d.awaitLink(ctx, deadline, fromCtx)
	if err != nil {
		return nil, false, err
	}
	req := newRequest(first, want)
	d.mu.Lock()
	if d.link != l {
		d.mu.Unlock()
		return nil, d.retryable(ctx), fmt.Errorf("connection lost: %w", drivers.ErrUnreachable)
	}
	d.pending = req
	d.mu.Unlock()
	defer func() {
		d.mu.Lock()
		if d.pending == req {
			d.pending = nil
		}
		d.mu.Unlock()
	}()
	l.conn.SetWriteDeadline(deadline)
	if _, err := l.conn.Write(out); err != nil {
		d.dropLink(l, err)
		return nil, d.retryable(ctx, err), d.ioError(ctx, "send "+first, err, fromCtx)
	}
	timer := time.NewTimer(time.Until(deadline))
	defer timer.Stop()
	select {
	case <-req.done:
		return req.got, false, req.err
	case <-l.lost:
		select {
		case <-req.done: // answered (or garbled) just before the connection went
			return req.got, false, req.err
		default:
		}
		return nil, d.retryable(ctx, l.err), d.ioError(ctx, "answer to "+first, l.err, fromCtx)
	case <-timer.C:
		// A late answer would be taken for the next command's: start afresh.
		d.dropLink(l, os.ErrDeadlineExceeded)
		return nil, false, d.ioError(ctx, "answer to "+first, os.ErrDeadlineExceeded, fromCtx)
	case <-ctx.Done():
		d.dropLink(l, ctx.Err())
		return nil, false, devlink.CtxError("answer to "+first, ctx.Err())
	}
}

// awaitLink returns the open connection, waiting for the connection goroutine to make one
// (and waking it from its backoff) when there is none. It fails when a connection attempt
// made while it waits fails.
func (d *Device) awaitLink(ctx context.Context, deadline time.Time, fromCtx bool) (*link, error) {
	d.start()
	timer := time.NewTimer(time.Until(deadline))
	defer timer.Stop()
	d.mu.Lock()
	seen := d.attempts
	d.mu.Unlock()
	for {
		d.mu.Lock()
		if d.closed {
			d.mu.Unlock()
			return nil, errClosed
		}
		if d.link != nil {
			l := d.link
			d.mu.Unlock()
			return l, nil
		}
		if d.attempts > seen {
			err := d.lastErr
			d.mu.Unlock()
			return nil, fmt.Errorf("connect: %w: %w", err, drivers.ErrUnreachable)
		}
		changed := d.changed
		d.mu.Unlock()
		select {
		case d.kick <- struct{}{}:
		default:
		}
		select {
		case <-changed:
		case <-timer.C:
			return nil, d.ioError(ctx, "connect", os.ErrDeadlineExceeded, fromCtx)
		case <-ctx.Done():
			return nil, devlink.CtxError("connect", ctx.Err())
		}
	}
}

// sleep waits for d, a kick from a waiting exchange, or Close (false).
func (d *Device) sleep(dur time.Duration) bool {
	t := time.NewTimer(dur)
	defer t.Stop()
	select {
	case <-t.C:
	case <-d.kick:
	case <-d.ctx.Done():
		return false
	}
	return true
}

// broadcast wakes everyone waiting for a change of connection. d.mu is held.
func (d *Device) broadcast() {
	close(d.changed)
	d.changed = make(chan struct{})
}

func (d *Device) attemptFailed(err error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.attempts++
	d.lastErr = err
	d.broadcast()
}

// setLink makes l the connection; false when the Device is closed.
func (d *Device) setLink(l *link) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return false
	}
	d.link, d.linkAt = l, time.Now()
	d.broadcast()
	return true
}

func (d *Device) linkSince(*link) time.Time {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.linkAt
}

// dropLink closes l, once, and fails the exchange waiting on it.
func (d *Device) dropLink(l *link, err error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	select {
	case <-l.lost:
		return
	default:
	}
	if err == nil {
		err = errors.New("connection closed")
	}
	l.err = err
	close(l.lost)
	l.conn.Close()
	if d.link == l {
		d.link = nil
		d.broadcast()
	}
}

// retryable reports whether an exchange that lost its connection may be sent again: not
// after a timeout, a cancelled context or Close.
func (d *Device) retryable(ctx context.Context, errs ...error) bool {
	d.mu.Lock()
	closed := d.closed
	d.mu.Unlock()
	for _, err := range errs {
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return false
		}
	}
	return !closed && ctx.Err() == nil
}

// ioError wraps a failed read or write: a deadline is a timeout (context.DeadlineExceeded
// and drivers.ErrUnreachable), anything else drivers.ErrUnreachable.
func (d *Device) ioError(ctx context.Context, stage string, err error, fromCtx bool) error {
	d.mu.Lock()
	closed := d.closed
	d.mu.Unlock()
	switch {
	case ctx.Err() == nil && closed:
		return errClosed
	case ctx.Err() == nil && isGarbled(err):
		return err
	}
	return devlink.IOError(ctx, stage, err, fromCtx, d.opts.Timeout, nil)
}
