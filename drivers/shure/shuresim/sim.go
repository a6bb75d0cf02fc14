// Package shuresim is a Shure MXA microphone array or P300 processor that speaks Shure
// command strings over real TCP, for tests, hil-tests and the hub's --demo.
//
// A Sim keeps the device's state (device mute, per-channel mute and gain, preset) shared by
// every connection, reports every change to every connection ("< REP … >", also changes
// made on the device itself: SetDeviceMute is someone pressing the mute button), sends
// meter samples at the rate each connection asked for, and can be told to misbehave: answer
// slowly, not at all, with garbage, drop the connection, or answer "< REP ERR >". It has no
// global state, so one process can run many.
//
// It follows the MXA910, MXA920 and P300 command-string documents (see drivers/shure). It
// does not share code with drivers/shure, so the two check each other.
package shuresim

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bailiff/bailiff/drivers"
	"github.com/bailiff/bailiff/drivers/internal/simkit"
)

// Config describes a simulated device. The zero value is an MXA910 with 8 channels, all
// unmuted at 0 dB, on preset 1.
type Config struct {
	// Model is "MXA910" (default), "MXA920", "MXA710", "MXA310" (channels written "1") or
	// "P300" (channels written "01").
	Model string
	// Channels is the number of channels, 1-9 on an MXA, 1-28 on a P300; default 8.
	Channels int
	// Preset is the preset loaded at start, 1-10; default 1.
	Preset int
	// Levels are the meter levels (0-60, one per channel) sent in samples; default a
	// pattern that moves with every sample.
	Levels []int
	// Logger gets debug records; nil discards them.
	Logger *slog.Logger
}

// Mode is how the simulator answers commands: Normal, Slow (waits the delay set by SetDelay
// before each command), Silent (reads commands and neither answers nor acts on them, and
// sends no samples or reports either: a hung device), Garbage (answers random bytes that
// are not command strings), Drop (closes the connection on each command, without
// answering), DropOnce (drops once, then back to Normal) or Refuse (answers each command
// "< REP ERR >", the device's error answer).
type Mode = simkit.Mode

// The modes.
const (
	Normal   = simkit.Normal
	Slow     = simkit.Slow
	Silent   = simkit.Silent
	Garbage  = simkit.Garbage
	Drop     = simkit.Drop
	DropOnce = simkit.DropOnce
	Refuse   = simkit.Refuse
)

// State is a snapshot of the simulated device.
type State struct {
	DeviceMute bool
	Mute       []bool // channel n at index n-1
	Gain       []int  // AUDIO_GAIN_HI_RES values, channel n at index n-1
	Preset     int
	Mode       Mode
}

// Sim is a simulated Shure device. Its methods are safe for concurrent use.
type Sim struct {
	cfg  Config
	wide bool // two-digit channels
	log  *slog.Logger

	mu         sync.Mutex // guards the device state below
	deviceMute bool
	mute       []bool
	gain       []int
	preset     int
	flash      bool
	levels     []int
	tick       int

	*simkit.Server // serving, Close, misbehaviour

	cmu      sync.Mutex // guards sessions
	sessions map[*session]struct{}

	commands atomic.Int64
	samples  atomic.Int64
}

// New returns a simulator for cfg. It panics when cfg is invalid (an unknown model, a
// channel count the model cannot have): a programming error.
func New(cfg Config) *Sim {
	if cfg.Model == "" {
		cfg.Model = "MXA910"
	}
	cfg.Model = strings.ToUpper(cfg.Model)
	maxCh := 9
	wide := false
	switch cfg.Model {
	case "MXA910", "MXA920", "MXA710", "MXA310":
	case "P300":
		maxCh, wide = 28, true
	default:
		panic(fmt.Sprintf("shuresim: unknown model %q", cfg.Model))
	}
	if cfg.Channels == 0 {
		cfg.Channels = 8
	}
	if cfg.Channels < 1 || cfg.Channels > maxCh {
		panic(fmt.Sprintf("shuresim: %d channels: a %s has 1-%d", cfg.Channels, cfg.Model, maxCh))
	}
	if cfg.Preset == 0 {
		cfg.Preset = 1
	}
	if cfg.Preset < 1 || cfg.Preset > 10 {
		panic(fmt.Sprintf("shuresim: preset %d: want 1-10", cfg.Preset))
	}
	log := drivers.Logger(cfg.Logger)
	s := &Sim{
		cfg: cfg, wide: wide, log: log,
		mute: make([]bool, cfg.Channels), gain: make([]int, cfg.Channels), preset: cfg.Preset,
		Server:   simkit.New(simkit.Config{Name: "shuresim", Logger: log, OneListener: true}),
		sessions: map[*session]struct{}{},
	}
	for i := range s.gain {
		s.gain[i] = gainZero
	}
	if cfg.Levels != nil {
		s.levels = append([]int(nil), cfg.Levels...)
	}
	return s
}

