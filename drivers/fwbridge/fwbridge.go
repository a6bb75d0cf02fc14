// Package fwbridge is the driver of microcontroller devices on the firmware-bridge serial
// protocol (docs/FIRMWARE-PROTOCOL.md): call buttons, tally lights, signs, relays. One device
// of a room config is one serial line:
//
//   - id: tally-1
//     driver: fwbridge
//     address: serial:/dev/ttyUSB0
//     options: {baud: 115200}
//
// The device's hello gives its actions (tally, power for a sign, relay and pulse for a relay)
// and its identity (device type, firmware version, serial) in its state; its state frames
// become its state, its events its events; commands become command frames, and their acks
// the contract's codes. A device that is unplugged or stops answering pings is unreachable
// until it says hello again, when its state is read again.
package fwbridge

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"reflect"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/bailiff/bailiff/drivers"
	"github.com/bailiff/bailiff/drivers/transport"
	"github.com/bailiff/bailiff/firmware-bridge/bridge"
	"github.com/bailiff/bailiff/firmware-bridge/frame"
	"github.com/bailiff/bailiff/firmware-bridge/ota"
	"github.com/bailiff/bailiff/internal/wire"
)

// OptionKeys are the options a device of this driver takes.
var OptionKeys = []string{"baud", "ping_ms", "firmware_key"}

func init() {
	drivers.Register(drivers.Info{
		Name:        "fwbridge",
		Description: "microcontroller devices (tally lights, call buttons, signs, relays) on the firmware-bridge serial protocol",
		Options:     OptionKeys,
		New:         factory,
	})
}

// Device is one firmware-bridge device.
type Device struct {
	id     string
	b      *bridge.Bridge
	notify drivers.Notifier

	// firmwareKey, when set, is the key images must verify with before they are sent (the
	// agent's own check; the device checks again).
	firmwareKey ed25519.PublicKey
	fetch       func(ctx context.Context, url string, max int64) ([]byte, error)
	log         *slog.Logger
	ctx         context.Context // ends at Close
	cancel      context.CancelFunc

	mu       sync.Mutex
	last     drivers.State  // the state last reported, to tell a change
	updating bool           // a firmware update runs
	progress map[string]any // its last step
}

var (
	_ drivers.Powerer      = (*Device)(nil)
	_ drivers.Relay        = (*Device)(nil)
	_ drivers.Tallier      = (*Device)(nil)
	_ drivers.ActionLister = (*Device)(nil)
)

func factory(cfg drivers.Config) (drivers.Device, error) {
	kind, _, err := transport.Parse(cfg.Address, transport.Options{})
	if err != nil || kind != transport.Serial {
		return nil, fmt.Errorf("fwbridge: device %q: address %q: want a serial port such as serial:/dev/ttyUSB0: %w", cfg.ID, cfg.Address, drivers.ErrBadArgs)
	}
	bc := bridge.Config{Address: cfg.Address, Serial: transport.Options{Baud: 115200}, Logger: cfg.Logger}
	if err := transport.SerialOptions(cfg.Options, &bc.Serial); err != nil {
		return nil, fmt.Errorf("fwbridge: device %q: %w: %w", cfg.ID, err, drivers.ErrBadArgs)
	}
	if v, ok := cfg.Options["ping_ms"]; ok {
		ms, err := strconv.Atoi(v)
		if err != nil || ms < 10 || ms > 60000 {
			return nil, fmt.Errorf("fwbridge: device %q: option ping_ms %q: want 10…60000: %w", cfg.ID, v, drivers.ErrBadArgs)
		}
		bc.PingEvery = time.Duration(ms) * time.Millisecond
	}
	d := New(cfg.ID, bc, cfg.Notify)
	d.fetch = cfg.Fetch
	if cfg.Logger != nil {
		d.log = cfg.Logger
	}
	if v, ok := cfg.Options["firmware_key"]; ok {
		k, err := ota.ParsePublicKey(v)
		if err != nil {
			d.Close()
			return nil, fmt.Errorf("fwbridge: device %q: option firmware_key: %w: %w", cfg.ID, err, drivers.ErrBadArgs)
		}
		d.firmwareKey = k
	}
	return d, nil
}

