package visca_test

import (
	"context"
	"errors"
	"math"
	"net"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bailiff/bailiff/drivers"
	"github.com/bailiff/bailiff/drivers/internal/drivertest"
	"github.com/bailiff/bailiff/drivers/visca"
	"github.com/bailiff/bailiff/drivers/visca/viscasim"
	"github.com/bailiff/bailiff/internal/config"
)

var transports = []string{"tcp", "udp", "serial"}

// serve starts the simulator on transport tr and returns the address for the driver.
func serve(t testing.TB, s *viscasim.Sim, tr string) string {
	t.Helper()
	var addr string
	var err error
	switch tr {
	case "tcp":
		addr, err = s.ListenTCP("127.0.0.1:0")
	case "udp":
		addr, err = s.ListenUDP("127.0.0.1:0")
	case "serial":
		addr, err = s.OpenSerial()
	}
	if err != nil {
		t.Fatal(err)
	}
	return addr
}

// testOptions are quick timeouts for tests.
func testOptions() visca.Options {
	return visca.Options{Timeout: time.Second, CompletionTimeout: 2 * time.Second, Retransmit: 100 * time.Millisecond}
}

// rig starts a simulator serving over tr and a Camera for it.
func rig(t testing.TB, tr string, cfg viscasim.Config, opts visca.Options) (*viscasim.Sim, *visca.Camera) {
	t.Helper()
	s := viscasim.New(cfg)
	addr := serve(t, s, tr)
	c, err := visca.New(addr, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c.Close()
		s.Close()
	})
	return s, c
}

func ctxFor(t testing.TB, d time.Duration) context.Context { return drivertest.Ctx(t, d) }

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	drivertest.WantCode(t, err, code, "visca: ")
}

// eventually polls cond until it holds or 3 s pass.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	drivertest.Eventually(t, 3*time.Second, what, cond)
}

func TestRegistered(t *testing.T) {
	info, ok := drivers.Lookup("visca")
	if !ok {
		t.Fatal("visca is not registered")
	}
	wantOpts := []string{"camera", "baud", "data_bits", "parity", "stop_bits", "max_pan_speed", "max_tilt_speed"}
	if info.DefaultPort != 1259 || !reflect.DeepEqual(info.Options, wantOpts) || info.Description == "" {
		t.Fatalf("registration %+v", info)
	}
	// The factory must not touch the network nor the port.
	for _, addr := range []string{"192.0.2.1", "udp://192.0.2.1", "tcp://192.0.2.1:5678", "serial:/dev/no-such-port", "/dev/ttyS9"} {
		t0 := time.Now()
		d, err := info.New(drivers.Config{ID: "cam", Address: addr})
		if err != nil {
			t.Fatalf("%s: %v", addr, err)
		}
		if time.Since(t0) > 50*time.Millisecond {
			t.Fatalf("%s: factory took %v", addr, time.Since(t0))
		}
		if got, want := drivers.Actions(d), []string{"power", "preset", "ptz", "refresh"}; !slices.Equal(got, want) {
			t.Fatalf("actions %v, want %v", got, want)
		}
		d.Close()
	}
	good := []map[string]string{
		{"camera": "7", "baud": "38400", "parity": "none", "stop_bits": "1", "data_bits": "8"},
		{"max_pan_speed": "0x10", "max_tilt_speed": "23"},
	}
	for i, o := range good {
		addr := "serial:/dev/ttyUSB9"
		if i == 1 {
			addr = "udp://10.0.0.7"
		}
		d, err := info.New(drivers.Config{ID: "cam", Address: addr, Options: o})
		if err != nil {
			t.Fatalf("%v: %v", o, err)
		}
		d.Close()
	}
	for _, c := range []struct {
		addr string
		opts map[string]string
		msg  string
	}{
		{"10.0.0.7", map[string]string{"user": "x"}, `unknown option "user"`},
		{"10.0.0.7", map[string]string{"camera": "2"}, "over IP the camera is always 1"},
		{"serial:/dev/ttyUSB0", map[string]string{"camera": "8"}, `option camera "8": want 1-7`},
		{"serial:/dev/ttyUSB0", map[string]string{"camera": "one"}, `option camera "one"`},
		{"10.0.0.7", map[string]string{"baud": "9600"}, "option baud applies to serial lines"},
		{"serial:/dev/ttyUSB0", map[string]string{"baud": "fast"}, "baud"},
		{"10.0.0.7", map[string]string{"max_pan_speed": "0x19"}, "max_pan_speed"},
		{"10.0.0.7", map[string]string{"max_tilt_speed": "0"}, "max_tilt_speed"},
		{"", nil, "no address"},
		{"http://10.0.0.7", nil, "unknown scheme"},
	} {
		_, err := info.New(drivers.Config{ID: "cam", Address: c.addr, Options: c.opts})
		if err == nil || drivers.Code(err) != "bad_args" || !strings.Contains(err.Error(), c.msg) || !strings.HasPrefix(err.Error(), "visca: ") {
			t.Errorf("%s %v: error %v, want bad_args %q", c.addr, c.opts, err, c.msg)
		}
	}
	// Two cameras of one line must agree on its settings.
	a, err := info.New(drivers.Config{ID: "a", Address: "serial:/dev/ttyUSB7", Options: map[string]string{"baud": "9600"}})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if _, err := info.New(drivers.Config{ID: "b", Address: "serial:/dev/ttyUSB7", Options: map[string]string{"baud": "38400", "camera": "2"}}); err == nil {
		t.Error("a second camera with other line settings was accepted")
	}
}

