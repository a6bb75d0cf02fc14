package bridge

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bailiff/bailiff/firmware-bridge/devsim"
	"github.com/bailiff/bailiff/firmware-bridge/frame"
)

// recorder keeps what a bridge reported.
type recorder struct {
	mu     sync.Mutex
	hellos []frame.Hello
	states [][]frame.Field
	events []frame.Event
	links  []bool
}

func (r *recorder) config(addr string) Config {
	return Config{
		Address:   addr,
		PingEvery: 100 * time.Millisecond, Retry: 20 * time.Millisecond, AckTimeout: 300 * time.Millisecond,
		OnHello: func(h frame.Hello) { r.mu.Lock(); r.hellos = append(r.hellos, h); r.mu.Unlock() },
		OnState: func(f []frame.Field) { r.mu.Lock(); r.states = append(r.states, f); r.mu.Unlock() },
		OnEvent: func(e frame.Event) { r.mu.Lock(); r.events = append(r.events, e); r.mu.Unlock() },
		OnLink:  func(up bool, _ error) { r.mu.Lock(); r.links = append(r.links, up); r.mu.Unlock() },
	}
}

func (r *recorder) count() (hellos, states, events int, links []bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.hellos), len(r.states), len(r.events), append([]bool(nil), r.links...)
}

