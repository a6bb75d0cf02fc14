package sfu

import (
	"testing"

	"github.com/pion/rtp"
)

// A packet that finds its worker's queue full is dropped for that
// worker's viewers, counted for each and in the SFU's totals; the others
// wait in order.
func TestFanoutQueueFull(t *testing.T) {
	f := &fanout{stop: make(chan struct{})}
	w := &fanWorker{f: f, audio: make(chan fanJob, 1), video: make(chan fanJob, 2)} // not running
	f.workers = []*fanWorker{w}
	s := &SFU{fan: f}
	tr := newLocalTrack(&Stream{sfu: s}, TrackInfo{ID: "video0", Kind: "video"}, nil)
	var lts []*localTrack
	for range 3 {
		lts = append(lts, &localTrack{v: &viewer{fan: f}, src: tr})
	}
	lanes := [][]*localTrack{lts}
	tr.lanes.Store(&lanes)
	for i := range 5 {
		tr.forward(&rtp.Packet{Header: rtp.Header{SequenceNumber: uint16(i)}, Payload: []byte{1}})
	}
	for i, lt := range lts {
		if d := lt.dropped.Load(); d != 3 {
			t.Errorf("viewer %d: %d dropped, want 3", i, d)
		}
	}
	if d := s.totals.dropped.Load(); d != 9 {
		t.Errorf("totals: %d dropped, want 9", d)
	}
	if q := w.queued(); q != 2 {
		t.Errorf("%d queued, want 2", q)
	}
	for want := range 2 {
		if j := <-w.video; j.p.SequenceNumber != uint16(want) || len(j.lts) != 3 {
			t.Errorf("job %d: packet %d for %d viewers", want, j.p.SequenceNumber, len(j.lts))
		}
	}
	if len(w.audio) != 0 {
		t.Error("a video packet went to the audio queue")
	}
}
