package visca

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/bailiff/bailiff/drivers"
	"github.com/bailiff/bailiff/drivers/internal/devlink"
	"github.com/bailiff/bailiff/drivers/transport"
)

// exchangeState follows the replies to one command or inquiry (the "VISCA Command/ACK
// Protocol" of the manuals): a command is accepted with an ACK naming its socket and done at
// the completion on that socket, or refused with an error; an inquiry gets an answer or an
// error and no ACK. Replies that belong to an earlier command are skipped.
type exchangeState struct {
	inquiry bool
	acked   bool
	socket  int
	// matched: every reply carries the message's sequence number (VISCA over IP), so a
	// completion or error on any socket is this command's, even when its ACK was lost.
	matched bool
}

// feed takes one reply from the camera; done reports that the exchange is over, with the
// inquiry's answer or the camera's error.
func (x *exchangeState) feed(r reply) (done bool, answer []byte, err error) {
	switch r.kind {
	case replyACK:
		if !x.inquiry && !x.acked {
			x.acked, x.socket = true, r.socket
		}
	case replyCompletion:
		switch {
		case x.inquiry && r.socket == 0:
			return true, []byte{}, nil // an inquiry answered without data: its decoder says so
		case !x.inquiry && x.acked && r.socket == x.socket, !x.inquiry && x.matched:
			return true, nil, nil
		case !x.inquiry && !x.acked && r.socket == 0:
			return true, nil, nil // commands done at once without an ACK (IF_Clear)
		}
	case replyAnswer:
		if x.inquiry {
			return true, append([]byte(nil), r.data...), nil
		}
	case replyError:
		if x.inquiry || !x.acked || x.matched || r.socket == x.socket || r.socket == 0 {
			return true, nil, &ReplyError{Socket: r.socket, Code: r.code}
		}
	}
	return false, nil, nil
}

// stream is an open byte-stream link: a TCP connection or a serial line.
type stream struct {
	conn   net.Conn
	fr     *frameReader
	serial bool
	used   bool // an exchange was completed on it
}

// serialSlice bounds one read of a serial line, so a cancelled context is noticed: a blocked
// serial read cannot be interrupted the way a socket's can.
const serialSlice = 50 * time.Millisecond

// next returns the next packet read before deadline.
func (s *stream) next(ctx context.Context, deadline time.Time) ([]byte, error) {
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		dl := deadline
		if s.serial {
			if sl := time.Now().Add(serialSlice); sl.Before(dl) {
				dl = sl
			}
		}
		s.conn.SetReadDeadline(dl)
		if err := ctx.Err(); err != nil { // cancelled before the deadline was set: AfterFunc lost
			return nil, err
		}
		p, err := s.fr.next()
		if err == nil {
			return p, nil
		}
		if s.serial && devlink.IsTimeout(err) && time.Now().Before(deadline) {
			continue
		}
		return nil, err
	}
}

// line is a serial line shared by the cameras daisy-chained on it. Cameras of one process
// that name the same device share one line: the port is opened once, and one exchange runs on
// it at a time, whichever camera it is for.
type line struct {
	key   string
	topts transport.Options
	dial  func(ctx context.Context) (net.Conn, error)

	mu      sync.Mutex // held for a whole exchange
	s       *stream
	ready   bool // AddressSet and IF_Clear done since the port was opened
	cameras int  // cameras that took an address

	refs int // guarded by linesMu
}

var (
	linesMu sync.Mutex
	lines   = map[string]*line{}
)

// acquireLine returns the shared line of device path key, opening nothing.
func acquireLine(key string, topts transport.Options, dial func(context.Context) (net.Conn, error)) (*line, error) {
	linesMu.Lock()
	defer linesMu.Unlock()
	if l, ok := lines[key]; ok {
		if l.topts != topts {
			return nil, fmt.Errorf("serial line %s is already used with other settings (%+v): %w", key, l.topts, drivers.ErrBadArgs)
		}
		l.refs++
		return l, nil
	}
	l := &line{key: key, topts: topts, dial: dial, refs: 1}
	lines[key] = l
	return l, nil
}

