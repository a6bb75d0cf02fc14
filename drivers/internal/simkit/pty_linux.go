//go:build linux

package simkit

import (
	"fmt"

	"github.com/bailiff/bailiff/drivers/transport"
)

// ServePTY makes a new pty pair, serves h on the simulator's end as a serial line, and
// returns the address a driver opens, "serial:/dev/pts/N". The pair stays open until Close,
// so the driver may close and reopen its end.
func (s *Server) ServePTY(h Handler) (string, error) {
	p, err := transport.OpenPTY()
	if err != nil {
		return "", fmt.Errorf("%s: %w", s.name, err)
	}
	// The pollable duplicate of the simulator's end, so that Close ends a read.
	f, err := p.Pollable()
	if err != nil {
		p.Close()
		return "", fmt.Errorf("%s: %w", s.name, err)
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		f.Close()
		p.Close()
		return "", fmt.Errorf("%s: listen: %w", s.name, errClosed)
	}
	s.ptys = append(s.ptys, p)
	s.mu.Unlock()
	l := s.track(f, true)
	if l == nil {
		return "", fmt.Errorf("%s: listen: %w", s.name, errClosed)
	}
	go s.serve(l, h)
	return p.Address(), nil
}

// ServeLineEnd serves h on an existing terminal device (one end of a socat pty pair, a real
// port) opened raw and pollable, with no line settings and no deadlines (see
// transport.OpenLineEnd), and returns its address, "serial:PATH". ServeSerial is the usual
// way; this one is for simulators that wait out a line no one has opened yet.
func (s *Server) ServeLineEnd(path string, h Handler) (string, error) {
	f, err := transport.OpenLineEnd(path)
	if err != nil {
		return "", fmt.Errorf("%s: %w", s.name, err)
	}
	l := s.track(f, true)
	if l == nil {
		return "", fmt.Errorf("%s: serial: %w", s.name, errClosed)
	}
	go s.serve(l, h)
	return "serial:" + path, nil
}
