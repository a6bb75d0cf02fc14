//go:build !linux

package simkit

import "fmt"

// ServePTY is available on Linux only.
func (s *Server) ServePTY(h Handler) (string, error) {
	return "", fmt.Errorf("%s: pty pairs need Linux", s.name)
}

// ServeLineEnd is available on Linux only.
func (s *Server) ServeLineEnd(path string, h Handler) (string, error) {
	return "", fmt.Errorf("%s: serial lines need Linux", s.name)
}
