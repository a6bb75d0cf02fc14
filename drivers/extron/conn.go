package extron

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/bailiff/bailiff/drivers/internal/devlink"
)

// link is one open connection or serial port to the switcher.
type link struct {
	conn   net.Conn
	r      *tokenReader
	serial bool
}

func (l *link) Close() error { return l.conn.Close() }

// open opens a link; on a serial line it first drops what the line still holds.
func (s *Switcher) open(ctx context.Context) (*link, error) {
	conn, err := s.dial(ctx)
	if err != nil {
		return nil, err
	}
	l := &link{conn: conn, r: newTokenReader(conn), serial: devlink.IsSerial(conn)}
	if l.serial {
		devlink.DiscardPending(conn, drainQuiet)
	}
	return l, nil
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
		return nil, false, devlink.CtxError("", err)
	}
	deadline, fromCtx := s.links.Deadline(ctx)
	l, fresh, err := s.links.Current(ctx, deadline, s.open)
	if err != nil {
		return nil, false, err
	}
	if err := l.conn.SetDeadline(deadline); err != nil {
		s.links.Drop(l)
		return nil, s.links.Retryable(ctx, err), s.links.IOError(ctx, "set deadline", err, fromCtx)
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
			s.links.Drop(l)
			if isGarbled(err) || errors.Is(err, ErrAuth) {
				return nil, false, err
			}
			return nil, s.links.Retryable(ctx, err), s.links.IOError(ctx, "read greeting", err, fromCtx)
		}
	}
	var out strings.Builder
	for _, r := range reqs {
		out.WriteString(r.text)
	}
	if _, err := l.conn.Write([]byte(out.String())); err != nil {
		s.links.Drop(l)
		return nil, s.links.Retryable(ctx, err), s.links.IOError(ctx, "send "+quoteCmd(reqs), err, fromCtx)
	}
	res = make([]result, len(reqs))
	for i, r := range reqs {
		res[i], err = readAnswer(l.r, r, s.noteBanner)
		if err == nil {
			continue
		}
		s.links.Drop(l)
		switch {
		case errors.Is(err, errPrompt) && (s.opts.Password == "" || l.serial):
			return nil, false, fmt.Errorf("switcher asks for a password and none is configured: %w", ErrAuth)
		case errors.Is(err, errPrompt):
			return nil, false, fmt.Errorf("switcher asked for the password again: %w", ErrAuth)
		case isGarbled(err):
			return nil, false, err
		}
		return nil, s.links.Retryable(ctx, err), s.links.IOError(ctx, fmt.Sprintf("read answer to %q", r.text), err, fromCtx)
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
			if devlink.IsTimeout(err) && ctx.Err() == nil && time.Now().Before(deadline) {
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