// New starts the bridge to one device; notify (nil: drivers.Discard) gets its events and the
// state it reports by itself.
func New(id string, bc bridge.Config, notify drivers.Notifier) *Device {
	if notify == nil {
		notify = drivers.Discard
	}
	d := &Device{id: id, notify: notify, log: slog.New(slog.DiscardHandler)}
	d.ctx, d.cancel = context.WithCancel(context.Background())
	bc.OnState = func([]frame.Field) { d.report() }
	bc.OnHello = func(frame.Hello) { d.report() }
	bc.OnEvent = func(e frame.Event) { typ, f := EventFields(e); notify.Event(typ, f) }
	bc.OnLink = func(up bool, err error) {
		if up {
			return // its hello, then its state, are reported
		}
		d.mu.Lock()
		d.last = nil // report the state again when it is back, even if unchanged
		d.mu.Unlock()
		if ln, ok := notify.(drivers.LinkNotifier); ok {
			ln.Unreachable(fmt.Errorf("fwbridge: %w", err))
		}
	}
	d.b = bridge.New(bc)
	d.b.Start()
	return d
}

// Bridge is the device's serial line (for firmware updates).
func (d *Device) Bridge() *bridge.Bridge { return d.b }

// report publishes the device's state when it changed.
func (d *Device) report() {
	h, up, _ := d.b.Info()
	if !up || h == nil {
		return
	}
	st := d.withProgress(StateOf(h, d.b.State(), d.b.Stats()))
	d.mu.Lock()
	same := reflect.DeepEqual(st, d.last)
	d.last = st
	d.mu.Unlock()
	if !same {
		d.notify.State(maps.Clone(st))
	}
}

// Poll reads the device's state (a get command). A device that is not connected, or does not
// ack, is unreachable.
func (d *Device) Poll(ctx context.Context) (drivers.State, error) {
	ack, err := d.command(ctx, "poll", frame.ActionGet, nil)
	if err != nil {
		return nil, err
	}
	h, _, _ := d.b.Info()
	return d.withProgress(StateOf(h, ack.Fields, d.b.Stats())), nil
}

// Close stops an update in progress and the bridge, and closes the port.
func (d *Device) Close() error {
	d.cancel()
	return d.b.Close()
}

// SetFetch sets how the device gets firmware images (the agent sets drivers.Config.Fetch).
func (d *Device) SetFetch(f func(ctx context.Context, url string, max int64) ([]byte, error)) {
	d.fetch = f
}

// withProgress adds the last firmware update step to a state.
func (d *Device) withProgress(st drivers.State) drivers.State {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.progress != nil {
		st["firmware_update"] = maps.Clone(d.progress)
	}
	return st
}

// DeviceActions are the actions the device's capabilities allow (none before its hello).
func (d *Device) DeviceActions() []string {
	h, _, _ := d.b.Info()
	if h == nil {
		return nil
	}
	var out []string
	if h.Caps&frame.CapTally != 0 {
		out = append(out, wire.ActTally)
	}
	if h.Caps&frame.CapSign != 0 {
		out = append(out, wire.ActPower)
	}
	if h.Caps&frame.CapRelay != 0 {
		out = append(out, wire.ActRelay, wire.ActPulse)
	}
	if h.Caps&frame.CapUpdate != 0 {
		out = append(out, wire.ActFirmwareUpdate)
	}
	return out
}

// SetTally sets the tally light.
func (d *Device) SetTally(ctx context.Context, color string) error {
	i := slices.Index(wire.TallyColors, color)
	if i < 0 {
		return fmt.Errorf("fwbridge: tally %q: %w", color, drivers.ErrBadArgs)
	}
	return d.set(ctx, "tally", frame.CapTally, frame.Field{Key: frame.KeyTally, Value: int32(i)})
}

// SetPower switches the sign on or off.
func (d *Device) SetPower(ctx context.Context, on bool) error {
	return d.set(ctx, "power", frame.CapSign, frame.Field{Key: frame.KeySign, Value: b2i(on)})
}

// SetRelay closes (on) or opens the relay.
func (d *Device) SetRelay(ctx context.Context, on bool) error {
	return d.set(ctx, "relay", frame.CapRelay, frame.Field{Key: frame.KeyRelay, Value: b2i(on)})
}

// Pulse closes the relay for ms milliseconds.
func (d *Device) Pulse(ctx context.Context, ms int) error {
	if err := d.need("pulse", frame.CapRelay); err != nil {
		return err
	}
	_, err := d.command(ctx, "pulse", frame.ActionPulse, []frame.Field{{Key: frame.KeyRelay, Value: int32(ms)}})
	return err
}

func (d *Device) set(ctx context.Context, what string, c frame.Caps, f frame.Field) error {
	if err := d.need(what, c); err != nil {
		return err
	}
	_, err := d.command(ctx, what, frame.ActionSet, []frame.Field{f})
	return err
}

// need fails with unsupported when the device's hello lacks capability c.
func (d *Device) need(what string, c frame.Caps) error {
	h, _, _ := d.b.Info()
	if h != nil && h.Caps&c == 0 {
		return fmt.Errorf("fwbridge: %s: this %s has no such capability: %w", what, h.DeviceType, drivers.ErrUnsupported)
	}
	return nil
}

