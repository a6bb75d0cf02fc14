package audio

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bailiff/bailiff/drivers"
	"github.com/bailiff/bailiff/drivers/audio/internal/golden"
)

func TestParseWAVGolden(t *testing.T) {
	for _, g := range golden.WAVs {
		t.Run(g.Name, func(t *testing.T) {
			info, err := ParseWAV(bytes.NewReader(g.Data), int64(len(g.Data)))
			if g.Err != "" {
				if err == nil {
					t.Fatalf("parsed as %+v; want error %q", info, g.Err)
				}
				if !strings.Contains(err.Error(), g.Err) || !strings.HasPrefix(err.Error(), "audio: wav: ") {
					t.Fatalf("error %q; want one starting audio: wav: with %q", err, g.Err)
				}
				if !errors.Is(err, ErrBadWAV) || drivers.Code(err) != "device_error" {
					t.Fatalf("error %v: not ErrBadWAV/device_error", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := WAVInfo{Format: Format{g.Rate, g.Channels}, SampleFormat: SampleFormat(g.Format), DataOffset: g.DataOffset, DataSize: g.DataSize}
			if info != want {
				t.Fatalf("got %+v, want %+v", info, want)
			}
			if got := info.Frames(); got != int64(len(g.Samples)/g.Channels) {
				t.Fatalf("%d frames, want %d", got, len(g.Samples)/g.Channels)
			}
			got := make([]float32, len(g.Samples))
			n := decodeLE(got, g.Data[info.DataOffset:info.DataOffset+info.DataSize], info.SampleFormat)
			if n != len(g.Samples) || !slicesEqual(got, g.Samples) {
				t.Fatalf("samples %v (%d), want %v", got, n, g.Samples)
			}
		})
	}
}

func slicesEqual(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestWAVInfoDuration(t *testing.T) {
	w := WAVInfo{Format: Format{48000, 2}, SampleFormat: S16, DataSize: 48000 * 4 * 3 / 2}
	if w.BlockAlign() != 4 || w.Frames() != 72000 || w.Duration() != 1500*time.Millisecond {
		t.Fatalf("%d %d %v", w.BlockAlign(), w.Frames(), w.Duration())
	}
	if (WAVInfo{}).Duration() != 0 || (WAVInfo{}).Frames() != 0 {
		t.Fatal("zero WAVInfo")
	}
}

// A reader that fails is unreachable; one shorter than the size it claims is a bad file.
func TestParseWAVReadErrors(t *testing.T) {
	data := golden.WAVs[0].Data
	_, err := ParseWAV(failingReader{}, int64(len(data)))
	if !errors.Is(err, drivers.ErrUnreachable) || !errors.Is(err, fs.ErrPermission) || errors.Is(err, ErrBadWAV) {
		t.Fatalf("failing reader: %v", err)
	}
	_, err = ParseWAV(bytes.NewReader(data[:30]), int64(len(data)))
	if !errors.Is(err, ErrBadWAV) || !strings.Contains(err.Error(), "the file ends at offset 30") {
		t.Fatalf("short reader: %v", err)
	}
}

type failingReader struct{}

func (failingReader) ReadAt([]byte, int64) (int, error) { return 0, fs.ErrPermission }

func writeFile(t *testing.T, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// collect runs src for d and returns the samples it delivered and what Start returned.
func collect(t *testing.T, src Source, d time.Duration) ([]float32, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	var mu sync.Mutex
	var got []float32
	err := src.Start(ctx, func(frame []float32) {
		mu.Lock()
		got = append(got, frame...)
		mu.Unlock()
	})
	mu.Lock()
	defer mu.Unlock()
	return got, err
}

func TestOpenWAV(t *testing.T) {
	g := golden.WAVs[0] // pcm16-mono-8k, 5 samples
	path := writeFile(t, "a.wav", g.Data)

	src, err := OpenWAV(path, false)
	if err != nil {
		t.Fatal(err)
	}
	if src.Format() != (Format{8000, 1}) {
		t.Fatalf("format %v", src.Format())
	}
	if d := src.(describer).Describe(); d["sample_format"] != "s16" {
		t.Fatalf("describe %v", d)
	}
	got, err := collect(t, src, 2*time.Second)
	if !errors.Is(err, ErrEnded) || !slicesEqual(got, g.Samples) {
		t.Fatalf("no loop: %v, %v; want %v and the end", got, err, g.Samples)
	}
	if err := src.Close(); err != nil {
		t.Fatal(err)
	}
	if err := src.Close(); err != nil {
		t.Fatal("second close:", err)
	}

	src, err = OpenWAV(path, true)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	got, err = collect(t, src, 100*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) < 80*5 { // 80 a chunk at 8 kHz; a few chunks in 100 ms
		t.Fatalf("looping: %d samples in 100 ms", len(got))
	}
	for i, v := range got {
		if v != g.Samples[i%len(g.Samples)] {
			t.Fatalf("looping: sample %d is %v, want %v", i, v, g.Samples[i%len(g.Samples)])
		}
	}
}

func TestOpenWAVErrors(t *testing.T) {
	_, err := OpenWAV(filepath.Join(t.TempDir(), "nope.wav"), true)
	if !errors.Is(err, drivers.ErrUnreachable) || !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("missing file: %v", err)
	}
	_, err = OpenWAV(t.TempDir(), true)
	if !errors.Is(err, ErrBadWAV) {
		t.Fatalf("directory: %v", err)
	}
	_, err = OpenWAV(writeFile(t, "x.wav", []byte("RIFF....WAVEjunk")), true)
	if !errors.Is(err, ErrBadWAV) || drivers.Code(err) != "device_error" || !strings.HasPrefix(err.Error(), "audio: wav: /") ||
		!strings.Contains(err.Error(), "x.wav: RIFF size") || strings.Count(err.Error(), "audio:") != 1 {
		t.Fatalf("bad file: %v", err)
	}
}

// A file cut short after it was opened fails the read, unreachable.
func TestWAVTruncatedWhilePlaying(t *testing.T) {
	data := golden.RIFF(golden.FmtOf(1, 1, 8000, 16), golden.Chunk("data", make([]byte, 16000)))
	path := writeFile(t, "t.wav", data)
	src, err := OpenWAV(path, true)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	if err := os.Truncate(path, 100); err != nil {
		t.Fatal(err)
	}
	_, err = collect(t, src, 2*time.Second)
	if !errors.Is(err, drivers.ErrUnreachable) {
		t.Fatalf("truncated: %v", err)
	}
}

// The paced reader delivers at real-time pace in FrameDuration chunks.
func TestPace(t *testing.T) {
	src, err := NewSynth(SignalTone, Format{8000, 2})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var frames, calls int
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	err = src.Start(ctx, func(frame []float32) {
		mu.Lock()
		defer mu.Unlock()
		if len(frame) != 80*2 {
			t.Errorf("chunk of %d samples, want 160", len(frame))
		}
		frames += len(frame) / 2
		calls++
	})
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	due := int(time.Since(start).Seconds() * 8000)
	if frames > due || frames < due-8000/10 { // never ahead of the clock; at most 100 ms behind
		t.Fatalf("%d frames in %v, want about %d", frames, time.Since(start), due)
	}
}

// After a stall longer than maxLag the reader skips ahead instead of bursting.
func TestPaceSkipsAfterStall(t *testing.T) {
	src, _ := NewSynth(SignalNoise, Format{8000, 1})
	var frames int
	stalled := false
	ctx, cancel := context.WithTimeout(context.Background(), 1200*time.Millisecond)
	defer cancel()
	_ = src.Start(ctx, func(frame []float32) {
		frames += len(frame)
		if !stalled {
			stalled = true
			time.Sleep(800 * time.Millisecond)
		}
	})
	if limit := 8000 * 8 / 10; frames >= limit {
		t.Fatalf("%d frames in 1.2 s with a 0.8 s stall: it caught up in a burst", frames)
	}
	if frames < 8000/10 {
		t.Fatalf("only %d frames", frames)
	}
}

func TestFramesIn(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		rate int
		want int64
	}{
		{time.Second, 48000, 48000},
		{10 * time.Millisecond, 44100, 441},
		{1500 * time.Millisecond, 8000, 12000},
		{100 * 24 * time.Hour, 192000, 100 * 24 * 3600 * 192000},
	} {
		if got := framesIn(tc.d, tc.rate); got != tc.want {
			t.Errorf("framesIn(%v, %d) = %d, want %d", tc.d, tc.rate, got, tc.want)
		}
	}
}
