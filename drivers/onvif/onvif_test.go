package onvif_test

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bailiff/bailiff/drivers"
	"github.com/bailiff/bailiff/drivers/internal/drivertest"
	"github.com/bailiff/bailiff/drivers/onvif"
	"github.com/bailiff/bailiff/drivers/onvif/onvifsim"
	"github.com/bailiff/bailiff/internal/wire"
)

const (
	user     = "operator"
	password = "c0urt-r00m!"
)

// rig starts a simulator on loopback and a Camera for it.
func rig(t testing.TB, cfg onvifsim.Config, opts onvif.Options) (*onvifsim.Sim, *onvif.Camera) {
	t.Helper()
	sim := onvifsim.New(cfg)
	addr, err := sim.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c, err := onvif.New(addr, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c.Close()
		sim.Close()
	})
	return sim, c
}

// authed is a simulator config and driver options with the same credentials.
func authed() (onvifsim.Config, onvif.Options) {
	return onvifsim.Config{Username: user, Password: password}, onvif.Options{Username: user, Password: password}
}

func ctxFor(t testing.TB, d time.Duration) context.Context { return drivertest.Ctx(t, d) }

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	drivertest.WantCode(t, err, code, "onvif: ")
}

func TestRegistered(t *testing.T) {
	info, ok := drivers.Lookup("onvif")
	if !ok {
		t.Fatal("onvif is not registered")
	}
	if info.DefaultPort != 80 || !reflect.DeepEqual(info.Options, []string{"username", "password", "profile"}) || info.Description == "" {
		t.Fatalf("registration %+v", info)
	}
	// The factory must not touch the network: an address nobody answers makes a device at once.
	t0 := time.Now()
	d, err := info.New(drivers.Config{ID: "cam", Address: "192.0.2.1", Options: map[string]string{"username": "u", "password": "p", "profile": "x"}})
	if err != nil {
		t.Fatal(err)
	}
	if time.Since(t0) > 100*time.Millisecond {
		t.Fatalf("factory took %v", time.Since(t0))
	}
	d.Close()
	if got, want := drivers.Actions(d), []string{"preset", "ptz", "refresh"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("actions %v, want %v", got, want)
	}
	for name, cfg := range map[string]drivers.Config{
		"unknown option":    {ID: "cam", Address: "10.0.0.1", Options: map[string]string{"user": "x"}},
		"password only":     {ID: "cam", Address: "10.0.0.1", Options: map[string]string{"password": "x"}},
		"no address":        {ID: "cam"},
		"udp address":       {ID: "cam", Address: "udp://10.0.0.1:80"},
		"serial address":    {ID: "cam", Address: "serial:/dev/ttyUSB0"},
		"address with junk": {ID: "cam", Address: "http://10.0.0.1/onvif"},
	} {
		_, err := info.New(cfg)
		if err == nil {
			t.Errorf("%s: accepted", name)
			continue
		}
		if drivers.Code(err) != "bad_args" || !strings.HasPrefix(err.Error(), "onvif: device \"cam\": ") {
			t.Errorf("%s: error %q", name, err)
		}
	}
}

func TestFactoryTalksToSim(t *testing.T) {
	cfg, _ := authed()
	sim := onvifsim.New(cfg)
	addr, err := sim.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	info, _ := drivers.Lookup("onvif")
	d, err := info.New(drivers.Config{ID: "cam", Address: "tcp://" + addr, Options: map[string]string{"username": user, "password": password}})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	ctx := ctxFor(t, 5*time.Second)
	for _, c := range [][2]string{{"preset", `{"recall":3}`}, {"ptz", `{"pan":0,"tilt":0.5,"zoom":0}`}} {
		action, raw := c[0], c[1]
		args, err := wire.ParseArgs(action, json.RawMessage(raw))
		if err != nil {
			t.Fatal(err)
		}
		if err := drivers.Do(ctx, d, action, args); err != nil {
			t.Fatalf("%s %s: %v", action, raw, err)
		}
	}
	st, err := d.Poll(ctx)
	if err != nil || st["profile"] != "main" || st["moving"] != true || st["pan"] != 0.0 {
		t.Fatalf("Poll = %v, %v", st, err)
	}
}

