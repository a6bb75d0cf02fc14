package pjlinksim

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bailiff/bailiff/drivers/internal/drivertest"
	"github.com/bailiff/bailiff/drivers/pjlink/internal/golden"
)

// client is a raw PJLink controller for tests: it checks bytes, not meaning.
type client struct {
	t *testing.T
	c net.Conn
	r *bufio.Reader
}

func dial(t *testing.T, addr string) (*client, string) {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	cl := &client{t: t, c: c, r: bufio.NewReader(c)}
	g, err := cl.read(2 * time.Second)
	if err != nil {
		t.Fatalf("read greeting: %v", err)
	}
	return cl, g
}

func (cl *client) send(s string) {
	cl.t.Helper()
	cl.c.SetWriteDeadline(time.Now().Add(2 * time.Second))
	if _, err := io.WriteString(cl.c, s); err != nil {
		cl.t.Fatalf("send %q: %v", s, err)
	}
}

func (cl *client) read(timeout time.Duration) (string, error) {
	cl.c.SetReadDeadline(time.Now().Add(timeout))
	return cl.r.ReadString('\r')
}

// ask sends s and returns the answer, failing the test when there is none.
func (cl *client) ask(s string) string {
	cl.t.Helper()
	cl.send(s)
	a, err := cl.read(2 * time.Second)
	if err != nil {
		cl.t.Fatalf("answer to %q: %v", s, err)
	}
	return a
}

func start(t *testing.T, cfg Config) (*Sim, string) {
	t.Helper()
	s := New(cfg)
	addr, err := s.Listen("127.0.0.1:0")
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
	n := 0
	for _, f := range golden.Frames {
		if f.Sim == nil {
			continue
		}
		n++
		t.Run(f.Name, func(t *testing.T) {
			su := f.Sim
			s, addr := start(t, Config{
				WarmUp: time.Hour, CoolDown: time.Hour, On: su.On, LampHours: su.LampHours,
				Inputs: su.Inputs, Name: su.Name, Manufacturer: su.Manufacturer, Model: su.Model, Info: su.Info,
			})
			if su.ERST != "" {
				if err := s.SetERST(su.ERST); err != nil {
					t.Fatal(err)
				}
			}
			s.SetFailure(su.Failure)
			cl, g := dial(t, addr)
			if g != "PJLINK 0\r" {
				t.Fatalf("greeting %q", g)
			}
			for _, b := range su.Before {
				if a, want := cl.ask(b), b[:6]+"=OK\r"; a != want {
					t.Fatalf("setup %q answered %q, want %q", b, a, want)
				}
			}
			if a := cl.ask(f.Request); a != f.Reply {
				t.Fatalf("%q answered %q, want %q", f.Request, a, f.Reply)
			}
		})
	}
	if n < 30 {
		t.Fatalf("only %d golden frames run against the simulator", n)
	}
}

