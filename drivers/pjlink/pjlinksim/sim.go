// Package pjlinksim is a projector that speaks PJLink class 1 over real TCP, for tests,
// hil-tests and the hub's --demo.
//
// A Sim keeps a projector's state (power with warm-up and cool-down, input, video and audio
// mute, lamp hours, error status) shared by every connection, and can be told to misbehave:
// answer slowly, not at all, with garbage, drop the connection, or answer ERR4. It has no
// global state, so one process can run many.
//
// It follows the JBMIA PJLink Specifications, class 1, version 1.04: §2 command format, §4
// command descriptions, §5 authentication. It does not share code with drivers/pjlink, so the
// two check each other.
package pjlinksim

import (
	"bufio"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// Config describes a simulated projector. The zero value is a projector without password
// that switches on and off at once, with inputs 11, 31 and 32.
type Config struct {
	// Password, when not "", turns on authentication (spec §5.1).
	Password string
	// WarmUp and CoolDown are how long POWR? answers 3 (warming) after POWR 1 and
	// 2 (cooling) after POWR 0.
	WarmUp, CoolDown time.Duration
	// Inputs are the installed inputs (INST?), class 1 codes "11"…"59". Default 11, 31, 32.
	Inputs []string
	// Input is the input selected at start; default Inputs[0].
	Input string
	// On starts the projector powered on.
	On bool
	// LampHours is the lamp's running time at start.
	LampHours int
	// LampHourEvery is how much lit time counts as one lamp hour; default one hour. Tests
	// and demos shorten it.
	LampHourEvery time.Duration
	// Lamps is the number of lamps, 1-8 (each reports the same hours); default 1.
	Lamps int
	// Name (NAME?), Manufacturer (INF1?, default "Bailiff"), Model (INF2?, default
	// "PJLinkSim") and Info (INFO?).
	Name, Manufacturer, Model, Info string
	// IdleTimeout closes a connection that sends nothing for that long, as real projectors
	// do after about 30 s (spec §5.4). Zero never closes one.
	IdleTimeout time.Duration
	// Logger gets debug records; nil discards them. The password is never logged.
	Logger *slog.Logger
}

// Mode is how the simulator answers commands.
type Mode int

const (
	// Normal answers as a projector does.
	Normal Mode = iota
	// Slow waits the delay set by SetDelay before handling each command.
	Slow
	// Silent reads commands and never answers them (nor acts on them).
	Silent
	// Garbage answers each command with random bytes that are not PJLink.
	Garbage
	// Drop closes the connection on each command, without answering.
	Drop
	// DropOnce closes the connection on the next command, then goes back to Normal.
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

// Power is the power state as POWR? reports it.
type Power int

// Power states, numbered as in POWR? answers (spec §4.2).
const (
	PowerOff     Power = 0
	PowerOn      Power = 1
	PowerCooling Power = 2
	PowerWarming Power = 3
)

func (p Power) String() string {
	switch p {
	case PowerOff:
		return "off"
	case PowerOn:
		return "on"
	case PowerCooling:
		return "cooling"
	case PowerWarming:
		return "warming"
	}
	return fmt.Sprintf("Power(%d)", int(p))
}

// State is a snapshot of the simulated projector.
type State struct {
	Power     Power
	Input     string
	VideoMute bool
	AudioMute bool
	LampHours int
	LampOn    bool
	ERST      string
	Failure   bool
	Mode      Mode
}

// Sim is a simulated PJLink projector. Its methods are safe for concurrent use.
type Sim struct {
	cfg Config
	log *slog.Logger

	mu      sync.Mutex // guards the projector state below
	power   Power
	until   time.Time // end of warming or cooling
	input   string
	vmute   bool
	amute   bool
	lit     time.Duration // lamp time accumulated before litSince
	litOn   bool
	litFrom time.Time
	erst    string
	failure bool
	mode    Mode
	delay   time.Duration

	cmu    sync.Mutex // guards the fields below
	ln     net.Listener
	conns  map[net.Conn]struct{}
	closed bool
	done   chan struct{}
	wg     sync.WaitGroup

	commands    atomic.Int64
	connections atomic.Int64
}

// New returns a simulator for cfg. It panics when cfg is invalid (an input that is not a
// class 1 code, more than 8 lamps): a programming error.
func New(cfg Config) *Sim {
	if cfg.Inputs == nil {
		cfg.Inputs = []string{"11", "31", "32"}
	}
	cfg.Inputs = append([]string(nil), cfg.Inputs...)
	for _, in := range cfg.Inputs {
		if !validInput(in) {
			panic(fmt.Sprintf("pjlinksim: input %q is not a class 1 input code", in))
		}
	}
	if cfg.Input == "" && len(cfg.Inputs) > 0 {
		cfg.Input = cfg.Inputs[0]
	}
	if cfg.LampHourEvery <= 0 {
		cfg.LampHourEvery = time.Hour
	}
	if cfg.Lamps == 0 {
		cfg.Lamps = 1
	}
	if cfg.Lamps < 1 || cfg.Lamps > 8 {
		panic(fmt.Sprintf("pjlinksim: %d lamps: want 1-8", cfg.Lamps))
	}
	if cfg.Manufacturer == "" {
		cfg.Manufacturer = "Bailiff"
	}
	if cfg.Model == "" {
		cfg.Model = "PJLinkSim"
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	s := &Sim{
		cfg:   cfg,
		log:   log,
		input: cfg.Input,
		erst:  "000000",
		conns: map[net.Conn]struct{}{},
		done:  make(chan struct{}),
	}
	if cfg.On {
		s.power = PowerOn
		s.litOn, s.litFrom = true, time.Now()
	}
	return s
}

// Listen starts serving on a TCP address ("127.0.0.1:0" picks a free port) and returns the
// address it listens on.
func (s *Sim) Listen(addr string) (string, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", fmt.Errorf("pjlinksim: listen: %w", err)
	}
	s.cmu.Lock()
	if s.closed || s.ln != nil {
		s.cmu.Unlock()
		ln.Close()
		if s.closed {
			return "", errors.New("pjlinksim: listen: simulator closed")
		}
		return "", errors.New("pjlinksim: listen: already listening")
	}
	s.ln = ln
	s.wg.Add(1)
	s.cmu.Unlock()
	go s.accept(ln)
	return ln.Addr().String(), nil
}

// Addr returns the address Listen listens on, or "" before Listen.
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
				s.log.Debug("pjlinksim: accept", "error", err)
			}
			return
		}
		if !s.track(c) {
			return
		}
		go func() {
			defer s.wg.Done()
			s.serve(c)
		}()
	}
}

