package shure_test

import (
	"context"
	"errors"
	"net"
	"reflect"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bailiff/bailiff/drivers"
	"github.com/bailiff/bailiff/drivers/internal/drivertest"
	"github.com/bailiff/bailiff/drivers/shure"
	"github.com/bailiff/bailiff/drivers/shure/shuresim"
)

// recorder is a Notifier that keeps what it gets, with the time of each meter.
type recorder struct {
	mu       sync.Mutex
	meters   []map[string]float64
	meterAt  []time.Time
	states   []drivers.State
	stateCnt atomic.Int64
}

func (r *recorder) Event(string, map[string]any) {}
func (r *recorder) Meter(l map[string]float64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.meters = append(r.meters, l)
	r.meterAt = append(r.meterAt, time.Now())
}
func (r *recorder) State(s drivers.State) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.states = append(r.states, s)
	r.stateCnt.Add(1)
}

func (r *recorder) meterCount() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.meters)
}

func (r *recorder) lastState() drivers.State {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.states) == 0 {
		return nil
	}
	return r.states[len(r.states)-1]
}

// rig starts a simulator on loopback and a Device for it.
func rig(t testing.TB, cfg shuresim.Config, opts shure.Options) (*shuresim.Sim, *shure.Device) {
	t.Helper()
	sim := shuresim.New(cfg)
	addr, err := sim.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if opts.MinBackoff == 0 {
		opts.MinBackoff = 10 * time.Millisecond
	}
	d := shure.New(shure.DialTCP(addr), opts)
	t.Cleanup(func() {
		d.Close()
		sim.Close()
	})
	return sim, d
}

func ctxFor(t testing.TB, d time.Duration) context.Context { return drivertest.Ctx(t, d) }

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	drivertest.WantCode(t, err, code, "shure: ")
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	drivertest.Eventually(t, 3*time.Second, what, cond)
}

func channels(kv ...any) map[string]map[string]any {
	out := map[string]map[string]any{}
	for i := 0; i+2 < len(kv); i += 3 {
		out[kv[i].(string)] = map[string]any{"mute": kv[i+1], "gain_db": kv[i+2]}
	}
	return out
}

func TestRegistered(t *testing.T) {
	info, ok := drivers.Lookup("shure")
	if !ok {
		t.Fatal("shure is not registered")
	}
	if info.DefaultPort != 2202 || !reflect.DeepEqual(info.Options, []string{"model", "channels", "meter_rate_ms"}) || info.Description == "" {
		t.Fatalf("registration %+v", info)
	}
	// The factory must not touch the network: an address nobody answers makes a device at once.
	t0 := time.Now()
	d, err := info.New(drivers.Config{ID: "mic", Address: "192.0.2.1", Options: map[string]string{"model": "mxa920"}, Notify: drivers.Discard})
	if err != nil {
		t.Fatal(err)
	}
	if time.Since(t0) > 100*time.Millisecond {
		t.Fatalf("factory took %v", time.Since(t0))
	}
	if got, want := drivers.Actions(d), []string{"gain", "mute", "preset", "refresh"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("actions %v, want %v", got, want)
	}
	d.Close()
	for _, cfg := range []drivers.Config{
		{ID: "mic", Address: "10.0.0.1", Options: map[string]string{"password": "x"}},
		{ID: "mic", Address: "10.0.0.1", Options: map[string]string{"meter_rate_ms": "10"}},
		{ID: "mic", Address: "serial:/dev/ttyUSB0"},
		{ID: "mic", Address: "udp://10.0.0.1"},
		{ID: "mic"},
	} {
		if _, err := info.New(cfg); drivers.Code(err) != "bad_args" || !strings.HasPrefix(err.Error(), "shure: ") {
			t.Errorf("factory(%+v): %v, want a bad_args error", cfg, err)
		}
	}
}

func TestFactoryTalksToSim(t *testing.T) {
	sim := shuresim.New(shuresim.Config{Model: "P300", Channels: 4})
	addr, err := sim.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	info, _ := drivers.Lookup("shure")
	rec := &recorder{}
	d, err := info.New(drivers.Config{ID: "dsp", Address: addr, Options: map[string]string{"model": "p300", "channels": "4"}, Notify: rec})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	st, err := d.Poll(ctxFor(t, 2*time.Second))
	if err != nil || st["model"] != "P300" || len(st["channels"].(map[string]map[string]any)) != 4 {
		t.Fatalf("Poll = %v, %v", st, err)
	}
	// Metering is on at the default 200 ms.
	eventually(t, "a meter", func() bool { return rec.meterCount() > 0 })
	if rates := sim.MeterRates(); !reflect.DeepEqual(rates, []int{200}) {
		t.Fatalf("meter rates %v", rates)
	}
}

