//go:build cgo

package audio

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/gen2brain/malgo"

	"github.com/bailiff/bailiff/drivers"
)

// PlaybackOptions says which playback device OpenPlayback opens, and in which format.
type PlaybackOptions struct {
	Backend string // as CaptureOptions.Backend
	Device  string // a playback device's ID, name or a unique part of its name; "" the default
	Format  Format
}

// Playback is a sound card's playback device: Start pulls frames from fill in real time.
type Playback struct {
	o       PlaybackOptions
	ctx     *malgo.AllocatedContext
	dev     *malgo.Device
	name    string
	fill    atomic.Pointer[func([]float32)]
	mu      sync.Mutex
	buf     []float32
	stopped chan struct{}
	stop    sync.Once
	closing atomic.Bool
	close   sync.Once
}

// OpenPlayback opens a playback device through miniaudio, chosen as OpenCapture chooses a
// capture device (same backends, same matching of names). Frames are float32, interleaved.
// In a build without cgo it fails with ErrNoCgo.
func OpenPlayback(o PlaybackOptions) (*Playback, error) {
	if err := o.Format.check(); err != nil {
		return nil, fmt.Errorf("audio: playback: %w: %w", err, drivers.ErrBadArgs)
	}
	ctx, err := initContext(o.Backend)
	if err != nil {
		return nil, err
	}
	p := &Playback{o: o, ctx: ctx, name: "default", stopped: make(chan struct{})}
	raw, err := ctx.Devices(malgo.Playback)
	if err != nil {
		freeContext(ctx)
		return nil, fmt.Errorf("audio: playback: list the devices of backend %s: %w: %w", backendName(o.Backend), err, drivers.ErrUnreachable)
	}
	cfg := malgo.DefaultDeviceConfig(malgo.Playback)
	cfg.Playback.Format = malgo.FormatF32
	cfg.Playback.Channels = uint32(o.Format.Channels)
	cfg.SampleRate = uint32(o.Format.SampleRate)
	cfg.PeriodSizeInMilliseconds = uint32(FrameDuration.Milliseconds())
	var pin runtime.Pinner
	defer pin.Unpin()
	if o.Device != "" {
		d, id, err := selectDevice(deviceInfos(raw), raw, o.Device, &pin)
		if err != nil {
			freeContext(ctx)
			return nil, fmt.Errorf("audio: playback: backend %s: %w", backendName(o.Backend), err)
		}
		cfg.Playback.DeviceID = id
		p.name = d.Name
	}
	dev, err := malgo.InitDevice(ctx.Context, cfg, malgo.DeviceCallbacks{Data: p.data, Stop: func() { p.stop.Do(func() { close(p.stopped) }) }})
	if err != nil {
		freeContext(ctx)
		return nil, fmt.Errorf("audio: playback: open %q on backend %s: %w: %w", p.name, backendName(o.Backend), err, drivers.ErrUnreachable)
	}
	p.dev = dev
	return p, nil
}

// Name is the device's name.
func (p *Playback) Name() string { return p.name }

func (p *Playback) data(out, _ []byte, frames uint32) {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := min(int(frames)*p.o.Format.Channels, len(out)/4)
	if cap(p.buf) < n {
		p.buf = make([]float32, n)
	}
	buf := p.buf[:n]
	clear(buf)
	if fill := p.fill.Load(); fill != nil && !p.closing.Load() {
		(*fill)(buf)
	}
	copy(out, unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(buf))), 4*n))
}

// Start plays what fill writes into each buffer (left as silence where it writes nothing)
// until ctx ends or the device stops. fill runs on the audio thread and must not block.
func (p *Playback) Start(ctx context.Context, fill func(out []float32)) error {
	p.fill.Store(&fill)
	return runDevice(ctx, "playback", p.name, p.dev, p.stopped, &p.closing)
}

// Close stops and releases the device.
func (p *Playback) Close() error {
	p.close.Do(func() {
		p.closing.Store(true)
		if p.dev != nil {
			p.dev.Uninit()
		}
		freeContext(p.ctx)
	})
	return nil
}
