package queue

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/bailiff/bailiff/internal/config"
	"github.com/bailiff/bailiff/internal/store"
	"github.com/bailiff/bailiff/internal/testutil"
	"github.com/bailiff/bailiff/internal/wire"
)

const hallYAML = `site: court
room: hall
kind: litigation-hall
name: Hall
devices:
  - {id: button, driver: gpio, options: {pin: GPIO5, mode: button}}
  - {id: printer, driver: escpos, address: 127.0.0.1:9100}
  - {id: keypad, driver: gpio, options: {pin: GPIO6, mode: button}}
queue:
  time_zone: Asia/Shanghai
  reset: "06:00"
  recall_within: 2
  status_url: https://court.example/q?n={number}
  printers: [printer]
  services:
    - {id: A, name: Filing}
    - {id: B, name: Payments}
    - {id: C, name: Copies, prefix: CP, digits: 2}
  windows:
    - {id: w1, name: Window 1, services: [A, B]}
    - {id: w2, name: Window 2, services: [A, B], policy: longest-wait}
    - {id: w3, name: Window 3, services: [C]}
  buttons:
    - {device: button, event: button, match: {pressed: true}, service: B, printer: printer}
    - {device: keypad, event: button-press, match: {index: 1}, service: C, priority: true}
`

type world struct {
	t     testing.TB
	path  string
	st    *store.Store
	room  *config.Room
	clock *testutil.Clock
	m     *Manager
	q     *Queue

	mu     sync.Mutex
	events []Event
	prints []wire.PrintArgs
}

func newWorld(t testing.TB) *world {
	r, err := config.ParseRoom("hall.yaml", []byte(hallYAML))
	if err != nil {
		t.Fatal(err)
	}
	// 09:00 in Shanghai.
	w := &world{t: t, path: filepath.Join(t.TempDir(), "hub.db"), room: r,
		clock: testutil.NewClock(time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC))}
	w.open()
	t.Cleanup(func() { w.st.Close() })
	return w
}

// open opens the store and makes the manager, as a hub start does.
func (w *world) open() {
	w.t.Helper()
	var err error
	if w.st, err = store.Open(w.path); err != nil {
		w.t.Fatal(err)
	}
	w.m, err = New(context.Background(), []*config.Room{w.room}, Options{Store: w.st, Now: w.clock.Now,
		Log:    slog.New(slog.NewTextHandler(io.Discard, nil)),
		Notify: func(e Event) { w.mu.Lock(); w.events = append(w.events, e); w.mu.Unlock() },
		Print: func(ctx context.Context, site, room, dev string, a wire.PrintArgs) error {
			w.mu.Lock()
			w.prints = append(w.prints, a)
			w.mu.Unlock()
			return nil
		}})
	if err != nil {
		w.t.Fatal(err)
	}
	if w.q, err = w.m.Queue("court", "hall"); err != nil {
		w.t.Fatal(err)
	}
}

func (w *world) restart() {
	w.st.Close()
	w.open()
}

func (w *world) issue(service string, priority bool) Ticket {
	w.t.Helper()
	t, err := w.q.Issue(context.Background(), service, priority, "api")
	if err != nil {
		w.t.Fatal(err)
	}
	w.clock.Add(time.Second)
	return t
}

func (w *world) callNext(window, want string) Ticket {
	w.t.Helper()
	t, err := w.q.CallNext(context.Background(), window)
	if err != nil {
		w.t.Fatalf("call next at %s: %v", window, err)
	}
	if t.Number != want {
		w.t.Fatalf("call next at %s: got %s, want %s", window, t.Number, want)
	}
	w.clock.Add(time.Second)
	return t
}

