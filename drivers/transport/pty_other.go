//go:build !linux

package transport

import (
	"errors"
	"os"
)

// errNoPTY: the simulators' pty pairs and line ends are made on Linux only.
var errNoPTY = errors.New("transport: pty pairs and serial line ends need Linux")

// PTY is a pseudo-terminal pair; on this system none can be opened.
type PTY struct {
	Device *os.File
	path   string
}

// OpenPTY is available on Linux only.
func OpenPTY() (*PTY, error) { return nil, errNoPTY }

// OpenLineEnd is available on Linux only.
func OpenLineEnd(path string) (*os.File, error) { return nil, errNoPTY }

// Address is what a room config names to reach the simulated device.
func (p *PTY) Address() string { return "serial:" + p.path }

// Path is the slave's device path.
func (p *PTY) Path() string { return p.path }

// Close does nothing: no pair was opened.
func (p *PTY) Close() error { return nil }

// Pollable is available on Linux only.
func (p *PTY) Pollable() (*os.File, error) { return nil, errNoPTY }
