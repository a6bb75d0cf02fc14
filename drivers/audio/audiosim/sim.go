// Package audiosim is a microphone for tests, hil-tests and the hub's --demo: it writes a
// WAV file of a test signal into a temporary directory, and the audio driver, with source
// wav and that file (DeviceOptions), plays it as if it were a sound card's capture.
//
// A Sim can be told to misbehave like a microphone does: be unplugged (Remove: the file
// goes), come back (Restore), or deliver something that is not audio (Corrupt).
//
// It writes WAV files by the Microsoft RIFF specification ("Multimedia Programming
// Interface and Data Specifications 1.0", 1991: RIFF chunks, the WAVE form, fmt and data;
// the fact chunk of non-PCM formats) with its own writer, not the driver's code, so the two
// check each other.
package audiosim

import (
	"errors"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"
)

// Signals a Sim writes.
const (
	Tone   = "tone"   // a sine of Frequency at peak Level
	Speech = "speech" // speech-like syllable bursts and pauses, peaks near Level
)

// Config describes the simulated microphone. The zero value is 4 s of speech-like signal,
// 48 kHz mono 16-bit, looped.
type Config struct {
	// Name is used for the file name; default "mic".
	Name string
	// SampleRate (default 48000) and Channels (default 1; every channel the same).
	SampleRate, Channels int
	// Float writes 32-bit float samples instead of 16-bit PCM.
	Float bool
	// Signal is Tone or Speech (default).
	Signal string
	// Level is the signal's peak in dBFS: default −20 for Tone, −10 for Speech.
	Level float64
	// Frequency is the tone's, in Hz; default 1000.
	Frequency float64
	// Duration of the file; default 4 s. The driver loops it.
	Duration time.Duration
	// NoLoop leaves loop off in DeviceOptions, so the input ends at the end of the file.
	NoLoop bool
	// Logger gets debug records; nil discards them.
	Logger *slog.Logger
}

// Sim is a running simulated microphone: a WAV file in a directory of its own.
type Sim struct {
	cfg  Config
	dir  string
	path string
	data []byte // the file's bytes, to restore it

	mu     sync.Mutex
	closed bool
}

// New writes the test signal's file and returns the Sim.
func New(cfg Config) (*Sim, error) {
	if cfg.Name == "" {
		cfg.Name = "mic"
	}
	if cfg.SampleRate == 0 {
		cfg.SampleRate = 48000
	}
	if cfg.Channels == 0 {
		cfg.Channels = 1
	}
	if cfg.Signal == "" {
		cfg.Signal = Speech
	}
	if cfg.Level == 0 {
		cfg.Level = -20
		if cfg.Signal == Speech {
			cfg.Level = -10
		}
	}
	if cfg.Frequency == 0 {
		cfg.Frequency = 1000
	}
	if cfg.Duration <= 0 {
		cfg.Duration = 4 * time.Second
	}
	if cfg.SampleRate < 8000 || cfg.SampleRate > 192000 || cfg.Channels < 1 || cfg.Channels > 8 {
		return nil, fmt.Errorf("audiosim: %d Hz, %d channels: want 8000…192000 Hz, 1…8 channels", cfg.SampleRate, cfg.Channels)
	}
	if cfg.Level > 0 {
		return nil, fmt.Errorf("audiosim: level %v dBFS: want at most 0", cfg.Level)
	}
	var mono []float32
	switch cfg.Signal {
	case Tone:
		mono = tone(cfg)
	case Speech:
		mono = speech(cfg)
	default:
		return nil, fmt.Errorf("audiosim: unknown signal %q (want tone or speech)", cfg.Signal)
	}
	samples := make([]float32, 0, len(mono)*cfg.Channels)
	for _, v := range mono {
		for range cfg.Channels {
			samples = append(samples, v)
		}
	}
	data, err := Encode(cfg.SampleRate, cfg.Channels, cfg.Float, samples)
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "bailiff-audiosim-")
	if err != nil {
		return nil, fmt.Errorf("audiosim: %w", err)
	}
	s := &Sim{cfg: cfg, dir: dir, path: filepath.Join(dir, fileName(cfg.Name)), data: data}
	if err := s.Restore(); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	if cfg.Logger != nil {
		cfg.Logger.Debug("audiosim: wrote test signal", "file", s.path, "signal", cfg.Signal, "level_dbfs", cfg.Level)
	}
	return s, nil
}