func TestWarmUpAndCoolDown(t *testing.T) {
	const warm, cool = 60 * time.Millisecond, 60 * time.Millisecond
	s, addr := start(t, Config{WarmUp: warm, CoolDown: cool, LampHours: 7})
	cl, _ := dial(t, addr)

	t0 := time.Now()
	if a := cl.ask("%1POWR 1\r"); a != "%1POWR=OK\r" {
		t.Fatalf("POWR 1: %q", a)
	}
	// While warming: POWR? says 3 and set commands are refused with ERR3.
	a1 := cl.ask("%1POWR ?\r")
	a2 := cl.ask("%1INPT 31\r")
	a3 := cl.ask("%1AVMT 11\r")
	a4 := cl.ask("%1POWR 0\r")
	if time.Since(t0) < warm {
		for _, c := range []struct{ got, want string }{
			{a1, "%1POWR=3\r"}, {a2, "%1INPT=ERR3\r"}, {a3, "%1AVMT=ERR3\r"}, {a4, "%1POWR=ERR3\r"},
		} {
			if c.got != c.want {
				t.Errorf("while warming: %q, want %q", c.got, c.want)
			}
		}
		if st := s.State(); st.Power != PowerWarming || !st.LampOn {
			t.Errorf("state while warming: %+v", st)
		}
	} else {
		t.Logf("machine too slow to check the warming state (%v)", time.Since(t0))
	}
	eventually(t, "power on", func() bool { return cl.ask("%1POWR ?\r") == "%1POWR=1\r" })
	if time.Since(t0) < warm {
		t.Fatalf("on after %v, before the warm-up of %v", time.Since(t0), warm)
	}
	if a := cl.ask("%1INPT 31\r"); a != "%1INPT=OK\r" {
		t.Fatalf("INPT 31 when on: %q", a)
	}

	t1 := time.Now()
	if a := cl.ask("%1POWR 0\r"); a != "%1POWR=OK\r" {
		t.Fatalf("POWR 0: %q", a)
	}
	if a := cl.ask("%1POWR ?\r"); time.Since(t1) < cool && a != "%1POWR=2\r" {
		t.Fatalf("while cooling: %q", a)
	}
	eventually(t, "power off", func() bool { return cl.ask("%1POWR ?\r") == "%1POWR=0\r" })
	if time.Since(t1) < cool {
		t.Fatalf("off after %v, before the cool-down of %v", time.Since(t1), cool)
	}
	if st := s.State(); st.Power != PowerOff || st.Input != "31" || st.LampOn || st.LampHours != 7 {
		t.Fatalf("state after power off: %+v", st)
	}
}

func TestLampHoursAccumulate(t *testing.T) {
	s, addr := start(t, Config{On: true, LampHours: 100, LampHourEvery: 5 * time.Millisecond, Lamps: 2})
	cl, _ := dial(t, addr)
	eventually(t, "lamp hours to grow", func() bool { return s.State().LampHours >= 103 })
	a := cl.ask("%1LAMP ?\r")
	var h1, h2 int
	var on1, on2 int
	if _, err := fmt.Sscanf(a, "%%1LAMP=%d %d %d %d\r", &h1, &on1, &h2, &on2); err != nil || h1 < 103 || h1 != h2 || on1 != 1 || on2 != 1 {
		t.Fatalf("LAMP ? = %q (%v)", a, err)
	}
	cl.ask("%1POWR 0\r")
	st := s.State()
	if st.LampOn {
		t.Fatalf("lamp on while cooling: %+v", st)
	}
	if later := s.State(); later.LampHours != st.LampHours {
		t.Fatalf("lamp hours grow with the lamp off: %d then %d", st.LampHours, later.LampHours)
	}
}

