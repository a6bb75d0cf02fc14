package sfu

import (
	"errors"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"
)

// batchConn is the socket under the shared UDP port. Every session's
// goroutine writes to it; a write copies the packet into a queue and
// returns, and a writer sends what has queued up in one sendmmsg system
// call (up to max packets). A keyframe fanned out to hundreds of viewers
// then costs a few system calls instead of one per packet, and an idle
// port sends each packet at once, alone. There is a writer per processor,
// each with its own queue and descriptor (batchSender), so the kernel's
// work of sending (on loopback or a fast LAN most of a send's cost) runs
// on every core; a destination always goes to the same writer, so its
// packets keep their order.
//
// Reads go straight to the socket. It implements ice.AddrPortReaderWriter,
// which is how the ICE UDP mux writes.
type batchConn struct {
	*net.UDPConn
	qs   []chan *outPacket // one per writer
	max  int
	pool sync.Pool

	steered     bool         // opened by listenShared: senders join its SO_REUSEPORT group
	gso         atomic.Bool  // segmentation offload is on
	gsoRefusals atomic.Int32 // segmented sends refused since one went (batchsend_linux.go)

	closeOnce sync.Once
	done      chan struct{}
	writers   sync.WaitGroup

	mu      sync.Mutex
	senders []*batchSender // every batch's, closed with the port
	closed  bool
}

type outPacket struct {
	buf  [maxPacket]byte
	n    int
	addr netip.AddrPort
}

// maxPacket is the largest datagram batchConn queues; larger ones are sent
// directly.
const maxPacket = 1500

// batchQueue is how many packets may wait for the writer; a write finding
// it full waits (as sendto waits for a full socket buffer).
const batchQueue = 4096

func newBatchConn(c *net.UDPConn, max, writers int) *batchConn {
	b := &batchConn{UDPConn: c, max: max, done: make(chan struct{})}
	b.pool.New = func() any { return new(outPacket) }
	b.steered = steered(c)
	b.gso.Store(gsoAvailable && gsoSupported(c))
	if writers < 1 {
		writers = 1
	}
	b.qs = make([]chan *outPacket, writers)
	for i := range b.qs {
		b.qs[i] = make(chan *outPacket, batchQueue)
		b.writers.Add(1)
		go b.writer(b.qs[i])
	}
	return b
}

// queueOf is the queue of the writer that sends to addr.
func (b *batchConn) queueOf(addr netip.AddrPort) chan *outPacket {
	if len(b.qs) == 1 {
		return b.qs[0]
	}
	a := addr.Addr().As16()
	h := uint(addr.Port()) ^ uint(a[15])<<16 ^ uint(a[14])<<24
	return b.qs[h%uint(len(b.qs))]
}

// WriteToAddrPort queues a copy of p for addr.
func (b *batchConn) WriteToAddrPort(p []byte, addr netip.AddrPort) (int, error) {
	if len(p) > maxPacket {
		return b.UDPConn.WriteToUDPAddrPort(p, addr)
	}
	o := b.pool.Get().(*outPacket)
	o.n = copy(o.buf[:], p)
	o.addr = addr
	if err := b.queue(o); err != nil {
		return 0, err
	}
	return len(p), nil
}

// queue hands a packet (taken from the pool) to its destination's writer.
func (b *batchConn) queue(o *outPacket) error {
	select {
	case <-b.done:
		b.pool.Put(o)
		return net.ErrClosed
	default:
	}
	select {
	case b.queueOf(o.addr) <- o:
		return nil
	case <-b.done:
		b.pool.Put(o)
		return net.ErrClosed
	}
}

// outBatch gathers one goroutine's datagrams (a fan-out worker's, for
// its job) and sends them itself, max at a time, with no writer between.
type outBatch struct {
	b    *batchConn
	pkts []*outPacket
	s    *batchSender
}

func (b *batchConn) newBatch() *outBatch {
	s := b.newSender()
	b.mu.Lock()
	if b.closed {
		s.close() // a batch made after Close sends nothing
	} else {
		b.senders = append(b.senders, s)
	}
	b.mu.Unlock()
	return &outBatch{b: b, pkts: make([]*outPacket, 0, b.max), s: s}
}

// add takes a packet (from the pool) into the batch, sending the batch
// when it is full.
func (o *outBatch) add(p *outPacket) {
	o.pkts = append(o.pkts, p)
	if len(o.pkts) >= o.b.max {
		o.flush()
	}
}

// flush sends what the batch holds.
func (o *outBatch) flush() {
	if len(o.pkts) == 0 {
		return
	}
	select {
	case <-o.b.done:
	default:
		o.s.send(o.b, o.pkts)
	}
	for i, p := range o.pkts {
		o.b.pool.Put(p)
		o.pkts[i] = nil
	}
	o.pkts = o.pkts[:0]
}

// WriteTo queues a copy of p for a UDP address.
func (b *batchConn) WriteTo(p []byte, addr net.Addr) (int, error) {
	ua, ok := addr.(*net.UDPAddr)
	if !ok {
		return 0, errors.New("sfu: not a UDP address")
	}
	return b.WriteToAddrPort(p, ua.AddrPort())
}

// ReadFromAddrPort reads one datagram.
func (b *batchConn) ReadFromAddrPort(p []byte) (int, netip.AddrPort, error) {
	return b.UDPConn.ReadFromUDPAddrPort(p)
}

// Close stops the writer (packets still queued are dropped) and closes the
// socket.
func (b *batchConn) Close() error {
	b.closeOnce.Do(func() { close(b.done) })
	// A writer waiting through the port's descriptor for room that never comes stops too.
	_ = b.UDPConn.SetWriteDeadline(time.Unix(1, 0))
	b.writers.Wait()
	b.mu.Lock()
	b.closed = true
	for _, s := range b.senders {
		s.close()
	}
	b.mu.Unlock()
	return b.UDPConn.Close()
}

func (b *batchConn) writer(q chan *outPacket) {
	defer b.writers.Done()
	out := b.newBatch()
	for {
		select {
		case o := <-q:
			out.pkts = append(out.pkts, o)
		case <-b.done:
			return
		}
	fill:
		for len(out.pkts) < b.max {
			select {
			case o := <-q:
				out.pkts = append(out.pkts, o)
			default:
				break fill
			}
		}
		out.flush()
	}
}
