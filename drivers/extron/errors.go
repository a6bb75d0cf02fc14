package extron

import (
	"errors"
	"fmt"

	"github.com/bailiff/bailiff/drivers"
)

// ErrAuth is in the chain when the switcher refused the password or asks for one and none
// is configured. It wraps drivers.ErrDevice.
var ErrAuth = fmt.Errorf("authentication failed (wrong or missing password): %w", drivers.ErrDevice)

// errGarbled marks an answer that is not SIS, or not the answer to the command sent; the link
// is out of step and is closed.
var errGarbled = errors.New("garbled answer")

// errClosed is returned by every call after Close.
var errClosed = fmt.Errorf("switcher closed: %w", drivers.ErrUnreachable)

// SISError is an error answer of the switcher, "E01" … "E28".
type SISError struct {
	Code string // "E01"
}

var sisErrors = map[string]struct {
	what string
	err  error
}{
	"E01": {"invalid input number", drivers.ErrBadArgs},
	"E10": {"invalid command", drivers.ErrUnsupported},
	"E11": {"invalid preset number", drivers.ErrBadArgs},
	"E12": {"invalid output number", drivers.ErrBadArgs},
	"E13": {"invalid value", drivers.ErrBadArgs},
	"E14": {"invalid for this configuration", drivers.ErrUnsupported},
	"E17": {"timeout", drivers.ErrDevice},
	"E18": {"invalid for this signal type", drivers.ErrUnsupported},
	"E21": {"invalid room number", drivers.ErrBadArgs},
	"E22": {"busy", drivers.ErrBusy},
	"E24": {"privilege violation", drivers.ErrDevice},
	"E25": {"device not present", drivers.ErrDevice},
	"E26": {"too many connections", drivers.ErrBusy},
	"E27": {"invalid event number", drivers.ErrBadArgs},
	"E28": {"bad file name or file not found", drivers.ErrBadArgs},
}

func (e *SISError) Error() string {
	what := "unknown error"
	if d, ok := sisErrors[e.Code]; ok {
		what = d.what
	}
	return "switcher error " + e.Code + " (" + what + "): " + e.Unwrap().Error()
}

// Unwrap returns the drivers error value of the code.
func (e *SISError) Unwrap() error {
	if d, ok := sisErrors[e.Code]; ok {
		return d.err
	}
	return drivers.ErrDevice
}

// garbled returns an errGarbled error for line, quoted and cut short for the log.
func garbled(line, why string) error {
	const max = 48
	if len(line) > max {
		line = line[:max] + "…"
	}
	return fmt.Errorf("%w %q: %s: %w", errGarbled, line, why, drivers.ErrDevice)
}