func TestSharedStateAcrossConnections(t *testing.T) {
	s, addr := start(t, Config{On: true, Inputs: []string{"11", "31", "32"}})
	a, _ := dial(t, addr)
	b, _ := dial(t, addr)
	if got := a.ask("%1INPT 32\r"); got != "%1INPT=OK\r" {
		t.Fatal(got)
	}
	if got := b.ask("%1INPT ?\r"); got != "%1INPT=32\r" {
		t.Fatalf("other connection sees %q", got)
	}
	if got := b.ask("%1AVMT 31\r"); got != "%1AVMT=OK\r" {
		t.Fatal(got)
	}
	if got := a.ask("%1AVMT ?\r"); got != "%1AVMT=31\r" {
		t.Fatalf("other connection sees %q", got)
	}
	if st := s.State(); st.Input != "32" || !st.VideoMute || !st.AudioMute {
		t.Fatalf("state %+v", st)
	}

	// Many connections at once, under -race.
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
			r := bufio.NewReader(c)
			c.SetDeadline(time.Now().Add(5 * time.Second))
			if g, _ := r.ReadString('\r'); g != "PJLINK 0\r" {
				t.Errorf("greeting %q", g)
				return
			}
			for j := 0; j < 20; j++ {
				io.WriteString(c, "%1POWR ?\r")
				if a, err := r.ReadString('\r'); err != nil || a != "%1POWR=1\r" {
					t.Errorf("POWR ? = %q, %v", a, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if got := s.Connections(); got != 10 {
		t.Fatalf("Connections() = %d, want 10", got)
	}
	if got := s.Commands(); got != 4+8*20 {
		t.Fatalf("Commands() = %d, want %d", got, 4+8*20)
	}
}

func TestAuth(t *testing.T) {
	const pw = "JBMIAProjectorLink"
	_, addr := start(t, Config{Password: pw})

	t.Run("right digest", func(t *testing.T) {
		cl, g := dial(t, addr)
		random, ok := strings.CutPrefix(g, "PJLINK 1 ")
		random = strings.TrimSuffix(random, "\r")
		if !ok || len(random) != 8 || strings.Trim(random, "0123456789abcdef") != "" {
			t.Fatalf("greeting %q, want PJLINK 1 and 8 hex digits", g)
		}
		if a := cl.ask(digest(random, pw) + "%1POWR ?\r"); a != "%1POWR=0\r" {
			t.Fatalf("authenticated POWR ? = %q", a)
		}
		if a := cl.ask("%1CLSS ?\r"); a != "%1CLSS=1\r" {
			t.Fatalf("second command without digest = %q", a)
		}
	})
	for name, prefix := range map[string]func(random string) string{
		"wrong digest":   func(r string) string { return digest(r, "nope") },
		"missing digest": func(string) string { return "" },
		"short digest":   func(r string) string { return digest(r, pw)[:31] },
	} {
		t.Run(name, func(t *testing.T) {
			cl, g := dial(t, addr)
			random := strings.TrimSuffix(strings.TrimPrefix(g, "PJLINK 1 "), "\r")
			if a := cl.ask(prefix(random) + "%1POWR ?\r"); a != "PJLINK ERRA\r" {
				t.Fatalf("answer %q, want PJLINK ERRA", a)
			}
			if _, err := cl.read(2 * time.Second); err != io.EOF {
				t.Fatalf("after ERRA: %v, want the connection closed", err)
			}
		})
	}
	t.Run("randoms differ", func(t *testing.T) {
		_, g1 := dial(t, addr)
		_, g2 := dial(t, addr)
		if g1 == g2 {
			t.Fatalf("two connections got the same random: %q", g1)
		}
	})
}

func TestModes(t *testing.T) {
	s, addr := start(t, Config{On: true})

	t.Run("slow", func(t *testing.T) {
		s.SetMode(Slow)
		s.SetDelay(80 * time.Millisecond)
		defer s.SetMode(Normal)
		cl, _ := dial(t, addr)
		t0 := time.Now()
		if a := cl.ask("%1POWR ?\r"); a != "%1POWR=1\r" {
			t.Fatalf("slow answer %q", a)
		}
		if d := time.Since(t0); d < 80*time.Millisecond {
			t.Fatalf("answered after %v, want at least 80ms", d)
		}
	})
	t.Run("silent", func(t *testing.T) {
		s.SetMode(Silent)
		defer s.SetMode(Normal)
		cl, _ := dial(t, addr)
		before := s.Commands()
		cl.send("%1AVMT 11\r")
		if a, err := cl.read(100 * time.Millisecond); !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("silent answered %q, %v", a, err)
		}
		if s.Commands() != before+1 {
			t.Fatalf("command not counted")
		}
		if s.State().VideoMute {
			t.Fatalf("silent mode acted on the command")
		}
	})
	t.Run("garbage", func(t *testing.T) {
		s.SetMode(Garbage)
		defer s.SetMode(Normal)
		cl, _ := dial(t, addr)
		for i := 0; i < 20; i++ {
			cl.send("%1POWR ?\r")
			a, err := cl.read(2 * time.Second)
			if err != nil {
				t.Fatal(err)
			}
			if strings.HasPrefix(a, "%") || a[0] >= 0x20 {
				t.Fatalf("garbage looks like PJLink: %q", a)
			}
			// Drain what follows a CR inside the garbage, so the next read starts fresh.
			cl.c.SetReadDeadline(time.Now().Add(10 * time.Millisecond))
			for {
				if _, err := cl.r.ReadByte(); err != nil {
					break
				}
			}
		}
	})
	t.Run("drop", func(t *testing.T) {
		s.SetMode(Drop)
		defer s.SetMode(Normal)
		for i := 0; i < 2; i++ {
			cl, _ := dial(t, addr)
			cl.send("%1POWR ?\r")
			if a, err := cl.read(2 * time.Second); err != io.EOF {
				t.Fatalf("drop: %q, %v; want EOF", a, err)
			}
		}
	})
	t.Run("drop once", func(t *testing.T) {
		s.SetMode(DropOnce)
		cl, _ := dial(t, addr)
		cl.send("%1POWR ?\r")
		if a, err := cl.read(2 * time.Second); err != io.EOF {
			t.Fatalf("drop once: %q, %v; want EOF", a, err)
		}
		if m := s.State().Mode; m != Normal {
			t.Fatalf("mode after drop once: %v", m)
		}
		cl2, _ := dial(t, addr)
		if a := cl2.ask("%1POWR ?\r"); a != "%1POWR=1\r" {
			t.Fatalf("after drop once: %q", a)
		}
	})
	t.Run("failure", func(t *testing.T) {
		s.SetFailure(true)
		cl, _ := dial(t, addr)
		for _, c := range []string{"POWR ?", "INPT 31", "XXXX ?", "CLSS ?"} {
			if a, want := cl.ask("%1"+c+"\r"), "%1"+c[:4]+"=ERR4\r"; a != want {
				t.Fatalf("failure: %q, want %q", a, want)
			}
		}
		s.SetFailure(false)
		if a := cl.ask("%1POWR ?\r"); a != "%1POWR=1\r" {
			t.Fatalf("after failure: %q", a)
		}
	})
}

func TestProtocolErrors(t *testing.T) {
	_, addr := start(t, Config{On: true})
	cl, _ := dial(t, addr)
	for req, want := range map[string]string{
		"%1POWR\r":     "%1POWR=ERR2\r", // no separator nor parameter
		"%1POWR 2\r":   "%1POWR=ERR2\r",
		"%1POWRx1\r":   "%1POWR=ERR2\r",
		"%1ERST 1\r":   "%1ERST=ERR2\r", // a query-only command set
		"%1INPT 3\r":   "%1INPT=ERR2\r",
		"%1INPT 99\r":  "%1INPT=ERR2\r",
		"%1AVMT 12\r":  "%1AVMT=ERR2\r",
		"%1powr ?\r":   "%1powr=ERR1\r",
		"%2POWR ?\r":   "%2POWR=ERR1\r", // class 2 commands are not spoken
		"%1SNUM ?\r":   "%1SNUM=ERR1\r",
		"\n%1CLSS ?\r": "%1CLSS=1\r", // a LF left over from CR LF is ignored
		"%1POWR ?\r":   "%1POWR=1\r",
		"%1INPT 11\r":  "%1INPT=OK\r",
		"%1AVMT 30\r":  "%1AVMT=OK\r",
		"%1NAME ?\r":   "%1NAME=\r",
		"%1INF2 ?\r":   "%1INF2=PJLinkSim\r",
		"%1INFO ?\r":   "%1INFO=\r",
		"%1INST ?\r":   "%1INST=11 31 32\r",
		"%1LAMP ?\r":   "%1LAMP=0 1\r",
		"%1ERST ?\r":   "%1ERST=000000\r",
		"%1INF1 ?\r":   "%1INF1=Bailiff\r",
		"%1AVMT ?\r":   "%1AVMT=30\r",
		"%1CLSS ?\r":   "%1CLSS=1\r",
		"%1POWR 1\r":   "%1POWR=OK\r",
		"%1INPT ?\r":   "%1INPT=11\r",
	} {
		if a := cl.ask(req); a != want {
			t.Errorf("%q answered %q, want %q", req, a, want)
		}
	}
	// A line that names no command gets no answer; the connection stays usable.
	cl.send("hello\r")
	if a, err := cl.read(50 * time.Millisecond); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("answer to junk: %q, %v", a, err)
	}
	if a := cl.ask("%1CLSS ?\r"); a != "%1CLSS=1\r" {
		t.Fatalf("after junk: %q", a)
	}
	// An over-long line closes the connection.
	cl.send(strings.Repeat("x", 400) + "\r")
	// The simulator closes with bytes unread, so the client may see a reset rather than EOF.
	if a, err := cl.read(2 * time.Second); err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("after an over-long line: %q, %v; want the connection closed", a, err)
	}
}