func TestDriveAndStop(t *testing.T) {
	cfg, opts := authed()
	sim, c := rig(t, cfg, opts)
	ctx := ctxFor(t, 5*time.Second)

	if err := c.Drive(ctx, 0.5, -0.25, 1); err != nil {
		t.Fatal(err)
	}
	st := sim.State()
	if st.PanVel != 0.5 || st.TiltVel != -0.25 || st.ZoomVel != 1 || !st.PanTiltMoving || st.LastProfile != "main" {
		t.Fatalf("sim after Drive: %+v", st)
	}
	time.Sleep(20 * time.Millisecond)
	p, err := c.Poll(ctx)
	if err != nil || p["moving"] != true || p["pan"].(float64) <= 0 || p["profile"] != "main" {
		t.Fatalf("Poll while moving = %v, %v", p, err)
	}
	if err := c.Drive(ctx, 0, 0, 0); err != nil {
		t.Fatal(err)
	}
	if st := sim.State(); st.PanVel != 0 || st.TiltVel != 0 || st.ZoomVel != 0 || sim.Ops()["Stop"] != 1 {
		t.Fatalf("sim after Drive(0,0,0): %+v %v", st, sim.Ops())
	}
	if p, err := c.Poll(ctx); err != nil || p["moving"] != false {
		t.Fatalf("Poll after stop = %v, %v", p, err)
	}
	n := sim.State().Requests
	for _, bad := range [][3]float64{{1.5, 0, 0}, {0, -1.01, 0}, {0, 0, 2}} {
		wantCode(t, c.Drive(ctx, bad[0], bad[1], bad[2]), "bad_args")
	}
	wantCode(t, c.RecallPreset(ctx, -1), "bad_args")
	if sim.State().Requests != n {
		t.Fatal("bad arguments reached the camera")
	}
	// One discovery for all of it.
	if ops := sim.Ops(); ops["GetSystemDateAndTime"] != 1 || ops["GetCapabilities"] != 1 || ops["GetProfiles"] != 1 {
		t.Fatalf("discovery ran again: %v", ops)
	}
}

