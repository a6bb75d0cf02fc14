package samsungmdc

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"time"

	"github.com/bailiff/bailiff/drivers"
	"github.com/bailiff/bailiff/drivers/transport"
)

// link is one open connection or serial port to the display.
type link struct {
	conn   net.Conn
	r      *bufio.Reader
	serial bool
}

// drainQuiet is how long a freshly opened serial line must stay quiet before the first
// frame is sent: what arrives before is a late answer to a request given up on.
const drainQuiet = 20 * time.Millisecond

// exchange sends one frame and returns the values of the display's ACK (nil for a frame to
// the broadcast ID, which nobody answers). what names the operation in errors.
func (d *Display) exchange(ctx context.Context, what string, cmd byte, data []byte) ([]byte, error) {
	req, err := encodeFrame(cmd, d.opts.ID, data)
	if err != nil {
		return nil, fmt.Errorf("samsungmdc: %s: %w", what, err)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	for attempt := 1; ; attempt++ {
		vals, again, err := d.try(ctx, cmd, req)
		if err == nil {
			return vals, nil
		}
		if again && attempt == 1 {
			d.log.Debug("samsungmdc: link lost, opening it again", "error", err)
			continue
		}
		return nil, fmt.Errorf("samsungmdc: %s: %w", what, err)
	}
}

// try makes one attempt at an exchange, opening the link first when there is none. again
// reports whether the failure is one a fresh link may cure.
func (d *Display) try(ctx context.Context, cmd byte, req []byte) (vals []byte, again bool, err error) {
	if err := ctx.Err(); err != nil {
		return nil, false, ctxError("", err)
	}
	deadline, fromCtx := d.deadline(ctx)
	l, err := d.current(ctx, deadline)
	if err != nil {
		return nil, false, err
	}
	if err := l.conn.SetDeadline(deadline); err != nil {
		d.drop(l)
		return nil, d.retryable(ctx, err), d.ioError(ctx, "set deadline", err, fromCtx)
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

	if _, err := l.conn.Write(req); err != nil {
		d.drop(l)
		return nil, d.retryable(ctx, err), d.ioError(ctx, fmt.Sprintf("send command 0x%02x", cmd), err, fromCtx)
	}
	if d.opts.ID == Broadcast {
		return nil, false, nil
	}
	f, err := readFrame(l.r)
	if err != nil {
		d.drop(l)
		if errors.Is(err, errGarbled) {
			return nil, false, err
		}
		return nil, d.retryable(ctx, err), d.ioError(ctx, fmt.Sprintf("read answer to 0x%02x", cmd), err, fromCtx)
	}
	vals, err = parseReply(f, cmd, d.opts.ID)
	if err != nil {
		var ne *NakError
		if !errors.As(err, &ne) {
			d.drop(l) // out of step: the link is no use any more
		}
		return nil, false, err
	}
	return vals, false, nil
}

// current returns the open link, opening one when there is none.
func (d *Display) current(ctx context.Context, deadline time.Time) (*link, error) {
	d.cmu.Lock()
	l, closed := d.link, d.closed
	d.cmu.Unlock()
	if closed {
		return nil, errClosed
	}
	if l != nil {
		return l, nil
	}
	dctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	conn, err := d.dial(dctx)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctxError("connect", ctx.Err())
		}
		return nil, fmt.Errorf("connect: %w: %w", err, drivers.ErrUnreachable)
	}
	l = &link{conn: conn, r: bufio.NewReaderSize(conn, 512), serial: isSerial(conn)}
	if l.serial {
		discardPending(conn)
	}
	d.cmu.Lock()
	defer d.cmu.Unlock()
	if d.closed {
		conn.Close()
		return nil, errClosed
	}
	d.link = l
	return l, nil
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
func (d *Display) drop(l *link) {
	d.cmu.Lock()
	if d.link == l {
		d.link = nil
	}
	d.cmu.Unlock()
	l.conn.Close()
}

// deadline returns the deadline of one exchange: the context's, or Options.Timeout from now
// when that comes sooner; fromCtx tells which.
func (d *Display) deadline(ctx context.Context) (time.Time, bool) {
	own := time.Now().Add(d.opts.Timeout)
	if dl, ok := ctx.Deadline(); ok && !dl.After(own) {
		return dl, true
	}
	return own, false
}

func (d *Display) isClosed() bool {
	d.cmu.Lock()
	defer d.cmu.Unlock()
	return d.closed
}

// retryable reports whether a failed read or write may succeed on a new link: not after a
// timeout, a cancelled context or Close.
func (d *Display) retryable(ctx context.Context, err error) bool {
	return !d.isClosed() && ctx.Err() == nil && !isTimeout(err)
}

// isTimeout reports a passed read or write deadline, on a socket or a serial port.
func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, os.ErrDeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout())
}

// ioError wraps a failed read or write. A deadline is a timeout (context.DeadlineExceeded,
// and drivers.ErrUnreachable: the display does not answer); anything else is
// drivers.ErrUnreachable.
func (d *Display) ioError(ctx context.Context, stage string, err error, fromCtx bool) error {
	if ctx.Err() != nil {
		return ctxError(stage, ctx.Err())
	}
	if isTimeout(err) {
		if fromCtx {
			return ctxError(stage, context.DeadlineExceeded)
		}
		return fmt.Errorf("%s: no answer within %v: %w: %w", stage, d.opts.Timeout, context.DeadlineExceeded, drivers.ErrUnreachable)
	}
	if d.isClosed() {
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
