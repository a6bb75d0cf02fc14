// Package bridge is the host side of one firmware-bridge serial line (docs/FIRMWARE-PROTOCOL.md):
// it opens the port, asks the device who it is, keeps its state, passes its events on, sends
// it commands and matches their acks, pings it while idle, and notices when it goes away and
// comes back (hot-plug). It also drives firmware updates (update.go).
//
// A Bridge is made by New and runs from Start until Close. Everything it learns is reported
// through the callbacks of its Config and can be read at any time (Info, State).
package bridge

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"slices"
	"sync"
	"time"

	"github.com/bailiff/bailiff/drivers/transport"
	"github.com/bailiff/bailiff/firmware-bridge/frame"
)

// Errors of a Bridge.
var (
	// ErrNotConnected: the device has not said hello on an open port, or has stopped answering.
	ErrNotConnected = errors.New("bridge: device not connected")
	// ErrNoAck: a command was sent (and sent again) without an ack.
	ErrNoAck = errors.New("bridge: no ack from the device")
	// ErrClosed: the bridge was closed.
	ErrClosed = errors.New("bridge: closed")
)

// Config describes the line to one device.
type Config struct {
	// Address is the serial port, "serial:/dev/ttyUSB0" (see drivers/transport).
	Address string
	// Serial holds the line settings (Baud, default 115200).
	Serial transport.Options

	// PingEvery is how often an idle device is pinged (default 2s); after MissedPings pings
	// without a pong (default 2) the device counts as gone until it says hello again.
	PingEvery   time.Duration
	MissedPings int
	// Retry is how long to wait before opening the port again after it failed or vanished
	// (default 500ms).
	Retry time.Duration
	// AckTimeout is how long one attempt of a command waits for its ack (default 500ms); a
	// command is sent up to 3 times with the same id.
	AckTimeout time.Duration

	// Callbacks, each optional, called from the bridge's goroutine (they must not block long
	// and must not call Close).
	OnHello func(h frame.Hello)        // a hello: the device (re)started or answered a hello-request
	OnState func(fields []frame.Field) // the device's state, after a state frame or a resync
	OnEvent func(e frame.Event)        // something happened at the device
	OnLink  func(up bool, err error)   // the device became reachable (up) or was lost (err says why)
	OnDrop  func(err error)            // a frame read from the line was dropped (protocol §4)
	Logger  *slog.Logger               // debug records; nil discards them
}

// Bridge runs one serial line.
type Bridge struct {
	cfg Config
	log *slog.Logger

	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}

	mu      sync.Mutex
	up      bool
	lastErr error
	hello   *frame.Hello
	state   []frame.Field
	w       *frame.Writer // nil when the port is not open
	waiting map[uint16]chan *frame.Ack
	nextID  uint16
	stats   frame.Stats // counters of the sessions before the current one
	reader  *frame.Reader
	upd     chan frame.Message // update messages, while an update runs (update.go)
	helloCh chan struct{}      // closed and replaced at every hello
}

// New makes a bridge; Start runs it.
func New(cfg Config) *Bridge {
	if cfg.Serial.Baud == 0 {
		cfg.Serial.Baud = 115200
	}
	if cfg.PingEvery <= 0 {
		cfg.PingEvery = 2 * time.Second
	}
	if cfg.MissedPings <= 0 {
		cfg.MissedPings = 2
	}
	if cfg.Retry <= 0 {
		cfg.Retry = 500 * time.Millisecond
	}
	if cfg.AckTimeout <= 0 {
		cfg.AckTimeout = 500 * time.Millisecond
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Bridge{cfg: cfg, log: log, ctx: ctx, cancel: cancel, waiting: map[uint16]chan *frame.Ack{},
		lastErr: ErrNotConnected, helloCh: make(chan struct{})}
}

// Start opens the port (and keeps opening it) in the background.
func (b *Bridge) Start() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.done != nil {
		return
	}
	b.done = make(chan struct{})
	go func() {
		defer close(b.done)
		b.run()
	}()
}

// Close stops the bridge and closes the port.
func (b *Bridge) Close() error {
	b.cancel()
	b.mu.Lock()
	done := b.done
	b.mu.Unlock()
	if done != nil {
		<-done
	}
	return nil
}

// Info returns the device's last hello (nil before the first) and whether it is reachable now;
// when it is not, err says why.
func (b *Bridge) Info() (h *frame.Hello, up bool, err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.hello != nil {
		c := *b.hello
		h = &c
	}
	if b.up {
		return h, true, nil
	}
	return h, false, b.lastErr
}

