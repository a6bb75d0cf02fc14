package pjlink

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/bailiff/bailiff/drivers/internal/devlink"
)

// link is one connection to the projector.
type link struct {
	conn net.Conn
	r    *bufio.Reader
	// digest goes in front of the next command: set by the greeting of a projector that asks
	// for authentication, cleared once sent (spec §5.1, §5.3).
	digest string
}

func (l *link) Close() error { return l.conn.Close() }

// open dials the projector.
func (p *Projector) open(ctx context.Context) (*link, error) {
	conn, err := p.dial(ctx)
	if err != nil {
		return nil, err
	}
	return &link{conn: conn, r: newReader(conn)}, nil
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
		return "", false, devlink.CtxError("", err)
	}
	deadline, fromCtx := p.links.Deadline(ctx)
	l, fresh, err := p.links.Current(ctx, deadline, p.open)
	if err != nil {
		return "", false, err
	}
	if err := l.conn.SetDeadline(deadline); err != nil {
		p.links.Drop(l)
		return "", p.links.Retryable(ctx, err), p.links.IOError(ctx, "set deadline", err, fromCtx)
	}
	// A cancelled context interrupts the blocked read or write at once.
	stop := context.AfterFunc(ctx, func() { l.conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()

	if fresh {
		if again, err := p.greet(ctx, l, fromCtx); err != nil {
			p.links.Drop(l)
			return "", again, err
		}
	}
	out := req
	if l.digest != "" {
		out = append([]byte(l.digest), req...)
		l.digest = ""
	}
	if _, err := l.conn.Write(out); err != nil {
		p.links.Drop(l)
		return "", p.links.Retryable(ctx, err), p.links.IOError(ctx, "send "+cmd, err, fromCtx)
	}
	line, err := readLine(l.r)
	if err != nil {
		p.links.Drop(l)
		if errors.Is(err, errGarbled) {
			return "", false, err
		}
		return "", p.links.Retryable(ctx, err), p.links.IOError(ctx, "read answer to "+cmd, err, fromCtx)
	}
	payload, err = parseReply(line, cmd)
	if err != nil {
		var re *ReplyError
		if !errors.As(err, &re) {
			p.links.Drop(l) // garbled or refused: the connection is no use any more
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
		return p.links.Retryable(ctx, err), p.links.IOError(ctx, "read greeting", err, fromCtx)
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
