//go:build cgo

package audio

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/gen2brain/malgo"

	"github.com/bailiff/bailiff/drivers"
)

// miniaudio's null backend, which CI uses: one capture device that delivers silence at
// real-time pace.
const nullCapture = "NULL Capture Device"

func TestMalgoNullBackendNumber(t *testing.T) {
	i, err := backendIndex("null")
	if err != nil || i != 14 {
		t.Fatalf("backendIndex(null) = %d, %v; want 14 (ma_backend_null)", i, err)
	}
	if malgo.BackendNull == 14 {
		t.Log("malgo's BackendNull is now ma_backend_null: the comment on backends can go")
	}
}

func TestMalgoContextAndEnumeration(t *testing.T) {
	ctx, err := initContext("null")
	if err != nil {
		t.Fatal(err)
	}
	devs, _, err := captureDevices(ctx, "null")
	freeContext(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(devs) != 1 || devs[0].Name != nullCapture || devs[0].ID == "" {
		t.Fatalf("null backend capture devices %+v", devs)
	}
	// The exported helper does the same.
	got, err := CaptureDevices("null")
	if err != nil || len(got) != 1 || got[0] != devs[0] {
		t.Fatalf("CaptureDevices(null) = %+v, %v", got, err)
	}
	if _, err := CaptureDevices("nosuch"); !errors.Is(err, drivers.ErrBadArgs) {
		t.Fatalf("CaptureDevices(nosuch): %v", err)
	}
}

// The null device captures silence; each format and each way of naming the device opens it.
func TestMalgoCaptureNull(t *testing.T) {
	devs, err := CaptureDevices("null")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		device string
		sf     SampleFormat
		f      Format
	}{
		{"default f32 mono", "", F32, Format{48000, 1}},
		{"by name s16 stereo", nullCapture, S16, Format{48000, 2}},
		{"by id 44.1k", devs[0].ID, F32, Format{44100, 1}},
		{"by part of the name", "null capture", S16, Format{16000, 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src, err := OpenCapture(CaptureOptions{Backend: "null", Device: tc.device, Format: tc.f, SampleFormat: tc.sf})
			if err != nil {
				t.Fatal(err)
			}
			defer src.Close()
			if src.Format() != tc.f {
				t.Fatalf("format %v, want %v", src.Format(), tc.f)
			}
			if d := src.(describer).Describe(); d["device"] != nullCapture {
				t.Fatalf("describe %v", d)
			}
			var mu sync.Mutex
			var samples, nonzero int
			ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
			defer cancel()
			err = src.Start(ctx, func(frame []float32) {
				mu.Lock()
				defer mu.Unlock()
				if len(frame)%tc.f.Channels != 0 {
					t.Errorf("frame of %d samples, %d channels", len(frame), tc.f.Channels)
				}
				samples += len(frame)
				for _, v := range frame {
					if v != 0 {
						nonzero++
					}
				}
			})
			if err != nil {
				t.Fatal(err)
			}
			if err := src.Close(); err != nil {
				t.Fatal(err)
			}
			mu.Lock()
			defer mu.Unlock()
			// 300 ms at tc.f; the null device starts with some delay, allow for it.
			if want := tc.f.SampleRate * tc.f.Channels * 300 / 1000; samples < want/4 || samples > want*2 {
				t.Errorf("%d samples in 300 ms, want about %d", samples, want)
			}
			if nonzero != 0 {
				t.Errorf("%d non-zero samples from the null device", nonzero)
			}
		})
	}
}

func TestMalgoMissingDevice(t *testing.T) {
	_, err := OpenCapture(CaptureOptions{Backend: "null", Device: "USB Podium Mic", Format: Format{48000, 1}})
	if !errors.Is(err, ErrNoDevice) || drivers.Code(err) != "unreachable" {
		t.Fatalf("missing device: %v (code %s)", err, drivers.Code(err))
	}
	t.Log(err)
}

// The driver end to end on the null backend: an Input reading silence, metered at Floor.
func TestMalgoDriverNull(t *testing.T) {
	rec := newRecorder()
	info, _ := drivers.Lookup("audio")
	dev, err := info.New(drivers.Config{ID: "mic-1", Options: map[string]string{"backend": "null", "channels": "2", "meter_rate_ms": "50"}, Notify: rec})
	if err != nil {
		t.Fatal(err)
	}
	defer dev.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	st, err := dev.Poll(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st["status"] != StatusRunning || st["device"] != nullCapture || st["backend"] != "null" || st["channels"] != 2 || st["sample_rate"] != 48000 {
		t.Fatalf("state %v", st)
	}
	m := rec.waitMeters(t, 2, 3*time.Second)
	for _, k := range []string{"1", "1/peak", "2", "2/peak"} {
		if v, ok := m[len(m)-1][k]; !ok || v != Floor {
			t.Fatalf("levels %v: want %s at the floor", m[len(m)-1], k)
		}
	}
	missing, err := info.New(drivers.Config{ID: "mic-2", Options: map[string]string{"backend": "null", "device": "USB Podium Mic"}, Notify: rec})
	if err != nil {
		t.Fatal(err)
	}
	defer missing.Close()
	if _, err := missing.Poll(ctx); !errors.Is(err, drivers.ErrUnreachable) {
		t.Fatalf("poll of a missing device: %v", err)
	}
}
