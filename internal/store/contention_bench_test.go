package store

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"
)

// BenchmarkAppendAuditBesideBroker appends audit entries, one command's worth each, 200 a
// second in bursts of eight at once (API requests), while the
// embedded broker's persistence writes a batch of retained states every 20ms into the same
// database, as in a loaded hub. It reports the appends' p50, p99 and max: a writer that finds
// the database locked must wait for the other, not sleep in SQLite's busy handler.
func BenchmarkAppendAuditBesideBroker(b *testing.B) {
	s, err := Open(filepath.Join(b.TempDir(), "hub.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		for i := 0; ; i++ {
			ops := make([]KVOp, 20)
			for j := range ops {
				ops[j] = KVOp{Bucket: "retained", Key: fmt.Sprintf("bailiff/v1/load/r%04d/d/d%d/state", (i*20+j)%1000, j%8),
					Value: []byte(`{"reachable":true,"state":{"power":"on","input":"3"},"at":"2026-11-29T10:00:00Z"}`)}
			}
			if err := s.KVApply(ops); err != nil {
				b.Error(err)
				return
			}
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	}()
	// Eight API requests at a time, 200 a second in all.
	var (
		mu   sync.Mutex
		took []time.Duration
		work = make(chan struct{})
		ws   sync.WaitGroup
	)
	for range 8 {
		ws.Add(1)
		go func() {
			defer ws.Done()
			for range work {
				t0 := time.Now()
				if _, err := s.AppendAudit(ctx, AuditEntry{User: "loadgen", Role: "technician", Action: "command", Target: "load/r0001/d1", Result: "ok", Detail: `{"action":"power","args":{"on":true}}`}); err != nil {
					b.Error(err)
				}
				mu.Lock()
				took = append(took, time.Since(t0))
				mu.Unlock()
			}
		}()
	}
	// In bursts of eight every 40ms, as requests come when a busy machine lets them run.
	for i := 0; b.Loop(); i++ {
		work <- struct{}{}
		if i%8 == 7 {
			time.Sleep(40 * time.Millisecond)
		}
	}
	close(work)
	ws.Wait()
	close(stop)
	wg.Wait()
	slices.Sort(took)
	b.ReportMetric(float64(took[len(took)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(took[len(took)*99/100].Microseconds()), "p99-µs")
	b.ReportMetric(float64(took[len(took)-1].Microseconds()), "max-µs")
}
