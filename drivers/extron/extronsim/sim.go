// Package extronsim is an Extron matrix switcher that speaks SIS over real TCP (the Telnet
// port's behaviour: greeting, optional password) and over a serial line (a pty pair), for
// tests, hil-tests and the hub's --demo.
//
// A Sim keeps one switcher's tie table (video and audio, by output), shared by every
// connection, and can be told to misbehave: answer slowly, not at all, with garbage, drop the
// connection (on a serial line: cut the answer short), or answer every command with an
// E-code of the test's choosing. FrontPanelTie changes a tie as a user at the front panel
// does, and sends "Qik" to every open line. It has no global state, so one process can run
// many.
//
// It follows the SIS tables of Extron's matrix switcher guides (see drivers/extron for the
// sources). Where they say nothing, the simulator makes its own choices, which a real
// switcher may not share: it answers an audio command on a video-only model with E14, an
// Esc command or anything else it does not know with E10, takes "Y!" as a query of output
// Y's video tie, and sends the date of the greeting on a line of its own and the password
// prompt without a line end. It does not share code with drivers/extron, so the two check
// each other.
package extronsim

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bailiff/bailiff/drivers"
	"github.com/bailiff/bailiff/drivers/internal/simkit"
)

// Config describes a simulated switcher. The zero value is an 8×4 audio and video matrix
// with nothing tied, no password, numbers padded to 2 digits.
type Config struct {
	Inputs, Outputs int  // 0: 8 and 4
	NoAudio         bool // a video-only model: audio commands answer E14
	// Digits is how many digits numbers are padded to in answers; 0 means 2.
	Digits int
	// Password, when not "", must be given on every TCP connection before any command.
	Password string
	// Model (default "CrossPoint Sim"), Part (default "60-1234-01") and Firmware (default
	// "1.23") are what the greeting, "N" and "Q" report.
	Model, Part, Firmware string
	// Video and Audio are the ties at start, output 1 first; missing outputs are untied.
	Video, Audio []int
	// Logger gets debug records; nil discards them. The password is never logged.
	Logger *slog.Logger
}

// Mode is how the simulator answers commands: Normal, Slow (waits the delay set by SetDelay
// before each command), Silent (reads commands and neither answers nor acts on them),
// Garbage (answers a line of random bytes that is not SIS), Drop (closes the connection on
// each command without answering; on a serial line, which cannot be closed from the
// switcher's end, it sends the first bytes of the answer only) or DropOnce (drops once, then
// back to Normal).
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

// State is a snapshot of the simulated switcher.
type State struct {
	Inputs, Outputs int
	Video, Audio    []int // input tied to each output, output 1 first; Audio nil without audio
	Mode            Mode
	Error           string // the E-code every command is answered with, or ""
}

// Sim is a simulated switcher. Its methods are safe for concurrent use.
type Sim struct {
	cfg Config
	log *slog.Logger

	mu      sync.Mutex // guards the switcher state below
	video   []int
	audio   []int
	errCode string

	*simkit.Server // serving, Close, misbehaviour

	commands atomic.Int64
}

// New returns a simulator for cfg. It panics when cfg is invalid (a tie to an input the
// switcher does not have, more ties than outputs): a programming error.
func New(cfg Config) *Sim {
	if cfg.Inputs == 0 {
		cfg.Inputs = 8
	}
	if cfg.Outputs == 0 {
		cfg.Outputs = 4
	}
	if cfg.Digits == 0 {
		cfg.Digits = 2
	}
	if cfg.Model == "" {
		cfg.Model = "CrossPoint Sim"
	}
	if cfg.Part == "" {
		cfg.Part = "60-1234-01"
	}
	if cfg.Firmware == "" {
		cfg.Firmware = "1.23"
	}
	if cfg.Inputs < 1 || cfg.Outputs < 1 || cfg.Inputs > 999 || cfg.Outputs > 999 || cfg.Digits < 1 || cfg.Digits > 4 {
		panic(fmt.Sprintf("extronsim: size %dx%d, %d digits", cfg.Inputs, cfg.Outputs, cfg.Digits))
	}
	ties := func(start []int) []int {
		t := make([]int, cfg.Outputs)
		if len(start) > cfg.Outputs {
			panic(fmt.Sprintf("extronsim: %d ties for %d outputs", len(start), cfg.Outputs))
		}
		for i, in := range start {
			if in < 0 || in > cfg.Inputs {
				panic(fmt.Sprintf("extronsim: output %d tied to input %d of %d", i+1, in, cfg.Inputs))
			}
			t[i] = in
		}
		return t
	}
	s := &Sim{cfg: cfg, video: ties(cfg.Video)}
	if !cfg.NoAudio {
		s.audio = ties(cfg.Audio)
	}
	s.log = drivers.Logger(cfg.Logger)
	s.Server = simkit.New(simkit.Config{Name: "extronsim", Logger: s.log, OneListener: true})
	return s
}

