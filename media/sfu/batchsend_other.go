//go:build !linux

package sfu

import "net"

// Without sendmmsg (not Linux), a sender writes each datagram in turn.

var gsoAvailable = false

func gsoSupported(*net.UDPConn) bool { return false }

func steered(*net.UDPConn) bool { return false }

// listenShared opens the shared port's socket.
func listenShared(ip net.IP, port int) (*net.UDPConn, error) {
	return net.ListenUDP("udp", &net.UDPAddr{IP: ip, Port: port})
}

type batchSender struct{}

func (b *batchConn) newSender() *batchSender { return &batchSender{} }

func (s *batchSender) close() {}

func (s *batchSender) send(b *batchConn, pkts []*outPacket) {
	for _, o := range pkts {
		_, _ = b.UDPConn.WriteToUDPAddrPort(o.buf[:o.n], o.addr)
	}
}
