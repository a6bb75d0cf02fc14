package viscasim

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/bailiff/bailiff/drivers/internal/drivertest"
	"github.com/bailiff/bailiff/drivers/simreg"
	"github.com/bailiff/bailiff/drivers/transport"
	"github.com/bailiff/bailiff/drivers/visca/internal/golden"
)

// client is a raw VISCA controller for tests: it checks bytes, not meaning.
type client struct {
	t    *testing.T
	conn net.Conn
	r    *packetReader
	udp  bool
	buf  [256]byte
}

func dialClient(t *testing.T, addr string) *client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	c, err := transport.Dial(ctx, addr, transport.Options{})
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	t.Cleanup(func() { c.Close() })
	return &client{t: t, conn: c, r: newPacketReader(c), udp: strings.HasPrefix(addr, "udp://")}
}

func (cl *client) send(p []byte) {
	cl.t.Helper()
	cl.conn.SetWriteDeadline(time.Now().Add(2 * time.Second))
	if _, err := cl.conn.Write(p); err != nil {
		cl.t.Fatalf("send [% X]: %v", p, err)
	}
}

// read returns the next packet (stream) or datagram (UDP).
func (cl *client) read(timeout time.Duration) ([]byte, error) {
	cl.conn.SetReadDeadline(time.Now().Add(timeout))
	if cl.udp {
		n, err := cl.conn.Read(cl.buf[:])
		if err != nil {
			return nil, err
		}
		return append([]byte(nil), cl.buf[:n]...), nil
	}
	p, long, err := cl.r.next()
	if long {
		cl.t.Fatalf("over-long reply")
	}
	return p, err
}

// expect reads len(want) replies and checks them.
func (cl *client) expect(what string, want [][]byte) {
	cl.t.Helper()
	for i, w := range want {
		got, err := cl.read(2 * time.Second)
		if err != nil {
			cl.t.Fatalf("%s: reply %d: %v, want [% X]", what, i+1, err, w)
		}
		if !bytes.Equal(got, w) {
			cl.t.Fatalf("%s: reply %d is [% X], want [% X]", what, i+1, got, w)
		}
	}
}

// quiet checks that nothing comes within d.
func (cl *client) quiet(d time.Duration) {
	cl.t.Helper()
	if p, err := cl.read(d); err == nil {
		cl.t.Fatalf("unexpected reply [% X]", p)
	}
}

// setUp makes a simulator for a golden setup, serving over transport tr.
func setUp(t *testing.T, su *golden.Setup, tr string) (*Sim, *client) {
	t.Helper()
	cfg := Config{On: su.On, Cameras: su.Cameras, Speed: 1000}
	if su.Booting {
		cfg.BootTime = time.Hour
	}
	if su.SlowMotion {
		cfg.Speed = 1e-4
	}
	s := New(cfg)
	t.Cleanup(func() { s.Close() })
	s.mu.Lock()
	now := time.Now()
	c := s.cams[0]
	c.pan.pos, c.tilt.pos, c.zoom.pos = float64(su.Pan), float64(su.Tilt), float64(su.Zoom)
	c.pan.t0, c.tilt.t0, c.zoom.t0 = now, now, now
	s.mu.Unlock()
	var addr string
	var err error
	switch tr {
	case "tcp":
		addr, err = s.ListenTCP("127.0.0.1:0")
	case "udp":
		addr, err = s.ListenUDP("127.0.0.1:0")
	case "serial":
		addr, err = s.OpenSerial()
	}
	if err != nil {
		t.Fatal(err)
	}
	cl := dialClient(t, addr)
	if tr == "serial" && !su.Unaddressed {
		cl.send([]byte{0x88, 0x30, 0x01, 0xFF})
		cl.expect("address set", [][]byte{{0x88, 0x30, byte(len(s.cams) + 1), 0xFF}})
	}
	for _, b := range su.Before {
		cl.send(b.Request)
		cl.expect("setup", b.Replies)
	}
	if su.Fail != "" {
		f, ok := ParseFault(su.Fail)
		if !ok {
			t.Fatalf("unknown fault %q", su.Fail)
		}
		s.Fail(1, f, 1)
	}
	return s, cl
}