// release drops one reference, closing the port with the last.
func (l *line) release() {
	linesMu.Lock()
	l.refs--
	last := l.refs == 0
	if last && lines[l.key] == l {
		delete(lines, l.key)
	}
	linesMu.Unlock()
	if last {
		l.mu.Lock()
		if l.s != nil {
			l.s.conn.Close()
			l.s, l.ready = nil, false
		}
		l.mu.Unlock()
	}
}

// ipLink is a VISCA over IP "connection": a connected UDP socket and its sequence numbers.
type ipLink struct {
	conn      net.Conn
	seq       uint32 // the number of the last message sent
	needReset bool   // send RESET before the next message
	used      bool
	buf       [256]byte
}

// read returns the next datagram received before deadline.
func (u *ipLink) read(ctx context.Context, deadline time.Time) ([]byte, error) {
	u.conn.SetReadDeadline(deadline)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	n, err := u.conn.Read(u.buf[:])
	if err != nil {
		return nil, err
	}
	return append([]byte(nil), u.buf[:n]...), nil
}

func (c *Camera) isClosed() bool {
	c.cmu.Lock()
	defer c.cmu.Unlock()
	return c.closed
}

// retryable reports whether a failed read or write may succeed on a new link: not after a
// timeout, a cancelled context or Close, and only on a link that worked before.
func (c *Camera) retryable(ctx context.Context, used bool, err error) bool {
	return used && !c.isClosed() && ctx.Err() == nil && !devlink.IsTimeout(err)
}

// ioError wraps a failed read or write: drivers.ErrUnreachable, with context.DeadlineExceeded
// when it timed out.
func (c *Camera) ioError(ctx context.Context, stage string, err error, fromCtx bool) error {
	var closed error
	if c.isClosed() {
		closed = errClosed
	}
	return devlink.IOError(ctx, stage, err, fromCtx, c.opts.Timeout, closed)
}

// timeoutError says that nothing came in time. Before the ACK the camera does not answer:
// context.DeadlineExceeded and drivers.ErrUnreachable. After it the camera took the command
// and has not finished it: context.DeadlineExceeded only.
func (c *Camera) timeoutError(stage string, acked, fromCtx bool, limit time.Duration) error {
	switch {
	case acked && fromCtx:
		return fmt.Errorf("%s: accepted (ACK), no completion before the deadline: %w", stage, context.DeadlineExceeded)
	case acked:
		return fmt.Errorf("%s: accepted (ACK), no completion within %v: %w", stage, limit, context.DeadlineExceeded)
	}
	return devlink.TimeoutError(stage, fromCtx, limit)
}

// exchange sends one command or inquiry packet and returns, at its completion, the answer
// of an inquiry (nil for a command). what names the operation in errors. One exchange of
// a camera runs at a time.
func (c *Camera) exchange(ctx context.Context, what string, msg []byte, inquiry bool) ([]byte, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var ans []byte
	var err error
	if c.kind == transport.UDP {
		ans, err = c.exchangeIP(ctx, msg, inquiry)
	} else {
		ans, err = c.exchangeStream(ctx, msg, inquiry)
	}
	if err != nil {
		return nil, fmt.Errorf("visca: %s: %w", what, err)
	}
	return ans, nil
}

// exchangeStream runs an exchange on a TCP connection or a serial line. A failure on a link
// that worked before (the camera closed an idle connection, a line needs setting up again
// because a camera joined it) gets one more try on a new link.
func (c *Camera) exchangeStream(ctx context.Context, msg []byte, inquiry bool) ([]byte, error) {
	var l *line
	if c.kind == transport.Serial {
		l = c.line
		l.mu.Lock()
		defer l.mu.Unlock()
	}
	for attempt := 1; ; attempt++ {
		ans, again, err := c.streamTry(ctx, l, msg, inquiry)
		if err == nil {
			return ans, nil
		}
		if again && attempt == 1 {
			c.log.Debug("visca: link lost, opening it again", "error", err)
			continue
		}
		return nil, err
	}
}

