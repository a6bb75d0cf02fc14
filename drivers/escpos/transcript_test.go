package escpos

import (
	"context"
	"io"
	"net"
	"reflect"
	"testing"
	"time"

	"github.com/bailiff/bailiff/drivers/escpos/internal/golden"
)

// step is one exchange of a fake printer: the bytes it expects, then the bytes it answers.
type step struct{ expect, answer string }

// fakePrinter serves one connection of a net.Pipe and plays steps, failing t when the
// driver sends anything else.
func fakePrinter(t *testing.T, steps ...step) func(context.Context) (net.Conn, error) {
	t.Helper()
	dialled := false
	return func(context.Context) (net.Conn, error) {
		if dialled {
			t.Errorf("dialled twice")
			return nil, net.ErrClosed
		}
		dialled = true
		client, dev := net.Pipe()
		done := make(chan struct{})
		t.Cleanup(func() { dev.Close(); <-done })
		go func() {
			defer close(done)
			defer dev.Close()
			dev.SetDeadline(time.Now().Add(5 * time.Second))
			for _, s := range steps {
				got := make([]byte, len(s.expect))
				if _, err := io.ReadFull(dev, got); err != nil {
					t.Errorf("fake: read: %v", err)
					return
				}
				if string(got) != s.expect {
					t.Errorf("driver sent\n%q\nwant\n%q", got, s.expect)
					return
				}
				dev.Write([]byte(s.answer))
			}
		}()
		return client, nil
	}
}

const allClear = "\x12\x12\x12\x12"

func TestTranscriptStatus(t *testing.T) {
	for _, f := range golden.Statuses {
		t.Run(f.Name, func(t *testing.T) {
			b := golden4(f)
			p := New(fakePrinter(t, step{string(statusAll), string(b[:])}), Options{})
			defer p.Close()
			st, err := p.Poll(context.Background())
			checkCode(t, f.Code, err)
			if f.Want != nil && !reflect.DeepEqual(map[string]any(st), f.Want) {
				t.Fatalf("state %v, want %v", st, f.Want)
			}
		})
	}
}

// TestTranscriptTicket checks the bytes Print sends: status, ticket, status.
func TestTranscriptTicket(t *testing.T) {
	for _, f := range golden.Tickets {
		if f.Code != "" {
			continue
		}
		t.Run(f.Name, func(t *testing.T) {
			p := New(fakePrinter(t, step{string(statusAll), allClear}, step{f.Bytes + string(statusAll), allClear}),
				Options{Layout: Layout{Width: f.Width, Encoding: f.Encoding}, Now: func() time.Time { return f.At }})
			defer p.Close()
			if err := p.Print(context.Background(), f.Args); err != nil {
				t.Fatal(err)
			}
		})
	}
}
