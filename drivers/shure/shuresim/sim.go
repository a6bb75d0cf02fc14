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
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"
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

// Mode is how the simulator answers commands.
type Mode int

const (
	// Normal answers as the device does.
	Normal Mode = iota
	// Slow waits the delay set by SetDelay before handling each command.
	Slow
	// Silent reads commands and never answers them (nor acts on them); it sends no samples
	// or reports either: a hung device.
	Silent
	// Garbage answers each command with random bytes that are not command strings.
	Garbage
	// Drop closes the connection on each command, without answering.
	Drop
	// DropOnce closes the connection on the next command, then goes back to Normal.
	DropOnce
	// Refuse answers each command "< REP ERR >", the device's error answer.
	Refuse
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
	case Refuse:
		return "refuse"
	}
	return fmt.Sprintf("Mode(%d)", int(m))
}

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
	mode       Mode
	delay      time.Duration

	cmu      sync.Mutex // guards the fields below
	ln       net.Listener
	sessions map[*session]struct{}
	closed   bool
	done     chan struct{}
	wg       sync.WaitGroup

	commands    atomic.Int64
	connections atomic.Int64
	samples     atomic.Int64
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
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	s := &Sim{
		cfg: cfg, wide: wide, log: log,
		mute: make([]bool, cfg.Channels), gain: make([]int, cfg.Channels), preset: cfg.Preset,
		sessions: map[*session]struct{}{}, done: make(chan struct{}),
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
func (s *Sim) Listen(addr string) (string, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", fmt.Errorf("shuresim: listen: %w", err)
	}
	s.cmu.Lock()
	if s.closed || s.ln != nil {
		s.cmu.Unlock()
		ln.Close()
		if s.closed {
			return "", errors.New("shuresim: listen: simulator closed")
		}
		return "", errors.New("shuresim: listen: already listening")
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
				s.log.Debug("shuresim: accept", "error", err)
			}
			return
		}
		ss := s.track(c)
		if ss == nil {
			return
		}
		go func() {
			defer s.wg.Done()
			s.serve(ss)
		}()
	}
}

// ServeConn serves one connection that the caller accepted or made (one end of net.Pipe,
// say) and returns when it ends. Close ends it too.
func (s *Sim) ServeConn(c net.Conn) {
	ss := s.track(c)
	if ss == nil {
		return
	}
	defer s.wg.Done()
	s.serve(ss)
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
	for ss := range s.sessions {
		ss.c.Close()
	}
	s.cmu.Unlock()
	s.wg.Wait()
	if err != nil {
		return fmt.Errorf("shuresim: close: %w", err)
	}
	return nil
}

// DropConnections closes every open connection now, as a device restarting does.
func (s *Sim) DropConnections() {
	s.cmu.Lock()
	defer s.cmu.Unlock()
	for ss := range s.sessions {
		ss.c.Close()
	}
}

// OpenConnections returns how many connections are open now.
func (s *Sim) OpenConnections() int {
	s.cmu.Lock()
	defer s.cmu.Unlock()
	return len(s.sessions)
}

// Connections returns how many connections the simulator has accepted.
func (s *Sim) Connections() int { return int(s.connections.Load()) }

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
		Mode:       s.mode,
	}
}

// session is one connection: its own meter rate, and a queue of messages its writer sends
// in order (answers, reports of changes, samples).
type session struct {
	c    net.Conn
	out  chan string
	rate atomic.Int64 // meter rate in ms; 0 off
	wake chan struct{}
	quit chan struct{}
	once sync.Once
}

func (ss *session) stop() { ss.once.Do(func() { close(ss.quit); ss.c.Close() }) }

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

// track registers a connection and counts one goroutine for it; nil when closed.
func (s *Sim) track(c net.Conn) *session {
	s.cmu.Lock()
	defer s.cmu.Unlock()
	if s.closed {
		c.Close()
		return nil
	}
	ss := &session{c: c, out: make(chan string, 1024), wake: make(chan struct{}, 1), quit: make(chan struct{})}
	s.sessions[ss] = struct{}{}
	s.wg.Add(1)
	s.connections.Add(1)
	return ss
}

// broadcast queues msgs on every connection but except.
func (s *Sim) broadcast(except *session, msgs ...string) {
	if len(msgs) == 0 {
		return
	}
	s.mu.Lock()
	silent := s.mode == Silent
	s.mu.Unlock()
	if silent {
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

const writeTimeout = 5 * time.Second

func (s *Sim) serve(ss *session) {
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
	r := bufio.NewReaderSize(ss.c, 2*maxFrame)
	for {
		body, err := readFrame(r)
		if err != nil {
			if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
				s.log.Debug("shuresim: connection ends", "error", err)
			}
			return
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
		case Drop, DropOnce:
			return
		case Garbage:
			ss.send(garbage())
			continue
		case Refuse:
			ss.send(repErr)
			continue
		case Slow:
			t := time.NewTimer(delay)
			select {
			case <-t.C:
			case <-s.done:
				t.Stop()
				return
			case <-ss.quit:
				t.Stop()
				return
			}
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
			ss.c.SetWriteDeadline(time.Now().Add(writeTimeout))
			if _, err := io.WriteString(ss.c, m); err != nil {
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
	b := make([]byte, 8+randN(24))
	rand.Read(b)
	b[0] = byte(1 + randN(8)) // 0x01-0x08: never '<' nor white space
	return string(b)
}

func randN(n int) int {
	var b [1]byte
	rand.Read(b[:])
	return int(b[0]) % n
}