// command sends a command and maps the outcome onto the drivers' errors.
func (d *Device) command(ctx context.Context, what string, a frame.Action, f []frame.Field) (*frame.Ack, error) {
	ack, err := d.b.Command(ctx, a, f)
	switch {
	case err == nil:
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return nil, fmt.Errorf("fwbridge: %s: %w", what, err)
	default:
		return nil, fmt.Errorf("fwbridge: %s: %w: %w", what, err, drivers.ErrUnreachable)
	}
	if err := StatusError(ack.Status); err != nil {
		return ack, fmt.Errorf("fwbridge: %s: %w", what, err)
	}
	return ack, nil
}

// StatusError maps an ack's status onto the drivers' errors (nil for StatusOK).
func StatusError(s frame.Status) error {
	switch s {
	case frame.StatusOK:
		return nil
	case frame.StatusUnsupported:
		return fmt.Errorf("the device does not support it: %w", drivers.ErrUnsupported)
	case frame.StatusBadArgs:
		return fmt.Errorf("the device refused the arguments: %w", drivers.ErrBadArgs)
	case frame.StatusBusy:
		return fmt.Errorf("the device is busy: %w", drivers.ErrBusy)
	case frame.StatusDeviceError:
		return fmt.Errorf("the device reported an error: %w", drivers.ErrDevice)
	}
	return fmt.Errorf("the device answered with status %d: %w", s, drivers.ErrDevice)
}

func b2i(b bool) int32 {
	if b {
		return 1
	}
	return 0
}

// capNames name the capabilities of a hello in the state's "capabilities".
var capNames = []struct {
	c    frame.Caps
	name string
}{{frame.CapTally, "tally"}, {frame.CapButton, "button"}, {frame.CapSign, "sign"}, {frame.CapRelay, "relay"},
	{frame.CapKeypad, "keypad"}, {frame.CapBrightness, "brightness"}, {frame.CapUpdate, "firmware_update"}}

// StateOf is the contract state of a device: its fields by name, its identity from its hello,
// and the count of frames dropped on its line.
func StateOf(h *frame.Hello, fields []frame.Field, stats frame.Stats) drivers.State {
	st := drivers.State{}
	for _, f := range fields {
		switch f.Key {
		case frame.KeyTally:
			if f.Value >= 0 && int(f.Value) < len(wire.TallyColors) {
				st["tally"] = wire.TallyColors[f.Value]
			} else {
				st["tally"] = int(f.Value)
			}
		case frame.KeySign:
			st["sign"] = f.Value != 0
		case frame.KeyButton:
			st["button"] = f.Value != 0
		case frame.KeyRelay:
			st["relay"] = f.Value != 0
		case frame.KeyBrightness:
			st["brightness"] = int(f.Value)
		case frame.KeyIndex:
			st["index"] = int(f.Value)
		case frame.KeyCode:
			st["code"] = int(f.Value)
		case frame.KeyUptime:
			st["uptime_s"] = int(f.Value)
		default:
			st[fmt.Sprintf("key_%d", f.Key)] = int(f.Value)
		}
	}
	if h != nil {
		st["device_type"] = h.DeviceType
		st["firmware"] = h.Version.String()
		if h.Serial != "" {
			st["serial"] = h.Serial
		}
		caps := []string{}
		for _, c := range capNames {
			if h.Caps&c.c != 0 {
				caps = append(caps, c.name)
			}
		}
		st["capabilities"] = caps
		if h.Flags&frame.HelloPending != 0 {
			st["firmware_pending"] = true
		}
		if h.Flags&frame.HelloRolledBack != 0 {
			st["firmware_rolled_back"] = true
		}
	}
	if n := stats.Dropped(); n > 0 {
		st["frames_dropped"] = int(n)
	}
	return st
}

// EventFields is the contract event of a device event: button press and release are "button"
// with index and pressed, a key is "key" with its code, a fault is "fault" with its code.
func EventFields(e frame.Event) (string, map[string]any) {
	f := map[string]any{}
	for _, x := range e.Fields {
		switch x.Key {
		case frame.KeyIndex:
			f["index"] = int(x.Value)
		case frame.KeyCode:
			f["code"] = int(x.Value)
		default:
			f[fmt.Sprintf("key_%d", x.Key)] = int(x.Value)
		}
	}
	switch e.Code {
	case frame.EventButtonPress, frame.EventButtonRelease:
		f["pressed"] = e.Code == frame.EventButtonPress
		return "button", f
	case frame.EventKey:
		return "key", f
	case frame.EventFault:
		return "fault", f
	}
	f["code_event"] = int(e.Code)
	return "device_event", f
}
