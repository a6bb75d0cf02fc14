//go:build linux

package extronsim

import (
	"errors"
	"fmt"

	"github.com/bailiff/bailiff/drivers/transport"
)

// ListenPTY makes a new pty pair, serves the switcher's end of it as a serial line (no
// greeting, no password), and returns the address a driver opens, "serial:/dev/pts/N".
// Close closes the pair.
func (s *Sim) ListenPTY() (string, error) {
	p, err := transport.OpenPTY()
	if err != nil {
		return "", fmt.Errorf("extronsim: %w", err)
	}
	f, err := p.Pollable()
	if err != nil {
		p.Close()
		return "", fmt.Errorf("extronsim: %w", err)
	}
	s.cmu.Lock()
	if s.closed {
		s.cmu.Unlock()
		f.Close()
		p.Close()
		return "", errors.New("extronsim: listen: simulator closed")
	}
	s.ptys = append(s.ptys, p)
	s.cmu.Unlock()
	l := &line{rw: f, serial: true}
	if !s.track(l) {
		return "", errors.New("extronsim: listen: simulator closed")
	}
	go func() {
		defer s.wg.Done()
		s.serve(l)
	}()
	return p.Address(), nil
}