func TestSetERST(t *testing.T) {
	s := New(Config{})
	defer s.Close()
	for _, bad := range []string{"", "00000", "0000000", "000300", "00000a"} {
		if err := s.SetERST(bad); err == nil {
			t.Errorf("SetERST(%q) accepted", bad)
		}
	}
	if err := s.SetERST("000200"); err != nil || s.State().ERST != "000200" {
		t.Fatalf("SetERST: %v, state %+v", err, s.State())
	}
}

func TestIdleTimeout(t *testing.T) {
	s, addr := start(t, Config{IdleTimeout: 50 * time.Millisecond})
	cl, _ := dial(t, addr)
	if a := cl.ask("%1POWR ?\r"); a != "%1POWR=0\r" {
		t.Fatal(a)
	}
	if _, err := cl.read(2 * time.Second); err != io.EOF {
		t.Fatalf("idle connection: %v, want EOF", err)
	}
	eventually(t, "no open connections", func() bool { return s.OpenConnections() == 0 })
}

func TestDropConnections(t *testing.T) {
	s, addr := start(t, Config{})
	cl, _ := dial(t, addr)
	eventually(t, "one open connection", func() bool { return s.OpenConnections() == 1 })
	s.DropConnections()
	if _, err := cl.read(2 * time.Second); err != io.EOF {
		t.Fatalf("dropped connection: %v, want EOF", err)
	}
	cl2, _ := dial(t, addr)
	if a := cl2.ask("%1CLSS ?\r"); a != "%1CLSS=1\r" {
		t.Fatal(a)
	}
}

