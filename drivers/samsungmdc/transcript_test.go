package samsungmdc

import (
	"bytes"
	"context"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/bailiff/bailiff/drivers"
	"github.com/bailiff/bailiff/drivers/samsungmdc/internal/golden"
)

// script is one step of a fake display: the bytes it expects, then the bytes it answers.
type script struct{ expect, answer []byte }

// fakeDisplay serves each connection of a net.Pipe the same steps, failing t when the driver
// sends anything else, and counts the dials. It returns a dial function for New.
func fakeDisplay(t *testing.T, steps ...script) (func(context.Context) (net.Conn, error), func() int) {
	t.Helper()
	var mu sync.Mutex
	dials := 0
	dial := func(context.Context) (net.Conn, error) {
		mu.Lock()
		dials++
		mu.Unlock()
		client, disp := net.Pipe()
		done := make(chan struct{})
		t.Cleanup(func() { disp.Close(); <-done })
		go func() {
			defer close(done)
			defer disp.Close()
			disp.SetDeadline(time.Now().Add(5 * time.Second))
			for _, s := range steps {
				got := make([]byte, len(s.expect))
				if _, err := io.ReadFull(disp, got); err != nil {
					t.Errorf("fake: read request: %v", err)
					return
				}
				if !bytes.Equal(got, s.expect) {
					t.Errorf("driver sent % X, want % X", got, s.expect)
					return
				}
				if len(s.answer) > 0 {
					// The driver may stop reading a garbled answer; a failed write is fine then.
					disp.Write(s.answer)
				}
			}
			// Hold the line open until the driver closes it, so a cut answer is cut by EOF
			// only where the script says.
			io.Copy(io.Discard, disp)
		}()
		return client, nil
	}
	count := func() int { mu.Lock(); defer mu.Unlock(); return dials }
	return dial, count
}

func TestTranscriptGolden(t *testing.T) {
	for _, f := range golden.Frames {
		t.Run(f.Name, func(t *testing.T) {
			dial, dials := fakeDisplay(t, script{f.Request, f.Reply})
			if f.Name == "cut short" {
				// The fake must end the line after the cut answer.
				dial, dials = cutAfter(t, f)
			}
			d := New(dial, Options{ID: f.ID, Timeout: 2 * time.Second})
			defer d.Close()
			ctx := context.Background()
			var got drivers.State
			var err error
			if f.Data != nil {
				err = d.set(ctx, "set", f.Cmd, f.Data[0], "x", nil)
			} else {
				var vals []byte
				vals, err = d.exchange(ctx, "get", f.Cmd, nil)
				if err == nil && f.Cmd == CmdStatus {
					got, err = decodeStatus(vals)
				} else if err == nil {
					got, err = decodeValue(f.Cmd, vals)
				}
			}
			checkFrame(t, f, got, err)
			want := 1
			if f.Code == "unreachable" {
				want = 2 // one retry on a fresh link
			}
			if n := dials(); n != want {
				t.Fatalf("%d dials, want %d", n, want)
			}
		})
	}
}

// cutAfter is a fake display that answers f.Reply and then closes the line.
func cutAfter(t *testing.T, f golden.Frame) (func(context.Context) (net.Conn, error), func() int) {
	var mu sync.Mutex
	dials := 0
	return func(context.Context) (net.Conn, error) {
			mu.Lock()
			dials++
			mu.Unlock()
			client, disp := net.Pipe()
			go func() {
				defer disp.Close()
				got := make([]byte, len(f.Request))
				if _, err := io.ReadFull(disp, got); err != nil || !bytes.Equal(got, f.Request) {
					t.Errorf("driver sent % X (%v)", got, err)
					return
				}
				disp.Write(f.Reply)
			}()
			return client, nil
		}, func() int {
			mu.Lock()
			defer mu.Unlock()
			return dials
		}
}

func TestTranscriptPollFallback(t *testing.T) {
	dial, _ := fakeDisplay(t,
		script{golden.H("AA 00 01 00 01"), golden.H("AA FF 01 03 4E 00 01 52")}, // status refused
		script{golden.H("AA 11 01 00 12"), golden.H("AA FF 01 03 41 11 00 55")}, // power off
		script{golden.H("AA 12 01 00 13"), golden.H("AA FF 01 03 4E 12 03 66")}, // volume refused
		script{golden.H("AA 13 01 00 14"), golden.H("AA FF 01 03 41 13 01 58")}, // muted
		script{golden.H("AA 14 01 00 15"), golden.H("AA FF 01 03 41 14 23 7B")}, // hdmi2
	)
	d := New(dial, Options{ID: 1})
	defer d.Close()
	st, err := d.Poll(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := drivers.State{"power": "off", "mute": true, "input": "hdmi2"}
	if len(st) != len(want) || st["power"] != "off" || st["mute"] != true || st["input"] != "hdmi2" {
		t.Fatalf("Poll = %v, want %v", st, want)
	}
}
