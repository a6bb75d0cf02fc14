// Package transport opens the link to a device from the address in its room config, so every
// driver reads addresses the same way:
//
//	host, host:port, tcp://host:port   TCP (the driver's default port when none is given)
//	udp://host[:port]                  UDP, one datagram per Write and per Read
//	serial:/dev/ttyUSB0, /dev/ttyUSB0  a serial port (RS-232/RS-485/USB), 8N1 unless options say
//
// Serial ports are opened with go.bug.st/serial and given read and write deadlines like a
// net.Conn, so drivers use one code path for sockets and serial lines; tests give drivers the
// slave side of a pty pair as "serial:/dev/pts/N".
package transport

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.bug.st/serial"
)

// Kinds of link.
const (
	TCP    = "tcp"
	UDP    = "udp"
	Serial = "serial"
)

// Options are a driver's defaults and a device's serial settings.
type Options struct {
	TCPPort int // default port for TCP addresses without one
	UDPPort int // default port for udp:// addresses without one

	// Serial line settings; zero values mean 9600 baud, 8 data bits, no parity, 1 stop bit.
	Baud     int
	DataBits int
	Parity   string // "none", "even", "odd"
	StopBits int    // 1 or 2
}

// SerialOptions reads the serial settings from a device's options ("baud", "data_bits",
// "parity", "stop_bits"), reporting the first bad one.
func SerialOptions(opts map[string]string, into *Options) error {
	num := func(key string, dst *int, ok func(int) bool) error {
		v, found := opts[key]
		if !found {
			return nil
		}
		n, err := strconv.Atoi(v)
		if err != nil || !ok(n) {
			return fmt.Errorf("transport: option %s %q is not valid", key, v)
		}
		*dst = n
		return nil
	}
	if err := num("baud", &into.Baud, func(n int) bool { return n >= 50 && n <= 4000000 }); err != nil {
		return err
	}
	if err := num("data_bits", &into.DataBits, func(n int) bool { return n >= 5 && n <= 8 }); err != nil {
		return err
	}
	if err := num("stop_bits", &into.StopBits, func(n int) bool { return n == 1 || n == 2 }); err != nil {
		return err
	}
	if p, ok := opts["parity"]; ok {
		switch p {
		case "none", "even", "odd":
			into.Parity = p
		default:
			return fmt.Errorf("transport: option parity %q: want none, even or odd", p)
		}
	}
	return nil
}

// Parse splits an address into its kind and the dialable part (host:port, or a device path).
func Parse(addr string, o Options) (kind, target string, err error) {
	switch {
	case strings.HasPrefix(addr, "serial:"):
		kind, target = Serial, strings.TrimPrefix(addr, "serial:")
	case strings.HasPrefix(addr, "/dev/"):
		kind, target = Serial, addr
	case strings.HasPrefix(addr, "udp://"):
		kind, target = UDP, withPort(strings.TrimPrefix(addr, "udp://"), o.UDPPort)
	case strings.HasPrefix(addr, "tcp://"):
		kind, target = TCP, withPort(strings.TrimPrefix(addr, "tcp://"), o.TCPPort)
	case strings.Contains(addr, "://"):
		return "", "", fmt.Errorf("transport: address %q: unknown scheme (want tcp://, udp:// or serial:)", addr)
	default:
		kind, target = TCP, withPort(addr, o.TCPPort)
	}
	if target == "" {
		return "", "", fmt.Errorf("transport: address %q is empty", addr)
	}
	if kind != Serial {
		if _, port, err := net.SplitHostPort(target); err != nil || port == "" || port == "0" {
			return "", "", fmt.Errorf("transport: address %q: want host:port", addr)
		}
	}
	return kind, target, nil
}

// withPort adds port to an address that has none ("host", "[::1]").
func withPort(addr string, port int) string {
	if _, _, err := net.SplitHostPort(addr); err == nil || port == 0 {
		return addr
	}
	host := strings.TrimSuffix(strings.TrimPrefix(addr, "["), "]")
	return net.JoinHostPort(host, strconv.Itoa(port))
}

