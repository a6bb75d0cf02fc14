package audio

import "math"

// Floor is the level reported for digital silence and for anything quieter: −120 dBFS,
// below the noise of any 24-bit converter and far below what a panel shows.
const Floor = -120.0

// DBFS returns the level, in dBFS, of an amplitude relative to full scale (1): 20·log10(a),
// and Floor for a at or below 10^(Floor/20) (0 and NaN included).
//
// RMS and peak use the same reference, so a full-scale square wave reads 0 dBFS RMS and a
// full-scale sine −3.01 dBFS RMS, 0 dBFS peak (not the AES17 convention, which adds
// 3.01 dB to RMS readings so that the sine reads 0).
func DBFS(a float64) float64 {
	if !(a > 0) {
		return Floor
	}
	return max(20*math.Log10(a), Floor)
}

// Meter measures the RMS and peak level of each channel of interleaved frames over
// consecutive windows of a fixed number of sample frames. It is not safe for concurrent use.
type Meter struct {
	channels int
	window   int // sample frames per window
	n        int // sample frames in the current window
	sumSq    []float64
	peak     []float32
	rms, pk  []float64 // results handed to done, reused
}

// NewMeter returns a Meter of channels (at least 1) measuring windows of window sample
// frames (at least 1).
func NewMeter(channels, window int) *Meter {
	channels, window = max(channels, 1), max(window, 1)
	return &Meter{
		channels: channels, window: window,
		sumSq: make([]float64, channels), peak: make([]float32, channels),
		rms: make([]float64, channels), pk: make([]float64, channels),
	}
}

// Add measures frame, interleaved samples of whole sample frames (a trailing partial one is
// ignored). Each time a window fills, Add calls done with the window's RMS and peak level of
// each channel in dBFS (slices valid only during the call) and starts the next window; a
// window may end inside a frame. It does not allocate.
func (m *Meter) Add(frame []float32, done func(rms, peak []float64)) {
	ch := m.channels
	frame = frame[:len(frame)-len(frame)%ch]
	for len(frame) > 0 {
		take := min(m.window-m.n, len(frame)/ch)
		m.accumulate(frame[:take*ch])
		frame = frame[take*ch:]
		m.n += take
		if m.n == m.window {
			for c := range ch {
				m.rms[c] = DBFS(math.Sqrt(m.sumSq[c] / float64(m.window)))
				m.pk[c] = DBFS(float64(m.peak[c]))
				m.sumSq[c], m.peak[c] = 0, 0
			}
			m.n = 0
			if done != nil {
				done(m.rms, m.pk)
			}
		}
	}
}

// accumulate adds the squares and the peaks of seg, whole sample frames, a channel at a time.
func (m *Meter) accumulate(seg []float32) {
	ch := m.channels
	for c := range ch {
		sum, peak := sumPeak(seg[c:], ch)
		m.sumSq[c] += sum
		if peak > m.peak[c] {
			m.peak[c] = peak
		}
	}
}

// sumPeak returns the sum of squares and the largest magnitude of every stride-th sample of
// seg. It keeps four sums, so that the additions do not wait on one another, and compares by
// hand: the float min and max builtins handle NaN and −0, which costs as much again.
func sumPeak(seg []float32, stride int) (sum float64, peak float32) {
	var s0, s1, s2, s3 float64
	var p0, p1, p2, p3 float32
	i := 0
	for ; i+3*stride < len(seg); i += 4 * stride {
		a, b, c, d := seg[i], seg[i+stride], seg[i+2*stride], seg[i+3*stride]
		s0 += float64(a) * float64(a)
		s1 += float64(b) * float64(b)
		s2 += float64(c) * float64(c)
		s3 += float64(d) * float64(d)
		p0 = maxAbs(p0, a)
		p1 = maxAbs(p1, b)
		p2 = maxAbs(p2, c)
		p3 = maxAbs(p3, d)
	}
	for ; i < len(seg); i += stride {
		v := seg[i]
		s0 += float64(v) * float64(v)
		p0 = maxAbs(p0, v)
	}
	if p1 > p0 {
		p0 = p1
	}
	if p3 > p2 {
		p2 = p3
	}
	if p2 > p0 {
		p0 = p2
	}
	return (s0 + s1) + (s2 + s3), p0
}

// maxAbs returns the larger of p and |v|.
func maxAbs(p, v float32) float32 {
	v = math.Float32frombits(math.Float32bits(v) &^ (1 << 31)) // |v| without a branch
	if v > p {
		return v
	}
	return p
}
