package integration

import (
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/bailiff/bailiff/drivers/pjlink/pjlinksim"
	"github.com/bailiff/bailiff/internal/testutil"
)

// BenchmarkCommandRoundTrip measures API → hub → broker → agent → PJLink driver → simulator →
// ack → API, and reports p50 and p99. "load=saturate" runs one client per room sending
// commands back to back (the most the machine does); "load=200/s" sends 200 commands a second
// spread over the rooms, each on its own connection, as API clients would.
func BenchmarkCommandRoundTrip(b *testing.B) {
	for _, rooms := range []int{1, 50} {
		for _, rate := range []int{0, 200} {
			for _, external := range []bool{false, true} {
				brk, load := "embedded", "saturate"
				if external {
					brk = "mosquitto"
				}
				if rate > 0 {
					load = fmt.Sprintf("%d/s", rate)
				}
				b.Run(fmt.Sprintf("rooms=%d/load=%s/broker=%s", rooms, load, brk), func(b *testing.B) { benchRoundTrip(b, rooms, rate, external) })
			}
		}
	}
}

func benchRoundTrip(b *testing.B, rooms, rate int, external bool) {
	e := newEnv(b, rooms, external)
	token := e.login("judge")
	testutil.Eventually(b, 20*time.Second, "every display reachable", func() bool {
		for i := 1; i <= rooms; i++ {
			d := e.device(token, fmt.Sprintf("r%d", i), "display")
			if d == nil || d["reachable"] != true {
				return false
			}
		}
		return true
	})
	for i := 1; i <= rooms; i++ {
		room := fmt.Sprintf("r%d", i)
		if st, body := e.command(token, room, "display", "power", map[string]any{"on": true}); st != 200 {
			b.Fatalf("power on: %d %v", st, body)
		}
		testutil.Eventually(b, 5*time.Second, "display warm", func() bool { return e.sims[room+"/display"].State().Power == pjlinksim.PowerOn })
	}
	var mu sync.Mutex
	var lat []time.Duration
	per := (b.N + rooms - 1) / rooms
	b.ResetTimer()
	var wg sync.WaitGroup
	if rate > 0 {
		tick := time.NewTicker(time.Second / time.Duration(rate))
		for n := 0; n < b.N; n++ {
			<-tick.C
			room := fmt.Sprintf("r%d", n%rooms+1)
			wg.Add(1)
			go func() {
				defer wg.Done()
				start := time.Now()
				st, body := e.command(token, room, "display", "blank", map[string]any{"on": n%2 == 0})
				d := time.Since(start)
				if st != 200 {
					b.Errorf("command: %d %v", st, body)
					return
				}
				mu.Lock()
				lat = append(lat, d)
				mu.Unlock()
			}()
		}
		tick.Stop()
	}
	for i := 1; i <= rooms && rate == 0; i++ {
		room := fmt.Sprintf("r%d", i)
		wg.Add(1)
		go func() {
			defer wg.Done()
			local := make([]time.Duration, 0, per)
			for n := 0; n < per; n++ {
				start := time.Now()
				st, body := e.command(token, room, "display", "blank", map[string]any{"on": n%2 == 0})
				if st != 200 {
					b.Errorf("command: %d %v", st, body)
					return
				}
				local = append(local, time.Since(start))
			}
			mu.Lock()
			lat = append(lat, local...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	b.StopTimer()
	if len(lat) == 0 {
		return
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	q := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))].Microseconds()) / 1000 }
	b.ReportMetric(q(0.50), "p50-ms")
	b.ReportMetric(q(0.99), "p99-ms")
	b.ReportMetric(float64(len(lat))/b.Elapsed().Seconds(), "cmds/s")
}
