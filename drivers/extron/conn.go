package extron

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"time"

	"github.com/bailiff/bailiff/drivers"
	"github.com/bailiff/bailiff/drivers/transport"
)

// link is one open connection or serial port to the switcher.
type link struct {
	conn   net.Conn
	r      *tokenReader
	serial bool
}

const (
	// drainQuiet is how long a freshly opened serial line must stay quiet before the first
	// command is sent: what arrives before is a late answer to a request given up on.
	drainQuiet = 20 * time.Millisecond
	// greetFirst is how long a new TCP connection may stay silent before the driver stops
	// waiting for a greeting and a password prompt (only when a password is configured).
	greetFirst = time.Second
	// greetQuiet is how long after the last line of the greeting the driver waits for the
	// password prompt.
	greetQuiet = 300 * time.Millisecond
)

// result is the answer to one request: a decoded value, or the switcher's E-code.
type result struct {
	v   any
	err error // a *SISError
}

// exchange sends reqs back to back and returns their answers in order. An E-code answers
// one request and does not fail the others; any other failure fails them all. what names
// the operation in errors.
func (s *Switcher) exchange(ctx context.Context, what string, reqs ...request) ([]result, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for attempt := 1; ; attempt++ {
		res, again, err := s.try(ctx, reqs)
		if err == nil {
			return res, nil
		}
		if again && attempt == 1 {
			s.log.Debug("extron: link lost, opening it again", "error", err)
			continue
		}
		return nil, fmt.Errorf("extron: %s: %w", what, err)
	}
}

// try makes one attempt at an exchange, opening the link first when there is none. again
// reports whether the failure is one a fresh link may cure.
func (s *Switcher) try(ctx context.Context, reqs []request) (res []result, again bool, err error) {
	if err := ctx.Err(); err != nil {
		return nil, false, ctxError("", err)
	}
	deadline, fromCtx := s.deadline(ctx)
	l, fresh, err := s.current(ctx, deadline)
	if err != nil {
		return nil, false, err
	}
	if err := l.conn.SetDeadline(deadline); err != nil {
		s.drop(l)
		return nil, s.retryable(ctx, err), s.ioError(ctx, "set deadline", err, fromCtx)
	}
	// A cancelled context interrupts a blocked read or write at once. A serial port does not
	// notice a new deadline in the middle of a read, so it is closed (and opened again later).
	stop := context.AfterFunc(ctx, func() {
		l.conn.SetDeadline(time.Unix(1, 0))
		if l.serial {
			l.conn.Close()
		}
	})
	defer stop()

	if fresh && !l.serial && s.opts.Password != "" {
		if err := s.greet(ctx, l, deadline); err != nil {
			s.drop(l)
			if isGarbled(err) || errors.Is(err, ErrAuth) {
				return nil, false, err
			}
			return nil, s.retryable(ctx, err), s.ioError(ctx, "read greeting", err, fromCtx)
		}
	}
	var out strings.Builder
	for _, r := range reqs {
		out.WriteString(r.text)
	}
	if _, err := l.conn.Write([]byte(out.String())); err != nil {
		s.drop(l)
		return nil, s.retryable(ctx, err), s.ioError(ctx, "send "+quoteCmd(reqs), err, fromCtx)
	}
	res = make([]result, len(reqs))
	for i, r := range reqs {
		res[i], err = readAnswer(l.r, r, s.noteBanner)
		if err == nil {
			continue
		}
		s.drop(l)
		switch {
		case errors.Is(err, errPrompt) && (s.opts.Password == "" || l.serial):
			return nil, false, fmt.Errorf("switcher asks for a password and none is configured: %w", ErrAuth)
		case errors.Is(err, errPrompt):
			return nil, false, fmt.Errorf("switcher asked for the password again: %w", ErrAuth)
		case isGarbled(err):
			return nil, false, err
		}
		return nil, s.retryable(ctx, err), s.ioError(ctx, fmt.Sprintf("read answer to %q", r.text), err, fromCtx)
	}
	return res, false, nil
}

// errPrompt is a password prompt where an answer was expected.
var errPrompt = errors.New("password prompt")

// readAnswer reads the answer to req: its value, or the switcher's E-code. It skips the lines
// a switcher sends unasked, passing them to skipped. A password prompt is errPrompt.
func readAnswer(r *tokenReader, req request, skipped func(string)) (result, error) {
	for {
		tok, err := r.next()
		if err != nil {
			return result{}, err
		}
		if tok == passwordPrompt {
			return result{}, errPrompt
		}
		if e, ok := sisError(tok); ok {
			return result{err: e}, nil
		}
		v, perr := req.parse(tok)
		if perr == nil {
			return result{v: v}, nil
		}
		if skippable(tok) {
			skipped(tok)
			continue
		}
		return result{}, fmt.Errorf("answer to %q: %w", req.text, perr)
	}
}

func quoteCmd(reqs []request) string {
	if len(reqs) == 1 {
		return fmt.Sprintf("%q", reqs[0].text)
	}
	return fmt.Sprintf("%d commands", len(reqs))
}