func TestGoldenFrames(t *testing.T) {
	n := 0
	for _, f := range golden.Frames {
		if f.Sim == nil {
			continue
		}
		transports := []string{"tcp", "serial"}
		if f.Serial {
			transports = []string{"serial"}
		}
		for _, tr := range transports {
			n++
			t.Run(tr+"/"+f.Name, func(t *testing.T) {
				_, cl := setUp(t, f.Sim, tr)
				cl.send(f.Request)
				cl.expect(f.Name, f.Replies)
				cl.quiet(20 * time.Millisecond)
			})
		}
	}
	if n < 60 {
		t.Fatalf("only %d golden frames ran against the simulator", n)
	}
}

func TestGoldenDatagrams(t *testing.T) {
	for _, d := range golden.Datagrams {
		if d.Sim == nil {
			continue
		}
		t.Run(d.Name, func(t *testing.T) {
			_, cl := setUp(t, d.Sim, "udp")
			cl.send(d.Request)
			cl.expect(d.Name, d.Replies)
			cl.quiet(20 * time.Millisecond)
		})
	}
}

// eventually polls cond until it holds or 2 s pass.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	drivertest.Eventually(t, 2*time.Second, what, cond)
}

func TestMotion(t *testing.T) {
	s := New(Config{On: true, Speed: 4})
	defer s.Close()
	addr, err := s.ListenTCP("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cl := dialClient(t, addr)
	ack, done := []byte{0x90, 0x41, 0xFF}, []byte{0x90, 0x51, 0xFF}

	// Pan right at 18h: 2400 units a second at speed 1, 9600 here, until stopped.
	cl.send([]byte{0x81, 0x01, 0x06, 0x01, 0x18, 0x01, 0x02, 0x03, 0xFF})
	cl.expect("drive", [][]byte{ack, done})
	eventually(t, "pan to pass 200", func() bool { return s.State(1).Pan > 200 })
	if st := s.State(1); !st.Moving || st.Tilt != 0 {
		t.Fatalf("while driving: %+v", st)
	}
	cl.send([]byte{0x81, 0x01, 0x06, 0x01, 0x01, 0x01, 0x03, 0x03, 0xFF})
	cl.expect("stop", [][]byte{ack, done})
	p := s.State(1).Pan
	time.Sleep(30 * time.Millisecond)
	if st := s.State(1); st.Moving || st.Pan != p {
		t.Fatalf("after stop: %+v, was at %d", st, p)
	}
	// Pan stops at its limit.
	cl.send([]byte{0x81, 0x01, 0x06, 0x01, 0x18, 0x01, 0x01, 0x03, 0xFF})
	cl.expect("drive left", [][]byte{ack, done})
	eventually(t, "the left limit", func() bool { return s.State(1).Pan == PanMin })
	if s.State(1).Moving {
		t.Fatal("still moving at the limit")
	}

	// An absolute move holds its socket until there.
	t0 := time.Now()
	cl.send([]byte{0x81, 0x01, 0x06, 0x02, 0x18, 0x14, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0xFF})
	cl.expect("absolute", [][]byte{ack})
	if st := s.State(1); st.Busy != 1 || !st.Moving {
		t.Fatalf("during the move: %+v", st)
	}
	cl.expect("absolute done", [][]byte{done})
	// 2267 units at 9600 a second.
	if d := time.Since(t0); d < 200*time.Millisecond {
		t.Fatalf("a move of 2267 units took %v", d)
	}
	if st := s.State(1); st.Pan != 0 || st.Tilt != 256 || st.Busy != 0 || st.Moving {
		t.Fatalf("after the move: %+v", st)
	}

	// Store a preset, move away, recall it.
	cl.send([]byte{0x81, 0x01, 0x04, 0x3F, 0x01, 0x05, 0xFF})
	cl.expect("store", [][]byte{ack, done})
	cl.send([]byte{0x81, 0x01, 0x04, 0x47, 0x00, 0x08, 0x00, 0x00, 0xFF})
	cl.expect("zoom", [][]byte{ack, done})
	cl.send([]byte{0x81, 0x01, 0x04, 0x3F, 0x02, 0x05, 0xFF})
	cl.expect("recall", [][]byte{ack, done})
	if st := s.State(1); st.Pan != 0 || st.Tilt != 256 || st.Zoom != 0 || len(st.Presets) != 1 || st.Presets[0] != 5 {
		t.Fatalf("after recall: %+v", st)
	}
}

func TestCancelAndIFClear(t *testing.T) {
	s := New(Config{On: true, Speed: 1e-4})
	defer s.Close()
	addr, err := s.ListenTCP("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cl := dialClient(t, addr)
	cl.send([]byte{0x81, 0x01, 0x06, 0x04, 0xFF}) // home: at home already, done at once
	cl.expect("home", [][]byte{{0x90, 0x41, 0xFF}, {0x90, 0x51, 0xFF}})
	cl.send([]byte{0x81, 0x01, 0x04, 0x47, 0x04, 0x00, 0x00, 0x00, 0xFF})
	cl.expect("zoom", [][]byte{{0x90, 0x41, 0xFF}})
	cl.send([]byte{0x81, 0x01, 0x06, 0x02, 0x01, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0xFF})
	cl.expect("move", [][]byte{{0x90, 0x42, 0xFF}})
	cl.send([]byte{0x81, 0x21, 0xFF})
	cl.expect("cancel", [][]byte{{0x90, 0x61, 0x04, 0xFF}})
	if st := s.State(1); st.Busy != 1 {
		t.Fatalf("after cancel: %+v", st)
	}
	cl.send([]byte{0x81, 0x01, 0x00, 0x01, 0xFF})
	cl.expect("if clear", [][]byte{{0x90, 0x50, 0xFF}})
	cl.quiet(30 * time.Millisecond)
	if st := s.State(1); st.Busy != 0 || st.Moving {
		t.Fatalf("after IF_Clear: %+v", st)
	}
}

func TestPowerBoot(t *testing.T) {
	s := New(Config{BootTime: 100 * time.Millisecond})
	defer s.Close()
	addr, err := s.ListenTCP("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cl := dialClient(t, addr)
	t0 := time.Now()
	cl.send([]byte{0x81, 0x01, 0x04, 0x00, 0x02, 0xFF})
	cl.expect("power on", [][]byte{{0x90, 0x41, 0xFF}})
	cl.send([]byte{0x81, 0x09, 0x04, 0x00, 0xFF})
	cl.expect("inquiry while booting", [][]byte{{0x90, 0x50, 0x02, 0xFF}})
	if st := s.State(1); !st.Booting || !st.Power {
		t.Fatalf("booting: %+v", st)
	}
	cl.send([]byte{0x81, 0x01, 0x06, 0x04, 0xFF})
	cl.expect("home while booting", [][]byte{{0x90, 0x62, 0x41, 0xFF}})
	cl.expect("power on done", [][]byte{{0x90, 0x51, 0xFF}})
	if d := time.Since(t0); d < 100*time.Millisecond {
		t.Fatalf("booted in %v", d)
	}
	cl.send([]byte{0x81, 0x01, 0x06, 0x04, 0xFF})
	cl.expect("home", [][]byte{{0x90, 0x41, 0xFF}, {0x90, 0x51, 0xFF}})
}

func TestDaisyChain(t *testing.T) {
	s := New(Config{Cameras: 3, Speed: 1e-4})
	defer s.Close()
	addr, err := s.OpenSerial()
	if err != nil {
		t.Fatal(err)
	}
	cl := dialClient(t, addr)
	cl.send([]byte{0x82, 0x09, 0x04, 0x00, 0xFF})
	cl.expect("before AddressSet the packet goes round", [][]byte{{0x82, 0x09, 0x04, 0x00, 0xFF}})
	cl.send([]byte{0x88, 0x30, 0x01, 0xFF})
	cl.expect("address set", [][]byte{{0x88, 0x30, 0x04, 0xFF}})
	for i, hdr := range []byte{0x90, 0xA0, 0xB0} {
		if a := s.State(i + 1).Address; a != i+1 {
			t.Fatalf("camera %d has address %d", i+1, a)
		}
		cl.send([]byte{0x81 + byte(i), 0x01, 0x04, 0x00, 0x02, 0xFF})
		cl.expect("power on", [][]byte{{hdr, 0x41, 0xFF}, {hdr, 0x51, 0xFF}})
	}
	// Camera 2 moves (socket 1 held); a broadcast IF_Clear cancels it without a reply.
	cl.send([]byte{0x82, 0x01, 0x06, 0x04, 0xFF})
	cl.send([]byte{0x82, 0x01, 0x06, 0x02, 0x01, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xFF})
	cl.expect("home, move", [][]byte{{0xA0, 0x41, 0xFF}, {0xA0, 0x51, 0xFF}, {0xA0, 0x41, 0xFF}})
	if s.State(2).Busy != 1 || s.State(1).Busy != 0 {
		t.Fatalf("busy: %+v %+v", s.State(1), s.State(2))
	}
	cl.send([]byte{0x88, 0x01, 0x00, 0x01, 0xFF})
	cl.expect("if clear", [][]byte{{0x88, 0x01, 0x00, 0x01, 0xFF}})
	cl.quiet(30 * time.Millisecond)
	if s.State(2).Busy != 0 {
		t.Fatalf("after IF_Clear: %+v", s.State(2))
	}
	cl.send([]byte{0x85, 0x09, 0x04, 0x00, 0xFF})
	cl.expect("no camera 5", [][]byte{{0x85, 0x09, 0x04, 0x00, 0xFF}})

	// Replug: each camera announces a network change and forgets its address.
	s.Replug()
	cl.expect("network change", [][]byte{{0x90, 0x38, 0xFF}, {0xA0, 0x38, 0xFF}, {0xB0, 0x38, 0xFF}})
	cl.send([]byte{0x81, 0x09, 0x04, 0x00, 0xFF})
	cl.expect("unaddressed", [][]byte{{0x81, 0x09, 0x04, 0x00, 0xFF}})
	cl.send([]byte{0x88, 0x30, 0x01, 0xFF})
	cl.expect("address set again", [][]byte{{0x88, 0x30, 0x04, 0xFF}})
	cl.send([]byte{0x83, 0x09, 0x04, 0x00, 0xFF})
	cl.expect("camera 3", [][]byte{{0xB0, 0x50, 0x02, 0xFF}})
}

func TestModes(t *testing.T) {
	query := []byte{0x81, 0x09, 0x04, 0x00, 0xFF}
	answer := []byte{0x90, 0x50, 0x03, 0xFF}
	for _, tr := range []string{"tcp", "udp", "serial"} {
		t.Run(tr, func(t *testing.T) {
			s, cl := setUp(t, &golden.Setup{}, tr)
			req, rep := query, answer
			seq := uint32(0)
			next := func() {
				if tr == "udp" {
					seq++
					req, rep = ipMessage(0x0110, seq, query), ipMessage(0x0111, seq, answer)
				}
			}
			next()
			cl.send(req)
			cl.expect("normal", [][]byte{rep})

			s.SetMode(Silent)
			next()
			cl.send(req)
			cl.quiet(50 * time.Millisecond)

			s.SetMode(Garbage)
			next()
			cl.send(req)
			g, err := cl.read(time.Second)
			if err != nil || len(g) < 3 || g[0]&0x80 != 0 {
				t.Fatalf("garbage: [% X] %v", g, err)
			}

			s.SetMode(Slow)
			s.SetDelay(80 * time.Millisecond)
			next()
			t0 := time.Now()
			cl.send(req)
			cl.expect("slow", [][]byte{rep})
			if d := time.Since(t0); d < 80*time.Millisecond {
				t.Fatalf("slow answered after %v", d)
			}

			s.SetMode(DropOnce)
			next()
			cl.send(req)
			if tr == "tcp" {
				if _, err := cl.read(time.Second); !errors.Is(err, io.EOF) {
					t.Fatalf("drop: %v, want the connection closed", err)
				}
				cl = dialClient(t, cl.conn.RemoteAddr().String())
			} else {
				cl.quiet(50 * time.Millisecond)
			}
			next()
			cl.send(req)
			cl.expect("after drop once", [][]byte{rep})

			s.SetMode(Drop)
			next()
			cl.send(req)
			if tr == "tcp" {
				if _, err := cl.read(time.Second); !errors.Is(err, io.EOF) {
					t.Fatalf("drop: %v", err)
				}
			} else {
				cl.quiet(50 * time.Millisecond)
			}
		})
	}
}

func TestLoseReplies(t *testing.T) {
	s, cl := setUp(t, &golden.Setup{On: true}, "udp")
	cmd := ipMessage(0x0100, 1, []byte{0x81, 0x01, 0x04, 0x07, 0x00, 0xFF})
	// The ACK is lost: the completion comes; sent again, the message is refused as seen.
	s.LoseReplies(1)
	cl.send(cmd)
	cl.expect("completion", [][]byte{ipMessage(0x0111, 1, []byte{0x90, 0x51, 0xFF})})
	cl.send(cmd)
	cl.expect("retransmission", [][]byte{ipMessage(0x0200, 1, []byte{0x0F, 0x01})})
	if got := s.Sequences(); len(got) != 2 || got[0] != 1 || got[1] != 1 {
		t.Fatalf("sequences %v", got)
	}
	if s.Messages() != 2 {
		t.Fatalf("%d messages", s.Messages())
	}
}

func TestAddressSetOverIP(t *testing.T) {
	_, cl := setUp(t, &golden.Setup{On: true}, "tcp")
	cl.send([]byte{0x88, 0x30, 0x01, 0xFF})
	cl.expect("address set", [][]byte{{0x88, 0x30, 0x02, 0xFF}})
	cl.send([]byte{0x90, 0x50, 0xFF})
	cl.expect("a reply sent to the camera", [][]byte{{0x90, 0x60, 0x02, 0xFF}})
}

func TestRegistered(t *testing.T) {
	for tr, prefix := range map[string]string{"": "127.0.0.1:", "tcp": "127.0.0.1:", "udp": "udp://127.0.0.1:", "serial": "serial:/dev/"} {
		s, err := simreg.Start("visca", simreg.Options{ID: "cam", Transport: tr, Fast: true, Options: map[string]string{"camera": "2"}})
		if err != nil {
			t.Fatalf("%q: %v", tr, err)
		}
		if !strings.HasPrefix(s.Address(), prefix) {
			t.Errorf("%q: address %q", tr, s.Address())
		}
		if tr == "serial" && len(s.(registered).cams) != 2 {
			t.Errorf("serial line with camera 2 has %d cameras", len(s.(registered).cams))
		}
		if err := s.Close(); err != nil {
			t.Errorf("%q: close: %v", tr, err)
		}
	}
	if _, err := simreg.Start("visca", simreg.Options{ID: "cam", Transport: "carrier-pigeon"}); err == nil {
		t.Error("unknown transport accepted")
	}
}

func TestCloseLeavesNothing(t *testing.T) {
	before := runtime.NumGoroutine()
	for range 3 {
		s := New(Config{On: true, Speed: 1e-4})
		for _, open := range []func() (string, error){
			func() (string, error) { return s.ListenTCP("127.0.0.1:0") },
			func() (string, error) { return s.ListenUDP("127.0.0.1:0") },
			s.OpenSerial,
		} {
			addr, err := open()
			if err != nil {
				t.Fatal(err)
			}
			cl := dialClient(t, addr)
			msg := []byte{0x81, 0x01, 0x06, 0x04, 0xFF}
			if cl.udp {
				msg = ipMessage(0x0100, 1, msg)
			}
			if strings.HasPrefix(addr, "serial:") {
				cl.send([]byte{0x88, 0x30, 0x01, 0xFF})
			}
			cl.send(msg)
		}
		time.Sleep(20 * time.Millisecond)
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		if err := s.Close(); err != nil {
			t.Fatalf("second close: %v", err)
		}
		if _, err := s.ListenTCP("127.0.0.1:0"); err == nil {
			t.Fatal("listen after close")
		}
	}
	eventually(t, "goroutines to end", func() bool { return runtime.NumGoroutine() <= before+2 })
}