// fileName makes a safe file name of a device name.
func fileName(name string) string {
	b := []byte(name)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			b[i] = '_'
		}
	}
	return string(b) + ".wav"
}

// Path is the WAV file's path.
func (s *Sim) Path() string { return s.path }

// Address is "": an audio input has no address.
func (s *Sim) Address() string { return "" }

// DeviceOptions are the options that point the audio driver at the file: source wav, file,
// loop. The demo merges them into the device's options.
func (s *Sim) DeviceOptions() map[string]string {
	return map[string]string{"source": "wav", "file": s.path, "loop": strconv.FormatBool(!s.cfg.NoLoop)}
}

// Remove deletes the file, as if the microphone were unplugged: the driver's next attempt
// to open it fails, unreachable. (An input that is playing it goes on: the file stays open.)
func (s *Sim) Remove() error {
	err := os.Remove(s.path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	return err
}

// Corrupt replaces the file by bytes that are not a WAV file.
func (s *Sim) Corrupt() error {
	return s.write([]byte("this microphone has gone to pieces"))
}

// Restore writes the file again.
func (s *Sim) Restore() error { return s.write(s.data) }

func (s *Sim) write(b []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errors.New("audiosim: closed")
	}
	// Write beside it and rename, so a reader never sees half a file.
	tmp := s.path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return fmt.Errorf("audiosim: %w", err)
	}
	if err := os.Rename(tmp, s.path); err != nil {
		return fmt.Errorf("audiosim: %w", err)
	}
	return nil
}

// Close removes the directory and its file.
func (s *Sim) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	return os.RemoveAll(s.dir)
}

// tone is a sine of cfg.Frequency at peak cfg.Level, mono.
func tone(cfg Config) []float32 {
	n := frames(cfg)
	amp := math.Pow(10, cfg.Level/20)
	out := make([]float32, n)
	for i := range out {
		out[i] = float32(amp * math.Sin(2*math.Pi*cfg.Frequency*float64(i)/float64(cfg.SampleRate)))
	}
	return out
}

// speech is syllable bursts (a buzz of harmonics under a raised-sine envelope) in talk
// spurts, between pauses, normalised so the loudest sample is at cfg.Level.
func speech(cfg Config) []float32 {
	n := frames(cfg)
	rate := float64(cfg.SampleRate)
	rng := rand.New(rand.NewPCG(7, 11))
	out := make([]float32, n)
	i := int(0.2 * rate) // a moment of quiet first
	for i < n {
		for range 2 + rng.IntN(6) { // syllables in the spurt
			length := int((0.12 + 0.14*rng.Float64()) * rate)
			pitch := 100 + 120*rng.Float64()
			amp := 0.5 + 0.5*rng.Float64()
			for j := 0; j < length && i+j < n; j++ {
				t := float64(j) / rate
				env := math.Sin(math.Pi * float64(j) / float64(length))
				v := 0.0
				for k := 1; k <= 6; k++ {
					v += math.Sin(2*math.Pi*pitch*float64(k)*t) / float64(k)
				}
				out[i+j] = float32(amp * env * env * v)
			}
			i += length + int((0.03+0.08*rng.Float64())*rate)
		}
		i += int((0.3 + 0.9*rng.Float64()) * rate) // pause
	}
	var peak float32
	for _, v := range out {
		peak = max(peak, v, -v)
	}
	if peak > 0 {
		g := float32(math.Pow(10, cfg.Level/20)) / peak
		for k := range out {
			out[k] *= g
		}
	}
	return out
}

func frames(cfg Config) int {
	return max(int(cfg.Duration.Seconds()*float64(cfg.SampleRate)), 1)
}

// Snapshot is the simulated microphone's file and whether it is there (simreg.Inspector).
func (s *Sim) Snapshot() any {
	_, err := os.Stat(s.path)
	return map[string]any{"file": s.path, "present": err == nil}
}

// SetMode simulates the microphone's faults (simreg.Misbehaver): "normal" restores the file,
// "drop" removes it (an unplugged device), "garbage" corrupts it.
func (s *Sim) SetMode(mode string) error {
	switch mode {
	case "normal":
		return s.Restore()
	case "drop":
		return s.Remove()
	case "garbage":
		return s.Corrupt()
	}
	return fmt.Errorf("audiosim: mode %q: want normal, drop or garbage", mode)
}
