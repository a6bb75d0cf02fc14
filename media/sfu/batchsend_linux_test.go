package sfu

import (
	"encoding/binary"
	"net"
	"net/netip"
	"os/exec"
	"runtime"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// udpPair is the port under test (a batchConn on ip) and a destination on ip that reads.
func udpPair(t *testing.T, ip net.IP, writers int) (*batchConn, *net.UDPConn) {
	t.Helper()
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: ip})
	if err != nil {
		t.Fatalf("a port on %v: %v", ip, err)
	}
	bc := newBatchConn(c, 16, writers)
	t.Cleanup(func() { _ = bc.Close() })
	d, err := net.ListenUDP("udp", &net.UDPAddr{IP: ip})
	if err != nil {
		t.Fatal(err)
	}
	_ = d.SetReadBuffer(1 << 20)
	t.Cleanup(func() { _ = d.Close() })
	return bc, d
}

// numbered makes n packets of size bytes from the port's pool, numbered from first, for to.
func numbered(bc *batchConn, first, n, size int, to netip.AddrPort) []*outPacket {
	var ps []*outPacket
	for i := range n {
		o := bc.pool.Get().(*outPacket)
		clear(o.buf[:size])
		binary.BigEndian.PutUint32(o.buf[:], uint32(first+i))
		o.n, o.addr = size, to
		ps = append(ps, o)
	}
	return ps
}

// expectNumbered reads n datagrams of size bytes numbered from first, in order.
func expectNumbered(t *testing.T, d *net.UDPConn, first, n, size int) {
	t.Helper()
	buf := make([]byte, 2000)
	for i := range n {
		_ = d.SetReadDeadline(time.Now().Add(5 * time.Second))
		got, err := d.Read(buf)
		if err != nil {
			t.Fatalf("datagram %d of %d: %v", i, n, err)
		}
		if got != size || binary.BigEndian.Uint32(buf) != uint32(first+i) {
			t.Fatalf("datagram %d: %d bytes numbered %d, want %d bytes numbered %d", i, got, binary.BigEndian.Uint32(buf), size, first+i)
		}
	}
}

// Each batch sends on a descriptor of its own (Go lets one goroutine at a time write to a
// socket's), closed with the port.
func TestBatchSenderOwnDescriptor(t *testing.T) {
	bc, d := udpPair(t, net.IPv4(127, 0, 0, 1), 2)
	var portFD int
	rc, _ := bc.UDPConn.SyscallConn()
	_ = rc.Control(func(fd uintptr) { portFD = int(fd) })
	a, b := bc.newBatch(), bc.newBatch()
	if a.s.fd < 0 || b.s.fd < 0 || a.s.fd == b.s.fd || a.s.fd == portFD || b.s.fd == portFD {
		t.Fatalf("descriptors: port %d, batches %d and %d", portFD, a.s.fd, b.s.fd)
	}
	to := d.LocalAddr().(*net.UDPAddr).AddrPort()
	for i, o := range []*outBatch{a, b} {
		for _, p := range numbered(bc, 10*i, 10, 1000, to) {
			o.add(p)
		}
		o.flush()
		expectNumbered(t, d, 10*i, 10, 1000)
	}
	if err := bc.Close(); err != nil {
		t.Fatal(err)
	}
	if a.s.fd != -1 || b.s.fd != -1 {
		t.Errorf("descriptors after Close: %d and %d", a.s.fd, b.s.fd)
	}
	if late := bc.newBatch(); late.s.fd != -1 {
		t.Errorf("a batch made after Close holds descriptor %d", late.s.fd)
	}
}

// A sender without a descriptor of its own (none left to duplicate) writes through the port's.
func TestBatchSenderThroughPort(t *testing.T) {
	bc, d := udpPair(t, net.IPv4(127, 0, 0, 1), 1)
	rc, err := bc.UDPConn.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	s := &batchSender{w: newBatchWriter(bc.max), fd: -1, rc: rc}
	to := d.LocalAddr().(*net.UDPAddr).AddrPort()
	s.send(bc, numbered(bc, 0, 12, 1100, to)) // one segmented message
	expectNumbered(t, d, 0, 12, 1100)
	if gsoAvailable && !bc.gso.Load() {
		t.Error("segmentation offload was turned off")
	}
}

