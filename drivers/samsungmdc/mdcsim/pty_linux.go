//go:build linux

package mdcsim

import (
	"errors"
	"fmt"

	"github.com/bailiff/bailiff/drivers/transport"
)

// ListenPTY makes a new pty pair, serves the display's end of it, and returns the address a
// driver opens, "serial:/dev/pts/N". Close closes the pair.
func (s *Sim) ListenPTY() (string, error) {
	p, err := transport.OpenPTY()
	if err != nil {
		return "", fmt.Errorf("mdcsim: %w", err)
	}
	line, err := p.Pollable()
	if err != nil {
		p.Close()
		return "", fmt.Errorf("mdcsim: %w", err)
	}
	s.cmu.Lock()
	if s.closed {
		s.cmu.Unlock()
		line.Close()
		p.Close()
		return "", errors.New("mdcsim: listen: simulator closed")
	}
	s.ptys = append(s.ptys, p)
	s.cmu.Unlock()
	if !s.track(line) {
		return "", errors.New("mdcsim: listen: simulator closed")
	}
	go func() {
		defer s.wg.Done()
		s.serve(line, true)
	}()
	return p.Address(), nil
}