// openStream returns the open stream, opening one (and, on a serial line, setting the line
// up) when there is none.
func (c *Camera) openStream(ctx context.Context, l *line, deadline time.Time) (*stream, error) {
	c.cmu.Lock()
	closed := c.closed
	var s *stream
	if l == nil {
		s = c.tcp
	}
	c.cmu.Unlock()
	if closed {
		return nil, errClosed
	}
	if l != nil {
		s = l.s
	}
	if s != nil {
		return s, nil
	}
	dctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	dial := c.dial
	if l != nil {
		dial = l.dial
	}
	conn, err := dial(dctx)
	if err != nil {
		if ctx.Err() != nil {
			return nil, devlink.CtxError("connect", ctx.Err())
		}
		return nil, fmt.Errorf("connect: %w: %w", err, drivers.ErrUnreachable)
	}
	s = &stream{conn: conn, fr: newFrameReader(conn), serial: l != nil}
	if l != nil {
		l.s, l.ready = s, false
		return s, nil
	}
	c.cmu.Lock()
	defer c.cmu.Unlock()
	if c.closed {
		conn.Close()
		return nil, errClosed
	}
	c.tcp = s
	return s, nil
}

// outOfStep handles a link whose replies can no longer be trusted to match: a TCP
// connection is closed; a serial line stays open and is set up again before the next
// exchange, which skips whatever is left on it.
func (c *Camera) outOfStep(l *line, s *stream) {
	if l == nil {
		c.dropStream(l, s)
		return
	}
	l.ready = false
	s.fr.reset()
}

// dropStream closes s and forgets it.
func (c *Camera) dropStream(l *line, s *stream) {
	if l != nil {
		if l.s == s {
			l.s, l.ready = nil, false
		}
	} else {
		c.cmu.Lock()
		if c.tcp == s {
			c.tcp = nil
		}
		c.cmu.Unlock()
	}
	s.conn.Close()
}

// streamTry makes one attempt at an exchange. again reports whether a new link may cure the
// failure.
func (c *Camera) streamTry(ctx context.Context, l *line, msg []byte, inquiry bool) (ans []byte, again bool, err error) {
	if err := ctx.Err(); err != nil {
		return nil, false, devlink.CtxError("", err)
	}
	deadline, fromCtx := devlink.Deadline(ctx, c.opts.Timeout)
	s, err := c.openStream(ctx, l, deadline)
	if err != nil {
		return nil, false, err
	}
	if !s.serial {
		// A cancelled context interrupts a blocked read or write at once.
		stop := context.AfterFunc(ctx, func() { s.conn.SetDeadline(time.Unix(1, 0)) })
		defer stop()
	}
	used := s.used
	if l != nil && !l.ready {
		if err := c.setUpLine(ctx, l, s); err != nil {
			return nil, false, err
		}
		used = false
		deadline, fromCtx = devlink.Deadline(ctx, c.opts.Timeout)
	}
	if l != nil && c.cam > l.cameras {
		l.ready = false // look again next time: a camera may have been plugged in
		return nil, false, fmt.Errorf("no camera %d on serial line %s (%d took an address): %w", c.cam, l.key, l.cameras, drivers.ErrUnreachable)
	}
	s.conn.SetWriteDeadline(deadline)
	if _, err := s.conn.Write(msg); err != nil {
		c.dropStream(l, s)
		return nil, c.retryable(ctx, used, err), c.ioError(ctx, "send", err, fromCtx)
	}
	x := exchangeState{inquiry: inquiry}
	stage := "read answer"
	for {
		p, err := s.next(ctx, deadline)
		if err != nil {
			switch {
			case errors.Is(err, errGarbled):
				c.outOfStep(l, s)
				return nil, false, err
			case ctx.Err() != nil || devlink.IsTimeout(err):
				c.outOfStep(l, s) // the camera may still answer
				if errors.Is(ctx.Err(), context.Canceled) {
					return nil, false, devlink.CtxError(stage, ctx.Err())
				}
				limit := c.opts.Timeout
				if x.acked {
					limit = c.opts.CompletionTimeout
				}
				return nil, false, c.timeoutError(stage, x.acked, fromCtx, limit)
			}
			c.dropStream(l, s)
			return nil, c.retryable(ctx, used, err), c.ioError(ctx, stage, err, fromCtx)
		}
		r, err := parseReply(p)
		if err != nil {
			c.outOfStep(l, s)
			return nil, false, err
		}
		switch r.kind {
		case replyEcho:
			if l != nil && r.from == c.cam {
				// The packet went round the chain: no camera has our address (any more).
				l.ready = false
				return nil, used, fmt.Errorf("no camera answers at address %d on serial line %s: %w", c.cam, l.key, drivers.ErrUnreachable)
			}
			continue
		case replyNetworkChange:
			if l != nil {
				l.ready = false // a camera joined or left: AddressSet again before the next exchange
			}
			continue
		case replyUnsolicited, replyAddressSet, replyIFClear:
			continue
		}
		if l != nil && r.from != c.cam {
			continue // another camera of the chain
		}
		wasAcked := x.acked
		done, ans, err := x.feed(r)
		if done {
			s.used = true
			return ans, false, err
		}
		if x.acked && !wasAcked {
			deadline, fromCtx = devlink.Deadline(ctx, c.opts.CompletionTimeout)
			stage = "wait for completion"
		}
	}
}

