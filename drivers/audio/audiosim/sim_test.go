package audiosim_test

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/bailiff/bailiff/drivers/audio/audiosim"
	"github.com/bailiff/bailiff/drivers/audio/internal/golden"
	"github.com/bailiff/bailiff/drivers/simreg"
)

// The writer produces the golden files byte for byte.
func TestEncodeGolden(t *testing.T) {
	n := 0
	for _, g := range golden.WAVs {
		if !g.Sim {
			continue
		}
		n++
		got, err := audiosim.Encode(g.Rate, g.Channels, g.Format == "f32", g.Samples)
		if err != nil {
			t.Fatalf("%s: %v", g.Name, err)
		}
		if !bytes.Equal(got, g.Data) {
			t.Errorf("%s:\n got % x\nwant % x", g.Name, got, g.Data)
		}
	}
	if n == 0 {
		t.Fatal("no golden file for the simulator")
	}
	if _, err := audiosim.Encode(48000, 2, false, []float32{1, 2, 3}); err == nil {
		t.Error("3 samples of 2 channels encoded")
	}
}

func TestEncodeClips(t *testing.T) {
	b, err := audiosim.Encode(8000, 1, false, []float32{2, -2, 0.5})
	if err != nil {
		t.Fatal(err)
	}
	want := golden.RIFF(golden.FmtOf(1, 1, 8000, 16), golden.Chunk("data", golden.PCM16(32767, -32768, 16384)))
	if !bytes.Equal(b, want) {
		t.Fatalf("got % x\nwant % x", b, want)
	}
}

func TestSim(t *testing.T) {
	for _, cfg := range []audiosim.Config{
		{Signal: audiosim.Tone, SampleRate: 8000, Channels: 2},
		{Name: "bench/mic 1", Float: true},
		{Signal: audiosim.Speech, Level: -6, SampleRate: 16000},
	} {
		s, err := audiosim.New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		if s.Address() != "" {
			t.Errorf("address %q", s.Address())
		}
		opts := s.DeviceOptions()
		if opts["source"] != "wav" || opts["file"] != s.Path() || opts["loop"] != "true" {
			t.Errorf("options %v", opts)
		}
		b, err := os.ReadFile(s.Path())
		if err != nil || string(b[:4]) != "RIFF" || string(b[8:12]) != "WAVE" {
			t.Fatalf("file: %v % x", err, b[:min(len(b), 12)])
		}
		if filepath.Base(s.Path()) == "bench/mic 1.wav" || filepath.Dir(s.Path()) == os.TempDir() {
			t.Errorf("path %s", s.Path())
		}
		// Peak level of a 16-bit file, from the bytes (channel 1).
		if !cfg.Float {
			ch := max(cfg.Channels, 1)
			var peak int
			for i := 44; i+1 < len(b); i += 2 * ch {
				v := int(int16(uint16(b[i]) | uint16(b[i+1])<<8))
				peak = max(peak, v, -v)
			}
			level := cfg.Level
			if level == 0 {
				level = map[string]float64{audiosim.Tone: -20, audiosim.Speech: -10, "": -10}[cfg.Signal]
			}
			if got := 20 * math.Log10(float64(peak)/32768); math.Abs(got-level) > 0.1 {
				t.Errorf("%+v: peak %.2f dBFS, want %v", cfg, got, level)
			}
		}
		if err := s.Remove(); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(s.Path()); !os.IsNotExist(err) {
			t.Fatalf("removed file: %v", err)
		}
		if err := s.Remove(); err != nil {
			t.Fatal("second remove:", err)
		}
		if err := s.Corrupt(); err != nil {
			t.Fatal(err)
		}
		if c, _ := os.ReadFile(s.Path()); bytes.HasPrefix(c, []byte("RIFF")) {
			t.Fatal("corrupt file is a RIFF file")
		}
		if err := s.Restore(); err != nil {
			t.Fatal(err)
		}
		if c, _ := os.ReadFile(s.Path()); !bytes.Equal(c, b) {
			t.Fatal("restored file differs")
		}
		dir := filepath.Dir(s.Path())
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(dir); !os.IsNotExist(err) {
			t.Fatalf("directory left after Close: %v", err)
		}
		if err := s.Close(); err != nil {
			t.Fatal("second close:", err)
		}
		if err := s.Restore(); err == nil {
			t.Fatal("restore after close")
		}
	}
}

func TestNewRefuses(t *testing.T) {
	for _, cfg := range []audiosim.Config{
		{SampleRate: 4000}, {Channels: 9}, {Level: 3}, {Signal: "chirp"},
	} {
		if s, err := audiosim.New(cfg); err == nil {
			s.Close()
			t.Errorf("%+v: no error", cfg)
		}
	}
}

func TestNoLoop(t *testing.T) {
	s, err := audiosim.New(audiosim.Config{NoLoop: true, Duration: 1e8})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.DeviceOptions()["loop"] != "false" {
		t.Fatal(s.DeviceOptions())
	}
}

// The registry starts it; it has no address but options for the device.
func TestRegistered(t *testing.T) {
	sim, err := simreg.Start("audio", simreg.Options{ID: "bench-mic", Name: "Bench", Fast: true, Transport: "tcp",
		Options: map[string]string{"sample_rate": "16000", "channels": "2"}})
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	if sim.Address() != "" {
		t.Fatalf("address %q", sim.Address())
	}
	do, ok := sim.(interface{ DeviceOptions() map[string]string })
	if !ok {
		t.Fatal("the simulator has no DeviceOptions")
	}
	file := do.DeviceOptions()["file"]
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	// fmt: 2 channels at 16000 Hz.
	if ch, rate := int(b[22])|int(b[23])<<8, int(b[24])|int(b[25])<<8|int(b[26])<<16; ch != 2 || rate != 16000 {
		t.Fatalf("file of %d channels at %d Hz", ch, rate)
	}
	if filepath.Base(file) != "bench-mic.wav" {
		t.Errorf("file %s", file)
	}
	for _, o := range []simreg.Options{
		{ID: "x", Options: map[string]string{"channels": "two"}},
		{ID: "x", Options: map[string]string{"sample_rate": "4000"}},
	} {
		if s, err := simreg.Start("audio", o); err == nil {
			s.Close()
			t.Errorf("%+v: no error", o)
		}
	}
}