func TestActions(t *testing.T) {
	sim, d := rig(t, shuresim.Config{Channels: 4, Preset: 2}, shure.Options{Channels: 4})
	ctx := ctxFor(t, 5*time.Second)

	if err := d.SetMute(ctx, "", true); err != nil || !sim.State().DeviceMute {
		t.Fatalf("device mute: %v, %+v", err, sim.State())
	}
	if err := d.SetMute(ctx, "3", true); err != nil || !sim.State().Mute[2] {
		t.Fatalf("mute 3: %v, %+v", err, sim.State())
	}
	if err := d.SetGain(ctx, "2", -3.5); err != nil || sim.State().Gain[1] != 1065 {
		t.Fatalf("gain 2: %v, %+v", err, sim.State())
	}
	if err := d.SetGain(ctx, "4", 30); err != nil || sim.State().Gain[3] != 1400 {
		t.Fatalf("gain 4: %v, %+v", err, sim.State())
	}
	if err := d.RecallPreset(ctx, 7); err != nil || sim.State().Preset != 7 {
		t.Fatalf("preset: %v, %+v", err, sim.State())
	}
	n := sim.Commands()
	wantCode(t, d.StorePreset(ctx, 3), "unsupported")
	for _, err := range []error{
		d.SetMute(ctx, "0", true), d.SetMute(ctx, "10", true), d.SetMute(ctx, "left", true),
		d.SetGain(ctx, "", 0), d.SetGain(ctx, "1", 30.1), d.SetGain(ctx, "1", -111),
		d.RecallPreset(ctx, 0), d.RecallPreset(ctx, 11),
	} {
		wantCode(t, err, "bad_args")
	}
	if sim.Commands() != n {
		t.Fatal("bad arguments reached the wire")
	}
	// Channel 5 passes the driver's check (an MXA has up to 9) but this one has 4: REP ERR.
	err := d.SetMute(ctx, "5", true)
	wantCode(t, err, "device_error")
	var re *shure.ReplyError
	if !errors.As(err, &re) || re.Command != "< SET 5 AUDIO_MUTE ON >" {
		t.Fatalf("error %v: want a *ReplyError", err)
	}

	st, err := d.Poll(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := drivers.State{
		"mute": true, "preset": 7, "model": "MXA910",
		"channels": channels("1", false, 0.0, "2", false, -3.5, "3", true, 0.0, "4", false, 30.0),
	}
	if !reflect.DeepEqual(st, want) {
		t.Fatalf("Poll =\n%#v\nwant\n%#v", st, want)
	}
	if err := d.SetMute(ctx, "", false); err != nil || sim.State().DeviceMute {
		t.Fatalf("device unmute: %v", err)
	}
	if n := sim.Connections(); n != 1 {
		t.Fatalf("%d connections, want 1 kept open", n)
	}
}

func TestP300(t *testing.T) {
	sim, d := rig(t, shuresim.Config{Model: "P300", Channels: 12}, shure.Options{Model: shure.ModelP300, Channels: 2})
	ctx := ctxFor(t, 5*time.Second)
	if err := d.SetMute(ctx, "12", true); err != nil || !sim.State().Mute[11] {
		t.Fatalf("mute 12: %v", err)
	}
	if err := d.SetGain(ctx, "11", 10); err != nil || sim.State().Gain[10] != 1200 {
		t.Fatalf("gain 11: %v", err)
	}
	st, err := d.Poll(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// Channels 1 and 2 were asked for; 11 and 12 reported their changes.
	want := channels("1", false, 0.0, "2", false, 0.0)
	want["11"] = map[string]any{"gain_db": 10.0}
	want["12"] = map[string]any{"mute": true}
	if !reflect.DeepEqual(st["channels"], want) || st["model"] != "P300" {
		t.Fatalf("Poll = %#v", st)
	}
}

// TestMetering checks that levels arrive at the Notifier at about the set rate, in dBFS,
// by channel.
func TestMetering(t *testing.T) {
	rec := &recorder{}
	sim, d := rig(t, shuresim.Config{Channels: 3, Levels: []int{60, 45, 0}},
		shure.Options{MeterRate: 100 * time.Millisecond, Notify: rec, Channels: 3})
	if _, err := d.Poll(ctxFor(t, 2*time.Second)); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1050 * time.Millisecond)
	rec.mu.Lock()
	n := len(rec.meters)
	at := append([]time.Time(nil), rec.meterAt...)
	first := rec.meters[0]
	rec.mu.Unlock()
	if n < 7 || n > 13 {
		t.Fatalf("%d samples in 1.05 s at 100 ms", n)
	}
	if gap := at[len(at)-1].Sub(at[0]) / time.Duration(len(at)-1); gap < 80*time.Millisecond || gap > 130*time.Millisecond {
		t.Fatalf("samples every %v, want about 100 ms", gap)
	}
	if want := map[string]float64{"1": 0, "2": -15, "3": -60}; !reflect.DeepEqual(first, want) {
		t.Fatalf("levels %v, want %v", first, want)
	}
	if rates := sim.MeterRates(); !reflect.DeepEqual(rates, []int{100}) {
		t.Fatalf("meter rates %v", rates)
	}
}

func TestMeteringOff(t *testing.T) {
	rec := &recorder{}
	sim, d := rig(t, shuresim.Config{}, shure.Options{Notify: rec})
	if _, err := d.Poll(ctxFor(t, 2*time.Second)); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	if rec.meterCount() != 0 || sim.Samples() != 0 {
		t.Fatalf("meters with metering off: %d", rec.meterCount())
	}
}

// TestReportsFromTheDevice checks that changes made at the device (the mute button,
// Designer) reach Notify.State with the whole state, and that the answers to this driver's
// own commands do not.
func TestReportsFromTheDevice(t *testing.T) {
	rec := &recorder{}
	sim, d := rig(t, shuresim.Config{Channels: 2}, shure.Options{Channels: 2, Notify: rec})
	ctx := ctxFor(t, 5*time.Second)
	if _, err := d.Poll(ctx); err != nil {
		t.Fatal(err)
	}
	sim.SetDeviceMute(true) // someone presses the mute button
	eventually(t, "the device mute", func() bool { st := rec.lastState(); return st != nil && st["mute"] == true })
	want := drivers.State{"mute": true, "preset": 1, "model": "MXA910", "channels": channels("1", false, 0.0, "2", false, 0.0)}
	if st := rec.lastState(); !reflect.DeepEqual(st, want) {
		t.Fatalf("state %#v, want %#v", st, want)
	}
	if err := sim.SetGain(2, 1050); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the gain", func() bool {
		st := rec.lastState()
		return st["channels"].(map[string]map[string]any)["2"]["gain_db"] == -5.0
	})
	if err := sim.SetPreset(4); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the preset", func() bool { return rec.lastState()["preset"] == 4 })
	n := rec.stateCnt.Load()
	if err := d.SetMute(ctx, "1", true); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Poll(ctx); err != nil {
		t.Fatal(err)
	}
	if rec.stateCnt.Load() != n {
		t.Fatalf("the answer to our own command went to Notify.State")
	}
	// A second controller changes something: that is news.
	other := shure.New(shure.DialTCP(sim.Addr()), shure.Options{})
	defer other.Close()
	if err := other.SetMute(ctx, "2", true); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the other controller's mute", func() bool {
		return rec.lastState()["channels"].(map[string]map[string]any)["2"]["mute"] == true
	})
}