func TestNumbersAndPolicies(t *testing.T) {
	w := newWorld(t)
	for i, want := range []string{"A001", "B001", "A002", "CP01", "B002"} {
		s := []string{"A", "B", "A", "C", "B"}[i]
		if got := w.issue(s, false); got.Number != want || got.State != Waiting {
			t.Fatalf("issue %s: %+v, want %s", s, got, want)
		}
	}
	// w1 is first-come in its order (A before B); w2 takes the longest wait across A and B.
	w.callNext("w1", "A001")
	w.callNext("w2", "B001")
	w.callNext("w1", "A002")
	w.callNext("w1", "B002")
	if _, err := w.q.CallNext(context.Background(), "w1"); !errors.Is(err, ErrConflict) {
		t.Fatalf("empty queue: %v", err)
	}
	w.callNext("w3", "CP01")
	// Priority first, under both policies.
	w.issue("A", false)
	p := w.issue("B", true)
	if !p.Priority || p.Number != "B003" {
		t.Fatalf("priority ticket %+v", p)
	}
	w.callNext("w1", "B003")
	if _, err := w.q.Issue(context.Background(), "Z", false, "api"); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown service: %v", err)
	}
	if _, err := w.q.CallNext(context.Background(), "w9"); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown window: %v", err)
	}
	// Call next served the previous ticket of the window.
	if tk, _ := w.q.Ticket(context.Background(), "A001"); tk.State != Served {
		t.Errorf("A001 after the next call: %s", tk.State)
	}
}

func TestNoShowRecallTransfer(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	for range 5 {
		w.issue("A", false)
	}
	w.callNext("w1", "A001")
	if _, err := w.q.Recall(ctx, "w1", ""); err != nil {
		t.Fatal(err)
	}
	ns, err := w.q.NoShow(ctx, "w1")
	if err != nil || ns.State != NoShow || ns.Calls != 2 {
		t.Fatalf("no-show: %+v %v", ns, err)
	}
	if _, err := w.q.NoShow(ctx, "w1"); !errors.Is(err, ErrConflict) {
		t.Errorf("no-show with no current ticket: %v", err)
	}
	w.callNext("w1", "A002")
	// Within 2 calls: A001 comes back, A002 is served.
	back, err := w.q.Recall(ctx, "w1", "A001")
	if err != nil || back.State != Called || back.Window != "w1" {
		t.Fatalf("recall the no-show: %+v %v", back, err)
	}
	if _, err := w.q.NoShow(ctx, "w1"); err != nil {
		t.Fatal(err)
	}
	w.callNext("w1", "A003")
	w.callNext("w1", "A004")
	if _, err := w.q.Recall(ctx, "w1", "A001"); !errors.Is(err, ErrConflict) {
		t.Errorf("recall after 2 more calls: %v", err)
	}
	if _, err := w.q.Recall(ctx, "w2", "A003"); !errors.Is(err, ErrConflict) {
		t.Errorf("recall of a served ticket: %v", err)
	}
	// Transfer A004 to B: it keeps its number and its issue time, so it goes before a B
	// ticket issued after it.
	w.issue("B", false) // B001, issued after A004
	tr, err := w.q.Transfer(ctx, "w1", "B")
	if err != nil || tr.Number != "A004" || tr.Service != "B" || tr.FromService != "A" || tr.State != Waiting {
		t.Fatalf("transfer: %+v %v", tr, err)
	}
	w.callNext("w1", "A005") // first-come: service A first…
	w.callNext("w1", "A004") // …then B, where A004 (transferred) goes before B001.
	w.callNext("w1", "B001")
	done, err := w.q.Complete(ctx, "w1")
	if err != nil || done.State != Served {
		t.Fatalf("complete: %+v %v", done, err)
	}
	if _, err := w.q.Transfer(ctx, "w1", "B"); !errors.Is(err, ErrConflict) {
		t.Errorf("transfer with nothing called: %v", err)
	}
}

func jsonOf(v any) string { b, _ := json.Marshal(v); return string(b) }