// setUpLine sends AddressSet and IF_Clear as broadcasts, as the manuals ask before a
// controller starts, and learns how many cameras the line has.
func (c *Camera) setUpLine(ctx context.Context, l *line, s *stream) error {
	deadline, fromCtx := devlink.Deadline(ctx, c.opts.Timeout)
	for _, step := range []struct {
		name string
		msg  []byte
		want replyKind
	}{{"address set", addressSet, replyAddressSet}, {"if clear", ifClearAll, replyIFClear}} {
		s.conn.SetWriteDeadline(deadline)
		if _, err := s.conn.Write(step.msg); err != nil {
			c.dropStream(l, s)
			return c.ioError(ctx, step.name, err, fromCtx)
		}
		for {
			p, err := s.next(ctx, deadline)
			if errors.Is(err, errGarbled) {
				continue // leftovers of an exchange out of step
			}
			if err != nil {
				if !devlink.IsTimeout(err) && ctx.Err() == nil {
					c.dropStream(l, s)
				}
				return c.ioError(ctx, step.name, err, fromCtx)
			}
			r, err := parseReply(p)
			if err != nil || r.kind != step.want {
				continue // late replies from before, leftovers
			}
			if r.kind == replyAddressSet {
				l.cameras = int(r.data[0]) - 1
			}
			break
		}
	}
	l.ready = true
	c.log.Debug("visca: serial line set up", "line", l.key, "cameras", l.cameras)
	return nil
}

// exchangeIP runs an exchange over VISCA over IP. When the camera refuses the sequence
// number of a new message it is reset and the message sent again with a new number, once;
// when an inquiry's answer was lost it is asked again with a new number, once.
func (c *Camera) exchangeIP(ctx context.Context, msg []byte, inquiry bool) ([]byte, error) {
	typ := uint16(typeCommand)
	if inquiry {
		typ = typeInquiry
	}
	resets, resends := 0, 0
	for attempt := 1; ; attempt++ {
		u, err := c.openIP(ctx)
		if err != nil {
			return nil, err
		}
		u.seq++
		ans, next, err := c.ipTry(ctx, u, typ, msg, inquiry)
		switch {
		case next == ipReset && resets == 0:
			resets++
			u.needReset = true
			c.log.Debug("visca: camera refused the sequence number, resetting it", "seq", u.seq)
			continue
		case next == ipResend && resends == 0:
			resends++
			continue
		case next == ipRedial && attempt == 1:
			c.log.Debug("visca: link lost, opening it again", "error", err)
			continue
		}
		return ans, err
	}
}

// What exchangeIP does after an attempt.
type ipNext int

const (
	ipDone   ipNext = iota
	ipReset         // reset the sequence number and send again
	ipResend        // send again with a new sequence number
	ipRedial        // the link failed after working: open a new one
)

