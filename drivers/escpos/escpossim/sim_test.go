package escpossim

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/bailiff/bailiff/drivers/escpos/internal/golden"
	"github.com/bailiff/bailiff/drivers/internal/drivertest"
	"github.com/bailiff/bailiff/drivers/simreg"
	"github.com/bailiff/bailiff/drivers/transport"
)

func start(t *testing.T, cfg Config) (*Sim, net.Conn) {
	t.Helper()
	s := New(cfg)
	addr, err := s.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return s, c
}

// ask sends b and reads n bytes of answer.
func ask(t *testing.T, c net.Conn, b string, n int) (string, error) {
	t.Helper()
	c.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := io.WriteString(c, b); err != nil {
		t.Fatal(err)
	}
	out := make([]byte, n)
	_, err := io.ReadFull(c, out)
	return string(out), err
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	drivertest.Eventually(t, 3*time.Second, what, cond)
}

func TestGoldenStatuses(t *testing.T) {
	n := 0
	for _, f := range golden.Statuses {
		if f.Sim == nil {
			continue
		}
		n++
		t.Run(f.Name, func(t *testing.T) {
			s, c := start(t, Config{})
			su := f.Sim
			s.SetState(State{PaperOut: su.PaperOut, NearEnd: su.NearEnd, CoverOpen: su.CoverOpen,
				Cutter: su.Cutter, Fatal: su.Fatal, Recover: su.Recover})
			got, err := ask(t, c, f.Request, 1)
			if err != nil || got[0] != f.Reply {
				t.Fatalf("% x answered % x, %v; want %#02x", f.Request, got, err, f.Reply)
			}
		})
	}
	if n < 15 {
		t.Fatalf("only %d golden statuses run against the simulator", n)
	}
}

func TestGoldenStreams(t *testing.T) {
	for _, f := range golden.Streams {
		t.Run(f.Name, func(t *testing.T) {
			p := Parser{Status: func(byte) byte { return 0x12 }}
			var ans []byte
			// Byte by byte: the parser must wait for the rest of a command.
			for i := 0; i < len(f.Bytes); i++ {
				ans = append(ans, p.Write([]byte{f.Bytes[i]})...)
			}
			if string(ans) != f.Answers {
				t.Fatalf("answers % x, want % x", ans, f.Answers)
			}
			var got []golden.Printed
			for _, tk := range p.Tickets() {
				got = append(got, golden.Printed{Texts: tk.Texts(), QR: tk.QRs(), Cut: tk.Cut})
			}
			if !reflect.DeepEqual(got, f.Tickets) {
				t.Fatalf("tickets %+v, want %+v", got, f.Tickets)
			}
			pend := p.Pending()
			if g := (golden.Printed{Texts: pend.Texts(), QR: pend.QRs()}); !reflect.DeepEqual(g, f.Pending) {
				t.Fatalf("pending %+v, want %+v", g, f.Pending)
			}
		})
	}
}

func TestStylesOfLines(t *testing.T) {
	var p Parser
	p.Write([]byte("\x1b@\x1ba\x02\x1bE\x01\x1d!\x21right\n\x1b@plain\n"))
	lines := p.Pending().Lines
	want := []Line{
		{Text: "right", Align: "right", Bold: true, Width: 3, Height: 2},
		{Text: "plain", Align: "left", Width: 1, Height: 1},
	}
	if !reflect.DeepEqual(lines, want) {
		t.Fatalf("lines %+v, want %+v", lines, want)
	}
}

func TestGoldenTicketsOverTCP(t *testing.T) {
	s, c := start(t, Config{})
	want := 0
	for _, f := range golden.Tickets {
		if f.Bytes == "" || f.Cut == "" {
			continue
		}
		want++
		// A status request after the ticket returns once the ticket is parsed.
		if got, err := ask(t, c, f.Bytes+"\x10\x04\x01", 1); err != nil || got != "\x12" {
			t.Fatalf("%s: status %q, %v", f.Name, got, err)
		}
		ts := s.Tickets()
		last := ts[len(ts)-1]
		if !reflect.DeepEqual(last.Texts(), f.Texts) || !reflect.DeepEqual(last.QRs(), f.QR) || last.Cut != f.Cut {
			t.Fatalf("%s: printed %q %q %q", f.Name, last.Texts(), last.QRs(), last.Cut)
		}
	}
	if n := len(s.Tickets()); n != want {
		t.Fatalf("%d tickets, want %d", n, want)
	}
}

