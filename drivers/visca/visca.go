package visca

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/bailiff/bailiff/drivers"
	"github.com/bailiff/bailiff/drivers/transport"
)

// Ports: bare VISCA on TCP (the port clone cameras use) and VISCA over IP on UDP (Sony).
const (
	DefaultPort = 1259
	IPPort      = 52381
)

// Defaults of Options.
const (
	DefaultTimeout           = 2 * time.Second
	DefaultCompletionTimeout = 10 * time.Second
	DefaultRetransmit        = 500 * time.Millisecond
	DefaultRetries           = 3
)

// Options configures a Camera.
type Options struct {
	// Camera is the camera's address on a serial line, 1-7 (AddressSet numbers the cameras
	// of a daisy chain from the controller on). Zero means 1. Over IP the address is always
	// 1 (Sony locks it), and Camera must be 0 or 1.
	Camera int
	// Timeout bounds the wait for the first reply to a message (ACK, answer or error), and
	// the set-up of a link, when the context has no sooner deadline. Zero means
	// DefaultTimeout.
	Timeout time.Duration
	// CompletionTimeout bounds the wait for a command's completion after its ACK (a move to
	// a preset takes seconds), when the context has no sooner deadline. Zero means
	// DefaultCompletionTimeout.
	CompletionTimeout time.Duration
	// Retransmit is how long VISCA over IP waits for a reply before sending a message again
	// with the same sequence number; Retries is how many times it does (negative: never).
	// Zero means DefaultRetransmit and DefaultRetries.
	Retransmit time.Duration
	Retries    int
	// MaxPanSpeed and MaxTiltSpeed are the pan-tilt speeds Drive uses at ±1: 1-18h and
	// 1-17h. Zero means 18h and 14h (the tilt maximum of older models).
	MaxPanSpeed, MaxTiltSpeed int
	// Serial holds the line settings of a serial address (9600 8N1 when zero).
	Serial transport.Options
	// Dial, when not nil, opens the link instead of transport.Dial (tests). The address
	// still says how to frame messages: a udp:// address uses VISCA over IP.
	Dial func(ctx context.Context) (net.Conn, error)
	// Logger gets debug records (reconnects, retransmissions); nil discards them.
	Logger *slog.Logger
}

// Camera is one VISCA camera. It implements drivers.Device, drivers.Powerer, drivers.PTZer
// and drivers.Presetter. Its methods are safe for concurrent use; exchanges run one at a
// time (on a serial line, one at a time for all its cameras).
type Camera struct {
	kind   string // transport.TCP, UDP or Serial
	target string // host:port, or the device path
	cam    int
	opts   Options
	log    *slog.Logger
	dial   func(ctx context.Context) (net.Conn, error)
	line   *line // serial: the shared line

	mu sync.Mutex // held for a whole exchange

	cmu    sync.Mutex // guards the fields below
	closed bool
	tcp    *stream
	ip     *ipLink
}

var (
	_ drivers.Device    = (*Camera)(nil)
	_ drivers.Powerer   = (*Camera)(nil)
	_ drivers.PTZer     = (*Camera)(nil)
	_ drivers.Presetter = (*Camera)(nil)
)