func TestFactoryTalksToSim(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr, func(t *testing.T) {
			s := viscasim.New(viscasim.Config{On: true, Cameras: 2})
			defer s.Close()
			addr := serve(t, s, tr)
			info, _ := drivers.Lookup("visca")
			opts := map[string]string{}
			if tr == "serial" {
				opts = map[string]string{"camera": "2", "baud": "38400"}
			}
			d, err := info.New(drivers.Config{ID: "cam", Address: addr, Options: opts})
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			st, err := d.Poll(ctxFor(t, 3*time.Second))
			want := drivers.State{"power": "on", "pan": 0, "tilt": 0, "zoom": 0, "vendor": "Sony", "model": "BRC-Z700"}
			if err != nil || !reflect.DeepEqual(st, want) {
				t.Fatalf("Poll = %v, %v; want %v", st, err, want)
			}
		})
	}
}

func TestActions(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr, func(t *testing.T) {
			const boot = 100 * time.Millisecond
			s, c := rig(t, tr, viscasim.Config{BootTime: boot, Speed: 10}, testOptions())
			ctx := ctxFor(t, 10*time.Second)

			st, err := c.Poll(ctx)
			if err != nil || st["power"] != "off" {
				t.Fatalf("Poll in standby = %v, %v", st, err)
			}
			wantCode(t, c.Home(ctx), "busy") // not executable in standby
			t0 := time.Now()
			if err := c.SetPower(ctx, true); err != nil {
				t.Fatal(err)
			}
			if d := time.Since(t0); d < boot {
				t.Fatalf("power on returned after %v, before the camera started", d)
			}
			if st := s.State(1); !st.Power || st.Booting {
				t.Fatalf("after power on: %+v", st)
			}

			// Drive: pan right, tilt up, zoom tele; then stop.
			if err := c.Drive(ctx, 1, 0.5, 1); err != nil {
				t.Fatal(err)
			}
			eventually(t, "the camera to move", func() bool {
				st := s.State(1)
				return st.Pan > 100 && st.Tilt > 50 && st.Zoom > 100
			})
			if err := c.Drive(ctx, 0, 0, 0); err != nil {
				t.Fatal(err)
			}
			st1 := s.State(1)
			time.Sleep(20 * time.Millisecond)
			if st2 := s.State(1); st2.Moving || st2.Pan != st1.Pan || st2.Zoom != st1.Zoom {
				t.Fatalf("after stop: %+v then %+v", st1, st2)
			}
			if err := c.Drive(ctx, -0.2, -1, -0.5); err != nil {
				t.Fatal(err)
			}
			eventually(t, "pan left, tilt down", func() bool { st := s.State(1); return st.Pan < st1.Pan && st.Tilt < st1.Tilt })
			if err := c.Drive(ctx, 0, 0, 0); err != nil {
				t.Fatal(err)
			}

			// Absolute position, direct zoom, presets, home.
			if err := c.MoveTo(ctx, 1296, -16, 1); err != nil {
				t.Fatal(err)
			}
			if err := c.ZoomTo(ctx, 0x2000); err != nil {
				t.Fatal(err)
			}
			if st := s.State(1); st.Pan != 1296 || st.Tilt != -16 || st.Zoom != 0x2000 || st.Busy != 0 {
				t.Fatalf("after move: %+v", st)
			}
			if err := c.StorePreset(ctx, 3); err != nil {
				t.Fatal(err)
			}
			if err := c.Home(ctx); err != nil {
				t.Fatal(err)
			}
			if st := s.State(1); st.Pan != 0 || st.Tilt != 0 || st.Zoom != 0x2000 {
				t.Fatalf("after home: %+v", st)
			}
			if err := c.ZoomTo(ctx, 0); err != nil {
				t.Fatal(err)
			}
			if err := c.RecallPreset(ctx, 3); err != nil {
				t.Fatal(err)
			}
			// Done at the completion: the camera is there.
			if st := s.State(1); st.Pan != 1296 || st.Tilt != -16 || st.Zoom != 0x2000 || st.Moving {
				t.Fatalf("after recall: %+v", st)
			}
			wantCode(t, c.RecallPreset(ctx, 100), "bad_args") // the camera has 16 presets

			st, err = c.Poll(ctx)
			want := drivers.State{"power": "on", "pan": 1296, "tilt": -16, "zoom": 0x2000, "vendor": "Sony", "model": "BRC-Z700"}
			if err != nil || !reflect.DeepEqual(st, want) {
				t.Fatalf("Poll = %v, %v; want %v", st, err, want)
			}
			v, err := c.Version(ctx)
			if err != nil || v.Vendor != 1 || v.Model != 0x0505 || v.ROM != 0x0100 || v.Sockets != 2 {
				t.Fatalf("Version = %+v, %v", v, err)
			}
			if err := c.SetPower(ctx, false); err != nil {
				t.Fatal(err)
			}
			if st, err := c.Poll(ctx); err != nil || st["power"] != "off" || st["pan"] != 1296 {
				t.Fatalf("Poll after power off = %v, %v", st, err)
			}
		})
	}
}

