package sfu

import "github.com/pion/rtp"

// An Opus frame that decodes to silence: a CELT frame whose first coded
// flag (RFC 6716 §4.3, "silence") is set.
var celtSilence = [2]byte{0xff, 0xfe}

// opusDuration is the duration of an Opus packet in 2.5 ms units, from
// its TOC byte and frame count (RFC 6716 §3.1), or 0 if it is malformed.
func opusDuration(b []byte) int {
	if len(b) == 0 {
		return 0
	}
	config := int(b[0] >> 3)
	var unit int // one frame, in 2.5 ms units
	switch {
	case config < 12: // SILK: 10, 20, 40, 60 ms
		unit = [4]int{4, 8, 16, 24}[config%4]
	case config < 16: // hybrid: 10, 20 ms
		unit = [2]int{4, 8}[config%2]
	default: // CELT: 2.5, 5, 10, 20 ms
		unit = [4]int{1, 2, 4, 8}[config%4]
	}
	frames := 1
	switch b[0] & 3 {
	case 1, 2:
		frames = 2
	case 3:
		if len(b) < 2 {
			return 0
		}
		frames = int(b[1] & 0x3f)
	}
	if d := unit * frames; d > 0 && d <= 48 { // at most 120 ms
		return d
	}
	return 0
}

// opusSilence is an Opus packet of silence as long as the packet b (20 ms
// if b is malformed), in b's channel count: one CELT full-band frame when
// that is long enough, else 20 ms frames (with a last shorter one) in a
// code 3 packet.
func opusSilence(b []byte) []byte {
	d := opusDuration(b)
	var stereo byte
	if d == 0 {
		d = 8
	} else {
		stereo = b[0] & 0x04
	}
	for i, u := range [4]int{1, 2, 4, 8} {
		if d == u {
			return []byte{byte(28+i)<<3 | stereo, celtSilence[0], celtSilence[1]}
		}
	}
	// Longer than 20 ms: 20 ms frames, CBR. Durations are multiples of
	// 2.5 ms; what does not fill a 20 ms frame is rounded up (at most
	// 17.5 ms more than the source, only for malformed oddities).
	n := (d + 7) / 8
	out := make([]byte, 0, 2+2*n)
	out = append(out, 31<<3|stereo|3, byte(n))
	for range n {
		out = append(out, celtSilence[0], celtSilence[1])
	}
	return out
}

// silenced returns a copy of p whose payload is Opus silence of the same
// duration: the receiver's decoder keeps its time, and hears nothing.
func silenced(p *rtp.Packet) *rtp.Packet {
	q := &rtp.Packet{Header: p.Header, Payload: opusSilence(p.Payload)}
	q.Header.Padding, q.Header.PaddingSize = false, 0
	return q
}
