package samsungmdc

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/bailiff/bailiff/drivers/internal/devlink"
)

// link is one open connection or serial port to the display.
type link struct {
	conn   net.Conn
	r      *bufio.Reader
	serial bool
}

func (l *link) Close() error { return l.conn.Close() }

// open opens a link; on a serial line it first drops what the line still holds.
func (d *Display) open(ctx context.Context) (*link, error) {
	conn, err := d.dial(ctx)
	if err != nil {
		return nil, err
	}
	l := &link{conn: conn, r: bufio.NewReaderSize(conn, 512), serial: devlink.IsSerial(conn)}
	if l.serial {
		devlink.DiscardPending(conn, drainQuiet)
	}
	return l, nil
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
		return nil, false, devlink.CtxError("", err)
	}
	deadline, fromCtx := d.links.Deadline(ctx)
	l, _, err := d.links.Current(ctx, deadline, d.open)
	if err != nil {
		return nil, false, err
	}
	if err := l.conn.SetDeadline(deadline); err != nil {
		d.links.Drop(l)
		return nil, d.links.Retryable(ctx, err), d.links.IOError(ctx, "set deadline", err, fromCtx)
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
		d.links.Drop(l)
		return nil, d.links.Retryable(ctx, err), d.links.IOError(ctx, fmt.Sprintf("send command 0x%02x", cmd), err, fromCtx)
	}
	if d.opts.ID == Broadcast {
		return nil, false, nil
	}
	f, err := readFrame(l.r)
	if err != nil {
		d.links.Drop(l)
		if errors.Is(err, errGarbled) {
			return nil, false, err
		}
		return nil, d.links.Retryable(ctx, err), d.links.IOError(ctx, fmt.Sprintf("read answer to 0x%02x", cmd), err, fromCtx)
	}
	vals, err = parseReply(f, cmd, d.opts.ID)
	if err != nil {
		var ne *NakError
		if !errors.As(err, &ne) {
			d.links.Drop(l) // out of step: the link is no use any more
		}
		return nil, false, err
	}
	return vals, false, nil
}
