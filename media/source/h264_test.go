package source

import (
	"bytes"
	"encoding/binary"
	"testing"

	"github.com/pion/rtp"
)

var (
	testSPS = []byte{0x67, 0x42, 0xc0, 0x1e, 0xd9}
	testPPS = []byte{0x68, 0xce, 0x3c, 0x80}
)

func pkt(seq uint16, ts uint32, marker bool, payload ...byte) *rtp.Packet {
	return &rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: seq, Timestamp: ts, Marker: marker}, Payload: payload}
}

func stapA(nals ...[]byte) []byte {
	b := []byte{0x78}
	for _, n := range nals {
		b = binary.BigEndian.AppendUint16(b, uint16(len(n)))
		b = append(b, n...)
	}
	return b
}

// An IDR without parameter sets in band gets them, from the SDP, in a STAP-A before it; one
// with them in band is left alone; later numbers move up by the packet added.
func TestFixerInjectsParameterSets(t *testing.T) {
	f := newH264Fixer(0)
	f.session(testSPS, testPPS)
	out := f.push(pkt(100, 9000, true, 0x65, 1, 2, 3))
	if len(out) != 2 || !bytes.Equal(out[0].Payload, stapA(testSPS, testPPS)) || out[0].Marker || !out[1].Marker {
		t.Fatalf("IDR without SPS/PPS: %v", out)
	}
	if out[0].SequenceNumber != 100 || out[1].SequenceNumber != 101 || out[0].Timestamp != 9000 {
		t.Fatalf("numbering: %d %d", out[0].SequenceNumber, out[1].SequenceNumber)
	}
	if out := f.push(pkt(101, 12000, true, 0x41, 9)); len(out) != 1 || out[0].SequenceNumber != 102 {
		t.Fatalf("P slice after: %v", out)
	}
	// In-band SPS and PPS before the IDR: passed as they are.
	in := []*rtp.Packet{pkt(102, 15000, false, testSPS...), pkt(103, 15000, false, testPPS...), pkt(104, 15000, true, 0x65, 7)}
	var got []*rtp.Packet
	for _, p := range in {
		got = append(got, f.push(p)...)
	}
	if len(got) != 3 || f.Injected != 1 {
		t.Fatalf("in-band parameter sets: %d packets, %d injected", len(got), f.Injected)
	}
	// An FU-A start of an IDR counts as an IDR.
	if out := f.push(pkt(105, 18000, false, 0x7c, 0x85, 1, 2)); len(out) != 2 {
		t.Fatalf("FU-A IDR start without parameter sets: %d packets", len(out))
	}
}

// Oversized packets are split to the payload bound, keeping the NAL unit and the marker.
func TestFixerSplits(t *testing.T) {
	f := newH264Fixer(100)
	nal := append([]byte{0x41}, bytes.Repeat([]byte{0xab}, 450)...)
	out := f.push(pkt(1, 0, true, nal...))
	if len(out) != 5 {
		t.Fatalf("450-byte body in 98-byte fragments: %d packets", len(out))
	}
	var body []byte
	for i, p := range out {
		if len(p.Payload) > 100 || p.Payload[0]&0x1f != 28 || p.Payload[1]&0x1f != 1 {
			t.Fatalf("fragment %d: % x", i, p.Payload[:2])
		}
		if (p.Payload[1]&0x80 != 0) != (i == 0) || (p.Payload[1]&0x40 != 0) != (i == 4) || p.Marker != (i == 4) {
			t.Fatalf("fragment %d flags % x marker %v", i, p.Payload[1], p.Marker)
		}
		if p.SequenceNumber != uint16(1+i) {
			t.Fatalf("fragment %d numbered %d", i, p.SequenceNumber)
		}
		body = append(body, p.Payload[2:]...)
	}
	if !bytes.Equal(body, nal[1:]) || out[0].Payload[0]&0xe0 != nal[0]&0xe0 {
		t.Fatal("the fragments do not make the NAL unit")
	}
	// A middle FU-A that is too large stays a middle fragment.
	mid := append([]byte{0x5c, 0x01}, bytes.Repeat([]byte{1}, 200)...)
	for _, p := range f.push(pkt(2, 0, false, mid...)) {
		if p.Payload[1]&0xc0 != 0 {
			t.Fatalf("a middle fragment got start or end: % x", p.Payload[1])
		}
	}
	// A STAP-A that is too large becomes its NAL units.
	big := append([]byte{0x41}, bytes.Repeat([]byte{2}, 60)...)
	if out := f.push(pkt(3, 0, false, stapA(big, big)...)); len(out) != 2 || !bytes.Equal(out[0].Payload, big) {
		t.Fatalf("STAP-A split: %d packets", len(out))
	}
}

// A camera's own header extensions do not go on to the hub.
func TestFixerDropsExtensions(t *testing.T) {
	p := pkt(1, 0, true, 0x41, 1)
	if err := p.SetExtension(1, []byte{0xab}); err != nil {
		t.Fatal(err)
	}
	out := newH264Fixer(0).push(p)
	if b, _ := out[0].Marshal(); out[0].Extension || b[0]&0x10 != 0 {
		t.Fatal("the extension went on")
	}
}

// A new camera session continues the numbering and the timestamps.
func TestFixerNewSession(t *testing.T) {
	f := newH264Fixer(0)
	f.push(pkt(60000, 1000, true, 0x41, 1))
	f.session(nil, nil)
	out := f.push(pkt(7, 555, true, 0x41, 2))
	if out[0].SequenceNumber != 60001 || out[0].Timestamp != 4000 {
		t.Fatalf("after a reconnect: seq %d ts %d", out[0].SequenceNumber, out[0].Timestamp)
	}
	if out := f.push(pkt(9, 3555, true, 0x41, 3)); out[0].SequenceNumber != 60003 || out[0].Timestamp != 7000 {
		t.Fatalf("a gap stays a gap: seq %d ts %d", out[0].SequenceNumber, out[0].Timestamp)
	}
}

func FuzzH264Fixer(f *testing.F) {
	f.Add([]byte{0x65, 1, 2}, uint16(50))
	f.Add(stapA(testSPS, testPPS, []byte{0x65, 1}), uint16(20))
	f.Add([]byte{0x7c, 0x85, 1, 2, 3, 4, 5, 6, 7, 8}, uint16(4))
	f.Add([]byte{0x78, 0, 0, 0xff, 0xff, 1}, uint16(3))
	f.Fuzz(func(t *testing.T, payload []byte, max uint16) {
		fx := newH264Fixer(int(max%2000) + 3)
		fx.session(testSPS, testPPS)
		for i, p := range fx.push(pkt(1, 1, true, payload...)) {
			// Over the bound only: the input passed as it is (a kind not split), or the
			// parameter sets put before an IDR.
			ok := len(p.Payload) <= fx.maxPayload || bytes.Equal(p.Payload, payload) || i == 0 && p.Payload[0]&0x1f == 24 && fx.Injected == 1
			if !ok || len(p.Payload) == 0 {
				t.Fatalf("a packet of %d bytes from a payload of %d (bound %d)", len(p.Payload), len(payload), fx.maxPayload)
			}
		}
	})
}
