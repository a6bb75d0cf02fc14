package audio

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bailiff/bailiff/drivers"
)

// DefaultMeterRate is how often an Input measures and publishes its levels unless told
// otherwise (option meter_rate_ms).
const DefaultMeterRate = 200 * time.Millisecond

// minMeterRate is the shortest metering window: a Meter call per 10 ms is already more
// than any panel shows.
const minMeterRate = 10 * time.Millisecond

// Gain limits of SetGain, in dB: a digital trim, not a preamplifier.
const (
	MinGainDB = -60.0
	MaxGainDB = 40.0
)

// Default bounds of the backoff between attempts to reopen a failed source.
const (
	DefaultRetryMin = 500 * time.Millisecond
	DefaultRetryMax = 30 * time.Second
)

// firstWait bounds how long the first Poll waits for the source to deliver its first frame
// or fail, so the first state the agent publishes says which.
const firstWait = 2 * time.Second

// Status values of the "status" state field.
const (
	StatusStarting = "starting" // opening the source, no frame yet
	StatusRunning  = "running"  // frames are coming
	StatusFailed   = "failed"   // the source failed; it is reopened with backoff
	StatusEnded    = "ended"    // a file that does not loop played to its end
)

// Options configures an Input.
type Options struct {
	// MeterRate is the length of the window over which levels are measured, and so how often
	// Notify.Meter gets them; at least 10 ms. Zero means DefaultMeterRate; a negative value
	// turns metering off.
	MeterRate time.Duration
	// Notify gets the levels, a "fault" event when the source fails and the state when it
	// runs again; nil discards them.
	Notify drivers.Notifier
	// Logger gets the source's failures and recoveries; nil discards them.
	Logger *slog.Logger
	// Info are fields added to every state Poll returns ("source", "device", "file", …).
	Info drivers.State
	// RetryMin and RetryMax bound the backoff between attempts to reopen a failed source,
	// which doubles from RetryMin up to RetryMax; zero means DefaultRetryMin, DefaultRetryMax.
	RetryMin, RetryMax time.Duration
}

// Input is one microphone or line input: a Source whose frames get a digital gain, a mute
// and level meters, and go on to the media path through Output. It implements
// drivers.Device, drivers.Muter and drivers.GainSetter; its methods are safe for concurrent use.
//
// The source is opened on the first Poll, SetMute, SetGain or Output().Start, and reopened
// with backoff when it fails, until Close.
type Input struct {
	open   func(ctx context.Context) (Source, error)
	opts   Options
	log    *slog.Logger
	notify drivers.Notifier

	gain   atomic.Uint32 // linear gain, float32 bits
	gainDB atomic.Uint64 // the gain in dB, float64 bits
	muted  atomic.Bool
	taps   atomic.Pointer[[]*tap]

	startOnce sync.Once
	ctx       context.Context
	cancel    context.CancelFunc
	done      chan struct{} // closed when the run loop has returned
	settled   chan struct{} // closed once the first source delivered a frame, failed or ended
	settle    sync.Once

	mu       sync.Mutex
	closed   bool
	status   string
	err      error // why the source failed, while status is failed
	format   Format
	info     map[string]any // from the source (describer)
	levels   map[string]float64
	failures int // consecutive failures
}

var (
	_ drivers.Device     = (*Input)(nil)
	_ drivers.Muter      = (*Input)(nil)
	_ drivers.GainSetter = (*Input)(nil)
)

// tap is one consumer of Output.
type tap struct{ fn func(frame []float32) }

// New returns an Input fed by the sources open makes: it calls open for the first source,
// and again whenever a source fails. New opens nothing.
func New(open func(ctx context.Context) (Source, error), opts Options) *Input {
	switch {
	case opts.MeterRate == 0:
		opts.MeterRate = DefaultMeterRate
	case opts.MeterRate > 0 && opts.MeterRate < minMeterRate:
		opts.MeterRate = minMeterRate
	}
	if opts.RetryMin <= 0 {
		opts.RetryMin = DefaultRetryMin
	}
	if opts.RetryMax <= 0 {
		opts.RetryMax = DefaultRetryMax
	}
	opts.RetryMax = max(opts.RetryMax, opts.RetryMin)
	in := &Input{open: open, opts: opts, log: opts.Logger, notify: opts.Notify, status: StatusStarting,
		done: make(chan struct{}), settled: make(chan struct{})}
	in.log = drivers.Logger(in.log)
	if in.notify == nil {
		in.notify = drivers.Discard
	}
	in.gain.Store(math.Float32bits(1))
	in.ctx, in.cancel = context.WithCancel(context.Background())
	return in
}

// start starts the run loop once, unless the Input is closed.
func (in *Input) start() {
	in.startOnce.Do(func() {
		in.mu.Lock()
		closed := in.closed
		in.mu.Unlock()
		if closed {
			close(in.done)
			return
		}
		go in.run()
	})
}

