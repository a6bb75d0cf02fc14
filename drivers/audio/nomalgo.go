//go:build !cgo

package audio

import "fmt"

// cgoCapture says whether OpenCapture works in this build.
const cgoCapture = false

// CaptureDevices lists the capture devices of a backend. In this build, without cgo, it
// fails with ErrNoCgo.
func CaptureDevices(backend string) ([]DeviceInfo, error) {
	return nil, fmt.Errorf("audio: capture devices: %w", ErrNoCgo)
}

// OpenCapture opens a capture device through miniaudio. In this build, without cgo, it
// fails with ErrNoCgo.
func OpenCapture(o CaptureOptions) (Source, error) {
	return nil, fmt.Errorf("audio: capture: %w", ErrNoCgo)
}
