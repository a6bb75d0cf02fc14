package samsungmdc

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/bailiff/bailiff/drivers"
	"github.com/bailiff/bailiff/drivers/internal/devlink"
	"github.com/bailiff/bailiff/drivers/transport"
)

// DefaultPort is the TCP port of MDC over LAN.
const DefaultPort = 1515

// DefaultTimeout bounds one exchange when the context has no sooner deadline.
const DefaultTimeout = 3 * time.Second

// Options configures a Display.
type Options struct {
	// ID is the display ID, 0–254; Broadcast (254) reaches every display and gets no answer.
	ID byte
	// Timeout bounds one exchange (connect, frame, answer) when the context has no sooner
	// deadline. Zero means DefaultTimeout.
	Timeout time.Duration
	// Logger gets debug records (reconnects); nil discards them.
	Logger *slog.Logger
}

// Display is one Samsung display, or with the broadcast ID every display on the line. It
// implements drivers.Device, drivers.Powerer, drivers.InputSelector, drivers.Muter and
// drivers.GainSetter. Its methods are safe for concurrent use; exchanges run one at a time.
type Display struct {
	dial func(ctx context.Context) (net.Conn, error)
	opts Options
	log  *slog.Logger

	mu   sync.Mutex    // held for a whole exchange
	sent drivers.State // with the broadcast ID, the values last set; guarded by mu

	links devlink.Keeper[*link]
}

var (
	_ drivers.Device        = (*Display)(nil)
	_ drivers.Powerer       = (*Display)(nil)
	_ drivers.InputSelector = (*Display)(nil)
	_ drivers.Muter         = (*Display)(nil)
	_ drivers.GainSetter    = (*Display)(nil)
)

// New returns a Display reached through dial, which it calls whenever it needs a link (the
// first exchange, and after one was lost). New does not dial.
func New(dial func(ctx context.Context) (net.Conn, error), opts Options) *Display {
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	log := drivers.Logger(opts.Logger)
	d := &Display{dial: dial, opts: opts, log: log, sent: drivers.State{}}
	d.links.Closed, d.links.Limit = errClosed, opts.Timeout
	return d
}

// Dial returns a dial function for New that opens address as drivers/transport reads it:
// "host[:port]" or "tcp://host[:port]" (DefaultPort when none is given), or
// "serial:/dev/ttyUSB0" with the line settings of serial (9600 8N1 when zero).
func Dial(address string, serial transport.Options) func(ctx context.Context) (net.Conn, error) {
	serial.TCPPort = DefaultPort
	return func(ctx context.Context) (net.Conn, error) { return transport.Dial(ctx, address, serial) }
}

// optionKeys are the room-config options the driver takes.
var optionKeys = []string{"id", "baud", "data_bits", "parity", "stop_bits"}

func init() {
	drivers.Register(drivers.Info{
		Name:        "samsungmdc",
		Description: "Samsung displays over MDC (TCP 1515 or RS-232): power, input, volume as gain, mute, status",
		Options:     optionKeys,
		DefaultPort: DefaultPort,
		New:         factory,
	})
}

// ParseID reads a display ID option: 0–254, decimal or 0x-hex.
func ParseID(s string) (byte, error) {
	s = strings.TrimSpace(s)
	n, err := strconv.ParseUint(s, 0, 8)
	if err != nil || n > Broadcast {
		return 0, fmt.Errorf("display id %q: want 0-254 (0xfe is broadcast): %w", s, drivers.ErrBadArgs)
	}
	return byte(n), nil
}

