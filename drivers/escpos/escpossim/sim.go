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
	"io"
	"log/slog"
	"net"
	"os"
	"sync"
	"sync/atomic"

	"github.com/bailiff/bailiff/drivers"
	"github.com/bailiff/bailiff/drivers/internal/simkit"
)

// Config describes a simulated printer. The zero value is a ready printer.
type Config struct {
	// PaperOut, NearEnd, CoverOpen set the printer's state at start.
	PaperOut, NearEnd, CoverOpen bool
	// Logger gets debug records; nil discards them.
	Logger *slog.Logger
}

// Mode is how the simulator answers: Normal, Slow (waits the delay set by SetDelay before
// handling what it receives), Silent (reads and drops everything: no printing, no status
// answers, a hung printer), Garbage (prints as usual but answers each status request with a
// byte that is not a status byte: its fixed bits are wrong), Drop (closes the connection
// when it receives anything, without acting on it; on a serial line, where nothing can be
// closed, it drops the bytes as Silent does) or DropOnce (drops once, then back to Normal).
type Mode = simkit.Mode

// The modes.
const (
	Normal   = simkit.Normal
	Slow     = simkit.Slow
	Silent   = simkit.Silent
	Garbage  = simkit.Garbage
	Drop     = simkit.Drop
	DropOnce = simkit.DropOnce
)

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
	parser   Parser
	received int64
	ptyAddr  string // the pty pair of ServePTY

	*simkit.Server // serving, Close, misbehaviour

	statuses atomic.Int64
}

// New returns a simulated printer.
func New(cfg Config) *Sim {
	log := drivers.Logger(cfg.Logger)
	s := &Sim{log: log, Server: simkit.New(simkit.Config{Name: "escpossim", Logger: log, OneListener: true, ConnectionsOnly: true})}
	s.st = State{PaperOut: cfg.PaperOut, NearEnd: cfg.NearEnd, CoverOpen: cfg.CoverOpen}
	s.parser.Status = s.status
	s.parser.Offline = s.offline
	return s
}

// Listen starts serving on a TCP address ("127.0.0.1:0" picks a free port) and returns the
// address it listens on.
func (s *Sim) Listen(addr string) (string, error) { return s.ListenTCP(addr, s.serve) }

// ServePTY opens a pty pair, serves its device end and returns the address a driver opens,
// "serial:/dev/pts/N". The pair stays open until Close, so the driver may close and reopen
// its end.
func (s *Sim) ServePTY() (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ptyAddr != "" {
		return "", errors.New("escpossim: pty: already serving one")
	}
	addr, err := s.Server.ServePTY(s.serve)
	s.ptyAddr = addr
	return addr, err
}

// Address returns the serial address of ServePTY, else the TCP address of Listen.
func (s *Sim) Address() string {
	s.mu.Lock()
	p := s.ptyAddr
	s.mu.Unlock()
	if p != "" {
		return p
	}
	return s.Addr()
}

// ServeConn serves one connection the caller made (one end of net.Pipe, say) and returns
// when it ends.
func (s *Sim) ServeConn(c net.Conn) { s.Server.ServeConn(c, s.serve) }

// StatusRequests returns how many DLE EOT requests it has answered.
func (s *Sim) StatusRequests() int { return int(s.statuses.Load()) }

// Received returns how many bytes it has received.
func (s *Sim) Received() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.received
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
	if s.Mode() == Garbage {
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

// serve reads what l sends and answers. A serial line is never closed: it cannot be closed
// without pulling the cable for good.
func (s *Sim) serve(l *simkit.Line) {
	defer func() {
		s.mu.Lock()
		s.parser.DropPartial()
		s.mu.Unlock()
	}()
	buf := make([]byte, 4096)
	for {
		n, err := l.Read(buf)
		if err != nil {
			if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) && !errors.Is(err, os.ErrClosed) {
				s.log.Debug("escpossim: connection ends", "error", err)
			}
			return
		}
		s.mu.Lock()
		s.received += int64(n)
		s.mu.Unlock()
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
		}
		s.mu.Lock()
		answer := s.parser.Write(buf[:n])
		s.mu.Unlock()
		if len(answer) > 0 && !l.Send(answer) {
			return
		}
	}
}