// New returns a Camera at address, in one of the forms of drivers/transport:
// "host[:port]" or "tcp://host[:port]" for bare VISCA on TCP (port DefaultPort),
// "udp://host[:port]" for VISCA over IP (port IPPort), "serial:/dev/ttyUSB0" for RS-232
// (cameras on one line share it). New does not touch the network or the port: the link is
// opened by the first exchange, and again after it is lost.
func New(address string, opts Options) (*Camera, error) {
	kind, target, err := transport.Parse(address, transport.Options{TCPPort: DefaultPort, UDPPort: IPPort})
	if err != nil {
		return nil, fmt.Errorf("visca: %w: %w", err, drivers.ErrBadArgs)
	}
	if opts.Camera == 0 {
		opts.Camera = 1
	}
	switch {
	case opts.Camera < 1 || opts.Camera > 7:
		return nil, fmt.Errorf("visca: camera address %d: want 1-7: %w", opts.Camera, drivers.ErrBadArgs)
	case opts.Camera != 1 && kind != transport.Serial:
		return nil, fmt.Errorf("visca: camera address %d: over IP the camera is always 1; addresses 2-7 are for daisy chains on a serial line: %w",
			opts.Camera, drivers.ErrBadArgs)
	}
	if opts.MaxPanSpeed == 0 {
		opts.MaxPanSpeed = MaxPanSpeed
	}
	if opts.MaxTiltSpeed == 0 {
		opts.MaxTiltSpeed = defTiltSpeed
	}
	if opts.MaxPanSpeed < 1 || opts.MaxPanSpeed > MaxPanSpeed || opts.MaxTiltSpeed < 1 || opts.MaxTiltSpeed > MaxTiltSpeed {
		return nil, fmt.Errorf("visca: speeds %d/%d: want pan 1-%d, tilt 1-%d: %w",
			opts.MaxPanSpeed, opts.MaxTiltSpeed, MaxPanSpeed, MaxTiltSpeed, drivers.ErrBadArgs)
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.CompletionTimeout <= 0 {
		opts.CompletionTimeout = DefaultCompletionTimeout
	}
	if opts.Retransmit <= 0 {
		opts.Retransmit = DefaultRetransmit
	}
	if opts.Retries == 0 {
		opts.Retries = DefaultRetries
	}
	log := drivers.Logger(opts.Logger)
	c := &Camera{kind: kind, target: target, cam: opts.Camera, opts: opts, log: log}
	c.dial = opts.Dial
	if c.dial == nil {
		topts := opts.Serial
		topts.TCPPort, topts.UDPPort = DefaultPort, IPPort
		c.dial = func(ctx context.Context) (net.Conn, error) { return transport.Dial(ctx, address, topts) }
	}
	if kind == transport.Serial {
		c.line, err = acquireLine(target, opts.Serial, c.dial)
		if err != nil {
			return nil, fmt.Errorf("visca: %w", err)
		}
	}
	return c, nil
}

// Option keys of the driver registration.
var optionKeys = []string{"camera", "baud", "data_bits", "parity", "stop_bits", "max_pan_speed", "max_tilt_speed"}

func init() {
	drivers.Register(drivers.Info{
		Name: "visca",
		Description: "Sony VISCA PTZ cameras on RS-232 (up to 7 daisy-chained), VISCA over IP (UDP 52381) " +
			"and bare VISCA on TCP 1259: power, pan/tilt/zoom drive, presets, position",
		Options:     optionKeys,
		DefaultPort: DefaultPort,
		New:         factory,
	})
}

// factory makes a Camera for one device of a room config. It does not touch the network.
func factory(cfg drivers.Config) (drivers.Device, error) {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("visca: device %q: "+format+": %w", append(append([]any{cfg.ID}, a...), drivers.ErrBadArgs)...)
	}
	for k := range cfg.Options {
		known := false
		for _, o := range optionKeys {
			known = known || k == o
		}
		if !known {
			return nil, bad("unknown option %q (want %s)", k, strings.Join(optionKeys, ", "))
		}
	}
	if strings.TrimSpace(cfg.Address) == "" {
		return nil, bad("no address")
	}
	opts := Options{Logger: cfg.Logger}
	num := func(key string, lo, hi int, dst *int) error {
		v, ok := cfg.Options[key]
		if !ok {
			return nil
		}
		n, err := strconv.ParseInt(v, 0, 32)
		if err != nil || n < int64(lo) || n > int64(hi) {
			return bad("option %s %q: want %d-%d", key, v, lo, hi)
		}
		*dst = int(n)
		return nil
	}
	if err := num("camera", 1, 7, &opts.Camera); err != nil {
		return nil, err
	}
	if err := num("max_pan_speed", 1, MaxPanSpeed, &opts.MaxPanSpeed); err != nil {
		return nil, err
	}
	if err := num("max_tilt_speed", 1, MaxTiltSpeed, &opts.MaxTiltSpeed); err != nil {
		return nil, err
	}
	if err := transport.SerialOptions(cfg.Options, &opts.Serial); err != nil {
		return nil, bad("%v", err)
	}
	if kind, _, err := transport.Parse(cfg.Address, transport.Options{TCPPort: DefaultPort, UDPPort: IPPort}); err == nil && kind != transport.Serial {
		for _, k := range []string{"baud", "data_bits", "parity", "stop_bits"} {
			if _, ok := cfg.Options[k]; ok {
				return nil, bad("option %s applies to serial lines, not to %s", k, cfg.Address)
			}
		}
	}
	return New(cfg.Address, opts)
}

