package escpos

import (
	"context"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/bailiff/bailiff/drivers/internal/devlink"
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
		return st, false, devlink.CtxError("", err)
	}
	deadline, fromCtx := p.links.Deadline(ctx)
	c, _, err := p.links.Current(ctx, deadline, p.open)
	if err != nil {
		return st, false, err
	}
	c.SetDeadline(deadline)
	stop := context.AfterFunc(ctx, func() { c.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	if _, err := c.Write(statusAll); err != nil {
		p.links.Drop(c)
		return st, p.links.Retryable(ctx, err), p.links.IOError(ctx, "send DLE EOT", err, fromCtx)
	}
	var b [4]byte
	if _, err := io.ReadFull(c, b[:]); err != nil {
		p.links.Drop(c)
		return st, p.links.Retryable(ctx, err), p.links.IOError(ctx, "read status", err, fromCtx)
	}
	for i, n := range []byte{StatusPrinter, StatusOffline, StatusError, StatusPaper} {
		if err := decodeStatus(n, b[i], &st); err != nil {
			p.links.Drop(c) // out of step
			return Status{}, false, err
		}
	}
	return st, false, nil
}

// send writes data once. p.mu is held.
func (p *Printer) send(ctx context.Context, data []byte) error {
	if err := ctx.Err(); err != nil {
		return devlink.CtxError("", err)
	}
	deadline, fromCtx := p.links.Deadline(ctx)
	c, _, err := p.links.Current(ctx, deadline, p.open)
	if err != nil {
		return err
	}
	c.SetWriteDeadline(deadline)
	stop := context.AfterFunc(ctx, func() { c.SetWriteDeadline(time.Unix(1, 0)) })
	defer stop()
	if _, err := c.Write(data); err != nil {
		p.links.Drop(c)
		return p.links.IOError(ctx, "send", err, fromCtx)
	}
	return nil
}

// open dials the printer. After failed attempts it waits the backoff first when the deadline
// leaves time for that, and otherwise fails at once with the last attempt's error.
func (p *Printer) open(ctx context.Context) (net.Conn, error) {
	p.cmu.Lock()
	wait, last := time.Until(p.nextDial), p.lastErr
	p.cmu.Unlock()
	if wait > 0 {
		if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) < wait {
			return nil, fmt.Errorf("%v (next attempt in %v)", last, wait.Round(time.Millisecond))
		}
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		}
	}
	c, err := p.dial(ctx)
	p.cmu.Lock()
	defer p.cmu.Unlock()
	if err != nil {
		p.failures++
		backoff := p.opts.MinBackoff << min(p.failures-1, 16)
		p.nextDial = time.Now().Add(min(backoff, p.opts.MaxBackoff))
		p.lastErr = err
		return nil, err
	}
	p.failures, p.nextDial, p.lastErr = 0, time.Time{}, nil
	if p.connections.Add(1) > 1 {
		p.log.Debug("escpos: connected again")
	}
	return c, nil
}
