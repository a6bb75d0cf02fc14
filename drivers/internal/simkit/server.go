package simkit

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bailiff/bailiff/drivers"
	"github.com/bailiff/bailiff/drivers/simreg"
	"github.com/bailiff/bailiff/drivers/transport"
)

// Handler serves one line (a TCP connection or a serial line) until it fails or closes;
// the Server closes the line when the handler returns.
type Handler func(l *Line)

// PacketHandler handles one datagram received on a UDP socket; reply sends a datagram back
// to its sender. Datagrams are handled one at a time, in order.
type PacketHandler func(d []byte, from net.Addr, reply func([]byte))

// Config describes a Server.
type Config struct {
	// Name starts every error ("pjlinksim: listen: …").
	Name string
	// Logger gets debug records; nil discards them.
	Logger *slog.Logger
	// OneListener refuses a second ListenTCP ("already listening"), for simulators whose
	// Addr names their only port.
	OneListener bool
	// WriteTimeout bounds each write to a line; default 5 s.
	WriteTimeout time.Duration
	// ConnectionsOnly leaves serial lines out of Connections and OpenConnections, which
	// then count connections only.
	ConnectionsOnly bool
}

// Server serves a simulator's handlers on TCP listeners, UDP sockets, pty pairs and serial
// lines, and keeps the simulator's misbehaviour (the embedded Behaviour). Close stops them
// all. Its methods are safe for concurrent use.
type Server struct {
	Behaviour

	name         string
	log          *slog.Logger
	oneListener  bool
	writeTimeout time.Duration
	connsOnly    bool

	mu     sync.Mutex // guards the fields below
	lns    []net.Listener
	pcs    []net.PacketConn
	ptys   []io.Closer
	lines  map[*Line]struct{}
	closed bool
	done   chan struct{}
	wg     sync.WaitGroup

	connections atomic.Int64
}

// New returns a Server serving nothing yet.
func New(cfg Config) *Server {
	log := drivers.Logger(cfg.Logger)
	if cfg.WriteTimeout <= 0 {
		cfg.WriteTimeout = 5 * time.Second
	}
	return &Server{name: cfg.Name, log: log, oneListener: cfg.OneListener, writeTimeout: cfg.WriteTimeout, connsOnly: cfg.ConnectionsOnly,
		lines: map[*Line]struct{}{}, done: make(chan struct{})}
}

var errClosed = errors.New("simulator closed")

// Go runs f in a goroutine that Close waits for; false (and f not run) when closed.
func (s *Server) Go(f func()) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		f()
	}()
	return true
}

// ListenTCP serves h on every connection to a TCP address ("127.0.0.1:0" picks a free
// port) and returns the address it listens on.
func (s *Server) ListenTCP(addr string, h Handler) (string, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", fmt.Errorf("%s: listen: %w", s.name, err)
	}
	s.mu.Lock()
	if s.closed || (s.oneListener && len(s.lns) > 0) {
		s.mu.Unlock()
		ln.Close()
		if s.closed {
			return "", fmt.Errorf("%s: listen: %w", s.name, errClosed)
		}
		return "", fmt.Errorf("%s: listen: already listening", s.name)
	}
	s.lns = append(s.lns, ln)
	s.wg.Add(1)
	s.mu.Unlock()
	go func() {
		defer s.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				if !s.Closed() {
					s.log.Debug(s.name+": accept", "error", err)
				}
				return
			}
			l := s.track(c, false)
			if l == nil {
				return
			}
			go s.serve(l, h)
		}
	}()
	return ln.Addr().String(), nil
}

// Addr returns the address of the first TCP listener, or "" before ListenTCP.
func (s *Server) Addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.lns) == 0 {
		return ""
	}
	return s.lns[0].Addr().String()
}

