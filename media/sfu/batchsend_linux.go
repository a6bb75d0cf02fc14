package sfu

import (
	"context"
	"encoding/binary"
	"errors"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// UDP generic segmentation offload (Linux 4.18+): one sendmsg carries up to
// 64 datagrams for one destination, all of one size but the last, and the
// kernel splits them late (or the NIC does), instead of each one walking
// the whole send path.
const (
	solUDP     = 17  // SOL_UDP
	udpSegment = 103 // UDP_SEGMENT
	gsoCmsg    = 24  // CMSG_SPACE(2) on 64-bit Linux
)

// gsoAvailable: the control message below is laid out for 64-bit Linux.
var gsoAvailable = strconv.IntSize == 64

// gsoSupported: the socket takes UDP_SEGMENT. A kernel before 4.18 does not refuse the
// control message, it ignores it and sends the whole group as one datagram, so it is asked
// first.
func gsoSupported(c *net.UDPConn) bool {
	_, err := sockopt(c, unix.IPPROTO_UDP, unix.UDP_SEGMENT)
	return err == nil
}

// sockopt reads an integer option of c's socket.
func sockopt(c *net.UDPConn, level, opt int) (int, error) {
	rc, err := c.SyscallConn()
	if err != nil {
		return 0, err
	}
	var v int
	if cerr := rc.Control(func(fd uintptr) { v, err = unix.GetsockoptInt(int(fd), level, opt) }); cerr != nil {
		return 0, cerr
	}
	return v, err
}

// gsoControl returns the control message asking the kernel to cut a send
// into datagrams of size bytes.
func gsoControl(b []byte, size int) []byte {
	b = append(b[:0], make([]byte, gsoCmsg)...)
	binary.NativeEndian.PutUint64(b[0:], 18) // CMSG_LEN(2)
	binary.NativeEndian.PutUint32(b[8:], solUDP)
	binary.NativeEndian.PutUint32(b[12:], udpSegment)
	binary.NativeEndian.PutUint16(b[16:], uint16(size))
	return b
}

// batchSender sends one goroutine's batches (a fan-out worker's, a port
// writer's) with sendmmsg, on a socket of its own: Go lets one goroutine
// at a time write to a socket (its descriptor's write lock), so the
// workers, one per core, would take turns in the kernel's send path — on
// loopback or a fast LAN most of what a datagram costs. Where the port
// was opened by listenShared, the sender's socket is a member of the
// port's SO_REUSEPORT group (same address and port, never receiving)
// that nobody polls: a datagram sent frees its buffer, and on a socket
// in Go's network poller that wakes the poller's entry, once a datagram.
// Otherwise it is a duplicate of the port's descriptor (the same socket,
// without Go's lock); without either (no descriptor left) the sender
// writes through the port's own.
type batchSender struct {
	w  batchWriter
	mu sync.Mutex // a send against close
	fd int        // its own descriptor; -1 once closed
	rc syscall.RawConn
}

func (b *batchConn) newSender() *batchSender {
	s := &batchSender{w: newBatchWriter(b.max), fd: -1}
	if b.steered {
		if fd, err := groupSocket(b.UDPConn); err == nil {
			s.fd = fd
			return s
		}
	}
	rc, err := b.UDPConn.SyscallConn()
	if err != nil {
		return s
	}
	s.rc = rc
	_ = rc.Control(func(fd uintptr) {
		if d, err := unix.FcntlInt(fd, unix.F_DUPFD_CLOEXEC, 0); err == nil {
			s.fd = d
		}
	})
	if s.fd >= 0 {
		s.rc = nil
	}
	return s
}

// steerProgram is classic BPF for "return 0": the SO_REUSEPORT group's
// first member, the port's reading socket, gets every datagram.
var steerProgram = []unix.SockFilter{{Code: unix.BPF_RET | unix.BPF_K, K: 0}}

// listenShared opens the shared port's socket on ip:port (port 0: a free
// one). The socket is the first of a SO_REUSEPORT group whose BPF
// program hands it every datagram that arrives, so that each sender's
// socket (groupSocket) can join the group, send from the same address and
// port, and never receive. So that a port already in use (a second hub)
// is still refused, it is first bound without SO_REUSEPORT. When the
// group cannot be made, the socket is an ordinary one and the senders
// duplicate its descriptor.
func listenShared(ip net.IP, port int) (*net.UDPConn, error) {
	probe, err := net.ListenUDP("udp", &net.UDPAddr{IP: ip, Port: port})
	if err != nil {
		return nil, err
	}
	addr := probe.LocalAddr().(*net.UDPAddr)
	_ = probe.Close()
	lc := net.ListenConfig{Control: func(_, _ string, rc syscall.RawConn) error {
		var err error
		if cerr := rc.Control(func(fd uintptr) { err = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEPORT, 1) }); cerr != nil {
			return cerr
		}
		return err
	}}
	pc, err := lc.ListenPacket(context.Background(), "udp", addr.String())
	if err != nil {
		return net.ListenUDP("udp", addr)
	}
	c := pc.(*net.UDPConn)
	rc, err := c.SyscallConn()
	if err == nil {
		cerr := rc.Control(func(fd uintptr) {
			err = unix.SetsockoptSockFprog(int(fd), unix.SOL_SOCKET, unix.SO_ATTACH_REUSEPORT_CBPF,
				&unix.SockFprog{Len: uint16(len(steerProgram)), Filter: &steerProgram[0]})
		})
		if err == nil {
			err = cerr
		}
	}
	if err != nil {
		_ = c.Close()
		return net.ListenUDP("udp", addr)
	}
	return c, nil
}