// factory makes a Display for one device of a room config. It does not touch the network.
func factory(cfg drivers.Config) (drivers.Device, error) {
	for k := range cfg.Options {
		known := false
		for _, o := range optionKeys {
			known = known || k == o
		}
		if !known {
			return nil, fmt.Errorf("samsungmdc: device %q: unknown option %q (want %s): %w",
				cfg.ID, k, strings.Join(optionKeys, ", "), drivers.ErrBadArgs)
		}
	}
	addr := strings.TrimSpace(cfg.Address)
	if addr == "" {
		return nil, fmt.Errorf("samsungmdc: device %q: no address: %w", cfg.ID, drivers.ErrBadArgs)
	}
	var id byte
	if s, ok := cfg.Options["id"]; ok {
		var err error
		if id, err = ParseID(s); err != nil {
			return nil, fmt.Errorf("samsungmdc: device %q: %w", cfg.ID, err)
		}
	}
	var topts transport.Options
	if err := transport.SerialOptions(cfg.Options, &topts); err != nil {
		return nil, fmt.Errorf("samsungmdc: device %q: %w: %w", cfg.ID, err, drivers.ErrBadArgs)
	}
	topts.TCPPort = DefaultPort
	kind, _, err := transport.Parse(addr, topts)
	if err != nil {
		return nil, fmt.Errorf("samsungmdc: device %q: %w: %w", cfg.ID, err, drivers.ErrBadArgs)
	}
	if kind == transport.UDP {
		return nil, fmt.Errorf("samsungmdc: device %q: MDC runs over TCP or a serial line, not UDP: %w", cfg.ID, drivers.ErrBadArgs)
	}
	return New(Dial(addr, topts), Options{ID: id, Logger: cfg.Logger}), nil
}

// Close closes the link. Calls after Close fail with drivers.ErrUnreachable.
func (d *Display) Close() error {
	if err := d.links.Close(); err != nil {
		return fmt.Errorf("samsungmdc: close: %w", err)
	}
	return nil
}

// Command sends one MDC command with data (none for a get) and returns the values of the
// display's ACK: the bytes after 'A' and r-cmd. A NAK comes back as a *NakError in the
// chain. With the broadcast ID it returns nil values once the frame is sent.
func (d *Display) Command(ctx context.Context, cmd byte, data ...byte) ([]byte, error) {
	return d.exchange(ctx, fmt.Sprintf("command 0x%02x", cmd), cmd, data)
}

// set sends a set command of one value and checks the ACK echoes it.
func (d *Display) set(ctx context.Context, what string, cmd, v byte, field string, value any) error {
	vals, err := d.exchange(ctx, what, cmd, []byte{v})
	if err != nil {
		return err
	}
	if d.opts.ID == Broadcast {
		d.mu.Lock()
		d.sent[field] = value
		if cmd == CmdVolume {
			d.sent["gain_db"] = float64(v) - 100
		}
		d.mu.Unlock()
		return nil
	}
	if err := checkEcho(cmd, v, vals); err != nil {
		return fmt.Errorf("samsungmdc: %s: %w", what, err)
	}
	return nil
}

// SetPower switches the display on (0x11 1) or off (0x11 0).
func (d *Display) SetPower(ctx context.Context, on bool) error {
	var v byte
	if on {
		v = 1
	}
	return d.set(ctx, "power "+drivers.OnOff(on), CmdPower, v, "power", drivers.OnOff(on))
}

// SetInput selects an input source (0x14): a name of InputNames or an alias ("hdmi1", "dp",
// "pc"), or a code ("0x21"). Unknown names and sources that can only be reported are
// drivers.ErrBadArgs, and nothing is sent.
func (d *Display) SetInput(ctx context.Context, source string) error {
	code, err := inputCode(source)
	if err != nil {
		return fmt.Errorf("samsungmdc: input: %w", err)
	}
	return d.set(ctx, "input "+InputName(code), CmdInput, code, "input", InputName(code))
}

// SetMute mutes (0x13 1) or unmutes (0x13 0) the sound. A display has one audio channel:
// channel must be "".
func (d *Display) SetMute(ctx context.Context, channel string, on bool) error {
	if channel != "" {
		return fmt.Errorf("samsungmdc: mute: channel %q: a display has one audio channel, leave it empty: %w", channel, drivers.ErrBadArgs)
	}
	var v byte
	if on {
		v = 1
	}
	return d.set(ctx, "mute "+drivers.OnOff(on), CmdMute, v, "mute", on)
}

