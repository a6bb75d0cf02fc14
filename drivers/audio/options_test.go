package audio

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bailiff/bailiff/drivers"
)

func TestParseOptions(t *testing.T) {
	def := settings{source: SourceMalgo, sampleFormat: F32, meterRate: DefaultMeterRate}
	for _, tc := range []struct {
		opts map[string]string
		want func(s *settings)
		err  string
	}{
		{nil, func(s *settings) {}, ""},
		{map[string]string{"source": "", "channels": "", "loop": "", "meter_rate_ms": ""}, func(s *settings) {}, ""},
		{map[string]string{"source": "wav", "file": "/a.wav", "loop": "true"}, func(s *settings) { s.source, s.file, s.loop = SourceWAV, "/a.wav", true }, ""},
		{map[string]string{"source": " speech ", "channels": "2", "sample_rate": "16000"}, func(s *settings) { s.source, s.format = SignalSpeech, Format{16000, 2} }, ""},
		{map[string]string{"device": "USB Audio", "backend": "alsa", "sample_format": "s16"}, func(s *settings) { s.device, s.backend, s.sampleFormat = "USB Audio", "alsa", S16 }, ""},
		{map[string]string{"backend": "pulseaudio"}, func(s *settings) { s.backend = "pulseaudio" }, ""},
		{map[string]string{"meter_rate_ms": "0"}, func(s *settings) { s.meterRate = -1 }, ""},
		{map[string]string{"meter_rate_ms": "50"}, func(s *settings) { s.meterRate = 50 * time.Millisecond }, ""},
		// Options of another source are ignored.
		{map[string]string{"source": "tone", "device": "hw:1", "file": "x.wav"}, func(s *settings) { s.source, s.device, s.file = SignalTone, "hw:1", "x.wav" }, ""},

		{map[string]string{"source": "mic"}, nil, `option source "mic": want malgo, wav, tone, noise or speech`},
		{map[string]string{"source": "wav"}, nil, "source wav needs option file"},
		{map[string]string{"channels": "9"}, nil, `option channels "9": want a whole number 1…8`},
		{map[string]string{"channels": "two"}, nil, `option channels "two"`},
		{map[string]string{"sample_rate": "4000"}, nil, `want a whole number 8000…192000`},
		{map[string]string{"sample_format": "s24"}, nil, "want s16 or f32"},
		{map[string]string{"loop": "sometimes"}, nil, "want true or false"},
		{map[string]string{"meter_rate_ms": "5"}, nil, "want 10…60000 ms, or 0 for no meters"},
		{map[string]string{"meter_rate_ms": "fast"}, nil, "want a whole number of milliseconds"},
		{map[string]string{"backend": "custom"}, nil, `unknown audio backend "custom"`},
		{map[string]string{"backend": "asio"}, nil, `unknown audio backend "asio"`},
		{map[string]string{"volume": "11"}, nil, `unknown option "volume"`},
	} {
		got, err := parseOptions(tc.opts)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) || !errors.Is(err, drivers.ErrBadArgs) {
				t.Errorf("%v: error %v, want %q (bad args)", tc.opts, err, tc.err)
			}
			continue
		}
		want := def
		tc.want(&want)
		if err != nil || got != want {
			t.Errorf("%v: got %+v, %v; want %+v", tc.opts, got, err, want)
		}
	}
}

func TestBackendIndex(t *testing.T) {
	for name, want := range map[string]int{"wasapi": 0, "coreaudio": 3, "oss": 6, "pulse": 7, "pulseaudio": 7, "alsa": 8, "jack": 9, "null": 14} {
		if got, err := backendIndex(name); err != nil || got != want {
			t.Errorf("backendIndex(%s) = %d, %v; want %d", name, got, err, want)
		}
	}
	if _, err := backendIndex("custom"); err == nil || strings.Contains(err.Error(), "custom,") {
		t.Errorf("custom: %v", err)
	}
}

func TestMatchDevice(t *testing.T) {
	devs := []DeviceInfo{
		{ID: "6877", Name: "HDA Intel PCH, ALC892 Analog", Default: true},
		{ID: "6878", Name: "USB Audio, USB Audio"},
		{ID: "6879", Name: "USB Audio #2"},
	}
	for want, id := range map[string]string{
		"6878":                         "6878",
		"USB Audio #2":                 "6879",
		"usb audio, usb":               "6878",
		"alc892":                       "6877",
		"HDA Intel PCH, ALC892 Analog": "6877",
	} {
		d, err := matchDevice(devs, want)
		if err != nil || d.ID != id {
			t.Errorf("matchDevice(%q) = %+v, %v; want %s", want, d, err, id)
		}
	}
	_, err := matchDevice(devs, "usb")
	if !errors.Is(err, drivers.ErrBadArgs) || !strings.Contains(err.Error(), "matches 2 devices") {
		t.Errorf("ambiguous: %v", err)
	}
	_, err = matchDevice(devs, "Podium")
	if !errors.Is(err, ErrNoDevice) || !errors.Is(err, drivers.ErrUnreachable) || !strings.Contains(err.Error(), `"USB Audio #2" (6879)`) {
		t.Errorf("missing: %v", err)
	}
	if _, err := matchDevice(nil, "x"); !errors.Is(err, ErrNoDevice) || !strings.Contains(err.Error(), "capture devices: none") {
		t.Errorf("no devices: %v", err)
	}
}

