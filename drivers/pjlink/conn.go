package pjlink

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"time"

	"github.com/bailiff/bailiff/drivers"
)

// link is one connection to the projector.
type link struct {
	conn net.Conn
	r    *bufio.Reader
	// digest goes in front of the next command: set by the greeting of a projector that asks
	// for authentication, cleared once sent (spec §5.1, §5.3).
	digest string
}

// exchange sends "%1cmd param" and returns the payload of the answer. what names the
// operation in errors. One exchange runs at a time.
func (p *Projector) exchange(ctx context.Context, what, cmd, param string) (string, error) {
	req, err := encodeRequest(cmd, param)
	if err != nil {
		return "", fmt.Errorf("pjlink: %s: %w", what, err)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for attempt := 1; ; attempt++ {
		payload, again, err := p.try(ctx, cmd, req)
		if err == nil {
			return payload, nil
		}
		if again && attempt == 1 {
			p.log.Debug("pjlink: connection lost, dialling again", "error", err)
			continue
		}
		return "", fmt.Errorf("pjlink: %s: %w", what, err)
	}
}

// try makes one attempt at an exchange, connecting first when there is no connection.
// again reports whether the failure is one a fresh connection may cure.
func (p *Projector) try(ctx context.Context, cmd string, req []byte) (payload string, again bool, err error) {
	if err := ctx.Err(); err != nil {
		return "", false, ctxError("", err)
	}
	deadline, fromCtx := p.deadline(ctx)
	l, fresh, err := p.current(ctx, deadline, fromCtx)
	if err != nil {
		return "", false, err
	}
	if err := l.conn.SetDeadline(deadline); err != nil {
		p.drop(l)
		return "", p.retryable(ctx, err), p.ioError(ctx, "set deadline", err, fromCtx)
	}
	// A cancelled context interrupts the blocked read or write at once.
	stop := context.AfterFunc(ctx, func() { l.conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()

	if fresh {
		if again, err := p.greet(ctx, l, fromCtx); err != nil {
			p.drop(l)
			return "", again, err
		}
	}
	out := req
	if l.digest != "" {
		out = append([]byte(l.digest), req...)
		l.digest = ""
	}
	if _, err := l.conn.Write(out); err != nil {
		p.drop(l)
		return "", p.retryable(ctx, err), p.ioError(ctx, "send "+cmd, err, fromCtx)
	}
	line, err := readLine(l.r)
	if err != nil {
		p.drop(l)
		if errors.Is(err, errGarbled) {
			return "", false, err
		}
		return "", p.retryable(ctx, err), p.ioError(ctx, "read answer to "+cmd, err, fromCtx)
	}
	payload, err = parseReply(line, cmd)
	if err != nil {
		var re *ReplyError
		if !errors.As(err, &re) {
			p.drop(l) // garbled or refused: the connection is no use any more
		}
		return "", false, err
	}
	return payload, false, nil
}

// greet reads the greeting of a new connection (spec §5) and arms the digest.
func (p *Projector) greet(ctx context.Context, l *link, fromCtx bool) (again bool, err error) {
	line, err := readLine(l.r)
	if err != nil {
		if errors.Is(err, errGarbled) {
			return false, fmt.Errorf("greeting: %w", err)
		}
		return p.retryable(ctx, err), p.ioError(ctx, "read greeting", err, fromCtx)
	}
	random, auth, err := parseGreeting(line)
	if err != nil {
		return false, fmt.Errorf("greeting: %w", err)
	}
	if auth {
		if p.opts.Password == "" {
			return false, fmt.Errorf("projector asks for a password and none is configured: %w", ErrAuth)
		}
		l.digest = digest(random, p.opts.Password)
	}
	return false, nil
}

// current returns the open connection, dialling one when there is none (fresh true).
func (p *Projector) current(ctx context.Context, deadline time.Time, fromCtx bool) (l *link, fresh bool, err error) {
	p.cmu.Lock()
	l, closed := p.link, p.closed
	p.cmu.Unlock()
	if closed {
		return nil, false, errClosed
	}
	if l != nil {
		return l, false, nil
	}
	dctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	conn, err := p.dial(dctx)
	if err != nil {
		if ctx.Err() != nil {
			return nil, false, ctxError("connect", ctx.Err())
		}
		return nil, false, fmt.Errorf("connect: %w: %w", err, drivers.ErrUnreachable)
	}
	l = &link{conn: conn, r: newReader(conn)}
	p.cmu.Lock()
	defer p.cmu.Unlock()
	if p.closed {
		conn.Close()
		return nil, false, errClosed
	}
	p.link = l
	return l, true, nil
}

// drop closes l and forgets it.
func (p *Projector) drop(l *link) {
	p.cmu.Lock()
	if p.link == l {
		p.link = nil
	}
	p.cmu.Unlock()
	l.conn.Close()
}

// deadline returns the deadline of one exchange: the context's, or Options.Timeout from now
// when that comes sooner; fromCtx tells which.
func (p *Projector) deadline(ctx context.Context) (time.Time, bool) {
	own := time.Now().Add(p.opts.Timeout)
	if d, ok := ctx.Deadline(); ok && !d.After(own) {
		return d, true
	}
	return own, false
}

// retryable reports whether a failed read or write may succeed on a new connection: not
// after a timeout, a cancelled context or Close.
func (p *Projector) retryable(ctx context.Context, err error) bool {
	p.cmu.Lock()
	closed := p.closed
	p.cmu.Unlock()
	return !closed && ctx.Err() == nil && !errors.Is(err, os.ErrDeadlineExceeded)
}

// ioError wraps a failed read or write. A deadline is a timeout (context.DeadlineExceeded,
// and drivers.ErrUnreachable: the projector does not answer); anything else is
// drivers.ErrUnreachable.
func (p *Projector) ioError(ctx context.Context, stage string, err error, fromCtx bool) error {
	if ctx.Err() != nil {
		return ctxError(stage, ctx.Err())
	}
	if errors.Is(err, os.ErrDeadlineExceeded) {
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

// ctxError wraps the error of a context that ended.
func ctxError(stage string, err error) error {
	if stage != "" {
		stage += ": "
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%sno answer before the deadline: %w: %w", stage, err, drivers.ErrUnreachable)
	}
	return fmt.Errorf("%s%w", stage, err)
}
