package escpos_test

import (
	"context"
	"errors"
	"net"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bailiff/bailiff/drivers"
	"github.com/bailiff/bailiff/drivers/escpos"
	"github.com/bailiff/bailiff/drivers/escpos/escpossim"
	"github.com/bailiff/bailiff/drivers/escpos/internal/golden"
	"github.com/bailiff/bailiff/drivers/internal/drivertest"
	"github.com/bailiff/bailiff/drivers/transport"
	"github.com/bailiff/bailiff/internal/wire"
)

var fixedNow = func() time.Time { return golden.At }

// rig starts a simulated printer on loopback TCP and a Printer for it.
func rig(t testing.TB, cfg escpossim.Config, opts escpos.Options) (*escpossim.Sim, *escpos.Printer) {
	t.Helper()
	sim := escpossim.New(cfg)
	addr, err := sim.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if opts.Now == nil {
		opts.Now = fixedNow
	}
	p := escpos.New(escpos.Dial(addr, transport.Options{}), opts)
	t.Cleanup(func() {
		p.Close()
		sim.Close()
	})
	return sim, p
}

func ctxFor(t testing.TB, d time.Duration) context.Context { return drivertest.Ctx(t, d) }

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	drivertest.WantCode(t, err, code, "escpos: ")
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	drivertest.Eventually(t, 3*time.Second, what, cond)
}

var ticket = wire.PrintArgs{Number: "A023", Service: "Case filing", Lines: []string{"Window 3"}, QR: "https://court.example/q/A023"}

// checkTicket checks that the printer printed ticket: the number big and bold, the
// service, the time, the free line, the QR payload, and a cut.
func checkTicket(t *testing.T, tk escpossim.Ticket) {
	t.Helper()
	if got, want := tk.Texts(), []string{"Case filing", "A023", "2025-03-14 09:26", "Window 3"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("printed %q, want %q", got, want)
	}
	if n, _ := tk.Line("A023"); !n.Bold || n.Width != 4 || n.Height != 4 || n.Align != "center" {
		t.Fatalf("number line %+v", n)
	}
	if s, _ := tk.Line("Case filing"); !s.Bold || s.Width != 2 {
		t.Fatalf("service line %+v", s)
	}
	if got := tk.QRs(); !reflect.DeepEqual(got, []string{ticket.QR}) {
		t.Fatalf("QR %q", got)
	}
	if tk.Cut != "partial" {
		t.Fatalf("cut %q", tk.Cut)
	}
}

func TestRegistered(t *testing.T) {
	info, ok := drivers.Lookup("escpos")
	if !ok {
		t.Fatal("escpos is not registered")
	}
	want := []string{"width", "encoding", "baud", "data_bits", "parity", "stop_bits"}
	if info.DefaultPort != 9100 || !reflect.DeepEqual(info.Options, want) || info.Description == "" {
		t.Fatalf("registration %+v", info)
	}
	t0 := time.Now()
	d, err := info.New(drivers.Config{ID: "kiosk", Address: "192.0.2.1", Options: map[string]string{"width": "32"}})
	if err != nil {
		t.Fatal(err)
	}
	if time.Since(t0) > 100*time.Millisecond {
		t.Fatalf("factory took %v", time.Since(t0))
	}
	if got := drivers.Actions(d); !reflect.DeepEqual(got, []string{"print", "refresh"}) {
		t.Fatalf("actions %v", got)
	}
	d.Close()
	if _, err := info.New(drivers.Config{ID: "kiosk", Address: "serial:/dev/ttyUSB7", Options: map[string]string{"baud": "38400"}}); err != nil {
		t.Fatalf("serial: %v", err)
	}
	for _, cfg := range []drivers.Config{
		{ID: "kiosk", Address: "10.0.0.1", Options: map[string]string{"password": "x"}},
		{ID: "kiosk", Address: "10.0.0.1", Options: map[string]string{"baud": "x"}},
		{ID: "kiosk", Address: "udp://10.0.0.1"},
		{ID: "kiosk", Address: "ftp://10.0.0.1"},
		{ID: "kiosk"},
	} {
		if _, err := info.New(cfg); drivers.Code(err) != "bad_args" || !strings.HasPrefix(err.Error(), "escpos: ") {
			t.Errorf("factory(%+v): %v, want a bad_args error", cfg, err)
		}
	}
}

