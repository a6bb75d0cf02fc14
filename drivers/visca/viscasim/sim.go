// Package viscasim is a Sony VISCA camera, or a daisy chain of them, for tests, hil-tests and
// the hub's --demo. It speaks bare VISCA on TCP (port 1259 on clone cameras), VISCA over IP
// on UDP (port 52381, with the 8-byte header and sequence numbers), and RS-232 over a pty pair
// (transport.OpenPTY) where several cameras share one line and AddressSet numbers them.
//
// Each camera keeps its state: power (with a boot time), zoom 0…4000h, pan and tilt that move
// over time while driven or on their way to a position, presets, and two command sockets. A
// command is answered with an ACK naming its socket and, when it is done, a completion on that
// socket; a move (preset recall, absolute position, home, direct zoom) holds its socket until
// the camera is there, so a third command meanwhile finds the buffer full. In standby and
// while starting up commands are not executable; inquiries are always answered.
//
// A Sim can be told to misbehave: answer slowly, not at all, with garbage, drop the
// connection (TCP) or the message (UDP, serial), lose replies on the way back, or answer the
// next messages with an error (length, syntax, buffer full, cancelled, no socket, not
// executable; over IP, sequence number and message type). It has no global state.
//
// It follows the Sony manuals cited in drivers/visca's doc.go and shares no code with the
// driver, so the two check each other.
package viscasim

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bailiff/bailiff/drivers"
	"github.com/bailiff/bailiff/drivers/internal/simkit"
)

// Config describes the simulated cameras. The zero value is one camera in standby that
// starts at once and moves at the normal rates.
type Config struct {
	// Cameras is how many cameras are daisy-chained on the serial line, 1-7; default 1.
	// TCP and UDP reach the first.
	Cameras int
	// On starts the cameras powered on.
	On bool
	// BootTime is how long a power-on takes; commands meanwhile are not executable.
	BootTime time.Duration
	// Speed multiplies every motion rate; default 1 (a full pan takes about two seconds at
	// the top speed). Tests make it large, or tiny to keep moves going.
	Speed float64
	// Presets is the number of presets of each camera (0 to Presets-1); default 16.
	Presets int
	// Vendor, Model and ROM are what CAM_VersionInq reports; default 0001h (Sony), 0505h
	// (BRC-Z700) and 0100h.
	Vendor, Model, ROM uint16
	// Logger gets debug records; nil discards them.
	Logger *slog.Logger
}

// Mode is how the simulator treats the messages it receives: Normal, Slow (waits the delay
// set by SetDelay before each message), Silent (reads messages and neither answers nor acts
// on them), Garbage (answers each message with random bytes that are not VISCA), Drop
// (closes a TCP connection on each message; over UDP and serial the message is lost) or
// DropOnce (drops the next message as Drop does, then back to Normal).
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

// Fault is an error a camera answers on demand (Fail).
type Fault int

const (
	FaultLength        Fault = iota + 1 // z0 60 01
	FaultSyntax                         // z0 60 02
	FaultBufferFull                     // z0 60 03
	FaultCancelled                      // a command: ACK, then z0 6y 04; an inquiry: z0 60 04
	FaultNoSocket                       // z0 6y 05
	FaultNotExecutable                  // z0 6y 41 (z0 60 41 to an inquiry)
	FaultSequence                       // VISCA over IP: control ERROR 0F 01
	FaultMessageType                    // VISCA over IP: control ERROR 0F 02
)

var faultNames = map[Fault]string{
	FaultLength: "length", FaultSyntax: "syntax", FaultBufferFull: "buffer-full", FaultCancelled: "cancelled",
	FaultNoSocket: "no-socket", FaultNotExecutable: "not-executable", FaultSequence: "sequence", FaultMessageType: "message-type",
}

func (f Fault) String() string {
	if n, ok := faultNames[f]; ok {
		return n
	}
	return fmt.Sprintf("Fault(%d)", int(f))
}

// ParseFault returns the fault of a name String returns.
func ParseFault(name string) (Fault, bool) {
	for f, n := range faultNames {
		if n == name {
			return f, true
		}
	}
	return 0, false
}

// State is a snapshot of one camera.
type State struct {
	Address         int // 0 until AddressSet on a serial line
	Power, Booting  bool
	Pan, Tilt, Zoom int
	Moving          bool
	Busy            int   // sockets holding a command
	Presets         []int // stored presets
}

// Sim is a set of simulated VISCA cameras. Its methods are safe for concurrent use.
type Sim struct {
	cfg Config
	log *slog.Logger
	now func() time.Time // the clock of the camera model; tests make it step

	mu     sync.Mutex // guards the cameras and the fields below
	cams   []*camera
	lose   int // replies still to lose
	peers  map[string]*peer
	seqs   []uint32 // sequence numbers of the VISCA over IP messages received
	closed bool

	*simkit.Server // serving, misbehaviour

	messages atomic.Int64
	resets   atomic.Int64
}

