package bridge

import (
	"context"
	"crypto/ed25519"
	"testing"
	"time"

	"github.com/bailiff/bailiff/drivers/transport"
	"github.com/bailiff/bailiff/firmware-bridge/devsim"
	"github.com/bailiff/bailiff/firmware-bridge/frame"
	"github.com/bailiff/bailiff/firmware-bridge/ota"
)

// BenchmarkUpdateThroughput115200 sends a 32 KiB image over a pty pair to a device that reads
// and writes at 115200 baud (devsim paces its line: ten bits a byte, as 8N1), and reports the
// image bytes per second of the transfer (begin to the last chunk ack, as "B/s") and that as a
// fraction of the line rate, 11520 bytes/s ("%line"). Run with -benchtime=1x: one op takes ~3 s.
func BenchmarkUpdateThroughput115200(b *testing.B) {
	const baud = 115200
	key := testKey(1)
	image := testImage(32 << 10)
	m, err := ota.New("tally-light", v110, image, key)
	if err != nil {
		b.Fatal(err)
	}
	var total time.Duration
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		sim := devsim.New(devsim.Config{Version: v100, Caps: frame.CapUpdate, Baud: baud,
			TrustedKeys: []ed25519.PublicKey{key.Public().(ed25519.PublicKey)}})
		if err := sim.Start(); err != nil {
			b.Fatal(err)
		}
		br := New(Config{Address: sim.Address(), Serial: transportBaud(baud)})
		br.Start()
		for deadline := time.Now().Add(5 * time.Second); !reachable(br); time.Sleep(5 * time.Millisecond) {
			if time.Now().After(deadline) {
				b.Fatal("no hello")
			}
		}
		var start, end time.Time
		progress := func(p Progress) {
			switch {
			case p.Step == StepDownloading && start.IsZero():
				start = time.Now()
			case p.Step == StepDownloading && p.Offset == m.Size:
				end = time.Now()
			}
		}
		b.StartTimer()
		err := br.Update(context.Background(), m, image, false, progress)
		b.StopTimer()
		if err != nil {
			b.Fatal(err)
		}
		total += end.Sub(start)
		br.Close()
		sim.Close()
	}
	bps := float64(len(image)) * float64(b.N) / total.Seconds()
	b.ReportMetric(bps, "B/s")
	b.ReportMetric(100*bps/(baud/10), "%line")
}

func transportBaud(baud int) transport.Options { return transport.Options{Baud: baud} }
