package shure

import (
	"context"
	"errors"
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
)

// DefaultPort is the TCP port of Shure command strings.
const DefaultPort = 2202

// Defaults of Options.
const (
	DefaultTimeout    = 3 * time.Second
	DefaultMeterRate  = 200 * time.Millisecond
	DefaultChannels   = 8
	DefaultMinBackoff = 100 * time.Millisecond
	DefaultMaxBackoff = 10 * time.Second
	// MinMeterRate and MaxMeterRate bound METER_RATE ("100 = minimum", "99999 = maximum").
	MinMeterRate = 100 * time.Millisecond
	MaxMeterRate = 99999 * time.Millisecond
	// Presets is the number of presets of an MXA910/MXA920 and a P300 (PRESET 1-10).
	Presets = 10
)

// Models, as the "model" option names them. They differ in how a channel is written:
// "x" (one digit, 1-9) on the MXA ceiling and table arrays, "xx" (two digits, 01-28) on the
// P300.
const (
	ModelMXA  = "mxa"
	ModelP300 = "p300"
)

// models maps the accepted "model" option values to a model.
var models = map[string]string{
	"": ModelMXA, "mxa": ModelMXA, "mxa910": ModelMXA, "mxa920": ModelMXA, "mxa710": ModelMXA, "mxa310": ModelMXA,
	"p300": ModelP300,
}

// Options configures a Device.
type Options struct {
	// Model is ModelMXA (default) or ModelP300.
	Model string
	// Channels is how many channels Poll reports (mute and gain of 1…Channels); default 8.
	Channels int
	// MeterRate is how often the device sends levels (METER_RATE); 0 turns metering off.
	// Default DefaultMeterRate when Options come from the factory; New takes it as given.
	MeterRate time.Duration
	// Timeout bounds one exchange when the context has no sooner deadline; default 3 s.
	Timeout time.Duration
	// MinBackoff and MaxBackoff bound the wait between connection attempts; default 100 ms
	// and 10 s.
	MinBackoff, MaxBackoff time.Duration
	// Notify gets levels and the state changes the device reports by itself; nil discards.
	Notify drivers.Notifier
	// Logger gets debug records (connects, reports not understood); nil discards them.
	Logger *slog.Logger
}

// Device is one Shure MXA microphone array or P300 processor. It implements drivers.Device,
// drivers.Muter, drivers.GainSetter and drivers.Presetter. Its methods are safe for
// concurrent use; exchanges run one at a time.
type Device struct {
	dial   func(ctx context.Context) (net.Conn, error)
	opts   Options
	maxCh  int
	wide   bool // two-digit channels
	notify drivers.Notifier
	log    *slog.Logger

	ctx    context.Context // ends at Close
	cancel context.CancelFunc
	kick   chan struct{}
	wg     sync.WaitGroup

	reqMu sync.Mutex // held for a whole exchange

	mu       sync.Mutex // guards the fields below
	started  bool
	closed   bool
	link     *link
	linkAt   time.Time
	attempts int   // failed connection attempts
	lastErr  error // of the last one
	changed  chan struct{}
	pending  *request
	cache    *cache
	polled   bool

	connected atomic.Int64
}

var (
	_ drivers.Device     = (*Device)(nil)
	_ drivers.Muter      = (*Device)(nil)
	_ drivers.GainSetter = (*Device)(nil)
	_ drivers.Presetter  = (*Device)(nil)
)

