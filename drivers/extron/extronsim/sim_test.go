package extronsim

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"os"
	"reflect"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bailiff/bailiff/drivers/extron/internal/golden"
	"github.com/bailiff/bailiff/drivers/internal/drivertest"
	"github.com/bailiff/bailiff/drivers/simreg"
	"github.com/bailiff/bailiff/drivers/transport"
)

// client is a raw SIS controller for tests: it checks bytes, not meaning.
type client struct {
	t *testing.T
	c net.Conn
	r *bufio.Reader
}

func dial(t *testing.T, addr string) *client {
	t.Helper()
	c, err := transport.Dial(context.Background(), addr, transport.Options{TCPPort: 23})
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	t.Cleanup(func() { c.Close() })
	return &client{t: t, c: c, r: bufio.NewReader(c)}
}

// greeted dials a TCP address and reads the two lines of the greeting.
func greeted(t *testing.T, addr string) (*client, string) {
	t.Helper()
	cl := dial(t, addr)
	g := cl.line() + cl.line()
	return cl, g
}

func (cl *client) send(s string) {
	cl.t.Helper()
	cl.c.SetWriteDeadline(time.Now().Add(2 * time.Second))
	if _, err := io.WriteString(cl.c, s); err != nil {
		cl.t.Fatalf("send %q: %v", s, err)
	}
}

// read reads n bytes, or what comes before timeout.
func (cl *client) read(n int, timeout time.Duration) (string, error) {
	cl.c.SetReadDeadline(time.Now().Add(timeout))
	b := make([]byte, n)
	got, err := io.ReadFull(cl.r, b)
	return string(b[:got]), err
}

// line reads one line with its CR LF.
func (cl *client) line() string {
	cl.t.Helper()
	cl.c.SetReadDeadline(time.Now().Add(2 * time.Second))
	l, err := cl.r.ReadString('\n')
	if err != nil {
		cl.t.Fatalf("read a line: %q, %v", l, err)
	}
	return l
}

// ask sends req and reads an answer of len(want) bytes, failing the test when it differs.
func (cl *client) ask(req, want string) {
	cl.t.Helper()
	cl.send(req)
	got, err := cl.read(len(want), 2*time.Second)
	if err != nil || got != want {
		cl.t.Fatalf("%q answered %q (%v), want %q", req, got, err, want)
	}
}

