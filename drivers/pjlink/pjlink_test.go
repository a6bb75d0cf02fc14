package pjlink_test

import (
	"context"
	"errors"
	"net"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bailiff/bailiff/drivers"
	"github.com/bailiff/bailiff/drivers/internal/drivertest"
	"github.com/bailiff/bailiff/drivers/pjlink"
	"github.com/bailiff/bailiff/drivers/pjlink/internal/golden"
	"github.com/bailiff/bailiff/drivers/pjlink/pjlinksim"
)

// rig starts a simulator on loopback and a Projector for it.
func rig(t testing.TB, cfg pjlinksim.Config, opts pjlink.Options) (*pjlinksim.Sim, *pjlink.Projector) {
	t.Helper()
	sim := pjlinksim.New(cfg)
	addr, err := sim.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := pjlink.New(pjlink.DialTCP(addr), opts)
	t.Cleanup(func() {
		p.Close()
		sim.Close()
	})
	return sim, p
}

func ctxFor(t testing.TB, d time.Duration) context.Context { return drivertest.Ctx(t, d) }

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	drivertest.WantCode(t, err, code, "pjlink: ")
}

// eventually polls cond until it holds or 3 s pass.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	drivertest.Eventually(t, 3*time.Second, what, cond)
}

func TestRegistered(t *testing.T) {
	info, ok := drivers.Lookup("pjlink")
	if !ok {
		t.Fatal("pjlink is not registered")
	}
	if info.DefaultPort != 4352 || !reflect.DeepEqual(info.Options, []string{"password"}) || info.Description == "" {
		t.Fatalf("registration %+v", info)
	}
	// The factory must not touch the network: an address nobody answers makes a device at once.
	t0 := time.Now()
	d, err := info.New(drivers.Config{ID: "proj", Address: "192.0.2.1", Options: map[string]string{"password": "pw"}})
	if err != nil {
		t.Fatal(err)
	}
	if time.Since(t0) > 100*time.Millisecond {
		t.Fatalf("factory took %v", time.Since(t0))
	}
	d.Close()
	got := drivers.Actions(d)
	want := []string{"blank", "input", "mute", "power", "refresh"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("actions %v, want %v", got, want)
	}
	if _, err := info.New(drivers.Config{ID: "proj", Address: "10.0.0.1", Options: map[string]string{"user": "x"}}); err == nil {
		t.Fatal("unknown option accepted")
	}
	if _, err := info.New(drivers.Config{ID: "proj"}); err == nil {
		t.Fatal("empty address accepted")
	}
}

func TestFactoryTalksToSim(t *testing.T) {
	sim := pjlinksim.New(pjlinksim.Config{Password: "secret", On: true, Name: "Bench"})
	addr, err := sim.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	info, _ := drivers.Lookup("pjlink")
	d, err := info.New(drivers.Config{ID: "proj", Address: addr, Options: map[string]string{"password": "secret"}})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	st, err := d.Poll(ctxFor(t, 2*time.Second))
	if err != nil || st["name"] != "Bench" || st["power"] != "on" {
		t.Fatalf("Poll = %v, %v", st, err)
	}
}

func TestPowerOnThroughWarmUp(t *testing.T) {
	const warm = 150 * time.Millisecond
	sim, p := rig(t, pjlinksim.Config{WarmUp: warm, CoolDown: warm}, pjlink.Options{})
	ctx := ctxFor(t, 5*time.Second)

	t0 := time.Now()
	if err := p.SetPower(ctx, true); err != nil {
		t.Fatalf("power on: %v", err)
	}
	st, err := p.Poll(ctx)
	errAgain := p.SetPower(ctx, true)
	errBlank := p.SetBlank(ctx, true)
	if time.Since(t0) < warm {
		if err != nil || st["power"] != "warming" {
			t.Fatalf("Poll while warming = %v, %v", st, err)
		}
		if _, ok := st["input"]; ok {
			t.Fatalf("input reported while warming: %v", st)
		}
		wantCode(t, errAgain, "busy")
		if got, want := errAgain.Error(), "pjlink: power on: projector busy (ERR3): device busy"; got != want {
			t.Fatalf("error %q, want %q", got, want)
		}
		wantCode(t, errBlank, "busy")
	} else {
		t.Logf("machine too slow to check the warming state (%v)", time.Since(t0))
	}
	eventually(t, "power on", func() bool {
		st, err := p.Poll(ctx)
		return err == nil && st["power"] == "on"
	})
	if time.Since(t0) < warm {
		t.Fatalf("on after %v, before the warm-up", time.Since(t0))
	}
	if sim.State().Power != pjlinksim.PowerOn {
		t.Fatalf("sim state %+v", sim.State())
	}
	if n := sim.Connections(); n != 1 {
		t.Fatalf("%d connections, want 1 reused", n)
	}
}