// Listen starts serving on a TCP address ("127.0.0.1:0" picks a free port) and returns the
// address it listens on.
func (s *Sim) Listen(addr string) (string, error) { return s.ListenTCP(addr, s.serve) }

// ServeConn serves one connection that the caller accepted or made (one end of net.Pipe,
// say) and returns when it ends. Close ends it too.
func (s *Sim) ServeConn(c net.Conn) { s.Server.ServeConn(c, s.serve) }

// OpenConnections returns how many connections are open now, each with its meter rate and
// its queue of reports.
func (s *Sim) OpenConnections() int {
	s.cmu.Lock()
	defer s.cmu.Unlock()
	return len(s.sessions)
}

// Commands returns how many command strings the simulator has received.
func (s *Sim) Commands() int { return int(s.commands.Load()) }

// Samples returns how many meter samples the simulator has sent.
func (s *Sim) Samples() int { return int(s.samples.Load()) }

// MeterRates returns the meter rate in ms of every open connection.
func (s *Sim) MeterRates() []int {
	s.cmu.Lock()
	defer s.cmu.Unlock()
	var out []int
	for ss := range s.sessions {
		out = append(out, int(ss.rate.Load()))
	}
	return out
}

// SetLevels sets the meter levels (0-60, one per channel) of the next samples; nil goes
// back to the moving pattern.
func (s *Sim) SetLevels(levels []int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.levels = append([]int(nil), levels...)
	if levels == nil {
		s.levels = nil
	}
}

// SetDeviceMute mutes or unmutes the device as its mute button does, and reports it to
// every connection.
func (s *Sim) SetDeviceMute(on bool) {
	s.mu.Lock()
	s.deviceMute = on
	rep := s.repDeviceMute()
	s.mu.Unlock()
	s.broadcast(nil, rep)
}

// SetMute mutes or unmutes channel ch (1…) as a change made at the device (from Designer,
// say), and reports it to every connection.
func (s *Sim) SetMute(ch int, on bool) error {
	s.mu.Lock()
	if ch < 1 || ch > len(s.mute) {
		s.mu.Unlock()
		return fmt.Errorf("shuresim: channel %d: want 1-%d", ch, len(s.mute))
	}
	s.mute[ch-1] = on
	rep := s.repMute(ch)
	s.mu.Unlock()
	s.broadcast(nil, rep)
	return nil
}

// SetGain sets the AUDIO_GAIN_HI_RES value (0-1400, 1100 = 0 dB) of channel ch as a change
// made at the device, and reports it to every connection.
func (s *Sim) SetGain(ch, value int) error {
	s.mu.Lock()
	if ch < 1 || ch > len(s.gain) || value < 0 || value > gainMax {
		s.mu.Unlock()
		return fmt.Errorf("shuresim: gain %d of channel %d: want channel 1-%d, value 0-%d", value, ch, len(s.gain), gainMax)
	}
	s.gain[ch-1] = value
	rep := s.repGain(ch)
	s.mu.Unlock()
	s.broadcast(nil, rep)
	return nil
}

// SetPreset loads preset n (1-10) as a change made at the device, and reports it.
func (s *Sim) SetPreset(n int) error {
	s.mu.Lock()
	if n < 1 || n > 10 {
		s.mu.Unlock()
		return fmt.Errorf("shuresim: preset %d: want 1-10", n)
	}
	s.preset = n
	rep := s.repPreset()
	s.mu.Unlock()
	s.broadcast(nil, rep)
	return nil
}

// State returns a snapshot of the device.
func (s *Sim) State() State {
	s.mu.Lock()
	defer s.mu.Unlock()
	return State{
		DeviceMute: s.deviceMute,
		Mute:       append([]bool(nil), s.mute...),
		Gain:       append([]int(nil), s.gain...),
		Preset:     s.preset,
		Mode:       s.Mode(),
	}
}

