package gpio

import (
	"fmt"
	"sync"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpioreg"
	"periph.io/x/host/v3"

	"github.com/bailiff/bailiff/drivers"
)

// hostInit loads periph's host drivers (sysfs, the SoC's GPIO, …), which register the
// board's pins in gpioreg. Tests replace it.
var hostInit = func() error {
	_, err := host.Init()
	return err
}

var hostMu sync.Mutex // one host.Init at a time

// Lookup returns the pin registered in gpioreg under name (a name, an alias or a number).
// When there is none it loads periph's host drivers (host.Init, which does the work once
// per process) and looks again: pins a simulator or a test registered are found without
// touching the hardware. A pin that is not there is drivers.ErrUnreachable.
func Lookup(name string) (gpio.PinIO, error) {
	if p := gpioreg.ByName(name); p != nil {
		return p, nil
	}
	hostMu.Lock()
	err := hostInit()
	hostMu.Unlock()
	if p := gpioreg.ByName(name); p != nil {
		return p, nil
	}
	if err != nil {
		return nil, fmt.Errorf("pin %q not found (loading the host's GPIO drivers: %v): %w", name, err, drivers.ErrUnreachable)
	}
	return nil, fmt.Errorf("pin %q not found on this host: %w", name, drivers.ErrUnreachable)
}
