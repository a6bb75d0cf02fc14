package escpos

import (
	"errors"
	"fmt"

	"github.com/bailiff/bailiff/drivers"
)

// errGarbled marks a status byte that is not one (its fixed bits are wrong); the connection
// is out of step and is closed.
var errGarbled = errors.New("garbled reply")

// errClosed is returned by every call after Close.
var errClosed = fmt.Errorf("printer closed: %w", drivers.ErrUnreachable)

func garbled(b, n byte) error {
	return fmt.Errorf("%w %#02x to DLE EOT %d: fixed bits wrong: %w", errGarbled, b, n, drivers.ErrDevice)
}

// FaultError is a printer that answers but cannot print: paper out, cover open, an error.
// It unwraps to drivers.ErrDevice.
type FaultError struct {
	Faults []string // "paper out", "cover open", "cutter error", …
}

func (e *FaultError) Error() string {
	s := ""
	for i, f := range e.Faults {
		if i > 0 {
			s += ", "
		}
		s += f
	}
	return s + ": " + drivers.ErrDevice.Error()
}

// Unwrap returns drivers.ErrDevice.
func (e *FaultError) Unwrap() error { return drivers.ErrDevice }
