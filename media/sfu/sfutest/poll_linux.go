package sfutest

import (
	"errors"
	"net"
	"runtime"
	"sync"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// rusageThread is RUSAGE_THREAD: the calling thread's usage.
const rusageThread = 1

// Poller drains many PollConns on one goroutine, every interval. Their
// sockets are outside Go's network poller and nobody waits on them, so a
// datagram's arrival wakes no thread: on loopback the sender's system
// call does the receiver's work too, waking a sleeping reader included,
// and a benchmark whose viewers stand for other machines must not charge
// the hub for that. The kernel's receive time (SO_TIMESTAMPNS) is read
// with each datagram, so draining late changes no measured figure.
type Poller struct {
	interval time.Duration
	mu       sync.Mutex
	conns    []*PollConn
	stop     chan struct{}
	done     chan struct{}
	cpu      chan chan time.Duration
}

// NewPoller starts a poller draining its sockets every interval.
func NewPoller(interval time.Duration) *Poller {
	p := &Poller{interval: interval, stop: make(chan struct{}), done: make(chan struct{}), cpu: make(chan chan time.Duration)}
	go p.run()
	return p
}

// Close stops the poller; its sockets are closed by their owners.
func (p *Poller) Close() {
	close(p.stop)
	<-p.done
}

// CPU is the CPU time the poller has used: a benchmark with its receivers
// in its own process takes it from the process's.
func (p *Poller) CPU() time.Duration {
	r := make(chan time.Duration, 1)
	select {
	case p.cpu <- r:
		return <-r
	case <-p.done:
		return 0
	}
}

func (p *Poller) run() {
	defer close(p.done)
	runtime.LockOSThread() // its thread's CPU time is the poller's
	defer runtime.UnlockOSThread()
	t := time.NewTicker(p.interval)
	defer t.Stop()
	rb := newRecvBatch(16)
	for {
		select {
		case <-p.stop:
			return
		case r := <-p.cpu:
			var ru syscall.Rusage
			_ = syscall.Getrusage(rusageThread, &ru)
			r <- time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
			continue
		case <-t.C:
		}
		p.mu.Lock() // a socket is closed only between rounds
		for _, c := range p.conns {
			c.drain(rb)
		}
		p.mu.Unlock()
	}
}

// PollConn is a UDP socket of a Poller: RTP datagrams are reported to
// OnRTP with the kernel's receive time and dropped; the others (ICE, DTLS,
// RTCP) are read with ReadFrom, so a peer connection over it stays up
// while costing next to nothing. It is a net.PacketConn.
type PollConn struct {
	fd    int
	addr  *net.UDPAddr
	OnRTP func(pt uint8, seq uint16, at int64)

	in        chan datagram
	closeOnce sync.Once
	closed    chan struct{}
	p         *Poller
}

type datagram struct {
	b    []byte
	from *net.UDPAddr
}

// Listen opens a socket on 127.0.0.1 with a receive buffer of rcvbuf
// bytes, drained by the poller.
func (p *Poller) Listen(rcvbuf int) (*PollConn, error) {
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_DGRAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	fail := func(err error) (*PollConn, error) {
		_ = syscall.Close(fd)
		return nil, err
	}
	if err := syscall.SetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_TIMESTAMPNS, 1); err != nil {
		return fail(err)
	}
	if rcvbuf > 0 {
		_ = syscall.SetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_RCVBUF, rcvbuf)
	}
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		return fail(err)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		return fail(err)
	}
	s4, ok := sa.(*syscall.SockaddrInet4)
	if !ok {
		return fail(errors.New("sfutest: not an IPv4 socket"))
	}
	c := &PollConn{fd: fd, addr: &net.UDPAddr{IP: net.IP(s4.Addr[:]), Port: s4.Port},
		in: make(chan datagram, 256), closed: make(chan struct{}), p: p}
	p.mu.Lock()
	p.conns = append(p.conns, c)
	p.mu.Unlock()
	return c, nil
}

// recvBatch is the buffers of one recvmmsg call.
type recvBatch struct {
	msgs  []unix.Mmsghdr
	iovs  []unix.Iovec
	bufs  [][]byte
	oobs  [][]byte
	names []unix.RawSockaddrInet4
}