// Two cameras daisy-chained on one serial line, driven by two devices at once.
func TestSerialTwoCameras(t *testing.T) {
	s := viscasim.New(viscasim.Config{Cameras: 2, On: true, Speed: 20})
	defer s.Close()
	addr := serve(t, s, "serial")
	opts := testOptions()
	cams := make([]*visca.Camera, 3)
	for i := range cams {
		opts.Camera = i + 1
		c, err := visca.New(addr, opts)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		cams[i] = c
	}
	ctx := ctxFor(t, 10*time.Second)
	var wg sync.WaitGroup
	for i, c := range cams[:2] {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range 5 {
				pan := (i + 1) * 100 * (j + 1)
				if err := c.MoveTo(ctx, pan, -pan/10, 1); err != nil {
					t.Errorf("camera %d: %v", i+1, err)
					return
				}
				st, err := c.Poll(ctx)
				if err != nil || st["pan"] != pan {
					t.Errorf("camera %d: Poll = %v, %v; want pan %d", i+1, st, err, pan)
					return
				}
			}
		}()
	}
	wg.Wait()
	for i := 1; i <= 2; i++ {
		if st := s.State(i); st.Address != i || st.Pan != i*500 || st.Tilt != -i*50 {
			t.Errorf("camera %d: %+v", i, st)
		}
	}
	_, err := cams[2].Poll(ctx)
	wantCode(t, err, "unreachable")
	if !strings.Contains(err.Error(), "no camera 3 on serial line") {
		t.Errorf("error %q", err)
	}
	// Camera 1's device closes; camera 2 still has the line.
	cams[0].Close()
	if err := cams[1].Home(ctx); err != nil {
		t.Fatalf("camera 2 after camera 1 closed: %v", err)
	}
	// The cameras are plugged in again: they announce it and forget their addresses.
	s.Replug()
	if err := cams[1].MoveTo(ctx, 42, 0, 1); err != nil {
		t.Fatalf("after a network change: %v", err)
	}
	if st := s.State(2); st.Address != 2 || st.Pan != 42 {
		t.Fatalf("camera 2 after replug: %+v", st)
	}
}

