// Package devlink is what the drivers that hold one link to a device share: opening it when
// an exchange needs it, dropping it when it fails, a deadline for each exchange, and the
// errors that tell a timeout, a cancelled context, a closed driver and an unreachable device
// apart (drivers.ErrUnreachable, context.DeadlineExceeded).
//
// It knows no protocol: each driver keeps its own link type (the connection and its reader)
// and its own exchanges.
package devlink

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/bailiff/bailiff/drivers"
	"github.com/bailiff/bailiff/drivers/transport"
)

// Deadline returns the deadline of one exchange: ctx's, or limit from now when that comes
// sooner; fromCtx tells which.
func Deadline(ctx context.Context, limit time.Duration) (deadline time.Time, fromCtx bool) {
	own := time.Now().Add(limit)
	if dl, ok := ctx.Deadline(); ok && !dl.After(own) {
		return dl, true
	}
	return own, false
}

// IsTimeout reports a passed read or write deadline, on a socket or a serial port.
func IsTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// CtxError wraps the error of a context that ended; stage ("connect", "read status") may be
// "". A deadline that passed is drivers.ErrUnreachable too: the device did not answer.
func CtxError(stage string, err error) error {
	if stage != "" {
		stage += ": "
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%sno answer before the deadline: %w: %w", stage, err, drivers.ErrUnreachable)
	}
	return fmt.Errorf("%s%w", stage, err)
}

// TimeoutError says that the device did not answer in time: context.DeadlineExceeded and
// drivers.ErrUnreachable. fromCtx says whether the deadline was the context's or the
// driver's own limit.
func TimeoutError(stage string, fromCtx bool, limit time.Duration) error {
	if fromCtx {
		return CtxError(stage, context.DeadlineExceeded)
	}
	return fmt.Errorf("%s: no answer within %v: %w: %w", stage, limit, context.DeadlineExceeded, drivers.ErrUnreachable)
}

// IOError wraps a failed read or write: the context's error when it ended, a TimeoutError for
// a deadline, closed when not nil (the driver was closed meanwhile), and otherwise err as
// drivers.ErrUnreachable.
func IOError(ctx context.Context, stage string, err error, fromCtx bool, limit time.Duration, closed error) error {
	switch {
	case ctx.Err() != nil:
		return CtxError(stage, ctx.Err())
	case IsTimeout(err):
		return TimeoutError(stage, fromCtx, limit)
	case closed != nil:
		return closed
	}
	return fmt.Errorf("%s: %w: %w", stage, err, drivers.ErrUnreachable)
}

// IsSerial reports whether c is a serial port opened by transport.
func IsSerial(c net.Conn) bool {
	a := c.LocalAddr()
	return a != nil && a.Network() == transport.Serial
}

// DiscardPending reads and drops whatever a serial line holds until it stays quiet for quiet
// (a pty or a USB adapter keeps bytes received while the port was closed: late answers to
// requests given up on).
func DiscardPending(c net.Conn, quiet time.Duration) {
	buf := make([]byte, 256)
	for range 64 {
		c.SetReadDeadline(time.Now().Add(quiet))
		if n, err := c.Read(buf); err != nil || n == 0 {
			return
		}
	}
}

// BackoffBounds returns the bounds of the wait between connection attempts: defMin and
// defMax for bounds not set (≤ 0), and max no shorter than min.
func BackoffBounds(minWait, maxWait, defMin, defMax time.Duration) (time.Duration, time.Duration) {
	if minWait <= 0 {
		minWait = defMin
	}
	if maxWait <= 0 {
		maxWait = defMax
	}
	return minWait, max(maxWait, minWait)
}

// Keeper keeps a driver's one link to its device (L: the driver's link type, a pointer): it
// opens it when an exchange needs one, forgets it when it fails, and closes it for good on
// Close. Its methods are safe for concurrent use.
type Keeper[L interface {
	comparable
	Close() error
}] struct {
	// Closed is the error once Close has been called ("projector closed: …").
	Closed error
	// Limit is the driver's own limit for one exchange (its Options.Timeout).
	Limit time.Duration

	mu     sync.Mutex
	link   L
	closed bool
}

// Current returns the open link, opening one with open when there is none (fresh true). open
// gets a context that ends at deadline; its error is wrapped as drivers.ErrUnreachable, or as
// ctx's error when ctx ended.
func (k *Keeper[L]) Current(ctx context.Context, deadline time.Time, open func(context.Context) (L, error)) (l L, fresh bool, err error) {
	var none L
	k.mu.Lock()
	l, closed := k.link, k.closed
	k.mu.Unlock()
	if closed {
		return none, false, k.Closed
	}
	if l != none {
		return l, false, nil
	}
	dctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	l, err = open(dctx)
	if err != nil {
		if ctx.Err() != nil {
			return none, false, CtxError("connect", ctx.Err())
		}
		return none, false, fmt.Errorf("connect: %w: %w", err, drivers.ErrUnreachable)
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.closed {
		l.Close()
		return none, false, k.Closed
	}
	k.link = l
	return l, true, nil
}

// Drop closes l and forgets it.
func (k *Keeper[L]) Drop(l L) {
	var none L
	k.mu.Lock()
	if k.link == l {
		k.link = none
	}
	k.mu.Unlock()
	l.Close()
}

// Close closes the link for good: Current fails with Closed from now on. It returns the
// error of closing the open link, if any (a link already closed is no error).
func (k *Keeper[L]) Close() error {
	var none L
	k.mu.Lock()
	defer k.mu.Unlock()
	k.closed = true
	l := k.link
	k.link = none
	if l == none {
		return nil
	}
	if err := l.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
		return err
	}
	return nil
}

// IsClosed reports whether Close has been called.
func (k *Keeper[L]) IsClosed() bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.closed
}

// Deadline returns the deadline of one exchange: ctx's, or Limit from now when that comes
// sooner; fromCtx tells which.
func (k *Keeper[L]) Deadline(ctx context.Context) (time.Time, bool) { return Deadline(ctx, k.Limit) }

// Retryable reports whether a failed read or write may succeed on a new link: not after a
// timeout, a cancelled context or Close.
func (k *Keeper[L]) Retryable(ctx context.Context, err error) bool {
	return !k.IsClosed() && ctx.Err() == nil && !IsTimeout(err)
}

// IOError wraps a failed read or write (see IOError), with Closed when the driver was
// closed meanwhile.
func (k *Keeper[L]) IOError(ctx context.Context, stage string, err error, fromCtx bool) error {
	var closed error
	if k.IsClosed() {
		closed = k.Closed
	}
	return IOError(ctx, stage, err, fromCtx, k.Limit, closed)
}
