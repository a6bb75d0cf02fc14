// Package escpossim is an ESC/POS ticket printer on real TCP (a raw port like 9100) or on a
// serial line (a pty pair), for tests, hil-tests and the hub's --demo.
//
// A Sim parses the ESC/POS byte stream it receives (see Parser), keeps the tickets it
// printed (text lines with their style, QR code payloads, cuts) for tests to read, and
// answers real-time status requests (DLE EOT 1-4) from its state: paper out or near its
// end, cover open, autocutter / unrecoverable / auto-recoverable errors. While the paper is
// out, the cover open or an error set, it prints nothing (what it receives is parsed and
// dropped) but still answers status requests, as a real printer does. It can be told to
// misbehave: answer slowly, not at all, with garbage, or drop the connection.
//
// It follows Epson's ESC/POS command reference (see drivers/escpos) and does not share
// code with drivers/escpos, so the two check each other.
package escpossim

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bailiff/bailiff/drivers/transport"
)

// Config describes a simulated printer. The zero value is a ready printer.
type Config struct {
	// PaperOut, NearEnd, CoverOpen set the printer's state at start.
	PaperOut, NearEnd, CoverOpen bool
	// Logger gets debug records; nil discards them.
	Logger *slog.Logger
}

// Mode is how the simulator answers.
type Mode int

const (
	// Normal answers as a printer does.
	Normal Mode = iota
	// Slow waits the delay set by SetDelay before handling what it receives.
	Slow
	// Silent reads and drops everything: no printing, no status answers (a hung printer).
	Silent
	// Garbage prints as usual but answers each status request with a byte that is not a
	// status byte (its fixed bits are wrong).
	Garbage
	// Drop closes the connection when it receives anything, without acting on it. On a
	// serial line, where nothing can be closed, it drops the bytes as Silent does.
	Drop
	// DropOnce drops once, then goes back to Normal.
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

// State is the printer's state.
type State struct {
	PaperOut, NearEnd, CoverOpen bool
	Cutter, Fatal, Recover       bool // autocutter, unrecoverable, auto-recoverable errors
}

// Sim is a simulated ESC/POS printer. Its methods are safe for concurrent use.
type Sim struct {
	log *slog.Logger

	mu       sync.Mutex // guards the fields below
	st       State
	mode     Mode
	delay    time.Duration
	parser   Parser
	received int64

	cmu    sync.Mutex // guards the fields below
	ln     net.Listener
	conns  map[io.Closer]struct{}
	pty    *transport.PTY
	ptyEnd *os.File
	closed bool
	done   chan struct{}
	wg     sync.WaitGroup

	connections atomic.Int64
	statuses    atomic.Int64
}

// New returns a simulated printer.
func New(cfg Config) *Sim {
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	s := &Sim{log: log, conns: map[io.Closer]struct{}{}, done: make(chan struct{})}
	s.st = State{PaperOut: cfg.PaperOut, NearEnd: cfg.NearEnd, CoverOpen: cfg.CoverOpen}
	s.parser.Status = s.status
	s.parser.Offline = s.offline
	return s
}

// Listen starts serving on a TCP address ("127.0.0.1:0" picks a free port) and returns the
// address it listens on.
func (s *Sim) Listen(addr string) (string, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", fmt.Errorf("escpossim: listen: %w", err)
	}
	s.cmu.Lock()
	if s.closed || s.ln != nil {
		s.cmu.Unlock()
		ln.Close()
		return "", errors.New("escpossim: listen: closed or already listening")
	}
	s.ln = ln
	s.wg.Add(1)
	s.cmu.Unlock()
	go s.accept(ln)
	return ln.Addr().String(), nil
}

// ServePTY opens a pty pair, serves its device end and returns the address a driver opens,
// "serial:/dev/pts/N". The pair stays open until Close, so the driver may close and reopen
// its end.
func (s *Sim) ServePTY() (string, error) {
	p, err := transport.OpenPTY()
	if err != nil {
		return "", fmt.Errorf("escpossim: %w", err)
	}
	// Serve the pollable duplicate of the device end, so that Close interrupts a Read.
	f, err := p.Pollable()
	if err != nil {
		p.Close()
		return "", fmt.Errorf("escpossim: %w", err)
	}
	s.cmu.Lock()
	if s.closed || s.pty != nil {
		s.cmu.Unlock()
		f.Close()
		p.Close()
		return "", errors.New("escpossim: pty: closed or already serving one")
	}
	s.pty, s.ptyEnd = p, f
	s.conns[f] = struct{}{}
	s.wg.Add(1)
	s.cmu.Unlock()
	go func() {
		defer s.wg.Done()
		s.serve(f, false)
	}()
	return p.Address(), nil
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

// Address returns the serial address of ServePTY, else the TCP address of Listen.
func (s *Sim) Address() string {
	s.cmu.Lock()
	defer s.cmu.Unlock()
	if s.pty != nil {
		return s.pty.Address()
	}
	if s.ln != nil {
		return s.ln.Addr().String()
	}
	return ""
}

func (s *Sim) accept(ln net.Listener) {
	defer s.wg.Done()
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		s.cmu.Lock()
		if s.closed {
			s.cmu.Unlock()
			c.Close()
			return
		}
		s.conns[c] = struct{}{}
		s.wg.Add(1)
		s.cmu.Unlock()
		s.connections.Add(1)
		go func() {
			defer s.wg.Done()
			s.serve(c, true)
		}()
	}
}

