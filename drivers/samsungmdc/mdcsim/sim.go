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
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"

	"github.com/bailiff/bailiff/drivers"
	"github.com/bailiff/bailiff/drivers/internal/simkit"
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

// Mode is how the simulator answers frames: Normal, Slow (waits the delay set by SetDelay
// before each frame), Silent (reads frames and neither answers nor acts on them), Garbage
// (answers random bytes that are not an MDC frame), Drop (closes the connection on each
// frame without answering; on a serial line, which cannot be closed from the display's end,
// it sends the first bytes of the answer only) or DropOnce (drops once, then back to Normal).
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
	nak    byte
	naking bool

	*simkit.Server // serving, Close, misbehaviour

	commands atomic.Int64
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
	log := drivers.Logger(cfg.Logger)
	return &Sim{
		cfg: cfg, log: log,
		on: cfg.On, volume: cfg.Volume, mute: cfg.Mute, input: cfg.Input, aspect: cfg.Aspect,
		Server: simkit.New(simkit.Config{Name: "mdcsim", Logger: log, OneListener: true}),
	}
}

// Listen starts serving on a TCP address ("127.0.0.1:0" picks a free port) and returns the
// address it listens on.
func (s *Sim) Listen(addr string) (string, error) { return s.ListenTCP(addr, s.serve) }

// ListenPTY makes a new pty pair, serves the display's end of it, and returns the address a
// driver opens, "serial:/dev/pts/N". Close closes the pair.
func (s *Sim) ListenPTY() (string, error) { return s.ServePTY(s.serve) }

// ServeLine serves a serial line the caller opened (a real port, one end of a socat pty
// pair) and returns when it fails or Close closes it.
func (s *Sim) ServeLine(line io.ReadWriteCloser) { s.Server.ServeLine(line, s.serve) }

// ServeConn serves one connection that the caller accepted or made (one end of net.Pipe,
// say) and returns when it ends. Close ends it too.
func (s *Sim) ServeConn(c net.Conn) { s.Server.ServeConn(c, s.serve) }

// Commands returns how many well-formed frames the simulator has received.
func (s *Sim) Commands() int { return int(s.commands.Load()) }

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
		Mode: s.Mode(), NAK: s.nak, NAKing: s.naking}
}

func (s *Sim) serve(l *simkit.Line) {
	r := bufio.NewReaderSize(l, 512)
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
		mode, ok := l.Admit()
		if !ok {
			return
		}
		switch mode {
		case Silent:
			continue
		case Garbage:
			if !l.Send(garbage()) {
				return
			}
			continue
		case Drop, DropOnce:
			if !l.Serial() {
				return
			}
			if reply := s.handle(f); len(reply) > 0 {
				if !l.Send(reply[:len(reply)/2]) {
					return
				}
			}
			continue
		}
		if reply := s.handle(f); reply != nil {
			if !l.Send(reply) {
				return
			}
		}
	}
}

// garbage returns random bytes that are not an MDC frame: the first is never AA.
func garbage() []byte {
	b := simkit.RandomBytes(4, 16)
	b[0] &= 0x3F
	return b
}