// Close closes the link (a serial line when its last camera closes). Calls after Close fail
// with drivers.ErrUnreachable.
func (c *Camera) Close() error {
	c.cmu.Lock()
	if c.closed {
		c.cmu.Unlock()
		return nil
	}
	c.closed = true
	var err error
	if c.tcp != nil {
		err = c.tcp.conn.Close()
		c.tcp = nil
	}
	if c.ip != nil {
		err = c.ip.conn.Close()
		c.ip = nil
	}
	c.cmu.Unlock()
	if c.line != nil {
		c.line.release()
	}
	if err != nil && !errors.Is(err, net.ErrClosed) {
		return fmt.Errorf("visca: close: %w", err)
	}
	return nil
}

// Command sends a command, its message bytes without the header and the terminator (for
// CAM_Power On: 01 04 00 02), and returns at its completion. An error message of the camera
// comes back as a *ReplyError in the chain.
func (c *Camera) Command(ctx context.Context, body ...byte) error {
	if err := checkBody(body); err != nil {
		return fmt.Errorf("visca: command: %w", err)
	}
	_, err := c.exchange(ctx, fmt.Sprintf("command [% X]", body), packet(c.cam, body...), false)
	return err
}

// Inquire sends an inquiry, its message bytes without header and terminator (for
// CAM_PowerInq: 09 04 00), and returns the answer's bytes after "y0 50".
func (c *Camera) Inquire(ctx context.Context, body ...byte) ([]byte, error) {
	if err := checkBody(body); err != nil {
		return nil, fmt.Errorf("visca: inquiry: %w", err)
	}
	return c.exchange(ctx, fmt.Sprintf("inquiry [% X]", body), packet(c.cam, body...), true)
}

func checkBody(body []byte) error {
	if len(body) < 1 || len(body) > maxPacket-2 {
		return fmt.Errorf("%d message bytes: want 1-%d: %w", len(body), maxPacket-2, drivers.ErrBadArgs)
	}
	for _, b := range body {
		if b == terminator {
			return fmt.Errorf("FF inside a message: %w", drivers.ErrBadArgs)
		}
	}
	return nil
}

// SetPower switches the camera on (CAM_Power On) or to standby. It returns at the
// completion, once the camera has started (or stopped). While it starts up, commands are
// refused as not executable: drivers.ErrBusy.
func (c *Camera) SetPower(ctx context.Context, on bool) error {
	_, err := c.exchange(ctx, "power "+drivers.OnOff(on), cmdPower(c.cam, on), false)
	return err
}

// Drive moves the camera: pan and tilt (Pan-tiltDrive) and zoom (CAM_Zoom variable), each
// -1…1: the sign is the direction (pan right, tilt up, zoom tele are positive), the size the
// speed; 0 stops that axis, and Drive(0, 0, 0) stops the camera. It sends two commands, pan
// and tilt first, and returns at the completion of both.
func (c *Camera) Drive(ctx context.Context, pan, tilt, zoom float64) error {
	for _, v := range []struct {
		n string
		v float64
	}{{"pan", pan}, {"tilt", tilt}, {"zoom", zoom}} {
		if math.IsNaN(v.v) || v.v < -1 || v.v > 1 {
			return fmt.Errorf("visca: ptz: %s %v out of range -1…1: %w", v.n, v.v, drivers.ErrBadArgs)
		}
	}
	vv := panTiltSpeed(pan, c.opts.MaxPanSpeed)
	ww := panTiltSpeed(tilt, c.opts.MaxTiltSpeed)
	what := fmt.Sprintf("pan-tilt drive %.2f %.2f", pan, tilt)
	if pan == 0 && tilt == 0 {
		what = "pan-tilt stop"
	}
	if _, err := c.exchange(ctx, what, cmdPanTilt(c.cam, vv, ww, sign(pan), sign(tilt)), false); err != nil {
		return err
	}
	what = fmt.Sprintf("zoom %.2f", zoom)
	if zoom == 0 {
		what = "zoom stop"
	}
	_, err := c.exchange(ctx, what, cmdZoom(c.cam, sign(zoom), zoomSpeed(zoom)), false)
	return err
}

func sign(v float64) int {
	switch {
	case v > 0:
		return 1
	case v < 0:
		return -1
	}
	return 0
}

// maxPreset is the highest preset number a packet can carry (FF is the terminator). Most
// cameras have fewer and answer a syntax error (drivers.ErrBadArgs) beyond theirs.
const maxPreset = 0xFE

