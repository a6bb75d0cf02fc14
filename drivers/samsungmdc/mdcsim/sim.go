// Package mdcsim is a Samsung display that speaks MDC over real TCP and over a serial line (a
// pty pair), for tests, hil-tests and the hub's --demo.
//
// A Sim keeps one display's state (power, volume, mute, input, picture aspect), shared by
// every connection, and can be told to misbehave: answer slowly, not at all, with garbage,
// drop the connection (on a serial line: cut the answer short), or NAK every command with an
// error code of the test's choosing. It has no global state, so one process can run many.
//
// It follows the frame of MDC 0008 (see drivers/samsungmdc for the sources). Where Samsung
// documents nothing, the simulator makes its own choices, which a real display may not share:
// it ignores frames with a bad checksum or for another display ID; it NAKs an unknown
// command with code 0x01, a value it does not take (volume over 100, an input not fitted, a
// source that can only be reported) with 0x02, and volume, mute and input sets in standby
// with 0x03; it answers the status inquiry in standby too. It does not share code with
// drivers/samsungmdc, so the two check each other.
package mdcsim

import (
	"bufio"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// Config describes a simulated display. The zero value is display ID 0, in standby, volume
// 0, unmuted, on HDMI1, with inputs PC, DVI, HDMI1, HDMI2 and DisplayPort.
type Config struct {
	ID     byte // the display ID it answers to (it obeys 0xFE too, without answering)
	On     bool
	Volume int  // 0–100
	Mute   bool // sound muted at start
	Input  byte // input source code at start; 0 means 0x21 (HDMI1)
	Aspect byte // picture aspect code the status reports; 0 means 0x10
	// Inputs are the input codes the display has; nil means 0x14, 0x18, 0x21, 0x23, 0x25.
	Inputs []byte
	// NoStatus makes the display refuse the status inquiry (NAK 0x01), as some models do.
	NoStatus bool
	// Logger gets debug records; nil discards them.
	Logger *slog.Logger
}

// Mode is how the simulator answers frames.
type Mode int

const (
	// Normal answers as a display does.
	Normal Mode = iota
	// Slow waits the delay set by SetDelay before handling each frame.
	Slow
	// Silent reads frames and never answers them (nor acts on them).
	Silent
	// Garbage answers each frame with random bytes that are not an MDC frame.
	Garbage
	// Drop closes the connection on each frame, without answering. On a serial line, which
	// cannot be closed from the display's end, it sends the first bytes of the answer only.
	Drop
	// DropOnce drops on the next frame, then goes back to Normal.
	DropOnce
)

func (m Mode) String() string {
	switch m {
	case Normal:
		return "normal"
	case Slow:
		return "slow"
	case Silent:
		return "silent"
	case Garbage:
		return "garbage"
	case Drop:
		return "drop"
	case DropOnce:
		return "drop-once"
	}
	return fmt.Sprintf("Mode(%d)", int(m))
}

// State is a snapshot of the simulated display.
type State struct {
	ID     byte
	On     bool
	Volume int
	Mute   bool
	Input  byte
	Aspect byte
	Mode   Mode
	// NAK is the code every frame is refused with, when NAKing is on.
	NAK    byte
	NAKing bool
}

// Sim is a simulated display. Its methods are safe for concurrent use.
type Sim struct {
	cfg Config
	log *slog.Logger

	mu     sync.Mutex // guards the display state below
	on     bool
	volume int
	mute   bool
	input  byte
	aspect byte
	mode   Mode
	delay  time.Duration
	nak    byte
	naking bool

	cmu    sync.Mutex // guards the fields below
	ln     net.Listener
	ptys   []io.Closer            // pty pairs made by ListenPTY
	lines  map[io.Closer]struct{} // open connections and serial lines
	closed bool
	done   chan struct{}
	wg     sync.WaitGroup

	commands    atomic.Int64
	connections atomic.Int64
}

// New returns a simulator for cfg. It panics when cfg.Volume is outside 0–100 (a programming
// error).
func New(cfg Config) *Sim {
	if cfg.Volume < 0 || cfg.Volume > 100 {
		panic(fmt.Sprintf("mdcsim: volume %d: want 0-100", cfg.Volume))
	}
	if cfg.Input == 0 {
		cfg.Input = 0x21
	}
	if cfg.Aspect == 0 {
		cfg.Aspect = 0x10
	}
	if cfg.Inputs == nil {
		cfg.Inputs = []byte{0x14, 0x18, 0x21, 0x23, 0x25}
	}
	cfg.Inputs = append([]byte(nil), cfg.Inputs...)
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return &Sim{
		cfg: cfg, log: log,
		on: cfg.On, volume: cfg.Volume, mute: cfg.Mute, input: cfg.Input, aspect: cfg.Aspect,
		lines: map[io.Closer]struct{}{},
		done:  make(chan struct{}),
	}
}

// Listen starts serving on a TCP address ("127.0.0.1:0" picks a free port) and returns the
// address it listens on.
func (s *Sim) Listen(addr string) (string, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", fmt.Errorf("mdcsim: listen: %w", err)
	}
	s.cmu.Lock()
	if s.closed || s.ln != nil {
		s.cmu.Unlock()
		ln.Close()
		if s.closed {
			return "", errors.New("mdcsim: listen: simulator closed")
		}
		return "", errors.New("mdcsim: listen: already listening")
	}
	s.ln = ln
	s.wg.Add(1)
	s.cmu.Unlock()
	go s.accept(ln)
	return ln.Addr().String(), nil
}

// Addr returns the TCP address Listen listens on, or "" before Listen.
func (s *Sim) Addr() string {
	s.cmu.Lock()
	defer s.cmu.Unlock()
	if s.ln == nil {
		return ""
	}
	return s.ln.Addr().String()
}

