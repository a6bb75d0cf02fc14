package audio

import (
	"math"
	"testing"
)

func TestDBFS(t *testing.T) {
	for _, tc := range []struct{ a, want float64 }{
		{1, 0}, {0.5, -6.0206}, {0.1, -20}, {1 / math.Sqrt2, -3.0103}, {1e-6, -120},
		{1e-7, Floor}, {0, Floor}, {-1, Floor}, {math.NaN(), Floor},
	} {
		if got := DBFS(tc.a); math.Abs(got-tc.want) > 1e-4 {
			t.Errorf("DBFS(%v) = %v, want %v", tc.a, got, tc.want)
		}
	}
}

// sine returns n sample frames of a sine of freq Hz and peak amp, on channels copies.
func sine(rate, channels, n int, freq, amp float64) []float32 {
	out := make([]float32, 0, n*channels)
	for i := range n {
		v := float32(amp * math.Sin(2*math.Pi*freq*float64(i)/float64(rate)))
		for range channels {
			out = append(out, v)
		}
	}
	return out
}

// measure runs frame through a Meter of one window of window frames, fed in pieces of
// piece sample frames, and returns each window's levels.
func measure(channels, window, piece int, frame []float32) (rms, peak [][]float64) {
	m := NewMeter(channels, window)
	for len(frame) > 0 {
		n := min(piece*channels, len(frame))
		m.Add(frame[:n], func(r, p []float64) {
			rms = append(rms, append([]float64(nil), r...))
			peak = append(peak, append([]float64(nil), p...))
		})
		frame = frame[n:]
	}
	return rms, peak
}

func TestMeterKnownSignals(t *testing.T) {
	const rate = 48000
	minus20 := math.Pow(10, -20.0/20)
	square := make([]float32, 4800)
	for i := range square {
		square[i] = 1
		if i/24%2 == 1 {
			square[i] = -1
		}
	}
	for _, tc := range []struct {
		name      string
		frame     []float32
		rms, peak float64
	}{
		// 1 kHz over 100 ms: 100 whole periods; 48 samples a period hit the crest exactly.
		{"full-scale sine", sine(rate, 1, 4800, 1000, 1), -3.0103, 0},
		{"-20 dBFS sine", sine(rate, 1, 4800, 1000, minus20), -23.0103, -20},
		{"full-scale square", square, 0, 0},
		{"silence", make([]float32, 4800), Floor, Floor},
		{"below the floor", sine(rate, 1, 4800, 1000, 1e-7), Floor, Floor},
	} {
		for _, piece := range []int{480, 7, 4800} {
			rms, peak := measure(1, 4800, piece, tc.frame)
			if len(rms) != 1 {
				t.Fatalf("%s: %d windows", tc.name, len(rms))
			}
			if math.Abs(rms[0][0]-tc.rms) > 0.001 || math.Abs(peak[0][0]-tc.peak) > 0.001 {
				t.Errorf("%s in pieces of %d: RMS %.4f peak %.4f, want %.4f and %.4f", tc.name, piece, rms[0][0], peak[0][0], tc.rms, tc.peak)
			}
		}
	}
}

// Channels are measured apart, whatever their number (1, 2 and the general path).
func TestMeterChannels(t *testing.T) {
	for _, ch := range []int{1, 2, 3, 8} {
		n := 4800
		frame := make([]float32, n*ch)
		for i := range n {
			for c := range ch {
				amp := math.Pow(10, -float64(c*10)/20) // channel c+1 at −10·c dBFS peak
				frame[i*ch+c] = float32(amp * math.Sin(2*math.Pi*1000*float64(i)/48000))
			}
		}
		rms, peak := measure(ch, 2400, 480, frame)
		if len(rms) != 2 {
			t.Fatalf("%d channels: %d windows, want 2", ch, len(rms))
		}
		for w := range rms {
			for c := range ch {
				if math.Abs(peak[w][c]+float64(c*10)) > 0.001 || math.Abs(rms[w][c]+float64(c*10)+3.0103) > 0.001 {
					t.Errorf("%d channels, window %d, channel %d: RMS %.4f peak %.4f", ch, w, c+1, rms[w][c], peak[w][c])
				}
			}
		}
	}
}

// Windows end inside frames; a window's levels are its own, not the previous one's.
func TestMeterWindows(t *testing.T) {
	loud := sine(48000, 1, 480, 1000, 1)
	quiet := make([]float32, 480)
	var frame []float32
	frame = append(frame, loud...)
	frame = append(frame, quiet...)
	frame = append(frame, loud...)
	rms, peak := measure(1, 480, 100, frame) // pieces of 100 straddle every window edge
	if len(rms) != 3 || peak[0][0] != 0 || peak[1][0] != Floor || rms[1][0] != Floor || peak[2][0] != 0 {
		t.Fatalf("rms %v peak %v", rms, peak)
	}
	// A trailing partial sample frame is ignored.
	m := NewMeter(2, 2)
	calls := 0
	m.Add([]float32{1, 1, 1, 1, 1}, func(r, p []float64) { calls++ })
	if calls != 1 || m.n != 0 {
		t.Fatalf("%d calls, %d frames left", calls, m.n)
	}
	// No callback is fine.
	m.Add([]float32{1, 1, 1, 1}, nil)
	if NewMeter(0, 0).window != 1 {
		t.Fatal("NewMeter(0, 0) window")
	}
}

func TestMeterDoesNotAllocate(t *testing.T) {
	m := NewMeter(2, 9600)
	frame := sine(48000, 2, 480, 1000, 0.5)
	done := func(r, p []float64) {}
	if n := testing.AllocsPerRun(100, func() { m.Add(frame, done) }); n != 0 {
		t.Fatalf("%v allocations per Add", n)
	}
}