func TestFactory(t *testing.T) {
	info, ok := drivers.Lookup("audio")
	if !ok || info.DefaultPort != 0 || !slices.Equal(info.Options, optionKeys) {
		t.Fatalf("registration %+v", info)
	}
	for _, tc := range []struct {
		cfg  drivers.Config
		code string
		msg  string
	}{
		{drivers.Config{ID: "m", Address: "10.0.0.1"}, "bad_args", "an audio input takes no address"},
		{drivers.Config{ID: "m", Options: map[string]string{"gain": "3"}}, "bad_args", `audio: device "m": unknown option "gain"`},
		{drivers.Config{ID: "m", Options: map[string]string{"source": "wav"}}, "bad_args", "needs option file"},
	} {
		_, err := info.New(tc.cfg)
		if err == nil || drivers.Code(err) != tc.code || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("%+v: %v, want %s %q", tc.cfg, err, tc.code, tc.msg)
		}
	}
	// Synthetic sources work in every build.
	dev, err := info.New(drivers.Config{ID: "m", Options: map[string]string{"source": "speech", "channels": "2"}})
	if err != nil {
		t.Fatal(err)
	}
	defer dev.Close()
	st, err := dev.Poll(ctx5(t))
	if err != nil || st["source"] != "speech" || st["signal"] != "speech" || st["channels"] != 2 || st["status"] != StatusRunning {
		t.Fatalf("speech: %v, %v", st, err)
	}
	if got := drivers.Actions(dev); !slices.Equal(got, []string{"gain", "mute", "refresh"}) {
		t.Fatalf("actions %v", got)
	}
}

// Source malgo: in a build with cgo the factory takes it; without, it fails and says why.
func TestFactoryMalgo(t *testing.T) {
	info, _ := drivers.Lookup("audio")
	for _, opts := range []map[string]string{nil, {"source": "malgo", "backend": "null"}} {
		dev, err := info.New(drivers.Config{ID: "m", Options: opts})
		if cgoCapture {
			if err != nil {
				t.Fatal(err)
			}
			dev.Close()
			continue
		}
		if !errors.Is(err, ErrNoCgo) || drivers.Code(err) != "unsupported" || !strings.Contains(err.Error(), "CGO_ENABLED=0") {
			t.Fatalf("no cgo: %v", err)
		}
	}
	if !cgoCapture {
		if _, err := CaptureDevices(""); !errors.Is(err, ErrNoCgo) {
			t.Fatal(err)
		}
		if _, err := OpenCapture(CaptureOptions{}); !errors.Is(err, ErrNoCgo) {
			t.Fatal(err)
		}
	}
}

func TestNewSynth(t *testing.T) {
	if _, err := NewSynth("chirp", Format{48000, 1}); !errors.Is(err, drivers.ErrBadArgs) {
		t.Fatal(err)
	}
	if _, err := NewSynth(SignalTone, Format{48000, 0}); !errors.Is(err, drivers.ErrBadArgs) {
		t.Fatal(err)
	}
	// Each signal at its level, over 2 s of it.
	for _, tc := range []struct {
		signal              string
		rmsLo, rmsHi, pkMax float64
	}{
		{SignalTone, -23.05, -22.95, -19.99},
		{SignalNoise, -30.2, -29.8, -25},
		{SignalSpeech, -40, -16, -3},
	} {
		src, err := NewSynth(tc.signal, Format{16000, 2})
		if err != nil {
			t.Fatal(err)
		}
		s := src.(*synth)
		buf := make([]float32, 2*32000)
		if n, err := s.fill(buf); n != 32000 || err != nil {
			t.Fatal(n, err)
		}
		if !slices.Equal(buf[0:2], []float32{buf[0], buf[0]}) || buf[2] != buf[3] {
			t.Fatal("channels differ")
		}
		var rms, peak []float64
		NewMeter(2, 32000).Add(buf, func(r, p []float64) { rms, peak = slices.Clone(r), slices.Clone(p) })
		if rms[0] < tc.rmsLo || rms[0] > tc.rmsHi || peak[0] > tc.pkMax {
			t.Errorf("%s: RMS %.2f peak %.2f dBFS", tc.signal, rms[0], peak[0])
		}
		if src.Close() != nil || src.Format() != (Format{16000, 2}) {
			t.Fatal("close or format")
		}
	}
	// Speech pauses: some 100 ms windows are near the room floor, some loud.
	src, _ := NewSynth(SignalSpeech, Format{16000, 1})
	buf := make([]float32, 16000*10)
	src.(*synth).fill(buf)
	var quiet, loud int
	NewMeter(1, 1600).Add(buf, func(r, p []float64) {
		if r[0] < -55 {
			quiet++
		}
		if p[0] > -20 {
			loud++
		}
	})
	if quiet < 5 || loud < 20 {
		t.Fatalf("speech over 10 s: %d quiet and %d loud windows of 100", quiet, loud)
	}
}
