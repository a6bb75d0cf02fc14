package devlink

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/bailiff/bailiff/drivers"
)

type link struct {
	net.Conn
	closed bool
}

func (l *link) Close() error { l.closed = true; return l.Conn.Close() }

var errClosed = errors.New("device closed")

func TestKeeper(t *testing.T) {
	k := &Keeper[*link]{Closed: errClosed, Limit: time.Second}
	ctx := context.Background()
	dials := 0
	var peer net.Conn
	open := func(ctx context.Context) (*link, error) {
		if _, ok := ctx.Deadline(); !ok {
			t.Error("open without a deadline")
		}
		dials++
		a, b := net.Pipe()
		peer = b
		return &link{Conn: a}, nil
	}
	deadline, fromCtx := k.Deadline(ctx)
	if fromCtx || time.Until(deadline) > time.Second {
		t.Fatalf("deadline %v, %v", deadline, fromCtx)
	}
	l, fresh, err := k.Current(ctx, deadline, open)
	if err != nil || !fresh || dials != 1 {
		t.Fatalf("first: %v %v %v", l, fresh, err)
	}
	if again, fresh, _ := k.Current(ctx, deadline, open); again != l || fresh || dials != 1 {
		t.Fatal("the open link was not kept")
	}
	k.Drop(l)
	if !l.closed {
		t.Fatal("Drop did not close the link")
	}
	l2, fresh, _ := k.Current(ctx, deadline, open)
	if l2 == l || !fresh || dials != 2 {
		t.Fatal("no new link after Drop")
	}
	k.Drop(l) // an old link: the new one stays
	if again, _, _ := k.Current(ctx, deadline, open); again != l2 {
		t.Fatal("dropping an old link forgot the new one")
	}
	peer.Close()
	if err := k.Close(); err != nil || !l2.closed || !k.IsClosed() {
		t.Fatalf("Close: %v", err)
	}
	if _, _, err := k.Current(ctx, deadline, open); err != errClosed {
		t.Fatalf("after Close: %v", err)
	}
	if k.Retryable(ctx, io.EOF) {
		t.Fatal("retryable after Close")
	}
	if err := k.IOError(ctx, "read", io.EOF, false); err != errClosed {
		t.Fatalf("IOError after Close: %v", err)
	}
}

func TestKeeperDialFails(t *testing.T) {
	k := &Keeper[*link]{Closed: errClosed, Limit: time.Second}
	refused := errors.New("refused")
	_, _, err := k.Current(context.Background(), time.Now().Add(time.Second), func(context.Context) (*link, error) { return nil, refused })
	if !errors.Is(err, refused) || !errors.Is(err, drivers.ErrUnreachable) || !strings.HasPrefix(err.Error(), "connect: ") {
		t.Fatalf("%v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, _, err = k.Current(ctx, time.Now().Add(time.Second), func(ctx context.Context) (*link, error) { return nil, ctx.Err() })
	if !errors.Is(err, context.Canceled) || errors.Is(err, drivers.ErrUnreachable) {
		t.Fatalf("cancelled: %v", err)
	}
}

func TestErrors(t *testing.T) {
	bg := context.Background()
	cancelled, cancel := context.WithCancel(bg)
	cancel()
	for _, c := range []struct {
		name                     string
		ctx                      context.Context
		err                      error
		fromCtx                  bool
		closed                   error
		deadline, unreachable    bool
		canceled, isClosed, text string
	}{
		{name: "own limit", ctx: bg, err: os.ErrDeadlineExceeded, deadline: true, unreachable: true, text: "read: no answer within 1s"},
		{name: "context deadline", ctx: bg, err: os.ErrDeadlineExceeded, fromCtx: true, deadline: true, unreachable: true, text: "read: no answer before the deadline"},
		{name: "cancelled", ctx: cancelled, err: io.EOF, canceled: "yes", text: "read: context canceled"},
		{name: "closed", ctx: bg, err: io.EOF, closed: errClosed, isClosed: "yes"},
		{name: "lost", ctx: bg, err: io.EOF, unreachable: true, text: "read: EOF"},
	} {
		err := IOError(c.ctx, "read", c.err, c.fromCtx, time.Second, c.closed)
		if errors.Is(err, context.DeadlineExceeded) != c.deadline || errors.Is(err, drivers.ErrUnreachable) != c.unreachable ||
			errors.Is(err, context.Canceled) != (c.canceled != "") || (err == errClosed) != (c.isClosed != "") ||
			!strings.HasPrefix(err.Error(), c.text) {
			t.Errorf("%s: %v", c.name, err)
		}
	}
	if !IsTimeout(context.DeadlineExceeded) || !IsTimeout(os.ErrDeadlineExceeded) || IsTimeout(io.EOF) {
		t.Error("IsTimeout")
	}
	if err := CtxError("", context.Canceled); err.Error() != "context canceled" {
		t.Errorf("CtxError: %v", err)
	}
	ctx, cancel2 := context.WithTimeout(bg, time.Millisecond)
	defer cancel2()
	if dl, fromCtx := Deadline(ctx, time.Hour); !fromCtx || time.Until(dl) > time.Millisecond {
		t.Error("Deadline: the context's comes first")
	}
}

func TestDiscardPending(t *testing.T) {
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	go b.Write([]byte("late answer"))
	time.Sleep(10 * time.Millisecond)
	DiscardPending(a, 20*time.Millisecond)
	go b.Write([]byte("x"))
	a.SetReadDeadline(time.Now().Add(time.Second))
	buf := make([]byte, 16)
	if n, err := a.Read(buf); string(buf[:n]) != "x" {
		t.Fatalf("%q, %v", buf[:n], err)
	}
	if IsSerial(a) {
		t.Fatal("a pipe is not a serial line")
	}
}

func TestBackoffBounds(t *testing.T) {
	for _, c := range [][4]time.Duration{
		{0, 0, time.Second, time.Minute}, {time.Second, 0, time.Second, time.Minute},
		{2 * time.Minute, 0, 2 * time.Minute, 2 * time.Minute}, {time.Millisecond, time.Second, time.Millisecond, time.Second},
	} {
		if lo, hi := BackoffBounds(c[0], c[1], time.Second, time.Minute); lo != c[2] || hi != c[3] {
			t.Errorf("BackoffBounds(%v, %v) = %v, %v; want %v, %v", c[0], c[1], lo, hi, c[2], c[3])
		}
	}
}
