// Package simreg is the registry of device simulators, by driver name, so the demo and the
// hardware-in-the-loop harness can start a simulator for any device of a room config without
// knowing its family. Each simulator package registers itself in init; import
// drivers/simreg/all for every one.
package simreg

import (
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
)

// Sim is a running simulator.
type Sim interface {
	// Address is what a room config names to reach it: "127.0.0.1:PORT", "udp://…", "serial:/dev/pts/N".
	Address() string
	Close() error
}

// Options describe the device to simulate.
type Options struct {
	ID, Name string
	// Options are the device's driver options from the room config (e.g. a password the
	// simulator must then demand, a serial baud rate).
	Options map[string]string
	// Transport is "tcp", "udp" or "serial" ("" for the simulator's usual one).
	Transport string
	// SerialPath, with Transport "serial", is an existing serial device to serve on (one end
	// of a socat pty pair, or a real port wired to the agent's); "" makes a new pty pair.
	SerialPath string
	// Fast shortens slow device behaviour (warm-up, cool-down) for tests.
	Fast   bool
	Logger *slog.Logger
}

// Inspector is a simulator that can show its device's state and what it has received, for
// tests that check what a command did at the device.
type Inspector interface {
	Snapshot() any
}

// Misbehaver is a simulator that can be told to misbehave: "normal", "slow", "silent",
// "garbage" or "drop" (and any device-specific modes it documents).
type Misbehaver interface {
	SetMode(mode string) error
}

// DeviceOptions is a simulator that needs options set on the device that uses it (a fake
// GPIO pin's name, a WAV file's path); the demo and the harness merge them into the device's.
type DeviceOptions interface {
	DeviceOptions() map[string]string
}

// Factory starts a simulator listening on loopback (or on a new pty pair for serial).
type Factory func(o Options) (Sim, error)

var (
	mu  sync.RWMutex
	reg = map[string]Factory{}
)

// Register adds the simulator of a driver; it panics on a duplicate (a programming error).
func Register(driver string, f Factory) {
	mu.Lock()
	defer mu.Unlock()
	if _, dup := reg[driver]; dup {
		panic("simreg: " + driver + " registered twice")
	}
	reg[driver] = f
}

// Start starts a simulator for a device of driver.
func Start(driver string, o Options) (Sim, error) {
	mu.RLock()
	f, ok := reg[driver]
	mu.RUnlock()
	if !ok {
		return nil, fmt.Errorf("simreg: no simulator for driver %q", driver)
	}
	s, err := f(o)
	if err != nil {
		return nil, fmt.Errorf("simreg: %s simulator for %s: %w", driver, o.ID, err)
	}
	return s, nil
}

// Drivers lists the drivers with a simulator, sorted.
func Drivers() []string {
	mu.RLock()
	defer mu.RUnlock()
	out := make([]string, 0, len(reg))
	for k := range reg {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// ModeByName returns the mode among first…last whose String() is name (case-insensitive): for
// simulators whose modes are a numbered type, to implement Misbehaver.
func ModeByName[M interface {
	~int
	String() string
}](name string, first, last M) (M, error) {
	for m := first; m <= last; m++ {
		if strings.EqualFold(m.String(), name) {
			return m, nil
		}
	}
	return first, fmt.Errorf("simreg: unknown mode %q", name)
}
