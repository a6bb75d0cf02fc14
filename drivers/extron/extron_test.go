package extron_test

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
	"github.com/bailiff/bailiff/drivers/extron"
	"github.com/bailiff/bailiff/drivers/extron/extronsim"
	"github.com/bailiff/bailiff/drivers/internal/drivertest"
	"github.com/bailiff/bailiff/drivers/transport"
	"github.com/bailiff/bailiff/internal/wire"
)

// links are the two ways to reach a switcher.
var links = []string{"tcp", "serial"}

// rig starts a simulator, over TCP on loopback or over a pty pair, and a Switcher for it.
func rig(t testing.TB, link string, cfg extronsim.Config, opts extron.Options) (*extronsim.Sim, *extron.Switcher) {
	t.Helper()
	sim := extronsim.New(cfg)
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
	s := extron.New(extron.Dial(addr, transport.Options{}), opts)
	t.Cleanup(func() {
		s.Close()
		sim.Close()
	})
	return sim, s
}

func ctxFor(t testing.TB, d time.Duration) context.Context { return drivertest.Ctx(t, d) }

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	drivertest.WantCode(t, err, code, "extron: ")
}

// eventually polls cond until it holds or 3 s pass.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	drivertest.Eventually(t, 3*time.Second, what, cond)
}

func TestRegistered(t *testing.T) {
	info, ok := drivers.Lookup("extron")
	if !ok {
		t.Fatal("extron is not registered")
	}
	wantOpts := []string{"password", "inputs", "outputs", "baud", "data_bits", "parity", "stop_bits"}
	if info.DefaultPort != 23 || !reflect.DeepEqual(info.Options, wantOpts) || info.Description == "" {
		t.Fatalf("registration %+v", info)
	}
	t0 := time.Now()
	d, err := info.New(drivers.Config{ID: "matrix", Address: "192.0.2.1", Options: map[string]string{"password": "pw", "outputs": "8"}})
	if err != nil {
		t.Fatal(err)
	}
	if time.Since(t0) > 100*time.Millisecond {
		t.Fatalf("factory took %v", time.Since(t0))
	}
	d.Close()
	if got, want := drivers.Actions(d), []string{"refresh", "route"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("actions %v, want %v", got, want)
	}
	for _, ok := range []drivers.Config{
		{ID: "a", Address: "serial:/dev/ttyUSB0", Options: map[string]string{"baud": "38400", "inputs": "12"}},
		{ID: "a", Address: "tcp://10.0.0.9:2323"},
	} {
		if _, err := info.New(ok); err != nil {
			t.Errorf("%+v: %v", ok, err)
		}
	}
	for _, bad := range []drivers.Config{
		{ID: "a", Address: "10.0.0.1", Options: map[string]string{"id": "1"}},
		{ID: "a", Address: "10.0.0.1", Options: map[string]string{"outputs": "0"}},
		{ID: "a", Address: "10.0.0.1", Options: map[string]string{"inputs": "many"}},
		{ID: "a", Address: "10.0.0.1", Options: map[string]string{"parity": "mark"}},
		{ID: "a", Address: "udp://10.0.0.1:23"},
		{ID: "a"},
	} {
		_, err := info.New(bad)
		if drivers.Code(err) != "bad_args" || !strings.HasPrefix(err.Error(), "extron: ") {
			t.Errorf("%+v: %v, want an extron bad_args error", bad, err)
		}
	}
}

func TestFactoryTalksToSim(t *testing.T) {
	for _, link := range links {
		t.Run(link, func(t *testing.T) {
			sim := extronsim.New(extronsim.Config{Password: "s3cret", Video: []int{2}})
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
			info, _ := drivers.Lookup("extron")
			d, err := info.New(drivers.Config{ID: "matrix", Address: addr, Options: map[string]string{"password": "s3cret", "baud": "19200"}})
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			st, err := d.Poll(ctxFor(t, 3*time.Second))
			if err != nil || st["video"].(map[string]int)["1"] != 2 {
				t.Fatalf("Poll = %v, %v", st, err)
			}
			if err := drivers.Do(ctxFor(t, 2*time.Second), d, "route", &routeArgs); err != nil {
				t.Fatal(err)
			}
			if v := sim.State().Video; v[1] != 3 {
				t.Fatalf("ties %v after route 3 → 2", v)
			}
		})
	}
}