// State returns the device's last known state.
func (b *Bridge) State() []frame.Field {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.state)
}

// Stats returns the counters of every frame read from the line since Start.
func (b *Bridge) Stats() frame.Stats {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := b.stats
	if b.reader != nil {
		s = addStats(s, b.reader.Stats())
	}
	return s
}

func addStats(a, b frame.Stats) frame.Stats {
	return frame.Stats{Frames: a.Frames + b.Frames, Garbled: a.Garbled + b.Garbled, Short: a.Short + b.Short,
		Oversized: a.Oversized + b.Oversized, BadCRC: a.BadCRC + b.BadCRC, Truncated: a.Truncated + b.Truncated,
		Unknown: a.Unknown + b.Unknown, Malformed: a.Malformed + b.Malformed}
}

// Command sends a command and waits for its ack, sending it again (same id) when an ack is
// late, up to 3 times. ctx bounds the whole exchange.
func (b *Bridge) Command(ctx context.Context, action frame.Action, fields []frame.Field) (*frame.Ack, error) {
	b.mu.Lock()
	if !b.up || b.w == nil {
		err := b.lastErr
		b.mu.Unlock()
		if err == nil { // the port just closed; the loss is being recorded
			err = ErrNotConnected
		}
		return nil, err
	}
	b.nextID++
	id := b.nextID
	ch := make(chan *frame.Ack, 1)
	b.waiting[id] = ch
	w := b.w
	b.mu.Unlock()
	defer func() {
		b.mu.Lock()
		delete(b.waiting, id)
		b.mu.Unlock()
	}()
	cmd := &frame.Command{ID: id, Action: action, Fields: fields}
	for attempt := 0; attempt < 3; attempt++ {
		if err := w.Write(cmd); err != nil {
			if errors.Is(err, frame.ErrInvalid) {
				return nil, err
			}
			return nil, fmt.Errorf("bridge: send command: %w: %w", ErrNotConnected, err)
		}
		t := time.NewTimer(b.cfg.AckTimeout)
		select {
		case a := <-ch:
			t.Stop()
			return a, nil
		case <-ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("bridge: command %d: %w", id, ctx.Err())
		case <-b.ctx.Done():
			t.Stop()
			return nil, ErrClosed
		case <-t.C:
			b.log.Debug("bridge: ack late, sending the command again", "id", id, "attempt", attempt+1)
		}
	}
	return nil, fmt.Errorf("%w to command %d after 3 attempts of %v", ErrNoAck, id, b.cfg.AckTimeout)
}

// send writes m on the open line.
func (b *Bridge) send(m frame.Message) error {
	b.mu.Lock()
	w := b.w
	b.mu.Unlock()
	if w == nil {
		return ErrNotConnected
	}
	return w.Write(m)
}

// helloSignal returns a channel closed at the next hello.
func (b *Bridge) helloSignal() <-chan struct{} {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.helloCh
}

// run opens the port, runs a session on it until it fails, and opens it again, until Close.
func (b *Bridge) run() {
	for b.ctx.Err() == nil {
		conn, err := transport.Dial(b.ctx, b.cfg.Address, b.cfg.Serial)
		if err != nil {
			b.lost(fmt.Errorf("bridge: open %s: %w", b.cfg.Address, err))
		} else {
			err = b.session(conn)
			conn.Close()
			if b.ctx.Err() != nil {
				break
			}
			b.lost(fmt.Errorf("bridge: %s: %w", b.cfg.Address, err))
		}
		select {
		case <-b.ctx.Done():
		case <-time.After(b.cfg.Retry):
		}
	}
	b.mu.Lock()
	b.up, b.lastErr, b.w = false, ErrClosed, nil
	b.mu.Unlock()
}

// lost marks the device unreachable (once per loss) with err.
func (b *Bridge) lost(err error) {
	b.mu.Lock()
	was := b.up
	b.up, b.lastErr = false, err
	b.mu.Unlock()
	if was {
		b.log.Info("bridge: device lost", "error", err)
		if b.cfg.OnLink != nil {
			b.cfg.OnLink(false, err)
		}
	}
}

