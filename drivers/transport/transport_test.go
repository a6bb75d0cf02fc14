package transport

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	o := Options{TCPPort: 4352, UDPPort: 52381}
	for _, c := range []struct{ in, kind, target, err string }{
		{"10.0.0.5", TCP, "10.0.0.5:4352", ""},
		{"10.0.0.5:9999", TCP, "10.0.0.5:9999", ""},
		{"tcp://cam:1259", TCP, "cam:1259", ""},
		{"udp://10.0.0.7", UDP, "10.0.0.7:52381", ""},
		{"[::1]", TCP, "[::1]:4352", ""},
		{"serial:/dev/ttyUSB0", Serial, "/dev/ttyUSB0", ""},
		{"/dev/ttyS1", Serial, "/dev/ttyS1", ""},
		{"http://x", "", "", "unknown scheme"},
		{"serial:", "", "", "empty"},
		{"host:0", "", "", "want host:port"},
	} {
		kind, target, err := Parse(c.in, o)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("Parse(%q) error %v, want %q", c.in, err, c.err)
			}
			continue
		}
		if err != nil || kind != c.kind || target != c.target {
			t.Errorf("Parse(%q) = %s %s %v", c.in, kind, target, err)
		}
	}
	if _, _, err := Parse("host", Options{}); err == nil {
		t.Error("a TCP address without a port and no default was accepted")
	}
}

func TestSerialOptions(t *testing.T) {
	var o Options
	if err := SerialOptions(map[string]string{"baud": "38400", "parity": "even", "stop_bits": "2", "data_bits": "7"}, &o); err != nil {
		t.Fatal(err)
	}
	if o.Baud != 38400 || o.Parity != "even" || o.StopBits != 2 || o.DataBits != 7 {
		t.Errorf("options %+v", o)
	}
	for _, bad := range []map[string]string{{"baud": "fast"}, {"parity": "mark"}, {"stop_bits": "3"}, {"data_bits": "9"}} {
		if err := SerialOptions(bad, &o); err == nil {
			t.Errorf("SerialOptions(%v) accepted", bad)
		}
	}
}

// A serial link over a pty pair: bytes both ways, untouched, and read deadlines.
func TestSerialOverPTY(t *testing.T) {
	p, err := OpenPTY()
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	c, err := Dial(context.Background(), p.Address(), Options{Baud: 9600})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	frame := []byte{0x81, 0x01, 0x04, 0x00, 0x02, 0xFF, '\r', '\n', 0x00}
	if _, err := c.Write(frame); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, len(frame))
	if _, err := io.ReadFull(p.Device, got); err != nil || string(got) != string(frame) {
		t.Fatalf("device got % x, %v", got, err)
	}
	reply := []byte{0x90, 0x41, 0xFF, '\r'}
	p.Device.Write(reply)
	c.SetReadDeadline(time.Now().Add(2 * time.Second))
	back := make([]byte, len(reply))
	if _, err := io.ReadFull(c, back); err != nil || string(back) != string(reply) {
		t.Fatalf("driver got % x, %v", back, err)
	}
	// Nothing more comes: the read times out as a net.Error.
	c.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
	start := time.Now()
	_, err = c.Read(back)
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("read past the deadline: %v", err)
	}
	if d := time.Since(start); d < 80*time.Millisecond || d > 2*time.Second {
		t.Errorf("timed out after %s", d)
	}
}

func TestDialTCPAndUDP(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	c, err := Dial(context.Background(), l.Addr().String(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	u, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer u.Close()
	c, err = Dial(context.Background(), "udp://"+u.LocalAddr().String(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Write([]byte("one datagram"))
	buf := make([]byte, 64)
	u.SetReadDeadline(time.Now().Add(time.Second))
	n, _, err := u.ReadFrom(buf)
	if err != nil || string(buf[:n]) != "one datagram" {
		t.Fatalf("udp: %q %v", buf[:n], err)
	}
	l.Close()
	if _, err := Dial(context.Background(), l.Addr().String(), Options{}); err == nil {
		t.Error("dial to a closed port succeeded")
	}
}
