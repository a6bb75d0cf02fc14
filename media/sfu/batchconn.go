package sfu

import (
	"errors"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"

	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
)

// batchConn is the socket under the shared UDP port. Every session's
// goroutine writes to it; a write copies the packet into a queue and
// returns, and a writer sends what has queued up in one sendmmsg system
// call (up to max packets). A keyframe fanned out to hundreds of viewers
// then costs a few system calls instead of one per packet, and an idle
// port sends each packet at once, alone. There is a writer per processor,
// each with its own queue, so the kernel's work of sending (on loopback
// or a fast LAN most of a send's cost) runs on every core; a destination
// always goes to the same writer, so its packets keep their order.
//
// Reads go straight to the socket. It implements ice.AddrPortReaderWriter,
// which is how the ICE UDP mux writes.
type batchConn struct {
	*net.UDPConn
	bw interface {
		WriteBatch(ms []ipv4.Message, flags int) (int, error)
	}
	qs   []chan *outPacket // one per writer
	max  int
	pool sync.Pool

	gso atomic.Bool // segmentation offload is on

	closeOnce sync.Once
	done      chan struct{}
	writers   sync.WaitGroup
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
	b.gso.Store(gsoAvailable)
	if a, ok := c.LocalAddr().(*net.UDPAddr); ok && a.IP.To4() == nil {
		b.bw = ipv6.NewPacketConn(c)
	} else {
		b.bw = ipv4.NewPacketConn(c)
	}
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
	w    *batchWriter
}

func (b *batchConn) newBatch() *outBatch {
	return &outBatch{b: b, pkts: make([]*outPacket, 0, b.max), w: newBatchWriter(b.max)}
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
		o.b.send(o.w.build(o.pkts, o.b.gso.Load()))
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
	b.writers.Wait()
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

// gsoMaxSegments and gsoMaxBytes bound one segmented send (the kernel's
// limits are 64 segments and 64 KiB).
const (
	gsoMaxSegments = 64
	gsoMaxBytes    = 60000
)

// batchWriter turns queued packets into the messages of one sendmmsg,
// reusing its buffers from one batch to the next.
type batchWriter struct {
	msgs  []ipv4.Message
	addrs []net.UDPAddr
	ips   [][16]byte
	oob   [][]byte
	segs  []int // segments of each message
	size  []int // segment size of each message
	bytes []int
	open  []bool // the message may take more segments
}

func newBatchWriter(max int) *batchWriter {
	w := &batchWriter{msgs: make([]ipv4.Message, 0, max), addrs: make([]net.UDPAddr, max), ips: make([][16]byte, max),
		oob: make([][]byte, max), segs: make([]int, max), size: make([]int, max), bytes: make([]int, max), open: make([]bool, max)}
	return w
}

// build makes the messages for batch. With gso, the packets for one
// destination that can travel together (all one size but the last) go in
// one segmented message; the order of the packets for each destination is
// kept.
func (w *batchWriter) build(batch []*outPacket, gso bool) []ipv4.Message {
	for i := range w.msgs {
		w.msgs[i].Buffers, w.msgs[i].OOB, w.msgs[i].Addr = w.msgs[i].Buffers[:0], nil, nil
	}
	w.msgs = w.msgs[:0]
	for _, o := range batch {
		if gso {
			if j := w.last(o.addr); j >= 0 && w.open[j] && o.n <= w.size[j] && w.segs[j] < gsoMaxSegments && w.bytes[j]+o.n <= gsoMaxBytes {
				m := &w.msgs[j]
				m.Buffers = append(m.Buffers, o.buf[:o.n])
				w.segs[j]++
				w.bytes[j] += o.n
				w.open[j] = o.n == w.size[j] // a shorter segment ends it
				continue
			}
		}
		j := len(w.msgs)
		w.msgs = w.msgs[:j+1]
		m := &w.msgs[j]
		m.Buffers = append(m.Buffers[:0], o.buf[:o.n])
		a := o.addr.Addr().Unmap()
		if a.Is4() {
			v4 := a.As4()
			w.addrs[j].IP = append(w.ips[j][:0], v4[:]...)
		} else {
			v6 := a.As16()
			w.addrs[j].IP = append(w.ips[j][:0], v6[:]...)
		}
		w.addrs[j].Port = int(o.addr.Port())
		m.Addr = &w.addrs[j]
		w.segs[j], w.size[j], w.bytes[j], w.open[j] = 1, o.n, o.n, true
	}
	for j := range w.msgs {
		if w.segs[j] > 1 {
			w.oob[j] = gsoControl(w.oob[j], w.size[j])
			w.msgs[j].OOB = w.oob[j]
		}
	}
	return w.msgs
}

// last finds the latest message for addr, -1 when there is none.
func (w *batchWriter) last(addr netip.AddrPort) int {
	a := addr.Addr().Unmap()
	for j := len(w.msgs) - 1; j >= 0; j-- {
		ua := &w.addrs[j]
		if ua.Port == int(addr.Port()) {
			if ip, ok := netip.AddrFromSlice(ua.IP); ok && ip.Unmap() == a {
				return j
			}
		}
	}
	return -1
}

// send sends every message. A message that fails (a peer gone, an
// unroutable address) is skipped, as a failed sendto would drop it; a
// segmented one that fails is sent again one datagram at a time, and
// segmentation is turned off for good (a kernel or device without it).
func (b *batchConn) send(ms []ipv4.Message) {
	for len(ms) > 0 {
		n, err := b.bw.WriteBatch(ms, 0)
		if n > 0 {
			ms = ms[n:]
			continue
		}
		if err != nil && errors.Is(err, net.ErrClosed) {
			return
		}
		if m := ms[0]; len(m.OOB) > 0 {
			b.gso.Store(false)
			for _, seg := range m.Buffers {
				_, _ = b.UDPConn.WriteTo(seg, m.Addr)
			}
		}
		ms = ms[1:]
	}
}
