package audio

import (
	"errors"
	"fmt"

	"github.com/bailiff/bailiff/drivers"
)

var (
	// ErrNoCgo is in the chain when source malgo is asked of a binary built without cgo
	// (CGO_ENABLED=0), such as the hub's: miniaudio is C. It wraps drivers.ErrUnsupported.
	ErrNoCgo = fmt.Errorf("source malgo captures through miniaudio, which is C: this binary was built without cgo (CGO_ENABLED=0); build the agent with cgo, or use source wav, tone, noise or speech: %w", drivers.ErrUnsupported)

	// ErrBadWAV is in the chain of every error of ParseWAV, and of a WAV source whose file
	// is not one this package reads. It wraps drivers.ErrDevice: the file is there, but wrong.
	ErrBadWAV = fmt.Errorf("bad WAV file: %w", drivers.ErrDevice)

	// ErrNoDevice is in the chain when the capture device named by the device option is not
	// among the backend's capture devices (unplugged, or misnamed). It wraps
	// drivers.ErrUnreachable.
	ErrNoDevice = fmt.Errorf("capture device not found: %w", drivers.ErrUnreachable)

	// ErrEnded is what a source that does not loop returns from Start at the end of its file.
	// An Input whose source ended reports status "ended"; it is not a failure.
	ErrEnded = errors.New("end of the audio file")

	// errClosed is returned by an Input's methods after Close.
	errClosed = fmt.Errorf("audio: input closed: %w", drivers.ErrUnreachable)
)

// classify makes sure err names a drivers error kind: a source failure that names none
// means the input delivers no audio, so it counts as unreachable.
func classify(err error) error {
	for _, kind := range []error{drivers.ErrUnreachable, drivers.ErrDevice, drivers.ErrBadArgs, drivers.ErrUnsupported, drivers.ErrBusy} {
		if errors.Is(err, kind) {
			return err
		}
	}
	return fmt.Errorf("%w: %w", err, drivers.ErrUnreachable)
}