// ListenUDP serves h on a UDP address ("127.0.0.1:0" picks a free port) and returns the
// address it listens on (host:port).
func (s *Server) ListenUDP(addr string, h PacketHandler) (string, error) {
	pc, err := net.ListenPacket("udp", addr)
	if err != nil {
		return "", fmt.Errorf("%s: listen: %w", s.name, err)
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		pc.Close()
		return "", fmt.Errorf("%s: listen: %w", s.name, errClosed)
	}
	s.pcs = append(s.pcs, pc)
	s.wg.Add(1)
	s.mu.Unlock()
	go func() {
		defer s.wg.Done()
		buf := make([]byte, 64<<10)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				if errors.Is(err, net.ErrClosed) {
					return
				}
				continue
			}
			d := append([]byte(nil), buf[:n]...)
			h(d, from, func(b []byte) { pc.WriteTo(b, from) })
		}
	}()
	return pc.LocalAddr().String(), nil
}

// ServeSerial opens an existing serial device (one end of a socat pty pair, a real port)
// with the line settings of a device's options ("baud", "parity", …; see
// transport.SerialOptions), serves h on it, and returns its address, "serial:PATH".
func (s *Server) ServeSerial(path string, options map[string]string, h Handler) (string, error) {
	var topts transport.Options
	if err := transport.SerialOptions(options, &topts); err != nil {
		return "", err
	}
	addr := "serial:" + path
	c, err := transport.Dial(context.Background(), addr, topts)
	if err != nil {
		return "", err
	}
	l := s.track(c, true)
	if l == nil {
		return "", fmt.Errorf("%s: serial: %w", s.name, errClosed)
	}
	go s.serve(l, h)
	return addr, nil
}

// ServeConn serves h on a connection the caller accepted or made (one end of net.Pipe, say)
// and returns when it ends. Close ends it too.
func (s *Server) ServeConn(c net.Conn, h Handler) {
	if l := s.track(c, false); l != nil {
		s.serve(l, h)
	}
}

// ServeLine serves h on a serial line the caller opened (a real port, one end of a socat
// pty pair) and returns when it fails or Close closes it.
func (s *Server) ServeLine(rw io.ReadWriteCloser, h Handler) {
	if l := s.track(rw, true); l != nil {
		s.serve(l, h)
	}
}

// track registers a line and counts one goroutine for it; nil (and rw closed) when closed.
func (s *Server) track(rw io.ReadWriteCloser, serial bool) *Line {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		rw.Close()
		return nil
	}
	l := &Line{rw: rw, serial: serial, srv: s, closed: make(chan struct{})}
	s.lines[l] = struct{}{}
	s.wg.Add(1)
	if !serial || !s.connsOnly {
		s.connections.Add(1)
	}
	return l
}

func (s *Server) serve(l *Line, h Handler) {
	defer s.wg.Done()
	defer func() {
		l.Close()
		s.mu.Lock()
		delete(s.lines, l)
		s.mu.Unlock()
	}()
	h(l)
}

// Lines returns the lines open now, connections and serial lines.
func (s *Server) Lines() []*Line {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]*Line, 0, len(s.lines))
	for l := range s.lines {
		out = append(out, l)
	}
	return out
}

// DropConnections closes every open connection now, as a device restarting does; serial
// lines stay.
func (s *Server) DropConnections() {
	for _, l := range s.Lines() {
		if !l.serial {
			l.Close()
		}
	}
}

// OpenConnections returns how many connections and serial lines are open now (connections
// only with Config.ConnectionsOnly).
func (s *Server) OpenConnections() int {
	n := 0
	for _, l := range s.Lines() {
		if !l.serial || !s.connsOnly {
			n++
		}
	}
	return n
}

// Connections returns how many connections and serial lines the simulator has served
// (connections only with Config.ConnectionsOnly).
func (s *Server) Connections() int { return int(s.connections.Load()) }

// Done is closed by Close.
func (s *Server) Done() <-chan struct{} { return s.done }

// Closed reports whether Close has been called.
func (s *Server) Closed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

// Pause sleeps d, or until Close; false when closed.
func (s *Server) Pause(d time.Duration) bool { return Wait(d, s.done) }

// Admit takes the mode for one datagram or request that has no line (see Line.Admit).
func (s *Server) Admit() (Mode, bool) { return s.admit(nil) }

