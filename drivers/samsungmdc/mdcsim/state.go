package mdcsim

import (
	"bufio"
	"io"
)

const (
	header    = 0xAA
	broadcast = 0xFE

	nakUnknown = 0x01 // unknown command (the simulator's choice of code)
	nakValue   = 0x02 // a value the display does not take
	nakStandby = 0x03 // not while the display is in standby
)

// inFrame is a frame from the controller.
type inFrame struct {
	cmd, id byte
	data    []byte
}

// readFrame reads the next frame, skipping bytes before its AA as a display on a noisy line
// does. It returns nil (and no error) for a frame whose checksum is wrong.
func readFrame(r *bufio.Reader) (*inFrame, error) {
	for {
		b, err := r.ReadByte()
		if err != nil {
			return nil, err
		}
		if b == header {
			break
		}
	}
	var head [3]byte
	if _, err := io.ReadFull(r, head[:]); err != nil {
		return nil, err
	}
	rest := make([]byte, int(head[2])+1)
	if _, err := io.ReadFull(r, rest); err != nil {
		return nil, err
	}
	sum := head[0] + head[1] + head[2]
	for _, c := range rest[:len(rest)-1] {
		sum += c
	}
	if sum != rest[len(rest)-1] {
		return nil, nil
	}
	return &inFrame{cmd: head[0], id: head[1], data: rest[:len(rest)-1]}, nil
}

// getOnly are the sources a display reports but cannot be switched to.
var getOnly = map[byte]bool{0x1F: true, 0x22: true, 0x24: true, 0x32: true, 0x34: true}

// handle acts on one frame and returns the answer, or nil for none (another display's frame,
// a broadcast).
func (s *Sim) handle(f *inFrame) []byte {
	if f.id != s.cfg.ID && f.id != broadcast {
		return nil
	}
	s.mu.Lock()
	ans := s.act(f)
	s.mu.Unlock()
	if f.id == broadcast {
		return nil
	}
	return ans
}

// act applies f to the display and returns the answer. s.mu is held.
func (s *Sim) act(f *inFrame) []byte {
	ackv := func(vals ...byte) []byte { return s.reply('A', f.cmd, vals...) }
	nakc := func(code byte) []byte { return s.reply('N', f.cmd, code) }
	if s.naking {
		return nakc(s.nak)
	}
	get := len(f.data) == 0
	var v byte
	switch {
	case get:
	case len(f.data) == 1:
		v = f.data[0]
	default:
		if f.cmd == 0x00 || f.cmd == 0x11 || f.cmd == 0x12 || f.cmd == 0x13 || f.cmd == 0x14 {
			return nakc(nakValue)
		}
		return nakc(nakUnknown)
	}
	switch f.cmd {
	case 0x00: // status
		if s.cfg.NoStatus {
			return nakc(nakUnknown)
		}
		if !get {
			return nakc(nakValue)
		}
		return ackv(b2b(s.on), byte(s.volume), b2b(s.mute), s.input, s.aspect, 0, 0)
	case 0x11: // power
		switch {
		case get:
			return ackv(b2b(s.on))
		case v == 0:
			s.on = false
		case v == 1 || v == 2: // 2 is reboot: the display comes back on
			s.on = true
		default:
			return nakc(nakValue)
		}
		return ackv(v)
	case 0x12: // volume
		switch {
		case get:
			return ackv(byte(s.volume))
		case v > 100:
			return nakc(nakValue)
		case !s.on:
			return nakc(nakStandby)
		}
		s.volume = int(v)
		return ackv(v)
	case 0x13: // mute
		switch {
		case get:
			return ackv(b2b(s.mute))
		case v > 1:
			return nakc(nakValue)
		case !s.on:
			return nakc(nakStandby)
		}
		s.mute = v == 1
		return ackv(v)
	case 0x14: // input source
		switch {
		case get:
			return ackv(s.input)
		case getOnly[v] || !s.fitted(v):
			return nakc(nakValue)
		case !s.on:
			return nakc(nakStandby)
		}
		s.input = v
		return ackv(v)
	}
	return nakc(nakUnknown)
}

func (s *Sim) fitted(code byte) bool {
	for _, c := range s.cfg.Inputs {
		if c == code {
			return true
		}
	}
	return false
}

// reply builds "AA FF id len A|N cmd vals… cs".
func (s *Sim) reply(an, cmd byte, vals ...byte) []byte {
	b := []byte{header, 0xFF, s.cfg.ID, byte(2 + len(vals)), an, cmd}
	b = append(b, vals...)
	var sum byte
	for _, c := range b[1:] {
		sum += c
	}
	return append(b, sum)
}

func b2b(on bool) byte {
	if on {
		return 1
	}
	return 0
}
