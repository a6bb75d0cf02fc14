package source

import (
	"sync"
	"testing"
	"time"

	"github.com/pion/rtp"
)

// sink records what a pacer writes, and when.
type sink struct {
	mu   sync.Mutex
	seqs []uint16
	at   []time.Time
}

func (s *sink) write(p *rtp.Packet) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seqs = append(s.seqs, p.SequenceNumber)
	s.at = append(s.at, time.Now())
	return nil
}

func (s *sink) len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.seqs)
}

func packetOf(seq uint16, size int) *rtp.Packet {
	return &rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 96, SequenceNumber: seq}, Payload: make([]byte, size)}
}

// A burst is spread at the pace's multiple of the recent bit rate, whole and in order; the
// packets written are copies (the caller may reuse its own).
func TestPacerSpreadsABurst(t *testing.T) {
	var s sink
	p := NewPacer(s.write, 2.5)
	defer p.Close()
	// A keyframe of 70 packets of 1,200 bytes in one burst, after nothing else: the rate is
	// the burst itself (84 kB in the last second) times 2.5, so it takes about 0.4 s.
	var seq uint16
	start := time.Now()
	for range 70 {
		pkt := packetOf(seq, 1200)
		if err := p.Write(pkt); err != nil {
			t.Fatal(err)
		}
		pkt.SequenceNumber = 60000 // the caller reuses its packet
		seq++
	}
	deadline := time.Now().Add(10 * time.Second)
	for s.len() < 70 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.seqs) != 70 {
		t.Fatalf("%d of 70 packets written", len(s.seqs))
	}
	for i, q := range s.seqs {
		if q != uint16(i) {
			t.Fatalf("packet %d written as %d: order or copy lost", i, q)
		}
	}
	// The rate can only have been at most 2.5 × (the whole burst a second): the span is at
	// least the burst's bytes at that rate, less the idle credit.
	bytes := float64(70 * packetOf(0, 1200).MarshalSize())
	least := time.Duration(bytes/(2.5*bytes)*float64(time.Second)) - paceBurst - time.Duration(1200/(2.5*bytes)*float64(time.Second))
	if span := s.at[69].Sub(start); span < least {
		t.Fatalf("70 packets written in %v; paced they take at least %v", span, least)
	}
}

// A queue far behind is sent whole and in order; Close drops what is queued, and a Write
// after Close neither blocks nor writes.
func TestPacerBehindAndClose(t *testing.T) {
	var s sink
	block := make(chan struct{})
	first := true
	p := NewPacer(func(pkt *rtp.Packet) error {
		if first {
			first = false
			<-block // hold the pacer while the queue fills
		}
		return s.write(pkt)
	}, 2.5)
	const n = paceBehind + 100
	for i := range n {
		_ = p.Write(packetOf(uint16(i), 1200))
	}
	close(block)
	deadline := time.Now().Add(20 * time.Second)
	for s.len() < n && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	s.mu.Lock()
	for i, q := range s.seqs {
		if q != uint16(i) {
			t.Fatalf("packet %d written as %d", i, q)
		}
	}
	got := len(s.seqs)
	s.mu.Unlock()
	if got != n {
		t.Fatalf("%d of %d packets written", got, n)
	}
	p.Close()
	done := make(chan struct{})
	go func() { _ = p.Write(packetOf(1, 100)); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Write after Close blocks")
	}
	time.Sleep(20 * time.Millisecond)
	if s.len() != n {
		t.Fatal("a packet written after Close")
	}
}
