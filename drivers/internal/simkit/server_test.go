//go:build linux

package simkit

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/bailiff/bailiff/drivers/internal/drivertest"
	"github.com/bailiff/bailiff/drivers/simreg"
	"github.com/bailiff/bailiff/drivers/transport"
)

// echo is a line protocol: each line is answered "ok LINE", in the current mode.
func echo(l *Line) {
	r := bufio.NewReader(l)
	for {
		cmd, err := r.ReadString('\n')
		if err != nil {
			return
		}
		mode, ok := l.Admit()
		if !ok {
			return
		}
		switch mode {
		case Silent:
			continue
		case Drop, DropOnce:
			if !l.Serial() {
				return
			}
			continue
		case Garbage:
			l.Send(append(RandomBytes(1, 4), '\n'))
			continue
		case Refuse:
			l.SendString("error\n")
			continue
		}
		if !l.SendString("ok " + cmd) {
			return
		}
	}
}

type client struct {
	c net.Conn
	r *bufio.Reader
}

func dial(t *testing.T, addr string) *client {
	t.Helper()
	c, err := transport.Dial(context.Background(), addr, transport.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &client{c, bufio.NewReader(c)}
}

func (cl *client) ask(cmd string, wait time.Duration) (string, error) {
	cl.c.SetDeadline(time.Now().Add(wait))
	if _, err := io.WriteString(cl.c, cmd+"\n"); err != nil {
		return "", err
	}
	return cl.r.ReadString('\n')
}

// timedOut reports a read deadline passing, on a socket or a serial line.
func timedOut(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout() || errors.Is(err, os.ErrDeadlineExceeded) ||
		err != nil && strings.Contains(err.Error(), "timed out")
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	drivertest.Eventually(t, 3*time.Second, what, cond)
}

func TestModes(t *testing.T) {
	for addrKind, listen := range map[string]func(s *Server) (string, error){
		"tcp":    func(s *Server) (string, error) { return s.ListenTCP("127.0.0.1:0", echo) },
		"serial": func(s *Server) (string, error) { return s.ServePTY(echo) },
	} {
		t.Run(addrKind, func(t *testing.T) {
			s := New(Config{Name: "test"})
			defer s.Close()
			addr, err := listen(s)
			if err != nil {
				t.Fatal(err)
			}
			cl := dial(t, addr)
			if got, err := cl.ask("a", 2*time.Second); got != "ok a\n" {
				t.Fatalf("normal: %q, %v", got, err)
			}
			s.SetMode(Refuse)
			if got, err := cl.ask("b", 2*time.Second); got != "error\n" {
				t.Fatalf("refuse: %q, %v", got, err)
			}
			s.SetMode(Garbage)
			if got, err := cl.ask("c", 2*time.Second); strings.HasPrefix(got, "ok") || err != nil {
				t.Fatalf("garbage: %q, %v", got, err)
			}
			s.SetMode(Silent)
			if got, err := cl.ask("d", 100*time.Millisecond); !timedOut(err) {
				t.Fatalf("silent: %q, %v", got, err)
			}
			s.SetMode(Slow)
			s.SetDelay(50 * time.Millisecond)
			t0 := time.Now()
			if got, err := cl.ask("e", 2*time.Second); got != "ok e\n" || time.Since(t0) < 50*time.Millisecond {
				t.Fatalf("slow: %q, %v after %v", got, err, time.Since(t0))
			}
			s.SetMode(DropOnce)
			got, err := cl.ask("f", 200*time.Millisecond)
			if addrKind == "tcp" && err == nil {
				t.Fatalf("drop-once over TCP: %q", got)
			}
			if addrKind == "serial" && !timedOut(err) {
				t.Fatalf("drop-once over a serial line: %q, %v", got, err)
			}
			if s.Mode() != Normal {
				t.Fatalf("mode %v after drop-once", s.Mode())
			}
			if addrKind == "tcp" {
				cl = dial(t, addr)
				eventually(t, "a second connection", func() bool { return s.Connections() == 2 })
			}
			if got, err := cl.ask("g", 2*time.Second); got != "ok g\n" {
				t.Fatalf("normal again: %q, %v", got, err)
			}
		})
	}
}

func TestModeNames(t *testing.T) {
	var b Behaviour
	for m := Normal; m <= Refuse; m++ {
		if strings.HasPrefix(m.String(), "Mode(") {
			t.Errorf("mode %d has no name", m)
		}
		got, err := b.SetModeName(strings.ToUpper(m.String()), Refuse)
		if err != nil || got != m || b.Mode() != m {
			t.Errorf("SetModeName(%s) = %v, %v", m, got, err)
		}
	}
	if _, d := b.Take(); d != SlowDelay {
		t.Errorf("slow by name: delay %v", d)
	}
	if _, err := b.SetModeName("refuse", DropOnce); err == nil {
		t.Error("a mode past last accepted")
	}
	if text, _ := DropOnce.MarshalText(); string(text) != "drop-once" {
		t.Errorf("MarshalText %q", text)
	}
}

func TestUDP(t *testing.T) {
	s := New(Config{Name: "test"})
	defer s.Close()
	addr, err := s.ListenUDP("127.0.0.1:0", func(d []byte, from net.Addr, reply func([]byte)) {
		reply(append([]byte("ok "), d...))
	})
	if err != nil {
		t.Fatal(err)
	}
	c, err := net.Dial("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(2 * time.Second))
	c.Write([]byte("x"))
	b := make([]byte, 16)
	if n, err := c.Read(b); string(b[:n]) != "ok x" {
		t.Fatalf("%q, %v", b[:n], err)
	}
}

// TestServeSerial serves an existing serial device: one end of a pty pair, as socat makes.
func TestServeSerial(t *testing.T) {
	p, err := transport.OpenPTY()
	if err != nil {
		t.Skip("no pty:", err)
	}
	defer p.Close()
	s := New(Config{Name: "test"})
	defer s.Close()
	addr, err := s.ServeSerial(p.Path(), map[string]string{"baud": "19200"}, echo)
	if err != nil || addr != p.Address() {
		t.Fatalf("%q, %v", addr, err)
	}
	if _, err := s.ServeSerial(p.Path(), map[string]string{"baud": "x"}, echo); err == nil {
		t.Fatal("a bad baud rate accepted")
	}
	io.WriteString(p.Device, "a\n")
	r := bufio.NewReader(p.Device)
	if got, err := r.ReadString('\n'); got != "ok a\n" {
		t.Fatalf("%q, %v", got, err)
	}
	s.DropConnections() // a serial line stays
	io.WriteString(p.Device, "b\n")
	if got, err := r.ReadString('\n'); got != "ok b\n" {
		t.Fatalf("after DropConnections: %q, %v", got, err)
	}
}

func TestStartFor(t *testing.T) {
	s := New(Config{Name: "test"})
	defer s.Close()
	if _, err := s.StartFor(simreg.Options{Transport: "serial"}, echo, nil); err == nil {
		t.Error("serial accepted for a TCP-only protocol")
	}
	if _, err := s.StartFor(simreg.Options{Transport: "udp"}, echo, echo); err == nil {
		t.Error("udp accepted")
	}
	for _, tr := range []string{"", "tcp", "serial"} {
		addr, err := s.StartFor(simreg.Options{Transport: tr}, echo, echo)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := dial(t, addr).ask(tr, 2*time.Second); got != "ok "+tr+"\n" {
			t.Fatalf("%s: %q, %v", tr, got, err)
		}
	}
}

func TestOneListener(t *testing.T) {
	s := New(Config{Name: "test", OneListener: true})
	defer s.Close()
	addr, err := s.ListenTCP("127.0.0.1:0", echo)
	if err != nil || s.Addr() != addr {
		t.Fatalf("%q, %v; Addr %q", addr, err, s.Addr())
	}
	if _, err := s.ListenTCP("127.0.0.1:0", echo); err == nil {
		t.Fatal("second listener accepted")
	}
}

func TestCounts(t *testing.T) {
	for _, only := range []bool{false, true} {
		s := New(Config{Name: "test", ConnectionsOnly: only})
		addr, _ := s.ListenTCP("127.0.0.1:0", echo)
		pty, err := s.ServePTY(echo)
		if err != nil {
			t.Fatal(err)
		}
		dial(t, addr)
		dial(t, pty)
		want := 2
		if only {
			want = 1
		}
		eventually(t, "the lines", func() bool { return s.OpenConnections() == want && s.Connections() == want })
		s.DropConnections()
		eventually(t, "the drop", func() bool { return s.OpenConnections() == want-1 })
		s.Close()
	}
}

// TestCloseEndsEverything: Close ends slow answers, reads in progress, listeners and ptys,
// and leaves no goroutine behind; nothing serves after it.
func TestCloseEndsEverything(t *testing.T) {
	base := runtime.NumGoroutine()
	s := New(Config{Name: "test"})
	addr, _ := s.ListenTCP("127.0.0.1:0", echo)
	udp, _ := s.ListenUDP("127.0.0.1:0", func([]byte, net.Addr, func([]byte)) {})
	pty, err := s.ServePTY(echo)
	if err != nil {
		t.Fatal(err)
	}
	a, p := dial(t, addr), dial(t, pty)
	s.SetMode(Slow)
	s.SetDelay(time.Hour)
	a.c.Write([]byte("x\n")) // sits in a slow answer: Close must not wait an hour
	p.c.Write([]byte("y\n"))
	eventually(t, "two lines", func() bool { return s.OpenConnections() == 2 })
	done := make(chan error)
	go func() { done <- s.Close() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("Close hangs")
	}
	if s.OpenConnections() != 0 || !s.Closed() {
		t.Fatal("lines left open")
	}
	if _, err := s.ListenTCP("127.0.0.1:0", echo); err == nil {
		t.Error("ListenTCP after Close")
	}
	if _, err := s.ServePTY(echo); err == nil {
		t.Error("ServePTY after Close")
	}
	if _, err := s.ListenUDP("127.0.0.1:0", nil); err == nil {
		t.Error("ListenUDP after Close")
	}
	if s.Go(func() {}) {
		t.Error("Go after Close")
	}
	if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		c.Close()
		t.Error("still listening")
	}
	_ = udp
	a.c.Close()
	p.c.Close()
	eventually(t, "the goroutines to end", func() bool { return runtime.NumGoroutine() <= base+1 })
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

// TestLineCloseEndsSlowWait: closing a line (a dropped connection) ends its slow answer at once.
func TestLineCloseEndsSlowWait(t *testing.T) {
	s := New(Config{Name: "test"})
	defer s.Close()
	addr, _ := s.ListenTCP("127.0.0.1:0", echo)
	s.SetMode(Slow)
	s.SetDelay(time.Hour)
	cl := dial(t, addr)
	cl.c.Write([]byte("x\n"))
	eventually(t, "one line", func() bool { return s.OpenConnections() == 1 })
	time.Sleep(20 * time.Millisecond)
	s.DropConnections()
	eventually(t, "the slow answer to end", func() bool { return len(s.Lines()) == 0 })
}

// TestServeLineEnd serves an existing terminal device opened raw, as the VISCA chain is.
func TestServeLineEnd(t *testing.T) {
	p, err := transport.OpenPTY()
	if err != nil {
		t.Skip("no pty:", err)
	}
	defer p.Close()
	s := New(Config{Name: "test"})
	addr, err := s.ServeLineEnd(p.Path(), echo)
	if err != nil || addr != p.Address() {
		t.Fatalf("%q, %v", addr, err)
	}
	if _, err := s.ServeLineEnd("/nonexistent/tty", echo); err == nil {
		t.Fatal("a missing device accepted")
	}
	io.WriteString(p.Device, "a\n")
	if got, err := bufio.NewReader(p.Device).ReadString('\n'); got != "ok a\n" {
		t.Fatalf("%q, %v", got, err)
	}
	done := make(chan error)
	go func() { done <- s.Close() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("Close hangs on a line end")
	}
}
