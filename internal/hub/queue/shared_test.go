package queue

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bailiff/bailiff/internal/config"
	"github.com/bailiff/bailiff/internal/store"
	"github.com/bailiff/bailiff/internal/testutil"
	"github.com/bailiff/bailiff/internal/testutil/pgtest"
)

// sharedHub is one hub's queues on the PostgreSQL store the hubs share.
type sharedHub struct {
	st *store.Store
	q  *Queue

	mu     sync.Mutex
	events []Event
}

func (h *sharedHub) count(action string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, e := range h.events {
		if e.Action == action {
			n++
		}
	}
	return n
}

// twoSharedHubs makes two hubs' queue managers of the hall on one PostgreSQL schema.
func twoSharedHubs(t testing.TB) (a, b *sharedHub, clock *testutil.Clock) {
	return sharedHubs(t, hallYAML)
}

// sharedHubs makes two hubs' queue managers of the room of yaml on one PostgreSQL schema.
func sharedHubs(t testing.TB, yaml string) (a, b *sharedHub, clock *testutil.Clock) {
	srv, err := pgtest.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Stop)
	dsn, err := srv.Schema("queue")
	if err != nil {
		t.Fatal(err)
	}
	r, err := config.ParseRoom("hall.yaml", []byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	clock = testutil.NewClock(time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC)) // 09:00 in Shanghai
	open := func() *sharedHub {
		st, err := store.OpenPostgres(context.Background(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		h := &sharedHub{st: st}
		m, err := New(context.Background(), []*config.Room{r}, Options{Store: st, Now: clock.Now, Shared: true,
			Log:    slog.New(slog.NewTextHandler(io.Discard, nil)),
			Notify: func(e Event) { h.mu.Lock(); h.events = append(h.events, e); h.mu.Unlock() }})
		if err != nil {
			t.Fatal(err)
		}
		if h.q, err = m.Queue("court", "hall"); err != nil {
			t.Fatal(err)
		}
		return h
	}
	return open(), open(), clock
}

// Two hubs serve one hall: tickets issued on both at once get distinct, consecutive numbers;
// both windows calling at once, one on each hub, never call a ticket twice; a call on one
// hub is what the other shows; the day's reset is announced once and numbers start again.
func TestSharedQueueTwoHubs(t *testing.T) {
	a, b, clock := twoSharedHubs(t)
	ctx := context.Background()
	hubs := []*sharedHub{a, b}

	const each = 25
	var mu sync.Mutex
	numbers := map[string]int{}
	var wg sync.WaitGroup
	for _, h := range hubs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range each {
				tk, err := h.q.Issue(ctx, "A", false, "api")
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				numbers[tk.Number]++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(numbers) != 2*each {
		t.Fatalf("%d distinct numbers for %d tickets: %v", len(numbers), 2*each, numbers)
	}
	got := make([]string, 0, len(numbers))
	for n := range numbers {
		got = append(got, n)
	}
	sort.Strings(got)
	if got[0] != "A001" || got[len(got)-1] != "A050" {
		t.Fatalf("numbers run %s…%s, want A001…A050", got[0], got[len(got)-1])
	}
	for _, h := range hubs {
		if l, err := h.q.Live(ctx); err != nil || l.Services[0].Issued != 2*each || len(l.Services[0].Waiting) != 2*each {
			t.Fatalf("live queue on a hub: %+v %v", l.Services[0], err)
		}
	}

	// A call on A is what B shows.
	called, err := a.q.CallNext(ctx, "w1")
	if err != nil || called.Number != "A001" {
		t.Fatalf("call next on A: %+v %v", called, err)
	}
	l, err := b.q.Live(ctx)
	if err != nil || l.Windows[0].Current == nil || l.Windows[0].Current.Number != "A001" || len(l.Services[0].Waiting) != 2*each-1 {
		t.Fatalf("B's live queue after A's call: %+v %v", l.Windows[0], err)
	}
	if tk, err := b.q.Ticket(ctx, "A002"); err != nil || tk.Ahead == nil || *tk.Ahead != 0 {
		t.Fatalf("A002 on B: %+v %v", tk, err)
	}

	// Both windows call until none waits, w1 through A and w2 through B.
	calls := map[string]int{"A001": 1}
	for i, h := range hubs {
		window := []string{"w1", "w2"}[i]
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				tk, err := h.q.CallNext(ctx, window)
				if errors.Is(err, ErrConflict) {
					return
				}
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				calls[tk.Number]++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(calls) != 2*each {
		t.Errorf("%d tickets called, want %d", len(calls), 2*each)
	}
	for n, c := range calls {
		if c != 1 {
			t.Errorf("ticket %s called %d times", n, c)
		}
	}
	// Every change was announced once, by the hub that made it.
	if n := a.count("called") + b.count("called"); n != 2*each {
		t.Errorf("%d called events, want %d", n, 2*each)
	}
	if n := a.count("issued") + b.count("issued"); n != 2*each {
		t.Errorf("%d issued events, want %d", n, 2*each)
	}
	ts, err := a.st.QueueTickets(ctx, "court", "hall", "2026-03-02")
	served := 0
	for _, tk := range ts {
		if tk.State == Served {
			served++
		}
	}
	// Call-next with none waiting still completes the window's ticket (and says 409).
	if err != nil || len(ts) != 2*each || served != 2*each {
		t.Errorf("stored: %d tickets, %d served, %v", len(ts), served, err)
	}

	// The next day: the ticking hub announces the reset once; numbers start again on both.
	clock.Add(24 * time.Hour)
	for range 2 {
		if err := a.q.tick(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if n := a.count("reset"); n != 1 {
		t.Errorf("%d reset events, want 1", n)
	}
	if tk, err := b.q.Issue(ctx, "A", false, "api"); err != nil || tk.Number != "A001" {
		t.Errorf("first ticket of the new day on B: %+v %v", tk, err)
	}
	if tk, err := a.q.Issue(ctx, "A", false, "api"); err != nil || tk.Number != "A002" {
		t.Errorf("second ticket of the new day on A: %+v %v", tk, err)
	}
	if n := b.count("reset"); n != 0 {
		t.Errorf("B announced %d resets; only the ticking hub does", n)
	}
}

// benchHallYAML is the hall with a service of five digits, for as many tickets as a benchmark
// issues.
var benchHallYAML = strings.Replace(hallYAML, "    - {id: C, name: Copies, prefix: CP, digits: 2}\n",
	"    - {id: C, name: Copies, prefix: CP, digits: 2}\n    - {id: Z, name: Bench, digits: 5}\n", 1)

// BenchmarkQueueIssue issues tickets, the day's queue holding 300 already: on a lone hub
// (SQLite, the queue in memory) and on two hubs sharing PostgreSQL, alternately (each issue a
// transaction under the room's lock that reads the day's tickets anew). Run it with a fixed
// count (-benchtime=300x), since the day's tickets grow with every issue.
func BenchmarkQueueIssue(b *testing.B) {
	const before = 300
	b.Run("lone-sqlite", func(b *testing.B) {
		r, err := config.ParseRoom("hall.yaml", []byte(benchHallYAML))
		if err != nil {
			b.Fatal(err)
		}
		st, err := store.Open(filepath.Join(b.TempDir(), "hub.db"))
		if err != nil {
			b.Fatal(err)
		}
		defer st.Close()
		m, err := New(context.Background(), []*config.Room{r}, Options{Store: st, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
		if err != nil {
			b.Fatal(err)
		}
		q, _ := m.Queue("court", "hall")
		benchIssue(b, before, q, q)
	})
	b.Run("shared-postgres", func(b *testing.B) {
		x, y, _ := sharedHubs(b, benchHallYAML)
		benchIssue(b, before, x.q, y.q)
	})
}

func benchIssue(b *testing.B, before int, qs ...*Queue) {
	ctx := context.Background()
	for i := range before {
		if _, err := qs[i%len(qs)].Issue(ctx, "Z", false, "api"); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for i := range b.N {
		if _, err := qs[i%len(qs)].Issue(ctx, "Z", false, "api"); err != nil {
			b.Fatal(err)
		}
	}
}
