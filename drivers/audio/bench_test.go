package audio

import (
	"fmt"
	"testing"
)

// BenchmarkMeter measures the metering path per 10 ms frame at 48 kHz: the Meter alone, and
// an Input's whole per-frame path (gain, meter, levels published every 200 ms).
func BenchmarkMeter(b *testing.B) {
	for _, ch := range []int{1, 2, 8} {
		frame := sine(48000, ch, 480, 1000, 0.5)
		b.Run(fmt.Sprintf("meter/%dch", ch), func(b *testing.B) {
			m := NewMeter(ch, 9600)
			done := func(rms, peak []float64) {}
			b.SetBytes(int64(len(frame) * 4))
			b.ReportAllocs()
			for b.Loop() {
				m.Add(frame, done)
			}
		})
		b.Run(fmt.Sprintf("input/%dch", ch), func(b *testing.B) {
			in := New(nil, Options{})
			in.setGain(-3)
			p := in.newProcessor(Format{48000, ch})
			p.started = true
			work := make([]float32, len(frame))
			b.SetBytes(int64(len(frame) * 4))
			b.ReportAllocs()
			for b.Loop() {
				copy(work, frame)
				p.frame(work)
			}
			in.Close()
		})
	}
}
