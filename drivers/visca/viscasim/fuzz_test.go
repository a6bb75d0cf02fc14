package viscasim

import (
	"bytes"
	"testing"
	"time"

	"github.com/bailiff/bailiff/drivers/visca/internal/golden"
	"github.com/bailiff/bailiff/internal/testutil/fuzzseed"
)

// collector keeps the replies of a camera.
type collector struct{ out [][]byte }

func (c *collector) send(p []byte) { c.out = append(c.out, append([]byte(nil), p...)) }

// fuzzSim is a simulator with moves so fast that every command completes at once, so no
// timer sends a reply behind the test's back.
func fuzzSim(cameras int) *Sim {
	s := New(Config{Cameras: cameras, On: true, Speed: 1e9, Presets: 0xFE})
	// A clock that steps a second at each reading keeps the model, and so the coverage the
	// fuzzer sees, the same from run to run.
	clock := time.Unix(1e9, 0)
	s.now = func() time.Time { clock = clock.Add(time.Second); return clock }
	for i, c := range s.cams {
		c.addr = i + 1
		c.pan.t0, c.tilt.t0, c.zoom.t0 = clock, clock, clock
	}
	return s
}

// maxFuzzInput bounds the stream FuzzChain reads: a few dozen packets say all there is to
// say, and the fuzzer's minimization of a long interesting input takes time that grows with
// its square (golang/go#48820).
const maxFuzzInput = 512

func checkState(t *testing.T, s *Sim, after []byte) {
	for i := range s.cams {
		st := s.State(i + 1)
		if st.Pan < PanMin || st.Pan > PanMax || st.Tilt < TiltMin || st.Tilt > TiltMax || st.Zoom < 0 || st.Zoom > ZoomMax || st.Busy != 0 {
			t.Fatalf("camera %d state %+v after [% X]", i+1, st, after)
		}
	}
}

// FuzzChain feeds bytes from the wire of a serial line to the packet reader and each packet
// to a daisy chain of two cameras, and checks that every reply is one VISCA packet from a
// camera of the chain, an answered broadcast, or the packet itself passed along.
func FuzzChain(f *testing.F) {
	for _, fr := range golden.Frames {
		f.Add(fr.Request)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > maxFuzzInput {
			return
		}
		s := fuzzSim(2)
		defer s.Close()
		r := newPacketReader(bytes.NewReader(data))
		for {
			p, long, err := r.next()
			if err != nil {
				return
			}
			if long {
				continue
			}
			if len(p) > 16 || p[len(p)-1] != 0xFF || bytes.IndexByte(p, 0xFF) != len(p)-1 {
				t.Fatalf("packet reader returned [% X]", p)
			}
			col := &collector{}
			s.chain(p, col)
			for _, q := range col.out {
				if bytes.Equal(q, p) {
					continue // passed along
				}
				if len(q) < 3 || len(q) > 16 || q[len(q)-1] != 0xFF || bytes.IndexByte(q, 0xFF) != len(q)-1 {
					t.Fatalf("reply [% X] to [% X] is not one packet", q, p)
				}
				if q[0] != 0x88 && q[0] != 0x90 && q[0] != 0xA0 {
					t.Fatalf("reply [% X] to [% X] from no camera of the chain", q, p)
				}
			}
			checkState(t, s, p)
		}
	})
}

// FuzzDatagram feeds a datagram to the VISCA over IP handler, twice (the second time is a
// retransmission), and checks that every answer is a well-formed message with the sequence
// number of the one answered.
func FuzzDatagram(f *testing.F) {
	for _, d := range golden.Datagrams {
		f.Add(d.Request)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s := fuzzSim(1)
		defer s.Close()
		var out [][]byte
		write := func(b []byte) { out = append(out, append([]byte(nil), b...)) }
		s.datagram(data, "peer", write)
		s.datagram(data, "peer", write)
		if len(data) < 8 {
			if len(out) != 0 {
				t.Fatalf("answered a datagram shorter than a header: %X", out)
			}
			return
		}
		for _, d := range out {
			if len(d) < 9 {
				t.Fatalf("answer [% X] shorter than a message", d)
			}
			typ := uint16(d[0])<<8 | uint16(d[1])
			n := int(d[2])<<8 | int(d[3])
			if typ != 0x0111 && typ != 0x0200 && typ != 0x0201 || n != len(d)-8 || n < 1 || n > 16 {
				t.Fatalf("answer [% X] to [% X]", d, data)
			}
			if !bytes.Equal(d[4:8], data[4:8]) {
				t.Fatalf("answer [% X] does not carry the sequence number of [% X]", d, data)
			}
		}
		checkState(t, s, data)
	})
}

// TestSeedCorpus checks that testdata/fuzz holds every golden request as a seed; run
// go test ./drivers/visca/viscasim -run TestSeedCorpus -update-corpus to write them.
func TestSeedCorpus(t *testing.T) {
	c := fuzzseed.Corpus{}
	for _, fr := range golden.Frames {
		c.Add("FuzzChain", fr.Name, fr.Request)
	}
	for _, d := range golden.Datagrams {
		c.Add("FuzzDatagram", d.Name, d.Request)
	}
	fuzzseed.Check(t, c)
}
