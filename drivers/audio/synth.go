package audio

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/bailiff/bailiff/drivers"
)

// Signals of the synthetic source, each a value of the source option.
const (
	// SignalTone is a 1 kHz sine of peak −20 dBFS (RMS −23.01 dBFS), the usual line-up tone.
	SignalTone = "tone"
	// SignalNoise is white noise of RMS −30 dBFS.
	SignalNoise = "noise"
	// SignalSpeech is speech-like: talk spurts of syllables (a buzz at a drifting pitch
	// around 150 Hz with its harmonics, under a syllable envelope, about 4 a second) between
	// pauses, over a room-noise floor near −60 dBFS. It peaks around −10 dBFS.
	SignalSpeech = "speech"
)

// Levels of the synthetic signals, as amplitudes (full scale 1).
var (
	toneAmp  = math.Pow(10, -20.0/20)                // peak −20 dBFS
	noiseAmp = math.Pow(10, -30.0/20) * math.Sqrt(3) // uniform ±a has RMS a/√3: −30 dBFS
	roomAmp  = math.Pow(10, -60.0/20) * math.Sqrt(3) // the speech signal's floor
)

// synth is a synthetic Source: the same signal on every channel, paced like a sound card.
// It is deterministic: the same signal and format give the same samples.
type synth struct {
	signal string
	f      Format
	next   func() float32 // the next mono sample
}

// NewSynth returns a synthetic Source of signal (SignalTone, SignalNoise or SignalSpeech)
// in format f, delivered at real-time pace like OpenWAV's.
func NewSynth(signal string, f Format) (Source, error) {
	if err := f.check(); err != nil {
		return nil, fmt.Errorf("audio: synth: %w: %w", err, drivers.ErrBadArgs)
	}
	s := &synth{signal: signal, f: f}
	rng := rand.New(rand.NewPCG(0x6261696c, 0x69666621))
	rate := float64(f.SampleRate)
	switch signal {
	case SignalTone:
		step := 2 * math.Pi * 1000 / rate
		var phase float64
		s.next = func() float32 {
			v := toneAmp * math.Sin(phase)
			phase = math.Mod(phase+step, 2*math.Pi)
			return float32(v)
		}
	case SignalNoise:
		s.next = func() float32 { return float32(noiseAmp * (2*rng.Float64() - 1)) }
	case SignalSpeech:
		s.next = newSpeech(rate, rng)
	default:
		return nil, fmt.Errorf("audio: synth: unknown signal %q (want %s, %s or %s): %w", signal, SignalTone, SignalNoise, SignalSpeech, drivers.ErrBadArgs)
	}
	return s, nil
}

func (s *synth) Format() Format { return s.f }

func (s *synth) Describe() map[string]any { return map[string]any{"signal": s.signal} }

func (s *synth) Start(ctx context.Context, fn func(frame []float32)) error {
	return pace(ctx, s.f, s.fill, fn)
}

func (s *synth) fill(buf []float32) (int, error) {
	ch := s.f.Channels
	for i := 0; i+ch <= len(buf); i += ch {
		v := s.next()
		for c := range ch {
			buf[i+c] = v
		}
	}
	return len(buf) / ch, nil
}

func (s *synth) Close() error { return nil }

// newSpeech returns a generator of the speech-like signal at rate.
func newSpeech(rate float64, rng *rand.Rand) func() float32 {
	const harmonics = 8
	var (
		phase    float64 // of the fundamental, radians
		pitch    = 150.0 // Hz, drifts between 90 and 240
		left     int     // samples left in the current syllable or gap
		length   int     // samples in the current syllable (0 in a gap)
		amp      float64 // peak of the current syllable
		syllable int     // syllables left in the talk spurt
		lp       float64 // one-pole low-pass state, to darken the buzz
	)
	ms := func(lo, hi float64) int { return int((lo + (hi-lo)*rng.Float64()) * rate / 1000) }
	return func() float32 {
		if left == 0 {
			switch {
			case length > 0: // a syllable ended: a short gap, or a pause after the spurt
				length = 0
				if syllable == 0 {
					left = ms(300, 1500)
				} else {
					left = ms(30, 110)
				}
			default: // start a syllable, and a new spurt when the last one is done
				if syllable == 0 {
					syllable = 3 + rng.IntN(10)
				}
				syllable--
				length = ms(110, 260)
				left = length
				amp = 0.18 + 0.17*rng.Float64()
				pitch = min(max(pitch*(0.85+0.3*rng.Float64()), 90), 240)
			}
		}
		left--
		v := roomAmp * (2*rng.Float64() - 1)
		if length > 0 {
			// Raised-sine envelope over the syllable; a buzz of harmonics falling at 1/k.
			x := math.Sin(math.Pi * float64(length-left) / float64(length))
			env := amp * x * x
			var buzz float64
			for k := 1; k <= harmonics; k++ {
				buzz += math.Sin(float64(k)*phase) / float64(k)
			}
			buzz += 0.3 * (2*rng.Float64() - 1) // breath
			lp += 0.35 * (buzz - lp)
			v += env * lp
			phase = math.Mod(phase+2*math.Pi*pitch/rate, 2*math.Pi)
		}
		return float32(v)
	}
}