// SetVolume sets the volume level, 0–100 (0x12).
func (d *Display) SetVolume(ctx context.Context, level int) error {
	if level < 0 || level > 100 {
		return fmt.Errorf("samsungmdc: volume %d: want 0-100: %w", level, drivers.ErrBadArgs)
	}
	return d.set(ctx, fmt.Sprintf("volume %d", level), CmdVolume, byte(level), "volume", level)
}

// SetGain sets the volume from a gain in dB: level 100 + dB (0 dB is full volume, −100 dB
// and below silence). A positive gain, or a channel other than "", is drivers.ErrBadArgs.
func (d *Display) SetGain(ctx context.Context, channel string, db float64) error {
	if channel != "" {
		return fmt.Errorf("samsungmdc: gain: channel %q: a display has one audio channel, leave it empty: %w", channel, drivers.ErrBadArgs)
	}
	level, err := levelForGain(db)
	if err != nil {
		return fmt.Errorf("samsungmdc: gain: %w", err)
	}
	return d.set(ctx, fmt.Sprintf("gain %v dB (volume %d)", db, level), CmdVolume, level, "volume", int(level))
}

// Poll reads the display's state; see the package documentation for the fields, for the
// fallback when the status inquiry is refused, and for the broadcast ID.
func (d *Display) Poll(ctx context.Context) (drivers.State, error) {
	if d.opts.ID == Broadcast {
		return d.pollBroadcast(ctx)
	}
	vals, err := d.exchange(ctx, "poll status", CmdStatus, nil)
	var ne *NakError
	if errors.As(err, &ne) {
		return d.pollEach(ctx, ne)
	}
	if err != nil {
		return nil, err
	}
	st, err := decodeStatus(vals)
	if err != nil {
		return st, fmt.Errorf("samsungmdc: poll: %w", err)
	}
	return st, nil
}

// pollEach asks power, volume, mute and input one by one, after the status inquiry was
// refused with refused.
func (d *Display) pollEach(ctx context.Context, refused *NakError) (drivers.State, error) {
	st := drivers.State{}
	var faults []string
	naks := 0
	for _, q := range []struct {
		cmd  byte
		name string
	}{{CmdPower, "power"}, {CmdVolume, "volume"}, {CmdMute, "mute"}, {CmdInput, "input"}} {
		vals, err := d.exchange(ctx, "poll "+q.name, q.cmd, nil)
		var ne *NakError
		if errors.As(err, &ne) {
			naks++
			continue
		}
		if err != nil {
			return nil, err
		}
		fields, err := decodeValue(q.cmd, vals)
		if err != nil {
			var ve *valueError
			errors.As(err, &ve)
			faults = append(faults, ve.msg)
			continue
		}
		maps.Copy(st, fields)
	}
	if naks == 4 {
		return nil, fmt.Errorf("samsungmdc: poll: display refused the status inquiry (error code 0x%02x) and every get: %w",
			refused.Code, drivers.ErrDevice)
	}
	if len(faults) > 0 {
		return st, fmt.Errorf("samsungmdc: poll: %s: %w", strings.Join(faults, "; "), drivers.ErrDevice)
	}
	return st, nil
}

// pollBroadcast opens the link, so an unreachable line shows, and reports what was last set.
func (d *Display) pollBroadcast(ctx context.Context) (drivers.State, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("samsungmdc: poll: %w", devlink.CtxError("", err))
	}
	deadline, _ := d.links.Deadline(ctx)
	if _, _, err := d.links.Current(ctx, deadline, d.open); err != nil {
		return nil, fmt.Errorf("samsungmdc: poll: %w", err)
	}
	st := maps.Clone(d.sent)
	st["broadcast"] = true
	return st, nil
}