func TestErrorReplies(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr, func(t *testing.T) {
			s, c := rig(t, tr, viscasim.Config{On: true}, testOptions())
			ctx := ctxFor(t, 10*time.Second)
			for _, e := range []struct {
				f    viscasim.Fault
				code string
				msg  string
			}{
				{viscasim.FaultLength, "device_error", "message length error (60 01)"},
				{viscasim.FaultSyntax, "bad_args", "syntax error: the camera does not take this command or its parameters (60 02)"},
				{viscasim.FaultBufferFull, "busy", "command buffer full: two commands are running (60 03)"},
				{viscasim.FaultCancelled, "device_error", "command cancelled (61 04)"},
				{viscasim.FaultNoSocket, "device_error", "no such command to cancel (61 05)"},
				{viscasim.FaultNotExecutable, "busy", "command not executable now (61 41)"},
			} {
				s.Fail(1, e.f, 1)
				err := c.Home(ctx)
				wantCode(t, err, e.code)
				var re *visca.ReplyError
				if !errors.As(err, &re) || !strings.Contains(err.Error(), "visca: home: "+e.msg) {
					t.Fatalf("%v: error %q, want a *ReplyError saying %q", e.f, err, e.msg)
				}
			}
			if err := c.Home(ctx); err != nil {
				t.Fatalf("after the faults: %v", err)
			}
			// An inquiry answered with an error: busy leaves the field out, a failure reports it.
			s.Fail(1, viscasim.FaultNotExecutable, 1)
			st, err := c.Poll(ctx)
			if err != nil || st["power"] != nil || st["zoom"] != 0 {
				t.Fatalf("Poll with power not executable = %v, %v", st, err)
			}
			s.Fail(1, viscasim.FaultLength, 1)
			st, err = c.Poll(ctx)
			wantCode(t, err, "device_error")
			if st == nil || st["zoom"] != 0 || !strings.Contains(err.Error(), "visca: poll: power: message length error") {
				t.Fatalf("Poll with a failing inquiry = %v, %v", st, err)
			}
			// The faults of VISCA over IP are ignored elsewhere, handled over IP.
			s.Fail(1, viscasim.FaultMessageType, 1)
			err = c.Home(ctx)
			if tr == "udp" {
				wantCode(t, err, "device_error")
				var ce *visca.ControlError
				if !errors.As(err, &ce) || !strings.Contains(err.Error(), "message type refused (0F 02)") {
					t.Fatalf("error %q", err)
				}
			} else if err != nil {
				t.Fatal(err)
			}
		})
	}
}

// Commands left running (their deadline passed after the ACK) keep both sockets busy: the
// next command finds the buffer full. On a serial line the driver sets the line up again
// after a timeout, and IF_Clear frees them.
func TestBufferFull(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr, func(t *testing.T) {
			s, c := rig(t, tr, viscasim.Config{On: true, Speed: 1e-4}, testOptions())
			err := c.MoveTo(ctxFor(t, 100*time.Millisecond), 2000, 0, 1)
			wantCode(t, err, "timeout")
			if !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, drivers.ErrUnreachable) ||
				!strings.Contains(err.Error(), "accepted (ACK), no completion before the deadline") {
				t.Fatalf("error %q: want a timeout after the ACK, not unreachable", err)
			}
			wantCode(t, c.ZoomTo(ctxFor(t, 100*time.Millisecond), 0x4000), "timeout")
			err = c.Drive(ctxFor(t, time.Second), 0, 0, 0)
			if tr == "serial" {
				if err != nil || s.State(1).Busy != 0 {
					t.Fatalf("serial: %v, %+v", err, s.State(1))
				}
				return
			}
			wantCode(t, err, "busy")
			if !strings.Contains(err.Error(), "buffer full") || s.State(1).Busy != 2 {
				t.Fatalf("error %q, state %+v", err, s.State(1))
			}
		})
	}
}