// ServeLine serves a serial line the caller opened (a real port, one end of a socat pty
// pair) and returns when it fails or Close closes it.
func (s *Sim) ServeLine(line io.ReadWriteCloser) {
	if !s.track(line) {
		return
	}
	defer s.wg.Done()
	s.serve(line, true)
}

// ServeConn serves one connection that the caller accepted or made (one end of net.Pipe,
// say) and returns when it ends. Close ends it too.
func (s *Sim) ServeConn(c net.Conn) {
	if !s.track(c) {
		return
	}
	defer s.wg.Done()
	s.serve(c, false)
}

func (s *Sim) accept(ln net.Listener) {
	defer s.wg.Done()
	for {
		c, err := ln.Accept()
		if err != nil {
			s.cmu.Lock()
			closed := s.closed
			s.cmu.Unlock()
			if !closed {
				s.log.Debug("mdcsim: accept", "error", err)
			}
			return
		}
		if !s.track(c) {
			return
		}
		go func() {
			defer s.wg.Done()
			s.serve(c, false)
		}()
	}
}

// track registers c and counts one goroutine for it; false when the simulator is closed.
func (s *Sim) track(c io.Closer) bool {
	s.cmu.Lock()
	defer s.cmu.Unlock()
	if s.closed {
		c.Close()
		return false
	}
	s.lines[c] = struct{}{}
	s.wg.Add(1)
	s.connections.Add(1)
	return true
}

// Close stops the listener, closes every connection and pty pair, and waits for their
// goroutines.
func (s *Sim) Close() error {
	s.cmu.Lock()
	if s.closed {
		s.cmu.Unlock()
		return nil
	}
	s.closed = true
	close(s.done)
	var err error
	if s.ln != nil {
		err = s.ln.Close()
	}
	for c := range s.lines {
		c.Close()
	}
	for _, p := range s.ptys {
		p.Close()
	}
	s.cmu.Unlock()
	s.wg.Wait()
	if err != nil {
		return fmt.Errorf("mdcsim: close: %w", err)
	}
	return nil
}

// DropConnections closes every open TCP connection now (serial lines stay).
func (s *Sim) DropConnections() {
	s.cmu.Lock()
	defer s.cmu.Unlock()
	for c := range s.lines {
		if _, ok := c.(net.Conn); ok {
			c.Close()
		}
	}
}

// OpenConnections returns how many connections and serial lines are open now.
func (s *Sim) OpenConnections() int {
	s.cmu.Lock()
	defer s.cmu.Unlock()
	return len(s.lines)
}

// Connections returns how many connections (and serial lines) the simulator has served.
func (s *Sim) Connections() int { return int(s.connections.Load()) }

// Commands returns how many well-formed frames the simulator has received.
func (s *Sim) Commands() int { return int(s.commands.Load()) }

// SetMode sets how the simulator answers from the next frame on.
func (s *Sim) SetMode(m Mode) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mode = m
}

// SetDelay sets the delay of Slow mode.
func (s *Sim) SetDelay(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.delay = d
}

// SetNAK makes the display refuse every frame addressed to it with a NAK carrying code, or
// (on false) stop.
func (s *Sim) SetNAK(on bool, code byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.naking, s.nak = on, code
}

// State returns a snapshot of the display.
func (s *Sim) State() State {
	s.mu.Lock()
	defer s.mu.Unlock()
	return State{ID: s.cfg.ID, On: s.on, Volume: s.volume, Mute: s.mute, Input: s.input, Aspect: s.aspect,
		Mode: s.mode, NAK: s.nak, NAKing: s.naking}
}

const writeTimeout = 5 * time.Second

type writeDeadliner interface{ SetWriteDeadline(time.Time) error }

func (s *Sim) serve(rw io.ReadWriteCloser, serial bool) {
	defer func() {
		rw.Close()
		s.cmu.Lock()
		delete(s.lines, rw)
		s.cmu.Unlock()
	}()
	r := bufio.NewReaderSize(rw, 512)
	for {
		f, err := readFrame(r)
		if err != nil {
			if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
				s.log.Debug("mdcsim: line ends", "error", err)
			}
			return
		}
		if f == nil {
			continue // bad checksum: ignored
		}
		s.commands.Add(1)
		s.mu.Lock()
		mode, delay := s.mode, s.delay
		if mode == DropOnce {
			s.mode = Normal
		}
		s.mu.Unlock()
		switch mode {
		case Silent:
			continue
		case Garbage:
			if !s.write(rw, garbage()) {
				return
			}
			continue
		case Drop, DropOnce:
			if !serial {
				return
			}
			if reply := s.handle(f); len(reply) > 0 {
				if !s.write(rw, reply[:len(reply)/2]) {
					return
				}
			}
			continue
		case Slow:
			t := time.NewTimer(delay)
			select {
			case <-t.C:
			case <-s.done:
				t.Stop()
				return
			}
		}
		if reply := s.handle(f); reply != nil {
			if !s.write(rw, reply) {
				return
			}
		}
	}
}

func (s *Sim) write(w io.Writer, b []byte) bool {
	if d, ok := w.(writeDeadliner); ok {
		d.SetWriteDeadline(time.Now().Add(writeTimeout))
	}
	_, err := w.Write(b)
	return err == nil
}

// garbage returns random bytes that are not an MDC frame: the first is never AA.
func garbage() []byte {
	var n [1]byte
	rand.Read(n[:])
	b := make([]byte, 4+int(n[0])%13)
	rand.Read(b)
	b[0] &= 0x3F
	return b
}
