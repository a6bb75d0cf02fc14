//go:build cgo

package audio

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"runtime"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/gen2brain/malgo"

	"github.com/bailiff/bailiff/drivers"
)

// cgoCapture says whether OpenCapture works in this build.
const cgoCapture = true

// backends returns the malgo backend list of a backend option: nil for "" (miniaudio's
// default order).
//
// The values are miniaudio's ma_backend enum, not malgo's Backend constants: malgo 0.11.24
// leaves out ma_backend_custom, so its BackendNull (13) is custom and fails to initialise;
// null is 14.
func backends(name string) ([]malgo.Backend, error) {
	if name == "" {
		return nil, nil
	}
	i, err := backendIndex(name)
	if err != nil {
		return nil, err
	}
	return []malgo.Backend{malgo.Backend(i)}, nil
}

// initContext initialises a miniaudio context on the backend.
func initContext(backend string) (*malgo.AllocatedContext, error) {
	bs, err := backends(backend)
	if err != nil {
		return nil, fmt.Errorf("audio: capture: %w", err)
	}
	ctx, err := malgo.InitContext(bs, malgo.ContextConfig{}, nil)
	if err != nil {
		return nil, fmt.Errorf("audio: capture: backend %s: %w: %w", backendName(backend), err, drivers.ErrUnreachable)
	}
	return ctx, nil
}

func freeContext(ctx *malgo.AllocatedContext) {
	_ = ctx.Uninit()
	ctx.Free()
}

// captureDevices lists the capture devices of an initialised context.
func captureDevices(ctx *malgo.AllocatedContext, backend string) ([]DeviceInfo, []malgo.DeviceInfo, error) {
	raw, err := ctx.Devices(malgo.Capture)
	if err != nil {
		return nil, nil, fmt.Errorf("audio: capture: list the devices of backend %s: %w: %w", backendName(backend), err, drivers.ErrUnreachable)
	}
	return deviceInfos(raw), raw, nil
}

// selectDevice finds want among devs (matchDevice) and returns its miniaudio ID, pinned for
// the device config until pin is unpinned.
func selectDevice(devs []DeviceInfo, raw []malgo.DeviceInfo, want string, pin *runtime.Pinner) (DeviceInfo, unsafe.Pointer, error) {
	d, err := matchDevice(devs, want)
	if err != nil {
		return d, nil, err
	}
	for i := range devs {
		if devs[i].ID == d.ID {
			id := new(malgo.DeviceID)
			*id = raw[i].ID
			pin.Pin(id)
			return d, unsafe.Pointer(id), nil
		}
	}
	return d, nil, nil
}

// deviceInfos lists miniaudio's devices as DeviceInfos.
func deviceInfos(raw []malgo.DeviceInfo) []DeviceInfo {
	out := make([]DeviceInfo, len(raw))
	for i := range raw {
		out[i] = DeviceInfo{ID: raw[i].ID.String(), Name: raw[i].Name(), Default: raw[i].IsDefault != 0}
	}
	return out
}

// CaptureDevices lists the capture devices of a backend ("" for the default order, whose
// first working backend answers).
func CaptureDevices(backend string) ([]DeviceInfo, error) {
	ctx, err := initContext(backend)
	if err != nil {
		return nil, err
	}
	defer freeContext(ctx)
	devs, _, err := captureDevices(ctx, backend)
	return devs, err
}

// captureSource is a sound card's capture device, through miniaudio.
type captureSource struct {
	o      CaptureOptions
	ctx    *malgo.AllocatedContext
	dev    *malgo.Device
	name   string // the device's name
	id     string
	format Format

	fn      atomic.Pointer[func([]float32)]
	mu      sync.Mutex // held by the data callback: orders its calls for the race detector too
	buf     []float32
	stopped chan struct{} // closed by the stop callback
	stop    sync.Once
	closing atomic.Bool
	close   sync.Once
}