// Dial opens the link. A TCP or UDP link is a net.Conn; a serial link is a net.Conn too, whose
// deadlines are kept by the port's read timeout.
func Dial(ctx context.Context, addr string, o Options) (net.Conn, error) {
	kind, target, err := Parse(addr, o)
	if err != nil {
		return nil, err
	}
	switch kind {
	case Serial:
		return openSerial(target, o)
	default:
		var d net.Dialer
		c, err := d.DialContext(ctx, kind, target)
		if err != nil {
			return nil, err
		}
		if tc, ok := c.(*net.TCPConn); ok {
			tc.SetNoDelay(true)
			tc.SetKeepAlive(true)
			tc.SetKeepAlivePeriod(30 * time.Second)
		}
		return c, nil
	}
}

func openSerial(path string, o Options) (net.Conn, error) {
	mode := &serial.Mode{BaudRate: 9600, DataBits: 8, Parity: serial.NoParity, StopBits: serial.OneStopBit}
	if o.Baud != 0 {
		mode.BaudRate = o.Baud
	}
	if o.DataBits != 0 {
		mode.DataBits = o.DataBits
	}
	switch o.Parity {
	case "even":
		mode.Parity = serial.EvenParity
	case "odd":
		mode.Parity = serial.OddParity
	}
	if o.StopBits == 2 {
		mode.StopBits = serial.TwoStopBits
	}
	p, err := serial.Open(path, mode)
	if err != nil {
		return nil, fmt.Errorf("transport: open %s: %w", path, err)
	}
	return &serialConn{port: p, path: path}, nil
}

// serialConn gives a serial port the deadlines of a net.Conn.
type serialConn struct {
	port serial.Port
	path string

	mu        sync.Mutex
	readDL    time.Time
	closed    bool
	closeOnce sync.Once
}

// ErrTimeout is returned by a serial read whose deadline passed; it is a net.Error whose
// Timeout() is true, and it wraps os.ErrDeadlineExceeded's meaning for errors.Is(…, context.DeadlineExceeded).
var ErrTimeout error = timeoutError{}

type timeoutError struct{}

func (timeoutError) Error() string   { return "transport: serial read timed out" }
func (timeoutError) Timeout() bool   { return true }
func (timeoutError) Temporary() bool { return true }
func (timeoutError) Is(target error) bool {
	return target == context.DeadlineExceeded
}

func (s *serialConn) Read(b []byte) (int, error) {
	s.mu.Lock()
	dl, closed := s.readDL, s.closed
	s.mu.Unlock()
	if closed {
		return 0, net.ErrClosed
	}
	timeout := serial.NoTimeout
	if !dl.IsZero() {
		timeout = time.Until(dl)
		if timeout <= 0 {
			return 0, ErrTimeout
		}
	}
	if err := s.port.SetReadTimeout(timeout); err != nil {
		return 0, err
	}
	n, err := s.port.Read(b)
	if err != nil {
		var pe *serial.PortError
		if errors.As(err, &pe) && pe.Code() == serial.PortClosed {
			return n, net.ErrClosed
		}
		return n, err
	}
	if n == 0 {
		// go.bug.st/serial returns 0, nil when the timeout passes without data.
		return 0, ErrTimeout
	}
	return n, nil
}

func (s *serialConn) Write(b []byte) (int, error) { return s.port.Write(b) }

func (s *serialConn) Close() error {
	var err error
	s.closeOnce.Do(func() {
		s.mu.Lock()
		s.closed = true
		s.mu.Unlock()
		err = s.port.Close()
	})
	return err
}

func (s *serialConn) SetDeadline(t time.Time) error { return s.SetReadDeadline(t) }

func (s *serialConn) SetReadDeadline(t time.Time) error {
	s.mu.Lock()
	s.readDL = t
	s.mu.Unlock()
	return nil
}

// SetWriteDeadline is accepted and ignored: a serial write completes at the line's speed.
func (s *serialConn) SetWriteDeadline(time.Time) error { return nil }

func (s *serialConn) LocalAddr() net.Addr  { return serialAddr(s.path) }
func (s *serialConn) RemoteAddr() net.Addr { return serialAddr(s.path) }

type serialAddr string

func (a serialAddr) Network() string { return Serial }
func (a serialAddr) String() string  { return string(a) }