// New returns a Device that reaches the device through dial. It does not dial: the first
// exchange starts a goroutine that keeps one connection open (reconnecting with backoff)
// until Close. New panics on an unknown Options.Model (a programming error).
func New(dial func(ctx context.Context) (net.Conn, error), opts Options) *Device {
	model, ok := models[strings.ToLower(opts.Model)]
	if !ok {
		panic(fmt.Sprintf("shure: unknown model %q", opts.Model))
	}
	opts.Model = model
	if opts.Channels <= 0 {
		opts.Channels = DefaultChannels
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	opts.MinBackoff, opts.MaxBackoff = devlink.BackoffBounds(opts.MinBackoff, opts.MaxBackoff, DefaultMinBackoff, DefaultMaxBackoff)
	if opts.Notify == nil {
		opts.Notify = drivers.Discard
	}
	log := drivers.Logger(opts.Logger)
	ctx, cancel := context.WithCancel(context.Background())
	d := &Device{
		dial: dial, opts: opts, notify: opts.Notify, log: log,
		ctx: ctx, cancel: cancel, kick: make(chan struct{}, 1),
		changed: make(chan struct{}), cache: newCache(),
	}
	d.maxCh, d.wide = 9, false
	if model == ModelP300 {
		d.maxCh, d.wide = 28, true
	}
	opts.Channels = min(opts.Channels, d.maxCh)
	d.opts = opts
	return d
}

// DialTCP returns a dial function for New that connects to addr ("host" or "host:port"),
// adding DefaultPort when it has none.
func DialTCP(addr string) func(ctx context.Context) (net.Conn, error) {
	return func(ctx context.Context) (net.Conn, error) {
		return transport.Dial(ctx, addr, transport.Options{TCPPort: DefaultPort})
	}
}

// Option keys of the driver.
var optionKeys = []string{"model", "channels", "meter_rate_ms"}

func init() {
	drivers.Register(drivers.Info{
		Name:        "shure",
		Description: "Shure MXA ceiling/table arrays and P300 processors over TCP command strings: mute, gain, presets, metering",
		Options:     optionKeys,
		DefaultPort: DefaultPort,
		New:         factory,
	})
}

// ParseOptions reads a device's options: "model" (mxa, mxa910, mxa920, mxa710, mxa310,
// p300), "channels" (1-9 on an MXA, 1-28 on a P300; default 8) and "meter_rate_ms" (0 for
// no metering, else 100-99999; default 200).
func ParseOptions(opts map[string]string) (Options, error) {
	o := Options{MeterRate: DefaultMeterRate}
	keys := make([]string, 0, len(opts))
	for k := range opts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := strings.TrimSpace(opts[k])
		switch k {
		case "model":
			m, ok := models[strings.ToLower(v)]
			if !ok {
				return o, fmt.Errorf("option model %q: want mxa, mxa910, mxa920, mxa710, mxa310 or p300: %w", v, drivers.ErrBadArgs)
			}
			o.Model = m
		case "channels":
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > 28 {
				return o, fmt.Errorf("option channels %q: want 1-28: %w", v, drivers.ErrBadArgs)
			}
			o.Channels = n
		case "meter_rate_ms":
			n, err := strconv.Atoi(v)
			if err != nil || (n != 0 && (n < 100 || n > 99999)) {
				return o, fmt.Errorf("option meter_rate_ms %q: want 0 (off) or 100-99999: %w", v, drivers.ErrBadArgs)
			}
			o.MeterRate = time.Duration(n) * time.Millisecond
		default:
			return o, fmt.Errorf("unknown option %q (want %s): %w", k, strings.Join(optionKeys, ", "), drivers.ErrBadArgs)
		}
	}
	if o.Model == ModelMXA || o.Model == "" {
		if o.Channels > 9 {
			return o, fmt.Errorf("option channels %d: an MXA has at most 9: %w", o.Channels, drivers.ErrBadArgs)
		}
	}
	return o, nil
}

// factory makes a Device for one device of a room config. It does not touch the network.
func factory(cfg drivers.Config) (drivers.Device, error) {
	o, err := ParseOptions(cfg.Options)
	if err != nil {
		return nil, fmt.Errorf("shure: device %q: %w", cfg.ID, err)
	}
	addr := strings.TrimSpace(cfg.Address)
	if addr == "" {
		return nil, fmt.Errorf("shure: device %q: no address: %w", cfg.ID, drivers.ErrBadArgs)
	}
	kind, _, err := transport.Parse(addr, transport.Options{TCPPort: DefaultPort})
	if err != nil || kind != transport.TCP {
		if err == nil {
			err = fmt.Errorf("a %s address; want host:port (TCP)", kind)
		}
		return nil, fmt.Errorf("shure: device %q: address: %w: %w", cfg.ID, err, drivers.ErrBadArgs)
	}
	o.Notify, o.Logger = cfg.Notify, cfg.Logger
	return New(DialTCP(addr), o), nil
}

// Close stops the connection goroutine and closes the connection. Calls after Close fail
// with drivers.ErrUnreachable.
func (d *Device) Close() error {
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		return nil
	}
	d.closed = true
	d.cancel()
	l := d.link
	if d.pending != nil {
		d.pending.fail(errClosed)
	}
	d.broadcast()
	d.mu.Unlock()
	if l != nil {
		d.dropLink(l, errClosed)
	}
	d.wg.Wait()
	return nil
}

// channel checks a channel name ("1"…) and returns it as the device writes it.
func (d *Device) channel(name string) (string, int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(name))
	if err != nil || n < 1 || n > d.maxCh {
		return "", 0, fmt.Errorf("channel %q: want 1-%d: %w", name, d.maxCh, drivers.ErrBadArgs)
	}
	return d.chanIndex(n), n, nil
}

func (d *Device) chanIndex(n int) string {
	if d.wide {
		return fmt.Sprintf("%02d", n)
	}
	return strconv.Itoa(n)
}

func onOff(on bool) string {
	if on {
		return "ON"
	}
	return "OFF"
}

// Send sends one GET or SET and returns the report that answers it: for a GET, the first
// report of that parameter and channel; for a SET, the report carrying the value set (any
// value for TOGGLE, INC and DEC). REP ERR comes back as a *ReplyError in the chain.
func (d *Device) Send(ctx context.Context, c Command) (Message, error) {
	e := expect{param: c.Param, ch: channelNumber(c.Channel)}
	if c.Kind == KindSet && c.Value != "TOGGLE" && !strings.HasPrefix(c.Value, "INC") && !strings.HasPrefix(c.Value, "DEC") {
		e.value = c.Value
	}
	got, err := d.exchange(ctx, strings.ToLower(c.Kind)+" "+c.Param, []Command{c}, []expect{e})
	if err != nil {
		return Message{}, err
	}
	return got[0], nil
}