// peer is a VISCA over IP controller, by its address: the last sequence number it used.
type peer struct {
	last  uint32
	valid bool // false until the first message, and after RESET
}

// New returns a simulator for cfg; it panics when cfg is invalid (a programming error).
func New(cfg Config) *Sim {
	if cfg.Cameras == 0 {
		cfg.Cameras = 1
	}
	if cfg.Cameras < 1 || cfg.Cameras > 7 {
		panic(fmt.Sprintf("viscasim: %d cameras: want 1-7", cfg.Cameras))
	}
	if cfg.Speed <= 0 {
		cfg.Speed = 1
	}
	if cfg.Presets <= 0 {
		cfg.Presets = 16
	}
	if cfg.Presets > 0xFE {
		cfg.Presets = 0xFE
	}
	if cfg.Vendor == 0 && cfg.Model == 0 {
		cfg.Vendor, cfg.Model = 0x0001, 0x0505
	}
	if cfg.ROM == 0 {
		cfg.ROM = 0x0100
	}
	log := drivers.Logger(cfg.Logger)
	s := &Sim{cfg: cfg, log: log, now: time.Now, peers: map[string]*peer{},
		Server: simkit.New(simkit.Config{Name: "viscasim", Logger: log, ConnectionsOnly: true, WriteTimeout: time.Second})}
	now := s.now()
	for range cfg.Cameras {
		s.cams = append(s.cams, newCamera(s, now))
	}
	return s
}

// replier carries a camera's replies back to the controller that sent a message.
type replier interface {
	send(p []byte)
}

// emit sends one reply packet, unless replies are being lost. s.mu is held.
func (s *Sim) emit(out replier, p []byte) {
	if s.lose > 0 {
		s.lose--
		s.log.Debug("viscasim: reply lost", "packet", fmt.Sprintf("% X", p))
		return
	}
	out.send(p)
}

// State returns a snapshot of camera n (1 for the first on the line).
func (s *Sim) State(n int) State {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cams[n-1].state(s.now())
}

// LoseReplies loses the next n replies on their way back (ACKs, completions, answers,
// errors, control replies), as UDP may.
func (s *Sim) LoseReplies(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lose = n
}

// Fail makes camera n answer its next count messages with f instead of handling them.
// FaultSequence and FaultMessageType apply to VISCA over IP only.
func (s *Sim) Fail(n int, f Fault, count int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.cams[n-1]
	for range count {
		c.faults = append(c.faults, f)
	}
}

// Replug makes every camera of the serial line announce a network change (z0 38 FF) and
// forget its address, as when cameras are plugged in: the controller must send AddressSet.
func (s *Sim) Replug() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.cams {
		if c.addr == 0 {
			continue
		}
		for _, l := range s.lines() {
			c.emit(lineOut{l}, 0x38)
		}
		c.addr = 0
	}
}

// lines returns the serial lines served.
func (s *Sim) lines() []*simkit.Line {
	var out []*simkit.Line
	for _, l := range s.Lines() {
		if l.Serial() {
			out = append(out, l)
		}
	}
	return out
}

// Messages returns how many messages (packets, datagrams) the simulator has received.
func (s *Sim) Messages() int { return int(s.messages.Load()) }

// maxSeqs bounds the sequence numbers Sequences keeps.
const maxSeqs = 4096

// record keeps the sequence number of a VISCA over IP message received, lost or not.
func (s *Sim) record(d []byte) {
	if len(d) < 8 || d[0] != 0x01 {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.seqs) < maxSeqs {
		s.seqs = append(s.seqs, uint32(d[4])<<24|uint32(d[5])<<16|uint32(d[6])<<8|uint32(d[7]))
	}
}

// Sequences returns the sequence numbers of the VISCA over IP messages (commands, inquiries,
// device settings) received, in order: a retransmission shows as a repeated number.
func (s *Sim) Sequences() []uint32 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]uint32(nil), s.seqs...)
}

// Resets returns how many VISCA over IP RESET control commands the simulator has received.
func (s *Sim) Resets() int { return int(s.resets.Load()) }

// Close stops the listeners and the serial lines, closes every connection, stops the running
// commands and waits for the goroutines.
func (s *Sim) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	now := s.now()
	for _, c := range s.cams {
		c.clear(now)
	}
	s.mu.Unlock()
	return s.Server.Close()
}

// message handles one packet from the controller of a TCP connection or a UDP peer: one
// camera, address 1 whatever the header says (as Sony's VISCA over IP).
func (s *Sim) message(p []byte, out replier) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	c := s.cams[0]
	switch {
	case p[0] == 0x88:
		s.broadcast(p, out, s.cams[:1])
	case p[0] >= 0x81 && p[0] <= 0x87:
		c.handle(p, s.now(), out)
	default:
		c.emit(out, 0x60, 0x02)
	}
}

