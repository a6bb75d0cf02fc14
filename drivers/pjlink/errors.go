package pjlink

import (
	"errors"
	"fmt"

	"github.com/bailiff/bailiff/drivers"
)

// ErrAuth is in the chain when the projector refused the password ("PJLINK ERRA") or asks for
// one and none is configured. It wraps drivers.ErrDevice.
var ErrAuth = fmt.Errorf("authentication failed (wrong or missing password): %w", drivers.ErrDevice)

// errGarbled marks a reply that is not a well-formed PJLink line for the request sent; the
// connection is out of step and is closed.
var errGarbled = errors.New("garbled reply")

// errClosed is returned by every call after Close.
var errClosed = fmt.Errorf("projector closed: %w", drivers.ErrUnreachable)

// ReplyError is an error answer of the projector (spec §2.2): ERR1 undefined command, ERR2
// out of parameter, ERR3 unavailable time, ERR4 projector failure. It unwraps to
// drivers.ErrUnsupported, ErrBadArgs, ErrBusy and ErrDevice.
type ReplyError struct {
	Cmd  string // the command answered, e.g. "POWR"
	Code string // "ERR1" … "ERR4"
}

func (e *ReplyError) Error() string {
	var what string
	switch e.Code {
	case "ERR1":
		what = "undefined command"
	case "ERR2":
		what = "parameter out of range"
	case "ERR3":
		what = "projector busy"
	default:
		what = "projector failure"
	}
	return what + " (" + e.Code + "): " + e.Unwrap().Error()
}

// Unwrap returns the drivers error value of the code.
func (e *ReplyError) Unwrap() error {
	switch e.Code {
	case "ERR1":
		return drivers.ErrUnsupported
	case "ERR2":
		return drivers.ErrBadArgs
	case "ERR3":
		return drivers.ErrBusy
	}
	return drivers.ErrDevice
}

// garbled returns an errGarbled for line, quoted and cut short for the log.
func garbled(line, why string) error {
	const max = 40
	if len(line) > max {
		line = line[:max] + "…"
	}
	return fmt.Errorf("%w %q: %s: %w", errGarbled, line, why, drivers.ErrDevice)
}

// valueError is a well-framed answer whose value does not decode, or an ERST fault: the
// projector is reachable and in step, but something is wrong.
type valueError struct{ msg string }

func (e *valueError) Error() string { return e.msg + ": " + drivers.ErrDevice.Error() }
func (e *valueError) Unwrap() error { return drivers.ErrDevice }

func badValue(cmd, payload, why string) error {
	return &valueError{msg: fmt.Sprintf("bad %s answer %q: %s", cmd, payload, why)}
}
