package mdcsim

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"os"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/bailiff/bailiff/drivers/internal/drivertest"
	"github.com/bailiff/bailiff/drivers/samsungmdc/internal/golden"
	"github.com/bailiff/bailiff/drivers/simreg"
	"github.com/bailiff/bailiff/drivers/transport"
)

// client is a raw MDC controller for tests: it checks bytes, not meaning.
type client struct {
	t *testing.T
	c net.Conn
}

func dial(t *testing.T, addr string) *client {
	t.Helper()
	c, err := transport.Dial(context.Background(), addr, transport.Options{TCPPort: 1515})
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	t.Cleanup(func() { c.Close() })
	return &client{t: t, c: c}
}

func (cl *client) send(b []byte) {
	cl.t.Helper()
	cl.c.SetWriteDeadline(time.Now().Add(2 * time.Second))
	if _, err := cl.c.Write(b); err != nil {
		cl.t.Fatalf("send % X: %v", b, err)
	}
}

// read reads n bytes, or what comes before timeout.
func (cl *client) read(n int, timeout time.Duration) ([]byte, error) {
	cl.c.SetReadDeadline(time.Now().Add(timeout))
	b := make([]byte, n)
	got, err := io.ReadFull(cl.c, b)
	return b[:got], err
}

// ask sends req and reads an answer of len(want) bytes, failing the test when it differs.
func (cl *client) ask(req, want []byte) {
	cl.t.Helper()
	cl.send(req)
	got, err := cl.read(len(want), 2*time.Second)
	if err != nil || !bytes.Equal(got, want) {
		cl.t.Fatalf("% X answered % X (%v), want % X", req, got, err, want)
	}
}

// quiet checks that nothing arrives for d.
func (cl *client) quiet(d time.Duration) {
	cl.t.Helper()
	if got, err := cl.read(1, d); len(got) > 0 || !isTimeout(err) {
		cl.t.Fatalf("got % X (%v), want silence", got, err)
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, os.ErrDeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout())
}

func start(t *testing.T, cfg Config, link string) (*Sim, string) {
	t.Helper()
	s := New(cfg)
	var addr string
	var err error
	if link == "serial" {
		addr, err = s.ListenPTY()
	} else {
		addr, err = s.Listen("127.0.0.1:0")
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, addr
}

// eventually polls cond until it holds or 2 s pass.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	drivertest.Eventually(t, 2*time.Second, what, cond)
}

func TestGoldenFrames(t *testing.T) {
	for _, link := range []string{"tcp", "serial"} {
		t.Run(link, func(t *testing.T) {
			n := 0
			for _, f := range golden.Frames {
				if f.Sim == nil {
					continue
				}
				n++
				t.Run(f.Name, func(t *testing.T) {
					su := f.Sim
					s, addr := start(t, Config{ID: su.ID, On: su.On, Volume: su.Volume, Mute: su.Mute,
						Input: su.Input, Aspect: su.Aspect, Inputs: su.Inputs, NoStatus: su.NoStatus}, link)
					cl := dial(t, addr)
					if f.Reply == nil {
						cl.send(f.Request)
						cl.quiet(100 * time.Millisecond)
						if s.Commands() != 1 {
							t.Fatalf("%d frames counted", s.Commands())
						}
						return
					}
					cl.ask(f.Request, f.Reply)
					cl.quiet(20 * time.Millisecond)
				})
			}
			if n < 20 {
				t.Fatalf("only %d golden frames run against the simulator", n)
			}
		})
	}
}