func newRecvBatch(n int) *recvBatch {
	b := &recvBatch{msgs: make([]unix.Mmsghdr, n), iovs: make([]unix.Iovec, n), bufs: make([][]byte, n),
		oobs: make([][]byte, n), names: make([]unix.RawSockaddrInet4, n)}
	for i := range n {
		b.bufs[i] = make([]byte, 2048)
		b.oobs[i] = make([]byte, 128)
		b.iovs[i].Base = &b.bufs[i][0]
		b.iovs[i].SetLen(len(b.bufs[i]))
	}
	return b
}

// read reads up to len(b.msgs) datagrams waiting on fd, without blocking.
func (b *recvBatch) read(fd int) int {
	for i := range b.msgs {
		h := &b.msgs[i].Hdr
		h.Name = (*byte)(unsafe.Pointer(&b.names[i]))
		h.Namelen = unix.SizeofSockaddrInet4
		h.Iov = &b.iovs[i]
		h.Iovlen = 1
		h.Control = &b.oobs[i][0]
		h.SetControllen(len(b.oobs[i]))
		h.Flags = 0
	}
	n, _, errno := unix.Syscall6(unix.SYS_RECVMMSG, uintptr(fd), uintptr(unsafe.Pointer(&b.msgs[0])),
		uintptr(len(b.msgs)), unix.MSG_DONTWAIT, 0, 0)
	if errno != 0 {
		return 0
	}
	return int(n)
}

// drain reads every datagram waiting, without blocking, a batch per
// system call.
func (c *PollConn) drain(b *recvBatch) {
	for {
		n := b.read(c.fd)
		for i := range n {
			m := &b.msgs[i]
			c.take(b.bufs[i][:m.Len], b.oobs[i][:m.Hdr.Controllen], &b.names[i])
		}
		if n < len(b.msgs) {
			return
		}
	}
}

// take handles one datagram read.
func (c *PollConn) take(buf, oob []byte, from *unix.RawSockaddrInet4) {
	if stampRTP(buf, oob, c.OnRTP) {
		return
	}
	pb := (*[2]byte)(unsafe.Pointer(&from.Port)) // network order
	port := int(pb[0])<<8 | int(pb[1])
	d := datagram{b: append([]byte(nil), buf...), from: &net.UDPAddr{IP: net.IPv4(from.Addr[0], from.Addr[1], from.Addr[2], from.Addr[3]), Port: port}}
	select {
	case c.in <- d:
	default: // the peer's stack is behind: dropped, as a full socket would
	}
}

// ReadFrom returns the next datagram that is not RTP.
func (c *PollConn) ReadFrom(b []byte) (int, net.Addr, error) {
	select {
	case d := <-c.in:
		return copy(b, d.b), d.from, nil
	case <-c.closed:
		return 0, nil, net.ErrClosed
	}
}

// WriteTo sends one datagram.
func (c *PollConn) WriteTo(b []byte, addr net.Addr) (int, error) {
	ua, ok := addr.(*net.UDPAddr)
	if !ok || ua.IP.To4() == nil {
		return 0, errors.New("sfutest: not an IPv4 UDP address")
	}
	sa := &syscall.SockaddrInet4{Port: ua.Port}
	copy(sa.Addr[:], ua.IP.To4())
	select {
	case <-c.closed:
		return 0, net.ErrClosed
	default:
	}
	if err := syscall.Sendto(c.fd, b, 0, sa); err != nil {
		return 0, err
	}
	return len(b), nil
}

// Close closes the socket.
func (c *PollConn) Close() error {
	c.closeOnce.Do(func() {
		close(c.closed)
		c.p.mu.Lock()
		for i, x := range c.p.conns {
			if x == c {
				c.p.conns = append(c.p.conns[:i:i], c.p.conns[i+1:]...)
				break
			}
		}
		_ = syscall.Close(c.fd)
		c.p.mu.Unlock()
	})
	return nil
}

// LocalAddr is the socket's address.
func (c *PollConn) LocalAddr() net.Addr { return c.addr }

// SetDeadline does nothing: reads end with Close.
func (c *PollConn) SetDeadline(time.Time) error { return nil }

// SetReadDeadline does nothing.
func (c *PollConn) SetReadDeadline(time.Time) error { return nil }

// SetWriteDeadline does nothing.
func (c *PollConn) SetWriteDeadline(time.Time) error { return nil }