func TestActions(t *testing.T) {
	sim, p := rig(t, pjlinksim.Config{On: true, Inputs: []string{"11", "31", "32", "51"}, Name: "Court 3",
		LampHours: 1500, Info: "sim"}, pjlink.Options{})
	ctx := ctxFor(t, 5*time.Second)

	for _, c := range []struct{ source, code string }{
		{"31", "31"}, {"rgb1", "11"}, {"digital2", "32"}, {"network1", "51"}, // the last one stays
	} {
		if err := p.SetInput(ctx, c.source); err != nil {
			t.Fatalf("SetInput(%q): %v", c.source, err)
		}
		if got := sim.State().Input; got != c.code {
			t.Fatalf("SetInput(%q): projector on %q, want %q", c.source, got, c.code)
		}
	}
	n := sim.Commands()
	for _, bad := range []string{"hdmi1", "", "99", "digital", "rgb0"} {
		wantCode(t, p.SetInput(ctx, bad), "bad_args")
	}
	wantCode(t, p.SetMute(ctx, "left", true), "bad_args")
	if sim.Commands() != n {
		t.Fatalf("bad arguments reached the wire")
	}

	if err := p.SetBlank(ctx, true); err != nil || !sim.State().VideoMute {
		t.Fatalf("SetBlank(true): %v, %+v", err, sim.State())
	}
	if err := p.SetMute(ctx, "", true); err != nil || !sim.State().AudioMute {
		t.Fatalf("SetMute(true): %v, %+v", err, sim.State())
	}
	st, err := p.Poll(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := drivers.State{
		"power": "on", "input": "51", "video_mute": true, "audio_mute": true,
		"lamps": golden.Lamps(1500, true), "errors": golden.Errors("000000"),
		"inputs": []string{"11", "31", "32", "51"}, "name": "Court 3",
		"manufacturer": "Bailiff", "model": "PJLinkSim", "info": "sim", "class": "1",
	}
	if !reflect.DeepEqual(st, want) {
		t.Fatalf("Poll =\n%#v\nwant\n%#v", st, want)
	}
	if err := p.SetBlank(ctx, false); err != nil || sim.State().VideoMute {
		t.Fatalf("SetBlank(false): %v, %+v", err, sim.State())
	}
	if err := p.SetMute(ctx, "", false); err != nil || sim.State().AudioMute {
		t.Fatalf("SetMute(false): %v, %+v", err, sim.State())
	}
	if err := p.SetPower(ctx, false); err != nil {
		t.Fatal(err)
	}
	eventually(t, "power off", func() bool { return sim.State().Power == pjlinksim.PowerOff })
}

func TestPollWhileOffOmitsFields(t *testing.T) {
	_, p := rig(t, pjlinksim.Config{}, pjlink.Options{})
	st, err := p.Poll(ctxFor(t, 2*time.Second))
	if err != nil {
		t.Fatalf("Poll of a projector in standby: %v", err)
	}
	if st["power"] != "off" {
		t.Fatalf("power %v", st["power"])
	}
	for _, k := range []string{"input", "video_mute", "audio_mute"} {
		if _, ok := st[k]; ok {
			t.Errorf("%s reported while off: %v", k, st)
		}
	}
	for _, k := range []string{"lamps", "errors", "name", "manufacturer", "model", "class", "inputs"} {
		if _, ok := st[k]; !ok {
			t.Errorf("%s missing: %v", k, st)
		}
	}
}

func TestErrorMapping(t *testing.T) {
	sim, p := rig(t, pjlinksim.Config{Inputs: []string{"11", "31"}}, pjlink.Options{})
	ctx := ctxFor(t, 5*time.Second)

	_, err := p.Command(ctx, "XXXX", "?")
	wantCode(t, err, "unsupported") // ERR1
	var re *pjlink.ReplyError
	if !errors.As(err, &re) || re.Code != "ERR1" || re.Cmd != "XXXX" {
		t.Fatalf("error %v: want a *ReplyError ERR1", err)
	}
	wantCode(t, p.SetInput(ctx, "31"), "busy") // ERR3: off
	if err := p.SetPower(ctx, true); err != nil {
		t.Fatal(err)
	}
	eventually(t, "power on", func() bool { return sim.State().Power == pjlinksim.PowerOn })
	wantCode(t, p.SetInput(ctx, "video1"), "bad_args") // ERR2: not installed
	sim.SetFailure(true)
	err = p.SetPower(ctx, false)
	wantCode(t, err, "device_error") // ERR4
	if got, want := err.Error(), "pjlink: power off: projector failure (ERR4): device error"; got != want {
		t.Fatalf("error %q, want %q", got, want)
	}

	st, err := p.Poll(ctx)
	wantCode(t, err, "device_error")
	if st == nil || !strings.Contains(err.Error(), "projector failure (ERR4) answering POWR, INPT") {
		t.Fatalf("Poll in failure = %v, %v", st, err)
	}
	sim.SetFailure(false)
	if _, err := p.Poll(ctx); err != nil {
		t.Fatalf("Poll after failure: %v", err)
	}
}

func TestPollReportsFaults(t *testing.T) {
	sim, p := rig(t, pjlinksim.Config{On: true}, pjlink.Options{})
	ctx := ctxFor(t, 2*time.Second)
	if err := sim.SetERST("021010"); err != nil {
		t.Fatal(err)
	}
	st, err := p.Poll(ctx)
	wantCode(t, err, "device_error")
	if !errors.Is(err, drivers.ErrDevice) || errors.Is(err, drivers.ErrUnreachable) {
		t.Fatalf("error %v: want ErrDevice, not ErrUnreachable", err)
	}
	msg := err.Error()
	if !strings.Contains(msg, "lamp") || strings.Contains(msg, "temperature") || strings.Contains(msg, "filter") {
		t.Fatalf("error %q should name the lamp and not the warnings", msg)
	}
	if st["power"] != "on" || !reflect.DeepEqual(st["errors"], golden.Errors("021010")) {
		t.Fatalf("state with faults: %v", st)
	}
	if err := sim.SetERST("001000"); err != nil {
		t.Fatal(err)
	}
	if st, err := p.Poll(ctx); err != nil || st["errors"].(map[string]string)["temperature"] != "warning" {
		t.Fatalf("warnings only: %v, %v", st, err)
	}
}

func TestAuth(t *testing.T) {
	const pw = "JBMIAProjectorLink"
	t.Run("right password", func(t *testing.T) {
		sim, p := rig(t, pjlinksim.Config{Password: pw, On: true}, pjlink.Options{Password: pw})
		ctx := ctxFor(t, 2*time.Second)
		for i := 0; i < 3; i++ {
			if _, err := p.Poll(ctx); err != nil {
				t.Fatalf("Poll %d: %v", i, err)
			}
		}
		if n := sim.Connections(); n != 1 {
			t.Fatalf("%d connections, want 1", n)
		}
		// A new connection authenticates again.
		sim.DropConnections()
		if err := p.SetBlank(ctx, true); err != nil {
			t.Fatalf("after reconnect: %v", err)
		}
		if n := sim.Connections(); n != 2 {
			t.Fatalf("%d connections, want 2", n)
		}
	})
	for name, given := range map[string]string{"wrong password": "not-the-password", "no password": ""} {
		t.Run(name, func(t *testing.T) {
			sim, p := rig(t, pjlinksim.Config{Password: pw}, pjlink.Options{Password: given})
			err := p.SetPower(ctxFor(t, 2*time.Second), true)
			wantCode(t, err, "device_error")
			if !errors.Is(err, pjlink.ErrAuth) || errors.Is(err, drivers.ErrUnreachable) {
				t.Fatalf("error %v: want ErrAuth", err)
			}
			msg := err.Error()
			if !strings.Contains(msg, "authentication failed (wrong or missing password)") {
				t.Fatalf("error %q does not say authentication failed", msg)
			}
			if strings.Contains(msg, pw) || (given != "" && strings.Contains(msg, given)) {
				t.Fatalf("error %q shows a password", msg)
			}
			if sim.State().Power != pjlinksim.PowerOff {
				t.Fatal("command ran without authentication")
			}
			if n := sim.Connections(); n != 1 {
				t.Fatalf("%d connections: a refused password must not be retried", n)
			}
		})
	}
}

func TestMisbehaviour(t *testing.T) {
	t.Run("slow within the deadline", func(t *testing.T) {
		sim, p := rig(t, pjlinksim.Config{On: true}, pjlink.Options{})
		sim.SetMode(pjlinksim.Slow)
		sim.SetDelay(20 * time.Millisecond)
		if _, err := p.Command(ctxFor(t, 2*time.Second), "POWR", "?"); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("slow beyond the deadline", func(t *testing.T) {
		sim, p := rig(t, pjlinksim.Config{On: true}, pjlink.Options{})
		sim.SetMode(pjlinksim.Slow)
		sim.SetDelay(2 * time.Second)
		t0 := time.Now()
		err := p.SetPower(ctxFor(t, 100*time.Millisecond), false)
		wantCode(t, err, "timeout")
		if !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, drivers.ErrUnreachable) {
			t.Fatalf("error %v: want context.DeadlineExceeded and ErrUnreachable", err)
		}
		if d := time.Since(t0); d > time.Second {
			t.Fatalf("returned after %v, deadline was 100ms", d)
		}
		if n := sim.Connections(); n != 1 {
			t.Fatalf("%d connections: a timeout must not be retried", n)
		}
		// The projector answers again: the next exchange uses a new connection.
		sim.SetMode(pjlinksim.Normal)
		if _, err := p.Poll(ctxFor(t, 2*time.Second)); err != nil {
			t.Fatalf("after the timeout: %v", err)
		}
	})
	t.Run("silent with a context deadline", func(t *testing.T) {
		sim, p := rig(t, pjlinksim.Config{}, pjlink.Options{})
		sim.SetMode(pjlinksim.Silent)
		_, err := p.Poll(ctxFor(t, 100*time.Millisecond))
		wantCode(t, err, "timeout")
	})
	t.Run("silent with the default timeout", func(t *testing.T) {
		sim, p := rig(t, pjlinksim.Config{}, pjlink.Options{Timeout: 80 * time.Millisecond})
		sim.SetMode(pjlinksim.Silent)
		t0 := time.Now()
		_, err := p.Command(context.Background(), "POWR", "?")
		wantCode(t, err, "timeout")
		if !strings.Contains(err.Error(), "no answer within 80ms") {
			t.Fatalf("error %q", err)
		}
		if d := time.Since(t0); d > time.Second {
			t.Fatalf("returned after %v", d)
		}
	})
	t.Run("cancelled", func(t *testing.T) {
		sim, p := rig(t, pjlinksim.Config{}, pjlink.Options{})
		sim.SetMode(pjlinksim.Silent)
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(50*time.Millisecond, cancel)
		_, err := p.Command(ctx, "POWR", "?")
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("error %v, want context.Canceled", err)
		}
	})
	t.Run("garbage", func(t *testing.T) {
		sim, p := rig(t, pjlinksim.Config{On: true}, pjlink.Options{})
		sim.SetMode(pjlinksim.Garbage)
		err := p.SetPower(ctxFor(t, 2*time.Second), true)
		wantCode(t, err, "device_error")
		if !strings.Contains(err.Error(), "garbled reply") {
			t.Fatalf("error %q does not say garbled reply", err)
		}
		_, err = p.Poll(ctxFor(t, 2*time.Second))
		wantCode(t, err, "device_error")
		sim.SetMode(pjlinksim.Normal)
		if _, err := p.Poll(ctxFor(t, 2*time.Second)); err != nil {
			t.Fatalf("after garbage: %v", err)
		}
		if n := sim.Connections(); n != 3 {
			t.Fatalf("%d connections: want a new one after each garbled reply", n)
		}
	})
	t.Run("drop every command", func(t *testing.T) {
		sim, p := rig(t, pjlinksim.Config{}, pjlink.Options{})
		sim.SetMode(pjlinksim.Drop)
		_, err := p.Poll(ctxFor(t, 2*time.Second))
		wantCode(t, err, "unreachable")
		if n := sim.Connections(); n != 2 {
			t.Fatalf("%d connections, want 2 (one retry)", n)
		}
	})
	t.Run("drop once on a used connection", func(t *testing.T) {
		sim, p := rig(t, pjlinksim.Config{On: true}, pjlink.Options{})
		ctx := ctxFor(t, 2*time.Second)
		if _, err := p.Command(ctx, "POWR", "?"); err != nil {
			t.Fatal(err)
		}
		sim.SetMode(pjlinksim.DropOnce)
		if err := p.SetBlank(ctx, true); err != nil {
			t.Fatalf("after a dropped connection: %v", err)
		}
		if n := sim.Connections(); n != 2 || !sim.State().VideoMute {
			t.Fatalf("%d connections, state %+v", n, sim.State())
		}
	})
}

func TestReconnectAfterProjectorClosesIdleConnection(t *testing.T) {
	sim, p := rig(t, pjlinksim.Config{On: true, IdleTimeout: 30 * time.Millisecond}, pjlink.Options{})
	ctx := ctxFor(t, 5*time.Second)
	if _, err := p.Poll(ctx); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the projector to close the idle connection", func() bool { return sim.OpenConnections() == 0 })
	if err := p.SetPower(ctx, false); err != nil {
		t.Fatalf("after the idle close: %v", err)
	}
	if n := sim.Connections(); n != 2 {
		t.Fatalf("%d connections, want 2", n)
	}
	sim.DropConnections()
	if _, err := p.Poll(ctx); err != nil {
		t.Fatalf("after DropConnections: %v", err)
	}
}

func TestSimulatorGone(t *testing.T) {
	sim, p := rig(t, pjlinksim.Config{}, pjlink.Options{})
	ctx := ctxFor(t, 2*time.Second)
	if _, err := p.Poll(ctx); err != nil {
		t.Fatal(err)
	}
	sim.Close()
	_, err := p.Poll(ctx)
	wantCode(t, err, "unreachable")
	if !errors.Is(err, drivers.ErrUnreachable) {
		t.Fatalf("error %v", err)
	}
	err = p.SetPower(ctx, true)
	wantCode(t, err, "unreachable")
}

func TestNothingListening(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	p := pjlink.New(pjlink.DialTCP(addr), pjlink.Options{})
	defer p.Close()
	_, err = p.Poll(ctxFor(t, 2*time.Second))
	wantCode(t, err, "unreachable")
}

func TestClose(t *testing.T) {
	sim, p := rig(t, pjlinksim.Config{}, pjlink.Options{})
	ctx := ctxFor(t, 2*time.Second)
	if _, err := p.Poll(ctx); err != nil {
		t.Fatal(err)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the connection to close", func() bool { return sim.OpenConnections() == 0 })
	_, err := p.Poll(ctx)
	wantCode(t, err, "unreachable")
	if n := sim.Connections(); n != 1 {
		t.Fatalf("dialled after Close")
	}
	if err := p.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

func TestConcurrentUse(t *testing.T) {
	_, p := rig(t, pjlinksim.Config{On: true}, pjlink.Options{})
	ctx := ctxFor(t, 10*time.Second)
	var wg sync.WaitGroup
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 5; j++ {
				if _, err := p.Poll(ctx); err != nil {
					t.Error(err)
					return
				}
				if err := p.SetBlank(ctx, j%2 == 0); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
}

// TestOverPipe runs the driver against the simulator with no socket at all.
func TestOverPipe(t *testing.T) {
	sim := pjlinksim.New(pjlinksim.Config{On: true, Name: "pipe"})
	defer sim.Close()
	p := pjlink.New(func(context.Context) (net.Conn, error) {
		a, b := net.Pipe()
		go sim.ServeConn(b)
		return a, nil
	}, pjlink.Options{})
	defer p.Close()
	st, err := p.Poll(ctxFor(t, 2*time.Second))
	if err != nil || st["name"] != "pipe" {
		t.Fatalf("Poll = %v, %v", st, err)
	}
}

func BenchmarkPowerQuery(b *testing.B) {
	_, p := rig(b, pjlinksim.Config{On: true}, pjlink.Options{})
	ctx := context.Background()
	if _, err := p.Command(ctx, "POWR", "?"); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := p.Command(ctx, "POWR", "?"); err != nil {
			b.Fatal(err)
		}
	}
}
