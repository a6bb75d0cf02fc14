package sfu

import (
	"testing"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

type collectSink struct{ got []*rtp.Packet }

func (c *collectSink) WriteRTP(p *rtp.Packet) error {
	q := *p
	c.got = append(c.got, &q)
	return nil
}

// A pulled video track goes on across a re-pull: the new session's packets are held back
// until a keyframe starts, and then follow the old ones' sequence numbers without a gap.
func TestPulledTrackAcrossRepull(t *testing.T) {
	info := TrackInfo{ID: "video0", Kind: "video", MimeType: webrtc.MimeTypeVP8, ClockRate: 90000}
	out := newLocalTrack(nil, info, nil)
	sink := &collectSink{}
	out.sinks.Store(&[]*sinkRef{{sink: sink}})
	pt := &pulledTrack{t: out}
	pt.rw.rate, pt.rw.ssrc = 90000, 7
	keyframe, delta := []byte{0x10, 0x00, 1}, []byte{0x10, 0x01, 1}

	src1, src2 := &Track{info: info}, &Track{info: info}
	pt.src = src1
	for i := range 3 {
		pt.forward(src1, &rtp.Packet{Header: rtp.Header{SequenceNumber: uint16(100 + i), Timestamp: 1000}, Payload: delta})
	}
	// The origin's publisher came back: a new session, its numbering its own.
	pt.gate, pt.src = true, src2
	pt.forward(src1, &rtp.Packet{Header: rtp.Header{SequenceNumber: 103}, Payload: delta}) // the old session, late
	pt.forward(src2, &rtp.Packet{Header: rtp.Header{SequenceNumber: 5000, Timestamp: 9}, Payload: delta})
	pt.forward(src2, &rtp.Packet{Header: rtp.Header{SequenceNumber: 5001, Timestamp: 9}, Payload: keyframe})
	pt.forward(src2, &rtp.Packet{Header: rtp.Header{SequenceNumber: 5002, Timestamp: 9}, Payload: delta})
	if len(sink.got) != 5 {
		t.Fatalf("%d packets forwarded, want 3 before and 2 after the re-pull", len(sink.got))
	}
	for i, p := range sink.got {
		if p.SequenceNumber != uint16(100+i) || p.SSRC != 7 {
			t.Errorf("packet %d: sequence number %d, SSRC %d", i, p.SequenceNumber, p.SSRC)
		}
	}
	if string(sink.got[3].Payload) != string(keyframe) {
		t.Error("the first packet after the re-pull does not start a keyframe")
	}
	if sink.got[3].Timestamp <= sink.got[2].Timestamp {
		t.Errorf("timestamps go back: %d then %d", sink.got[2].Timestamp, sink.got[3].Timestamp)
	}
}