func TestMisbehaviour(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr, func(t *testing.T) {
			t.Run("slow within the deadline", func(t *testing.T) {
				s, c := rig(t, tr, viscasim.Config{On: true}, testOptions())
				s.SetMode(viscasim.Slow)
				s.SetDelay(30 * time.Millisecond)
				if _, err := c.Poll(ctxFor(t, 2*time.Second)); err != nil {
					t.Fatal(err)
				}
			})
			t.Run("slow beyond the deadline", func(t *testing.T) {
				opts := testOptions()
				opts.Retries = -1
				s, c := rig(t, tr, viscasim.Config{On: true}, opts)
				if err := c.Home(ctxFor(t, time.Second)); err != nil {
					t.Fatal(err)
				}
				s.SetMode(viscasim.Slow)
				s.SetDelay(300 * time.Millisecond)
				t0 := time.Now()
				err := c.SetPower(ctxFor(t, 100*time.Millisecond), true)
				wantCode(t, err, "timeout")
				if !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, drivers.ErrUnreachable) {
					t.Fatalf("error %v: want context.DeadlineExceeded and ErrUnreachable", err)
				}
				if d := time.Since(t0); d > 250*time.Millisecond {
					t.Fatalf("returned after %v, deadline was 100ms", d)
				}
				// The camera answers again; the late answer is not taken for the next one's.
				s.SetMode(viscasim.Normal)
				time.Sleep(350 * time.Millisecond)
				st, err := c.Poll(ctxFor(t, 3*time.Second))
				if err != nil || st["power"] != "on" {
					t.Fatalf("after the timeout: %v, %v", st, err)
				}
			})
			t.Run("silent with the default timeout", func(t *testing.T) {
				opts := testOptions()
				opts.Timeout, opts.Retransmit = 150*time.Millisecond, 50*time.Millisecond
				s, c := rig(t, tr, viscasim.Config{}, opts)
				s.SetMode(viscasim.Silent)
				t0 := time.Now()
				_, err := c.Poll(context.Background())
				wantCode(t, err, "timeout")
				if !strings.Contains(err.Error(), "no answer within") {
					t.Fatalf("error %q", err)
				}
				if d := time.Since(t0); d > time.Second {
					t.Fatalf("returned after %v", d)
				}
			})
			t.Run("cancelled", func(t *testing.T) {
				s, c := rig(t, tr, viscasim.Config{}, testOptions())
				if _, err := c.Poll(ctxFor(t, 2*time.Second)); err != nil {
					t.Fatal(err)
				}
				s.SetMode(viscasim.Silent)
				ctx, cancel := context.WithCancel(context.Background())
				time.AfterFunc(50*time.Millisecond, cancel)
				t0 := time.Now()
				_, err := c.Poll(ctx)
				if !errors.Is(err, context.Canceled) || !strings.HasPrefix(err.Error(), "visca: ") {
					t.Fatalf("error %v, want context.Canceled", err)
				}
				if d := time.Since(t0); d > 300*time.Millisecond {
					t.Fatalf("returned %v after the cancel", d)
				}
				s.SetMode(viscasim.Normal)
				if _, err := c.Poll(ctxFor(t, 2*time.Second)); err != nil {
					t.Fatalf("after the cancel: %v", err)
				}
			})
			t.Run("garbage", func(t *testing.T) {
				s, c := rig(t, tr, viscasim.Config{On: true}, testOptions())
				if err := c.Home(ctxFor(t, 2*time.Second)); err != nil {
					t.Fatal(err)
				}
				s.SetMode(viscasim.Garbage)
				err := c.SetPower(ctxFor(t, 2*time.Second), true)
				wantCode(t, err, "device_error")
				if !strings.Contains(err.Error(), "garbled reply") {
					t.Fatalf("error %q does not say garbled reply", err)
				}
				s.SetMode(viscasim.Normal)
				if _, err := c.Poll(ctxFor(t, 2*time.Second)); err != nil {
					t.Fatalf("after garbage: %v", err)
				}
			})
			t.Run("drop every message", func(t *testing.T) {
				opts := testOptions()
				opts.Timeout = 300 * time.Millisecond
				s, c := rig(t, tr, viscasim.Config{}, opts)
				if _, err := c.Poll(ctxFor(t, 2*time.Second)); err != nil {
					t.Fatal(err)
				}
				s.SetMode(viscasim.Drop)
				_, err := c.Poll(ctxFor(t, 2*time.Second))
				if tr == "tcp" {
					wantCode(t, err, "unreachable")
					if n := s.Connections(); n != 2 {
						t.Fatalf("%d connections, want 2 (one more try on a new one)", n)
					}
					return
				}
				wantCode(t, err, "timeout") // a datagram or a serial message lost is silence
			})
			t.Run("drop once", func(t *testing.T) {
				s, c := rig(t, tr, viscasim.Config{On: true}, testOptions())
				ctx := ctxFor(t, 3*time.Second)
				if _, err := c.Poll(ctx); err != nil {
					t.Fatal(err)
				}
				s.SetMode(viscasim.DropOnce)
				err := c.MoveTo(ctx, 100, 100, 1)
				switch tr {
				case "serial":
					wantCode(t, err, "timeout") // lost on the line; the next one goes through
					if err := c.MoveTo(ctx, 100, 100, 1); err != nil {
						t.Fatal(err)
					}
				case "tcp":
					if err != nil || s.Connections() != 2 {
						t.Fatalf("after a dropped connection: %v, %d connections", err, s.Connections())
					}
				case "udp":
					if err != nil {
						t.Fatalf("retransmission: %v", err)
					}
				}
				if st := s.State(1); st.Pan != 100 || st.Tilt != 100 {
					t.Fatalf("state %+v", st)
				}
			})
		})
	}
}

// repeated reports whether a sequence number appears twice in a row.
func repeated(seqs []uint32) bool {
	for i := 1; i < len(seqs); i++ {
		if seqs[i] == seqs[i-1] {
			return true
		}
	}
	return false
}

