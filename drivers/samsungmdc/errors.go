package samsungmdc

import (
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/bailiff/bailiff/drivers"
)

// NakError is a display's negative acknowledgement: "AA FF id 03 'N' r-cmd code". Samsung
// documents no meaning for the codes, so every NAK unwraps to drivers.ErrDevice.
type NakError struct {
	Cmd  byte // the command refused
	Code byte // the display's error code
}

func (e *NakError) Error() string {
	return fmt.Sprintf("display refused command 0x%02x (NAK, error code 0x%02x): %v", e.Cmd, e.Code, drivers.ErrDevice)
}

// Unwrap returns drivers.ErrDevice.
func (e *NakError) Unwrap() error { return drivers.ErrDevice }

// errGarbled marks an answer that is not a well-formed MDC frame for the request sent; the
// link is out of step and is closed.
var errGarbled = errors.New("garbled answer")

// errClosed is returned by every call after Close.
var errClosed = fmt.Errorf("display closed: %w", drivers.ErrUnreachable)

// garbled returns an errGarbled error for the bytes b, in hex and cut short for the log.
func garbled(b []byte, why string) error {
	const max = 24
	s := hex.EncodeToString(b)
	if len(b) > max {
		s = hex.EncodeToString(b[:max]) + "…"
	}
	return fmt.Errorf("%w [%s]: %s: %w", errGarbled, s, why, drivers.ErrDevice)
}

// valueError is a well-framed answer whose value does not decode (or echoes the wrong
// value): the display is reachable and in step, but something is wrong.
type valueError struct{ msg string }

func (e *valueError) Error() string { return e.msg + ": " + drivers.ErrDevice.Error() }
func (e *valueError) Unwrap() error { return drivers.ErrDevice }

func badValue(format string, args ...any) error {
	return &valueError{msg: fmt.Sprintf(format, args...)}
}