// steered: c was opened by listenShared with its group (SO_REUSEPORT is
// set on no other socket of the port).
func steered(c *net.UDPConn) bool {
	v, err := sockopt(c, unix.SOL_SOCKET, unix.SO_REUSEPORT)
	return err == nil && v == 1
}

// groupSocket opens a sending socket in port's SO_REUSEPORT group: bound
// to the same address and port, non-blocking, with the port's send
// buffer.
func groupSocket(port *net.UDPConn) (int, error) {
	la, ok := port.LocalAddr().(*net.UDPAddr)
	if !ok {
		return -1, errors.New("sfu: not a UDP socket")
	}
	family, sa := unix.AF_INET6, unix.Sockaddr(nil)
	if ip4 := la.IP.To4(); ip4 != nil {
		family, sa = unix.AF_INET, &unix.SockaddrInet4{Port: la.Port, Addr: [4]byte(ip4)}
	} else {
		sa = &unix.SockaddrInet6{Port: la.Port, Addr: [16]byte(la.IP.To16())}
	}
	sndbuf, _ := sockopt(port, unix.SOL_SOCKET, unix.SO_SNDBUF)
	fd, err := unix.Socket(family, unix.SOCK_DGRAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, unix.IPPROTO_UDP)
	if err != nil {
		return -1, err
	}
	if err = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEPORT, 1); err == nil {
		if sndbuf > 0 {
			_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_SNDBUF, sndbuf/2) // the kernel doubles it
		}
		err = unix.Bind(fd, sa)
	}
	if err != nil {
		_ = unix.Close(fd)
		return -1, err
	}
	return fd, nil
}

// close closes the sender's descriptor once a send under way is done.
func (s *batchSender) close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fd >= 0 {
		_ = unix.Close(s.fd)
		s.fd = -1
	}
}

