package shure

import (
	"errors"
	"fmt"

	"github.com/bailiff/bailiff/drivers"
)

// errGarbled marks bytes from the device that are not a well-formed command string; the
// connection is out of step and is closed.
var errGarbled = errors.New("garbled reply")

// errClosed is returned by every call after Close.
var errClosed = fmt.Errorf("device closed: %w", drivers.ErrUnreachable)

// ReplyError is the device's error answer, "< REP ERR >": it did not accept the command
// (an unknown parameter, a channel it does not have, a value out of its range). It unwraps
// to drivers.ErrDevice.
type ReplyError struct {
	// Command is the command string the device refused, e.g. "< SET 9 AUDIO_MUTE ON >".
	Command string
}

func (e *ReplyError) Error() string {
	return "device refused " + e.Command + " (REP ERR): " + drivers.ErrDevice.Error()
}

// Unwrap returns drivers.ErrDevice.
func (e *ReplyError) Unwrap() error { return drivers.ErrDevice }

// garbled returns an errGarbled for the frame, quoted and cut short for the log.
func garbled(frame, why string) error {
	const max = 48
	if len(frame) > max {
		frame = frame[:max] + "…"
	}
	return fmt.Errorf("%w %q: %s: %w", errGarbled, frame, why, drivers.ErrDevice)
}

// valueError is a well-framed report whose value does not decode: the device is reachable
// and in step, but says something this driver cannot use.
type valueError struct{ msg string }

func (e *valueError) Error() string { return e.msg + ": " + drivers.ErrDevice.Error() }
func (e *valueError) Unwrap() error { return drivers.ErrDevice }

func badValue(m Message, why string) error {
	return &valueError{msg: fmt.Sprintf("bad %s value %q: %s", m.Param, m.Value, why)}
}
