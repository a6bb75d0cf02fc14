package escpos

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"time"

	"github.com/bailiff/bailiff/drivers"
)

// status asks for the four status bytes. On a connection that turns out dead it asks once
// more on a new one: a status request is idempotent. p.mu is held.
func (p *Printer) status(ctx context.Context, what string) (Status, error) {
	for attempt := 1; ; attempt++ {
		st, again, err := p.tryStatus(ctx)
		if err == nil {
			return st, nil
		}
		if again && attempt == 1 {
			p.log.Debug("escpos: connection lost, dialling again", "error", err)
			continue
		}
		return Status{}, fmt.Errorf("escpos: %s: %w", what, err)
	}
}

func (p *Printer) tryStatus(ctx context.Context) (st Status, again bool, err error) {
	if err := ctx.Err(); err != nil {
		return st, false, ctxError("", err)
	}
	deadline, fromCtx := p.deadline(ctx)
	c, err := p.current(ctx, deadline, fromCtx)
	if err != nil {
		return st, false, err
	}
	c.SetDeadline(deadline)
	stop := context.AfterFunc(ctx, func() { c.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	if _, err := c.Write(statusAll); err != nil {
		p.drop(c)
		return st, p.retryable(ctx, err), p.ioError(ctx, "send DLE EOT", err, fromCtx)
	}
	var b [4]byte
	if _, err := io.ReadFull(c, b[:]); err != nil {
		p.drop(c)
		return st, p.retryable(ctx, err), p.ioError(ctx, "read status", err, fromCtx)
	}
	for i, n := range []byte{StatusPrinter, StatusOffline, StatusError, StatusPaper} {
		if err := decodeStatus(n, b[i], &st); err != nil {
			p.drop(c) // out of step
			return Status{}, false, err
		}
	}
	return st, false, nil
}

// send writes data once. p.mu is held.
func (p *Printer) send(ctx context.Context, data []byte) error {
	if err := ctx.Err(); err != nil {
		return ctxError("", err)
	}
	deadline, fromCtx := p.deadline(ctx)
	c, err := p.current(ctx, deadline, fromCtx)
	if err != nil {
		return err
	}
	c.SetWriteDeadline(deadline)
	stop := context.AfterFunc(ctx, func() { c.SetWriteDeadline(time.Unix(1, 0)) })
	defer stop()
	if _, err := c.Write(data); err != nil {
		p.drop(c)
		return p.ioError(ctx, "send", err, fromCtx)
	}
	return nil
}

// current returns the open connection, dialling one when there is none. After failed
// attempts it waits the backoff first when the deadline leaves time for that, and otherwise
// fails at once with the last attempt's error.
func (p *Printer) current(ctx context.Context, deadline time.Time, fromCtx bool) (net.Conn, error) {
	p.cmu.Lock()
	c, closed, wait, last := p.conn, p.closed, time.Until(p.nextDial), p.lastErr
	p.cmu.Unlock()
	if closed {
		return nil, errClosed
	}
	if c != nil {
		return c, nil
	}
	if wait > 0 {
		if time.Until(deadline) < wait {
			return nil, fmt.Errorf("connect: %v (next attempt in %v): %w", last, wait.Round(time.Millisecond), drivers.ErrUnreachable)
		}
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return nil, ctxError("connect", ctx.Err())
		}
	}
	dctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	c, err := p.dial(dctx)
	p.cmu.Lock()
	defer p.cmu.Unlock()
	if err != nil {
		p.failures++
		backoff := p.opts.MinBackoff << min(p.failures-1, 16)
		p.nextDial = time.Now().Add(min(backoff, p.opts.MaxBackoff))
		p.lastErr = err
		if ctx.Err() != nil {
			return nil, ctxError("connect", ctx.Err())
		}
		return nil, fmt.Errorf("connect: %w: %w", err, drivers.ErrUnreachable)
	}
	if p.closed {
		c.Close()
		return nil, errClosed
	}
	p.failures, p.nextDial, p.lastErr = 0, time.Time{}, nil
	p.conn = c
	if p.connections.Add(1) > 1 {
		p.log.Debug("escpos: connected again")
	}
	return c, nil
}

// drop closes c and forgets it.
func (p *Printer) drop(c net.Conn) {
	p.cmu.Lock()
	if p.conn == c {
		p.conn = nil
	}
	p.cmu.Unlock()
	c.Close()
}

func (p *Printer) deadline(ctx context.Context) (time.Time, bool) {
	own := time.Now().Add(p.opts.Timeout)
	if d, ok := ctx.Deadline(); ok && !d.After(own) {
		return d, true
	}
	return own, false
}

// retryable reports whether a failed read or write may succeed on a new connection: not
// after a timeout, a cancelled context or Close.
func (p *Printer) retryable(ctx context.Context, err error) bool {
	p.cmu.Lock()
	closed := p.closed
	p.cmu.Unlock()
	return !closed && ctx.Err() == nil && !errors.Is(err, os.ErrDeadlineExceeded) && !errors.Is(err, context.DeadlineExceeded)
}

// ioError wraps a failed read or write: a deadline is a timeout (context.DeadlineExceeded
// and drivers.ErrUnreachable), anything else drivers.ErrUnreachable.
func (p *Printer) ioError(ctx context.Context, stage string, err error, fromCtx bool) error {
	if ctx.Err() != nil {
		return ctxError(stage, ctx.Err())
	}
	if errors.Is(err, os.ErrDeadlineExceeded) || errors.Is(err, context.DeadlineExceeded) {
		if fromCtx {
			return ctxError(stage, context.DeadlineExceeded)
		}
		return fmt.Errorf("%s: no answer within %v: %w: %w", stage, p.opts.Timeout, context.DeadlineExceeded, drivers.ErrUnreachable)
	}
	p.cmu.Lock()
	closed := p.closed
	p.cmu.Unlock()
	if closed {
		return errClosed
	}
	return fmt.Errorf("%s: %w: %w", stage, err, drivers.ErrUnreachable)
}

func ctxError(stage string, err error) error {
	if stage != "" {
		stage += ": "
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%sno answer before the deadline: %w: %w", stage, err, drivers.ErrUnreachable)
	}
	return fmt.Errorf("%s%w", stage, err)
}
