package sfu

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bailiff/bailiff/media/sfu/sfutest"
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

// recordWriter notes what a viewer's track is sent through pion.
type recordWriter struct {
	mu  *sync.Mutex
	log *[]string
	id  string
}

func (r recordWriter) WriteRTP(h *rtp.Header, _ []byte) (int, error) {
	r.mu.Lock()
	*r.log = append(*r.log, fmt.Sprintf("%s%d", r.id, h.SequenceNumber))
	r.mu.Unlock()
	return 0, nil
}

func (r recordWriter) Write(b []byte) (int, error) { return len(b), nil }

// A worker that finds packets of one track queued writes them to each
// viewer in a row (a segmented send each on the fast path), each viewer's
// in order; audio queued meanwhile goes first.
func TestFanoutGroupsBacklog(t *testing.T) {
	f := &fanout{stop: make(chan struct{})}
	w := &fanWorker{f: f, audio: make(chan fanJob, 4), video: make(chan fanJob, 16)}
	f.workers = []*fanWorker{w}
	var mu sync.Mutex
	var log []string
	viewer := func(id string) *localTrack {
		lt := &localTrack{v: &viewer{fan: f}, ws: recordWriter{&mu, &log, id}}
		lt.bound.Store(true)
		return lt
	}
	s := &SFU{fan: f}
	tr := newLocalTrack(&Stream{sfu: s}, TrackInfo{ID: "video0", Kind: "video", ClockRate: 90000}, nil)
	video := []*localTrack{viewer("a"), viewer("b")}
	audio := []*localTrack{viewer("m")}
	for _, lt := range append(video, audio...) {
		lt.src = tr
	}
	for seq := range 3 {
		w.push(&rtp.Packet{Header: rtp.Header{SequenceNumber: uint16(seq)}, Payload: []byte{1}}, video, false)
	}
	w.push(&rtp.Packet{Header: rtp.Header{SequenceNumber: 9}, Payload: []byte{1}}, audio, true)
	f.wg.Add(1)
	go w.run()
	defer f.close()
	if !sfutest.WaitFor(5*time.Second, func() bool { mu.Lock(); defer mu.Unlock(); return len(log) == 7 }) {
		t.Fatalf("writes %v", log)
	}
	mu.Lock()
	defer mu.Unlock()
	got := strings.Join(log, " ")
	// Audio first; then one viewer's three packets, then the other's
	// (which viewer starts rotates).
	if got != "m9 a0 a1 a2 b0 b1 b2" && got != "m9 b0 b1 b2 a0 a1 a2" {
		t.Errorf("writes %q", got)
	}
}
