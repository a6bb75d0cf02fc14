package audio

import (
	"fmt"
	"slices"
	"strings"

	"github.com/bailiff/bailiff/drivers"
)

// CaptureOptions says which capture device OpenCapture opens, and in which format.
type CaptureOptions struct {
	// Backend is a miniaudio backend name (see the backend option); "" tries the
	// platform's usual order (on Linux: PulseAudio, ALSA, JACK, then the null backend).
	Backend string
	// Device is a capture device's ID (as CaptureDevices lists it) or name, or a part of
	// its name that no other device shares (case-insensitive); "" means the default device.
	Device string
	// Format is the format asked of the device; miniaudio converts when the device's own
	// differs.
	Format Format
	// SampleFormat is the sample format asked of the device (S16 or F32; "" means F32).
	// Frames are float32 either way.
	SampleFormat SampleFormat
}

// DeviceInfo is a capture device as CaptureDevices lists it.
type DeviceInfo struct {
	ID      string // miniaudio's device ID in hex: stable for the device on its backend
	Name    string
	Default bool // the backend's default capture device
}

// backendNames are miniaudio's backends in the order of its ma_backend enum, so that a
// name's index is its value. The backend option takes each but custom (which needs C
// callbacks), and "pulseaudio" for "pulse". Only those compiled in on the platform work: on
// Linux pulse, alsa, jack and null.
var backendNames = []string{"wasapi", "dsound", "winmm", "coreaudio", "sndio", "audio4", "oss", "pulse", "alsa", "jack", "aaudio", "opensl", "webaudio", "custom", "null"}

// backendIndex returns the ma_backend value of a backend name.
func backendIndex(name string) (int, error) {
	if name == "pulseaudio" {
		name = "pulse"
	}
	if i := slices.Index(backendNames, name); i >= 0 && name != "custom" {
		return i, nil
	}
	names := slices.DeleteFunc(slices.Clone(backendNames), func(s string) bool { return s == "custom" })
	return 0, fmt.Errorf("unknown audio backend %q (want one of %s): %w", name, strings.Join(names, ", "), drivers.ErrBadArgs)
}

// matchDevice finds want among devs: by ID, else by name, else by a part of a name that
// only one device has, in any case.
func matchDevice(devs []DeviceInfo, want string) (DeviceInfo, error) {
	for _, d := range devs {
		if d.ID == want {
			return d, nil
		}
	}
	for _, d := range devs {
		if d.Name == want {
			return d, nil
		}
	}
	var found []DeviceInfo
	lw := strings.ToLower(want)
	for _, d := range devs {
		if want != "" && strings.Contains(strings.ToLower(d.Name), lw) {
			found = append(found, d)
		}
	}
	names := func(ds []DeviceInfo) string {
		if len(ds) == 0 {
			return "none"
		}
		q := make([]string, len(ds))
		for i, d := range ds {
			q[i] = fmt.Sprintf("%q (%s)", d.Name, d.ID)
		}
		return strings.Join(q, ", ")
	}
	switch len(found) {
	case 1:
		return found[0], nil
	case 0:
		return DeviceInfo{}, fmt.Errorf("%q; capture devices: %s: %w", want, names(devs), ErrNoDevice)
	}
	return DeviceInfo{}, fmt.Errorf("capture device %q matches %d devices: %s; name one by its ID or full name: %w", want, len(found), names(found), drivers.ErrBadArgs)
}

// backendName names a backend option for messages and the state: "default" for "".
func backendName(b string) string {
	if b == "" {
		return "default"
	}
	return b
}
