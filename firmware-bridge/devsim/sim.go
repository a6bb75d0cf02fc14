// Package devsim is a microcontroller device — a tally light with a button, by default — that
// speaks the firmware-bridge frame protocol (docs/FIRMWARE-PROTOCOL.md) over a pty pair, for
// tests, hil-tests and the hub's --demo.
//
// A Sim says hello when it starts (after a 0x00, §2.1) and when asked, answers pings, keeps the
// state of its tally light, sign, relay and button, acks commands (a command sent again after
// a lost ack is acked again, not done twice), and reports button presses
// as events and state. It can be told to misbehave: send line noise or a frame cut short, or
// stay silent. Frames it cannot decode are dropped and counted, as a real device does.
//
// A device configured with CapUpdate takes firmware updates (update.go): it checks a manifest
// against its trusted keys, device type and version, stores the image, verifies it, boots it as
// pending and confirms it or rolls back by itself; it can be told to fault (reboot in the middle
// of a transfer, corrupt a chunk, lose power before the confirm, fail its self-test). Replug
// pulls its cable and puts it back with its state kept; Config.Baud paces its line as a UART.
package devsim

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"reflect"
	"slices"
	"sync"
	"time"

	"github.com/bailiff/bailiff/drivers/transport"
	"github.com/bailiff/bailiff/firmware-bridge/frame"
)

// Config describes a simulated device. The zero value is a "tally-light" 1.0.0 with a tally
// light and one button, serial "SIM-0001", receiving frames up to frame.MaxFrame.
type Config struct {
	DeviceType string
	Serial     string
	Version    frame.Version
	// Caps are the capabilities announced; the keys of state follow them (CapTally: tally,
	// CapButton: button, CapSign: sign, CapRelay: relay, CapBrightness: brightness).
	Caps     frame.Caps
	MaxFrame uint16
	// TrustedKeys are the public keys firmware images must be signed with (update.go).
	TrustedKeys []ed25519.PublicKey
	// SlotSize is the largest image the device takes (default 1 MiB).
	SlotSize uint32
	// ConfirmTimeout is how long a new image runs pending before the device rolls back by
	// itself for want of an update-confirm (default 5s).
	ConfirmTimeout time.Duration
	// Baud, when not 0, paces what the device reads and writes to the line rate (8N1: ten
	// bits a byte), as a real UART does; a pty pair alone has no speed.
	Baud int
	// Logger gets debug records; nil discards them.
	Logger *slog.Logger
}

// Sim is one simulated device.
type Sim struct {
	cfg Config
	log *slog.Logger

	mu     sync.Mutex
	state  map[frame.Key]int32
	silent bool
	fault  Fault
	upd    updater // the firmware update state (update.go)
	out    *lockedWriter
	w      *frame.Writer
	// The last command and its ack: a command resent after a lost ack is acked again.
	lastCmd *frame.Command
	lastAck *frame.Ack
	r       *frame.Reader

	pty    *transport.PTY
	path   string // the line's path when serving an existing one (StartOn)
	line   *os.File
	done   chan struct{}
	closed bool
}

// New makes a device; Start or Serve runs it.
func New(cfg Config) *Sim {
	if cfg.DeviceType == "" {
		cfg.DeviceType = "tally-light"
	}
	if cfg.Serial == "" {
		cfg.Serial = "SIM-0001"
	}
	if cfg.Version == (frame.Version{}) {
		cfg.Version = frame.Version{Major: 1}
	}
	if cfg.Caps == 0 {
		cfg.Caps = frame.CapTally | frame.CapButton
	}
	if cfg.MaxFrame == 0 {
		cfg.MaxFrame = frame.MaxFrame
	}
	if cfg.SlotSize == 0 {
		cfg.SlotSize = 1 << 20
	}
	if cfg.ConfirmTimeout == 0 {
		cfg.ConfirmTimeout = 5 * time.Second
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Sim{cfg: cfg, log: log, state: map[frame.Key]int32{}}
	for _, c := range []struct {
		cap frame.Caps
		key frame.Key
	}{{frame.CapTally, frame.KeyTally}, {frame.CapSign, frame.KeySign}, {frame.CapButton, frame.KeyButton},
		{frame.CapRelay, frame.KeyRelay}, {frame.CapBrightness, frame.KeyBrightness}} {
		if cfg.Caps&c.cap != 0 {
			s.state[c.key] = 0
		}
	}
	return s
}

// Start opens a pty pair and serves the device's end of it until Close. Address is what a
// room config names to reach the device.
func (s *Sim) Start() error {
	p, err := transport.OpenPTY()
	if err != nil {
		return fmt.Errorf("devsim: %w", err)
	}
	line, err := p.Pollable()
	if err != nil {
		p.Close()
		return fmt.Errorf("devsim: %w", err)
	}
	return s.serveLine(line, p, "")
}

// StartOn serves the device's end of an existing line (one end of a socat pty pair, a real
// port wired to the agent's) until Close.
func (s *Sim) StartOn(path string) error {
	line, err := transport.OpenLineEnd(path)
	if err != nil {
		return fmt.Errorf("devsim: %w", err)
	}
	return s.serveLine(line, nil, path)
}

// serveLine serves line (of the pty pair p, or at path) in the background until Close.
func (s *Sim) serveLine(line *os.File, p *transport.PTY, path string) error {
	s.mu.Lock()
	if s.closed || s.line != nil {
		s.mu.Unlock()
		line.Close()
		if p != nil {
			p.Close()
		}
		return errors.New("devsim: start: closed or already started")
	}
	s.pty, s.path, s.line, s.done = p, path, line, make(chan struct{})
	s.mu.Unlock()
	go func() {
		defer close(s.done)
		if err := s.Serve(line); err != nil {
			s.log.Debug("devsim: serve ended", "error", err)
		}
	}()
	return nil
}

// Replug closes the device's line as when its cable is pulled, and serves it again on a new
// pty pair (a new Address), keeping all of the device's state, its update in progress too: a
// USB serial device that stays powered while its cable is out.
func (s *Sim) Replug() error {
	s.mu.Lock()
	if s.closed || s.line == nil {
		s.mu.Unlock()
		return errors.New("devsim: replug: not started")
	}
	p, line, done := s.pty, s.line, s.done
	s.pty, s.line, s.path = nil, nil, ""
	s.mu.Unlock()
	line.Close()
	if p != nil {
		p.Close()
	}
	<-done
	return s.Start()
}

// Address returns "serial:/dev/pts/N" after Start, else "".
func (s *Sim) Address() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.pty != nil:
		return s.pty.Address()
	case s.path != "":
		return "serial:" + s.path
	}
	return ""
}