// broadcast answers AddressSet and IF_Clear sent to every camera of cams; anything else with
// header 88 passes along the chain unchanged. s.mu is held.
func (s *Sim) broadcast(p []byte, out replier, cams []*camera) {
	switch {
	case len(p) == 4 && p[1] == 0x30 && p[2] >= 1 && p[2] <= 7:
		next := int(p[2])
		for _, c := range cams {
			if next <= 7 {
				c.addr = next
				next++
			} else {
				c.addr = 0
			}
		}
		s.emit(out, []byte{0x88, 0x30, byte(next), 0xFF})
	case len(p) == 5 && p[1] == 0x01 && p[2] == 0x00 && p[3] == 0x01:
		now := s.now()
		for _, c := range cams {
			c.clear(now)
		}
		s.emit(out, p)
	default:
		s.emit(out, p)
	}
}

// ListenTCP serves bare VISCA on a TCP address ("127.0.0.1:0" picks a free port) and returns
// the address it listens on.
func (s *Sim) ListenTCP(addr string) (string, error) { return s.Server.ListenTCP(addr, s.serveTCP) }

// lineOut sends a camera's replies on a TCP connection or a serial line.
type lineOut struct{ l *simkit.Line }

func (o lineOut) send(p []byte) { o.l.Send(p) }

func (s *Sim) serveTCP(l *simkit.Line) {
	out := lineOut{l}
	r := newPacketReader(l)
	for {
		p, long, err := r.next()
		if err != nil {
			return
		}
		s.messages.Add(1)
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
			out.send(garbage())
			continue
		}
		if long {
			s.lengthError(out, s.cams[0])
			continue
		}
		s.message(p, out)
	}
}

// lengthError answers a packet longer than 16 bytes: message length error.
func (s *Sim) lengthError(out replier, c *camera) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.closed {
		c.emit(out, 0x60, 0x01)
	}
}

// packetReader splits a byte stream into packets ending in FF.
type packetReader struct {
	r   io.Reader
	buf [256]byte
	b   []byte
}

func newPacketReader(r io.Reader) *packetReader { return &packetReader{r: r} }

// next returns the next packet with its FF; long reports one of more than 16 bytes (its
// bytes are dropped).
func (pr *packetReader) next() (p []byte, long bool, err error) {
	for {
		for len(pr.b) > 0 {
			c := pr.b[0]
			pr.b = pr.b[1:]
			if !long {
				p = append(p, c)
			}
			if c == 0xFF {
				return p, long, nil
			}
			if len(p) >= 16 {
				long, p = true, nil
			}
		}
		n, err := pr.r.Read(pr.buf[:])
		pr.b = pr.buf[:n]
		if err != nil && n == 0 {
			return nil, false, err
		}
	}
}

// garbage returns bytes that are not a VISCA reply: a header without its top bit, random
// bytes, FF.
func garbage() []byte {
	b := simkit.RandomBytes(3, 12)
	b[0] &= 0x7F
	for i := range b {
		if b[i] == 0xFF {
			b[i] = 0x00
		}
	}
	b[len(b)-1] = 0xFF
	return b
}

// ListenUDP serves VISCA over IP on a UDP address ("127.0.0.1:0" picks a free port) and
// returns the address for a room config, "udp://host:port".
func (s *Sim) ListenUDP(addr string) (string, error) {
	a, err := s.Server.ListenUDP(addr, func(d []byte, from net.Addr, write func([]byte)) {
		s.record(d)
		s.messages.Add(1)
		mode, ok := s.Admit()
		if !ok {
			return
		}
		switch mode {
		case Silent, Drop, DropOnce:
			return
		case Garbage:
			g := garbage()
			g[0] = 0x7F // no payload type
			write(g)
			return
		}
		s.datagram(d, from.String(), write)
	})
	if err != nil {
		return "", err
	}
	return "udp://" + a, nil
}

// udpOut sends a camera's replies as VISCA replies (0111h) with the sequence number of the
// message answered.
type udpOut struct {
	write func([]byte)
	seq   uint32
}

func (o udpOut) send(p []byte) { o.write(ipMessage(0x0111, o.seq, p)) }

func ipMessage(typ uint16, seq uint32, payload []byte) []byte {
	n := len(payload)
	return append([]byte{byte(typ >> 8), byte(typ), byte(n >> 8), byte(n), byte(seq >> 24), byte(seq >> 16), byte(seq >> 8), byte(seq)}, payload...)
}

