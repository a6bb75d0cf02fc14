// Package drivers defines what a device driver is to the agent: the Device interface, one small
// interface per capability (each action of contract v1), the errors that map onto the
// contract's error codes, and the registry of driver names.
//
// A driver package registers itself in init with Register; the agent imports drivers/all.
package drivers

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"

	"github.com/bailiff/bailiff/internal/wire"
)

// State is a device's observable state, published in the retained state message.
type State = map[string]any

// Device is one piece of gear. The agent calls a Device from one goroutine at a time.
type Device interface {
	// Poll asks the device for its state. An error means the device is unreachable
	// (ErrUnreachable in the chain) or reported a fault.
	Poll(ctx context.Context) (State, error)
	// Close releases the device's connection. The agent calls it once.
	Close() error
}

// Capability interfaces: a Device implements those of the actions it supports.
type (
	Powerer interface {
		SetPower(ctx context.Context, on bool) error
	}
	InputSelector interface {
		SetInput(ctx context.Context, source string) error
	}
	Muter interface {
		SetMute(ctx context.Context, channel string, on bool) error
	}
	GainSetter interface {
		SetGain(ctx context.Context, channel string, db float64) error
	}
	Presetter interface {
		RecallPreset(ctx context.Context, n int) error
		StorePreset(ctx context.Context, n int) error
	}
	PTZer interface {
		Drive(ctx context.Context, pan, tilt, zoom float64) error
	}
	Blanker interface {
		SetBlank(ctx context.Context, on bool) error
	}
	Router interface {
		Route(ctx context.Context, input, output, kind string) error
	}
	Relay interface {
		SetRelay(ctx context.Context, on bool) error
		Pulse(ctx context.Context, ms int) error
	}
	Printer interface {
		Print(ctx context.Context, p wire.PrintArgs) error
	}
	// FirmwareUpdater starts a firmware update and returns once it is under way (or refused);
	// the update reports its steps as "firmware" events through the Notifier.
	FirmwareUpdater interface {
		UpdateFirmware(ctx context.Context, u wire.FirmwareUpdateArgs) error
	}
	Tallier interface {
		// SetTally sets a tally light to one of wire.TallyColors.
		SetTally(ctx context.Context, color string) error
	}
)

// ActionLister is a Device whose actions depend on what the device says of itself (a
// firmware-bridge device announces its capabilities in its hello), so they may change while
// it runs. Actions returns its list, with refresh, instead of the capability interfaces'.
type ActionLister interface {
	DeviceActions() []string
}

// Errors a driver wraps so the agent can answer with the right contract code.
var (
	// ErrUnreachable: the device could not be reached (connect, write or read failed).
	ErrUnreachable = errors.New("device unreachable")
	// ErrDevice: the device answered with a fault or refused the request.
	ErrDevice = errors.New("device error")
	// ErrBadArgs: the arguments are outside what this device accepts (e.g. an unknown input).
	ErrBadArgs = errors.New("bad arguments")
	// ErrUnsupported: this device does not support the request.
	ErrUnsupported = errors.New("unsupported")
	// ErrBusy: the device cannot do it now (e.g. a projector warming up).
	ErrBusy = errors.New("device busy")
)

// Code maps a driver error onto a contract v1 error code.
func Code(err error) string {
	var we *wire.Error
	switch {
	case errors.As(err, &we):
		return we.Code
	case errors.Is(err, context.DeadlineExceeded):
		return wire.CodeTimeout
	case errors.Is(err, ErrUnreachable):
		return wire.CodeUnreachable
	case errors.Is(err, ErrBadArgs):
		return wire.CodeBadArgs
	case errors.Is(err, ErrUnsupported):
		return wire.CodeUnsupported
	case errors.Is(err, ErrBusy):
		return wire.CodeBusy
	}
	return wire.CodeDeviceError
}

