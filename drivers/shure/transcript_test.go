package shure

import (
	"context"
	"io"
	"net"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/bailiff/bailiff/drivers"
	"github.com/bailiff/bailiff/drivers/shure/internal/golden"
)

// fakeDevice serves one connection of a net.Pipe: it reads expect, exactly, then writes
// answer. It returns a dial function for New that fails after the first dial.
func fakeDevice(t *testing.T, expect, answer string) func(context.Context) (net.Conn, error) {
	t.Helper()
	var mu sync.Mutex
	dialled := false
	return func(context.Context) (net.Conn, error) {
		mu.Lock()
		defer mu.Unlock()
		if dialled {
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
			if expect != "" {
				got := make([]byte, len(expect))
				if _, err := io.ReadFull(dev, got); err != nil {
					t.Errorf("fake: read request: %v", err)
					return
				}
				if string(got) != expect {
					t.Errorf("driver sent %q, want %q", got, expect)
					return
				}
			}
			// The driver may stop reading a garbled answer; a failed write is fine then.
			dev.Write([]byte(answer))
			io.Copy(io.Discard, dev)
		}()
		return client, nil
	}
}

// TestTranscriptGolden plays every golden exchange against the driver: the command it
// sends must be the frame's bytes, and what it makes of the reply the frame's result.
func TestTranscriptGolden(t *testing.T) {
	for _, f := range golden.Frames {
		if f.Request == "" {
			continue
		}
		t.Run(f.Name, func(t *testing.T) {
			d := New(fakeDevice(t, f.Request, f.Reply), Options{Timeout: time.Second})
			defer d.Close()
			m, err := d.Send(context.Background(), Command{Kind: f.Kind, Channel: f.Channel, Param: f.Param, Value: f.Value})
			var st drivers.State
			if err == nil {
				c := newCache()
				if _, err = c.apply(m); err == nil {
					st = c.state()
				}
			}
			checkCode(t, f.Code, err)
			if f.Want != nil && !reflect.DeepEqual(map[string]any(st), f.Want) {
				t.Fatalf("state %#v, want %#v", st, f.Want)
			}
		})
	}
}

type recorder struct {
	mu     sync.Mutex
	meters []map[string]float64
	states []drivers.State
}

func (r *recorder) Event(string, map[string]any) {}
func (r *recorder) Meter(l map[string]float64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.meters = append(r.meters, l)
}
func (r *recorder) State(s drivers.State) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.states = append(r.states, s)
}

// TestTranscriptSamples checks that samples reach Notify.Meter in dBFS, and that the meter
// rate is asked for on connect.
func TestTranscriptSamples(t *testing.T) {
	var frames string
	var want []map[string]float64
	for _, f := range golden.Frames {
		if f.Meter != nil {
			frames += f.Reply
			want = append(want, f.Meter)
		}
	}
	rec := &recorder{}
	d := New(fakeDevice(t, "< SET METER_RATE 00250 >", frames), Options{MeterRate: 250 * time.Millisecond, Notify: rec})
	defer d.Close()
	d.start()
	deadline := time.Now().Add(3 * time.Second)
	for {
		rec.mu.Lock()
		n := len(rec.meters)
		rec.mu.Unlock()
		if n >= len(want) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d samples, want %d", n, len(want))
		}
		time.Sleep(5 * time.Millisecond)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if !reflect.DeepEqual(rec.meters, want) {
		t.Fatalf("meters %v, want %v", rec.meters, want)
	}
}