// session runs one open port: hello-request, then frames, pings and resyncs until the port
// fails or the bridge closes.
func (b *Bridge) session(conn io.ReadWriteCloser) error {
	r := frame.NewReader(conn)
	r.OnDrop = func(err error) {
		b.log.Debug("bridge: dropped a frame", "error", err)
		if b.cfg.OnDrop != nil {
			b.cfg.OnDrop(err)
		}
	}
	w := frame.NewWriter(conn)
	b.mu.Lock()
	b.w, b.reader = w, r
	b.mu.Unlock()
	defer func() {
		b.mu.Lock()
		b.w, b.reader = nil, nil
		b.stats = addStats(b.stats, r.Stats())
		b.mu.Unlock()
	}()

	msgs := make(chan frame.Message, 16)
	readErr := make(chan error, 1)
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		for {
			m, err := r.Next()
			if err != nil {
				if errors.Is(err, transport.ErrTimeout) {
					continue
				}
				readErr <- err
				return
			}
			select {
			case msgs <- m:
			case <-stop:
				return
			}
		}
	}()
	closeOnStop := make(chan struct{})
	defer close(closeOnStop)
	go func() { // unblock the reader at Close
		select {
		case <-b.ctx.Done():
			conn.Close()
		case <-closeOnStop:
		}
	}()

	if err := w.Write(&frame.HelloRequest{}); err != nil {
		return fmt.Errorf("write hello-request: %w", err)
	}
	ping := time.NewTicker(b.cfg.PingEvery)
	defer ping.Stop()
	var nonce uint32
	missed := 0
	for {
		select {
		case <-b.ctx.Done():
			return ErrClosed
		case err := <-readErr:
			if errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) {
				return fmt.Errorf("port closed: %w", err)
			}
			return fmt.Errorf("read: %w", err)
		case <-ping.C:
			if missed >= b.cfg.MissedPings {
				b.lost(fmt.Errorf("bridge: %s: no answer to %d pings", b.cfg.Address, missed))
				// Keep asking who is there: a device that comes back says hello.
				if err := w.Write(&frame.HelloRequest{}); err != nil {
					return fmt.Errorf("write hello-request: %w", err)
				}
			}
			nonce++
			missed++
			if err := w.Write(&frame.Ping{Nonce: nonce}); err != nil {
				return fmt.Errorf("write ping: %w", err)
			}
		case m := <-msgs:
			missed = 0 // anything from the device shows it is there
			switch m := m.(type) {
			case *frame.Hello:
				b.onHello(m)
			case *frame.Ping:
				if err := w.Write(&frame.Pong{Nonce: m.Nonce}); err != nil {
					return fmt.Errorf("write pong: %w", err)
				}
			case *frame.Pong:
			case *frame.State:
				b.setState(m.Fields)
			case *frame.Event:
				if b.cfg.OnEvent != nil {
					b.cfg.OnEvent(*m)
				}
			case *frame.Ack:
				b.mu.Lock()
				ch := b.waiting[m.ID]
				b.mu.Unlock()
				if ch != nil {
					select {
					case ch <- m:
					default:
					}
				}
				if m.Status == frame.StatusOK {
					b.setState(m.Fields)
				}
			default:
				b.mu.Lock()
				upd := b.upd
				b.mu.Unlock()
				if upd != nil {
					select {
					case upd <- m:
					default:
						b.log.Debug("bridge: update message dropped (no room)", "type", m.Type().String())
					}
				} else {
					b.log.Debug("bridge: ignored", "type", m.Type().String())
				}
			}
		}
	}
}

// onHello records a hello, marks the device reachable and re-reads its state (the device may
// have rebooted and lost what it was told, or changed while it was away).
func (b *Bridge) onHello(h *frame.Hello) {
	b.mu.Lock()
	c := *h
	same := b.hello != nil && *b.hello == c
	b.hello = &c
	was := b.up
	b.up, b.lastErr = true, nil
	close(b.helloCh)
	b.helloCh = make(chan struct{})
	b.mu.Unlock()
	lvl := slog.LevelInfo
	if same && was {
		lvl = slog.LevelDebug // the answer to a hello-request, nothing new
	}
	b.log.Log(b.ctx, lvl, "bridge: hello", "device_type", h.DeviceType, "version", h.Version.String(), "serial", h.Serial, "flags", h.Flags)
	if b.cfg.OnHello != nil {
		b.cfg.OnHello(c)
	}
	if !was && b.cfg.OnLink != nil {
		b.cfg.OnLink(true, nil)
	}
	go func() {
		ctx, cancel := context.WithTimeout(b.ctx, 4*b.cfg.AckTimeout)
		defer cancel()
		if _, err := b.Command(ctx, frame.ActionGet, nil); err != nil {
			b.log.Debug("bridge: resync failed", "error", err)
		}
	}()
}

func (b *Bridge) setState(f []frame.Field) {
	b.mu.Lock()
	b.state = slices.Clone(f)
	b.mu.Unlock()
	if b.cfg.OnState != nil {
		b.cfg.OnState(slices.Clone(f))
	}
}