func startSim(t *testing.T, cfg devsim.Config) *devsim.Sim {
	t.Helper()
	s := devsim.New(cfg)
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func startBridge(t *testing.T, cfg Config) *Bridge {
	t.Helper()
	b := New(cfg)
	b.Start()
	t.Cleanup(func() { b.Close() })
	return b
}

// eventually polls cond every 10ms for up to 5s.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not within 5s: %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func reachable(b *Bridge) bool { _, up, _ := b.Info(); return up }

func field(fs []frame.Field, k frame.Key) (int32, bool) {
	for _, f := range fs {
		if f.Key == k {
			return f.Value, true
		}
	}
	return 0, false
}

func TestHelloStateEventsCommands(t *testing.T) {
	sim := startSim(t, devsim.Config{Serial: "TL-7", Version: frame.Version{Major: 1, Minor: 2, Patch: 3},
		Caps: frame.CapTally | frame.CapButton | frame.CapRelay})
	var rec recorder
	b := startBridge(t, rec.config(sim.Address()))
	eventually(t, "hello", func() bool { return reachable(b) })
	h, _, _ := b.Info()
	if h.DeviceType != "tally-light" || h.Serial != "TL-7" || h.Version != (frame.Version{Major: 1, Minor: 2, Patch: 3}) ||
		h.Caps != frame.CapTally|frame.CapButton|frame.CapRelay {
		t.Fatalf("hello %+v", h)
	}
	// The hello is followed by a resync: the state is read.
	eventually(t, "state after hello", func() bool { _, ok := field(b.State(), frame.KeyTally); return ok })

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ack, err := b.Command(ctx, frame.ActionSet, []frame.Field{{Key: frame.KeyTally, Value: 2}})
	if err != nil || ack.Status != frame.StatusOK {
		t.Fatalf("set tally: %+v, %v", ack, err)
	}
	if v, _ := field(b.State(), frame.KeyTally); v != 2 || sim.State()[frame.KeyTally] != 2 {
		t.Fatalf("tally after set: bridge %d, device %d", v, sim.State()[frame.KeyTally])
	}
	ack, err = b.Command(ctx, frame.ActionSet, []frame.Field{{Key: frame.KeySign, Value: 1}})
	if err != nil || ack.Status != frame.StatusUnsupported {
		t.Fatalf("set sign on a device without one: %+v, %v", ack, err)
	}
	ack, err = b.Command(ctx, frame.ActionSet, []frame.Field{{Key: frame.KeyTally, Value: 9}})
	if err != nil || ack.Status != frame.StatusBadArgs {
		t.Fatalf("tally 9: %+v, %v", ack, err)
	}

	if err := sim.Press(0); err != nil {
		t.Fatal(err)
	}
	eventually(t, "button event and state", func() bool {
		v, _ := field(b.State(), frame.KeyButton)
		_, _, ev, _ := rec.count()
		return v == 1 && ev == 1
	})
	rec.mu.Lock()
	e := rec.events[0]
	rec.mu.Unlock()
	if e.Code != frame.EventButtonPress {
		t.Fatalf("event %+v", e)
	}

	// Line noise and a frame cut short are dropped and counted, and do no harm.
	if err := sim.SendGarbage(40); err != nil {
		t.Fatal(err)
	}
	if err := sim.SendTruncated(); err != nil {
		t.Fatal(err)
	}
	eventually(t, "drops counted", func() bool { return b.Stats().Dropped() >= 2 })
	if _, err := b.Command(ctx, frame.ActionGet, nil); err != nil {
		t.Fatalf("get after noise: %v", err)
	}
}

// A device that stops answering pings is lost; when it says hello again it is back and its
// state is read again.
func TestSilentDeviceLostAndResynchronised(t *testing.T) {
	sim := startSim(t, devsim.Config{})
	var rec recorder
	b := startBridge(t, rec.config(sim.Address()))
	eventually(t, "hello", func() bool { return reachable(b) })
	sim.SetSilent(true)
	eventually(t, "lost", func() bool { return !reachable(b) })
	_, _, err := b.Info()
	if err == nil || !strings.Contains(err.Error(), "no answer to") {
		t.Fatalf("why lost: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if _, err := b.Command(ctx, frame.ActionGet, nil); err == nil {
		t.Fatal("command to a lost device succeeded")
	}
	_, statesBefore, _, _ := rec.count()
	sim.SetSilent(false) // it answers the next hello-request
	eventually(t, "back", func() bool { return reachable(b) })
	eventually(t, "state re-read", func() bool { _, s, _, _ := rec.count(); return s > statesBefore })
	if _, _, _, links := rec.count(); len(links) < 3 || !links[0] || !slices.Contains(links, false) || !links[len(links)-1] {
		t.Fatalf("links %v, want up, down, up", links)
	}
}

// Unplug and replug: the port vanishes (the device's pty pair is closed) and a new device
// appears under the same name (a udev symlink such as /dev/serial/by-id/…).
func TestUnplugReplug(t *testing.T) {
	link := filepath.Join(t.TempDir(), "ttyFW")
	sim1 := startSim(t, devsim.Config{Serial: "A-1"})
	plug := func(s *devsim.Sim) {
		t.Helper()
		os.Remove(link)
		if err := os.Symlink(strings.TrimPrefix(s.Address(), "serial:"), link); err != nil {
			t.Fatal(err)
		}
	}
	plug(sim1)
	var rec recorder
	b := startBridge(t, rec.config("serial:"+link))
	eventually(t, "hello", func() bool { return reachable(b) })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := b.Command(ctx, frame.ActionSet, []frame.Field{{Key: frame.KeyTally, Value: 1}}); err != nil {
		t.Fatal(err)
	}

	sim1.Close()
	os.Remove(link)
	eventually(t, "lost after unplug", func() bool { return !reachable(b) })
	if _, _, err := b.Info(); err == nil {
		t.Fatal("no reason for the loss")
	}
	if _, err := b.Command(ctx, frame.ActionGet, nil); !errors.Is(err, ErrNotConnected) && err == nil {
		t.Fatalf("command while unplugged: %v", err)
	}

	sim2 := startSim(t, devsim.Config{Serial: "A-1"})
	plug(sim2)
	eventually(t, "back after replug", func() bool { return reachable(b) })
	// The replugged device starts with its tally off: the bridge's state follows the device.
	eventually(t, "state re-read after replug", func() bool {
		v, ok := field(b.State(), frame.KeyTally)
		return ok && v == 0
	})
	if _, err := b.Command(ctx, frame.ActionSet, []frame.Field{{Key: frame.KeyTally, Value: 3}}); err != nil {
		t.Fatal(err)
	}
	if sim2.State()[frame.KeyTally] != 3 {
		t.Fatalf("replugged device's tally %d", sim2.State()[frame.KeyTally])
	}
}

// Close ends a bridge whose port never opened.
func TestCloseWithoutPort(t *testing.T) {
	b := New(Config{Address: "serial:/nonexistent/tty", Retry: 10 * time.Millisecond})
	b.Start()
	time.Sleep(50 * time.Millisecond)
	if _, up, err := b.Info(); up || err == nil || !strings.Contains(err.Error(), "/nonexistent/tty") {
		t.Fatalf("up %v, err %v", up, err)
	}
	b.Close()
}