func TestRoutesAndPoll(t *testing.T) {
	for _, link := range links {
		t.Run(link, func(t *testing.T) {
			sim, s := rig(t, link, extronsim.Config{Inputs: 8, Outputs: 4}, extron.Options{})
			ctx := ctxFor(t, 5*time.Second)
			for _, r := range [][3]string{{"1", "3", "av"}, {"7", "4", "video"}, {"2", "4", "audio"}, {"5", "1", ""}, {"6", "2", "av"}, {"0", "2", "audio"}} {
				if err := s.Route(ctx, r[0], r[1], r[2]); err != nil {
					t.Fatalf("Route(%v): %v", r, err)
				}
			}
			st := sim.State()
			if !reflect.DeepEqual(st.Video, []int{5, 6, 1, 7}) || !reflect.DeepEqual(st.Audio, []int{5, 0, 1, 2}) {
				t.Fatalf("ties video %v audio %v", st.Video, st.Audio)
			}
			got, err := s.Poll(ctx)
			if err != nil {
				t.Fatal(err)
			}
			want := drivers.State{
				"inputs": 8, "outputs": 4, "part_number": "60-1234-01", "firmware": "1.23",
				"video": map[string]int{"1": 5, "2": 6, "3": 1, "4": 7},
				"audio": map[string]int{"1": 5, "2": 0, "3": 1, "4": 2},
			}
			if link == "tcp" {
				want["model"] = "CrossPoint Sim"
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("Poll =\n%#v\nwant\n%#v", got, want)
			}
			if err := s.Route(ctx, "3", "all", "video"); err != nil {
				t.Fatal(err)
			}
			if v := sim.State().Video; !reflect.DeepEqual(v, []int{3, 3, 3, 3}) {
				t.Fatalf("video ties %v after 3 to all", v)
			}
			if in, err := s.Tied(ctx, 2, extron.Audio); err != nil || in != 0 {
				t.Fatalf("Tied(2, audio) = %d, %v", in, err)
			}
			if a, err := s.Command(ctx, "I"); err != nil || a != "V8X4 A8X4" {
				t.Fatalf("Command(I) = %q, %v", a, err)
			}
			if n := sim.Connections(); n != 1 {
				t.Fatalf("%d connections, want 1 reused", n)
			}
		})
	}
}

func TestBadArgumentsAreNotSent(t *testing.T) {
	sim, s := rig(t, "tcp", extronsim.Config{Inputs: 8, Outputs: 4}, extron.Options{})
	ctx := ctxFor(t, 3*time.Second)
	for _, r := range [][3]string{{"x", "1", "av"}, {"1", "0", "av"}, {"1", "2", "rgb"}, {"-1", "2", "av"}, {"1", "", "av"}} {
		wantCode(t, s.Route(ctx, r[0], r[1], r[2]), "bad_args")
	}
	_, err := s.Command(ctx, "")
	wantCode(t, err, "bad_args")
	_, err = s.Command(ctx, "1*1!\r\n")
	wantCode(t, err, "bad_args")
	_, err = s.Tied(ctx, 0, extron.Video)
	wantCode(t, err, "bad_args")
	if n := sim.Commands(); n != 0 {
		t.Fatalf("%d commands reached the switcher", n)
	}
	// Out of range: the switcher says so (E01, E12) until the driver knows the size.
	wantCode(t, s.Route(ctx, "9", "1", "av"), "bad_args")
	wantCode(t, s.Route(ctx, "1", "5", "av"), "bad_args")
	if n := sim.Commands(); n != 2 {
		t.Fatalf("%d commands, want 2", n)
	}
	if _, err := s.Poll(ctx); err != nil {
		t.Fatal(err)
	}
	before := sim.Commands()
	err = s.Route(ctx, "9", "1", "av")
	wantCode(t, err, "bad_args")
	if !strings.Contains(err.Error(), "the switcher has 8 inputs") {
		t.Fatalf("error %q", err)
	}
	wantCode(t, s.Route(ctx, "1", "5", "audio"), "bad_args")
	if sim.Commands() != before {
		t.Fatalf("out-of-range routes reached the switcher once its size was known")
	}
	// Options set the size from the start.
	sim2, s2 := rig(t, "tcp", extronsim.Config{Inputs: 8, Outputs: 4}, extron.Options{Inputs: 4, Outputs: 2})
	wantCode(t, s2.Route(ctx, "5", "1", "av"), "bad_args")
	wantCode(t, s2.Route(ctx, "1", "3", "av"), "bad_args")
	if sim2.Commands() != 0 {
		t.Fatal("routes outside the configured size were sent")
	}
}