// track registers c and counts one goroutine for it; false when the simulator is closed.
func (s *Sim) track(c net.Conn) bool {
	s.cmu.Lock()
	defer s.cmu.Unlock()
	if s.closed {
		c.Close()
		return false
	}
	s.conns[c] = struct{}{}
	s.wg.Add(1)
	s.connections.Add(1)
	return true
}

// ServeConn serves one connection that the caller accepted or made (one end of net.Pipe,
// say) and returns when it ends. Close ends it too.
func (s *Sim) ServeConn(c net.Conn) {
	if !s.track(c) {
		return
	}
	defer s.wg.Done()
	s.serve(c)
}

// Close stops the listener, closes every connection and waits for their goroutines.
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
	for c := range s.conns {
		c.Close()
	}
	s.cmu.Unlock()
	s.wg.Wait()
	if err != nil {
		return fmt.Errorf("pjlinksim: close: %w", err)
	}
	return nil
}

// DropConnections closes every open connection now, as a projector does with idle ones.
func (s *Sim) DropConnections() {
	s.cmu.Lock()
	defer s.cmu.Unlock()
	for c := range s.conns {
		c.Close()
	}
}

// OpenConnections returns how many connections are open now.
func (s *Sim) OpenConnections() int {
	s.cmu.Lock()
	defer s.cmu.Unlock()
	return len(s.conns)
}

// Connections returns how many connections the simulator has accepted.
func (s *Sim) Connections() int { return int(s.connections.Load()) }

// Commands returns how many command lines the simulator has received.
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

// SetFailure makes the simulator answer ERR4 (projector failure) to every command, or stop.
func (s *Sim) SetFailure(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failure = on
}