// Actions lists the contract actions d supports, sorted. Every device supports refresh.
func Actions(d Device) []string {
	out := []string{wire.ActRefresh}
	if l, ok := d.(ActionLister); ok {
		for _, a := range l.DeviceActions() {
			if a != wire.ActRefresh {
				out = append(out, a)
			}
		}
		sort.Strings(out)
		return out
	}
	if _, ok := d.(Powerer); ok {
		out = append(out, wire.ActPower)
	}
	if _, ok := d.(InputSelector); ok {
		out = append(out, wire.ActInput)
	}
	if _, ok := d.(Muter); ok {
		out = append(out, wire.ActMute)
	}
	if _, ok := d.(GainSetter); ok {
		out = append(out, wire.ActGain)
	}
	if _, ok := d.(Presetter); ok {
		out = append(out, wire.ActPreset)
	}
	if _, ok := d.(PTZer); ok {
		out = append(out, wire.ActPTZ)
	}
	if _, ok := d.(Blanker); ok {
		out = append(out, wire.ActBlank)
	}
	if _, ok := d.(Router); ok {
		out = append(out, wire.ActRoute)
	}
	if _, ok := d.(Relay); ok {
		out = append(out, wire.ActRelay, wire.ActPulse)
	}
	if _, ok := d.(Printer); ok {
		out = append(out, wire.ActPrint)
	}
	if _, ok := d.(Tallier); ok {
		out = append(out, wire.ActTally)
	}
	if _, ok := d.(FirmwareUpdater); ok {
		out = append(out, wire.ActFirmwareUpdate)
	}
	sort.Strings(out)
	return out
}

// Do runs one action with its typed args (as returned by wire.ParseArgs) on d. refresh is
// answered by the caller polling the device; Do does nothing for it.
func Do(ctx context.Context, d Device, action string, args any) error {
	unsupported := wire.Errorf(wire.CodeUnsupported, "this device does not support %q", action)
	switch a := args.(type) {
	case *wire.RefreshArgs:
		return nil
	case *wire.PowerArgs:
		if c, ok := d.(Powerer); ok {
			return c.SetPower(ctx, *a.On)
		}
	case *wire.InputArgs:
		if c, ok := d.(InputSelector); ok {
			return c.SetInput(ctx, a.Source)
		}
	case *wire.MuteArgs:
		if c, ok := d.(Muter); ok {
			return c.SetMute(ctx, a.Channel, *a.On)
		}
	case *wire.GainArgs:
		if c, ok := d.(GainSetter); ok {
			return c.SetGain(ctx, a.Channel, *a.DB)
		}
	case *wire.PresetArgs:
		if c, ok := d.(Presetter); ok {
			if a.Recall != nil {
				return c.RecallPreset(ctx, *a.Recall)
			}
			return c.StorePreset(ctx, *a.Store)
		}
	case *wire.PTZArgs:
		if c, ok := d.(PTZer); ok {
			return c.Drive(ctx, a.Pan, a.Tilt, a.Zoom)
		}
	case *wire.BlankArgs:
		if c, ok := d.(Blanker); ok {
			return c.SetBlank(ctx, *a.On)
		}
	case *wire.RouteArgs:
		if c, ok := d.(Router); ok {
			kind := a.Kind
			if kind == "" {
				kind = "av"
			}
			return c.Route(ctx, a.Input, a.Output, kind)
		}
	case *wire.RelayArgs:
		if c, ok := d.(Relay); ok {
			return c.SetRelay(ctx, *a.On)
		}
	case *wire.PulseArgs:
		if c, ok := d.(Relay); ok {
			return c.Pulse(ctx, a.MS)
		}
	case *wire.PrintArgs:
		if c, ok := d.(Printer); ok {
			return c.Print(ctx, *a)
		}
	case *wire.TallyArgs:
		if c, ok := d.(Tallier); ok {
			return c.SetTally(ctx, a.Color)
		}
	case *wire.FirmwareUpdateArgs:
		if c, ok := d.(FirmwareUpdater); ok {
			return c.UpdateFirmware(ctx, *a)
		}
	default:
		return fmt.Errorf("drivers: no dispatch for %T", args)
	}
	return unsupported
}

