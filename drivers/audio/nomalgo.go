//go:build !cgo

package audio

import (
	"context"
	"fmt"
)

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

// PlaybackOptions says which playback device OpenPlayback opens.
type PlaybackOptions struct {
	Backend, Device string
	Format          Format
}

// Playback is a playback device; this build, without cgo, cannot open one.
type Playback struct{}

// OpenPlayback fails with ErrNoCgo in this build.
func OpenPlayback(PlaybackOptions) (*Playback, error) {
	return nil, fmt.Errorf("audio: playback: %w", ErrNoCgo)
}

// Name is the device's name.
func (*Playback) Name() string { return "" }

// Start fails with ErrNoCgo.
func (*Playback) Start(context.Context, func([]float32)) error { return ErrNoCgo }

// Close does nothing.
func (*Playback) Close() error { return nil }