// Close stops the device and closes the pty pair: the host's next read fails as when the
// cable is pulled.
func (s *Sim) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	p, line, done := s.pty, s.line, s.done
	s.mu.Unlock()
	if line == nil {
		return nil
	}
	err := line.Close()
	if p != nil {
		err = p.Close()
	}
	<-done
	return err
}

// Serve runs the device on rw (one end of a pty, a net.Pipe) until a read fails: it says
// hello, then answers what it reads.
func (s *Sim) Serve(rw io.ReadWriter) error {
	if s.cfg.Baud > 0 {
		rw = &pacedLine{rw: rw, byteTime: time.Second * 10 / time.Duration(s.cfg.Baud)}
	}
	s.mu.Lock()
	s.out = &lockedWriter{w: rw}
	s.w = frame.NewWriter(s.out)
	s.r = frame.NewReader(rw)
	r := s.r
	s.r.OnDrop = func(err error) { s.log.Debug("devsim: dropped a frame", "error", err) }
	s.mu.Unlock()
	if err := s.send(s.hello()); err != nil {
		return err
	}
	for {
		m, err := r.Next()
		if err != nil {
			return err
		}
		if reply := s.handle(m); reply != nil {
			if err := s.send(reply...); err != nil {
				return err
			}
		}
	}
}

func (s *Sim) hello() *frame.Hello {
	s.mu.Lock()
	defer s.mu.Unlock()
	return &frame.Hello{Proto: frame.ProtoVersion, Flags: s.upd.flags, Caps: s.cfg.Caps, MaxFrame: s.cfg.MaxFrame,
		Version: s.cfg.Version, DeviceType: s.cfg.DeviceType, Serial: s.cfg.Serial}
}

// handle returns the answers to m.
func (s *Sim) handle(m frame.Message) []frame.Message {
	switch m := m.(type) {
	case *frame.HelloRequest:
		return []frame.Message{s.hello()}
	case *frame.Ping:
		return []frame.Message{&frame.Pong{Nonce: m.Nonce}}
	case *frame.Command:
		return []frame.Message{s.command(m)}
	case *frame.UpdateBegin, *frame.UpdateChunk, *frame.UpdateVerify, *frame.UpdateReboot,
		*frame.UpdateConfirm, *frame.UpdateAbort:
		if s.cfg.Caps&frame.CapUpdate != 0 {
			return s.update(m)
		}
	}
	s.log.Debug("devsim: ignored", "type", m.Type().String())
	return nil
}