func TestMoveTimeout(t *testing.T) {
	cfg, opts := authed()
	opts.MoveTimeout = 50 * time.Millisecond
	sim, c := rig(t, cfg, opts)
	if err := c.Drive(ctxFor(t, 5*time.Second), 1, 0, 0); err != nil {
		t.Fatal(err)
	}
	if st := sim.State(); st.MoveTimeout != 50*time.Millisecond {
		t.Fatalf("timeout %v", st.MoveTimeout)
	}
	deadline := time.Now().Add(3 * time.Second)
	for sim.State().PanTiltMoving {
		if time.Now().After(deadline) {
			t.Fatal("the camera did not stop at the move timeout")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestPresets(t *testing.T) {
	cfg, opts := authed()
	sim, c := rig(t, cfg, opts)
	ctx := ctxFor(t, 5*time.Second)

	if err := c.RecallPreset(ctx, 2); err != nil { // token "2", "Witness"
		t.Fatal(err)
	}
	if st := sim.State(); st.Pan != 0.35 || st.Zoom != 0.5 {
		t.Fatalf("after recalling 2: %+v", st)
	}
	wantCode(t, c.RecallPreset(ctx, 9), "bad_args")

	// Store preset 9: the camera has none, so a new preset named bailiff-9.
	if err := sim.SetPosition(-0.5, 0.5, 0.75); err != nil {
		t.Fatal(err)
	}
	if err := c.StorePreset(ctx, 9); err != nil {
		t.Fatal(err)
	}
	ps, err := c.Presets(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := []onvif.Preset{{"1", "Judge"}, {"2", "Witness"}, {"3", "Counsel"}, {"4", "bailiff-9"}}; !reflect.DeepEqual(ps, want) {
		t.Fatalf("presets %v, want %v", ps, want)
	}
	// Storing 9 again overwrites the same preset; storing 1 overwrites the camera's preset 1, keeping its name.
	if err := sim.SetPosition(0.25, 0, 0); err != nil {
		t.Fatal(err)
	}
	if err := c.StorePreset(ctx, 9); err != nil {
		t.Fatal(err)
	}
	if err := c.StorePreset(ctx, 1); err != nil {
		t.Fatal(err)
	}
	got := sim.State().Presets
	if len(got) != 4 || got[3].Name != "bailiff-9" || got[3].Pan != 0.25 || got[0].Name != "Judge" || got[0].Pan != 0.25 {
		t.Fatalf("presets after storing: %+v", got)
	}
	if err := sim.SetPosition(0, 0, 0); err != nil {
		t.Fatal(err)
	}
	if err := c.RecallPreset(ctx, 9); err != nil {
		t.Fatal(err)
	}
	if st := sim.State(); st.Pan != 0.25 {
		t.Fatalf("after recalling 9: %+v", st)
	}
	// Storing while the camera moves: busy.
	sim.SetVelocity(0.1, 0, 0)
	wantCode(t, c.StorePreset(ctx, 1), "busy")
	if ops := sim.Ops(); ops["GetCapabilities"] != 1 {
		t.Fatalf("a fault about the arguments made the driver discover the camera again: %v", ops)
	}
}

func TestDiscovery(t *testing.T) {
	t.Run("profile option", func(t *testing.T) {
		cfg, opts := authed()
		opts.Profile = "sub"
		sim, c := rig(t, cfg, opts)
		st, err := c.Poll(ctxFor(t, 5*time.Second))
		if err != nil || st["profile"] != "sub" || sim.Ops()["GetProfiles"] != 0 || sim.State().LastProfile != "sub" {
			t.Fatalf("Poll = %v, %v; ops %v", st, err, sim.Ops())
		}
	})
	t.Run("profile gone", func(t *testing.T) {
		cfg, opts := authed()
		opts.Profile = "gone"
		sim, c := rig(t, cfg, opts)
		ctx := ctxFor(t, 5*time.Second)
		wantCode(t, c.Drive(ctx, 1, 0, 0), "device_error")
		_, err := c.Poll(ctx)
		wantCode(t, err, "device_error")
		if !strings.Contains(err.Error(), "NoProfile") {
			t.Fatalf("error %q does not name the fault", err)
		}
		if n := sim.Ops()["GetCapabilities"]; n != 2 {
			t.Fatalf("GetCapabilities %d times: want a new discovery after NoProfile", n)
		}
	})
	t.Run("no ptz profile", func(t *testing.T) {
		cfg, opts := authed()
		cfg.Profiles = []onvifsim.Profile{{Token: "a", Name: "A"}, {Token: "b", Name: "B"}}
		_, c := rig(t, cfg, opts)
		err := c.Drive(ctxFor(t, 5*time.Second), 1, 0, 0)
		wantCode(t, err, "unsupported")
		if !strings.Contains(err.Error(), "profiles: a, b") {
			t.Fatalf("error %q does not list the profiles", err)
		}
	})
	t.Run("services instead of capabilities", func(t *testing.T) {
		cfg, opts := authed()
		cfg.NoCapabilities = true
		sim, c := rig(t, cfg, opts)
		if err := c.Drive(ctxFor(t, 5*time.Second), 0, 0, -1); err != nil {
			t.Fatal(err)
		}
		if ops := sim.Ops(); ops["GetServices"] != 1 || ops["GetCapabilities"] != 1 {
			t.Fatalf("ops %v", ops)
		}
	})
	t.Run("xaddrs name another host", func(t *testing.T) {
		cfg, opts := authed()
		cfg.XAddrHost = "192.0.2.55:1" // what a camera behind NAT reports
		sim, c := rig(t, cfg, opts)
		if err := c.Drive(ctxFor(t, 5*time.Second), 1, 0, 0); err != nil {
			t.Fatal(err)
		}
		if sim.State().PanVel != 1 {
			t.Fatal("the move did not reach the camera")
		}
	})
	t.Run("status not supported", func(t *testing.T) {
		cfg, opts := authed()
		sim, c := rig(t, cfg, opts)
		sim.SetFault("GetStatus", onvifsim.FaultActionNotSupported)
		st, err := c.Poll(ctxFor(t, 5*time.Second))
		if err != nil || !reflect.DeepEqual(st, drivers.State{"profile": "main"}) {
			t.Fatalf("Poll = %v, %v", st, err)
		}
	})
}

func TestCameraClockOff(t *testing.T) {
	for _, skew := range []time.Duration{2 * time.Hour, -3*time.Hour - 17*time.Second, 400 * 24 * time.Hour} {
		cfg, opts := authed()
		cfg.ClockSkew, cfg.AuthWindow = skew, 3*time.Second
		sim, c := rig(t, cfg, opts)
		if err := c.Drive(ctxFor(t, 5*time.Second), 0.5, 0, 0); err != nil {
			t.Fatalf("skew %v: %v", skew, err)
		}
		if st := sim.State(); st.AuthFails != 0 || st.PanVel != 0.5 {
			t.Fatalf("skew %v: %+v", skew, st)
		}
	}
}

func TestAuth(t *testing.T) {
	for name, opts := range map[string]onvif.Options{
		"wrong password": {Username: user, Password: "not-the-password"},
		"wrong user":     {Username: "admin", Password: password},
		"no credentials": {},
	} {
		t.Run(name, func(t *testing.T) {
			cfg, _ := authed()
			sim, c := rig(t, cfg, opts)
			err := c.Drive(ctxFor(t, 5*time.Second), 1, 0, 0)
			wantCode(t, err, "device_error")
			if !errors.Is(err, onvif.ErrAuth) || errors.Is(err, drivers.ErrUnreachable) {
				t.Fatalf("error %v: want ErrAuth", err)
			}
			msg := err.Error()
			if !strings.Contains(msg, "authentication failed") || !strings.Contains(msg, "NotAuthorized") {
				t.Fatalf("error %q does not say authentication failed", msg)
			}
			if strings.Contains(msg, password) || (opts.Password != "" && strings.Contains(msg, opts.Password)) {
				t.Fatalf("error %q shows a password", msg)
			}
			if st := sim.State(); st.PanVel != 0 || sim.Ops()["ContinuousMove"] != 0 {
				t.Fatalf("the move ran without authentication: %+v %v", st, sim.Ops())
			}
			if n := sim.Ops()["GetSystemDateAndTime"]; n != 1 {
				t.Fatalf("%d discoveries: a refused password must not be retried", n)
			}
		})
	}
}

func TestFaults(t *testing.T) {
	cfg, opts := authed()
	sim, c := rig(t, cfg, opts)
	ctx := ctxFor(t, 10*time.Second)
	for _, f := range []struct {
		fault *onvifsim.Fault
		code  string
	}{
		{onvifsim.FaultInvalidArgVal, "bad_args"},
		{onvifsim.FaultActionNotSupported, "unsupported"},
		{onvifsim.FaultMovingPTZ, "busy"},
		{onvifsim.FaultCritical, "device_error"},
		{&onvifsim.Fault{Code: "env:Sender", Subcodes: []string{"ter:InvalidArgVal", "ter:SpaceNotSupported"}, Reason: "no"}, "unsupported"},
		{&onvifsim.Fault{Code: "env:Receiver", Reason: "Something broke <&>"}, "device_error"},
	} {
		sim.SetFault("ContinuousMove", f.fault)
		err := c.Drive(ctx, 0, 1, 0)
		wantCode(t, err, f.code)
		if !strings.Contains(err.Error(), "fault ") || !strings.Contains(err.Error(), f.fault.Reason) {
			t.Fatalf("error %q does not show the fault", err)
		}
	}
	if n := sim.Ops()["GetCapabilities"]; n != 1 {
		t.Fatalf("discovered %d times: faults about the request keep the session", n)
	}
	// A refused token makes the driver discover the camera (and its clock) again.
	sim.SetFault("ContinuousMove", onvifsim.FaultNotAuthorized)
	wantCode(t, c.Drive(ctx, 0, 1, 0), "device_error")
	sim.SetFault("ContinuousMove", nil)
	if err := c.Drive(ctx, 0, 1, 0); err != nil {
		t.Fatal(err)
	}
	if n := sim.Ops()["GetCapabilities"]; n != 2 {
		t.Fatalf("discovered %d times, want 2", n)
	}
}

func TestMisbehaviour(t *testing.T) {
	t.Run("slow within the deadline", func(t *testing.T) {
		cfg, opts := authed()
		sim, c := rig(t, cfg, opts)
		sim.SetMode(onvifsim.Slow)
		sim.SetDelay(20 * time.Millisecond)
		if err := c.Drive(ctxFor(t, 3*time.Second), 1, 0, 0); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("slow beyond the deadline", func(t *testing.T) {
		cfg, opts := authed()
		sim, c := rig(t, cfg, opts)
		ctx := ctxFor(t, 5*time.Second)
		if _, err := c.Poll(ctx); err != nil {
			t.Fatal(err)
		}
		sim.SetMode(onvifsim.Slow)
		sim.SetDelay(2 * time.Second)
		n := sim.State().Requests
		t0 := time.Now()
		err := c.Drive(ctxFor(t, 100*time.Millisecond), 1, 0, 0)
		wantCode(t, err, "timeout")
		if !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, drivers.ErrUnreachable) {
			t.Fatalf("error %v: want context.DeadlineExceeded and ErrUnreachable", err)
		}
		if d := time.Since(t0); d > time.Second {
			t.Fatalf("returned after %v, deadline was 100ms", d)
		}
		if got := sim.State().Requests - n; got != 1 {
			t.Fatalf("%d requests: a timeout must not be retried", got)
		}
		sim.SetMode(onvifsim.Normal)
		if _, err := c.Poll(ctx); err != nil {
			t.Fatalf("after the timeout: %v", err)
		}
		if n := sim.Ops()["GetSystemDateAndTime"]; n != 2 {
			t.Fatalf("discovered %d times: want a new discovery after a timeout", n)
		}
	})
	t.Run("silent with the default timeout", func(t *testing.T) {
		cfg, opts := authed()
		opts.Timeout = 80 * time.Millisecond
		sim, c := rig(t, cfg, opts)
		sim.SetMode(onvifsim.Silent)
		t0 := time.Now()
		_, err := c.Poll(context.Background())
		wantCode(t, err, "timeout")
		if !strings.Contains(err.Error(), "no answer within 80ms") {
			t.Fatalf("error %q", err)
		}
		if d := time.Since(t0); d > time.Second {
			t.Fatalf("returned after %v", d)
		}
	})
	t.Run("silent and cancelled", func(t *testing.T) {
		cfg, opts := authed()
		sim, c := rig(t, cfg, opts)
		sim.SetMode(onvifsim.Silent)
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(50*time.Millisecond, cancel)
		_, err := c.Poll(ctx)
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("error %v, want context.Canceled", err)
		}
	})
	t.Run("garbage", func(t *testing.T) {
		cfg, opts := authed()
		sim, c := rig(t, cfg, opts)
		ctx := ctxFor(t, 5*time.Second)
		if _, err := c.Poll(ctx); err != nil {
			t.Fatal(err)
		}
		sim.SetMode(onvifsim.Garbage)
		err := c.Drive(ctx, 1, 0, 0)
		wantCode(t, err, "device_error")
		if !strings.Contains(err.Error(), "garbled reply") {
			t.Fatalf("error %q does not say garbled reply", err)
		}
		_, err = c.Poll(ctx)
		wantCode(t, err, "device_error")
		sim.SetMode(onvifsim.Normal)
		if _, err := c.Poll(ctx); err != nil {
			t.Fatalf("after garbage: %v", err)
		}
	})
	t.Run("drop every request", func(t *testing.T) {
		cfg, opts := authed()
		sim, c := rig(t, cfg, opts)
		sim.SetMode(onvifsim.Drop)
		_, err := c.Poll(ctxFor(t, 5*time.Second))
		wantCode(t, err, "unreachable")
		if n := sim.State().Requests; n != 2 {
			t.Fatalf("%d requests, want 2 (one retry)", n)
		}
	})
	t.Run("drop once", func(t *testing.T) {
		cfg, opts := authed()
		sim, c := rig(t, cfg, opts)
		ctx := ctxFor(t, 5*time.Second)
		if _, err := c.Poll(ctx); err != nil {
			t.Fatal(err)
		}
		sim.SetMode(onvifsim.DropOnce)
		if err := c.Drive(ctx, -1, 0, 0); err != nil {
			t.Fatalf("after a dropped connection: %v", err)
		}
		if st := sim.State(); st.PanVel != -1 {
			t.Fatalf("state %+v", st)
		}
		if n := sim.Ops()["GetSystemDateAndTime"]; n != 2 {
			t.Fatalf("discovered %d times, want again after the dropped connection", n)
		}
	})
}

func TestNothingListening(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	c, err := onvif.New(addr, onvif.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_, err = c.Poll(ctxFor(t, 2*time.Second))
	wantCode(t, err, "unreachable")
}

func TestClose(t *testing.T) {
	cfg, opts := authed()
	sim, c := rig(t, cfg, opts)
	ctx := ctxFor(t, 5*time.Second)
	if _, err := c.Poll(ctx); err != nil {
		t.Fatal(err)
	}
	// Close ends an exchange in flight.
	sim.SetMode(onvifsim.Silent)
	done := make(chan error, 1)
	go func() {
		_, err := c.Poll(ctx)
		done <- err
	}()
	for sim.State().Requests < 5 {
		time.Sleep(time.Millisecond)
	}
	t0 := time.Now()
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; drivers.Code(err) != "unreachable" || time.Since(t0) > time.Second {
		t.Fatalf("Poll during Close: %v after %v", err, time.Since(t0))
	}
	n := sim.State().Requests
	_, err := c.Poll(ctx)
	wantCode(t, err, "unreachable")
	if sim.State().Requests != n {
		t.Fatal("a request after Close")
	}
	if err := c.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

func TestConcurrentUse(t *testing.T) {
	cfg, opts := authed()
	_, c := rig(t, cfg, opts)
	ctx := ctxFor(t, 10*time.Second)
	var wg sync.WaitGroup
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 5; j++ {
				if _, err := c.Poll(ctx); err != nil {
					t.Error(err)
					return
				}
				if err := c.Drive(ctx, float64(j%3-1)/2, 0, 0); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
}

func TestOptionsHidePassword(t *testing.T) {
	o := onvif.Options{Username: "u", Password: "hunter2"}
	if s := o.String(); strings.Contains(s, "hunter2") || !strings.Contains(s, "***") {
		t.Fatalf("String() = %q", s)
	}
	if v := o.LogValue().String(); strings.Contains(v, "hunter2") {
		t.Fatalf("LogValue() = %q", v)
	}
}

// BenchmarkCommand is the round trip of one ptz command: ContinuousMove with a
// UsernameToken, over HTTP on loopback, the camera already discovered.
func BenchmarkCommand(b *testing.B) {
	cfg, opts := authed()
	_, c := rig(b, cfg, opts)
	ctx := context.Background()
	if err := c.Drive(ctx, 0.5, 0, 0); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		if err := c.Drive(ctx, 0.5, float64(i%2)/2, 0); err != nil {
			b.Fatal(err)
		}
	}
}