// OpenCapture opens a capture device through miniaudio (malgo). It fails with ErrNoDevice
// in the chain when the device is not found, and drivers.ErrUnreachable when the backend or
// the device does not initialise. In a build without cgo it fails with ErrNoCgo.
func OpenCapture(o CaptureOptions) (Source, error) {
	if o.SampleFormat == "" {
		o.SampleFormat = F32
	}
	var format malgo.FormatType
	switch o.SampleFormat {
	case F32:
		format = malgo.FormatF32
	case S16:
		format = malgo.FormatS16
	default:
		return nil, fmt.Errorf("audio: capture: sample format %q (want s16 or f32): %w", o.SampleFormat, drivers.ErrBadArgs)
	}
	if err := o.Format.check(); err != nil {
		return nil, fmt.Errorf("audio: capture: %w: %w", err, drivers.ErrBadArgs)
	}
	ctx, err := initContext(o.Backend)
	if err != nil {
		return nil, err
	}
	s := &captureSource{o: o, ctx: ctx, stopped: make(chan struct{}), name: "default"}
	devs, raw, err := captureDevices(ctx, o.Backend)
	if err != nil {
		freeContext(ctx)
		return nil, err
	}
	cfg := malgo.DefaultDeviceConfig(malgo.Capture)
	cfg.Capture.Format = format
	cfg.Capture.Channels = uint32(o.Format.Channels)
	cfg.SampleRate = uint32(o.Format.SampleRate)
	cfg.PeriodSizeInMilliseconds = uint32(FrameDuration.Milliseconds())
	var pin runtime.Pinner
	defer pin.Unpin() // miniaudio copies the ID during ma_device_init
	if o.Device != "" {
		d, id, err := selectDevice(devs, raw, o.Device, &pin)
		if err != nil {
			freeContext(ctx)
			return nil, fmt.Errorf("audio: capture: backend %s: %w", backendName(o.Backend), err)
		}
		cfg.Capture.DeviceID = id
		s.name, s.id = d.Name, d.ID
	} else {
		for _, d := range devs {
			if d.Default {
				s.name, s.id = d.Name, d.ID
			}
		}
	}
	dev, err := malgo.InitDevice(ctx.Context, cfg, malgo.DeviceCallbacks{Data: s.data, Stop: s.onStop})
	if err != nil {
		freeContext(ctx)
		return nil, fmt.Errorf("audio: capture: open %q on backend %s: %w: %w", s.name, backendName(o.Backend), err, drivers.ErrUnreachable)
	}
	s.dev = dev
	s.format = Format{SampleRate: int(dev.SampleRate()), Channels: int(dev.CaptureChannels())}
	if got := dev.CaptureFormat(); got != format || s.format != o.Format {
		s.Close()
		return nil, fmt.Errorf("audio: capture: %q opened as %v (format %d), not the %v %s asked: %w", s.name, s.format, got, o.Format, o.SampleFormat, drivers.ErrDevice)
	}
	return s, nil
}

func (s *captureSource) Format() Format { return s.format }

// Describe says which device was opened.
func (s *captureSource) Describe() map[string]any {
	return map[string]any{"device": s.name, "device_id": s.id, "sample_format": string(s.o.SampleFormat)}
}

// data is miniaudio's data callback, on its audio thread.
func (s *captureSource) data(_, in []byte, frames uint32) {
	s.mu.Lock()
	defer s.mu.Unlock()
	fn := s.fn.Load()
	if fn == nil || s.closing.Load() {
		return
	}
	n := int(frames) * s.format.Channels
	n = min(n, len(in)/s.o.SampleFormat.Size())
	n -= n % s.format.Channels
	if cap(s.buf) < n {
		s.buf = make([]float32, n)
	}
	buf := s.buf[:n]
	decodeNative(buf, in, s.o.SampleFormat)
	(*fn)(buf)
}

// decodeNative converts samples in the host's byte order, as miniaudio delivers them.
func decodeNative(dst []float32, src []byte, sf SampleFormat) {
	if nativeLittle {
		decodeLE(dst, src, sf)
		return
	}
	switch sf {
	case S16:
		for i := range dst {
			dst[i] = float32(int16(binary.BigEndian.Uint16(src[2*i:]))) * (1.0 / 32768)
		}
	case F32:
		for i := range dst {
			dst[i] = clampSample(math.Float32frombits(binary.BigEndian.Uint32(src[4*i:])))
		}
	}
}

var nativeLittle = binary.NativeEndian.Uint16([]byte{1, 0}) == 1

// onStop is miniaudio's stop callback: the device stopped, by Close or by itself (unplugged).
func (s *captureSource) onStop() {
	s.stop.Do(func() { close(s.stopped) })
}

func (s *captureSource) Start(ctx context.Context, fn func(frame []float32)) error {
	s.fn.Store(&fn)
	return runDevice(ctx, "capture", s.name, s.dev, s.stopped, &s.closing)
}

// runDevice starts a device and waits until ctx ends (nil) or the device stops by itself
// (unplugged, taken by the system), which is an error unless it is being closed.
func runDevice(ctx context.Context, what, name string, dev *malgo.Device, stopped <-chan struct{}, closing *atomic.Bool) error {
	if err := dev.Start(); err != nil {
		return fmt.Errorf("audio: %s: start %q: %w: %w", what, name, err, drivers.ErrUnreachable)
	}
	select {
	case <-ctx.Done():
		return nil
	case <-stopped:
		if closing.Load() || ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("audio: %s: %q stopped (unplugged, or taken by the system): %w", what, name, drivers.ErrUnreachable)
	}
}

func (s *captureSource) Close() error {
	s.close.Do(func() {
		s.closing.Store(true)
		if s.dev != nil {
			s.dev.Uninit() // stops the device and waits for its thread
		}
		freeContext(s.ctx)
	})
	return nil
}
