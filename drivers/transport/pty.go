//go:build linux

package transport

import (
	"fmt"
	"os"

	"github.com/creack/pty"
	"golang.org/x/sys/unix"
)

// PTY is a pseudo-terminal pair standing in for a serial cable: a simulator reads and writes
// Device, and a driver opens Address ("serial:/dev/pts/N") as if it were the port.
type PTY struct {
	Device *os.File // the simulator's end (the pty master)
	slave  *os.File // kept open so the pair survives the driver closing and reopening it
	path   string
}

// OpenPTY makes a raw pty pair (no echo, no line editing, no CR/LF translation either way).
func OpenPTY() (*PTY, error) {
	m, s, err := pty.Open()
	if err != nil {
		return nil, fmt.Errorf("transport: open pty: %w", err)
	}
	for _, f := range []*os.File{m, s} {
		if err := makeRaw(int(f.Fd())); err != nil {
			m.Close()
			s.Close()
			return nil, fmt.Errorf("transport: raw pty: %w", err)
		}
	}
	return &PTY{Device: m, slave: s, path: s.Name()}, nil
}

// Address is what a room config names to reach the simulated device.
func (p *PTY) Address() string { return "serial:" + p.path }

// Path is the slave's device path.
func (p *PTY) Path() string { return p.path }

// Close closes both ends: the driver's next read fails as when a cable is pulled.
func (p *PTY) Close() error {
	err := p.Device.Close()
	if e := p.slave.Close(); err == nil {
		err = e
	}
	return err
}

func makeRaw(fd int) error {
	t, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	if err != nil {
		return err
	}
	t.Iflag &^= unix.IGNBRK | unix.BRKINT | unix.PARMRK | unix.ISTRIP | unix.INLCR | unix.IGNCR | unix.ICRNL | unix.IXON
	t.Oflag &^= unix.OPOST
	t.Lflag &^= unix.ECHO | unix.ECHONL | unix.ICANON | unix.ISIG | unix.IEXTEN
	t.Cflag &^= unix.CSIZE | unix.PARENB
	t.Cflag |= unix.CS8
	t.Cc[unix.VMIN] = 1
	t.Cc[unix.VTIME] = 0
	return unix.IoctlSetTermios(fd, unix.TCSETS, t)
}

// OpenLineEnd opens an existing terminal device (one end of a socat pty pair, a real port)
// for a simulator: raw, and pollable, so that closing it ends a read in progress.
func OpenLineEnd(path string) (*os.File, error) {
	fd, err := unix.Open(path, unix.O_RDWR|unix.O_NOCTTY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("transport: open %s: %w", path, err)
	}
	if err := makeRaw(fd); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("transport: raw %s: %w", path, err)
	}
	return os.NewFile(uintptr(fd), path), nil // non-blocking: the runtime poller serves it
}

// Pollable returns a duplicate of the pty's simulator end in non-blocking mode, so that a
// Close ends a read blocked on it (the Device file itself stays blocking). The caller
// closes the duplicate.
func (p *PTY) Pollable() (*os.File, error) {
	fd, err := unix.Dup(int(p.Device.Fd()))
	if err != nil {
		return nil, fmt.Errorf("transport: pty: %w", err)
	}
	if err := unix.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("transport: pty: %w", err)
	}
	return os.NewFile(uintptr(fd), p.path+" (simulator end)"), nil
}
