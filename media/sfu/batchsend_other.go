//go:build !linux

package sfu

import "net"

// Without sendmmsg (not Linux), a sender writes each datagram in turn.

var gsoAvailable = false

func gsoSupported(*net.UDPConn) bool { return false }

type batchSender struct{}

func (b *batchConn) newSender() *batchSender { return &batchSender{} }

func (s *batchSender) close() {}

func (s *batchSender) send(b *batchConn, pkts []*outPacket) {
	for _, o := range pkts {
		_, _ = b.UDPConn.WriteToUDPAddrPort(o.buf[:o.n], o.addr)
	}
}