func TestStateChanges(t *testing.T) {
	s, addr := start(t, Config{ID: 1, Inputs: []byte{0x21, 0x23}}, "tcp")
	cl := dial(t, addr)
	cl.ask(golden.H("AA 11 01 01 01 14"), golden.H("AA FF 01 03 41 11 01 56"))
	cl.ask(golden.H("AA 12 01 01 1E 32"), golden.H("AA FF 01 03 41 12 1E 74"))
	cl.ask(golden.H("AA 13 01 01 01 16"), golden.H("AA FF 01 03 41 13 01 58"))
	cl.ask(golden.H("AA 14 01 01 23 39"), golden.H("AA FF 01 03 41 14 23 7B"))
	if st := s.State(); !st.On || st.Volume != 30 || !st.Mute || st.Input != 0x23 {
		t.Fatalf("state %+v", st)
	}
	// The status shows it all.
	cl.ask(golden.H("AA 00 01 00 01"), golden.H("AA FF 01 09 41 00 01 1E 01 23 10 00 00 9D"))
	// Reboot (power 2) is acknowledged and leaves the display on.
	cl.ask(golden.H("AA 11 01 01 02 15"), golden.H("AA FF 01 03 41 11 02 57"))
	// A get-only source, a mute of 2 and a set with two data bytes are refused.
	cl.ask(golden.H("AA 14 01 01 22 38"), golden.H("AA FF 01 03 4E 14 02 67"))
	cl.ask(golden.H("AA 13 01 01 02 17"), golden.H("AA FF 01 03 4E 13 02 66"))
	cl.ask(golden.H("AA 12 01 02 01 02 18"), golden.H("AA FF 01 03 4E 12 02 65"))
	if st := s.State(); !st.On || st.Input != 0x23 || !st.Mute {
		t.Fatalf("state after refusals %+v", st)
	}
}

func TestFramesIgnored(t *testing.T) {
	s, addr := start(t, Config{ID: 1, On: true}, "tcp")
	cl := dial(t, addr)
	cl.send(golden.H("AA 11 02 00 13")) // for display 2
	cl.quiet(50 * time.Millisecond)
	cl.send(golden.H("AA 11 01 00 13")) // bad checksum
	cl.quiet(50 * time.Millisecond)
	if s.Commands() != 1 {
		t.Fatalf("%d frames counted, want 1 (the bad checksum is not a frame)", s.Commands())
	}
	// Bytes before a header are skipped: the display finds the next frame.
	cl.ask(golden.H("00 13 FF AA 11 01 00 12"), golden.H("AA FF 01 03 41 11 01 56"))
}

