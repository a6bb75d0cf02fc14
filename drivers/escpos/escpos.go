package escpos

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bailiff/bailiff/drivers"
	"github.com/bailiff/bailiff/drivers/internal/devlink"
	"github.com/bailiff/bailiff/drivers/transport"
	"github.com/bailiff/bailiff/internal/wire"
)

// DefaultPort is the raw printing TCP port of network ticket printers.
const DefaultPort = 9100

// Defaults of Options.
const (
	DefaultTimeout    = 3 * time.Second
	DefaultMinBackoff = 200 * time.Millisecond
	DefaultMaxBackoff = 10 * time.Second
)

// Options configures a Printer.
type Options struct {
	// Layout is the ticket layout; zero values mean 48 characters a line and ascii.
	Layout Layout
	// Timeout bounds one exchange (connect, request, answer) when the context has no sooner
	// deadline. Zero means DefaultTimeout.
	Timeout time.Duration
	// MinBackoff and MaxBackoff bound the wait between failed connection attempts; default
	// 200 ms and 10 s.
	MinBackoff, MaxBackoff time.Duration
	// Now gives the time printed on tickets; nil means time.Now.
	Now func() time.Time
	// Logger gets debug records (reconnects); nil discards them.
	Logger *slog.Logger
}

// Printer is one ESC/POS ticket printer on a network port or a serial line. It implements
// drivers.Device and drivers.Printer. Its methods are safe for concurrent use; exchanges run
// one at a time.
type Printer struct {
	dial func(ctx context.Context) (net.Conn, error)
	opts Options
	log  *slog.Logger

	mu sync.Mutex // held for a whole exchange

	links devlink.Keeper[net.Conn]

	cmu      sync.Mutex // guards the fields below
	failures int        // connection attempts failed in a row
	nextDial time.Time  // no attempt before
	lastErr  error

	connections atomic.Int64
}

var (
	_ drivers.Device  = (*Printer)(nil)
	_ drivers.Printer = (*Printer)(nil)
)

// New returns a Printer that reaches the printer through dial, which it calls whenever it
// needs a connection (the first exchange, and after one was lost). New does not dial.
func New(dial func(ctx context.Context) (net.Conn, error), opts Options) *Printer {
	if opts.Layout.Width == 0 {
		opts.Layout.Width = DefaultWidth
	}
	opts.Layout.Width = max(MinWidth, min(MaxWidth, opts.Layout.Width))
	if opts.Layout.Encoding == "" {
		opts.Layout.Encoding = "ascii"
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	opts.MinBackoff, opts.MaxBackoff = devlink.BackoffBounds(opts.MinBackoff, opts.MaxBackoff, DefaultMinBackoff, DefaultMaxBackoff)
	if opts.Now == nil {
		opts.Now = time.Now
	}
	log := drivers.Logger(opts.Logger)
	p := &Printer{dial: dial, opts: opts, log: log}
	p.links.Closed, p.links.Limit = errClosed, opts.Timeout
	return p
}

// Dial returns a dial function for New for an address of drivers/transport: "host",
// "host:port" (DefaultPort when none) or "serial:/dev/ttyUSB0" with the serial settings of so.
func Dial(addr string, so transport.Options) func(ctx context.Context) (net.Conn, error) {
	so.TCPPort = DefaultPort
	return func(ctx context.Context) (net.Conn, error) { return transport.Dial(ctx, addr, so) }
}

var optionKeys = []string{"width", "encoding", "baud", "data_bits", "parity", "stop_bits"}

func init() {
	drivers.Register(drivers.Info{
		Name:        "escpos",
		Description: "ESC/POS ticket printers over raw TCP (9100) or serial: queue tickets with QR codes, paper and cover status",
		Options:     optionKeys,
		DefaultPort: DefaultPort,
		New:         factory,
	})
}

// ParseOptions reads a device's options: "width" (characters a line, 16-96; default 48),
// "encoding" ("ascii" or "utf-8"; default ascii) and the serial settings of
// transport.SerialOptions ("baud", "data_bits", "parity", "stop_bits").
func ParseOptions(opts map[string]string) (Layout, transport.Options, error) {
	l := Layout{Width: DefaultWidth, Encoding: "ascii"}
	var so transport.Options
	keys := make([]string, 0, len(opts))
	for k := range opts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := strings.TrimSpace(opts[k])
		switch k {
		case "width":
			n, err := strconv.Atoi(v)
			if err != nil || n < MinWidth || n > MaxWidth {
				return l, so, fmt.Errorf("option width %q: want %d-%d characters: %w", v, MinWidth, MaxWidth, drivers.ErrBadArgs)
			}
			l.Width = n
		case "encoding":
			switch strings.ToLower(v) {
			case "ascii":
				l.Encoding = "ascii"
			case "utf-8", "utf8":
				l.Encoding = "utf-8"
			default:
				return l, so, fmt.Errorf("option encoding %q: want ascii or utf-8: %w", v, drivers.ErrBadArgs)
			}
		case "baud", "data_bits", "parity", "stop_bits":
		default:
			return l, so, fmt.Errorf("unknown option %q (want %s): %w", k, strings.Join(optionKeys, ", "), drivers.ErrBadArgs)
		}
	}
	if err := transport.SerialOptions(opts, &so); err != nil {
		return l, so, fmt.Errorf("%w: %w", err, drivers.ErrBadArgs)
	}
	return l, so, nil
}

