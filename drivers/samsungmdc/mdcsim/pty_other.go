//go:build !linux

package mdcsim

import "errors"

// ListenPTY is available on Linux only.
func (s *Sim) ListenPTY() (string, error) {
	return "", errors.New("mdcsim: pty pairs need Linux")
}