// datagram handles one VISCA over IP message from peer; write sends a datagram back.
func (s *Sim) datagram(d []byte, from string, write func([]byte)) {
	if len(d) < 8 {
		return // not even a header: nothing to answer
	}
	typ := uint16(d[0])<<8 | uint16(d[1])
	n := int(d[2])<<8 | int(d[3])
	seq := uint32(d[4])<<24 | uint32(d[5])<<16 | uint32(d[6])<<8 | uint32(d[7])
	payload := d[8:]

	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	control := func(typ uint16, b ...byte) {
		if s.lose > 0 {
			s.lose--
			return
		}
		write(ipMessage(typ, seq, b))
	}
	if n != len(payload) || n < 1 || n > 16 {
		control(0x0200, 0x0F, 0x02)
		s.mu.Unlock()
		return
	}
	p := s.peers[from]
	if p == nil {
		p = &peer{}
		s.peers[from] = p
	}
	switch typ {
	case 0x0200:
		if n == 1 && payload[0] == 0x01 {
			s.resets.Add(1)
			p.valid = false
			control(0x0201, 0x01)
		} else {
			control(0x0200, 0x0F, 0x02)
		}
		s.mu.Unlock()
		return
	case 0x0100, 0x0110, 0x0120:
	default:
		control(0x0200, 0x0F, 0x02)
		s.mu.Unlock()
		return
	}
	c := s.cams[0]
	if len(c.faults) > 0 && (c.faults[0] == FaultSequence || c.faults[0] == FaultMessageType) {
		f := c.faults[0]
		c.faults = c.faults[1:]
		code := byte(0x01)
		if f == FaultMessageType {
			code = 0x02
		}
		control(0x0200, 0x0F, code)
		s.mu.Unlock()
		return
	}
	if p.valid && int32(seq-p.last) <= 0 {
		// Seen already (a retransmission of a message handled) or older.
		control(0x0200, 0x0F, 0x01)
		s.mu.Unlock()
		return
	}
	p.last, p.valid = seq, true
	s.mu.Unlock()
	if !wellFormed(payload) {
		s.notAPacket(udpOut{write, seq})
		return
	}
	s.message(payload, udpOut{write, seq})
}

// wellFormed reports whether p is one packet: a header with its top bit, FF only at the end.
func wellFormed(p []byte) bool {
	if len(p) < 3 || p[0]&0x80 == 0 || p[len(p)-1] != 0xFF {
		return false
	}
	for _, b := range p[:len(p)-1] {
		if b == 0xFF {
			return false
		}
	}
	return true
}

// notAPacket answers a payload that is not one packet with a syntax error.
func (s *Sim) notAPacket(out replier) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.closed {
		s.cams[0].emit(out, 0x60, 0x02)
	}
}

// ServeSerialPath puts the cameras on an existing serial device as a daisy chain (one end of
// a socat pty pair, or a real port) and returns its address, "serial:PATH".
func (s *Sim) ServeSerialPath(path string) (string, error) {
	return s.ServeLineEnd(path, s.serveSerial)
}

// OpenSerial makes a pty pair, puts the cameras on it as a daisy chain and returns the
// address for a room config, "serial:/dev/pts/N".
func (s *Sim) OpenSerial() (string, error) { return s.ServePTY(s.serveSerial) }

func (s *Sim) serveSerial(l *simkit.Line) {
	out := lineOut{l}
	r := newPacketReader(l)
	for {
		p, long, err := r.next()
		if err != nil {
			if s.Closed() || errors.Is(err, os.ErrClosed) {
				return
			}
			// EIO while no one has the other end open: wait for the driver.
			if !s.Pause(10 * time.Millisecond) {
				return
			}
			continue
		}
		s.messages.Add(1)
		mode, ok := l.Admit()
		if !ok {
			return
		}
		switch mode {
		case Silent, Drop, DropOnce:
			continue
		case Garbage:
			out.send(garbage())
			continue
		}
		if long {
			s.mu.Lock()
			if c := s.firstAddressed(); c != nil && !s.closed {
				c.emit(out, 0x60, 0x01)
			}
			s.mu.Unlock()
			continue
		}
		s.chain(p, out)
	}
}

func (s *Sim) firstAddressed() *camera {
	for _, c := range s.cams {
		if c.addr != 0 {
			return c
		}
	}
	return nil
}

// chain passes a packet along the daisy chain: broadcasts to every camera, a packet to
// address x to the camera that has it, and anything no camera takes back to the controller
// unchanged, as the last camera's VISCA OUT is wired to the controller's IN.
func (s *Sim) chain(p []byte, out replier) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	if p[0] == 0x88 {
		s.broadcast(p, out, s.cams)
		return
	}
	if p[0] >= 0x81 && p[0] <= 0x87 {
		for _, c := range s.cams {
			if c.addr == int(p[0]&0x07) {
				c.handle(p, s.now(), out)
				return
			}
		}
	}
	s.emit(out, p)
}