func TestServeConnPipe(t *testing.T) {
	s := New(Config{Name: "pipe"})
	defer s.Close()
	a, b := net.Pipe()
	done := make(chan struct{})
	go func() { s.ServeConn(b); close(done) }()
	r := bufio.NewReader(a)
	a.SetDeadline(time.Now().Add(2 * time.Second))
	if g, _ := r.ReadString('\r'); g != "PJLINK 0\r" {
		t.Fatalf("greeting %q", g)
	}
	io.WriteString(a, "%1NAME ?\r")
	if got, _ := r.ReadString('\r'); got != "%1NAME=pipe\r" {
		t.Fatalf("NAME ? = %q", got)
	}
	a.Close()
	<-done
}

func TestCloseEndsEverything(t *testing.T) {
	base := runtime.NumGoroutine()
	s := New(Config{Password: "x"})
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
	s.SetMode(Slow)
	s.SetDelay(time.Hour)
	var conns []*client
	for i := 0; i < 3; i++ {
		cl, g := dial(t, addr)
		conns = append(conns, cl)
		if i == 0 {
			// This one sits in a slow answer; Close must not wait an hour for it.
			random := strings.TrimSuffix(strings.TrimPrefix(g, "PJLINK 1 "), "\r")
			cl.send(digest(random, "x") + "%1POWR ?\r")
		}
	}
	eventually(t, "three open connections and the slow command", func() bool {
		return s.OpenConnections() == 3 && s.Commands() == 1
	})
	t0 := time.Now()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(t0); d > time.Second {
		t.Fatalf("Close took %v", d)
	}
	for _, cl := range conns {
		if _, err := cl.read(2 * time.Second); err != io.EOF {
			t.Fatalf("connection after Close: %v, want EOF", err)
		}
		cl.c.Close()
	}
	if _, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		t.Fatal("still accepting after Close")
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	eventually(t, "goroutines to end", func() bool { return runtime.NumGoroutine() <= base })
}