func TestUDPRetransmission(t *testing.T) {
	t.Run("command lost", func(t *testing.T) {
		s, c := rig(t, "udp", viscasim.Config{On: true}, testOptions())
		ctx := ctxFor(t, 3*time.Second)
		if err := c.Home(ctx); err != nil {
			t.Fatal(err)
		}
		s.SetMode(viscasim.DropOnce)
		t0 := time.Now()
		if err := c.MoveTo(ctx, -500, 300, 1); err != nil {
			t.Fatal(err)
		}
		if d := time.Since(t0); d < 100*time.Millisecond {
			t.Fatalf("done after %v: before the retransmission", d)
		}
		if seqs := s.Sequences(); !slices.Equal(seqs, []uint32{1, 2, 2}) {
			t.Fatalf("sequence numbers %v, want [1 2 2]: the same number again", seqs)
		}
		if st := s.State(1); st.Pan != -500 || st.Tilt != 300 || s.Resets() != 1 {
			t.Fatalf("state %+v, %d resets", st, s.Resets())
		}
	})
	t.Run("ack lost", func(t *testing.T) {
		s, c := rig(t, "udp", viscasim.Config{On: true}, testOptions())
		ctx := ctxFor(t, 3*time.Second)
		if err := c.Home(ctx); err != nil {
			t.Fatal(err)
		}
		s.LoseReplies(1)
		if err := c.Drive(ctx, 0.5, 0, 0); err != nil {
			t.Fatal(err)
		}
		if seqs := s.Sequences(); seqs[1] != 2 || seqs[2] != 3 || len(seqs) != 3 {
			t.Fatalf("sequence numbers %v: the completion came, nothing was sent again", seqs)
		}
	})
	t.Run("ack and completion lost", func(t *testing.T) {
		opts := testOptions()
		opts.CompletionTimeout = 300 * time.Millisecond
		s, c := rig(t, "udp", viscasim.Config{On: true}, opts)
		ctx := ctxFor(t, 3*time.Second)
		if err := c.Home(ctx); err != nil {
			t.Fatal(err)
		}
		s.LoseReplies(2)
		if err := c.MoveTo(ctx, 10, 10, 1); err != nil {
			t.Fatalf("the camera said it had the command (0F 01): %v", err)
		}
		if seqs := s.Sequences(); !repeated(seqs) {
			t.Fatalf("sequence numbers %v: want a retransmission", seqs)
		}
		if st := s.State(1); st.Pan != 10 {
			t.Fatalf("state %+v", st)
		}
	})
	t.Run("late ack: copies refused, done at the completion", func(t *testing.T) {
		opts := testOptions()
		opts.Retransmit = 50 * time.Millisecond
		s, c := rig(t, "udp", viscasim.Config{On: true}, opts)
		ctx := ctxFor(t, 3*time.Second)
		if err := c.Home(ctx); err != nil {
			t.Fatal(err)
		}
		s.SetMode(viscasim.Slow)
		s.SetDelay(120 * time.Millisecond)
		// 720 units at 2400 a second: the camera is there 300ms after the first copy.
		if err := c.MoveTo(ctx, 720, 0, 1); err != nil {
			t.Fatal(err)
		}
		if st := s.State(1); st.Moving || st.Pan != 720 {
			t.Fatalf("MoveTo returned before the camera got there: %+v", st)
		}
		if seqs := s.Sequences(); !repeated(seqs) {
			t.Fatalf("sequence numbers %v: want copies sent", seqs)
		}
	})
	t.Run("answer lost", func(t *testing.T) {
		s, c := rig(t, "udp", viscasim.Config{On: true}, testOptions())
		ctx := ctxFor(t, 3*time.Second)
		if err := c.Home(ctx); err != nil {
			t.Fatal(err)
		}
		s.LoseReplies(1)
		if ans, err := c.Inquire(ctx, 0x09, 0x04, 0x00); err != nil || len(ans) != 1 || ans[0] != 0x02 {
			t.Fatalf("Inquire = [% X], %v", ans, err)
		}
		// Sent again with the same number (refused as seen), then with a new one.
		if seqs := s.Sequences(); !slices.Equal(seqs, []uint32{1, 2, 2, 3}) {
			t.Fatalf("sequence numbers %v", seqs)
		}
	})
	t.Run("retries run out", func(t *testing.T) {
		opts := testOptions()
		opts.Retries = 2
		s, c := rig(t, "udp", viscasim.Config{On: true}, opts)
		ctx := ctxFor(t, 3*time.Second)
		if err := c.Home(ctx); err != nil {
			t.Fatal(err)
		}
		s.SetMode(viscasim.Drop)
		err := c.Home(ctx)
		wantCode(t, err, "timeout")
		if !strings.Contains(err.Error(), "sent 3 times") || !errors.Is(err, drivers.ErrUnreachable) {
			t.Fatalf("error %q", err)
		}
		if seqs := s.Sequences(); !slices.Equal(seqs, []uint32{1, 2, 2, 2}) {
			t.Fatalf("sequence numbers %v", seqs)
		}
		// The camera is back: the driver resets the sequence number and goes on.
		s.SetMode(viscasim.Normal)
		if err := c.Home(ctx); err != nil {
			t.Fatal(err)
		}
		if s.Resets() != 2 {
			t.Fatalf("%d resets, want 2", s.Resets())
		}
	})
	t.Run("sequence number refused", func(t *testing.T) {
		s, c := rig(t, "udp", viscasim.Config{On: true}, testOptions())
		ctx := ctxFor(t, 3*time.Second)
		if err := c.Home(ctx); err != nil {
			t.Fatal(err)
		}
		s.Fail(1, viscasim.FaultSequence, 1)
		if err := c.Home(ctx); err != nil {
			t.Fatal(err)
		}
		if s.Resets() != 2 || !slices.Equal(s.Sequences(), []uint32{1, 2, 1}) {
			t.Fatalf("%d resets, sequence numbers %v", s.Resets(), s.Sequences())
		}
		s.Fail(1, viscasim.FaultSequence, 2)
		err := c.Home(ctx)
		wantCode(t, err, "device_error")
		if !strings.Contains(err.Error(), "sequence number refused (0F 01)") {
			t.Fatalf("error %q", err)
		}
	})
}