// openIP returns the UDP link, dialling it when there is none, and resets the camera's
// sequence number on a new link.
func (c *Camera) openIP(ctx context.Context) (*ipLink, error) {
	c.cmu.Lock()
	closed, u := c.closed, c.ip
	c.cmu.Unlock()
	if closed {
		return nil, errClosed
	}
	if u == nil {
		if err := ctx.Err(); err != nil {
			return nil, devlink.CtxError("", err)
		}
		deadline, _ := devlink.Deadline(ctx, c.opts.Timeout)
		dctx, cancel := context.WithDeadline(ctx, deadline)
		conn, err := c.dial(dctx)
		cancel()
		if err != nil {
			if ctx.Err() != nil {
				return nil, devlink.CtxError("connect", ctx.Err())
			}
			return nil, fmt.Errorf("connect: %w: %w", err, drivers.ErrUnreachable)
		}
		u = &ipLink{conn: conn, needReset: true}
		c.cmu.Lock()
		if c.closed {
			c.cmu.Unlock()
			conn.Close()
			return nil, errClosed
		}
		c.ip = u
		c.cmu.Unlock()
	}
	if u.needReset {
		if err := c.resetIP(ctx, u); err != nil {
			return nil, err
		}
	}
	return u, nil
}

// dropIP closes u and forgets it.
func (c *Camera) dropIP(u *ipLink) {
	c.cmu.Lock()
	if c.ip == u {
		c.ip = nil
	}
	c.cmu.Unlock()
	u.conn.Close()
}

