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

	"github.com/bailiff/bailiff/drivers"
	"github.com/bailiff/bailiff/drivers/internal/simkit"
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

// Mode is how the simulator answers commands: Normal, Slow (waits the delay set by SetDelay
// before each command), Silent (reads commands and neither answers nor acts on them),
// Garbage (answers random bytes that are not PJLink), Drop (closes the connection on each
// command, without answering) or DropOnce (drops once, then back to Normal).
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

	*simkit.Server // serving, Close, misbehaviour

	commands atomic.Int64
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
	log := drivers.Logger(cfg.Logger)
	s := &Sim{
		cfg:    cfg,
		log:    log,
		input:  cfg.Input,
		erst:   "000000",
		Server: simkit.New(simkit.Config{Name: "pjlinksim", Logger: log, OneListener: true}),
	}
	if cfg.On {
		s.power = PowerOn
		s.litOn, s.litFrom = true, time.Now()
	}
	return s
}

// Listen starts serving on a TCP address ("127.0.0.1:0" picks a free port) and returns the
// address it listens on.
func (s *Sim) Listen(addr string) (string, error) { return s.ListenTCP(addr, s.serve) }

// ServeConn serves one connection that the caller accepted or made (one end of net.Pipe,
// say) and returns when it ends. Close ends it too.
func (s *Sim) ServeConn(c net.Conn) { s.Server.ServeConn(c, s.serve) }

// Commands returns how many command lines the simulator has received.
func (s *Sim) Commands() int { return int(s.commands.Load()) }

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
		Mode:      s.Mode(),
	}
}

// maxRequest is the longest request line accepted: a command line (136 bytes, spec §2.1)
// with the authentication digest in front.
const maxRequest = 136 + 32

func (s *Sim) serve(l *simkit.Line) {
	random := ""
	greeting := "PJLINK 0\r"
	if s.cfg.Password != "" {
		var b [4]byte
		rand.Read(b[:])
		random = hex.EncodeToString(b[:])
		greeting = "PJLINK 1 " + random + "\r"
	}
	if !l.SendString(greeting) {
		return
	}
	authed := s.cfg.Password == ""
	r := bufio.NewReaderSize(l, 2*maxRequest)
	for {
		if s.cfg.IdleTimeout > 0 {
			l.SetReadDeadline(time.Now().Add(s.cfg.IdleTimeout))
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
				l.SendString("PJLINK ERRA\r")
				return
			}
			line, authed = line[len(want):], true
		}
		mode, ok := l.Admit()
		if !ok {
			return
		}
		switch mode {
		case Silent:
			continue
		case Drop, DropOnce:
			return
		case Garbage:
			if !l.SendString(garbage()) {
				return
			}
			continue
		}
		if reply := s.handle(line, time.Now()); reply != "" {
			if !l.SendString(reply) {
				return
			}
		}
	}
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
	b := simkit.RandomBytes(8, 31)
	b[0] = byte(simkit.RandN(9)) // 0x00-0x08: never '%', CR or LF
	b[len(b)-1] = '\r'
	return string(b)
}