func TestPrintTicket(t *testing.T) {
	sim, p := rig(t, escpossim.Config{}, escpos.Options{})
	ctx := ctxFor(t, 5*time.Second)
	if err := p.Print(ctx, ticket); err != nil {
		t.Fatal(err)
	}
	ts := sim.Tickets()
	if len(ts) != 1 {
		t.Fatalf("%d tickets", len(ts))
	}
	checkTicket(t, ts[0])
	// A second one, uncut, on the same connection.
	no := false
	if err := p.Print(ctx, wire.PrintArgs{Number: "A024", Cut: &no}); err != nil {
		t.Fatal(err)
	}
	if len(sim.Tickets()) != 1 || !reflect.DeepEqual(sim.Pending().Texts(), []string{"A024", "2025-03-14 09:26"}) {
		t.Fatalf("pending %q", sim.Pending().Texts())
	}
	if sim.Connections() != 1 || sim.Unknown() != 0 {
		t.Fatalf("%d connections, %d unknown commands", sim.Connections(), sim.Unknown())
	}
	wantCode(t, p.Print(ctx, wire.PrintArgs{Number: "x", QR: "a\x00b"}), "bad_args")
}

func TestPrintOverSerial(t *testing.T) {
	sim := escpossim.New(escpossim.Config{})
	addr, err := sim.ServePTY()
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	info, _ := drivers.Lookup("escpos")
	d, err := info.New(drivers.Config{ID: "kiosk", Address: addr, Options: map[string]string{"baud": "19200"}})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	ctx := ctxFor(t, 5*time.Second)
	st, err := d.Poll(ctx)
	if err != nil || !reflect.DeepEqual(map[string]any(st), golden.Clear) {
		t.Fatalf("Poll = %v, %v", st, err)
	}
	if err := d.(drivers.Printer).Print(ctx, ticket); err != nil {
		t.Fatal(err)
	}
	ts := sim.Tickets()
	if len(ts) != 1 || ts[0].QRs()[0] != ticket.QR || ts[0].Cut != "partial" {
		t.Fatalf("tickets %+v", ts)
	}
	sim.SetPaperOut(true)
	st, err = d.Poll(ctx)
	wantCode(t, err, "device_error")
	if st["paper"] != "out" {
		t.Fatalf("state %v", st)
	}
	// A silent serial printer times out.
	sim.SetPaperOut(false)
	sim.SetMode(escpossim.Silent)
	_, err = d.Poll(ctxFor(t, 150*time.Millisecond))
	wantCode(t, err, "timeout")
	sim.SetMode(escpossim.Normal)
	if _, err := d.Poll(ctx); err != nil {
		t.Fatalf("after silence: %v", err)
	}
}

func TestPollStates(t *testing.T) {
	sim, p := rig(t, escpossim.Config{}, escpos.Options{})
	ctx := ctxFor(t, 5*time.Second)
	for _, c := range []struct {
		st   escpossim.State
		want map[string]any
		code string
	}{
		{escpossim.State{}, golden.Clear, ""},
		{escpossim.State{NearEnd: true}, golden.State("near_end", "closed", true, "none"), ""},
		{escpossim.State{PaperOut: true, NearEnd: true}, golden.State("out", "closed", false, "none"), "device_error"},
		{escpossim.State{CoverOpen: true}, golden.State("ok", "open", false, "none"), "device_error"},
		{escpossim.State{Cutter: true}, golden.State("ok", "closed", false, "cutter"), "device_error"},
		{escpossim.State{Recover: true, CoverOpen: true}, golden.State("ok", "open", false, "recoverable"), "device_error"},
	} {
		sim.SetState(c.st)
		st, err := p.Poll(ctx)
		if c.code == "" && err != nil {
			t.Fatalf("%+v: %v", c.st, err)
		}
		if c.code != "" {
			wantCode(t, err, c.code)
			var fe *escpos.FaultError
			if !errors.As(err, &fe) || errors.Is(err, drivers.ErrUnreachable) {
				t.Fatalf("%+v: error %v: want a FaultError, reachable", c.st, err)
			}
		}
		if !reflect.DeepEqual(map[string]any(st), c.want) {
			t.Fatalf("%+v: state %v, want %v", c.st, st, c.want)
		}
	}
	sim.SetState(escpossim.State{PaperOut: true, CoverOpen: true})
	_, err := p.Poll(ctx)
	if err == nil || err.Error() != "escpos: poll: paper out, cover open: device error" {
		t.Fatalf("error %v", err)
	}
}