// SetMute mutes or unmutes one channel ("1"…; "< SET x AUDIO_MUTE ON >") or, with channel
// "", the whole device ("< SET DEVICE_AUDIO_MUTE ON >", what the mute button does).
func (d *Device) SetMute(ctx context.Context, channel string, on bool) error {
	what := "mute " + strings.ToLower(onOff(on))
	c := Command{Kind: KindSet, Param: ParamDeviceMute, Value: onOff(on)}
	if channel != "" {
		idx, n, err := d.channel(channel)
		if err != nil {
			return fmt.Errorf("shure: %s: %w", what, err)
		}
		c.Channel, c.Param = idx, ParamMute
		what = fmt.Sprintf("mute channel %d %s", n, strings.ToLower(onOff(on)))
	}
	_, err := d.exchange(ctx, what, []Command{c}, []expect{{param: c.Param, ch: channelNumber(c.Channel), value: c.Value}})
	return err
}

// SetGain sets the gain of one channel ("1"…) in dB, -110.0…+30.0 in steps of 0.1
// ("< SET x AUDIO_GAIN_HI_RES 1100 >" for 0 dB). A device has no overall gain: channel ""
// is drivers.ErrBadArgs.
func (d *Device) SetGain(ctx context.Context, channel string, db float64) error {
	if channel == "" {
		return fmt.Errorf("shure: gain: name a channel (1-%d): %w", d.maxCh, drivers.ErrBadArgs)
	}
	idx, n, err := d.channel(channel)
	if err != nil {
		return fmt.Errorf("shure: gain: %w", err)
	}
	v, ok := GainValue(db)
	if !ok {
		return fmt.Errorf("shure: gain channel %d: %v dB: want -110.0 to +30.0: %w", n, db, drivers.ErrBadArgs)
	}
	c := Command{Kind: KindSet, Channel: idx, Param: ParamGain, Value: fmt.Sprintf("%04d", v)}
	_, err = d.exchange(ctx, fmt.Sprintf("gain channel %d %.1f dB", n, GainDB(v)), []Command{c},
		[]expect{{param: ParamGain, ch: n, value: c.Value}})
	return err
}

// RecallPreset loads preset n, 1-10 ("< SET PRESET 03 >").
func (d *Device) RecallPreset(ctx context.Context, n int) error {
	if n < 1 || n > Presets {
		return fmt.Errorf("shure: preset recall %d: want 1-%d: %w", n, Presets, drivers.ErrBadArgs)
	}
	c := Command{Kind: KindSet, Param: ParamPreset, Value: fmt.Sprintf("%02d", n)}
	_, err := d.exchange(ctx, fmt.Sprintf("preset recall %d", n), []Command{c}, []expect{{param: ParamPreset, ch: -1, value: c.Value}})
	return err
}

// StorePreset is drivers.ErrUnsupported: command strings recall presets, they cannot store
// one (presets are saved from Shure Designer or the web application).
func (d *Device) StorePreset(ctx context.Context, n int) error {
	return fmt.Errorf("shure: preset store %d: command strings cannot store a preset (save it in Designer): %w", n, drivers.ErrUnsupported)
}

// Poll asks the device for its device mute, preset and model and for the mute and gain of
// channels 1…Options.Channels, all in one write, and returns the state they make up with
// whatever else the device reported since (see the package documentation). A report whose
// value does not decode leaves its field out; Poll then returns the state with an error
// wrapping drivers.ErrDevice.
func (d *Device) Poll(ctx context.Context) (drivers.State, error) {
	cmds := []Command{
		{Kind: KindGet, Param: ParamDeviceMute},
		{Kind: KindGet, Param: ParamPreset},
		{Kind: KindGet, Param: ParamModel},
	}
	want := []expect{{param: ParamDeviceMute, ch: -1}, {param: ParamPreset, ch: -1}, {param: ParamModel, ch: -1}}
	for n := 1; n <= d.opts.Channels; n++ {
		idx := d.chanIndex(n)
		cmds = append(cmds, Command{Kind: KindGet, Channel: idx, Param: ParamMute}, Command{Kind: KindGet, Channel: idx, Param: ParamGain})
		want = append(want, expect{param: ParamMute, ch: n}, expect{param: ParamGain, ch: n})
	}
	got, err := d.exchange(ctx, "poll", cmds, want)
	if err != nil {
		return nil, err
	}
	var faults []string
	scratch := newCache()
	for _, m := range got {
		if _, err := scratch.apply(m); err != nil {
			var ve *valueError
			if errors.As(err, &ve) {
				err = errors.New(ve.msg)
			}
			faults = append(faults, err.Error())
		}
	}
	d.mu.Lock()
	d.polled = true
	st := d.cache.state()
	d.mu.Unlock()
	if len(faults) > 0 {
		return st, fmt.Errorf("shure: poll: %s: %w", strings.Join(faults, "; "), drivers.ErrDevice)
	}
	return st, nil
}

// Connections returns how many connections the Device has made.
func (d *Device) Connections() int { return int(d.connected.Load()) }
