package samsungmdc_test

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
	"github.com/bailiff/bailiff/drivers/samsungmdc"
	"github.com/bailiff/bailiff/drivers/samsungmdc/internal/golden"
	"github.com/bailiff/bailiff/drivers/samsungmdc/mdcsim"
	"github.com/bailiff/bailiff/drivers/transport"
)

// links are the two ways to reach a display.
var links = []string{"tcp", "serial"}

// rig starts a simulator, over TCP on loopback or over a pty pair, and a Display for it.
func rig(t testing.TB, link string, cfg mdcsim.Config, opts samsungmdc.Options) (*mdcsim.Sim, *samsungmdc.Display) {
	t.Helper()
	sim := mdcsim.New(cfg)
	var addr string
	var err error
	if link == "serial" {
		addr, err = sim.ListenPTY()
	} else {
		addr, err = sim.Listen("127.0.0.1:0")
	}
	if err != nil {
		t.Fatal(err)
	}
	d := samsungmdc.New(samsungmdc.Dial(addr, transport.Options{}), opts)
	t.Cleanup(func() {
		d.Close()
		sim.Close()
	})
	return sim, d
}

func ctxFor(t testing.TB, d time.Duration) context.Context { return drivertest.Ctx(t, d) }

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	drivertest.WantCode(t, err, code, "samsungmdc: ")
}

// eventually polls cond until it holds or 3 s pass.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	drivertest.Eventually(t, 3*time.Second, what, cond)
}

func TestRegistered(t *testing.T) {
	info, ok := drivers.Lookup("samsungmdc")
	if !ok {
		t.Fatal("samsungmdc is not registered")
	}
	wantOpts := []string{"id", "baud", "data_bits", "parity", "stop_bits"}
	if info.DefaultPort != 1515 || !reflect.DeepEqual(info.Options, wantOpts) || info.Description == "" {
		t.Fatalf("registration %+v", info)
	}
	// The factory must not touch the network: an address nobody answers makes a device at once.
	t0 := time.Now()
	d, err := info.New(drivers.Config{ID: "wall", Address: "192.0.2.1", Options: map[string]string{"id": "3"}})
	if err != nil {
		t.Fatal(err)
	}
	if time.Since(t0) > 100*time.Millisecond {
		t.Fatalf("factory took %v", time.Since(t0))
	}
	d.Close()
	if got, want := drivers.Actions(d), []string{"gain", "input", "mute", "power", "refresh"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("actions %v, want %v", got, want)
	}
	for _, ok := range []drivers.Config{
		{ID: "a", Address: "serial:/dev/ttyUSB0", Options: map[string]string{"baud": "19200", "id": "0xfe"}},
		{ID: "a", Address: "/dev/ttyS0"},
		{ID: "a", Address: "tcp://10.0.0.9:1516"},
	} {
		if _, err := info.New(ok); err != nil {
			t.Errorf("%+v: %v", ok, err)
		}
	}
	for _, bad := range []drivers.Config{
		{ID: "a", Address: "10.0.0.1", Options: map[string]string{"password": "x"}},
		{ID: "a", Address: "10.0.0.1", Options: map[string]string{"id": "255"}},
		{ID: "a", Address: "10.0.0.1", Options: map[string]string{"baud": "fast"}},
		{ID: "a", Address: "udp://10.0.0.1:1515"},
		{ID: "a", Address: "http://10.0.0.1"},
		{ID: "a"},
	} {
		_, err := info.New(bad)
		if drivers.Code(err) != "bad_args" || !strings.HasPrefix(err.Error(), "samsungmdc: ") {
			t.Errorf("%+v: %v, want a samsungmdc bad_args error", bad, err)
		}
	}
}

func TestFactoryTalksToSim(t *testing.T) {
	for _, link := range links {
		t.Run(link, func(t *testing.T) {
			sim := mdcsim.New(mdcsim.Config{ID: 7, On: true, Volume: 40})
			defer sim.Close()
			var addr string
			var err error
			if link == "serial" {
				addr, err = sim.ListenPTY()
			} else {
				addr, err = sim.Listen("127.0.0.1:0")
			}
			if err != nil {
				t.Fatal(err)
			}
			info, _ := drivers.Lookup("samsungmdc")
			d, err := info.New(drivers.Config{ID: "disp", Address: addr, Options: map[string]string{"id": "7", "baud": "115200"}})
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			st, err := d.Poll(ctxFor(t, 2*time.Second))
			if err != nil || st["power"] != "on" || st["volume"] != 40 {
				t.Fatalf("Poll = %v, %v", st, err)
			}
		})
	}
}

