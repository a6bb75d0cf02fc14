package integration

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/bailiff/bailiff/internal/testutil"
)

// A litigation hall served by two hubs over HTTP: kiosks on both issue at once and get
// distinct, consecutive numbers; a call through A is what B's live queue shows; the two
// windows calling at once, one through each hub, never call a ticket twice.
func TestTwoHubsOneQueue(t *testing.T) {
	e := newHallWith(t, true, shareGroup(postgresDSN(t)))
	a, b := e.env, secondHub(e.env)
	kiosk, clerk := e.tokens["kiosk"], e.tokens["clerk"]
	path := "/api/v1/queues/" + site + "/hall"

	const each = 15
	var mu sync.Mutex
	issued := map[string]int{}
	var wg sync.WaitGroup
	for _, h := range []*env{a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range each {
				st, body := h.call("POST", path+"/tickets", kiosk, map[string]any{"service": "B"})
				if st != http.StatusCreated {
					t.Errorf("issue through %s: %d %v", h.httpAddr, st, body)
					return
				}
				mu.Lock()
				issued[body["number"].(string)]++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	var want []string
	for i := 1; i <= 2*each; i++ {
		want = append(want, fmt.Sprintf("B%03d", i))
	}
	var got []string
	for n, c := range issued {
		if c != 1 {
			t.Errorf("%s issued %d times", n, c)
		}
		got = append(got, n)
	}
	sort.Strings(got)
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("numbers issued: %v, want %v", got, want)
	}

	// Either hub's gauge counts every ticket, whichever hub issued it.
	for _, h := range []*env{a, b} {
		if n := h.scrape()["bailiff_queue_waiting"]; n != 2*each {
			t.Errorf("%s's bailiff_queue_waiting: %v, want %d", h.httpAddr, n, 2*each)
		}
	}

	// Call-next through A; B's live queue shows it.
	if st, body := a.call("POST", path+"/windows/w1/call-next", clerk, nil); st != http.StatusOK || body["number"] != "B001" {
		t.Fatalf("call next through A: %d %v", st, body)
	}
	st, live := b.call("GET", path, clerk, nil)
	if st != http.StatusOK {
		t.Fatalf("live queue on B: %d %v", st, live)
	}
	w1 := live["windows"].([]any)[0].(map[string]any)
	cur, _ := w1["current"].(map[string]any)
	if cur["number"] != "B001" {
		t.Fatalf("B shows w1 at %v, want B001", w1["current"])
	}
	if waiting := live["services"].([]any)[1].(map[string]any)["waiting"].([]any); len(waiting) != 2*each-1 {
		t.Fatalf("B shows %d waiting, want %d", len(waiting), 2*each-1)
	}

	// Both windows call until none waits: w1 through A, w2 through B.
	calls := map[string]int{"B001": 1}
	for i, h := range []*env{a, b} {
		window := []string{"w1", "w2"}[i]
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				st, body := h.call("POST", path+"/windows/"+window+"/call-next", clerk, nil)
				if st == http.StatusConflict {
					return
				}
				if st != http.StatusOK {
					t.Errorf("call next at %s through %s: %d %v", window, h.httpAddr, st, body)
					return
				}
				mu.Lock()
				calls[body["number"].(string)]++
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
			t.Errorf("%s called %d times", n, c)
		}
	}
	ts, err := e.hub.Store().QueueTicketsIssued(context.Background(), site, "hall", time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
	if err != nil || len(ts) != 2*each {
		t.Fatalf("stored %d tickets (%v), want %d", len(ts), err, 2*each)
	}
	for _, tk := range ts {
		if tk.Calls != 1 || tk.State != "served" {
			t.Errorf("ticket %s: %s after %d calls", tk.Number, tk.State, tk.Calls)
		}
	}
	// Both hubs' metrics show the same, empty queue.
	for _, h := range []*env{a, b} {
		testutil.Eventually(t, 2*time.Second, "an empty queue in "+h.httpAddr+"'s metrics", func() bool {
			return h.scrape()["bailiff_queue_waiting"] == 0
		})
	}
}