// RecallPreset moves the camera to preset n (CAM_Memory Recall, numbered from 0 as on the
// wire) and returns at the completion, when it is there.
func (c *Camera) RecallPreset(ctx context.Context, n int) error {
	if n < 0 || n > maxPreset {
		return fmt.Errorf("visca: preset recall %d: want 0-%d: %w", n, maxPreset, drivers.ErrBadArgs)
	}
	_, err := c.exchange(ctx, fmt.Sprintf("preset recall %d", n), cmdPreset(c.cam, presetRecall, byte(n)), false)
	return err
}

// StorePreset stores the current position as preset n (CAM_Memory Set).
func (c *Camera) StorePreset(ctx context.Context, n int) error {
	if n < 0 || n > maxPreset {
		return fmt.Errorf("visca: preset store %d: want 0-%d: %w", n, maxPreset, drivers.ErrBadArgs)
	}
	_, err := c.exchange(ctx, fmt.Sprintf("preset store %d", n), cmdPreset(c.cam, presetSet, byte(n)), false)
	return err
}

// Home moves pan and tilt to the centre (Pan-tiltDrive Home) and returns when there.
func (c *Camera) Home(ctx context.Context) error {
	_, err := c.exchange(ctx, "home", cmdHome(c.cam), false)
	return err
}

// MoveTo moves pan and tilt to an absolute position (Pan-tiltDrive AbsolutePosition) at
// speed (0, 1] of the fastest, and returns when there. Positions are the camera's signed
// units, as Poll reports them (on the EVI-D70, pan F725h…08DBh is -170°…+170°).
func (c *Camera) MoveTo(ctx context.Context, pan, tilt int, speed float64) error {
	switch {
	case pan < math.MinInt16 || pan > math.MaxInt16 || tilt < math.MinInt16 || tilt > math.MaxInt16:
		return fmt.Errorf("visca: move to %d %d: positions are 16-bit signed: %w", pan, tilt, drivers.ErrBadArgs)
	case math.IsNaN(speed) || speed <= 0 || speed > 1:
		return fmt.Errorf("visca: move to %d %d: speed %v out of range (0, 1]: %w", pan, tilt, speed, drivers.ErrBadArgs)
	}
	vv := panTiltSpeed(speed, c.opts.MaxPanSpeed)
	ww := panTiltSpeed(speed, c.opts.MaxTiltSpeed)
	_, err := c.exchange(ctx, fmt.Sprintf("move to %d %d", pan, tilt), cmdAbsolute(c.cam, vv, ww, int16(pan), int16(tilt)), false)
	return err
}

// ZoomTo zooms to a position (CAM_Zoom Direct): 0 is the wide end, 4000h the optical tele end
// of most models. It returns when there.
func (c *Camera) ZoomTo(ctx context.Context, pos int) error {
	if pos < 0 || pos > 0xFFFF {
		return fmt.Errorf("visca: zoom to %d: want 0-65535: %w", pos, drivers.ErrBadArgs)
	}
	_, err := c.exchange(ctx, fmt.Sprintf("zoom to %d", pos), cmdZoomDirect(c.cam, uint16(pos)), false)
	return err
}

// Version asks the camera's vendor, model and ROM (CAM_VersionInq).
func (c *Camera) Version(ctx context.Context) (Version, error) {
	data, err := c.exchange(ctx, "version", inqVersion(c.cam), true)
	if err != nil {
		return Version{}, err
	}
	v, err := parseVersion(data)
	if err != nil {
		return Version{}, fmt.Errorf("visca: version: %w", err)
	}
	return v, nil
}

// Poll asks the camera its power, zoom position, pan-tilt position and model; see the package
// documentation for the fields and for when it returns a state together with an error.
func (c *Camera) Poll(ctx context.Context) (drivers.State, error) {
	st := drivers.State{}
	var faults []string
	for _, q := range inquiries {
		data, err := c.exchange(ctx, "poll "+q.name, q.build(c.cam), true)
		if err != nil {
			var re *ReplyError
			if !errors.As(err, &re) {
				return nil, err
			}
			if errors.Is(re, drivers.ErrDevice) {
				faults = append(faults, q.name+": "+re.Error())
			}
			continue // syntax error, not executable: not supported, or not now: leave it out
		}
		fields, err := q.decode(data)
		if err != nil {
			faults = append(faults, q.name+": "+err.Error())
			continue
		}
		for k, v := range fields {
			st[k] = v
		}
	}
	if len(faults) > 0 {
		return st, fmt.Errorf("visca: poll: %s: %w", strings.Join(faults, "; "), drivers.ErrDevice)
	}
	return st, nil
}
