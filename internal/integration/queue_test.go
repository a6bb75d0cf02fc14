package integration

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bailiff/bailiff/drivers/escpos/escpossim"
	"github.com/bailiff/bailiff/drivers/gpio/gpiosim"
	"github.com/bailiff/bailiff/internal/config"
	"github.com/bailiff/bailiff/internal/hub"
)

// hallEnv is a litigation hall: a kiosk button on a simulated GPIO pin, an ESC/POS printer
// simulator on TCP, the hall's agent, and the hub with its queue.
type hallEnv struct {
	*env
	printer *escpossim.Sim
	button  *gpiosim.Sim
	tokens  map[string]string
}

var hallPin int

func newHall(t testing.TB) *hallEnv { return newHallWith(t, false, nil) }

// newHallWith is newHall with mosquitto as the broker when external, and the hub's options
// changed by mod.
func newHallWith(t testing.TB, external bool, mod func(*hub.Options)) *hallEnv {
	t.Helper()
	pr := escpossim.New(escpossim.Config{})
	addr, err := pr.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pr.Close() })
	hallPin++
	btn, err := gpiosim.New(gpiosim.Config{Name: fmt.Sprintf("HALL_%s_%d", t.Name(), hallPin), ActiveLow: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { btn.Close() })
	r, err := config.ParseRoom("hall.yaml", []byte(`site: `+site+`
room: hall
kind: litigation-hall
name: Hall
poll: 1s
command_timeout: 2s
devices:
  - {id: printer, driver: escpos, address: "`+addr+`"}
  - {id: button, driver: gpio, options: {pin: "`+btn.Name()+`", mode: button, active_low: "true", debounce_ms: "5"}}
queue:
  status_url: https://court.example/q/{number}
  printers: [printer]
  services:
    - {id: A, name: Filing}
    - {id: B, name: Payments}
    - {id: Z, name: Benchmark, digits: 5}
  windows:
    - {id: w1, name: Window 1, names: {zh: 1号窗口}, services: [A, B, Z]}
    - {id: w2, name: Window 2, services: [B, A, Z], policy: longest-wait}
  buttons:
    - {device: button, event: button, match: {pressed: true}, service: A, printer: printer}
`))
	if err != nil {
		t.Fatal(err)
	}
	e := &hallEnv{env: newEnvRoomsWith(t, external, mod, r), printer: pr, button: btn, tokens: map[string]string{}}
	ctx := context.Background()
	for _, u := range [][2]string{{"clerk", "clerk"}, {"kiosk", "kiosk"}} {
		if err := hub.AddUser(ctx, e.hub.Store(), u[0], u[1], "pw-"+u[0]); err != nil {
			t.Fatal(err)
		}
	}
	for _, u := range []string{"clerk", "kiosk", "monitor", "tech"} {
		e.tokens[u] = e.login(u)
	}
	return e
}