func TestSharedStateAcrossConnections(t *testing.T) {
	s, addr := start(t, Config{ID: 1, On: true}, "tcp")
	a, b := dial(t, addr), dial(t, addr)
	a.ask(golden.H("AA 13 01 01 01 16"), golden.H("AA FF 01 03 41 13 01 58"))
	b.ask(golden.H("AA 13 01 00 14"), golden.H("AA FF 01 03 41 13 01 58"))

	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Error(err)
				return
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(5 * time.Second))
			want := golden.H("AA FF 01 03 41 11 01 56")
			for j := 0; j < 20; j++ {
				c.Write(golden.H("AA 11 01 00 12"))
				got := make([]byte, len(want))
				if _, err := io.ReadFull(c, got); err != nil || !bytes.Equal(got, want) {
					t.Errorf("power get = % X, %v", got, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if got := s.Connections(); got != 10 {
		t.Fatalf("Connections() = %d, want 10", got)
	}
	if got := s.Commands(); got != 2+8*20 {
		t.Fatalf("Commands() = %d, want %d", got, 2+8*20)
	}
}

func TestModes(t *testing.T) {
	for _, link := range []string{"tcp", "serial"} {
		t.Run(link, func(t *testing.T) {
			s, addr := start(t, Config{ID: 1, On: true}, link)
			powerGet, powerOn := golden.H("AA 11 01 00 12"), golden.H("AA FF 01 03 41 11 01 56")

			t.Run("slow", func(t *testing.T) {
				s.SetMode(Slow)
				s.SetDelay(80 * time.Millisecond)
				defer s.SetMode(Normal)
				cl := dial(t, addr)
				t0 := time.Now()
				cl.ask(powerGet, powerOn)
				if d := time.Since(t0); d < 80*time.Millisecond {
					t.Fatalf("answered after %v, want at least 80ms", d)
				}
			})
			t.Run("silent", func(t *testing.T) {
				s.SetMode(Silent)
				defer s.SetMode(Normal)
				cl := dial(t, addr)
				before := s.Commands()
				cl.send(golden.H("AA 13 01 01 01 16"))
				cl.quiet(100 * time.Millisecond)
				if s.Commands() != before+1 || s.State().Mute {
					t.Fatalf("silent: %d commands, state %+v", s.Commands()-before, s.State())
				}
			})
			t.Run("garbage", func(t *testing.T) {
				s.SetMode(Garbage)
				defer s.SetMode(Normal)
				cl := dial(t, addr)
				for i := 0; i < 20; i++ {
					cl.send(powerGet)
					got, err := cl.read(4, 2*time.Second)
					if err != nil || got[0] == 0xAA {
						t.Fatalf("garbage % X, %v", got, err)
					}
					cl.read(64, 10*time.Millisecond) // the rest of it
				}
			})
			t.Run("drop", func(t *testing.T) {
				s.SetMode(Drop)
				defer s.SetMode(Normal)
				cl := dial(t, addr)
				cl.send(powerGet)
				got, err := cl.read(len(powerOn), 300*time.Millisecond)
				if link == "serial" {
					if !bytes.Equal(got, powerOn[:len(powerOn)/2]) || !isTimeout(err) {
						t.Fatalf("drop on a serial line: % X, %v; want the first half of the answer", got, err)
					}
					return
				}
				if len(got) != 0 || err != io.EOF {
					t.Fatalf("drop: % X, %v; want EOF", got, err)
				}
			})
			t.Run("drop once", func(t *testing.T) {
				s.SetMode(DropOnce)
				cl := dial(t, addr)
				cl.send(powerGet)
				cl.read(len(powerOn), 300*time.Millisecond)
				if m := s.State().Mode; m != Normal {
					t.Fatalf("mode after drop once: %v", m)
				}
				cl2 := dial(t, addr)
				cl2.ask(powerGet, powerOn)
			})
			t.Run("nak", func(t *testing.T) {
				s.SetNAK(true, 0x0B)
				cl := dial(t, addr)
				cl.ask(powerGet, golden.H("AA FF 01 03 4E 11 0B 6D"))
				cl.ask(golden.H("AA 00 01 00 01"), golden.H("AA FF 01 03 4E 00 0B 5C"))
				if st := s.State(); !st.NAKing || st.NAK != 0x0B {
					t.Fatalf("state %+v", st)
				}
				s.SetNAK(false, 0)
				cl.ask(powerGet, powerOn)
			})
		})
	}
}

func TestModeNames(t *testing.T) {
	for m, want := range map[Mode]string{Normal: "normal", Slow: "slow", Silent: "silent", Garbage: "garbage",
		Drop: "drop", DropOnce: "drop-once", Mode(42): "Mode(42)"} {
		if m.String() != want {
			t.Errorf("%d: %q, want %q", int(m), m.String(), want)
		}
	}
}

func TestDropConnections(t *testing.T) {
	s, addr := start(t, Config{ID: 1}, "tcp")
	cl := dial(t, addr)
	eventually(t, "one open connection", func() bool { return s.OpenConnections() == 1 })
	s.DropConnections()
	if _, err := cl.read(1, 2*time.Second); err != io.EOF {
		t.Fatalf("dropped connection: %v, want EOF", err)
	}
	dial(t, addr).ask(golden.H("AA 11 01 00 12"), golden.H("AA FF 01 03 41 11 00 55"))
}

func TestServeConnPipe(t *testing.T) {
	s := New(Config{ID: 3, On: true})
	defer s.Close()
	a, b := net.Pipe()
	done := make(chan struct{})
	go func() { s.ServeConn(b); close(done) }()
	a.SetDeadline(time.Now().Add(2 * time.Second))
	a.Write(golden.H("AA 11 03 00 14"))
	got := make([]byte, 8)
	if _, err := io.ReadFull(a, got); err != nil || !bytes.Equal(got, golden.H("AA FF 03 03 41 11 01 58")) {
		t.Fatalf("power get = % X, %v", got, err)
	}
	a.Close()
	<-done
}

func TestServeLine(t *testing.T) {
	s := New(Config{ID: 1})
	defer s.Close()
	a, b := net.Pipe()
	done := make(chan struct{})
	go func() { s.ServeLine(b); close(done) }()
	a.SetDeadline(time.Now().Add(2 * time.Second))
	a.Write(golden.H("AA 11 01 00 12"))
	got := make([]byte, 8)
	if _, err := io.ReadFull(a, got); err != nil || !bytes.Equal(got, golden.H("AA FF 01 03 41 11 00 55")) {
		t.Fatalf("power get = % X, %v", got, err)
	}
	s.Close()
	<-done
}

func TestNewPanicsOnBadVolume(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("no panic")
		}
	}()
	New(Config{Volume: 101})
}