// ServeConn serves one connection the caller made (one end of net.Pipe, say) and returns
// when it ends.
func (s *Sim) ServeConn(c net.Conn) {
	s.cmu.Lock()
	if s.closed {
		s.cmu.Unlock()
		c.Close()
		return
	}
	s.conns[c] = struct{}{}
	s.wg.Add(1)
	s.cmu.Unlock()
	s.connections.Add(1)
	defer s.wg.Done()
	s.serve(c, true)
}

// Close stops serving, closes every connection and the pty pair, and waits.
func (s *Sim) Close() error {
	s.cmu.Lock()
	if s.closed {
		s.cmu.Unlock()
		return nil
	}
	s.closed = true
	close(s.done)
	if s.ln != nil {
		s.ln.Close()
	}
	for c := range s.conns {
		c.Close()
	}
	p := s.pty
	s.cmu.Unlock()
	s.wg.Wait()
	if p != nil {
		p.Close()
	}
	return nil
}

// DropConnections closes every open TCP connection now.
func (s *Sim) DropConnections() {
	s.cmu.Lock()
	defer s.cmu.Unlock()
	for c := range s.conns {
		if c != s.ptyEnd {
			c.Close()
		}
	}
}

// OpenConnections returns how many TCP connections are open now.
func (s *Sim) OpenConnections() int {
	s.cmu.Lock()
	defer s.cmu.Unlock()
	n := len(s.conns)
	if s.ptyEnd != nil {
		n--
	}
	return n
}

// Connections returns how many TCP connections the simulator has accepted.
func (s *Sim) Connections() int { return int(s.connections.Load()) }

// StatusRequests returns how many DLE EOT requests it has answered.
func (s *Sim) StatusRequests() int { return int(s.statuses.Load()) }

// Received returns how many bytes it has received.
func (s *Sim) Received() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.received
}

// SetMode sets how the simulator answers from what it receives next on.
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

// SetState sets paper, cover and errors.
func (s *Sim) SetState(st State) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.st = st
}

// SetPaperOut, SetNearEnd and SetCoverOpen change one part of the state.
func (s *Sim) SetPaperOut(on bool)  { s.update(func(st *State) { st.PaperOut = on }) }
func (s *Sim) SetNearEnd(on bool)   { s.update(func(st *State) { st.NearEnd = on }) }
func (s *Sim) SetCoverOpen(on bool) { s.update(func(st *State) { st.CoverOpen = on }) }

func (s *Sim) update(f func(*State)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f(&s.st)
}

// State returns the printer's state.
func (s *Sim) State() State {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.st
}

// Tickets returns the tickets printed and cut so far, oldest first.
func (s *Sim) Tickets() []Ticket {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.parser.Tickets()
}

// Pending returns what was printed since the last cut.
func (s *Sim) Pending() Ticket {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.parser.Pending()
}

// Unknown returns how many commands the parser did not know.
func (s *Sim) Unknown() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.parser.Unknown()
}

// Status bits (Epson ESC/POS reference, DLE EOT).
const (
	fixed = 0x12 // bits 1 and 4 are always 1
)

// status answers DLE EOT n. s.mu is held (the parser runs under it).
func (s *Sim) status(n byte) byte {
	s.statuses.Add(1)
	st := s.st
	anyErr := st.Cutter || st.Fatal || st.Recover
	b := byte(fixed)
	switch n {
	case 1:
		if st.PaperOut || st.CoverOpen || anyErr {
			b |= 0x08
		}
	case 2:
		if st.CoverOpen {
			b |= 0x04
		}
		if st.PaperOut {
			b |= 0x20
		}
		if anyErr {
			b |= 0x40
		}
	case 3:
		if st.Cutter {
			b |= 0x08
		}
		if st.Fatal {
			b |= 0x20
		}
		if st.Recover {
			b |= 0x40
		}
	case 4:
		if st.NearEnd {
			b |= 0x0C
		}
		if st.PaperOut {
			b |= 0x60
		}
	}
	if s.mode == Garbage {
		var r [1]byte
		rand.Read(r[:])
		b = r[0] | 0x01 // bit 0 is never set in a status byte
	}
	return b
}

// offline reports whether the printer prints nothing now. s.mu is held.
func (s *Sim) offline() bool {
	st := s.st
	return st.PaperOut || st.CoverOpen || st.Cutter || st.Fatal || st.Recover
}

const writeTimeout = 5 * time.Second

// serve reads what c sends and answers. canDrop is false for the pty, which cannot be
// closed without pulling the cable for good.
func (s *Sim) serve(c io.ReadWriteCloser, canDrop bool) {
	defer func() {
		c.Close()
		s.cmu.Lock()
		delete(s.conns, c)
		s.cmu.Unlock()
		s.mu.Lock()
		s.parser.DropPartial()
		s.mu.Unlock()
	}()
	buf := make([]byte, 4096)
	for {
		n, err := c.Read(buf)
		if err != nil {
			if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) && !errors.Is(err, os.ErrClosed) {
				s.log.Debug("escpossim: connection ends", "error", err)
			}
			return
		}
		s.mu.Lock()
		s.received += int64(n)
		mode, delay := s.mode, s.delay
		if mode == DropOnce {
			s.mode = Normal
		}
		s.mu.Unlock()
		switch mode {
		case Silent:
			continue
		case Drop, DropOnce:
			if canDrop {
				return
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
		s.mu.Lock()
		answer := s.parser.Write(buf[:n])
		s.mu.Unlock()
		if len(answer) > 0 {
			if nc, ok := c.(net.Conn); ok {
				nc.SetWriteDeadline(time.Now().Add(writeTimeout))
			}
			if _, err := c.Write(answer); err != nil {
				return
			}
		}
	}
}