func (e *hallEnv) waitTickets(n int) []escpossim.Ticket {
	e.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		if ts := e.printer.Tickets(); len(ts) >= n {
			return ts
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("the printer printed %d tickets, want %d", len(e.printer.Tickets()), n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// checkPrinted checks one ticket as the printer received it: the service in bold 2×2, the
// number in bold 4×4, both centred, the waiting line, the status QR code, and the cut the
// driver ends tickets with (GS V 66 0: feed and partial cut).
func checkPrinted(t *testing.T, tk escpossim.Ticket, number, service string, ahead int) {
	t.Helper()
	num, ok := tk.Line(number)
	if !ok || !num.Bold || num.Width != 4 || num.Height != 4 || num.Align != "center" {
		t.Errorf("number line %+v (found %v) in %v", num, ok, tk.Texts())
	}
	svc, ok := tk.Line(service)
	if !ok || !svc.Bold || svc.Width != 2 {
		t.Errorf("service line %+v (found %v) in %v", svc, ok, tk.Texts())
	}
	if _, ok := tk.Line("Waiting before you: " + strconv.Itoa(ahead)); !ok {
		t.Errorf("no waiting line in %v", tk.Texts())
	}
	if qr := tk.QRs(); len(qr) != 1 || qr[0] != "https://court.example/q/"+number {
		t.Errorf("QR codes %v", qr)
	}
	if tk.Cut != "partial" {
		t.Errorf("cut %q", tk.Cut)
	}
}

// TestQueuePrintAndButton: a ticket issued through the API with a printer is printed by the
// real driver on the simulator, through the agent and the embedded broker; a press of the
// kiosk's GPIO button issues and prints the next ticket.
func TestQueuePrintAndButton(t *testing.T) {
	e := newHall(t)
	ev := e.openEvents(e.tokens["monitor"])
	deadline := time.Now().Add(5 * time.Second)
	for !e.roomOnline(e.tokens["monitor"], "hall") {
		if time.Now().After(deadline) {
			t.Fatal("the hall's agent did not come online")
		}
		time.Sleep(20 * time.Millisecond)
	}
	st, body := e.call("POST", "/api/v1/queues/"+site+"/hall/tickets", e.tokens["kiosk"], map[string]any{"service": "B", "printer": "printer"})
	if st != http.StatusCreated || body["number"] != "B001" {
		t.Fatalf("issue: %d %v", st, body)
	}
	checkPrinted(t, e.waitTickets(1)[0], "B001", "Payments", 0)

	e.call("POST", "/api/v1/queues/"+site+"/hall/tickets", e.tokens["kiosk"], map[string]any{"service": "A"}) // A001, not printed
	e.button.Click(30*time.Millisecond, true)
	got := ev.wait(t, 5*time.Second, "a ticket from the button", func(typ string, d map[string]any) bool {
		tk, _ := d["ticket"].(map[string]any)
		return typ == "queue" && d["action"] == "issued" && tk["source"] == "button:button"
	})
	if tk := got["data"].(map[string]any)["ticket"].(map[string]any); tk["number"] != "A002" {
		t.Fatalf("the button issued %v", tk)
	}
	ts := e.waitTickets(2)
	checkPrinted(t, ts[1], "A002", "Filing", 1)
	time.Sleep(100 * time.Millisecond)
	if n := len(e.printer.Tickets()); n != 2 {
		t.Errorf("%d tickets printed for one click, want 2 in all", n)
	}

	// A window calls: the display's event carries the call.
	st, body = e.call("POST", "/api/v1/queues/"+site+"/hall/windows/w1/call-next", e.tokens["clerk"], nil)
	if st != http.StatusOK || body["number"] != "A001" {
		t.Fatalf("call next: %d %v", st, body)
	}
	ev.wait(t, 5*time.Second, "the call", func(typ string, d map[string]any) bool {
		tk, _ := d["ticket"].(map[string]any)
		return typ == "queue" && d["action"] == "called" && tk["number"] == "A001" && d["window"] == "w1"
	})
	// The gauge shows the queue's length per service.
	resp, err := http.Get(e.url("/metrics"))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	metrics, _ := io.ReadAll(resp.Body)
	for _, want := range []string{`bailiff_queue_waiting{room="hall",service="A",site="court"} 1`, `bailiff_queue_waiting{room="hall",service="B",site="court"} 1`} {
		if !strings.Contains(string(metrics), want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

// TestQueueLifecycleConcurrent runs kiosks and windows at once over the HTTP API, restarts the
// hub in the middle, and checks that no ticket is issued twice or lost, that each service's
// numbers go up with no gap, and that every ticket is called once.
func TestQueueLifecycleConcurrent(t *testing.T) {
	e := newHall(t)
	const kiosks, perPhase = 6, 10
	var (
		mu     sync.Mutex
		issued = map[string]int{} // number → times issued
		called = map[string]int{}
		byK    = make([][]string, kiosks) // numbers each kiosk got, in order
	)
	path := "/api/v1/queues/" + site + "/hall"
	phase := func() {
		var kw, ww sync.WaitGroup
		stop := make(chan struct{})
		for k := range kiosks {
			kw.Go(func() {
				for range perPhase {
					who := "kiosk"
					if k == 0 {
						who = "clerk" // staff issue the priority tickets
					}
					st, body := e.call("POST", path+"/tickets", e.tokens[who], map[string]any{"service": []string{"A", "B"}[k%2], "priority": k == 0})
					if st != http.StatusCreated {
						t.Errorf("issue: %d %v", st, body)
						return
					}
					n := body["number"].(string)
					mu.Lock()
					issued[n]++
					byK[k] = append(byK[k], n)
					mu.Unlock()
				}
			})
		}
		for _, w := range []string{"w1", "w2"} {
			ww.Go(func() {
				for {
					st, body := e.call("POST", path+"/windows/"+w+"/call-next", e.tokens["clerk"], nil)
					switch st {
					case http.StatusOK:
						mu.Lock()
						called[body["number"].(string)]++
						mu.Unlock()
						continue
					case http.StatusConflict: // nothing waiting now
					default:
						t.Errorf("call next: %d %v", st, body)
						return
					}
					select {
					case <-stop:
						return
					case <-time.After(2 * time.Millisecond):
					}
				}
			})
		}
		kw.Wait()
		// Let the windows drain the queue, then stop them.
		deadline := time.Now().Add(20 * time.Second)
		for {
			st, body := e.call("GET", path, e.tokens["clerk"], nil)
			if st != http.StatusOK {
				t.Fatalf("live: %d %v", st, body)
			}
			empty := true
			for _, s := range body["services"].([]any) {
				if len(s.(map[string]any)["waiting"].([]any)) > 0 {
					empty = false
				}
			}
			if empty || time.Now().After(deadline) {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		close(stop)
		ww.Wait()
	}
	phase()
	// Leave a ticket waiting and one called across the restart.
	e.call("POST", path+"/tickets", e.tokens["kiosk"], map[string]any{"service": "A"})
	e.call("POST", path+"/tickets", e.tokens["kiosk"], map[string]any{"service": "A"})
	_, cur := e.call("POST", path+"/windows/w1/call-next", e.tokens["clerk"], nil)
	_, before := e.call("GET", path, e.tokens["clerk"], nil)
	e.hub.Close()
	e.startHub()
	for _, u := range []string{"clerk", "kiosk"} {
		e.tokens[u] = e.login(u) // sessions survive too, but log in as a new shift would
	}
	_, after := e.call("GET", path, e.tokens["clerk"], nil)
	if fmt.Sprint(before) != fmt.Sprint(after) {
		t.Fatalf("the live queue changed over the restart:\n%v\n%v", before, after)
	}
	st, done := e.call("POST", path+"/windows/w1/complete", e.tokens["clerk"], nil)
	if st != http.StatusOK || done["number"] != cur["number"] {
		t.Fatalf("complete after restart: %d %v (current was %v)", st, done, cur["number"])
	}
	mu.Lock()
	called[cur["number"].(string)]++
	issued[cur["number"].(string)]++
	mu.Unlock()
	// The other waiting ticket is called in phase 2 (counted as issued here).
	lw := after["services"].([]any)[0].(map[string]any)["waiting"].([]any)
	if len(lw) != 1 {
		t.Fatalf("waiting after restart: %v", lw)
	}
	issued[lw[0].(map[string]any)["number"].(string)]++
	phase()

	total := 2*kiosks*perPhase + 2
	if len(issued) != total || len(called) != total {
		t.Fatalf("issued %d distinct, called %d, want %d", len(issued), len(called), total)
	}
	for n, c := range issued {
		if c != 1 || called[n] != 1 {
			t.Errorf("%s issued %d times, called %d times", n, c, called[n])
		}
	}
	for _, s := range []string{"A", "B"} {
		count := 0
		for n := range issued {
			if n[:1] == s {
				count++
			}
		}
		for i := 1; i <= count; i++ {
			if issued[fmt.Sprintf("%s%03d", s, i)] != 1 {
				t.Errorf("%s: number %d missing (numbers have a gap)", s, i)
			}
		}
	}
	for k, ns := range byK {
		if !slices.IsSorted(ns) {
			t.Errorf("kiosk %d got numbers out of order: %v", k, ns)
		}
	}
}

// BenchmarkQueueAPI measures tickets through the HTTP API of a running hub: each iteration
// issues one ticket (as a kiosk) and calls it at a window (as a clerk), every change written
// to the store. "clients=N" runs N kiosk/window pairs at once.
func BenchmarkQueueAPI(b *testing.B) {
	for _, clients := range []int{1, 8} {
		b.Run(fmt.Sprintf("clients=%d", clients), func(b *testing.B) {
			e := newHall(b)
			path := "/api/v1/queues/" + site + "/hall"
			var next sync.Mutex
			n := 0
			b.ResetTimer()
			start := time.Now()
			var wg sync.WaitGroup
			for c := range clients {
				wg.Go(func() {
					win := []string{"w1", "w2"}[c%2]
					for {
						next.Lock()
						if n >= b.N {
							next.Unlock()
							return
						}
						n++
						next.Unlock()
						if st, body := e.call("POST", path+"/tickets", e.tokens["kiosk"], map[string]any{"service": "Z"}); st != http.StatusCreated {
							b.Errorf("issue: %d %v", st, body)
							return
						}
						if st, body := e.call("POST", path+"/windows/"+win+"/call-next", e.tokens["clerk"], nil); st != http.StatusOK && st != http.StatusConflict {
							b.Errorf("call next: %d %v", st, body)
							return
						}
					}
				})
			}
			wg.Wait()
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "tickets/s")
		})
	}
}