// Listen starts serving on a TCP address ("127.0.0.1:0" picks a free port) and returns the
// address it listens on.
func (s *Sim) Listen(addr string) (string, error) { return s.ListenTCP(addr, s.serve) }

// ListenPTY makes a new pty pair, serves the switcher's end of it as a serial line (no
// greeting, no password), and returns the address a driver opens, "serial:/dev/pts/N".
// Close closes the pair.
func (s *Sim) ListenPTY() (string, error) { return s.ServePTY(s.serve) }

// ServeConn serves one connection that the caller accepted or made (one end of net.Pipe,
// say), with the greeting and password of a TCP connection, and returns when it ends.
func (s *Sim) ServeConn(c net.Conn) { s.Server.ServeConn(c, s.serve) }

// ServeLine serves a serial line the caller opened (a real port, one end of a socat pty
// pair): no greeting, no password. It returns when the line fails or Close closes it.
func (s *Sim) ServeLine(rw io.ReadWriteCloser) { s.Server.ServeLine(rw, s.serve) }

// Commands returns how many commands the simulator has received (password entries aside).
func (s *Sim) Commands() int { return int(s.commands.Load()) }

// SetError makes the switcher answer every command with code ("E22", busy, say), or with ""
// answer normally again.
func (s *Sim) SetError(code string) error {
	if code != "" && (len(code) != 3 || code[0] != 'E' || code[1] < '0' || code[1] > '9' || code[2] < '0' || code[2] > '9') {
		return fmt.Errorf("extronsim: error code %q: want E and two digits", code)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.errCode = code
	return nil
}

// State returns a snapshot of the switcher.
func (s *Sim) State() State {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := State{Inputs: s.cfg.Inputs, Outputs: s.cfg.Outputs, Video: append([]int(nil), s.video...), Mode: s.Mode(), Error: s.errCode}
	if s.audio != nil {
		st.Audio = append([]int(nil), s.audio...)
	}
	return st
}

// FrontPanelTie ties input in to output out (0: every output) for kind '!', '%' or '$', as
// a user at the front panel does, and sends "Qik" to every open line.
func (s *Sim) FrontPanelTie(in, out int, kind byte) error {
	s.mu.Lock()
	err := s.tie(in, out, kind)
	s.mu.Unlock()
	if err != "" {
		return fmt.Errorf("extronsim: front-panel tie %d*%d%c: %s", in, out, kind, err)
	}
	for _, l := range s.Lines() {
		l.SendString("Qik\r\n")
	}
	return nil
}

// greeting is what a TCP connection gets first.
func (s *Sim) greeting(now time.Time) string {
	return fmt.Sprintf("(c) Copyright %d, Extron Electronics, %s, V%s, %s\r\n%s\r\n",
		now.Year(), s.cfg.Model, s.cfg.Firmware, s.cfg.Part, now.UTC().Format("Mon, 02 Jan 2006 15:04:05"))
}

func (s *Sim) serve(l *simkit.Line) {
	r := bufio.NewReaderSize(l, 512)
	loggedIn := true
	if !l.Serial() {
		msg := s.greeting(time.Now())
		if s.cfg.Password != "" {
			msg += "Password:"
			loggedIn = false
		}
		if !l.SendString(msg) {
			return
		}
	}
	var p parser
	var entry []byte
	for {
		c, err := r.ReadByte()
		if err != nil {
			if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
				s.log.Debug("extronsim: line ends", "error", err)
			}
			return
		}
		if !loggedIn {
			switch {
			case c == '\r' || c == '\n':
				if len(entry) == 0 {
					continue
				}
				ok := string(entry) == s.cfg.Password
				entry = entry[:0]
				msg := "\r\nPassword:"
				if ok {
					msg, loggedIn = "\r\nLogin Administrator\r\n", true
				}
				if !l.SendString(msg) {
					return
				}
			case len(entry) < 128:
				entry = append(entry, c)
			}
			continue
		}
		cmd, done := p.feed(c)
		if !done {
			continue
		}
		if !s.command(l, cmd) {
			return
		}
	}
}

// command answers one command, in the current mode; false ends the line.
func (s *Sim) command(l *simkit.Line, cmd string) bool {
	s.commands.Add(1)
	mode, ok := l.Admit()
	if !ok {
		return false
	}
	switch mode {
	case Silent:
		return true
	case Garbage:
		return l.SendString(garbage())
	case Drop, DropOnce:
		if !l.Serial() {
			return false
		}
		ans := s.handle(cmd)
		return l.SendString(ans[:len(ans)/2])
	}
	return l.SendString(s.handle(cmd))
}

// garbage returns a line of random bytes that is not SIS: a control byte first.
func garbage() string {
	b := simkit.RandomBytes(4, 23)
	b[0] = 1 + b[0]%8 // 0x01-0x08: never CR or LF
	for i := 1; i < len(b); i++ {
		if b[i] == '\r' || b[i] == '\n' {
			b[i] = 'x'
		}
	}
	return string(b) + "\r\n"
}