func TestOfflinePrintsNothing(t *testing.T) {
	s, c := start(t, Config{PaperOut: true})
	if got, err := ask(t, c, "lost\n\x1dV\x00\x10\x04\x04", 1); err != nil || got != "\x72" {
		t.Fatalf("status %q, %v", got, err)
	}
	if len(s.Tickets()) != 0 || len(s.Pending().Lines) != 0 {
		t.Fatalf("printed without paper: %+v", s.Tickets())
	}
	s.SetPaperOut(false)
	s.SetNearEnd(true)
	if got, err := ask(t, c, "kept\n\x1dV\x00\x10\x04\x04", 1); err != nil || got != "\x1e" {
		t.Fatalf("status %q, %v", got, err)
	}
	if ts := s.Tickets(); len(ts) != 1 || ts[0].Texts()[0] != "kept" {
		t.Fatalf("tickets %+v", ts)
	}
	s.SetCoverOpen(true)
	if got, _ := ask(t, c, "\x10\x04\x02", 1); got != "\x16" || !s.State().CoverOpen {
		t.Fatalf("cover open: % x", got)
	}
}

func TestModes(t *testing.T) {
	s, c := start(t, Config{})
	s.SetMode(Garbage)
	got, err := ask(t, c, "\x10\x04\x01", 1)
	if err != nil || got[0]&0x93 == 0x12 {
		t.Fatalf("garbage answered % x, %v", got, err)
	}
	s.SetMode(Slow)
	s.SetDelay(150 * time.Millisecond)
	t0 := time.Now()
	if got, err := ask(t, c, "\x10\x04\x01", 1); err != nil || got != "\x12" || time.Since(t0) < 150*time.Millisecond {
		t.Fatalf("slow: % x %v after %v", got, err, time.Since(t0))
	}
	s.SetMode(Silent)
	c.SetReadDeadline(time.Now().Add(150 * time.Millisecond))
	io.WriteString(c, "x\n\x10\x04\x01")
	if _, err := c.Read(make([]byte, 1)); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("silent: %v", err)
	}
	if len(s.Pending().Lines) != 0 {
		t.Fatal("silent printed")
	}
	s.SetMode(DropOnce)
	if _, err := ask(t, c, "\x10\x04\x01", 1); err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("drop once: %v", err)
	}
	eventually(t, "the drop", func() bool { return s.OpenConnections() == 0 })
	if s.State() != (State{}) {
		t.Fatal("state changed")
	}
	for m := Normal; m <= DropOnce; m++ {
		if strings.HasPrefix(m.String(), "Mode(") {
			t.Errorf("mode %d has no name", m)
		}
	}
}

// TestPTY serves the printer on a pty pair: a serial port opened as drivers open one.
func TestPTY(t *testing.T) {
	s := New(Config{})
	addr, err := s.ServePTY()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if !strings.HasPrefix(addr, "serial:/dev/") || s.Address() != addr {
		t.Fatalf("address %q", addr)
	}
	for i := range 2 { // the port can be closed and opened again
		c, err := transport.Dial(context.Background(), addr, transport.Options{Baud: 19200})
		if err != nil {
			t.Fatal(err)
		}
		got, err := ask(t, c, "serial\n\x1dVB\x00\x10\x04\x04", 1)
		if err != nil || got != "\x12" {
			t.Fatalf("status % x, %v", got, err)
		}
		if n := len(s.Tickets()); n != i+1 {
			t.Fatalf("%d tickets", n)
		}
		c.Close()
	}
	s.SetMode(Drop) // nothing to drop on a serial line: the bytes are lost
	c, err := transport.Dial(context.Background(), addr, transport.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetReadDeadline(time.Now().Add(150 * time.Millisecond))
	io.WriteString(c, "\x10\x04\x01")
	if _, err := c.Read(make([]byte, 1)); err == nil {
		t.Fatal("answered while dropping")
	}
	done := make(chan struct{})
	go func() { s.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(3 * time.Second):
		t.Fatal("Close hangs on the pty")
	}
}

func TestRegistered(t *testing.T) {
	for _, tr := range []string{"", "tcp", "serial"} {
		sim, err := simreg.Start("escpos", simreg.Options{ID: "kiosk", Transport: tr, Fast: true})
		if err != nil {
			t.Fatalf("%q: %v", tr, err)
		}
		c, err := transport.Dial(context.Background(), sim.Address(), transport.Options{TCPPort: 9100})
		if err != nil {
			t.Fatal(err)
		}
		if got, err := ask(t, c, "\x10\x04\x01", 1); err != nil || got != "\x12" {
			t.Fatalf("%q: % x, %v", tr, got, err)
		}
		c.Close()
		sim.Close()
	}
	if _, err := simreg.Start("escpos", simreg.Options{Transport: "udp"}); err == nil {
		t.Fatal("udp accepted")
	}
}