// quiet checks that nothing arrives for d.
func (cl *client) quiet(d time.Duration) {
	cl.t.Helper()
	if got, err := cl.read(1, d); got != "" || !isTimeout(err) {
		cl.t.Fatalf("got %q (%v), want silence", got, err)
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

// open connects to a simulator: over TCP past the greeting, over a serial line at once.
func open(t *testing.T, addr, link string) *client {
	t.Helper()
	if link == "serial" {
		return dial(t, addr)
	}
	cl, _ := greeted(t, addr)
	return cl
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
					s, addr := start(t, Config{Inputs: su.Inputs, Outputs: su.Outputs, NoAudio: su.NoAudio,
						Digits: su.Digits, Video: su.Video, Audio: su.Audio}, link)
					if err := s.SetError(su.Error); err != nil {
						t.Fatal(err)
					}
					cl := open(t, addr, link)
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

var greetingRE = regexp.MustCompile(`^\(c\) Copyright 20\d\d, Extron Electronics, CrossPoint Sim, V1\.23, 60-1234-01\r\n` +
	`(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) 20\d\d \d\d:\d\d:\d\d\r\n$`)

func TestGreeting(t *testing.T) {
	_, addr := start(t, Config{}, "tcp")
	_, g := greeted(t, addr)
	if !greetingRE.MatchString(g) {
		t.Fatalf("greeting %q", g)
	}
	// Every golden greeting of a copyright line has the same shape.
	for _, gr := range golden.Greetings {
		if gr.Model != "" && !strings.HasPrefix(strings.ToLower(gr.Line), "(c) copyright") {
			t.Errorf("golden greeting %q", gr.Line)
		}
	}
	_, paddr := start(t, Config{}, "serial")
	dial(t, paddr).quiet(50 * time.Millisecond) // no greeting on a serial line
}

func TestPassword(t *testing.T) {
	s, addr := start(t, Config{Password: "s3cret"}, "tcp")
	cl, _ := greeted(t, addr)
	if p, _ := cl.read(len("Password:"), 2*time.Second); p != "Password:" {
		t.Fatalf("prompt %q", p)
	}
	cl.send("1*1!")               // taken as a password entry, not a command
	cl.ask("\r", "\r\nPassword:") // wrong
	cl.send("\n")                 // a blank entry is ignored
	cl.ask("s3cret\r", "\r\nLogin Administrator\r\n")
	cl.ask("I", "V8X4 A8X4\r\n")
	if n := s.Commands(); n != 1 || s.State().Video[0] != 0 {
		t.Fatalf("%d commands, state %+v: entries before the login ran", n, s.State())
	}
}

func TestBackToBackCommands(t *testing.T) {
	_, addr := start(t, Config{}, "tcp")
	cl, _ := greeted(t, addr)
	cl.ask("1*1!2*2%3*3$4*4&I1%3$q\r\nn", "Out01 In01 All\r\nOut02 In02 Vid\r\nOut03 In03 Aud\r\nOut04 In04 RGB\r\nV8X4 A8X4\r\n01\r\n03\r\n1.23\r\n60-1234-01\r\n")
}

func TestParser(t *testing.T) {
	_, addr := start(t, Config{}, "tcp")
	cl, _ := greeted(t, addr)
	for req, want := range map[string]string{
		"\x1bVM}":                      "E10\r\n", // Esc commands are not simulated
		"Z":                            "E10\r\n",
		"1*1x!":                        "E10\r\n",
		"12\r":                         "E10\r\n", // a number with no command character
		"1234*1!":                      "E10\r\n",
		"*1!":                          "E10\r\n",
		"1**1!":                        "E10\r\n",
		"1!":                           "01\r\n", // "Y!" reads the video tie (the simulator's choice)
		"0%":                           "E12\r\n",
		"i":                            "V8X4 A8X4\r\n",
		"1*0!":                         "E12\r\n",
		"0*!":                          "In00 All\r\n",
		strings.Repeat("1", 70) + "\r": "E10\r\n",
	} {
		if req == "1!" {
			cl.ask("1*1%", "Out01 In01 Vid\r\n")
		}
		cl.ask(req, want)
	}
}

func TestTies(t *testing.T) {
	s, addr := start(t, Config{Inputs: 4, Outputs: 3}, "tcp")
	cl, _ := greeted(t, addr)
	cl.ask("1*1!", "Out01 In01 All\r\n")
	cl.ask("2*1%", "Out01 In02 Vid\r\n")
	cl.ask("3*2&", "Out02 In03 RGB\r\n")
	cl.ask("4*3$", "Out03 In04 Aud\r\n")
	if st := s.State(); !reflect.DeepEqual(st.Video, []int{2, 3, 0}) || !reflect.DeepEqual(st.Audio, []int{1, 0, 4}) {
		t.Fatalf("state %+v", st)
	}
	cl.ask("4*$", "In04 Aud\r\n")
	cl.ask("2*%", "In02 Vid\r\n")
	if st := s.State(); !reflect.DeepEqual(st.Video, []int{2, 2, 2}) || !reflect.DeepEqual(st.Audio, []int{4, 4, 4}) {
		t.Fatalf("state %+v", st)
	}
	cl.ask("0*!", "In00 All\r\n")
	cl.ask("5*1!", "E01\r\n")
	cl.ask("1*4!", "E12\r\n")
	if st := s.State(); !reflect.DeepEqual(st.Video, []int{0, 0, 0}) || !reflect.DeepEqual(st.Audio, []int{0, 0, 0}) {
		t.Fatalf("state %+v", st)
	}
}

func TestModes(t *testing.T) {
	for _, link := range []string{"tcp", "serial"} {
		t.Run(link, func(t *testing.T) {
			s, addr := start(t, Config{Video: []int{3}}, link)
			t.Run("slow", func(t *testing.T) {
				s.SetMode(Slow)
				s.SetDelay(80 * time.Millisecond)
				defer s.SetMode(Normal)
				cl := open(t, addr, link)
				t0 := time.Now()
				cl.ask("1%", "03\r\n")
				if d := time.Since(t0); d < 80*time.Millisecond {
					t.Fatalf("answered after %v", d)
				}
			})
			t.Run("silent", func(t *testing.T) {
				s.SetMode(Silent)
				defer s.SetMode(Normal)
				cl := open(t, addr, link)
				before := s.Commands()
				cl.send("5*2!")
				cl.quiet(100 * time.Millisecond)
				if s.Commands() != before+1 || s.State().Video[1] != 0 {
					t.Fatalf("silent: %d commands, state %+v", s.Commands()-before, s.State())
				}
			})
			t.Run("garbage", func(t *testing.T) {
				s.SetMode(Garbage)
				defer s.SetMode(Normal)
				cl := open(t, addr, link)
				for i := 0; i < 20; i++ {
					cl.send("1%")
					l := cl.line()
					if l[0] >= 0x20 || !strings.HasSuffix(l, "\r\n") || strings.Count(l, "\n") != 1 {
						t.Fatalf("garbage %q", l)
					}
				}
			})
			t.Run("drop", func(t *testing.T) {
				s.SetMode(Drop)
				defer s.SetMode(Normal)
				cl := open(t, addr, link)
				cl.send("1%")
				got, err := cl.read(4, 300*time.Millisecond)
				if link == "serial" {
					if got != "03" || !isTimeout(err) {
						t.Fatalf("drop on a serial line: %q, %v; want the first half of the answer", got, err)
					}
					return
				}
				if got != "" || err != io.EOF {
					t.Fatalf("drop: %q, %v; want EOF", got, err)
				}
			})
			t.Run("drop once", func(t *testing.T) {
				s.SetMode(DropOnce)
				cl := open(t, addr, link)
				cl.send("1%")
				cl.read(4, 300*time.Millisecond)
				if m := s.State().Mode; m != Normal {
					t.Fatalf("mode after drop once: %v", m)
				}
				open(t, addr, link).ask("1%", "03\r\n")
			})
			t.Run("error", func(t *testing.T) {
				if err := s.SetError("E22"); err != nil {
					t.Fatal(err)
				}
				cl := open(t, addr, link)
				cl.ask("1*1!", "E22\r\n")
				cl.ask("I", "E22\r\n")
				if st := s.State(); st.Error != "E22" || st.Video[0] != 3 {
					t.Fatalf("state %+v", st)
				}
				s.SetError("")
				cl.ask("1%", "03\r\n")
			})
		})
	}
}

func TestSetError(t *testing.T) {
	s := New(Config{})
	defer s.Close()
	for _, bad := range []string{"E1", "E100", "X01", "e01", "EAB"} {
		if err := s.SetError(bad); err == nil {
			t.Errorf("SetError(%q) accepted", bad)
		}
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

func TestFrontPanelTie(t *testing.T) {
	s, addr := start(t, Config{}, "tcp")
	_, paddr := start(t, Config{}, "serial") // another switcher: gets nothing
	a, b := open(t, addr, "tcp"), open(t, addr, "tcp")
	p := open(t, paddr, "serial")
	eventually(t, "two open connections", func() bool { return s.OpenConnections() == 2 })
	if err := s.FrontPanelTie(5, 2, '!'); err != nil {
		t.Fatal(err)
	}
	for _, cl := range []*client{a, b} {
		if l := cl.line(); l != "Qik\r\n" {
			t.Fatalf("front-panel message %q", l)
		}
	}
	p.quiet(30 * time.Millisecond)
	if st := s.State(); st.Video[1] != 5 || st.Audio[1] != 5 {
		t.Fatalf("state %+v", st)
	}
	if err := s.FrontPanelTie(9, 1, '!'); err == nil {
		t.Fatal("tie of input 9 of 8 accepted")
	}
	if err := s.FrontPanelTie(1, 1, 'x'); err == nil {
		t.Fatal("tie of kind x accepted")
	}
}

func TestSharedStateAcrossConnections(t *testing.T) {
	s, addr := start(t, Config{}, "tcp")
	a, b := open(t, addr, "tcp"), open(t, addr, "tcp")
	a.ask("6*3!", "Out03 In06 All\r\n")
	b.ask("3$", "06\r\n")
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
			r := bufio.NewReader(c)
			r.ReadString('\n')
			r.ReadString('\n')
			for j := 0; j < 20; j++ {
				io.WriteString(c, "3%")
				if l, err := r.ReadString('\n'); err != nil || l != "06\r\n" {
					t.Errorf("3%% = %q, %v", l, err)
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

func TestDropConnections(t *testing.T) {
	s, addr := start(t, Config{}, "tcp")
	cl := open(t, addr, "tcp")
	eventually(t, "one open connection", func() bool { return s.OpenConnections() == 1 })
	s.DropConnections()
	if _, err := cl.read(1, 2*time.Second); err != io.EOF {
		t.Fatalf("dropped connection: %v, want EOF", err)
	}
	open(t, addr, "tcp").ask("N", "60-1234-01\r\n")
}

func TestServeConnPipe(t *testing.T) {
	s := New(Config{Password: "pw"})
	defer s.Close()
	a, b := net.Pipe()
	done := make(chan struct{})
	go func() { s.ServeConn(b); close(done) }()
	a.SetDeadline(time.Now().Add(2 * time.Second))
	r := bufio.NewReader(a)
	r.ReadString('\n')
	r.ReadString('\n')
	if p := make([]byte, 9); func() bool { io.ReadFull(r, p); return string(p) != "Password:" }() {
		t.Fatal("no password prompt")
	}
	io.WriteString(a, "pw\r")
	r.ReadString('\n')
	if l, _ := r.ReadString('\n'); l != "Login Administrator\r\n" {
		t.Fatalf("login %q", l)
	}
	io.WriteString(a, "Q")
	if l, _ := r.ReadString('\n'); l != "1.23\r\n" {
		t.Fatalf("Q = %q", l)
	}
	a.Close()
	<-done
}

func TestServeLine(t *testing.T) {
	s := New(Config{Password: "pw"}) // a serial line asks for none
	defer s.Close()
	a, b := net.Pipe()
	done := make(chan struct{})
	go func() { s.ServeLine(b); close(done) }()
	a.SetDeadline(time.Now().Add(2 * time.Second))
	io.WriteString(a, "Q")
	if l, _ := bufio.NewReader(a).ReadString('\n'); l != "1.23\r\n" {
		t.Fatalf("Q = %q", l)
	}
	s.Close()
	<-done
}

func TestNewPanics(t *testing.T) {
	for _, cfg := range []Config{{Video: []int{9}}, {Outputs: 2, Audio: []int{1, 1, 1}}, {Inputs: 1000}, {Digits: 5}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("New(%+v) did not panic", cfg)
				}
			}()
			New(cfg)
		}()
	}
}

func TestCloseEndsEverything(t *testing.T) {
	base := runtime.NumGoroutine()
	s := New(Config{})
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
		conns = append(conns, open(t, addr, "tcp"))
	}
	line := dial(t, pty)
	conns[0].send("1%") // sits in a slow answer; Close must not wait an hour
	eventually(t, "four open lines and the slow command", func() bool {
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
			sim, err := simreg.Start("extron", simreg.Options{ID: "matrix", Transport: link, Fast: true,
				Options: map[string]string{"inputs": "4", "outputs": "6", "password": "pw"}})
			if err != nil {
				t.Fatal(err)
			}
			defer sim.Close()
			cl := dial(t, sim.Address())
			if link == "tcp" {
				cl.line()
				cl.line()
				if p, _ := cl.read(9, 2*time.Second); p != "Password:" {
					t.Fatalf("prompt %q", p)
				}
				cl.ask("pw\r", "\r\nLogin Administrator\r\n")
			}
			cl.ask("I3%6%", "V4X6 A4X6\r\n03\r\n00\r\n")
			m, ok := sim.(interface{ SetMode(string) error })
			if !ok {
				t.Fatal("the registered simulator cannot be told to misbehave")
			}
			if err := m.SetMode("e13"); err != nil {
				t.Fatal(err)
			}
			cl.ask("1%", "E13\r\n")
			if err := m.SetMode("silent"); err != nil {
				t.Fatal(err)
			}
			cl.send("1%")
			cl.quiet(50 * time.Millisecond)
			if err := m.SetMode("normal"); err != nil {
				t.Fatal(err)
			}
			cl.ask("2%", "02\r\n")
			if err := m.SetMode("sideways"); err == nil {
				t.Fatal("unknown mode accepted")
			}
			snap, ok := sim.(interface{ Snapshot() any })
			if !ok || snap.Snapshot().(State).Outputs != 6 {
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
		sim, err := simreg.Start("extron", simreg.Options{Transport: "serial", SerialPath: p.Path(),
			Options: map[string]string{"outputs": "2"}})
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
		io.WriteString(m, "I")
		if l, err := bufio.NewReader(m).ReadString('\n'); err != nil || l != "V8X2 A8X2\r\n" {
			t.Fatalf("I = %q, %v", l, err)
		}
	})
	for _, bad := range []simreg.Options{{Transport: "udp"}, {Options: map[string]string{"outputs": "0"}}} {
		if _, err := simreg.Start("extron", bad); err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
}