func TestReconnectAfterDrop(t *testing.T) {
	rec := &recorder{}
	sim, d := rig(t, shuresim.Config{}, shure.Options{MeterRate: 100 * time.Millisecond, Notify: rec})
	ctx := ctxFor(t, 5*time.Second)
	if _, err := d.Poll(ctx); err != nil {
		t.Fatal(err)
	}
	eventually(t, "meters", func() bool { return rec.meterCount() > 0 })
	sim.DropConnections()
	// The driver dials again by itself and turns metering back on.
	eventually(t, "a new connection", func() bool { return sim.Connections() == 2 && sim.OpenConnections() == 1 })
	eventually(t, "metering on the new connection", func() bool { return reflect.DeepEqual(sim.MeterRates(), []int{100}) })
	n := rec.meterCount()
	eventually(t, "meters after the drop", func() bool { return rec.meterCount() > n+2 })
	if _, err := d.Poll(ctx); err != nil {
		t.Fatalf("Poll after the drop: %v", err)
	}
	if d.Connections() != 2 {
		t.Fatalf("%d connections", d.Connections())
	}
}

func TestMisbehaviour(t *testing.T) {
	t.Run("slow within the deadline", func(t *testing.T) {
		sim, d := rig(t, shuresim.Config{}, shure.Options{})
		sim.SetMode(shuresim.Slow)
		sim.SetDelay(20 * time.Millisecond)
		if err := d.SetMute(ctxFor(t, 2*time.Second), "1", true); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("slow beyond the deadline", func(t *testing.T) {
		sim, d := rig(t, shuresim.Config{}, shure.Options{})
		if _, err := d.Poll(ctxFor(t, 2*time.Second)); err != nil {
			t.Fatal(err)
		}
		sim.SetMode(shuresim.Slow)
		sim.SetDelay(time.Second)
		t0 := time.Now()
		err := d.SetMute(ctxFor(t, 100*time.Millisecond), "", true)
		wantCode(t, err, "timeout")
		if !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, drivers.ErrUnreachable) {
			t.Fatalf("error %v: want context.DeadlineExceeded and ErrUnreachable", err)
		}
		if d := time.Since(t0); d > 700*time.Millisecond {
			t.Fatalf("returned after %v, deadline was 100ms", d)
		}
		// The late answer is not taken for the next command's: the connection starts afresh.
		sim.SetMode(shuresim.Normal)
		if _, err := d.Poll(ctxFor(t, 3*time.Second)); err != nil {
			t.Fatalf("after the timeout: %v", err)
		}
		if sim.Connections() != 2 {
			t.Fatalf("%d connections, want a new one after the timeout", sim.Connections())
		}
	})
	t.Run("silent with the default timeout", func(t *testing.T) {
		sim, d := rig(t, shuresim.Config{}, shure.Options{Timeout: 80 * time.Millisecond})
		sim.SetMode(shuresim.Silent)
		t0 := time.Now()
		_, err := d.Poll(context.Background())
		wantCode(t, err, "timeout")
		if !strings.Contains(err.Error(), "no answer within 80ms") {
			t.Fatalf("error %q", err)
		}
		if d := time.Since(t0); d > time.Second {
			t.Fatalf("returned after %v", d)
		}
	})
	t.Run("cancelled", func(t *testing.T) {
		sim, d := rig(t, shuresim.Config{}, shure.Options{})
		sim.SetMode(shuresim.Silent)
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(50*time.Millisecond, cancel)
		if _, err := d.Poll(ctx); !errors.Is(err, context.Canceled) {
			t.Fatalf("error %v, want context.Canceled", err)
		}
	})
	t.Run("garbage", func(t *testing.T) {
		sim, d := rig(t, shuresim.Config{}, shure.Options{})
		sim.SetMode(shuresim.Garbage)
		err := d.SetMute(ctxFor(t, 2*time.Second), "", true)
		wantCode(t, err, "device_error")
		if !strings.Contains(err.Error(), "garbled reply") {
			t.Fatalf("error %q does not say garbled reply", err)
		}
		sim.SetMode(shuresim.Normal)
		if _, err := d.Poll(ctxFor(t, 2*time.Second)); err != nil {
			t.Fatalf("after garbage: %v", err)
		}
		if n := sim.Connections(); n != 2 {
			t.Fatalf("%d connections: want a new one after the garbled reply", n)
		}
	})
	t.Run("refuse", func(t *testing.T) {
		sim, d := rig(t, shuresim.Config{}, shure.Options{})
		sim.SetMode(shuresim.Refuse)
		err := d.RecallPreset(ctxFor(t, 2*time.Second), 2)
		wantCode(t, err, "device_error")
		if got, want := err.Error(), "shure: preset recall 2: device refused < SET PRESET 02 > (REP ERR): device error"; got != want {
			t.Fatalf("error %q, want %q", got, want)
		}
		_, err = d.Poll(ctxFor(t, 2*time.Second))
		wantCode(t, err, "device_error")
		if errors.Is(err, drivers.ErrUnreachable) {
			t.Fatal("REP ERR counted as unreachable")
		}
	})
	t.Run("drop every command", func(t *testing.T) {
		sim, d := rig(t, shuresim.Config{}, shure.Options{})
		sim.SetMode(shuresim.Drop)
		err := d.SetMute(ctxFor(t, 2*time.Second), "", true)
		wantCode(t, err, "unreachable")
		if n := sim.Commands(); n != 2 {
			t.Fatalf("%d commands, want 2 (one retry on a new connection)", n)
		}
	})
	t.Run("drop once", func(t *testing.T) {
		sim, d := rig(t, shuresim.Config{}, shure.Options{})
		ctx := ctxFor(t, 2*time.Second)
		if _, err := d.Poll(ctx); err != nil {
			t.Fatal(err)
		}
		sim.SetMode(shuresim.DropOnce)
		if err := d.SetMute(ctx, "", true); err != nil {
			t.Fatalf("after a dropped connection: %v", err)
		}
		if n := sim.Connections(); n != 2 || !sim.State().DeviceMute {
			t.Fatalf("%d connections, state %+v", n, sim.State())
		}
	})
}

func TestSimulatorGone(t *testing.T) {
	sim, d := rig(t, shuresim.Config{}, shure.Options{})
	ctx := ctxFor(t, 2*time.Second)
	if _, err := d.Poll(ctx); err != nil {
		t.Fatal(err)
	}
	sim.Close()
	_, err := d.Poll(ctx)
	wantCode(t, err, "unreachable")
	wantCode(t, d.SetMute(ctx, "", true), "unreachable")
}

// TestBackoff checks that a device nobody answers fails fast and is dialled no faster than
// the backoff.
func TestBackoff(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	var dials atomic.Int64
	dial := shure.DialTCP(addr)
	d := shure.New(func(ctx context.Context) (net.Conn, error) {
		dials.Add(1)
		return dial(ctx)
	}, shure.Options{MinBackoff: 40 * time.Millisecond, MaxBackoff: 160 * time.Millisecond})
	defer d.Close()
	t0 := time.Now()
	_, err = d.Poll(ctxFor(t, 2*time.Second))
	wantCode(t, err, "unreachable")
	if time.Since(t0) > 500*time.Millisecond {
		t.Fatalf("Poll of a device nobody answers took %v", time.Since(t0))
	}
	time.Sleep(600 * time.Millisecond)
	// 40+80+160+160 ms: about 5 attempts in 600 ms; without backoff there would be thousands.
	if n := dials.Load(); n < 3 || n > 8 {
		t.Fatalf("%d dials in 600 ms", n)
	}
}

func TestClose(t *testing.T) {
	before := runtime.NumGoroutine()
	sim, d := rig(t, shuresim.Config{}, shure.Options{MeterRate: 100 * time.Millisecond})
	ctx := ctxFor(t, 2*time.Second)
	if _, err := d.Poll(ctx); err != nil {
		t.Fatal(err)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the connection to close", func() bool { return sim.OpenConnections() == 0 })
	_, err := d.Poll(ctx)
	wantCode(t, err, "unreachable")
	if n := sim.Connections(); n != 1 {
		t.Fatal("dialled after Close")
	}
	if err := d.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	sim.Close()
	eventually(t, "goroutines to end", func() bool { return runtime.NumGoroutine() <= before+1 })
}

func TestConcurrentUse(t *testing.T) {
	_, d := rig(t, shuresim.Config{}, shure.Options{MeterRate: 100 * time.Millisecond})
	ctx := ctxFor(t, 10*time.Second)
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range 5 {
				if _, err := d.Poll(ctx); err != nil {
					t.Error(err)
					return
				}
				if err := d.SetMute(ctx, "1", (i+j)%2 == 0); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
}

// BenchmarkCommand measures one command round trip over loopback TCP: "< SET 1 AUDIO_MUTE
// ON|OFF >" answered by its REP, with metering off.
func BenchmarkCommand(b *testing.B) {
	_, d := rig(b, shuresim.Config{}, shure.Options{})
	ctx := context.Background()
	if err := d.SetMute(ctx, "1", true); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	on := false
	for b.Loop() {
		if err := d.SetMute(ctx, "1", on); err != nil {
			b.Fatal(err)
		}
		on = !on
	}
}

// BenchmarkPoll measures a poll of 8 channels: 19 GETs in one write, 19 REPs back.
func BenchmarkPoll(b *testing.B) {
	_, d := rig(b, shuresim.Config{}, shure.Options{})
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := d.Poll(ctx); err != nil {
			b.Fatal(err)
		}
	}
}