// resetIP sends the control command RESET, which sets the camera's sequence number to 0, and
// waits for its acknowledge, sending it again on a timeout like any message.
func (c *Camera) resetIP(ctx context.Context, u *ipLink) error {
	stop := context.AfterFunc(ctx, func() { u.conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	deadline, fromCtx := devlink.Deadline(ctx, c.opts.Timeout)
	dg := encodeIP(typeControl, 0, []byte{ctlReset})
	for sends := 1; ; sends++ {
		u.conn.SetWriteDeadline(deadline)
		if _, err := u.conn.Write(dg); err != nil {
			c.dropIP(u)
			return c.ioError(ctx, "reset sequence number", err, fromCtx)
		}
		resend := time.Now().Add(c.opts.Retransmit)
		for {
			d, err := u.read(ctx, earliest(resend, deadline))
			if err != nil {
				if devlink.IsTimeout(err) && ctx.Err() == nil && time.Now().Before(deadline) && sends <= c.opts.Retries {
					break // send it again
				}
				if !devlink.IsTimeout(err) && ctx.Err() == nil {
					c.dropIP(u)
				}
				return c.ioError(ctx, fmt.Sprintf("reset sequence number (sent %d times)", sends), err, fromCtx)
			}
			m, err := parseIP(d)
			if err != nil {
				return fmt.Errorf("reset sequence number: %w", err)
			}
			if !m.control {
				continue // a late reply to an earlier message
			}
			if m.ctlErr != 0 {
				return fmt.Errorf("reset sequence number: %w", &ControlError{Code: m.ctlErr})
			}
			u.seq, u.needReset = 0, false
			return nil
		}
	}
}

func earliest(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// ipTry sends one message with the link's current sequence number and follows its replies,
// sending it again with the same number when nothing comes in time ("Delivery confirmation"
// of the VISCA over IP manuals):
//
//   - no reply: the message or its reply was lost; send it again, up to Options.Retries times;
//   - ERROR 0F 01 (sequence number) to a message sent again: the camera had it already. A
//     command has been performed (only its ACK or completion was lost); an inquiry is asked
//     again with a new number;
//   - ERROR 0F 01 to a message sent once: the camera's numbering is out of step; reset it;
//   - after the ACK, no completion within CompletionTimeout: send it again once; 0F 01 then
//     says the command has been performed and only its completion was lost.
func (c *Camera) ipTry(ctx context.Context, u *ipLink, typ uint16, msg []byte, inquiry bool) ([]byte, ipNext, error) {
	stop := context.AfterFunc(ctx, func() { u.conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	dg := encodeIP(typ, u.seq, msg)
	start := time.Now()
	phaseEnd, fromCtx := devlink.Deadline(ctx, c.opts.Timeout)
	sends := 0
	send := func() error {
		sends++
		wd, _ := devlink.Deadline(ctx, c.opts.Timeout)
		u.conn.SetWriteDeadline(wd)
		_, err := u.conn.Write(dg)
		return err
	}
	fail := func(stage string, err error) ([]byte, ipNext, error) {
		used := u.used
		c.dropIP(u)
		if c.retryable(ctx, used, err) {
			return nil, ipRedial, c.ioError(ctx, stage, err, fromCtx)
		}
		return nil, ipDone, c.ioError(ctx, stage, err, fromCtx)
	}
	if err := send(); err != nil {
		return fail("send", err)
	}
	x := exchangeState{inquiry: inquiry, matched: true}
	resendAt := time.Now().Add(c.opts.Retransmit)
	performed, probed := false, false
	stage := "read answer"
	for {
		d, err := u.read(ctx, earliest(resendAt, phaseEnd))
		if err != nil {
			if errors.Is(ctx.Err(), context.Canceled) {
				return nil, ipDone, devlink.CtxError(stage, ctx.Err()) // late replies carry this number: they are skipped
			}
			if !devlink.IsTimeout(err) {
				return fail(stage, err)
			}
			now := time.Now()
			switch {
			case performed:
				return nil, ipDone, nil // the camera has the command; its completion was lost
			case !x.acked:
				if now.Before(phaseEnd) && sends <= c.opts.Retries {
					c.log.Debug("visca: no reply, sending again", "seq", u.seq, "send", sends+1)
					if err := send(); err != nil {
						return fail("send", err)
					}
					resendAt = now.Add(c.opts.Retransmit)
					continue
				}
				u.needReset = true
				return nil, ipDone, c.timeoutError(fmt.Sprintf("%s (sent %d times)", stage, sends), false, fromCtx,
					now.Sub(start).Round(time.Millisecond))
			case !probed && !fromCtx:
				probed = true
				c.log.Debug("visca: no completion, asking again", "seq", u.seq)
				if err := send(); err != nil {
					return fail("send", err)
				}
				phaseEnd, fromCtx = devlink.Deadline(ctx, c.opts.Retransmit)
				resendAt = phaseEnd
				continue
			}
			u.needReset = true
			return nil, ipDone, c.timeoutError(stage, true, fromCtx, c.opts.CompletionTimeout)
		}
		m, err := parseIP(d)
		if err != nil {
			u.needReset = true
			return nil, ipDone, err
		}
		if m.seq != u.seq {
			continue // a late reply to an earlier message
		}
		if m.control {
			switch m.ctlErr {
			case 0:
				continue // a RESET acknowledge
			case 0x01:
				switch {
				case sends == 1 && !x.acked:
					return nil, ipReset, &ControlError{Code: 0x01}
				case inquiry:
					return nil, ipResend, fmt.Errorf("answer lost: %w", &ControlError{Code: 0x01})
				case x.acked && probed:
					return nil, ipDone, nil // only the completion was lost
				case x.acked:
					continue // a copy sent before the ACK came: the command still runs
				}
				// The ACK was lost (or is late): the command runs, and its completion may
				// still come, on a socket we never heard of.
				if !performed {
					performed = true
					phaseEnd, fromCtx = devlink.Deadline(ctx, c.opts.CompletionTimeout)
					resendAt = phaseEnd
				}
				continue
			}
			return nil, ipDone, &ControlError{Code: m.ctlErr}
		}
		wasAcked := x.acked
		done, ans, err := x.feed(m.reply)
		if done {
			u.used = true
			return ans, ipDone, err
		}
		if x.acked && !wasAcked {
			phaseEnd, fromCtx = devlink.Deadline(ctx, c.opts.CompletionTimeout)
			resendAt = phaseEnd
			stage = "wait for completion"
		}
	}
}

// isTimeout reports a passed read or write deadline.
var isTimeout = devlink.IsTimeout