// Config is what a driver's factory gets for one device of a room config.
type Config struct {
	ID      string            // device ID, unique in the room
	Address string            // see drivers/transport for the forms (host:port, udp://…, serial:…)
	Options map[string]string // driver-specific options (e.g. "password"); may hold secrets: never log
	Logger  *slog.Logger      // already carries the device's site, room and device keys
	// Notify receives what the device reports without being asked. Never nil when the agent
	// makes the device; a driver's own tests may pass Discard or a recorder.
	Notify Notifier
	// Fetch gets a resource of the hub (a firmware image) with the agent's credentials, at
	// most max bytes; nil where there is no hub (a driver's own tests may pass their own).
	Fetch func(ctx context.Context, url string, max int64) ([]byte, error)
}

// Notifier is how a driver reports what happens at the device without being asked: button
// presses and faults (events), audio levels (meters), and state changes the device announces
// by itself (a Shure REP, a GPIO input). Its methods are safe from any goroutine and never block.
type Notifier interface {
	// Event publishes an event of type typ on the device's event topic.
	Event(typ string, fields map[string]any)
	// Meter reports levels in dBFS by channel name ("1", "2", "mix"); the agent publishes them
	// on the room's meter topic as "<device>/<channel>".
	Meter(levels map[string]float64)
	// State reports a new state the device announced by itself; the agent publishes it as the
	// device's state (as if a poll had returned it).
	State(s State)
}

// LinkNotifier is a Notifier that a driver watching its device's link by itself (a serial
// device that is unplugged, one that stops answering its pings) can tell the device is gone:
// the agent publishes it unreachable at once rather than at its next poll. A driver asserts
// its Notifier to it; when it comes back the driver reports its state with State.
type LinkNotifier interface {
	Unreachable(err error)
}

// Discard is a Notifier that drops everything.
var Discard Notifier = discard{}

type discard struct{}

func (discard) Event(string, map[string]any) {}
func (discard) Meter(map[string]float64)     {}
func (discard) State(State)                  {}

// Logger returns l, or a logger that drops every record when l is nil (an Options.Logger
// left unset).
func Logger(l *slog.Logger) *slog.Logger {
	if l != nil {
		return l
	}
	return slog.New(slog.DiscardHandler)
}

// OnOff names a switch's state in messages: "on" or "off".
func OnOff(on bool) string {
	if on {
		return "on"
	}
	return "off"
}

// Factory makes a Device. It must not block on the network: connecting happens in Poll and
// in the actions, so an unreachable device never stops the agent from starting.
type Factory func(cfg Config) (Device, error)

// Info describes a registered driver.
type Info struct {
	Name        string
	Description string
	// Options lists the option keys the driver understands; any other key is an error.
	Options []string
	// DefaultPort is added to an address that has none (0: the address is used as it is).
	DefaultPort int
	New         Factory
}

var (
	mu       sync.RWMutex
	registry = map[string]Info{}
)

// Register adds a driver. It panics on a duplicate or invalid name (a programming error).
func Register(info Info) {
	mu.Lock()
	defer mu.Unlock()
	if !wire.ValidID(info.Name) || info.New == nil {
		panic(fmt.Sprintf("drivers: bad registration %q", info.Name))
	}
	if _, dup := registry[info.Name]; dup {
		panic(fmt.Sprintf("drivers: %q registered twice", info.Name))
	}
	registry[info.Name] = info
}

// Lookup returns the driver registered under name.
func Lookup(name string) (Info, bool) {
	mu.RLock()
	defer mu.RUnlock()
	i, ok := registry[name]
	return i, ok
}

// Names lists the registered drivers, sorted.
func Names() []string {
	mu.RLock()
	defer mu.RUnlock()
	out := make([]string, 0, len(registry))
	for k := range registry {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
