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

// Mode is how the simulator answers commands.
type Mode int

const (
	// Normal answers as a switcher does.
	Normal Mode = iota
	// Slow waits the delay set by SetDelay before handling each command.
	Slow
	// Silent reads commands and never answers them (nor acts on them).
	Silent
	// Garbage answers each command with a line of random bytes that is not SIS.
	Garbage
	// Drop closes the connection on each command, without answering. On a serial line, which
	// cannot be closed from the switcher's end, it sends the first bytes of the answer only.
	Drop
	// DropOnce drops on the next command, then goes back to Normal.
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

// State is a snapshot of the simulated switcher.
type State struct {
	Inputs, Outputs int
	Video, Audio    []int // input tied to each output, output 1 first; Audio nil without audio
	Mode            Mode
	Error           string // the E-code every command is answered with, or ""
}

// line is one connection or serial line.
type line struct {
	rw     io.ReadWriteCloser
	serial bool
	wmu    sync.Mutex // orders answers and front-panel messages
}

// Sim is a simulated switcher. Its methods are safe for concurrent use.
type Sim struct {
	cfg Config
	log *slog.Logger

	mu      sync.Mutex // guards the switcher state below
	video   []int
	audio   []int
	mode    Mode
	delay   time.Duration
	errCode string

	cmu    sync.Mutex // guards the fields below
	ln     net.Listener
	ptys   []io.Closer
	lines  map[*line]struct{}
	closed bool
	done   chan struct{}
	wg     sync.WaitGroup

	commands    atomic.Int64
	connections atomic.Int64
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
	s := &Sim{cfg: cfg, video: ties(cfg.Video), lines: map[*line]struct{}{}, done: make(chan struct{})}
	if !cfg.NoAudio {
		s.audio = ties(cfg.Audio)
	}
	s.log = cfg.Logger
	if s.log == nil {
		s.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return s
}

// Listen starts serving on a TCP address ("127.0.0.1:0" picks a free port) and returns the
// address it listens on.
func (s *Sim) Listen(addr string) (string, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", fmt.Errorf("extronsim: listen: %w", err)
	}
	s.cmu.Lock()
	if s.closed || s.ln != nil {
		s.cmu.Unlock()
		ln.Close()
		if s.closed {
			return "", errors.New("extronsim: listen: simulator closed")
		}
		return "", errors.New("extronsim: listen: already listening")
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

func (s *Sim) accept(ln net.Listener) {
	defer s.wg.Done()
	for {
		c, err := ln.Accept()
		if err != nil {
			s.cmu.Lock()
			closed := s.closed
			s.cmu.Unlock()
			if !closed {
				s.log.Debug("extronsim: accept", "error", err)
			}
			return
		}
		l := &line{rw: c}
		if !s.track(l) {
			return
		}
		go func() {
			defer s.wg.Done()
			s.serve(l)
		}()
	}
}

// ServeConn serves one connection that the caller accepted or made (one end of net.Pipe,
// say), with the greeting and password of a TCP connection, and returns when it ends.
func (s *Sim) ServeConn(c net.Conn) {
	l := &line{rw: c}
	if !s.track(l) {
		return
	}
	defer s.wg.Done()
	s.serve(l)
}

// ServeLine serves a serial line the caller opened (a real port, one end of a socat pty
// pair): no greeting, no password. It returns when the line fails or Close closes it.
func (s *Sim) ServeLine(rw io.ReadWriteCloser) {
	l := &line{rw: rw, serial: true}
	if !s.track(l) {
		return
	}
	defer s.wg.Done()
	s.serve(l)
}

// track registers l and counts one goroutine for it; false when the simulator is closed.
func (s *Sim) track(l *line) bool {
	s.cmu.Lock()
	defer s.cmu.Unlock()
	if s.closed {
		l.rw.Close()
		return false
	}
	s.lines[l] = struct{}{}
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
	for l := range s.lines {
		l.rw.Close()
	}
	for _, p := range s.ptys {
		p.Close()
	}
	s.cmu.Unlock()
	s.wg.Wait()
	if err != nil {
		return fmt.Errorf("extronsim: close: %w", err)
	}
	return nil
}

// DropConnections closes every open TCP connection now (serial lines stay).
func (s *Sim) DropConnections() {
	s.cmu.Lock()
	defer s.cmu.Unlock()
	for l := range s.lines {
		if !l.serial {
			l.rw.Close()
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

// Commands returns how many commands the simulator has received (password entries aside).
func (s *Sim) Commands() int { return int(s.commands.Load()) }

// SetMode sets how the simulator answers from the next command on.
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
	st := State{Inputs: s.cfg.Inputs, Outputs: s.cfg.Outputs, Video: append([]int(nil), s.video...), Mode: s.mode, Error: s.errCode}
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
	s.cmu.Lock()
	lines := make([]*line, 0, len(s.lines))
	for l := range s.lines {
		lines = append(lines, l)
	}
	s.cmu.Unlock()
	for _, l := range lines {
		s.write(l, "Qik\r\n")
	}
	return nil
}

const writeTimeout = 5 * time.Second

type writeDeadliner interface{ SetWriteDeadline(time.Time) error }

func (s *Sim) write(l *line, msg string) bool {
	l.wmu.Lock()
	defer l.wmu.Unlock()
	if d, ok := l.rw.(writeDeadliner); ok {
		d.SetWriteDeadline(time.Now().Add(writeTimeout))
	}
	_, err := io.WriteString(l.rw, msg)
	return err == nil
}

// greeting is what a TCP connection gets first.
func (s *Sim) greeting(now time.Time) string {
	return fmt.Sprintf("(c) Copyright %d, Extron Electronics, %s, V%s, %s\r\n%s\r\n",
		now.Year(), s.cfg.Model, s.cfg.Firmware, s.cfg.Part, now.UTC().Format("Mon, 02 Jan 2006 15:04:05"))
}

func (s *Sim) serve(l *line) {
	defer func() {
		l.rw.Close()
		s.cmu.Lock()
		delete(s.lines, l)
		s.cmu.Unlock()
	}()
	r := bufio.NewReaderSize(l.rw, 512)
	loggedIn := true
	if !l.serial {
		msg := s.greeting(time.Now())
		if s.cfg.Password != "" {
			msg += "Password:"
			loggedIn = false
		}
		if !s.write(l, msg) {
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
				if !s.write(l, msg) {
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
func (s *Sim) command(l *line, cmd string) bool {
	s.commands.Add(1)
	s.mu.Lock()
	mode, delay := s.mode, s.delay
	if mode == DropOnce {
		s.mode = Normal
	}
	s.mu.Unlock()
	switch mode {
	case Silent:
		return true
	case Garbage:
		return s.write(l, garbage())
	case Drop, DropOnce:
		if !l.serial {
			return false
		}
		ans := s.handle(cmd)
		return s.write(l, ans[:len(ans)/2])
	case Slow:
		t := time.NewTimer(delay)
		select {
		case <-t.C:
		case <-s.done:
			t.Stop()
			return false
		}
	}
	return s.write(l, s.handle(cmd))
}

// garbage returns a line of random bytes that is not SIS: a control byte first.
func garbage() string {
	var n [1]byte
	rand.Read(n[:])
	b := make([]byte, 4+int(n[0])%20)
	rand.Read(b)
	b[0] = 1 + b[0]%8 // 0x01-0x08: never CR or LF
	for i := 1; i < len(b); i++ {
		if b[i] == '\r' || b[i] == '\n' {
			b[i] = 'x'
		}
	}
	return string(b) + "\r\n"
}
