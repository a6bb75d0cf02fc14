package source

import (
	"context"
	"sync"
	"time"

	"github.com/pion/rtp"
)

// DefaultPace is the multiple of a video track's recent bit rate at which a Pacer sends, as
// browsers pace what they send (2.5).
const DefaultPace = 2.5

// Pacing bounds.
const (
	paceFloor  = 62_500               // bytes a second the rate is never estimated below (0.5 Mbit/s)
	paceBurst  = 2 * time.Millisecond // sending credit a pacer may build up while idle
	paceWindow = time.Second          // the window of the bit-rate estimate
	paceSlot   = 100 * time.Millisecond
	paceQueue  = 2048 // packets; a full queue makes Write wait
	paceBehind = 512  // queued packets past which the pacer sends without waiting
)

// Pacer spreads a video track's bursts — a camera's keyframe, read as dozens of packets at
// once — over time, at a multiple of the track's bit rate over the last second, as a
// browser's pacer does. The hub then receives, and forwards to every viewer, a keyframe as a
// steady flow instead of one burst that every packet behind it waits for; networks with
// small buffers between a courtroom and the hub lose less. Packets keep their order.
type Pacer struct {
	write  func(*rtp.Packet) error
	factor float64
	q      chan *rtp.Packet
	stop   context.CancelFunc
	done   chan struct{}

	mu    sync.Mutex
	slots [paceWindow / paceSlot]int64 // bytes queued in each slot of the window
	slot  int64                        // the latest slot written (Unix time / paceSlot)
}

// NewPacer paces the packets given to Write into write, at factor times the recent bit rate
// (factor ≤ 0: DefaultPace). Close stops it.
func NewPacer(write func(*rtp.Packet) error, factor float64) *Pacer {
	if factor <= 0 {
		factor = DefaultPace
	}
	ctx, cancel := context.WithCancel(context.Background())
	p := &Pacer{write: write, factor: factor, q: make(chan *rtp.Packet, paceQueue), stop: cancel, done: make(chan struct{})}
	go p.run(ctx)
	return p
}

// Write queues a copy of pkt. It waits only when the queue is full, and drops the packet
// once the pacer is closed.
func (p *Pacer) Write(pkt *rtp.Packet) error {
	p.count(time.Now(), pkt.MarshalSize())
	select {
	case p.q <- pkt.Clone():
	case <-p.done:
	}
	return nil
}

// Close stops the pacer; packets still queued are dropped.
func (p *Pacer) Close() {
	p.stop()
	<-p.done
}

// count adds n bytes to the rate estimate at now.
func (p *Pacer) count(now time.Time, n int) {
	s := now.UnixNano() / int64(paceSlot)
	p.mu.Lock()
	defer p.mu.Unlock()
	p.advance(s)
	p.slots[s%int64(len(p.slots))] += int64(n)
}

// advance clears the slots between the latest written and s.
func (p *Pacer) advance(s int64) {
	if s <= p.slot {
		return
	}
	for i := p.slot + 1; i <= s && i <= p.slot+int64(len(p.slots)); i++ {
		p.slots[i%int64(len(p.slots))] = 0
	}
	p.slot = s
}

// rate is the pacing rate at now, in bytes a second.
func (p *Pacer) rate(now time.Time) float64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.advance(now.UnixNano() / int64(paceSlot))
	var sum int64
	for _, b := range p.slots {
		sum += b
	}
	return p.factor * float64(max(sum, paceFloor))
}

func (p *Pacer) run(ctx context.Context) {
	defer close(p.done)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	next := time.Now()
	for {
		var pkt *rtp.Packet
		select {
		case pkt = <-p.q:
		case <-ctx.Done():
			return
		}
		now := time.Now()
		if len(p.q) >= paceBehind {
			next = now // fallen behind: send what is queued at once
		}
		if next.Before(now.Add(-paceBurst)) {
			next = now.Add(-paceBurst)
		}
		if wait := next.Sub(now); wait > 0 {
			timer.Reset(wait)
			select {
			case <-timer.C:
			case <-ctx.Done():
				return
			}
		}
		_ = p.write(pkt)
		next = next.Add(time.Duration(float64(pkt.MarshalSize()) / p.rate(now) * float64(time.Second)))
	}
}