func TestRestartKeepsState(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	for range 4 {
		w.issue("A", false)
	}
	w.issue("B", true)
	w.callNext("w1", "B001")
	w.callNext("w2", "A001")
	w.q.NoShow(ctx, "w2")
	before, _ := w.q.Live(ctx)
	w.restart()
	after, err := w.q.Live(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if b, a := jsonOf(before), jsonOf(after); b != a {
		t.Fatalf("live queue changed over a restart:\n%+v\n%+v", before, after)
	}
	// Numbering goes on, the no-show is still recallable, the current ticket still current.
	if tk := w.issue("A", false); tk.Number != "A005" {
		t.Errorf("after restart: %s", tk.Number)
	}
	if _, err := w.q.Recall(ctx, "w2", "A001"); err != nil {
		t.Error(err)
	}
	w.callNext("w1", "A002")
}

func TestDailyReset(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	w.issue("A", false)
	w.issue("A", false)
	w.callNext("w1", "A001")
	// 05:59 next morning in Shanghai: still the same business day.
	w.clock.Set(time.Date(2026, 3, 2, 21, 59, 0, 0, time.UTC))
	if tk := w.issue("A", false); tk.Number != "A003" {
		t.Fatalf("before the reset: %s", tk.Number)
	}
	w.clock.Add(2 * time.Minute) // 06:01
	tk := w.issue("A", false)
	if tk.Number != "A001" {
		t.Fatalf("after the reset: %s", tk.Number)
	}
	l, _ := w.q.Live(ctx)
	if l.Day != "2026-03-03" || len(l.Services[0].Waiting) != 1 || l.Windows[0].Current != nil {
		t.Fatalf("after the reset: %+v", l)
	}
	// Yesterday's leftovers are expired in the store.
	old, _ := w.st.QueueTickets(ctx, "court", "hall", "2026-03-02")
	for _, o := range old {
		if o.State != Expired {
			t.Errorf("%s of yesterday: %s", o.Number, o.State)
		}
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	var resets int
	for _, e := range w.events {
		if e.Action == "reset" {
			resets++
		}
	}
	if resets != 1 {
		t.Errorf("%d reset events", resets)
	}
}

func TestStats(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	start := w.clock.Now()
	w.issue("A", false) // A001 at 0s
	w.issue("A", false) // A002 at 1s
	w.clock.Add(8 * time.Second)
	w.callNext("w1", "A001") // waited 10s; served 31s later
	w.clock.Add(30 * time.Second)
	w.callNext("w1", "A002") // waited 40s
	w.q.NoShow(ctx, "w1")
	st, err := w.q.Stats(ctx, start, start.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	a := st.Services[0]
	if a.Key != "A" || a.Tickets != 2 || a.Served != 1 || a.NoShows != 1 || a.MaxWaitS != 40 || a.MeanWaitS != 25 || a.MeanServiceS != 31 {
		t.Errorf("service A: %+v", a)
	}
	if len(st.Windows) != 1 || st.Windows[0].Key != "w1" || st.Windows[0].Called != 2 {
		t.Errorf("windows: %+v", st.Windows)
	}
	if len(st.Days) != 1 || st.Days[0].Key != "2026-03-02" {
		t.Errorf("days: %+v", st.Days)
	}
	if _, err := w.q.Stats(ctx, start, start); !errors.Is(err, ErrBadArgs) {
		t.Errorf("empty range: %v", err)
	}
}

func TestButtonIssuesAndPrints(t *testing.T) {
	w := newWorld(t)
	w.m.HandleEvent("court", "hall", "button", wire.Event{Type: "button", Fields: map[string]any{"pressed": false}})
	w.m.HandleEvent("court", "hall", "other", wire.Event{Type: "button", Fields: map[string]any{"pressed": true}})
	w.m.HandleEvent("court", "hall", "button", wire.Event{Type: "button", Fields: map[string]any{"pressed": true}})
	deadline := time.Now().Add(2 * time.Second)
	for {
		w.mu.Lock()
		n := len(w.prints)
		w.mu.Unlock()
		if n > 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	// A keypad's key, as a firmware-bridge device reports it (numbers come as JSON numbers).
	w.m.HandleEvent("court", "hall", "keypad", wire.Event{Type: "button-press", Fields: map[string]any{"index": float64(0)}})
	w.m.HandleEvent("court", "hall", "keypad", wire.Event{Type: "button-press", Fields: map[string]any{"index": float64(1)}})
	l, _ := w.q.Live(context.Background())
	if c := l.Services[2]; len(c.Waiting) != 1 || !c.Waiting[0].Priority || c.Waiting[0].Source != "button:keypad" {
		t.Errorf("the keypad issued %+v", c.Waiting)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.prints) != 1 {
		t.Fatalf("prints: %+v", w.prints)
	}
	p := w.prints[0]
	if p.Number != "B001" || p.Service != "Payments" || p.QR != "https://court.example/q?n=B001" || p.Lines[0] != "Waiting before you: 0" {
		t.Errorf("printed %+v", p)
	}
	if _, err := w.m.IssueAndPrint(context.Background(), "court", "hall", "A", false, "api", "button"); !errors.Is(err, ErrBadArgs) {
		t.Errorf("print on a device that is no printer: %v", err)
	}
}

// TestConcurrent issues and calls from many goroutines: every ticket is called once, numbers
// are issued without gaps.
func TestConcurrent(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	const kiosks, per = 8, 25
	var wg sync.WaitGroup
	var mu sync.Mutex
	issued := map[string]bool{}
	called := map[string]int{}
	stop := make(chan struct{})
	for k := range kiosks {
		wg.Go(func() {
			for range per {
				tk, err := w.q.Issue(ctx, []string{"A", "B"}[k%2], k == 0, "kiosk")
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				if issued[tk.Number] {
					t.Errorf("%s issued twice", tk.Number)
				}
				issued[tk.Number] = true
				mu.Unlock()
			}
		})
	}
	var cw sync.WaitGroup
	for _, win := range []string{"w1", "w2"} {
		cw.Go(func() {
			for {
				tk, err := w.q.CallNext(ctx, win)
				if err == nil {
					mu.Lock()
					called[tk.Number]++
					mu.Unlock()
					continue
				}
				select {
				case <-stop:
					return
				default:
					time.Sleep(time.Millisecond)
				}
			}
		})
	}
	wg.Wait()
	// Drain, then stop the windows.
	deadline := time.Now().Add(10 * time.Second)
	for {
		mu.Lock()
		n := len(called)
		mu.Unlock()
		if n == kiosks*per || time.Now().After(deadline) {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	close(stop)
	cw.Wait()
	if len(issued) != kiosks*per || len(called) != kiosks*per {
		t.Fatalf("issued %d, called %d, want %d", len(issued), len(called), kiosks*per)
	}
	for n, c := range called {
		if c != 1 || !issued[n] {
			t.Errorf("%s called %d times (issued %v)", n, c, issued[n])
		}
	}
	for _, s := range []string{"A", "B"} {
		for i := 1; i <= kiosks*per/2; i++ {
			if n := fmt.Sprintf("%s%03d", s, i); !issued[n] {
				t.Errorf("number %s never issued", n)
			}
		}
	}
}

// TestRunResets: the manager starts a new day at the reset time without any request.
func TestRunResets(t *testing.T) {
	w := newWorld(t)
	w.issue("A", false)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { w.m.Run(ctx, 5*time.Millisecond); close(done) }()
	defer func() { cancel(); <-done }()
	w.clock.Add(24 * time.Hour)
	deadline := time.Now().Add(5 * time.Second)
	for {
		w.mu.Lock()
		reset := len(w.events) > 0 && w.events[len(w.events)-1].Action == "reset"
		w.mu.Unlock()
		if reset {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no reset event")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if n := w.q.WaitingCounts()["A"]; n != 0 {
		t.Errorf("%d waiting after the reset", n)
	}
}

// BenchmarkIssueCall issues a ticket and calls it at a window, on a real store file: the
// queue's own cost under the API (three ticket writes per ticket).
func BenchmarkIssueCall(b *testing.B) {
	w := newWorld(b)
	ctx := context.Background()
	w.room.Queue.Services[2].Digits = "5"
	w.restart() // with the wider numbers
	for b.Loop() {
		if _, err := w.q.Issue(ctx, "C", false, "bench"); err != nil {
			b.Fatal(err)
		}
		if _, err := w.q.CallNext(ctx, "w3"); err != nil {
			b.Fatal(err)
		}
	}
}
