package audio

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bailiff/bailiff/drivers"
)

// feeder is a Source that hands its frames over when told (feed), then blocks until ctx is
// done; it can be made to fail.
type feeder struct {
	f      Format
	frames chan []float32
	taken  chan struct{} // a frame has been processed
	fail   chan error
	closed atomic.Bool
}

func newFeeder(f Format) *feeder {
	return &feeder{f: f, frames: make(chan []float32), taken: make(chan struct{}), fail: make(chan error, 1)}
}

func (s *feeder) Format() Format { return s.f }
func (s *feeder) Close() error   { s.closed.Store(true); return nil }

func (s *feeder) Start(ctx context.Context, fn func([]float32)) error {
	for {
		select {
		case <-ctx.Done():
			return nil
		case err := <-s.fail:
			return err
		case fr := <-s.frames:
			fn(slices.Clone(fr))
			s.taken <- struct{}{}
		}
	}
}

// feed hands frame to the running source and waits until the Input has processed it.
func (s *feeder) feed(t *testing.T, frame []float32) {
	t.Helper()
	select {
	case s.frames <- frame:
		<-s.taken
	case <-time.After(5 * time.Second):
		t.Fatal("the source is not running")
	}
}

func ctx5(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// newFed returns an Input on a feeder of f, metering windows of 100 ms.
func newFed(t *testing.T, f Format, rec *recorder) (*Input, *feeder) {
	src := newFeeder(f)
	in := New(func(context.Context) (Source, error) { return src, nil },
		Options{MeterRate: 100 * time.Millisecond, Notify: rec, Info: drivers.State{"source": "test"}})
	t.Cleanup(func() { in.Close() })
	return in, src
}

// window feeds 100 ms of a 1 kHz sine of peak amp (full scale 1) and returns the levels.
func window(t *testing.T, in *Input, src *feeder, rec *recorder, amp float64) map[string]float64 {
	t.Helper()
	rec.reset()
	fr := sine(src.f.SampleRate, src.f.Channels, src.f.SampleRate/10, 1000, amp)
	half := len(fr) / 2 / src.f.Channels * src.f.Channels
	src.feed(t, fr[:half])
	src.feed(t, fr[half:])
	m := rec.waitMeters(t, 1, 5*time.Second)
	return m[0]
}

func near(a, b float64) bool { return math.Abs(a-b) < 0.02 }

func TestInputLevelsGainMute(t *testing.T) {
	rec := newRecorder()
	in, src := newFed(t, Format{48000, 2}, rec)
	ctx := ctx5(t)
	go in.Poll(ctx) // opens the source
	minus20 := math.Pow(10, -20.0/20)

	l := window(t, in, src, rec, minus20)
	if len(l) != 4 || !near(l["1"], -23.01) || !near(l["1/peak"], -20) || !near(l["2"], -23.01) || !near(l["2/peak"], -20) {
		t.Fatalf("levels %v", l)
	}
	st, err := in.Poll(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st["status"] != StatusRunning || st["source"] != "test" || st["sample_rate"] != 48000 || st["channels"] != 2 ||
		st["muted"] != false || st["gain_db"] != 0.0 || !near(st["levels"].(map[string]float64)["1"], -23.01) {
		t.Fatalf("state %v", st)
	}

	// Gain is applied before the meters.
	if err := in.SetGain(ctx, "", 6); err != nil {
		t.Fatal(err)
	}
	if l := window(t, in, src, rec, minus20); !near(l["1/peak"], -14) || !near(l["2"], -17.01) {
		t.Fatalf("+6 dB: %v", l)
	}
	if err := in.SetGain(ctx, "", -10); err != nil {
		t.Fatal(err)
	}
	if l := window(t, in, src, rec, minus20); !near(l["1/peak"], -30) || !near(l["1"], -33.01) {
		t.Fatalf("-10 dB: %v", l)
	}
	// Past full scale the gain clips.
	if err := in.SetGain(ctx, "", 40); err != nil {
		t.Fatal(err)
	}
	if l := window(t, in, src, rec, minus20); l["1/peak"] != 0 || l["1"] > 0 || l["1"] < -1 {
		t.Fatalf("+40 dB on −20 dBFS: %v", l)
	}
	if st, _ := in.Poll(ctx); st["gain_db"] != 40.0 {
		t.Fatalf("gain_db %v", st["gain_db"])
	}

	// Muted: silence at the floor, and the state says so.
	if err := in.SetMute(ctx, "", true); err != nil {
		t.Fatal(err)
	}
	if l := window(t, in, src, rec, 1); l["1"] != Floor || l["1/peak"] != Floor || l["2/peak"] != Floor {
		t.Fatalf("muted: %v", l)
	}
	if st, _ := in.Poll(ctx); st["muted"] != true || st["levels"].(map[string]float64)["1"] != Floor {
		t.Fatalf("muted state %v", st)
	}
	if err := in.SetMute(ctx, "", false); err != nil {
		t.Fatal(err)
	}
	if err := in.SetGain(ctx, "", 0); err != nil {
		t.Fatal(err)
	}
	if l := window(t, in, src, rec, 1); !near(l["1"], -3.01) || l["1/peak"] != 0 {
		t.Fatalf("unmuted: %v", l)
	}
}

func TestInputBadArgs(t *testing.T) {
	in, _ := newFed(t, Format{48000, 1}, newRecorder())
	ctx := ctx5(t)
	for _, err := range []error{
		in.SetMute(ctx, "1", true),
		in.SetGain(ctx, "2", 0),
		in.SetGain(ctx, "", 41),
		in.SetGain(ctx, "", -61),
		in.SetGain(ctx, "", math.NaN()),
		in.SetGain(ctx, "", math.Inf(1)),
	} {
		if !errors.Is(err, drivers.ErrBadArgs) || !strings.HasPrefix(err.Error(), "audio: ") {
			t.Errorf("error %v", err)
		}
	}
}

// Muted frames reach the media path as zeros, one for one: muting makes no gap.
func TestOutputMutedIsSilenceNotAGap(t *testing.T) {
	rec := newRecorder()
	in, src := newFed(t, Format{48000, 1}, rec)
	ctx := ctx5(t)
	var mu sync.Mutex
	var got [][]float32
	octx, stop := context.WithCancel(ctx)
	outDone := make(chan error, 1)
	out := in.Output()
	go func() {
		outDone <- out.Start(octx, func(frame []float32) {
			mu.Lock()
			got = append(got, slices.Clone(frame))
			mu.Unlock()
		})
	}()
	// A second consumer gets the same frames.
	var second atomic.Int64
	go out.Start(octx, func(frame []float32) { second.Add(int64(len(frame))) })
	time.Sleep(50 * time.Millisecond) // let both taps register
	src.feed(t, []float32{0.5, -0.5})
	in.SetMute(ctx, "", true)
	src.feed(t, []float32{0.5, -0.5, 0.25})
	in.SetMute(ctx, "", false)
	in.SetGain(ctx, "", -6.0206)
	src.feed(t, []float32{0.5})
	stop()
	if err := <-outDone; err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 3 || !slices.Equal(got[0], []float32{0.5, -0.5}) || !slices.Equal(got[1], []float32{0, 0, 0}) || math.Abs(float64(got[2][0])-0.25) > 1e-4 {
		t.Fatalf("output %v", got)
	}
	if second.Load() != 6 {
		t.Fatalf("second output got %d samples", second.Load())
	}
	if out.Format() != (Format{48000, 1}) || out.Close() != nil {
		t.Fatal("output format or close")
	}
	// Once the consumer stopped, frames no longer reach it.
	src.feed(t, []float32{1})
	if len(got) != 3 {
		t.Fatal("a stopped output still gets frames")
	}
}

// The meter rate: one Meter call per window of the set length, at real-time pace.
func TestMeterRate(t *testing.T) {
	for _, rate := range []time.Duration{50 * time.Millisecond, DefaultMeterRate} {
		rec := newRecorder()
		src, err := NewSynth(SignalTone, Format{8000, 1}) // 8 kHz: light enough for a loaded -race run
		if err != nil {
			t.Fatal(err)
		}
		opts := Options{Notify: rec}
		if rate != DefaultMeterRate {
			opts.MeterRate = rate
		}
		in := New(func(context.Context) (Source, error) { return src, nil }, opts)
		start := time.Now()
		if _, err := in.Poll(ctx5(t)); err != nil {
			t.Fatal(err)
		}
		m := rec.waitMeters(t, int(time.Second/rate), 5*time.Second)
		elapsed := time.Since(start)
		in.Close()
		rec.mu.Lock()
		at := slices.Clone(rec.at)
		rec.mu.Unlock()
		// n windows take n·rate of audio: the last came after about that long.
		n := len(at)
		if want := time.Duration(n) * rate; elapsed < want-rate || elapsed > want+time.Second {
			t.Errorf("rate %v: %d meters in %v", rate, n, elapsed)
		}
		if mean := at[n-1].Sub(at[0]) / time.Duration(n-1); mean < rate*8/10 || mean > rate*15/10 {
			t.Errorf("rate %v: meters every %v on average", rate, mean)
		}
		for _, l := range m {
			if len(l) != 2 || !near(l["1"], -23.01) || !near(l["1/peak"], -20) {
				t.Fatalf("rate %v: levels %v", rate, l)
			}
		}
	}
}

func TestMeteringOff(t *testing.T) {
	rec := newRecorder()
	src := newFeeder(Format{8000, 1})
	in := New(func(context.Context) (Source, error) { return src, nil }, Options{MeterRate: -1, Notify: rec})
	defer in.Close()
	go in.Poll(ctx5(t))
	for range 20 {
		src.feed(t, make([]float32, 800))
	}
	st, err := in.Poll(ctx5(t))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := st["levels"]; ok || len(rec.meters) != 0 {
		t.Fatalf("metering off: state %v, %d meters", st, len(rec.meters))
	}
}

// A source that fails is reopened with a growing backoff; Poll says unreachable meanwhile;
// one fault event, and the state once it runs again.
func TestInputRestartsWithBackoff(t *testing.T) {
	rec := newRecorder()
	var mu sync.Mutex
	var attempts []time.Time
	src := newFeeder(Format{8000, 1})
	open := func(context.Context) (Source, error) {
		mu.Lock()
		defer mu.Unlock()
		attempts = append(attempts, time.Now())
		if len(attempts) <= 3 {
			return nil, errors.New("audio: capture: the card is gone") // no kind: counts as unreachable
		}
		return src, nil
	}
	in := New(open, Options{Notify: rec, RetryMin: 40 * time.Millisecond, RetryMax: time.Second})
	defer in.Close()
	ctx := ctx5(t)
	st, err := in.Poll(ctx)
	if !errors.Is(err, drivers.ErrUnreachable) || st["status"] != StatusFailed || !strings.Contains(err.Error(), "the card is gone") {
		t.Fatalf("first poll: %v, %v", st, err)
	}
	src.feed(t, make([]float32, 80)) // blocks until the fourth attempt runs the source
	rec.waitFor(t, "the state after recovery", 5*time.Second, func() bool { return len(rec.states) > 0 })
	st, err = in.Poll(ctx)
	if err != nil || st["status"] != StatusRunning {
		t.Fatalf("after recovery: %v, %v", st, err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(attempts) != 4 {
		t.Fatalf("%d attempts", len(attempts))
	}
	d1, d2, d3 := attempts[1].Sub(attempts[0]), attempts[2].Sub(attempts[1]), attempts[3].Sub(attempts[2])
	if d1 < 40*time.Millisecond || d2 < 80*time.Millisecond || d3 < 160*time.Millisecond {
		t.Fatalf("backoff %v, %v, %v: want at least 40ms, 80ms, 160ms", d1, d2, d3)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if !slices.Equal(rec.events, []string{"fault"}) || rec.states[0]["status"] != StatusRunning {
		t.Fatalf("events %v, states %v", rec.events, rec.states)
	}
}

// A running source that fails is reopened too; its last levels go with it.
func TestInputSourceFailsWhileRunning(t *testing.T) {
	rec := newRecorder()
	in, src := newFed(t, Format{8000, 1}, rec)
	in.opts.RetryMin = 10 * time.Millisecond
	ctx := ctx5(t)
	go in.Poll(ctx)
	window(t, in, src, rec, 0.5)
	src.fail <- fmt.Errorf("audio: wav: garbled: %w", ErrBadWAV)
	rec.waitFor(t, "the fault", 5*time.Second, func() bool { return len(rec.events) > 0 })
	st, err := in.Poll(ctx)
	if err != nil && drivers.Code(err) != "device_error" {
		t.Fatalf("poll after a bad file: %v", err)
	}
	if err != nil {
		if _, ok := st["levels"]; ok || st["status"] != StatusFailed {
			t.Fatalf("failed state %v", st)
		}
	}
	if !src.closed.Load() {
		t.Fatal("the failed source was not closed")
	}
	window(t, in, src, rec, 0.5) // reopened (the feeder again)
}

func TestInputEnded(t *testing.T) {
	src := newFeeder(Format{8000, 1})
	in := New(func(context.Context) (Source, error) { return src, nil }, Options{})
	defer in.Close()
	go func() { src.fail <- fmt.Errorf("x: %w", ErrEnded) }()
	st, err := in.Poll(ctx5(t))
	if err != nil || st["status"] != StatusEnded {
		t.Fatalf("ended: %v, %v", st, err)
	}
}

func TestInputBadFormat(t *testing.T) {
	src := newFeeder(Format{4000, 1})
	in := New(func(context.Context) (Source, error) { return src, nil }, Options{RetryMin: time.Hour})
	defer in.Close()
	if _, err := in.Poll(ctx5(t)); !errors.Is(err, drivers.ErrDevice) || !strings.Contains(err.Error(), "sample rate 4000") {
		t.Fatalf("bad format: %v", err)
	}
}

// The first Poll waits for the first frame, not longer than its context.
func TestPollWaitsForFirstFrame(t *testing.T) {
	in, src := newFed(t, Format{8000, 1}, newRecorder())
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	st, err := in.Poll(ctx)
	if err != nil || st["status"] != StatusStarting {
		t.Fatalf("no frame yet: %v, %v", st, err)
	}
	done := make(chan drivers.State)
	go func() { st, _ := in.Poll(ctx5(t)); done <- st }()
	src.feed(t, make([]float32, 80))
	if st := <-done; st["status"] != StatusRunning {
		t.Fatalf("after the first frame: %v", st)
	}
}

func TestInputClose(t *testing.T) {
	// Closed before it started: nothing opens, everything fails.
	opened := false
	in := New(func(context.Context) (Source, error) { opened = true; return nil, errors.New("no") }, Options{})
	if err := in.Close(); err != nil {
		t.Fatal(err)
	}
	ctx := ctx5(t)
	if _, err := in.Poll(ctx); !errors.Is(err, drivers.ErrUnreachable) {
		t.Fatalf("poll after close: %v", err)
	}
	if in.SetMute(ctx, "", true) == nil || in.SetGain(ctx, "", 1) == nil || in.Output().Start(ctx, func([]float32) {}) == nil {
		t.Fatal("actions after close")
	}
	if opened || in.Close() != nil {
		t.Fatal("opened, or second close failed")
	}

	// Closed while running: the source is closed, a running output returns.
	in2, src := newFed(t, Format{8000, 1}, newRecorder())
	outErr := make(chan error)
	go func() { outErr <- in2.Output().Start(ctx, func([]float32) {}) }()
	src.feed(t, make([]float32, 80))
	in2.Close()
	if err := <-outErr; !errors.Is(err, drivers.ErrUnreachable) {
		t.Fatalf("output after close: %v", err)
	}
	if !src.closed.Load() {
		t.Fatal("source not closed")
	}
}

func TestProcessorWindow(t *testing.T) {
	in := New(nil, Options{})
	if p := in.newProcessor(Format{48000, 2}); p.meter.window != 9600 || !slices.Equal(p.keys, []string{"1", "1/peak", "2", "2/peak"}) {
		t.Fatalf("window %d keys %v", p.meter.window, p.keys)
	}
	in = New(nil, Options{MeterRate: time.Nanosecond})
	if p := in.newProcessor(Format{48000, 1}); p.meter.window != 480 {
		t.Fatalf("1 ns window: %d frames, want 10 ms", p.meter.window)
	}
	in = New(nil, Options{MeterRate: -1})
	if p := in.newProcessor(Format{48000, 2}); p.meter != nil {
		t.Fatal("metering off has a meter")
	}
}