// write calls f with the descriptor until f says it did not find the
// socket's buffer full; false when the port closed first.
func (s *batchSender) write(b *batchConn, f func(fd int) bool) bool {
	if s.rc != nil {
		return s.rc.Write(func(fd uintptr) bool { return f(int(fd)) }) == nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for s.fd >= 0 {
		if f(s.fd) {
			return true
		}
		select {
		case <-b.done:
			return false
		default:
		}
		// The buffer is full (a NIC behind): wait for room, as a write
		// through Go's poller would, looking at the port between waits.
		_, _ = unix.Poll([]unix.PollFd{{Fd: int32(s.fd), Events: unix.POLLOUT}}, 100)
	}
	return false
}

// send sends pkts. A message that fails (a peer gone, an unroutable
// address) is skipped, as a failed sendto would drop it. A segmented one
// that fails is sent again one datagram at a time, whatever the error (a
// path whose MTU is below the segment size refuses the group, EMSGSIZE,
// and takes each datagram); segmentation is turned off for good when the
// kernel says it has none, or after gsoRefusalsMax refusals in a row with
// no segmented send going in between (a device that cannot checksum it).
func (s *batchSender) send(b *batchConn, pkts []*outPacket) {
	hs := s.w.build(pkts, b.gso.Load())
	for len(hs) > 0 {
		n, errno, ok := s.sendmmsg(b, hs)
		if !ok {
			return
		}
		if n > 0 {
			if b.gsoRefusals.Load() != 0 && segmented(hs[:n]) {
				b.gsoRefusals.Store(0)
			}
			hs = hs[n:]
			continue
		}
		if h := &hs[0].Hdr; h.Controllen > 0 {
			if errno == unix.ENOPROTOOPT || errno == unix.EOPNOTSUPP || b.gsoRefusals.Add(1) >= gsoRefusalsMax {
				b.gso.Store(false)
			}
			iovs := unsafe.Slice(h.Iov, int(h.Iovlen))
			for i := range iovs {
				one := [1]unix.Mmsghdr{{Hdr: unix.Msghdr{Name: h.Name, Namelen: h.Namelen, Iov: &iovs[i]}}}
				one[0].Hdr.SetIovlen(1)
				if _, _, ok := s.sendmmsg(b, one[:]); !ok {
					return
				}
			}
		}
		hs = hs[1:]
	}
}

// sendmmsg sends what it can of hs, waiting for room in the socket's
// buffer and trying again when interrupted: how many messages went, or
// the error of the first; not ok when the port closed first.
func (s *batchSender) sendmmsg(b *batchConn, hs []unix.Mmsghdr) (n int, errno syscall.Errno, ok bool) {
	for {
		if !s.write(b, func(fd int) bool {
			n, errno = sendmmsg(fd, hs)
			return errno != unix.EAGAIN
		}) {
			return 0, 0, false
		}
		if errno != unix.EINTR {
			return n, errno, true
		}
	}
}

// gsoRefusalsMax is how many segmented sends in a row may fail before
// segmentation is turned off.
const gsoRefusalsMax = 32

// segmented: one of hs is a segmented send.
func segmented(hs []unix.Mmsghdr) bool {
	for i := range hs {
		if hs[i].Hdr.Controllen > 0 {
			return true
		}
	}
	return false
}

func sendmmsg(fd int, hs []unix.Mmsghdr) (int, syscall.Errno) {
	n, _, errno := unix.Syscall6(unix.SYS_SENDMMSG, uintptr(fd), uintptr(unsafe.Pointer(&hs[0])), uintptr(len(hs)), 0, 0, 0)
	if errno != 0 {
		return 0, errno
	}
	return int(n), 0
}

// gsoMaxSegments and gsoMaxBytes bound one segmented send (the kernel's
// limits are 64 segments and 64 KiB).
const (
	gsoMaxSegments = 64
	gsoMaxBytes    = 60000
)

// batchWriter turns a batch of packets into the messages of one
// sendmmsg, reusing its buffers from one batch to the next.
type batchWriter struct {
	hdrs  []unix.Mmsghdr
	iovs  []unix.Iovec // every datagram's, each message's together
	names []unix.RawSockaddrInet6
	ctrl  []byte     // each message's control message, gsoCmsg bytes apart
	bufs  [][][]byte // each message's datagrams
	dst   []netip.AddrPort
	size  []int // segment size of each message
	bytes []int
	open  []bool // the message may take more segments
}

func newBatchWriter(max int) batchWriter {
	return batchWriter{hdrs: make([]unix.Mmsghdr, 0, max), iovs: make([]unix.Iovec, 0, max), names: make([]unix.RawSockaddrInet6, max),
		ctrl: make([]byte, gsoCmsg*max), bufs: make([][][]byte, max), dst: make([]netip.AddrPort, max),
		size: make([]int, max), bytes: make([]int, max), open: make([]bool, max)}
}

// build makes the messages for batch (at most the writer's max packets).
// With gso, the packets for one destination that can travel together (all
// one size but the last) go in one segmented message; the order of the
// packets for each destination is kept.
func (w *batchWriter) build(batch []*outPacket, gso bool) []unix.Mmsghdr {
	msgs := 0
	for _, o := range batch {
		dst := netip.AddrPortFrom(o.addr.Addr().Unmap(), o.addr.Port())
		if gso && o.n > 0 {
			if j := w.last(msgs, dst); j >= 0 && w.open[j] && o.n <= w.size[j] && len(w.bufs[j]) < gsoMaxSegments && w.bytes[j]+o.n <= gsoMaxBytes {
				w.bufs[j] = append(w.bufs[j], o.buf[:o.n])
				w.bytes[j] += o.n
				w.open[j] = o.n == w.size[j] // a shorter segment ends it
				continue
			}
		}
		j := msgs
		msgs++
		w.bufs[j] = append(w.bufs[j][:0], o.buf[:o.n])
		w.dst[j], w.size[j], w.bytes[j], w.open[j] = dst, o.n, o.n, true
	}
	w.hdrs, w.iovs = w.hdrs[:msgs], w.iovs[:0]
	for j := range msgs {
		h := &w.hdrs[j].Hdr
		*h = unix.Msghdr{}
		start := len(w.iovs)
		for _, p := range w.bufs[j] {
			iov := unix.Iovec{}
			if len(p) > 0 { // an empty datagram is a message of its own (never joined)
				iov.Base = &p[0]
				iov.SetLen(len(p))
			}
			w.iovs = append(w.iovs, iov)
		}
		h.Iov = &w.iovs[start]
		h.SetIovlen(len(w.bufs[j]))
		h.Name, h.Namelen = w.name(j)
		if len(w.bufs[j]) > 1 {
			c := gsoControl(w.ctrl[j*gsoCmsg:j*gsoCmsg], w.size[j])
			h.Control = &c[0]
			h.SetControllen(len(c))
		}
	}
	return w.hdrs
}

// name writes message j's destination as a socket address.
func (w *batchWriter) name(j int) (*byte, uint32) {
	d, sa := w.dst[j], &w.names[j]
	if d.Addr().Is4() {
		sa4 := (*unix.RawSockaddrInet4)(unsafe.Pointer(sa))
		*sa4 = unix.RawSockaddrInet4{Family: unix.AF_INET, Addr: d.Addr().As4()}
		binary.BigEndian.PutUint16((*[2]byte)(unsafe.Pointer(&sa4.Port))[:], d.Port())
		return (*byte)(unsafe.Pointer(sa4)), unix.SizeofSockaddrInet4
	}
	*sa = unix.RawSockaddrInet6{Family: unix.AF_INET6, Addr: d.Addr().As16()}
	binary.BigEndian.PutUint16((*[2]byte)(unsafe.Pointer(&sa.Port))[:], d.Port())
	return (*byte)(unsafe.Pointer(sa)), unix.SizeofSockaddrInet6
}

// last finds the latest of the first msgs messages going to dst, -1 when
// there is none.
func (w *batchWriter) last(msgs int, dst netip.AddrPort) int {
	for j := msgs - 1; j >= 0; j-- {
		if w.dst[j] == dst {
			return j
		}
	}
	return -1
}
