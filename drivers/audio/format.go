package audio

import (
	"context"
	"fmt"
	"time"
)

// Limits of the formats an Input takes, from a sound card, a WAV file or the synthesiser.
const (
	MinSampleRate = 8000
	MaxSampleRate = 192000
	MaxChannels   = 8
)

// FrameDuration is how much audio the file and synthetic sources deliver in one call, and
// the period a sound card is asked for: 10 ms, a divisor of every Opus frame size from 10 ms.
const FrameDuration = 10 * time.Millisecond

// Format is the format of the frames a Source delivers: interleaved float32 samples, full
// scale ±1, Channels per sample frame, SampleRate sample frames per second.
type Format struct {
	SampleRate int // Hz
	Channels   int
}

func (f Format) String() string { return fmt.Sprintf("%d Hz, %d ch", f.SampleRate, f.Channels) }

// check reports a format outside the limits.
func (f Format) check() error {
	if f.SampleRate < MinSampleRate || f.SampleRate > MaxSampleRate {
		return fmt.Errorf("sample rate %d Hz: want %d…%d", f.SampleRate, MinSampleRate, MaxSampleRate)
	}
	if f.Channels < 1 || f.Channels > MaxChannels {
		return fmt.Errorf("%d channels: want 1…%d", f.Channels, MaxChannels)
	}
	return nil
}

// chunkFrames is the number of sample frames in FrameDuration (at least 1).
func (f Format) chunkFrames() int {
	return max(f.SampleRate*int(FrameDuration/time.Millisecond)/1000, 1)
}

// SampleFormat is how samples are stored: in a WAV file, or as a sound card delivers them.
// Frames handed on are float32 whatever it is.
type SampleFormat string

// Sample formats this package reads.
const (
	S16 SampleFormat = "s16" // signed 16-bit integer PCM
	F32 SampleFormat = "f32" // 32-bit IEEE 754 float, full scale ±1
)

// Size is the size of one sample in bytes (0 for an unknown format).
func (s SampleFormat) Size() int {
	switch s {
	case S16:
		return 2
	case F32:
		return 4
	}
	return 0
}

// Source is where an Input gets its audio: a sound card (OpenCapture), a WAV file (OpenWAV)
// or a synthesiser (NewSynth); the media path takes frames through the same interface
// (Input.Output), so whatever feeds the meters can feed Opus → WHIP.
type Source interface {
	// Format is the format of the frames Start delivers. It is fixed once the source is open.
	Format() Format
	// Start delivers frames to fn until ctx is done (it then returns nil) or the source
	// fails or ends (it returns why: ErrEnded at the end of a file that does not loop). fn is
	// called from one goroutine at a time, with a whole number of sample frames; frame is
	// valid only during the call and fn may change it in place. Start is called at most once.
	Start(ctx context.Context, fn func(frame []float32)) error
	// Close releases the device or file. It may be called while Start runs, or without Start.
	Close() error
}

// describer is what an Input asks of a source that can say more about itself (the capture
// device it opened, a file's sample format) for the state Poll returns.
type describer interface {
	Describe() map[string]any
}