func TestReconnect(t *testing.T) {
	t.Run("tcp", func(t *testing.T) {
		s, c := rig(t, "tcp", viscasim.Config{On: true}, testOptions())
		ctx := ctxFor(t, 3*time.Second)
		if err := c.Home(ctx); err != nil {
			t.Fatal(err)
		}
		s.DropConnections()
		if err := c.Home(ctx); err != nil {
			t.Fatalf("after the camera closed the connection: %v", err)
		}
		if n := s.Connections(); n != 2 {
			t.Fatalf("%d connections", n)
		}
	})
	t.Run("serial replug", func(t *testing.T) {
		s, c := rig(t, "serial", viscasim.Config{On: true}, testOptions())
		ctx := ctxFor(t, 3*time.Second)
		if err := c.Home(ctx); err != nil {
			t.Fatal(err)
		}
		s.Replug()
		if err := c.MoveTo(ctx, 5, 5, 1); err != nil {
			t.Fatalf("after a network change: %v", err)
		}
		if st := s.State(1); st.Address != 1 || st.Pan != 5 {
			t.Fatalf("state %+v", st)
		}
	})
}

func TestSimulatorGone(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr, func(t *testing.T) {
			opts := testOptions()
			opts.Timeout = 300 * time.Millisecond
			s, c := rig(t, tr, viscasim.Config{}, opts)
			ctx := ctxFor(t, 3*time.Second)
			if _, err := c.Poll(ctx); err != nil {
				t.Fatal(err)
			}
			s.Close()
			_, err := c.Poll(ctx)
			if !errors.Is(err, drivers.ErrUnreachable) {
				t.Fatalf("error %v, want unreachable", err)
			}
			if code := drivers.Code(err); code != "unreachable" && !(tr == "udp" && code == "timeout") {
				t.Fatalf("error %q has code %s", err, code)
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
	c, err := visca.New(addr, testOptions())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_, err = c.Poll(ctxFor(t, 2*time.Second))
	wantCode(t, err, "unreachable")
	c2, _ := visca.New("serial:/dev/no-such-port", testOptions())
	defer c2.Close()
	_, err = c2.Poll(ctxFor(t, 2*time.Second))
	wantCode(t, err, "unreachable")
}

func TestClose(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr, func(t *testing.T) {
			s, c := rig(t, tr, viscasim.Config{}, testOptions())
			ctx := ctxFor(t, 2*time.Second)
			if _, err := c.Poll(ctx); err != nil {
				t.Fatal(err)
			}
			n := s.Messages()
			if err := c.Close(); err != nil {
				t.Fatal(err)
			}
			_, err := c.Poll(ctx)
			wantCode(t, err, "unreachable")
			if s.Messages() != n || s.Connections() > 1 {
				t.Fatalf("sent or dialled after Close")
			}
			if err := c.Close(); err != nil {
				t.Fatalf("second Close: %v", err)
			}
		})
	}
}