func (s *Sim) command(c *frame.Command) *frame.Ack {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.lastAck != nil && reflect.DeepEqual(c, s.lastCmd) {
		return s.lastAck // the host lost the ack and sent the command again: do not act twice
	}
	ack := &frame.Ack{ID: c.ID}
	defer func() { s.lastCmd, s.lastAck = c, ack }()
	switch c.Action {
	case frame.ActionGet:
		if len(c.Fields) != 0 {
			ack.Status = frame.StatusBadArgs
		}
	case frame.ActionSet:
		ack.Status = s.check(c.Fields, func(k frame.Key, v int32) bool {
			switch k {
			case frame.KeyTally:
				return v >= 0 && v <= 3
			case frame.KeySign, frame.KeyRelay:
				return v == 0 || v == 1
			case frame.KeyBrightness:
				return v >= 0 && v <= 100
			}
			return false // the button is not set from afar
		})
		if ack.Status == frame.StatusOK {
			for _, f := range c.Fields {
				s.state[f.Key] = f.Value
			}
		}
	case frame.ActionPulse:
		// A pulse ends where it started; the simulator keeps no timer.
		ack.Status = s.check(c.Fields, func(k frame.Key, v int32) bool {
			return k == frame.KeyRelay && v > 0 && v <= 60000
		})
	default:
		ack.Status = frame.StatusUnsupported
	}
	ack.Fields = s.fieldsLocked()
	return ack
}

// check returns StatusUnsupported for a key the device does not have, StatusBadArgs for a
// value out of range, else StatusOK.
func (s *Sim) check(fields []frame.Field, ok func(frame.Key, int32) bool) frame.Status {
	if len(fields) == 0 {
		return frame.StatusBadArgs
	}
	for _, f := range fields {
		if _, has := s.state[f.Key]; !has {
			return frame.StatusUnsupported
		}
		if !ok(f.Key, f.Value) {
			return frame.StatusBadArgs
		}
	}
	return frame.StatusOK
}

func (s *Sim) fieldsLocked() []frame.Field {
	var out []frame.Field
	for _, k := range slices.Sorted(maps.Keys(s.state)) {
		out = append(out, frame.Field{Key: k, Value: s.state[k]})
	}
	return out
}

// State returns the device's state.
func (s *Sim) State() map[frame.Key]int32 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.state)
}

// Press reports button index pressed (held until Release): an event, then the new state.
func (s *Sim) Press(index int) error { return s.button(index, true) }

// Release reports button index released.
func (s *Sim) Release(index int) error { return s.button(index, false) }

func (s *Sim) button(index int, down bool) error {
	s.mu.Lock()
	if _, ok := s.state[frame.KeyButton]; !ok {
		s.mu.Unlock()
		return errors.New("devsim: this device has no button")
	}
	code, v := frame.EventButtonRelease, int32(0)
	if down {
		code, v = frame.EventButtonPress, 1
	}
	s.state[frame.KeyButton] = v
	st := &frame.State{Fields: s.fieldsLocked()}
	s.mu.Unlock()
	return s.send(&frame.Event{Code: code, Fields: []frame.Field{{Key: frame.KeyIndex, Value: int32(index)}}}, st)
}

// Reboot says hello again, as after a power cycle: a delimiter, then the hello. The state is
// kept (a tally light's state lives in the host).
func (s *Sim) Reboot() error {
	if err := s.raw([]byte{0}); err != nil {
		return err
	}
	return s.send(s.hello())
}

// SetSilent makes the device stop answering (true) or answer again (false); it still reads.
func (s *Sim) SetSilent(on bool) {
	s.mu.Lock()
	s.silent = on
	s.mu.Unlock()
}

// SendGarbage writes n bytes of line noise (no 0x00 in it) followed by a delimiter: the host
// must drop one frame and count it.
func (s *Sim) SendGarbage(n int) error {
	b := make([]byte, n+1)
	for i := range n {
		b[i] = byte(i*37%255 + 1)
	}
	return s.raw(b)
}

// SendTruncated writes the first half of a state frame then a delimiter, as a device reset in
// the middle of a frame does after its boot: the host must drop it and count it.
func (s *Sim) SendTruncated() error {
	s.mu.Lock()
	b, err := frame.AppendFrame(nil, &frame.State{Fields: s.fieldsLocked()})
	s.mu.Unlock()
	if err != nil {
		return err
	}
	half := append(b[:(len(b)-1)/2:(len(b)-1)/2], 0)
	return s.raw(half)
}

// SendRaw writes b as it is.
func (s *Sim) SendRaw(b []byte) error { return s.raw(b) }

// Stats are the counters of the frames the device read.
func (s *Sim) Stats() frame.Stats {
	s.mu.Lock()
	r := s.r
	s.mu.Unlock()
	if r == nil {
		return frame.Stats{}
	}
	return r.Stats()
}

func (s *Sim) send(ms ...frame.Message) error {
	s.mu.Lock()
	w, silent := s.w, s.silent
	s.mu.Unlock()
	if w == nil {
		return errors.New("devsim: not serving")
	}
	if silent {
		return nil
	}
	for _, m := range ms {
		if err := w.Write(m); err != nil {
			return fmt.Errorf("devsim: send %s: %w", m.Type(), err)
		}
	}
	return nil
}

func (s *Sim) raw(b []byte) error {
	s.mu.Lock()
	out := s.out
	s.mu.Unlock()
	if out == nil {
		return errors.New("devsim: not serving")
	}
	_, err := out.Write(b)
	return err
}

// lockedWriter keeps frames and raw writes from interleaving.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}
