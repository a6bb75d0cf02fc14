package sfu

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/bailiff/bailiff/media/sfu/sfutest"
)

// Packets written from many goroutines to several destinations all arrive, whole, and in the
// order each goroutine wrote them.
func TestBatchConn(t *testing.T) {
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	bc := newBatchConn(c, 16, 2)
	const writers, per = 4, 300
	var dests []*net.UDPConn
	for range writers {
		d, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			t.Fatal(err)
		}
		d.SetReadBuffer(4 << 20)
		defer d.Close()
		dests = append(dests, d)
	}
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			to := dests[w].LocalAddr().(*net.UDPAddr).AddrPort()
			p := make([]byte, 1400)
			for i := range per {
				binary.BigEndian.PutUint32(p, uint32(i))
				p[4] = byte(w)
				if _, err := bc.WriteToAddrPort(p[:packetSize(i)], to); err != nil {
					t.Error(err)
					return
				}
				p[4] = 0xff // the caller reuses its buffer at once
			}
		}()
	}
	for w, d := range dests {
		buf := make([]byte, 2000)
		for i := range per {
			d.SetReadDeadline(time.Now().Add(5 * time.Second))
			n, err := d.Read(buf)
			if err != nil {
				t.Fatalf("destination %d, packet %d: %v", w, i, err)
			}
			if n != packetSize(i) || binary.BigEndian.Uint32(buf) != uint32(i) || buf[4] != byte(w) || !bytes.Equal(buf[5:n], make([]byte, n-5)) {
				t.Fatalf("destination %d, packet %d: got %d bytes, seq %d, writer %d", w, i, n, binary.BigEndian.Uint32(buf), buf[4])
			}
		}
	}
	wg.Wait()
	if gsoAvailable && !bc.gso.Load() {
		t.Error("segmentation offload was turned off: a segmented send failed")
	}
	if err := bc.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := bc.WriteToAddrPort([]byte("x"), dests[0].LocalAddr().(*net.UDPAddr).AddrPort()); err == nil {
		t.Error("write after Close")
	}
}

// packetSize varies the sizes like a video frame's packets: runs of full ones, a short last.
func packetSize(i int) int {
	switch {
	case i%7 == 6:
		return 300 + i%200
	case i%11 == 0:
		return 1300
	}
	return 1200
}

// BenchmarkBatchConn: one writer, one destination, 1200-byte packets; batch=01 is a plain
// sendto per packet, batch=64 the batchConn (sendmmsg with segmentation offload).
func BenchmarkBatchConn(b *testing.B) {
	for _, max := range []int{1, 64} {
		b.Run(fmt.Sprintf("batch=%02d", max), func(b *testing.B) {
			c, _ := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
			d, _ := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
			defer d.Close()
			go func() {
				buf := make([]byte, 2000)
				for {
					if _, err := d.Read(buf); err != nil {
						return
					}
				}
			}()
			to := d.LocalAddr().(*net.UDPAddr).AddrPort()
			p := make([]byte, 1200)
			if max == 1 {
				for range b.N {
					c.WriteToUDPAddrPort(p, to)
				}
				c.Close()
				return
			}
			bc := newBatchConn(c, max, 1)
			for range b.N {
				bc.WriteToAddrPort(p, to)
			}
			bc.Close()
		})
	}
}

// BenchmarkFanoutFloor is the floor under BenchmarkForward: the shared UDP port's batchConn
// sending 1200-byte datagrams round-robin to N receivers on loopback, drained by polling as
// the forwarding benchmark's light viewers are, with no WebRTC at all (no SRTP, no ICE, no
// interceptors). cpu-µs/packet is the CPU the sending costs per datagram a viewer is sent
// (the process's, less the receivers' poller's): the batching and the kernel's work, which on
// loopback is the receiving side's too.
//
// Run: go test -run '^$' -bench FanoutFloor -benchtime 300000x ./media/sfu/
func BenchmarkFanoutFloor(b *testing.B) {
	for _, n := range []int{1, 300} {
		b.Run(fmt.Sprintf("receivers=%d", n), func(b *testing.B) {
			cpu := fanoutFloor(b, n, b.N, b.ResetTimer, b.StopTimer)
			b.ReportMetric(cpu, "cpu-µs/packet")
		})
	}
}

// fanoutFloor sends count datagrams as BenchmarkFanoutFloor does and returns the CPU each
// cost in µs; start and stop (if not nil) bracket the sending.
func fanoutFloor(tb testing.TB, n, count int, start, stop func()) float64 {
	poller := sfutest.NewPoller(2 * time.Millisecond)
	defer poller.Close()
	var to []netip.AddrPort
	for range n {
		pc, err := poller.Listen(1 << 20)
		if err != nil {
			tb.Fatal(err)
		}
		defer pc.Close()
		to = append(to, pc.LocalAddr().(*net.UDPAddr).AddrPort())
	}
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		tb.Fatal(err)
	}
	_ = c.SetWriteBuffer(4 << 20)
	bc := newBatchConn(c, DefaultWriteBatch, runtime.GOMAXPROCS(0))
	defer bc.Close()
	p := make([]byte, 1200)
	p[0] = 0x80 // RTP version 2: the receivers drop it once stamped
	cpu0, poll0 := cpuTime(), poller.CPU()
	if start != nil {
		start()
	}
	for i := range count {
		if _, err := bc.WriteToAddrPort(p, to[i%n]); err != nil {
			tb.Fatal(err)
		}
	}
	time.Sleep(10 * time.Millisecond) // the writers empty their queues
	if stop != nil {
		stop()
	}
	sent := cpuTime() - cpu0 - (poller.CPU() - poll0)
	return float64(sent.Nanoseconds()) / 1e3 / float64(count)
}
