//go:build !linux

package extronsim

import "errors"

// ListenPTY is available on Linux only.
func (s *Sim) ListenPTY() (string, error) {
	return "", errors.New("extronsim: pty pairs need Linux")
}