// greet reads the greeting of a new TCP connection and answers the password prompt. It
// returns once logged in, or when the line has been quiet long enough that no prompt is
// coming.
func (s *Switcher) greet(ctx context.Context, l *link, deadline time.Time) error {
	defer l.conn.SetReadDeadline(deadline)
	quiet := greetFirst
	for {
		wait := time.Now().Add(quiet)
		if wait.After(deadline) {
			wait = deadline
		}
		l.conn.SetReadDeadline(wait)
		tok, err := l.r.next()
		if err != nil {
			if isTimeout(err) && ctx.Err() == nil && time.Now().Before(deadline) {
				s.log.Debug("extron: no password prompt; going on without logging in")
				return nil
			}
			return err
		}
		switch {
		case tok == passwordPrompt:
			return s.login(l, deadline)
		case skippable(tok):
			s.noteBanner(tok)
			quiet = greetQuiet
		default:
			return garbled(tok, "not a greeting")
		}
	}
}

// login sends the password and reads the switcher's verdict.
func (s *Switcher) login(l *link, deadline time.Time) error {
	l.conn.SetReadDeadline(deadline)
	if _, err := l.conn.Write([]byte(s.opts.Password + "\r")); err != nil {
		return err
	}
	for {
		tok, err := l.r.next()
		if err != nil {
			return err
		}
		switch {
		case tok == passwordPrompt:
			return fmt.Errorf("switcher refused the password: %w", ErrAuth)
		case strings.HasPrefix(tok, "Login "):
			return nil
		case skippable(tok):
		default:
			return garbled(tok, "want Login Administrator or Login User")
		}
	}
}

// noteBanner remembers the model a greeting names.
func (s *Switcher) noteBanner(line string) {
	if m, ok := bannerModel(line); ok {
		s.cmu.Lock()
		s.model = m
		s.cmu.Unlock()
	}
}

// current returns the open link, opening one when there is none (fresh true).
func (s *Switcher) current(ctx context.Context, deadline time.Time) (l *link, fresh bool, err error) {
	s.cmu.Lock()
	l, closed := s.link, s.closed
	s.cmu.Unlock()
	if closed {
		return nil, false, errClosed
	}
	if l != nil {
		return l, false, nil
	}
	dctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	conn, err := s.dial(dctx)
	if err != nil {
		if ctx.Err() != nil {
			return nil, false, ctxError("connect", ctx.Err())
		}
		return nil, false, fmt.Errorf("connect: %w: %w", err, drivers.ErrUnreachable)
	}
	l = &link{conn: conn, r: newTokenReader(conn), serial: isSerial(conn)}
	if l.serial {
		discardPending(conn)
	}
	s.cmu.Lock()
	defer s.cmu.Unlock()
	if s.closed {
		conn.Close()
		return nil, false, errClosed
	}
	s.link = l
	return l, true, nil
}

func isSerial(c net.Conn) bool {
	a := c.LocalAddr()
	return a != nil && a.Network() == transport.Serial
}

// discardPending reads and drops whatever a serial line holds until it stays quiet for
// drainQuiet (a pty or a USB adapter keeps bytes received while the port was closed).
func discardPending(c net.Conn) {
	buf := make([]byte, 256)
	for range 64 {
		c.SetReadDeadline(time.Now().Add(drainQuiet))
		if n, err := c.Read(buf); err != nil || n == 0 {
			return
		}
	}
}

// drop closes l and forgets it.
func (s *Switcher) drop(l *link) {
	s.cmu.Lock()
	if s.link == l {
		s.link = nil
	}
	s.cmu.Unlock()
	l.conn.Close()
}

// deadline returns the deadline of one exchange: the context's, or Options.Timeout from now
// when that comes sooner; fromCtx tells which.
func (s *Switcher) deadline(ctx context.Context) (time.Time, bool) {
	own := time.Now().Add(s.opts.Timeout)
	if dl, ok := ctx.Deadline(); ok && !dl.After(own) {
		return dl, true
	}
	return own, false
}

func (s *Switcher) isClosed() bool {
	s.cmu.Lock()
	defer s.cmu.Unlock()
	return s.closed
}

// retryable reports whether a failed read or write may succeed on a new link: not after a
// timeout, a cancelled context or Close.
func (s *Switcher) retryable(ctx context.Context, err error) bool {
	return !s.isClosed() && ctx.Err() == nil && !isTimeout(err)
}

// isTimeout reports a passed read or write deadline, on a socket or a serial port.
func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, os.ErrDeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout())
}

// ioError wraps a failed read or write. A deadline is a timeout (context.DeadlineExceeded,
// and drivers.ErrUnreachable: the switcher does not answer); anything else is
// drivers.ErrUnreachable.
func (s *Switcher) ioError(ctx context.Context, stage string, err error, fromCtx bool) error {
	if ctx.Err() != nil {
		return ctxError(stage, ctx.Err())
	}
	if isTimeout(err) {
		if fromCtx {
			return ctxError(stage, context.DeadlineExceeded)
		}
		return fmt.Errorf("%s: no answer within %v: %w: %w", stage, s.opts.Timeout, context.DeadlineExceeded, drivers.ErrUnreachable)
	}
	if s.isClosed() {
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