// session is one connection: its own meter rate, and a queue of messages its writer sends
// in order (answers, reports of changes, samples).
type session struct {
	l    *simkit.Line
	out  chan string
	rate atomic.Int64 // meter rate in ms; 0 off
	wake chan struct{}
	quit chan struct{}
	once sync.Once
}

func (ss *session) stop() { ss.once.Do(func() { close(ss.quit); ss.l.Close() }) }

// send queues msg; a connection that does not read its messages is closed.
func (ss *session) send(msgs ...string) {
	for _, m := range msgs {
		select {
		case ss.out <- m:
		case <-ss.quit:
			return
		default:
			ss.stop()
			return
		}
	}
}

// broadcast queues msgs on every connection but except.
func (s *Sim) broadcast(except *session, msgs ...string) {
	if len(msgs) == 0 {
		return
	}
	if s.Mode() == Silent {
		return
	}
	s.cmu.Lock()
	defer s.cmu.Unlock()
	for ss := range s.sessions {
		if ss != except {
			ss.send(msgs...)
		}
	}
}

func (s *Sim) serve(l *simkit.Line) {
	ss := &session{l: l, out: make(chan string, 1024), wake: make(chan struct{}, 1), quit: make(chan struct{})}
	s.cmu.Lock()
	s.sessions[ss] = struct{}{}
	s.cmu.Unlock()
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); s.write(ss) }()
	go func() { defer wg.Done(); s.meter(ss) }()
	defer func() {
		ss.stop()
		wg.Wait()
		s.cmu.Lock()
		delete(s.sessions, ss)
		s.cmu.Unlock()
	}()
	r := bufio.NewReaderSize(l, 2*maxFrame)
	for {
		body, err := readFrame(r)
		if err != nil {
			if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
				s.log.Debug("shuresim: connection ends", "error", err)
			}
			return
		}
		s.commands.Add(1)
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
			ss.send(garbage())
			continue
		case Refuse:
			ss.send(repErr)
			continue
		}
		reply, others := s.handle(ss, body)
		ss.send(reply...)
		s.broadcast(ss, others...)
	}
}

// write sends the session's queue in order.
func (s *Sim) write(ss *session) {
	for {
		select {
		case <-ss.quit:
			return
		case m := <-ss.out:
			if !ss.l.SendString(m) {
				ss.stop()
				return
			}
		}
	}
}

// meter sends a sample every meter period while the session's rate is not 0.
func (s *Sim) meter(ss *session) {
	var t *time.Ticker
	var tc <-chan time.Time
	period := int64(0)
	defer func() {
		if t != nil {
			t.Stop()
		}
	}()
	for {
		if r := ss.rate.Load(); r != period {
			period = r
			if t != nil {
				t.Stop()
				t, tc = nil, nil
			}
			if r > 0 {
				t = time.NewTicker(time.Duration(r) * time.Millisecond)
				tc = t.C
			}
		}
		select {
		case <-ss.quit:
			return
		case <-ss.wake:
		case <-tc:
			if msg := s.sample(); msg != "" {
				ss.send(msg)
				s.samples.Add(1)
			}
		}
	}
}

// maxFrame is the longest frame read; a longer one is dropped.
const maxFrame = 512

var errTooLong = errors.New("command string too long")

// readFrame reads the next "< … >" and returns what is inside. Bytes between frames are
// ignored, as the device does.
func readFrame(r *bufio.Reader) (string, error) {
	for {
		c, err := r.ReadByte()
		if err != nil {
			return "", err
		}
		if c == '<' {
			break
		}
	}
	var b []byte
	braces := false
	for {
		c, err := r.ReadByte()
		if err != nil {
			return "", err
		}
		switch {
		case c == '{':
			braces = true
		case c == '}':
			braces = false
		case c == '>' && !braces:
			return string(b), nil
		}
		b = append(b, c)
		if len(b) > maxFrame {
			return "", errTooLong
		}
	}
}

// garbage returns random bytes that are not a command string: a control byte first.
func garbage() string {
	b := simkit.RandomBytes(8, 31)
	b[0] = byte(1 + simkit.RandN(8)) // 0x01-0x08: never '<' nor white space
	return string(b)
}
