package audio

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/bailiff/bailiff/drivers"
)

// Source option values.
const (
	SourceMalgo = "malgo" // a sound card's capture device, through miniaudio (cgo)
	SourceWAV   = "wav"   // a WAV file, at real-time pace
)

// Defaults of the options.
const (
	DefaultSampleRate = 48000
	DefaultChannels   = 1
)

// optionKeys are the option keys of driver "audio".
var optionKeys = []string{"source", "device", "backend", "channels", "sample_rate", "sample_format", "file", "loop", "meter_rate_ms"}

func init() {
	drivers.Register(drivers.Info{
		Name:        "audio",
		Description: "microphones and line inputs: a sound card's capture device (miniaudio, with cgo), a WAV file or a test signal; levels, mute and digital gain",
		Options:     slices.Clone(optionKeys),
		New:         factory,
	})
}

// settings are a device's options, checked.
type settings struct {
	source       string
	device       string
	backend      string
	format       Format // a zero field: not set (the file's, or the default)
	sampleFormat SampleFormat
	file         string
	loop         bool
	meterRate    time.Duration // negative: off
}

// parseOptions checks a device's options. Options that do not apply to its source are
// ignored (a room config can switch a device to a test file and back without removing its
// device line); unknown keys and bad values are errors.
func parseOptions(opts map[string]string) (settings, error) {
	s := settings{source: SourceMalgo, sampleFormat: F32, meterRate: DefaultMeterRate}
	keys := make([]string, 0, len(opts))
	for k := range opts {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		v := strings.TrimSpace(opts[k])
		bad := func(why string) error {
			return fmt.Errorf("option %s %q: %s: %w", k, opts[k], why, drivers.ErrBadArgs)
		}
		switch k {
		case "source":
			switch v {
			case "":
			case SourceMalgo, SourceWAV, SignalTone, SignalNoise, SignalSpeech:
				s.source = v
			default:
				return s, bad("want malgo, wav, tone, noise or speech")
			}
		case "device":
			s.device = v
		case "backend":
			if v != "" {
				if _, err := backendIndex(v); err != nil {
					return s, fmt.Errorf("option backend: %w", err)
				}
			}
			s.backend = v
		case "channels":
			n, err := intOption(v, 1, MaxChannels)
			if err != nil {
				return s, bad(err.Error())
			}
			s.format.Channels = n
		case "sample_rate":
			n, err := intOption(v, MinSampleRate, MaxSampleRate)
			if err != nil {
				return s, bad(err.Error())
			}
			s.format.SampleRate = n
		case "sample_format":
			switch SampleFormat(v) {
			case "":
			case S16, F32:
				s.sampleFormat = SampleFormat(v)
			default:
				return s, bad("want s16 or f32")
			}
		case "file":
			s.file = v
		case "loop":
			if v != "" {
				b, err := strconv.ParseBool(v)
				if err != nil {
					return s, bad("want true or false")
				}
				s.loop = b
			}
		case "meter_rate_ms":
			if v == "" {
				continue
			}
			n, err := strconv.Atoi(v)
			switch {
			case err != nil:
				return s, bad("want a whole number of milliseconds")
			case n == 0:
				s.meterRate = -1
			case n < 10 || n > 60000:
				return s, bad("want 10…60000 ms, or 0 for no meters")
			default:
				s.meterRate = time.Duration(n) * time.Millisecond
			}
		default:
			return s, fmt.Errorf("unknown option %q (want %s): %w", k, strings.Join(optionKeys, ", "), drivers.ErrBadArgs)
		}
	}
	if s.source == SourceWAV && s.file == "" {
		return s, fmt.Errorf("source wav needs option file, the WAV file to play: %w", drivers.ErrBadArgs)
	}
	return s, nil
}

// intOption parses a whole number in lo…hi; "" is 0 (not set).
func intOption(v string, lo, hi int) (int, error) {
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		return 0, fmt.Errorf("want a whole number %d…%d", lo, hi)
	}
	return n, nil
}

// withDefaults fills in the format fields not set.
func (s settings) withDefaults() Format {
	f := s.format
	if f.SampleRate == 0 {
		f.SampleRate = DefaultSampleRate
	}
	if f.Channels == 0 {
		f.Channels = DefaultChannels
	}
	return f
}

// opener returns the function that opens the source of s, and the fields it adds to the
// state. It fails for source malgo in a build without cgo.
func (s settings) opener() (func(context.Context) (Source, error), drivers.State, error) {
	info := drivers.State{"source": s.source}
	switch s.source {
	case SourceMalgo:
		if !cgoCapture {
			return nil, nil, ErrNoCgo
		}
		o := CaptureOptions{Backend: s.backend, Device: s.device, Format: s.withDefaults(), SampleFormat: s.sampleFormat}
		info["backend"] = backendName(s.backend)
		info["device"] = s.device
		if s.device == "" {
			info["device"] = "default"
		}
		return func(context.Context) (Source, error) { return OpenCapture(o) }, info, nil
	case SourceWAV:
		info["file"] = s.file
		info["loop"] = s.loop
		want := s.format
		return func(context.Context) (Source, error) {
			src, err := OpenWAV(s.file, s.loop)
			if err != nil {
				return nil, err
			}
			f := src.Format()
			if (want.SampleRate != 0 && want.SampleRate != f.SampleRate) || (want.Channels != 0 && want.Channels != f.Channels) {
				src.Close()
				return nil, fmt.Errorf("audio: wav: %s is %v, the options ask %v: %w", s.file, f, describeWant(want), drivers.ErrDevice)
			}
			return src, nil
		}, info, nil
	}
	f := s.withDefaults()
	if _, err := NewSynth(s.source, f); err != nil {
		return nil, nil, err
	}
	return func(context.Context) (Source, error) { return NewSynth(s.source, f) }, info, nil
}

func describeWant(f Format) string {
	var parts []string
	if f.SampleRate != 0 {
		parts = append(parts, fmt.Sprintf("%d Hz", f.SampleRate))
	}
	if f.Channels != 0 {
		parts = append(parts, fmt.Sprintf("%d ch", f.Channels))
	}
	return strings.Join(parts, ", ")
}

// factory makes an Input for one device of a room config. It opens nothing: the source is
// opened by the first Poll.
func factory(cfg drivers.Config) (drivers.Device, error) {
	if strings.TrimSpace(cfg.Address) != "" {
		return nil, fmt.Errorf("audio: device %q: address %q: an audio input takes no address (name the capture device with option device, or the file with option file): %w", cfg.ID, cfg.Address, drivers.ErrBadArgs)
	}
	s, err := parseOptions(cfg.Options)
	if err != nil {
		return nil, fmt.Errorf("audio: device %q: %w", cfg.ID, err)
	}
	open, info, err := s.opener()
	if err != nil {
		return nil, fmt.Errorf("audio: device %q: %w", cfg.ID, err)
	}
	log := cfg.Logger
	if log != nil {
		log = log.With("device", cfg.ID)
		log.Debug("audio input", slog.Any("source", s.source), slog.Any("meter_rate", s.meterRate))
	}
	return New(open, Options{MeterRate: s.meterRate, Notify: cfg.Notify, Logger: log, Info: info}), nil
}
