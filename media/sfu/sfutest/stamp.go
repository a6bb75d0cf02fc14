package sfutest

import (
	"net"
	"time"
)

// StampConn is a UDP socket that reports when the kernel received each
// RTP datagram, before the peer's own stack (ICE, DTLS, SRTP) sees it, so
// a benchmark can measure what the sender added without the receiver's
// scheduling in the figure. SRTP leaves the RTP header in the clear: the
// payload type and sequence number are read from it.
//
// It is a net.PacketConn and nothing more (no ReadFromAddrPort), so pion's
// ICE UDP mux reads through ReadFrom.
type StampConn struct {
	c *net.UDPConn
	// OnRTP is called for each RTP datagram read, with its payload type,
	// sequence number and the kernel's receive time (Unix nanoseconds;
	// where the system has no receive timestamps, the time of the read).
	OnRTP func(pt uint8, seq uint16, at int64)
	// Drop, when set before the first read, keeps RTP datagrams from the peer's stack once
	// stamped: a receiver that costs next to nothing, for a benchmark whose viewers stand
	// for other machines (ICE, DTLS and RTCP still go through, so the session stays up).
	Drop bool
	oob  []byte
}

// ListenStamped opens a UDP socket on addr (e.g. "127.0.0.1:0") with
// kernel receive timestamps and a receive buffer of rcvbuf bytes (0 leaves
// the system's).
func ListenStamped(addr string, rcvbuf int) (*StampConn, error) {
	ua, err := net.ResolveUDPAddr("udp4", addr)
	if err != nil {
		return nil, err
	}
	c, err := net.ListenUDP("udp4", ua)
	if err != nil {
		return nil, err
	}
	if rcvbuf > 0 {
		_ = c.SetReadBuffer(rcvbuf)
	}
	if err := enableStamps(c); err != nil {
		_ = c.Close()
		return nil, err
	}
	return &StampConn{c: c, oob: make([]byte, 128)}, nil
}

// ReadFrom reads one datagram and reports it to OnRTP when it is RTP.
func (s *StampConn) ReadFrom(b []byte) (int, net.Addr, error) {
	for {
		n, oobn, _, addr, err := s.c.ReadMsgUDP(b, s.oob)
		if err != nil {
			return n, addr, err
		}
		if stampRTP(b[:n], s.oob[:oobn], s.OnRTP) && s.Drop {
			continue
		}
		return n, addr, nil
	}
}

// stampRTP reports an RTP datagram (not RTCP, RFC 5761) to onRTP, if set,
// with its payload type, sequence number and the kernel's receive time
// from oob (the time now where there is none), and says whether it was
// RTP.
func stampRTP(b, oob []byte, onRTP func(pt uint8, seq uint16, at int64)) bool {
	if len(b) < 12 || b[0]>>6 != 2 || b[1] >= 192 && b[1] <= 223 {
		return false
	}
	if onRTP != nil {
		at := stampOf(oob)
		if at == 0 {
			at = time.Now().UnixNano()
		}
		onRTP(b[1]&0x7f, uint16(b[2])<<8|uint16(b[3]), at)
	}
	return true
}

// WriteTo sends one datagram.
func (s *StampConn) WriteTo(b []byte, addr net.Addr) (int, error) { return s.c.WriteTo(b, addr) }

// Close closes the socket.
func (s *StampConn) Close() error { return s.c.Close() }

// LocalAddr is the socket's address.
func (s *StampConn) LocalAddr() net.Addr { return s.c.LocalAddr() }

// SetDeadline sets the read and write deadlines.
func (s *StampConn) SetDeadline(t time.Time) error { return s.c.SetDeadline(t) }

// SetReadDeadline sets the read deadline.
func (s *StampConn) SetReadDeadline(t time.Time) error { return s.c.SetReadDeadline(t) }

// SetWriteDeadline sets the write deadline.
func (s *StampConn) SetWriteDeadline(t time.Time) error { return s.c.SetWriteDeadline(t) }