func TestCloseEndsEverything(t *testing.T) {
	base := runtime.NumGoroutine()
	s := New(Config{ID: 1})
	addr, err := s.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if s.Addr() != addr {
		t.Fatalf("Addr() = %q, want %q", s.Addr(), addr)
	}
	if _, err := s.Listen("127.0.0.1:0"); err == nil {
		t.Fatal("second Listen accepted")
	}
	pty, err := s.ListenPTY()
	if err != nil {
		t.Fatal(err)
	}
	s.SetMode(Slow)
	s.SetDelay(time.Hour)
	var conns []*client
	for i := 0; i < 3; i++ {
		conns = append(conns, dial(t, addr))
	}
	line := dial(t, pty)
	conns[0].send(golden.H("AA 11 01 00 12")) // sits in a slow answer; Close must not wait an hour
	eventually(t, "four open lines and the slow frame", func() bool {
		return s.OpenConnections() == 4 && s.Commands() == 1
	})
	t0 := time.Now()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(t0); d > time.Second {
		t.Fatalf("Close took %v", d)
	}
	for _, cl := range conns {
		if _, err := cl.read(1, 2*time.Second); err != io.EOF {
			t.Fatalf("connection after Close: %v, want EOF", err)
		}
		cl.c.Close()
	}
	line.c.Close()
	if _, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		t.Fatal("still accepting after Close")
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := s.ListenPTY(); err == nil {
		t.Fatal("ListenPTY after Close")
	}
	eventually(t, "goroutines to end", func() bool { return runtime.NumGoroutine() <= base })
}

func TestRegistered(t *testing.T) {
	for _, link := range []string{"tcp", "serial"} {
		t.Run(link, func(t *testing.T) {
			sim, err := simreg.Start("samsungmdc", simreg.Options{ID: "wall", Transport: link, Fast: true,
				Options: map[string]string{"id": "0x05"}})
			if err != nil {
				t.Fatal(err)
			}
			defer sim.Close()
			cl := dial(t, sim.Address())
			cl.ask(golden.H("AA 11 05 00 16"), golden.H("AA FF 05 03 41 11 00 59"))
			m, ok := sim.(interface{ SetMode(string) error })
			if !ok {
				t.Fatal("the registered simulator cannot be told to misbehave")
			}
			if err := m.SetMode("silent"); err != nil {
				t.Fatal(err)
			}
			cl.send(golden.H("AA 11 05 00 16"))
			cl.quiet(50 * time.Millisecond)
			if err := m.SetMode("sideways"); err == nil {
				t.Fatal("unknown mode accepted")
			}
			snap, ok := sim.(interface{ Snapshot() any })
			if !ok || snap.Snapshot().(State).ID != 5 || snap.Snapshot().(State).Mode != Silent {
				t.Fatalf("snapshot %+v", snap)
			}
		})
	}
	t.Run("existing serial line", func(t *testing.T) {
		p, err := transport.OpenPTY()
		if err != nil {
			t.Fatal(err)
		}
		defer p.Close()
		sim, err := simreg.Start("samsungmdc", simreg.Options{Transport: "serial", SerialPath: p.Path(),
			Options: map[string]string{"id": "1", "baud": "19200"}})
		if err != nil {
			t.Fatal(err)
		}
		defer sim.Close()
		if sim.Address() != p.Address() {
			t.Fatalf("address %q, want %q", sim.Address(), p.Address())
		}
		m, err := p.Pollable()
		if err != nil {
			t.Fatal(err)
		}
		defer m.Close()
		m.SetDeadline(time.Now().Add(2 * time.Second))
		m.Write(golden.H("AA 11 01 00 12"))
		got := make([]byte, 8)
		if _, err := io.ReadFull(m, got); err != nil || !bytes.Equal(got, golden.H("AA FF 01 03 41 11 00 55")) {
			t.Fatalf("power get = % X, %v", got, err)
		}
	})
	if _, err := simreg.Start("samsungmdc", simreg.Options{Transport: "udp"}); err == nil {
		t.Fatal("udp accepted")
	}
	if _, err := simreg.Start("samsungmdc", simreg.Options{Options: map[string]string{"id": "300"}}); err == nil {
		t.Fatal("id 300 accepted")
	}
}