func TestConcurrentUse(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr, func(t *testing.T) {
			_, c := rig(t, tr, viscasim.Config{On: true, Speed: 50}, testOptions())
			ctx := ctxFor(t, 10*time.Second)
			var wg sync.WaitGroup
			for i := range 4 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for j := range 5 {
						if _, err := c.Poll(ctx); err != nil {
							t.Error(err)
							return
						}
						if err := c.Drive(ctx, float64(i-2)/2, float64(j-2)/2, 0); err != nil {
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

func TestBadArgsNotSent(t *testing.T) {
	s, c := rig(t, "tcp", viscasim.Config{On: true}, testOptions())
	ctx := ctxFor(t, 2*time.Second)
	for name, err := range map[string]error{
		"pan 2":            c.Drive(ctx, 2, 0, 0),
		"tilt NaN":         c.Drive(ctx, 0, math.NaN(), 0),
		"zoom -1.5":        c.Drive(ctx, 0, 0, -1.5),
		"preset -1":        c.RecallPreset(ctx, -1),
		"preset 255":       c.StorePreset(ctx, 255),
		"move speed 0":     c.MoveTo(ctx, 0, 0, 0),
		"move pan 40000":   c.MoveTo(ctx, 40000, 0, 1),
		"zoom to -1":       c.ZoomTo(ctx, -1),
		"zoom to 70000":    c.ZoomTo(ctx, 70000),
		"command FF":       c.Command(ctx, 0x01, 0xFF),
		"command empty":    c.Command(ctx),
		"inquiry too long": func() error { _, err := c.Inquire(ctx, make([]byte, 15)...); return err }(),
	} {
		if drivers.Code(err) != "bad_args" || !strings.HasPrefix(err.Error(), "visca: ") {
			t.Errorf("%s: %v", name, err)
		}
	}
	if n := s.Messages(); n != 0 {
		t.Fatalf("%d messages reached the camera", n)
	}
}

func TestRawCommandAndInquiry(t *testing.T) {
	s, c := rig(t, "udp", viscasim.Config{}, testOptions())
	ctx := ctxFor(t, 2*time.Second)
	if err := c.Command(ctx, 0x01, 0x04, 0x00, 0x02); err != nil {
		t.Fatal(err)
	}
	ans, err := c.Inquire(ctx, 0x09, 0x04, 0x00)
	if err != nil || len(ans) != 1 || ans[0] != 0x02 || !s.State(1).Power {
		t.Fatalf("Inquire = [% X], %v", ans, err)
	}
	err = c.Command(ctx, 0x01, 0x7E, 0x7E)
	var re *visca.ReplyError
	if !errors.As(err, &re) || re.Code != visca.CodeSyntax || re.Socket != 0 {
		t.Fatalf("error %v", err)
	}
}

// BenchmarkCommand measures one command, from sending it to its completion: CAM_Power On
// to a camera that is on (ACK, then completion at once), over each transport.
func BenchmarkCommand(b *testing.B) {
	for _, tr := range transports {
		b.Run(tr, func(b *testing.B) {
			_, c := rig(b, tr, viscasim.Config{On: true}, visca.Options{})
			ctx := context.Background()
			if err := c.SetPower(ctx, true); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if err := c.SetPower(ctx, true); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// configRow is the row of config.Drivers for this driver (the hub validates room configs
// from that table without importing drivers). This test keeps the two in step, and shows that
// room configs with each form of address validate.
var configRow = config.DriverSpec{
	Options:     []string{"camera", "baud", "data_bits", "parity", "stop_bits", "max_pan_speed", "max_tilt_speed"},
	DefaultPort: 1259,
	UDPPort:     52381,
	Address:     []string{config.AddressTCP, config.AddressUDP, config.AddressSerial},
}

func TestConfigRow(t *testing.T) {
	info, _ := drivers.Lookup("visca")
	if !slices.Equal(info.Options, configRow.Options) || info.DefaultPort != configRow.DefaultPort || visca.IPPort != configRow.UDPPort {
		t.Fatalf("registration %+v does not match the config row %+v", info, configRow)
	}
	if row, ok := config.Drivers["visca"]; ok {
		if !reflect.DeepEqual(row, configRow) {
			t.Fatalf("config.Drivers[visca] = %+v, want %+v", row, configRow)
		}
	} else {
		config.Drivers["visca"] = configRow
		defer delete(config.Drivers, "visca")
	}
	for _, c := range []struct {
		addr string
		opts map[string]string
		err  string
	}{
		{"10.0.0.7", nil, ""},
		{"tcp://10.0.0.7:5678", nil, ""},
		{"udp://10.0.0.7", nil, ""},
		{"serial:/dev/ttyUSB0", map[string]string{"camera": "3", "baud": "9600"}, ""},
		{"/dev/ttyS0", nil, ""},
		{"serial:ttyUSB0", nil, "want a serial device path"},
		{"10.0.0.7", map[string]string{"speed": "1"}, "speed"},
	} {
		r := config.DefaultRoom()
		r.Site, r.Room, r.Kind, r.Name = "s", "r", config.KindTechCourtroom, "R"
		r.Devices = []config.Device{{ID: "cam", Driver: "visca", Address: c.addr, Options: c.opts}}
		err := r.Validate()
		if c.err == "" && err != nil || c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)) {
			t.Errorf("%s %v: %v, want %q", c.addr, c.opts, err, c.err)
		}
	}
}