func (s *Server) admit(stop <-chan struct{}) (Mode, bool) {
	m, d := s.Take()
	if m == Slow && !Wait(d, s.done, stop) {
		return m, false
	}
	return m, true
}

// Close stops the listeners, closes every line and pty pair, and waits for the handlers.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	close(s.done)
	var errs []error
	for _, ln := range s.lns {
		errs = append(errs, ln.Close())
	}
	for _, pc := range s.pcs {
		errs = append(errs, pc.Close())
	}
	lines := make([]*Line, 0, len(s.lines))
	for l := range s.lines {
		lines = append(lines, l)
	}
	ptys := s.ptys
	s.mu.Unlock()
	for _, l := range lines {
		l.Close()
	}
	s.wg.Wait()
	for _, p := range ptys {
		errs = append(errs, p.Close())
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("%s: close: %w", s.name, err)
	}
	return nil
}

// StartFor starts serving for simreg: TCP on loopback (Transport "" or "tcp"), a new pty
// pair ("serial" without SerialPath) or the serial device at SerialPath with the device's
// line settings. A nil serial handler means the protocol runs over TCP only. It returns the
// address a room config names.
func (s *Server) StartFor(o simreg.Options, tcp, serial Handler) (string, error) {
	switch {
	case o.Transport == "" || o.Transport == transport.TCP:
		return s.ListenTCP("127.0.0.1:0", tcp)
	case o.Transport == transport.Serial && serial != nil && o.SerialPath == "":
		return s.ServePTY(serial)
	case o.Transport == transport.Serial && serial != nil:
		return s.ServeSerial(o.SerialPath, o.Options, serial)
	case serial == nil:
		return "", fmt.Errorf("%s: the protocol runs over TCP only, not %q", s.name, o.Transport)
	}
	return "", fmt.Errorf("%s: the protocol runs over TCP or a serial line, not %q", s.name, o.Transport)
}

// Line is one TCP connection or serial line a Handler serves. Writes are whole and in
// order, so a handler and other goroutines (a device's own reports) may write at once.
type Line struct {
	rw     io.ReadWriteCloser
	serial bool
	srv    *Server

	wmu    sync.Mutex
	once   sync.Once
	closed chan struct{}
}

// Serial reports whether the line is a serial line (a pty, a port), not a connection.
func (l *Line) Serial() bool { return l.serial }

// Read reads from the line.
func (l *Line) Read(p []byte) (int, error) { return l.rw.Read(p) }

type readDeadliner interface{ SetReadDeadline(time.Time) error }
type writeDeadliner interface{ SetWriteDeadline(time.Time) error }

// SetReadDeadline sets the line's read deadline where it has one (a device that drops an
// idle connection).
func (l *Line) SetReadDeadline(t time.Time) {
	if d, ok := l.rw.(readDeadliner); ok {
		d.SetReadDeadline(t)
	}
}

// Write writes p whole, within the Server's write timeout where the line has deadlines.
func (l *Line) Write(p []byte) (int, error) {
	l.wmu.Lock()
	defer l.wmu.Unlock()
	if d, ok := l.rw.(writeDeadliner); ok {
		d.SetWriteDeadline(time.Now().Add(l.srv.writeTimeout))
	}
	return l.rw.Write(p)
}

// Send writes p and reports whether it went.
func (l *Line) Send(p []byte) bool {
	_, err := l.Write(p)
	return err == nil
}

// SendString writes msg and reports whether it went.
func (l *Line) SendString(msg string) bool { return l.Send([]byte(msg)) }

// Close closes the line; a read in progress ends, and so does a Slow wait.
func (l *Line) Close() error {
	err := net.ErrClosed
	l.once.Do(func() {
		close(l.closed)
		err = l.rw.Close()
	})
	return err
}

// Closed is closed by Close.
func (l *Line) Closed() <-chan struct{} { return l.closed }

// Admit takes the mode for one command received on the line: DropOnce goes back to Normal
// as it is taken, and Slow waits its delay first. false means the line or the Server closed
// meanwhile: the handler returns.
func (l *Line) Admit() (Mode, bool) { return l.srv.admit(l.closed) }
