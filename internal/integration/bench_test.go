package integration

import (
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/bailiff/bailiff/drivers/pjlink/pjlinksim"
	"github.com/bailiff/bailiff/internal/config"
	"github.com/bailiff/bailiff/internal/hub"
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
	benchRoundTripWith(b, rooms, rate, external, nil)
}

// benchRoundTripWith is benchRoundTrip with the hub's options changed by mod.
func benchRoundTripWith(b *testing.B, rooms, rate int, external bool, mod func(*hub.Options)) {
	e := newEnvWith(b, rooms, external, mod)
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
	reportLatencies(b, lat)
}

// reportLatencies reports the commands' p50, p99 and rate.
func reportLatencies(b *testing.B, lat []time.Duration) {
	if len(lat) == 0 {
		return
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	q := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))].Microseconds()) / 1000 }
	b.ReportMetric(q(0.50), "p50-ms")
	b.ReportMetric(q(0.99), "p99-ms")
	b.ReportMetric(float64(len(lat))/b.Elapsed().Seconds(), "cmds/s")
}

// BenchmarkSceneRun measures one scene run through the API: a parallel group (blank on at the
// projector and the display), then the two blank off in sequence — four real commands over
// MQTT to the agent, PJLink to the simulators — with the scene's audit entry and event.
func BenchmarkSceneRun(b *testing.B) {
	e := newEnv(b, 1, false)
	r := e.rooms[0]
	r.Scenes = []config.Scene{{Name: "blink", Steps: []config.Step{
		{Parallel: []config.Step{
			{Device: "projector", Action: "blank", Args: config.Args(`{"on":true}`)},
			{Device: "display", Action: "blank", Args: config.Args(`{"on":true}`)},
		}},
		{Device: "projector", Action: "blank", Args: config.Args(`{"on":false}`)},
		{Device: "display", Action: "blank", Args: config.Args(`{"on":false}`)},
	}}}
	if err := r.Validate(); err != nil {
		b.Fatal(err)
	}
	token := e.login("judge")
	testutil.Eventually(b, 20*time.Second, "devices reachable", func() bool {
		p, d := e.device(token, "r1", "projector"), e.device(token, "r1", "display")
		return p != nil && d != nil && p["reachable"] == true && d["reachable"] == true
	})
	for _, dev := range []string{"projector", "display"} {
		if st, body := e.command(token, "r1", dev, "power", map[string]any{"on": true}); st != 200 {
			b.Fatalf("power on: %d %v", st, body)
		}
		testutil.Eventually(b, 5*time.Second, dev+" warm", func() bool { return e.sims["r1/"+dev].State().Power == pjlinksim.PowerOn })
	}
	var lat []time.Duration
	for b.Loop() {
		start := time.Now()
		st, run := e.call("POST", "/api/v1/rooms/"+site+"/r1/scenes/blink", token, nil)
		if st != 200 || run["ok"] != true {
			b.Fatalf("scene: %d %v", st, run)
		}
		lat = append(lat, time.Since(start))
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
}