func TestPrintRefusedWhenNotReady(t *testing.T) {
	sim, p := rig(t, escpossim.Config{PaperOut: true}, escpos.Options{})
	ctx := ctxFor(t, 5*time.Second)
	n := sim.Received()
	err := p.Print(ctx, ticket)
	wantCode(t, err, "device_error")
	if !strings.Contains(err.Error(), "printer cannot print: paper out") {
		t.Fatalf("error %q", err)
	}
	if got := sim.Received() - n; got != 12 {
		t.Fatalf("%d bytes sent, want only the 12 of the status requests", got)
	}
	sim.SetPaperOut(false)
	sim.SetNearEnd(true)
	if err := p.Print(ctx, ticket); err != nil {
		t.Fatalf("near end: %v", err)
	}
	checkTicket(t, sim.Tickets()[0])
}

func TestMisbehaviour(t *testing.T) {
	t.Run("slow within the deadline", func(t *testing.T) {
		sim, p := rig(t, escpossim.Config{}, escpos.Options{})
		sim.SetMode(escpossim.Slow)
		sim.SetDelay(20 * time.Millisecond)
		if err := p.Print(ctxFor(t, 2*time.Second), ticket); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("slow beyond the deadline", func(t *testing.T) {
		sim, p := rig(t, escpossim.Config{}, escpos.Options{})
		sim.SetMode(escpossim.Slow)
		sim.SetDelay(time.Second)
		t0 := time.Now()
		_, err := p.Poll(ctxFor(t, 100*time.Millisecond))
		wantCode(t, err, "timeout")
		if !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, drivers.ErrUnreachable) {
			t.Fatalf("error %v", err)
		}
		if d := time.Since(t0); d > 700*time.Millisecond {
			t.Fatalf("returned after %v", d)
		}
		sim.SetMode(escpossim.Normal)
		if _, err := p.Poll(ctxFor(t, 3*time.Second)); err != nil {
			t.Fatalf("after the timeout: %v", err)
		}
		if sim.Connections() != 2 {
			t.Fatalf("%d connections: want a new one after the timeout", sim.Connections())
		}
	})
	t.Run("silent with the default timeout", func(t *testing.T) {
		sim, p := rig(t, escpossim.Config{}, escpos.Options{Timeout: 80 * time.Millisecond})
		sim.SetMode(escpossim.Silent)
		err := p.Print(context.Background(), ticket)
		wantCode(t, err, "timeout")
		if !strings.Contains(err.Error(), "no answer within 80ms") {
			t.Fatalf("error %q", err)
		}
		if len(sim.Tickets()) != 0 {
			t.Fatal("printed")
		}
	})
	t.Run("cancelled", func(t *testing.T) {
		sim, p := rig(t, escpossim.Config{}, escpos.Options{})
		sim.SetMode(escpossim.Silent)
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(50*time.Millisecond, cancel)
		if _, err := p.Poll(ctx); !errors.Is(err, context.Canceled) {
			t.Fatalf("error %v, want context.Canceled", err)
		}
	})
	t.Run("garbage", func(t *testing.T) {
		sim, p := rig(t, escpossim.Config{}, escpos.Options{})
		sim.SetMode(escpossim.Garbage)
		_, err := p.Poll(ctxFor(t, 2*time.Second))
		wantCode(t, err, "device_error")
		if !strings.Contains(err.Error(), "garbled reply") {
			t.Fatalf("error %q", err)
		}
		err = p.Print(ctxFor(t, 2*time.Second), ticket)
		wantCode(t, err, "device_error")
		if len(sim.Tickets()) != 0 {
			t.Fatal("printed after a garbled status")
		}
		sim.SetMode(escpossim.Normal)
		if _, err := p.Poll(ctxFor(t, 2*time.Second)); err != nil {
			t.Fatalf("after garbage: %v", err)
		}
		if n := sim.Connections(); n != 3 {
			t.Fatalf("%d connections: want a new one after each garbled reply", n)
		}
	})
	t.Run("drop every time", func(t *testing.T) {
		sim, p := rig(t, escpossim.Config{}, escpos.Options{})
		sim.SetMode(escpossim.Drop)
		err := p.Print(ctxFor(t, 2*time.Second), ticket)
		wantCode(t, err, "unreachable")
		if n := sim.Connections(); n != 2 {
			t.Fatalf("%d connections, want 2 (one retry)", n)
		}
		if len(sim.Tickets()) != 0 {
			t.Fatal("printed")
		}
	})
	t.Run("drop once", func(t *testing.T) {
		sim, p := rig(t, escpossim.Config{}, escpos.Options{})
		ctx := ctxFor(t, 2*time.Second)
		if _, err := p.Poll(ctx); err != nil {
			t.Fatal(err)
		}
		sim.SetMode(escpossim.DropOnce)
		if err := p.Print(ctx, ticket); err != nil {
			t.Fatalf("after a dropped connection: %v", err)
		}
		if n := len(sim.Tickets()); n != 1 || sim.Connections() != 2 {
			t.Fatalf("%d tickets, %d connections", n, sim.Connections())
		}
	})
}

func TestReconnect(t *testing.T) {
	sim, p := rig(t, escpossim.Config{}, escpos.Options{})
	ctx := ctxFor(t, 5*time.Second)
	if _, err := p.Poll(ctx); err != nil {
		t.Fatal(err)
	}
	sim.DropConnections()
	eventually(t, "the drop", func() bool { return sim.OpenConnections() == 0 })
	if err := p.Print(ctx, ticket); err != nil {
		t.Fatalf("after the printer closed the connection: %v", err)
	}
	if sim.Connections() != 2 || len(sim.Tickets()) != 1 {
		t.Fatalf("%d connections, %d tickets", sim.Connections(), len(sim.Tickets()))
	}
}

func TestBackoff(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	var dials atomic.Int64
	dial := escpos.Dial(addr, transport.Options{})
	p := escpos.New(func(ctx context.Context) (net.Conn, error) {
		dials.Add(1)
		return dial(ctx)
	}, escpos.Options{MinBackoff: 300 * time.Millisecond})
	defer p.Close()
	_, err = p.Poll(ctxFor(t, time.Second))
	wantCode(t, err, "unreachable")
	// Within the backoff, a call with a short deadline fails at once without dialling.
	t0 := time.Now()
	_, err = p.Poll(ctxFor(t, 100*time.Millisecond))
	wantCode(t, err, "unreachable")
	if !strings.Contains(err.Error(), "next attempt in") || time.Since(t0) > 50*time.Millisecond || dials.Load() != 1 {
		t.Fatalf("error %v after %v, %d dials", err, time.Since(t0), dials.Load())
	}
	// A call with time to spare waits the backoff out and dials again.
	sim := escpossim.New(escpossim.Config{})
	if _, err := sim.Listen(addr); err != nil {
		t.Skipf("port taken again: %v", err)
	}
	defer sim.Close()
	if _, err := p.Poll(ctxFor(t, 2*time.Second)); err != nil {
		t.Fatalf("after the printer came back: %v", err)
	}
	if dials.Load() != 2 {
		t.Fatalf("%d dials", dials.Load())
	}
}

func TestClose(t *testing.T) {
	sim, p := rig(t, escpossim.Config{}, escpos.Options{})
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
	wantCode(t, p.Print(ctx, ticket), "unreachable")
	if sim.Connections() != 1 {
		t.Fatal("dialled after Close")
	}
}

func TestConcurrentUse(t *testing.T) {
	sim, p := rig(t, escpossim.Config{}, escpos.Options{})
	ctx := ctxFor(t, 10*time.Second)
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 5 {
				if _, err := p.Poll(ctx); err != nil {
					t.Error(err)
					return
				}
				if err := p.Print(ctx, ticket); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	ts := sim.Tickets()
	if len(ts) != 20 {
		t.Fatalf("%d tickets, want 20", len(ts))
	}
	for _, tk := range ts {
		checkTicket(t, tk)
	}
}

// BenchmarkCommand measures one status round trip over loopback TCP: DLE EOT 1-4 in one
// write, four bytes back (what Poll does).
func BenchmarkCommand(b *testing.B) {
	_, p := rig(b, escpossim.Config{}, escpos.Options{})
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := p.Poll(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPrint measures printing one queue ticket with a QR code over loopback TCP:
// status, ticket, status.
func BenchmarkPrint(b *testing.B) {
	_, p := rig(b, escpossim.Config{}, escpos.Options{})
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if err := p.Print(ctx, ticket); err != nil {
			b.Fatal(err)
		}
	}
}