func TestActions(t *testing.T) {
	for _, link := range links {
		t.Run(link, func(t *testing.T) {
			sim, d := rig(t, link, mdcsim.Config{ID: 1, Inputs: []byte{0x14, 0x21, 0x23, 0x25, 0x31}}, samsungmdc.Options{ID: 1})
			ctx := ctxFor(t, 5*time.Second)

			if err := d.SetPower(ctx, true); err != nil || !sim.State().On {
				t.Fatalf("SetPower(true): %v, %+v", err, sim.State())
			}
			for _, c := range []struct {
				source string
				code   byte
			}{{"hdmi2", 0x23}, {"DP", 0x25}, {"pc", 0x14}, {"0x31", 0x31}, {"hdmi1", 0x21}} {
				if err := d.SetInput(ctx, c.source); err != nil {
					t.Fatalf("SetInput(%q): %v", c.source, err)
				}
				if got := sim.State().Input; got != c.code {
					t.Fatalf("SetInput(%q): display on %02X, want %02X", c.source, got, c.code)
				}
			}
			if err := d.SetGain(ctx, "", -35); err != nil || sim.State().Volume != 65 {
				t.Fatalf("SetGain(-35): %v, %+v", err, sim.State())
			}
			if err := d.SetVolume(ctx, 12); err != nil || sim.State().Volume != 12 {
				t.Fatalf("SetVolume(12): %v, %+v", err, sim.State())
			}
			if err := d.SetMute(ctx, "", true); err != nil || !sim.State().Mute {
				t.Fatalf("SetMute(true): %v, %+v", err, sim.State())
			}
			st, err := d.Poll(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if want := drivers.State(golden.Status("on", 12, true, "hdmi1", "0x10")); !reflect.DeepEqual(st, want) {
				t.Fatalf("Poll =\n%#v\nwant\n%#v", st, want)
			}
			if err := d.SetMute(ctx, "", false); err != nil || sim.State().Mute {
				t.Fatalf("SetMute(false): %v, %+v", err, sim.State())
			}
			if err := d.SetPower(ctx, false); err != nil || sim.State().On {
				t.Fatalf("SetPower(false): %v, %+v", err, sim.State())
			}
			if n := sim.Connections(); n != 1 {
				t.Fatalf("%d connections, want 1 reused", n)
			}
		})
	}
}

func TestBadArgumentsAreNotSent(t *testing.T) {
	sim, d := rig(t, "tcp", mdcsim.Config{ID: 1, On: true}, samsungmdc.Options{ID: 1})
	ctx := ctxFor(t, 2*time.Second)
	for _, err := range []error{
		d.SetInput(ctx, "hdmi9"), d.SetInput(ctx, "hdmi1-pc"), d.SetInput(ctx, ""),
		d.SetMute(ctx, "left", true), d.SetGain(ctx, "left", -10), d.SetGain(ctx, "", 3),
		d.SetVolume(ctx, 101), d.SetVolume(ctx, -1),
	} {
		wantCode(t, err, "bad_args")
	}
	if n := sim.Commands(); n != 0 {
		t.Fatalf("%d frames reached the display", n)
	}
}

func TestNAKs(t *testing.T) {
	for _, link := range links {
		t.Run(link, func(t *testing.T) {
			sim, d := rig(t, link, mdcsim.Config{ID: 1, Inputs: []byte{0x21}}, samsungmdc.Options{ID: 1})
			ctx := ctxFor(t, 5*time.Second)

			err := d.SetInput(ctx, "hdmi1") // in standby: NAK 0x03
			wantCode(t, err, "device_error")
			var ne *samsungmdc.NakError
			if !errors.As(err, &ne) || ne.Cmd != 0x14 || ne.Code != 0x03 {
				t.Fatalf("error %v, want a NAK of 0x14 with code 0x03", err)
			}
			if got, want := err.Error(), "samsungmdc: input hdmi1: display refused command 0x14 (NAK, error code 0x03): device error"; got != want {
				t.Fatalf("error %q, want %q", got, want)
			}
			if err := d.SetPower(ctx, true); err != nil {
				t.Fatal(err)
			}
			wantCode(t, d.SetInput(ctx, "dp"), "device_error") // not fitted: NAK 0x02

			sim.SetNAK(true, 0x42)
			err = d.SetPower(ctx, false)
			if !errors.As(err, &ne) || ne.Code != 0x42 {
				t.Fatalf("error %v, want a NAK with code 0x42", err)
			}
			_, err = d.Poll(ctx)
			wantCode(t, err, "device_error")
			if !strings.Contains(err.Error(), "refused the status inquiry (error code 0x42) and every get") {
				t.Fatalf("Poll error %q", err)
			}
			sim.SetNAK(false, 0)
			if _, err := d.Poll(ctx); err != nil {
				t.Fatalf("Poll after the NAKs: %v", err)
			}
			if n := sim.Connections(); n != 1 {
				t.Fatalf("%d connections: a NAK must not close the link", n)
			}
		})
	}
}

func TestPollWithoutStatusInquiry(t *testing.T) {
	_, d := rig(t, "tcp", mdcsim.Config{ID: 2, On: true, Volume: 33, Input: 0x23, NoStatus: true}, samsungmdc.Options{ID: 2})
	st, err := d.Poll(ctxFor(t, 2*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	want := drivers.State{"power": "on", "volume": 33, "gain_db": -67.0, "mute": false, "input": "hdmi2"}
	if !reflect.DeepEqual(st, want) {
		t.Fatalf("Poll = %#v, want %#v", st, want)
	}
}

func TestBroadcast(t *testing.T) {
	for _, link := range links {
		t.Run(link, func(t *testing.T) {
			sim, d := rig(t, link, mdcsim.Config{ID: 1}, samsungmdc.Options{ID: samsungmdc.Broadcast, Timeout: time.Second})
			ctx := ctxFor(t, 5*time.Second)
			st, err := d.Poll(ctx)
			if err != nil || !reflect.DeepEqual(st, drivers.State{"broadcast": true}) {
				t.Fatalf("Poll = %v, %v", st, err)
			}
			if err := d.SetPower(ctx, true); err != nil {
				t.Fatal(err)
			}
			eventually(t, "the display to obey", func() bool { return sim.State().On })
			if err := d.SetGain(ctx, "", -60); err != nil {
				t.Fatal(err)
			}
			if err := d.SetInput(ctx, "hdmi2"); err != nil {
				t.Fatal(err)
			}
			eventually(t, "the display to obey", func() bool { return sim.State().Volume == 40 && sim.State().Input == 0x23 })
			st, err = d.Poll(ctx)
			want := drivers.State{"broadcast": true, "power": "on", "volume": 40, "gain_db": -60.0, "input": "hdmi2"}
			if err != nil || !reflect.DeepEqual(st, want) {
				t.Fatalf("Poll = %v, %v; want %v", st, err, want)
			}
		})
	}
}

func TestAnswerFromAnotherID(t *testing.T) {
	// A display ignores frames for another ID: the driver hears nothing.
	_, d := rig(t, "tcp", mdcsim.Config{ID: 1, On: true}, samsungmdc.Options{ID: 2, Timeout: 100 * time.Millisecond})
	_, err := d.Poll(context.Background())
	wantCode(t, err, "timeout")
}

func TestMisbehaviour(t *testing.T) {
	for _, link := range links {
		t.Run(link, func(t *testing.T) {
			serial := link == "serial"
			t.Run("slow within the deadline", func(t *testing.T) {
				sim, d := rig(t, link, mdcsim.Config{ID: 1, On: true}, samsungmdc.Options{ID: 1})
				sim.SetMode(mdcsim.Slow)
				sim.SetDelay(20 * time.Millisecond)
				if _, err := d.Poll(ctxFor(t, 2*time.Second)); err != nil {
					t.Fatal(err)
				}
			})
			t.Run("slow beyond the deadline", func(t *testing.T) {
				sim, d := rig(t, link, mdcsim.Config{ID: 1, On: true}, samsungmdc.Options{ID: 1})
				sim.SetMode(mdcsim.Slow)
				sim.SetDelay(300 * time.Millisecond)
				t0 := time.Now()
				err := d.SetPower(ctxFor(t, 100*time.Millisecond), false)
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
				sim.SetMode(mdcsim.Normal)
				// The late answer reaches a closed connection, or waits on the serial line
				// until the driver opens it again and discards it.
				time.Sleep(400 * time.Millisecond)
				st, err := d.Poll(ctxFor(t, 2*time.Second))
				if err != nil || st["power"] != "off" {
					t.Fatalf("after the timeout: %v, %v", st, err)
				}
			})
			t.Run("silent with a context deadline", func(t *testing.T) {
				sim, d := rig(t, link, mdcsim.Config{ID: 1}, samsungmdc.Options{ID: 1})
				sim.SetMode(mdcsim.Silent)
				_, err := d.Poll(ctxFor(t, 100*time.Millisecond))
				wantCode(t, err, "timeout")
			})
			t.Run("silent with the default timeout", func(t *testing.T) {
				sim, d := rig(t, link, mdcsim.Config{ID: 1}, samsungmdc.Options{ID: 1, Timeout: 80 * time.Millisecond})
				sim.SetMode(mdcsim.Silent)
				t0 := time.Now()
				_, err := d.Command(context.Background(), samsungmdc.CmdPower)
				wantCode(t, err, "timeout")
				if !strings.Contains(err.Error(), "no answer within 80ms") {
					t.Fatalf("error %q", err)
				}
				if d := time.Since(t0); d > time.Second {
					t.Fatalf("returned after %v", d)
				}
			})
			t.Run("cancelled", func(t *testing.T) {
				sim, d := rig(t, link, mdcsim.Config{ID: 1}, samsungmdc.Options{ID: 1})
				sim.SetMode(mdcsim.Silent)
				ctx, cancel := context.WithCancel(context.Background())
				time.AfterFunc(50*time.Millisecond, cancel)
				t0 := time.Now()
				_, err := d.Command(ctx, samsungmdc.CmdPower)
				if !errors.Is(err, context.Canceled) {
					t.Fatalf("error %v, want context.Canceled", err)
				}
				if d := time.Since(t0); d > time.Second {
					t.Fatalf("returned after %v", d)
				}
				sim.SetMode(mdcsim.Normal)
				if _, err := d.Poll(ctxFor(t, 2*time.Second)); err != nil {
					t.Fatalf("after the cancel: %v", err)
				}
			})
			t.Run("garbage", func(t *testing.T) {
				sim, d := rig(t, link, mdcsim.Config{ID: 1, On: true}, samsungmdc.Options{ID: 1})
				sim.SetMode(mdcsim.Garbage)
				err := d.SetPower(ctxFor(t, 2*time.Second), true)
				wantCode(t, err, "device_error")
				if !strings.Contains(err.Error(), "garbled answer") {
					t.Fatalf("error %q does not say garbled answer", err)
				}
				_, err = d.Poll(ctxFor(t, 2*time.Second))
				wantCode(t, err, "device_error")
				sim.SetMode(mdcsim.Normal)
				if _, err := d.Poll(ctxFor(t, 2*time.Second)); err != nil {
					t.Fatalf("after garbage: %v", err)
				}
				if n := sim.Connections(); !serial && n != 3 {
					t.Fatalf("%d connections: want a new one after each garbled answer", n)
				}
			})
			t.Run("drop every frame", func(t *testing.T) {
				sim, d := rig(t, link, mdcsim.Config{ID: 1}, samsungmdc.Options{ID: 1, Timeout: 200 * time.Millisecond})
				sim.SetMode(mdcsim.Drop)
				_, err := d.Poll(ctxFor(t, 2*time.Second))
				if serial {
					wantCode(t, err, "timeout") // the answer is cut short
					return
				}
				wantCode(t, err, "unreachable")
				if n := sim.Connections(); n != 2 {
					t.Fatalf("%d connections, want 2 (one retry)", n)
				}
			})
			t.Run("drop once on a used link", func(t *testing.T) {
				sim, d := rig(t, link, mdcsim.Config{ID: 1, On: true}, samsungmdc.Options{ID: 1, Timeout: 200 * time.Millisecond})
				ctx := ctxFor(t, 2*time.Second)
				if _, err := d.Command(ctx, samsungmdc.CmdPower); err != nil {
					t.Fatal(err)
				}
				sim.SetMode(mdcsim.DropOnce)
				err := d.SetMute(ctx, "", true)
				if serial {
					wantCode(t, err, "timeout")
					if err := d.SetMute(ctx, "", true); err != nil {
						t.Fatalf("after a cut answer: %v", err)
					}
				} else if err != nil {
					t.Fatalf("after a dropped connection: %v", err)
				}
				if !sim.State().Mute {
					t.Fatalf("state %+v", sim.State())
				}
				if n := sim.Connections(); !serial && n != 2 {
					t.Fatalf("%d connections, want 2", n)
				}
			})
		})
	}
}

func TestReconnectAfterDisplayClosesConnection(t *testing.T) {
	sim, d := rig(t, "tcp", mdcsim.Config{ID: 1, On: true}, samsungmdc.Options{ID: 1})
	ctx := ctxFor(t, 5*time.Second)
	if _, err := d.Poll(ctx); err != nil {
		t.Fatal(err)
	}
	sim.DropConnections()
	eventually(t, "the connection to close", func() bool { return sim.OpenConnections() == 0 })
	if err := d.SetPower(ctx, false); err != nil {
		t.Fatalf("after the display closed the connection: %v", err)
	}
	if n := sim.Connections(); n != 2 {
		t.Fatalf("%d connections, want 2", n)
	}
}

func TestSimulatorGone(t *testing.T) {
	for _, link := range links {
		t.Run(link, func(t *testing.T) {
			sim, d := rig(t, link, mdcsim.Config{ID: 1}, samsungmdc.Options{ID: 1, Timeout: 300 * time.Millisecond})
			ctx := ctxFor(t, 3*time.Second)
			if _, err := d.Poll(ctx); err != nil {
				t.Fatal(err)
			}
			sim.Close()
			_, err := d.Poll(ctx)
			if c := drivers.Code(err); c != "unreachable" && c != "timeout" {
				t.Fatalf("Poll of a gone display: %v (code %s)", err, c)
			}
			if !errors.Is(err, drivers.ErrUnreachable) {
				t.Fatalf("error %v does not wrap ErrUnreachable", err)
			}
		})
	}
}

func TestNothingListening(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	d := samsungmdc.New(samsungmdc.Dial(addr, transport.Options{}), samsungmdc.Options{})
	defer d.Close()
	_, err = d.Poll(ctxFor(t, 2*time.Second))
	wantCode(t, err, "unreachable")
	d2 := samsungmdc.New(samsungmdc.Dial("serial:/dev/nonexistent-tty", transport.Options{}), samsungmdc.Options{})
	defer d2.Close()
	_, err = d2.Poll(ctxFor(t, 2*time.Second))
	wantCode(t, err, "unreachable")
}

func TestClose(t *testing.T) {
	sim, d := rig(t, "tcp", mdcsim.Config{ID: 0}, samsungmdc.Options{})
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
		t.Fatalf("dialled after Close")
	}
	if err := d.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

func TestConcurrentUse(t *testing.T) {
	for _, link := range links {
		t.Run(link, func(t *testing.T) {
			_, d := rig(t, link, mdcsim.Config{ID: 1, On: true}, samsungmdc.Options{ID: 1})
			ctx := ctxFor(t, 10*time.Second)
			var wg sync.WaitGroup
			for i := 0; i < 4; i++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for j := 0; j < 5; j++ {
						if _, err := d.Poll(ctx); err != nil {
							t.Error(err)
							return
						}
						if err := d.SetMute(ctx, "", j%2 == 0); err != nil {
							t.Error(err)
							return
						}
					}
				}()
			}
			wg.Wait()
		})
	}
}

// TestOverPipe runs the driver against the simulator with no socket at all.
func TestOverPipe(t *testing.T) {
	sim := mdcsim.New(mdcsim.Config{ID: 4, On: true, Volume: 9})
	defer sim.Close()
	d := samsungmdc.New(func(context.Context) (net.Conn, error) {
		a, b := net.Pipe()
		go sim.ServeConn(b)
		return a, nil
	}, samsungmdc.Options{ID: 4})
	defer d.Close()
	st, err := d.Poll(ctxFor(t, 2*time.Second))
	if err != nil || st["volume"] != 9 {
		t.Fatalf("Poll = %v, %v", st, err)
	}
}

// BenchmarkCommand is one command round trip (a power query) against the simulator over TCP
// on loopback.
func BenchmarkCommand(b *testing.B) {
	_, d := rig(b, "tcp", mdcsim.Config{ID: 1, On: true}, samsungmdc.Options{ID: 1})
	ctx := context.Background()
	if _, err := d.Command(ctx, samsungmdc.CmdPower); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := d.Command(ctx, samsungmdc.CmdPower); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCommandSerial is the same round trip over a pty pair.
func BenchmarkCommandSerial(b *testing.B) {
	_, d := rig(b, "serial", mdcsim.Config{ID: 1, On: true}, samsungmdc.Options{ID: 1})
	ctx := context.Background()
	if _, err := d.Command(ctx, samsungmdc.CmdPower); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := d.Command(ctx, samsungmdc.CmdPower); err != nil {
			b.Fatal(err)
		}
	}
}
