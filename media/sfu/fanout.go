package sfu

import (
	"sync"
	"sync/atomic"

	"github.com/pion/rtp"
)

// fanout sends the publishers' packets to the viewers. It has a worker
// per processor (Options.WriteWorkers), and every viewer belongs to one
// of them: a packet of a track becomes one job per worker that has
// viewers of it, and the worker writes the packet to each of its viewers
// in turn. A packet then costs a hand-off per worker however many viewers
// it goes to, instead of a wake-up of a goroutine per viewer; and the
// datagrams of a job's fast-path viewers leave together, in sendmmsg
// calls the worker makes itself when the job is done.
//
// A write to a viewer never waits for that viewer: it encrypts the
// packet and sends a datagram (a congested path, or a viewer that stops
// reading, loses datagrams on the way, as UDP does), so a slow viewer
// slows nobody. When the machine cannot keep up, a worker's queue fills:
// a packet that finds it full is dropped for that worker's viewers and
// counted for each.
type fanout struct {
	workers []*fanWorker
	wg      sync.WaitGroup
	stop    chan struct{}
}

type fanWorker struct {
	f            *fanout
	audio, video chan fanJob // audio first: a keyframe's burst never holds up the sound
	viewers      atomic.Int32
	turn         uint32      // rotates where each job starts among its viewers
	outs         []*outBatch // the job's fast-path datagrams, one batch per socket of the shared port
}

// fanJob is one packet for the viewers of one worker.
type fanJob struct {
	p   *rtp.Packet
	lts []*localTrack
}

// newFanout starts n workers whose queues hold queue packets together (an
// eighth of them for audio).
func newFanout(n, queue int, ports []*batchConn) *fanout {
	f := &fanout{stop: make(chan struct{})}
	audio := max(queue/8, 1)
	for range max(n, 1) {
		w := &fanWorker{f: f, audio: make(chan fanJob, audio), video: make(chan fanJob, max(queue-audio, 1))}
		for _, p := range ports {
			w.outs = append(w.outs, p.newBatch())
		}
		f.workers = append(f.workers, w)
		f.wg.Add(1)
		go w.run()
	}
	return f
}

func (f *fanout) close() {
	close(f.stop)
	f.wg.Wait()
}

// assign gives a new viewer to the worker with the fewest.
func (f *fanout) assign() int {
	best := 0
	for i, w := range f.workers {
		if w.viewers.Load() < f.workers[best].viewers.Load() {
			best = i
		}
	}
	f.workers[best].viewers.Add(1)
	return best
}

func (f *fanout) release(i int) { f.workers[i].viewers.Add(-1) }

// push queues a packet for a worker's viewers of one track. It never
// blocks: with the queue full, the packet is dropped for them.
func (w *fanWorker) push(p *rtp.Packet, lts []*localTrack, audio bool) bool {
	q := w.video
	if audio {
		q = w.audio
	}
	select {
	case q <- fanJob{p, lts}:
		return true
	default:
		return false
	}
}

// queued is how many packets wait for the worker.
func (w *fanWorker) queued() int { return len(w.audio) + len(w.video) }

// maxGroup is the most queued packets of one track a worker writes to
// each viewer in a row.
const maxGroup = 8

func (w *fanWorker) run() {
	defer w.f.wg.Done()
	var (
		group []*rtp.Packet
		next  *fanJob // taken while grouping, for another set of viewers
	)
	for {
		var j fanJob
		video := false
		if next != nil {
			j, next, video = *next, nil, true
		} else {
			select {
			case j = <-w.audio:
			default:
				select {
				case <-w.f.stop:
					return
				case j = <-w.audio:
				case j = <-w.video:
					video = true
				}
			}
		}
		// A worker that fell behind (a keyframe's burst) writes the queued
		// packets of the same track to each viewer in a row: they leave
		// in one segmented send per viewer (batchWriter.build), which
		// costs the kernel a fraction of a send per packet, so the backlog
		// clears faster than it came. An idle worker sends each at once.
		group = append(group[:0], j.p)
		if video {
		fill:
			for len(group) < maxGroup && len(w.audio) == 0 {
				select {
				case k := <-w.video:
					if !sameViewers(k.lts, j.lts) {
						next = &k
						break fill
					}
					group = append(group, k.p)
				default:
					break fill
				}
			}
		}
		w.do(j.lts, group)
		for _, o := range w.outs {
			o.flush()
		}
	}
}

// do writes packets to each of the viewers, starting each time with
// another one, so that no viewer is always served last.
func (w *fanWorker) do(lts []*localTrack, group []*rtp.Packet) {
	n := uint32(len(lts))
	if n == 0 {
		return
	}
	w.turn++
	start := w.turn % n
	for i := range n {
		lt := lts[(start+i)%n]
		for _, p := range group {
			lt.write(p, w.outs)
		}
	}
}

// sameViewers reports whether two jobs are for the same viewers of the
// same track: the same snapshot of its lane.
func sameViewers(a, b []*localTrack) bool {
	return len(a) == len(b) && len(a) > 0 && &a[0] == &b[0]
}
