//go:build !linux

package sfutest

import (
	"errors"
	"net"
	"time"
)

// Poller drains sockets without a reader waiting on them; Linux only.
type Poller struct{}

// NewPoller returns a poller whose Listen fails here.
func NewPoller(time.Duration) *Poller { return &Poller{} }

// CPU is zero here.
func (p *Poller) CPU() time.Duration { return 0 }

// Close does nothing.
func (p *Poller) Close() {}

// PollConn is a socket of a Poller.
type PollConn struct {
	net.PacketConn
	OnRTP func(pt uint8, seq uint16, at int64)
}

// Listen fails: polled sockets need Linux.
func (p *Poller) Listen(int) (*PollConn, error) {
	return nil, errors.New("sfutest: polled sockets need Linux")
}
