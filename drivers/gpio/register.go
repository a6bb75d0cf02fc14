package gpio

import (
	"fmt"
	"strings"

	"periph.io/x/conn/v3/gpio"

	"github.com/bailiff/bailiff/drivers"
)

// errClosed is returned by every call after Close.
var errClosed = fmt.Errorf("device closed: %w", drivers.ErrUnreachable)

func init() {
	drivers.Register(drivers.Info{
		Name:        "gpio",
		Description: "GPIO pins of the agent's host (periph.io): relays (on/off, pulse) and debounced push buttons (events)",
		Options:     append([]string(nil), OptionKeys...),
		New:         factory,
	})
}

// factory makes a Relay or a Button for one device of a room config. It touches neither the
// hardware nor gpioreg: the pin is looked up on the first call.
func factory(cfg drivers.Config) (drivers.Device, error) {
	if strings.TrimSpace(cfg.Address) != "" {
		return nil, fmt.Errorf("gpio: device %q: takes no address (name the pin with the option pin): %w", cfg.ID, drivers.ErrBadArgs)
	}
	c, err := ParseOptions(cfg.Options)
	if err != nil {
		return nil, fmt.Errorf("gpio: device %q: %w", cfg.ID, err)
	}
	c.Notify, c.Logger = cfg.Notify, cfg.Logger
	resolve := func() (gpio.PinIO, error) { return Lookup(c.Pin) }
	if c.Mode == ModeButton {
		return newButton(c.Pin, resolve, c.Options), nil
	}
	return newRelay(c.Pin, resolve, c.Options), nil
}
