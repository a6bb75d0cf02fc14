package pjlink

import (
	"bufio"
	"context"
	"net"
	"testing"
	"time"

	"github.com/bailiff/bailiff/drivers"
	"github.com/bailiff/bailiff/drivers/pjlink/internal/golden"
)

// script is one step of a fake projector: the bytes it expects, then the bytes it answers.
type script struct{ expect, answer string }

// fakeProjector serves one connection of a net.Pipe: it sends greeting, then plays steps,
// failing t when the driver sends anything else. It returns a dial function for New.
func fakeProjector(t *testing.T, greeting string, steps ...script) func(context.Context) (net.Conn, error) {
	t.Helper()
	dialled := false
	return func(context.Context) (net.Conn, error) {
		if dialled {
			t.Errorf("dialled twice")
			return nil, net.ErrClosed
		}
		dialled = true
		client, proj := net.Pipe()
		done := make(chan struct{})
		t.Cleanup(func() { proj.Close(); <-done })
		go func() {
			defer close(done)
			defer proj.Close()
			proj.SetDeadline(time.Now().Add(5 * time.Second))
			if _, err := proj.Write([]byte(greeting)); err != nil {
				t.Errorf("fake: write greeting: %v", err)
				return
			}
			r := bufio.NewReader(proj)
			for _, s := range steps {
				got, err := r.ReadString('\r')
				if err != nil {
					t.Errorf("fake: read request: %v", err)
					return
				}
				if got != s.expect {
					t.Errorf("driver sent %q, want %q", got, s.expect)
					return
				}
				// The driver may stop reading a garbled answer; a failed write is fine then.
				proj.Write([]byte(s.answer))
			}
		}()
		return client, nil
	}
}

func TestTranscriptGolden(t *testing.T) {
	for _, f := range golden.Frames {
		t.Run(f.Name, func(t *testing.T) {
			p := New(fakeProjector(t, "PJLINK 0\r", script{f.Request, f.Reply}), Options{Timeout: 2 * time.Second})
			defer p.Close()
			ctx := context.Background()
			var got drivers.State
			var err error
			if f.Param == "?" {
				var payload string
				payload, err = p.exchange(ctx, "query "+f.Cmd, f.Cmd, f.Param)
				if err == nil {
					got, err = decodeQuery(f.Cmd, payload)
				}
			} else {
				err = p.set(ctx, "set "+f.Cmd, f.Cmd, f.Param)
			}
			checkFrame(t, f, got, err)
		})
	}
}

func TestTranscriptAuthVector(t *testing.T) {
	v := golden.Vector
	p := New(fakeProjector(t, "PJLINK 1 "+v.Random+"\r",
		script{v.Digest + "%1POWR ?\r", "%1POWR=1\r"},
		script{"%1INPT 31\r", "%1INPT=OK\r"}, // no digest after the first command (spec §5.3)
	), Options{Password: v.Password})
	defer p.Close()
	ctx := context.Background()
	if got, err := p.Command(ctx, "POWR", "?"); err != nil || got != "1" {
		t.Fatalf("POWR ? = %q, %v", got, err)
	}
	if err := p.SetInput(ctx, "digital1"); err != nil {
		t.Fatalf("SetInput: %v", err)
	}
}