// A socket that refuses segmented sends (here: UDP checksums off, SO_NO_CHECK, which the
// kernel will not segment) gets each datagram on its own. One refusal could be the
// destination's, so segmentation stays on; gsoRefusalsMax in a row turn it off.
func TestBatchSenderSegmentationRefused(t *testing.T) {
	if !gsoAvailable {
		t.Skip("segmentation offload is for 64-bit Linux")
	}
	bc, d := udpPair(t, net.IPv4(127, 0, 0, 1), 1)
	if !bc.gso.Load() {
		t.Fatal("the kernel has UDP_SEGMENT, but segmentation is off")
	}
	rc, _ := bc.UDPConn.SyscallConn()
	var serr error
	_ = rc.Control(func(fd uintptr) { serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_NO_CHECK, 1) })
	if serr != nil {
		t.Fatal(serr)
	}
	out := bc.newBatch()
	to := d.LocalAddr().(*net.UDPAddr).AddrPort()
	for round := range gsoRefusalsMax + 2 {
		if round == 1 && !bc.gso.Load() {
			t.Fatal("one refusal turned segmentation off")
		}
		for _, p := range numbered(bc, 4*round, 4, 1200, to) {
			out.add(p)
		}
		out.flush()
		expectNumbered(t, d, 4*round, 4, 1200)
	}
	if bc.gso.Load() {
		t.Fatalf("segmentation is still on after %d refusals in a row", gsoRefusalsMax)
	}
}

// Messages that fail for their destination (an IPv6 one on an IPv4 socket, port 0) are
// skipped; the rest of the batch goes, and segmentation stays on.
func TestBatchSenderSkipsFailedMessage(t *testing.T) {
	bc, d := udpPair(t, net.IPv4(127, 0, 0, 1), 1)
	out := bc.newBatch()
	to := d.LocalAddr().(*net.UDPAddr).AddrPort()
	bad := netip.MustParseAddrPort("[2001:db8::1]:5000")
	for _, p := range numbered(bc, 0, 3, 1000, to) {
		out.add(p)
	}
	for _, p := range numbered(bc, 100, 4, 1000, bad) {
		out.add(p)
	}
	for _, p := range numbered(bc, 200, 4, 1000, netip.MustParseAddrPort("127.0.0.1:0")) { // EINVAL
		out.add(p)
	}
	for _, p := range numbered(bc, 3, 3, 1000, to) {
		out.add(p)
	}
	out.flush()
	expectNumbered(t, d, 0, 6, 1000)
	if gsoAvailable && !bc.gso.Load() {
		t.Error("a destination's failure turned segmentation off")
	}
}

// An IPv6 port sends to IPv6 destinations, segmented and not.
func TestBatchSenderIPv6(t *testing.T) {
	bc, d := udpPair(t, net.IPv6loopback, 1)
	to := d.LocalAddr().(*net.UDPAddr).AddrPort()
	out := bc.newBatch()
	for _, p := range numbered(bc, 0, 5, 1200, to) { // one segmented message
		out.add(p)
	}
	out.flush()
	expectNumbered(t, d, 0, 5, 1200)
	if _, err := bc.WriteToAddrPort(make([]byte, 700), to); err != nil { // through a port writer
		t.Fatal(err)
	}
	expectNumbered(t, d, 0, 1, 700)
	if gsoAvailable && !bc.gso.Load() {
		t.Error("segmentation offload was turned off")
	}
}

// inShapedNetns moves the test's goroutine, on a thread of its own, into a new network
// namespace whose loopback sends at rate (tc's token bucket): a socket there whose send buffer
// is small finds it full, as on a busy uplink. The thread is never given back: it ends with
// the test, namespace and all.
func inShapedNetns(t *testing.T, rate string) {
	t.Helper()
	runtime.LockOSThread()
	if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
		t.Fatalf("a network namespace: %v (needs root; CI runs as root)", err)
	}
	for _, args := range [][]string{
		{"ip", "link", "set", "lo", "up"},
		{"tc", "qdisc", "add", "dev", "lo", "root", "tbf", "rate", rate, "burst", "4kb", "latency", "5s"},
	} {
		// A child forked from this locked thread starts in its namespace.
		if out, err := exec.Command(args[0], args[1:]...).CombinedOutput(); err != nil {
			t.Fatalf("%s: %v: %s (iproute2 is needed)", strings.Join(args, " "), err, out)
		}
	}
}

// A sender whose socket's buffer is full (a slow uplink) waits for room and loses nothing; the
// datagrams leave at the link's rate, in order.
func TestBatchSenderWaitsForRoom(t *testing.T) {
	inShapedNetns(t, "8mbit")
	bc, d := udpPair(t, net.IPv4(127, 0, 0, 1), 1)
	rc, _ := bc.UDPConn.SyscallConn()
	_ = rc.Control(func(fd uintptr) { _ = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_SNDBUF, 4096) })
	_ = d.SetReadBuffer(4 << 20)
	out := bc.newBatch()
	if out.s.fd < 0 {
		t.Fatal("the batch has no descriptor of its own")
	}
	to := d.LocalAddr().(*net.UDPAddr).AddrPort()
	const n = 150 // 180 kB: about 0.2 s at 8 Mbit/s, with the buffer full after a few
	start := time.Now()
	go func() {
		for i := 0; i < n; i += 10 {
			for _, p := range numbered(bc, i, 10, 1200, to) {
				out.add(p)
			}
			out.flush()
		}
	}()
	expectNumbered(t, d, 0, n, 1200)
	if el := time.Since(start); el < 100*time.Millisecond {
		t.Errorf("%d datagrams took %v: the link was not shaped, so the buffer never filled", n, el)
	}
}