func TestErrorCodes(t *testing.T) {
	for _, link := range links {
		t.Run(link, func(t *testing.T) {
			sim, s := rig(t, link, extronsim.Config{NoAudio: true}, extron.Options{})
			ctx := ctxFor(t, 5*time.Second)

			err := s.Route(ctx, "1", "1", "audio")
			wantCode(t, err, "unsupported")
			var se *extron.SISError
			if !errors.As(err, &se) || se.Code != "E14" {
				t.Fatalf("error %v, want E14", err)
			}
			if got, want := err.Error(), "extron: route input 1 to output 1 (audio): switcher error E14 (invalid for this configuration): unsupported"; got != want {
				t.Fatalf("error %q, want %q", got, want)
			}
			for code, want := range map[string]string{"E22": "busy", "E13": "bad_args", "E24": "device_error", "E10": "unsupported", "E01": "bad_args"} {
				if err := sim.SetError(code); err != nil {
					t.Fatal(err)
				}
				wantCode(t, s.Route(ctx, "1", "1", "video"), want)
			}
			sim.SetError("E22")
			_, err = s.Poll(ctx)
			if !errors.As(err, &se) && drivers.Code(err) != "device_error" {
				t.Fatalf("Poll of a busy switcher: %v", err)
			}
			sim.SetError("")
			st, err := s.Poll(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if _, ok := st["audio"]; ok {
				t.Fatalf("audio reported by a video-only switcher: %v", st)
			}
			if n := sim.Connections(); n != 1 {
				t.Fatalf("%d connections: an E-code must not close the link", n)
			}
		})
	}
}

func TestPassword(t *testing.T) {
	const pw = "s3cret"
	t.Run("right password", func(t *testing.T) {
		sim, s := rig(t, "tcp", extronsim.Config{Password: pw}, extron.Options{Password: pw})
		ctx := ctxFor(t, 5*time.Second)
		for i := 0; i < 3; i++ {
			if _, err := s.Poll(ctx); err != nil {
				t.Fatalf("Poll %d: %v", i, err)
			}
		}
		sim.DropConnections()
		if err := s.Route(ctx, "2", "1", "av"); err != nil {
			t.Fatalf("after reconnect: %v", err)
		}
		if n := sim.Connections(); n != 2 {
			t.Fatalf("%d connections, want 2", n)
		}
	})
	for name, given := range map[string]string{"wrong password": "not-it", "no password": ""} {
		t.Run(name, func(t *testing.T) {
			sim, s := rig(t, "tcp", extronsim.Config{Password: pw}, extron.Options{Password: given})
			err := s.Route(ctxFor(t, 3*time.Second), "1", "1", "av")
			wantCode(t, err, "device_error")
			if !errors.Is(err, extron.ErrAuth) || errors.Is(err, drivers.ErrUnreachable) {
				t.Fatalf("error %v: want ErrAuth", err)
			}
			if msg := err.Error(); strings.Contains(msg, pw) || (given != "" && strings.Contains(msg, given)) {
				t.Fatalf("error %q shows a password", msg)
			}
			if sim.State().Video[0] != 0 || sim.Commands() != 0 {
				t.Fatal("a command ran without logging in")
			}
			if n := sim.Connections(); n != 1 {
				t.Fatalf("%d connections: a refused password must not be retried", n)
			}
		})
	}
	t.Run("serial asks for none", func(t *testing.T) {
		_, s := rig(t, "serial", extronsim.Config{Password: pw}, extron.Options{Password: pw})
		if _, err := s.Poll(ctxFor(t, 3*time.Second)); err != nil {
			t.Fatal(err)
		}
	})
}

func TestFrontPanelMessagesAreSkipped(t *testing.T) {
	for _, link := range links {
		t.Run(link, func(t *testing.T) {
			sim, s := rig(t, link, extronsim.Config{}, extron.Options{})
			ctx := ctxFor(t, 5*time.Second)
			if _, err := s.Poll(ctx); err != nil {
				t.Fatal(err)
			}
			if err := sim.FrontPanelTie(4, 2, '!'); err != nil {
				t.Fatal(err)
			}
			if err := sim.FrontPanelTie(3, 0, '$'); err != nil {
				t.Fatal(err)
			}
			st, err := s.Poll(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if st["video"].(map[string]int)["2"] != 4 || st["audio"].(map[string]int)["2"] != 3 {
				t.Fatalf("Poll after front-panel ties = %v", st)
			}
		})
	}
}

func TestLargeMatrixPollsInBatches(t *testing.T) {
	sim, s := rig(t, "tcp", extronsim.Config{Inputs: 32, Outputs: 40, Digits: 3, Video: []int{32}}, extron.Options{})
	st, err := s.Poll(ctxFor(t, 5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if len(st["video"].(map[string]int)) != 40 || len(st["audio"].(map[string]int)) != 40 || st["video"].(map[string]int)["1"] != 32 {
		t.Fatalf("Poll = %v", st)
	}
	if n := sim.Commands(); n != 3+80 {
		t.Fatalf("%d commands, want 83", n)
	}
}

func TestMisbehaviour(t *testing.T) {
	for _, link := range links {
		t.Run(link, func(t *testing.T) {
			serial := link == "serial"
			t.Run("slow within the deadline", func(t *testing.T) {
				sim, s := rig(t, link, extronsim.Config{}, extron.Options{})
				sim.SetMode(extronsim.Slow)
				sim.SetDelay(5 * time.Millisecond)
				if _, err := s.Poll(ctxFor(t, 3*time.Second)); err != nil {
					t.Fatal(err)
				}
			})
			t.Run("slow beyond the deadline", func(t *testing.T) {
				sim, s := rig(t, link, extronsim.Config{}, extron.Options{})
				sim.SetMode(extronsim.Slow)
				sim.SetDelay(300 * time.Millisecond)
				t0 := time.Now()
				err := s.Route(ctxFor(t, 100*time.Millisecond), "1", "1", "av")
				wantCode(t, err, "timeout")
				if !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, drivers.ErrUnreachable) {
					t.Fatalf("error %v: want context.DeadlineExceeded and ErrUnreachable", err)
				}
				if d := time.Since(t0); d > time.Second {
					t.Fatalf("returned after %v", d)
				}
				if n := sim.Connections(); n != 1 {
					t.Fatalf("%d connections: a timeout must not be retried", n)
				}
				sim.SetMode(extronsim.Normal)
				time.Sleep(400 * time.Millisecond) // the late answer arrives, and is dropped
				in, err := s.Tied(ctxFor(t, 2*time.Second), 1, extron.Video)
				if err != nil || in != 1 {
					t.Fatalf("after the timeout: %d, %v", in, err)
				}
			})
			t.Run("silent with a context deadline", func(t *testing.T) {
				sim, s := rig(t, link, extronsim.Config{}, extron.Options{})
				sim.SetMode(extronsim.Silent)
				_, err := s.Poll(ctxFor(t, 100*time.Millisecond))
				wantCode(t, err, "timeout")
			})
			t.Run("silent with the default timeout", func(t *testing.T) {
				sim, s := rig(t, link, extronsim.Config{}, extron.Options{Timeout: 80 * time.Millisecond})
				sim.SetMode(extronsim.Silent)
				_, err := s.Command(context.Background(), "I")
				wantCode(t, err, "timeout")
				if !strings.Contains(err.Error(), "no answer within 80ms") {
					t.Fatalf("error %q", err)
				}
			})
			t.Run("cancelled", func(t *testing.T) {
				sim, s := rig(t, link, extronsim.Config{}, extron.Options{})
				sim.SetMode(extronsim.Silent)
				ctx, cancel := context.WithCancel(context.Background())
				time.AfterFunc(50*time.Millisecond, cancel)
				t0 := time.Now()
				_, err := s.Command(ctx, "I")
				if !errors.Is(err, context.Canceled) {
					t.Fatalf("error %v, want context.Canceled", err)
				}
				if d := time.Since(t0); d > time.Second {
					t.Fatalf("returned after %v", d)
				}
				sim.SetMode(extronsim.Normal)
				if _, err := s.Poll(ctxFor(t, 3*time.Second)); err != nil {
					t.Fatalf("after the cancel: %v", err)
				}
			})
			t.Run("garbage", func(t *testing.T) {
				sim, s := rig(t, link, extronsim.Config{}, extron.Options{})
				sim.SetMode(extronsim.Garbage)
				err := s.Route(ctxFor(t, 2*time.Second), "1", "1", "av")
				wantCode(t, err, "device_error")
				if !strings.Contains(err.Error(), "garbled answer") {
					t.Fatalf("error %q does not say garbled answer", err)
				}
				_, err = s.Poll(ctxFor(t, 2*time.Second))
				wantCode(t, err, "device_error")
				sim.SetMode(extronsim.Normal)
				if _, err := s.Poll(ctxFor(t, 3*time.Second)); err != nil {
					t.Fatalf("after garbage: %v", err)
				}
				if n := sim.Connections(); !serial && n != 3 {
					t.Fatalf("%d connections: want a new one after each garbled answer", n)
				}
			})
			t.Run("drop every command", func(t *testing.T) {
				sim, s := rig(t, link, extronsim.Config{}, extron.Options{Timeout: 200 * time.Millisecond})
				sim.SetMode(extronsim.Drop)
				err := s.Route(ctxFor(t, 2*time.Second), "1", "1", "av")
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
				sim, s := rig(t, link, extronsim.Config{}, extron.Options{Timeout: 200 * time.Millisecond})
				ctx := ctxFor(t, 3*time.Second)
				if _, err := s.Tied(ctx, 1, extron.Video); err != nil {
					t.Fatal(err)
				}
				sim.SetMode(extronsim.DropOnce)
				err := s.Route(ctx, "3", "2", "video")
				if serial {
					wantCode(t, err, "timeout")
					if err := s.Route(ctx, "3", "2", "video"); err != nil {
						t.Fatalf("after a cut answer: %v", err)
					}
				} else if err != nil {
					t.Fatalf("after a dropped connection: %v", err)
				}
				if v := sim.State().Video; v[1] != 3 {
					t.Fatalf("ties %v", v)
				}
			})
		})
	}
}

func TestSimulatorGone(t *testing.T) {
	for _, link := range links {
		t.Run(link, func(t *testing.T) {
			sim, s := rig(t, link, extronsim.Config{}, extron.Options{Timeout: 300 * time.Millisecond})
			ctx := ctxFor(t, 3*time.Second)
			if _, err := s.Poll(ctx); err != nil {
				t.Fatal(err)
			}
			sim.Close()
			err := s.Route(ctx, "1", "1", "av")
			if c := drivers.Code(err); c != "unreachable" && c != "timeout" {
				t.Fatalf("Route to a gone switcher: %v (code %s)", err, c)
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
	s := extron.New(extron.Dial(addr, transport.Options{}), extron.Options{})
	defer s.Close()
	_, err = s.Poll(ctxFor(t, 2*time.Second))
	wantCode(t, err, "unreachable")
}

func TestClose(t *testing.T) {
	sim, s := rig(t, "tcp", extronsim.Config{}, extron.Options{})
	ctx := ctxFor(t, 3*time.Second)
	if _, err := s.Poll(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the connection to close", func() bool { return sim.OpenConnections() == 0 })
	wantCode(t, s.Route(ctx, "1", "1", "av"), "unreachable")
	if n := sim.Connections(); n != 1 {
		t.Fatalf("dialled after Close")
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

func TestConcurrentUse(t *testing.T) {
	for _, link := range links {
		t.Run(link, func(t *testing.T) {
			_, s := rig(t, link, extronsim.Config{}, extron.Options{})
			ctx := ctxFor(t, 10*time.Second)
			var wg sync.WaitGroup
			for i := 0; i < 4; i++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for j := 1; j <= 4; j++ {
						if _, err := s.Poll(ctx); err != nil {
							t.Error(err)
							return
						}
						if err := s.Route(ctx, "2", "4", "av"); err != nil {
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
	sim := extronsim.New(extronsim.Config{Password: "pw", Video: []int{0, 5}})
	defer sim.Close()
	s := extron.New(func(context.Context) (net.Conn, error) {
		a, b := net.Pipe()
		go sim.ServeConn(b)
		return a, nil
	}, extron.Options{Password: "pw"})
	defer s.Close()
	in, err := s.Tied(ctxFor(t, 3*time.Second), 2, extron.Video)
	if err != nil || in != 5 {
		t.Fatalf("Tied = %d, %v", in, err)
	}
}

// routeArgs is a route action as the agent hands it over: kind left out means av.
var routeArgs = wire.RouteArgs{Input: "3", Output: "2"}

// BenchmarkCommand is one command round trip (a tie, answered "Out02 In03 All") against the
// simulator over TCP on loopback.
func BenchmarkCommand(b *testing.B) {
	_, s := rig(b, "tcp", extronsim.Config{}, extron.Options{})
	ctx := context.Background()
	if err := s.Route(ctx, "3", "2", "av"); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := s.Route(ctx, "3", "2", "av"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPoll is a whole poll of an 8×4 switcher (3 + 8 queries in 2 writes) over TCP.
func BenchmarkPoll(b *testing.B) {
	_, s := rig(b, "tcp", extronsim.Config{}, extron.Options{})
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Poll(ctx); err != nil {
			b.Fatal(err)
		}
	}
}