// SetERST sets the error status ERST? answers: six digits 0 (ok), 1 (warning), 2 (error)
// for fan, lamp, temperature, cover, filter and other.
func (s *Sim) SetERST(erst string) error {
	if len(erst) != 6 {
		return fmt.Errorf("pjlinksim: ERST %q: want 6 digits", erst)
	}
	for i := 0; i < 6; i++ {
		if erst[i] < '0' || erst[i] > '2' {
			return fmt.Errorf("pjlinksim: ERST %q: want digits 0, 1 or 2", erst)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.erst = erst
	return nil
}

// State returns a snapshot of the projector.
func (s *Sim) State() State {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	s.advance(now)
	return State{
		Power:     s.power,
		Input:     s.input,
		VideoMute: s.vmute,
		AudioMute: s.amute,
		LampHours: s.lampHours(now),
		LampOn:    s.litOn,
		ERST:      s.erst,
		Failure:   s.failure,
		Mode:      s.mode,
	}
}

// maxRequest is the longest request line accepted: a command line (136 bytes, spec §2.1)
// with the authentication digest in front.
const maxRequest = 136 + 32

const writeTimeout = 5 * time.Second

func (s *Sim) serve(c net.Conn) {
	defer func() {
		c.Close()
		s.cmu.Lock()
		delete(s.conns, c)
		s.cmu.Unlock()
	}()
	random := ""
	greeting := "PJLINK 0\r"
	if s.cfg.Password != "" {
		var b [4]byte
		rand.Read(b[:])
		random = hex.EncodeToString(b[:])
		greeting = "PJLINK 1 " + random + "\r"
	}
	if !s.write(c, greeting) {
		return
	}
	authed := s.cfg.Password == ""
	r := bufio.NewReaderSize(c, 2*maxRequest)
	for {
		if s.cfg.IdleTimeout > 0 {
			c.SetReadDeadline(time.Now().Add(s.cfg.IdleTimeout))
		}
		line, err := readRequest(r)
		if err != nil {
			if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
				s.log.Debug("pjlinksim: connection ends", "error", err)
			}
			return
		}
		s.commands.Add(1)
		if !authed {
			want := digest(random, s.cfg.Password)
			if len(line) < len(want) || subtle.ConstantTimeCompare([]byte(line[:len(want)]), []byte(want)) != 1 {
				s.write(c, "PJLINK ERRA\r")
				return
			}
			line, authed = line[len(want):], true
		}
		s.mu.Lock()
		mode, delay := s.mode, s.delay
		if mode == DropOnce {
			s.mode = Normal
		}
		s.mu.Unlock()
		switch mode {
		case Silent:
			continue
		case Drop, DropOnce:
			return
		case Garbage:
			if !s.write(c, garbage()) {
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
		if reply := s.handle(line, time.Now()); reply != "" {
			if !s.write(c, reply) {
				return
			}
		}
	}
}

func (s *Sim) write(c net.Conn, msg string) bool {
	c.SetWriteDeadline(time.Now().Add(writeTimeout))
	_, err := io.WriteString(c, msg)
	return err == nil
}

var errTooLong = errors.New("request line too long")

// readRequest reads one line ending in CR, without the CR; a LF in front is dropped.
func readRequest(r *bufio.Reader) (string, error) {
	b, err := r.ReadSlice('\r')
	if len(b) > 0 && b[0] == '\n' {
		b = b[1:]
	}
	if len(b) > maxRequest || errors.Is(err, bufio.ErrBufferFull) {
		return "", errTooLong
	}
	if err != nil {
		return "", err
	}
	return string(b[:len(b)-1]), nil
}

// garbage returns random bytes that are not a PJLink line: a control byte first, then
// anything, then CR.
func garbage() string {
	b := make([]byte, 8+randN(24))
	rand.Read(b)
	b[0] = byte(randN(9)) // 0x00-0x08: never '%', CR or LF
	b[len(b)-1] = '\r'
	return string(b)
}

func randN(n int) int {
	var b [1]byte
	rand.Read(b[:])
	return int(b[0]) % n
}
