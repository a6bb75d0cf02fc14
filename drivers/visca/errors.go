package visca

import (
	"errors"
	"fmt"

	"github.com/bailiff/bailiff/drivers"
)

// errGarbled marks a reply that is not a well-formed VISCA packet or message; the link is out
// of step and is closed (TCP), set up again (serial) or reset (VISCA over IP).
var errGarbled = errors.New("garbled reply")

// errClosed is returned by every call after Close.
var errClosed = fmt.Errorf("camera closed: %w", drivers.ErrUnreachable)

// Error codes of VISCA error messages (z0 6y ee FF).
const (
	CodeLength        = 0x01 // message length error
	CodeSyntax        = 0x02 // syntax error
	CodeBufferFull    = 0x03 // command buffer full: both sockets busy
	CodeCancelled     = 0x04 // command cancelled
	CodeNoSocket      = 0x05 // no socket (to be cancelled)
	CodeNotExecutable = 0x41 // command not executable now
)

// ReplyError is an error message of the camera, z0 6y ee FF. It unwraps to the drivers error
// value of its code:
//
//	60 01 message length   drivers.ErrDevice
//	60 02 syntax           drivers.ErrBadArgs (the camera does not take this command or these parameters)
//	60 03 buffer full      drivers.ErrBusy
//	6y 04 cancelled        drivers.ErrDevice
//	6y 05 no socket        drivers.ErrDevice
//	6y 41 not executable   drivers.ErrBusy (not now: standby, starting up, menu shown…)
//	other                  drivers.ErrDevice
type ReplyError struct {
	Socket int
	Code   byte
}

func (e *ReplyError) Error() string {
	var what string
	switch e.Code {
	case CodeLength:
		what = "message length error"
	case CodeSyntax:
		what = "syntax error: the camera does not take this command or its parameters"
	case CodeBufferFull:
		what = "command buffer full: two commands are running"
	case CodeCancelled:
		what = "command cancelled"
	case CodeNoSocket:
		what = "no such command to cancel"
	case CodeNotExecutable:
		what = "command not executable now"
	default:
		what = "unknown error"
	}
	return fmt.Sprintf("%s (%X %02X): %v", what, 0x60|e.Socket, e.Code, e.Unwrap())
}

// Unwrap returns the drivers error value of the code.
func (e *ReplyError) Unwrap() error {
	switch e.Code {
	case CodeSyntax:
		return drivers.ErrBadArgs
	case CodeBufferFull, CodeNotExecutable:
		return drivers.ErrBusy
	}
	return drivers.ErrDevice
}

// ControlError is an ERROR control message of VISCA over IP, 0F yy: 01 the sequence number is
// out of step, 02 the message type is wrong. It unwraps to drivers.ErrDevice.
type ControlError struct{ Code byte }

func (e *ControlError) Error() string {
	what := "unknown control error"
	switch e.Code {
	case 0x01:
		what = "sequence number refused"
	case 0x02:
		what = "message type refused"
	}
	return fmt.Sprintf("%s (0F %02X): %v", what, e.Code, drivers.ErrDevice)
}

func (e *ControlError) Unwrap() error { return drivers.ErrDevice }

// garbled returns an errGarbled for bytes b, shown in hex and cut short.
func garbled(b []byte, why string) error {
	const max = 20
	s := fmt.Sprintf("% X", b)
	if len(b) > max {
		s = fmt.Sprintf("% X…", b[:max])
	}
	return fmt.Errorf("%w [%s]: %s: %w", errGarbled, s, why, drivers.ErrDevice)
}

// valueError is a well-formed answer whose value does not decode: the camera is reachable
// and in step, but something is wrong.
type valueError struct{ msg string }

func (e *valueError) Error() string { return e.msg + ": " + drivers.ErrDevice.Error() }
func (e *valueError) Unwrap() error { return drivers.ErrDevice }

func badValue(what string, data []byte, why string) error {
	return &valueError{msg: fmt.Sprintf("bad %s answer [% X]: %s", what, data, why)}
}