// factory makes a Printer for one device of a room config. It does not touch the network.
func factory(cfg drivers.Config) (drivers.Device, error) {
	layout, so, err := ParseOptions(cfg.Options)
	if err != nil {
		return nil, fmt.Errorf("escpos: device %q: %w", cfg.ID, err)
	}
	addr := strings.TrimSpace(cfg.Address)
	if addr == "" {
		return nil, fmt.Errorf("escpos: device %q: no address: %w", cfg.ID, drivers.ErrBadArgs)
	}
	kind, _, err := transport.Parse(addr, transport.Options{TCPPort: DefaultPort})
	if err == nil && kind == transport.UDP {
		err = fmt.Errorf("a udp address; want host:port (TCP) or serial:/dev/…")
	}
	if err != nil {
		return nil, fmt.Errorf("escpos: device %q: address: %w: %w", cfg.ID, err, drivers.ErrBadArgs)
	}
	return New(Dial(addr, so), Options{Layout: layout, Logger: cfg.Logger}), nil
}

// Close closes the connection. Calls after Close fail with drivers.ErrUnreachable.
func (p *Printer) Close() error {
	p.links.Close()
	return nil
}

// Status sends the four real-time status requests (DLE EOT 1, 2, 3, 4) in one write and
// decodes the four bytes of the answer.
func (p *Printer) Status(ctx context.Context) (Status, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.status(ctx, "status")
}

// Poll returns the printer's status as {paper, cover, online, error} (see Status.State).
// When the printer cannot print (paper out, cover open, an error, offline) it returns the
// state with a *FaultError wrapping drivers.ErrDevice, so the device shows as reachable with
// an error.
func (p *Printer) Poll(ctx context.Context) (drivers.State, error) {
	st, err := p.Status(ctx)
	if err != nil {
		return nil, err
	}
	if f := st.Faults(); len(f) > 0 {
		return st.State(), fmt.Errorf("escpos: poll: %w", &FaultError{Faults: f})
	}
	return st.State(), nil
}

// Print prints a queue ticket (see Layout.Ticket). It asks for the status first and prints
// nothing when the printer cannot print (a *FaultError: paper out, cover open, …); then it
// sends the ticket and asks for the status again, which returns once the printer has taken
// in the ticket and reports a fault that came up while printing. A ticket is never sent
// twice: a connection lost while it is being sent is an error, not a retry.
func (p *Printer) Print(ctx context.Context, args wire.PrintArgs) error {
	data, err := p.opts.Layout.Ticket(args, p.opts.Now())
	if err != nil {
		return fmt.Errorf("escpos: print: %w", err)
	}
	what := "print"
	if args.Number != "" {
		what = "print ticket " + strconv.Quote(args.Number)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	st, err := p.status(ctx, what)
	if err != nil {
		return err
	}
	if f := st.Faults(); len(f) > 0 {
		return fmt.Errorf("escpos: %s: printer cannot print: %w", what, &FaultError{Faults: f})
	}
	if err := p.send(ctx, data); err != nil {
		return fmt.Errorf("escpos: %s: %w", what, err)
	}
	st, err = p.status(ctx, what+": after sending")
	if err != nil {
		return err
	}
	if f := st.Faults(); len(f) > 0 {
		return fmt.Errorf("escpos: %s: the ticket may be incomplete: %w", what, &FaultError{Faults: f})
	}
	return nil
}

// Write sends raw ESC/POS bytes, once, on the current connection (dialling one if needed).
func (p *Printer) Write(ctx context.Context, data []byte) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.send(ctx, data); err != nil {
		return fmt.Errorf("escpos: write: %w", err)
	}
	return nil
}

// Connections returns how many connections the Printer has made.
func (p *Printer) Connections() int { return int(p.connections.Load()) }