// run opens the source and runs it, again after each failure, until Close.
func (in *Input) run() {
	defer close(in.done)
	var delay time.Duration
	for {
		began := time.Now()
		err := in.runOnce()
		if in.ctx.Err() != nil {
			return
		}
		if err == nil || errors.Is(err, ErrEnded) {
			in.setEnded()
			return
		}
		err = classify(err)
		if time.Since(began) >= in.opts.RetryMax {
			delay = 0 // it ran a good while: this is a new failure, not the same one again
		}
		delay = min(max(2*delay, in.opts.RetryMin), in.opts.RetryMax)
		in.setFailed(err, delay)
		t := time.NewTimer(delay)
		select {
		case <-in.ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// runOnce opens a source and runs it until it fails or the Input is closed.
func (in *Input) runOnce() error {
	src, err := in.open(in.ctx)
	if err != nil {
		return err
	}
	defer src.Close()
	f := src.Format()
	if err := f.check(); err != nil {
		return fmt.Errorf("audio: source format: %w: %w", err, drivers.ErrDevice)
	}
	var info map[string]any
	if d, ok := src.(describer); ok {
		info = d.Describe()
	}
	in.mu.Lock()
	in.format, in.info = f, info
	in.mu.Unlock()
	return src.Start(in.ctx, in.newProcessor(f).frame)
}

func (in *Input) setRunning() {
	in.mu.Lock()
	recovered := in.status == StatusFailed
	in.status, in.err, in.failures = StatusRunning, nil, 0
	var st drivers.State
	if recovered {
		st = in.stateLocked()
	}
	in.mu.Unlock()
	in.settle.Do(func() { close(in.settled) })
	if recovered {
		in.log.Info("audio source running again")
		in.notify.State(st)
	}
}

func (in *Input) setFailed(err error, retry time.Duration) {
	in.mu.Lock()
	first := in.status != StatusFailed
	in.status, in.err, in.levels = StatusFailed, err, nil
	in.failures++
	n := in.failures
	in.mu.Unlock()
	in.settle.Do(func() { close(in.settled) })
	in.log.Warn("audio source failed", "error", err, "failures", n, "retry_in", retry)
	if first {
		in.notify.Event("fault", map[string]any{"error": err.Error(), "code": drivers.Code(err)})
	}
}

func (in *Input) setEnded() {
	in.mu.Lock()
	in.status, in.err, in.levels = StatusEnded, nil, nil
	in.mu.Unlock()
	in.settle.Do(func() { close(in.settled) })
	in.log.Info("audio source ended")
}

// processor is the path of one source's frames: mute, gain, meter, taps. Its frame method
// runs on the source's goroutine, one call at a time.
type processor struct {
	in      *Input
	meter   *Meter // nil when metering is off
	keys    []string
	started bool
}

func (in *Input) newProcessor(f Format) *processor {
	p := &processor{in: in}
	if in.opts.MeterRate > 0 {
		window := int(framesIn(in.opts.MeterRate, f.SampleRate))
		p.meter = NewMeter(f.Channels, window)
		for c := 1; c <= f.Channels; c++ {
			n := strconv.Itoa(c)
			p.keys = append(p.keys, n, n+"/peak")
		}
	}
	return p
}

// frame processes one frame of the source, in place.
func (p *processor) frame(frame []float32) {
	in := p.in
	if !p.started {
		p.started = true
		in.setRunning()
	}
	switch g := math.Float32frombits(in.gain.Load()); {
	case in.muted.Load():
		clear(frame)
	case g != 1:
		applyGain(frame, g)
	}
	if p.meter != nil {
		p.meter.Add(frame, p.publish)
	}
	if taps := in.taps.Load(); taps != nil {
		for _, t := range *taps {
			t.fn(frame)
		}
	}
}

// publish hands the levels of a window to the notifier and keeps them for Poll.
func (p *processor) publish(rms, peak []float64) {
	levels := make(map[string]float64, len(p.keys))
	for c := range rms {
		levels[p.keys[2*c]] = round2(rms[c])
		levels[p.keys[2*c+1]] = round2(peak[c])
	}
	p.in.mu.Lock()
	p.in.levels = levels
	p.in.mu.Unlock()
	p.in.notify.Meter(levels)
}

// applyGain multiplies frame by g, clipping at full scale as a digital gain stage does.
func applyGain(frame []float32, g float32) {
	for i, v := range frame {
		v *= g
		if v > 1 {
			v = 1
		} else if v < -1 {
			v = -1
		}
		frame[i] = v
	}
}

func round2(v float64) float64 { return math.Round(v*100) / 100 }

// SetMute mutes or unmutes the input. A muted input delivers digital silence: its meters
// read Floor and the media path gets zeros, not a gap, so the stream keeps its timing (Opus
// sends silence in a few bytes). An input has one mute: channel must be "".
func (in *Input) SetMute(ctx context.Context, channel string, on bool) error {
	if channel != "" {
		return fmt.Errorf("audio: mute: channel %q: an input has one mute for all its channels, leave channel empty: %w", channel, drivers.ErrBadArgs)
	}
	if in.isClosed() {
		return errClosed
	}
	in.muted.Store(on)
	in.start()
	return nil
}

// SetGain sets the digital gain, MinGainDB…MaxGainDB, applied before the meters and the
// media path; samples it would take past full scale are clipped. An input has one gain:
// channel must be "".
func (in *Input) SetGain(ctx context.Context, channel string, db float64) error {
	if channel != "" {
		return fmt.Errorf("audio: gain: channel %q: an input has one gain for all its channels, leave channel empty: %w", channel, drivers.ErrBadArgs)
	}
	if math.IsNaN(db) || db < MinGainDB || db > MaxGainDB {
		return fmt.Errorf("audio: gain %v dB: want %v…%v: %w", db, MinGainDB, MaxGainDB, drivers.ErrBadArgs)
	}
	if in.isClosed() {
		return errClosed
	}
	in.setGain(db)
	in.start()
	return nil
}

func (in *Input) setGain(db float64) {
	in.gainDB.Store(math.Float64bits(db))
	in.gain.Store(math.Float32bits(float32(math.Pow(10, db/20))))
}

// Poll returns the input's state: "status" (starting, running, failed, ended), "muted",
// "gain_db", "sample_rate" and "channels" once a source opened, "levels" (the last
// window's, keyed like the meters), the fields of Options.Info and those the source adds.
// While the source is failed it returns the state with the failure, which has
// drivers.ErrUnreachable (a device or file that is not there) or drivers.ErrDevice (one that
// is there but wrong) in the chain. The first Poll opens the source and waits (at most a
// couple of seconds, or until ctx is done) to see it deliver or fail.
func (in *Input) Poll(ctx context.Context) (drivers.State, error) {
	if in.isClosed() {
		return nil, errClosed
	}
	in.start()
	select {
	case <-in.settled:
	default:
		t := time.NewTimer(firstWait)
		select {
		case <-in.settled:
		case <-ctx.Done():
		case <-t.C:
		}
		t.Stop()
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.closed {
		return nil, errClosed
	}
	st := in.stateLocked()
	if in.status == StatusFailed {
		return st, in.err
	}
	return st, nil
}

// stateLocked builds the state; in.mu is held.
func (in *Input) stateLocked() drivers.State {
	st := drivers.State{}
	maps.Copy(st, in.opts.Info)
	maps.Copy(st, in.info)
	st["status"] = in.status
	st["muted"] = in.muted.Load()
	st["gain_db"] = math.Float64frombits(in.gainDB.Load())
	if in.format.SampleRate > 0 {
		st["sample_rate"] = in.format.SampleRate
		st["channels"] = in.format.Channels
	}
	if in.levels != nil {
		st["levels"] = maps.Clone(in.levels)
	}
	return st
}

// Format is the format of the running source's frames; the zero Format before a source opened.
func (in *Input) Format() Format {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.format
}

// Output is the Input's frames after mute and gain, as a Source for the media path: its
// Start delivers every frame the input processes (on the input's goroutine: fn must return
// quickly and must not change frame) until ctx is done or the Input is closed, across
// restarts of the underlying source; its Format is the Input's (check it on each frame
// when the source may be reopened in another format). Any number of outputs may run.
func (in *Input) Output() Source { return output{in} }

type output struct{ in *Input }

func (o output) Format() Format { return o.in.Format() }

func (o output) Close() error { return nil }

func (o output) Start(ctx context.Context, fn func(frame []float32)) error {
	in := o.in
	if in.isClosed() {
		return errClosed
	}
	t := &tap{fn: fn}
	in.editTaps(func(ts []*tap) []*tap { return append(ts, t) })
	defer in.editTaps(func(ts []*tap) []*tap {
		out := make([]*tap, 0, len(ts))
		for _, x := range ts {
			if x != t {
				out = append(out, x)
			}
		}
		return out
	})
	in.start()
	select {
	case <-ctx.Done():
		return nil
	case <-in.ctx.Done():
		return errClosed
	}
}

// editTaps replaces the list of taps by edit's copy of it.
func (in *Input) editTaps(edit func([]*tap) []*tap) {
	in.mu.Lock()
	defer in.mu.Unlock()
	var cur []*tap
	if p := in.taps.Load(); p != nil {
		cur = append(cur, *p...)
	}
	next := edit(cur)
	in.taps.Store(&next)
}

func (in *Input) isClosed() bool {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.closed
}

// Close stops the source and waits for it to be released. Calls after Close fail with
// drivers.ErrUnreachable.
func (in *Input) Close() error {
	in.mu.Lock()
	if in.closed {
		in.mu.Unlock()
		return nil
	}
	in.closed = true
	in.mu.Unlock()
	in.cancel()
	in.start() // a loop that never started is marked done
	<-in.done
	return nil
}