// Empty datagrams (which UDP allows) go out as such, on their own, between others.
func TestBatchSenderEmptyDatagrams(t *testing.T) {
	bc, d := udpPair(t, net.IPv4(127, 0, 0, 1), 1)
	out := bc.newBatch()
	to := d.LocalAddr().(*net.UDPAddr).AddrPort()
	sizes := []int{0, 0, 1000, 1000, 0, 1000}
	for _, n := range sizes {
		o := bc.pool.Get().(*outPacket)
		o.n, o.addr = n, to
		out.add(o)
	}
	out.flush()
	buf := make([]byte, 2000)
	for i, want := range sizes {
		_ = d.SetReadDeadline(time.Now().Add(5 * time.Second))
		n, err := d.Read(buf)
		if err != nil || n != want {
			t.Fatalf("datagram %d: %d bytes, %v; want %d bytes", i, n, err, want)
		}
	}
	if gsoAvailable && !bc.gso.Load() {
		t.Error("segmentation offload was turned off")
	}
}

// inode is the socket a descriptor refers to.
func inode(t *testing.T, fd int) uint64 {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		t.Fatal(err)
	}
	return st.Ino
}

// The shared port's senders are sockets of their own in its SO_REUSEPORT group: they send
// from the port's address, and every datagram that arrives goes to the port's reading socket,
// whichever sender sockets the group holds.
func TestListenSharedSteers(t *testing.T) {
	for _, ip := range []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback} {
		t.Run(ip.String(), func(t *testing.T) { testListenSharedSteers(t, ip) })
	}
}

func testListenSharedSteers(t *testing.T, ip net.IP) {
	c, err := listenShared(ip, 0)
	if err != nil {
		t.Fatal(err)
	}
	bc := newBatchConn(c, 16, 2) // two writers: two sender sockets already
	t.Cleanup(func() { _ = bc.Close() })
	if !bc.steered {
		t.Fatal("the port's group was not made")
	}
	out := bc.newBatch()
	var portFD int
	rc, _ := c.SyscallConn()
	_ = rc.Control(func(fd uintptr) { portFD = int(fd) })
	if out.s.fd < 0 || inode(t, out.s.fd) == inode(t, portFD) {
		t.Fatalf("the sender's descriptor %d is not a socket of its own", out.s.fd)
	}
	port := c.LocalAddr().(*net.UDPAddr).AddrPort()

	// 64 peers (64 hashes into the group) send two datagrams each; the reading socket gets all.
	var peers []*net.UDPConn
	for i := range 64 {
		p, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(port))
		if err != nil {
			t.Fatal(err)
		}
		defer p.Close()
		for range 2 {
			if _, err := p.Write([]byte{byte(i)}); err != nil {
				t.Fatal(err)
			}
		}
		peers = append(peers, p)
	}
	buf := make([]byte, 100)
	for i := range 2 * len(peers) {
		_ = c.SetReadDeadline(time.Now().Add(3 * time.Second))
		if _, _, err := bc.ReadFromAddrPort(buf); err != nil {
			t.Fatalf("the reading socket got %d of %d datagrams: %v", i, 2*len(peers), err)
		}
	}

	// What a sender sends comes from the port.
	p := peers[0]
	to := p.LocalAddr().(*net.UDPAddr).AddrPort()
	for _, o := range numbered(bc, 0, 3, 1000, to) {
		out.add(o)
	}
	out.flush()
	for i := range 3 {
		_ = p.SetReadDeadline(time.Now().Add(3 * time.Second))
		_, from, err := p.ReadFromUDPAddrPort(buf)
		if err != nil {
			t.Fatalf("datagram %d: %v", i, err)
		}
		if from.Port() != port.Port() {
			t.Fatalf("datagram %d came from %v, not the port %v", i, from, port)
		}
	}
}

// A port in use is refused, whether its holder is another shared port (whose group would take
// a second member of the same user) or an ordinary socket.
func TestListenSharedRefusesPortInUse(t *testing.T) {
	a, err := listenShared(net.IPv4(127, 0, 0, 1), 0)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	plain, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	for _, held := range []*net.UDPConn{a, plain} {
		if b, err := listenShared(net.IPv4(127, 0, 0, 1), held.LocalAddr().(*net.UDPAddr).Port); err == nil {
			b.Close()
			t.Fatalf("a shared port on %v, which is in use", held.LocalAddr())
		}
	}
}
