package samsungmdc

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/bailiff/bailiff/drivers"
)

// Frame bytes (MDC 0008 §2).
const (
	header   = 0xAA // first byte of every frame
	replyCmd = 0xFF // command byte of an ACK or NAK
	ack      = 'A'
	nak      = 'N'
)

// Broadcast is the display ID every display obeys and none answers.
const Broadcast = 0xFE

// Command codes this package uses; Command sends any other.
const (
	CmdStatus = 0x00 // status inquiry: power, volume, mute, input, aspect, … (unconfirmed)
	CmdPower  = 0x11 // 0 off, 1 on
	CmdVolume = 0x12 // 0–100
	CmdMute   = 0x13 // 0 off, 1 on (unconfirmed)
	CmdInput  = 0x14 // an input source code
)

// checksum is the sum of the bytes after the header, mod 256.
func checksum(b []byte) byte {
	var s byte
	for _, c := range b {
		s += c
	}
	return s
}

// encodeFrame returns "AA cmd id len data… cs". A get has no data.
func encodeFrame(cmd, id byte, data []byte) ([]byte, error) {
	if len(data) > 255 {
		return nil, fmt.Errorf("command 0x%02x: %d data bytes, at most 255: %w", cmd, len(data), drivers.ErrBadArgs)
	}
	b := make([]byte, 0, 5+len(data))
	b = append(b, header, cmd, id, byte(len(data)))
	b = append(b, data...)
	return append(b, checksum(b[1:])), nil
}

// frame is a decoded frame: its command, ID and data.
type frame struct {
	cmd, id byte
	data    []byte
}

// readFrame reads one frame. A frame that does not start with AA or whose checksum is wrong
// is garbled; the caller must then close the link, whose stream is out of step. Any other
// error is the reader's (io.EOF, io.ErrUnexpectedEOF for a frame cut short, a timeout).
func readFrame(r *bufio.Reader) (frame, error) {
	first, err := r.ReadByte()
	if err != nil {
		return frame{}, err
	}
	if first != header {
		// Show what follows, when it has already arrived, to tell garbage from a lost byte.
		more, _ := r.Peek(min(r.Buffered(), 7))
		return frame{}, garbled(append([]byte{first}, more...), "does not start with AA")
	}
	var head [3]byte
	if _, err := io.ReadFull(r, head[:]); err != nil {
		return frame{}, unexpectedEOF(err)
	}
	rest := make([]byte, int(head[2])+1) // data and checksum
	if _, err := io.ReadFull(r, rest); err != nil {
		return frame{}, unexpectedEOF(err)
	}
	whole := append(head[:], rest...)
	if sum := checksum(whole[:len(whole)-1]); sum != whole[len(whole)-1] {
		return frame{}, garbled(append([]byte{header}, whole...), fmt.Sprintf("checksum 0x%02x, want 0x%02x", whole[len(whole)-1], sum))
	}
	return frame{cmd: head[0], id: head[1], data: rest[:len(rest)-1]}, nil
}

func unexpectedEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// parseReply checks that f answers cmd sent to display id and returns the values of an ACK
// (the bytes after 'A' and r-cmd). A NAK is a *NakError; anything else is garbled.
func parseReply(f frame, cmd, id byte) ([]byte, error) {
	raw := func() []byte { return append([]byte{header, f.cmd, f.id, byte(len(f.data))}, f.data...) }
	switch {
	case f.cmd != replyCmd:
		return nil, garbled(raw(), fmt.Sprintf("command byte 0x%02x, want an answer (0xff)", f.cmd))
	case f.id != id:
		return nil, garbled(raw(), fmt.Sprintf("answer from display %d, not %d", f.id, id))
	case len(f.data) < 2:
		return nil, garbled(raw(), "answer shorter than ACK/NAK and r-cmd")
	case f.data[1] != cmd:
		return nil, garbled(raw(), fmt.Sprintf("answers command 0x%02x, not 0x%02x", f.data[1], cmd))
	}
	switch f.data[0] {
	case ack:
		return f.data[2:], nil
	case nak:
		if len(f.data) != 3 {
			return nil, garbled(raw(), "a NAK carries one error code")
		}
		return nil, &NakError{Cmd: cmd, Code: f.data[2]}
	}
	return nil, garbled(raw(), fmt.Sprintf("0x%02x is neither ACK ('A') nor NAK ('N')", f.data[0]))
}

// checkEcho checks the ACK of a set command: it echoes the value set.
func checkEcho(cmd, sent byte, vals []byte) error {
	switch {
	case len(vals) == 0:
		return badValue("command 0x%02x acknowledged without its value", cmd)
	case vals[0] != sent:
		return badValue("command 0x%02x set to 0x%02x acknowledged with 0x%02x", cmd, sent, vals[0])
	}
	return nil
}

// decodeValue decodes the answer to a get of power, volume, mute or input into the state
// fields Poll publishes.
func decodeValue(cmd byte, vals []byte) (drivers.State, error) {
	if len(vals) == 0 {
		return nil, badValue("answer to 0x%02x has no value", cmd)
	}
	v := vals[0]
	switch cmd {
	case CmdPower:
		switch v {
		case 0:
			return drivers.State{"power": "off"}, nil
		case 1:
			return drivers.State{"power": "on"}, nil
		}
		return nil, badValue("power 0x%02x: want 0 or 1", v)
	case CmdVolume:
		if v > 100 {
			return nil, badValue("volume %d: want 0-100", v)
		}
		return drivers.State{"volume": int(v), "gain_db": float64(v) - 100}, nil
	case CmdMute:
		switch v {
		case 0:
			return drivers.State{"mute": false}, nil
		case 1:
			return drivers.State{"mute": true}, nil
		}
		return nil, badValue("mute 0x%02x: want 0 or 1", v)
	case CmdInput:
		return drivers.State{"input": InputName(v)}, nil
	}
	return nil, fmt.Errorf("no decoder for command 0x%02x: %w", cmd, drivers.ErrUnsupported)
}

// decodeStatus decodes the values of the status inquiry's ACK: power, volume, mute, input,
// aspect, then values Poll does not use. Fields that do not decode are left out and named
// in the error.
func decodeStatus(vals []byte) (drivers.State, error) {
	if len(vals) < 5 {
		return nil, badValue("status answer has %d values, want at least 5", len(vals))
	}
	st := drivers.State{}
	var faults []string
	for i, cmd := range []byte{CmdPower, CmdVolume, CmdMute, CmdInput} {
		fields, err := decodeValue(cmd, vals[i:i+1])
		if err != nil {
			var ve *valueError
			errors.As(err, &ve)
			faults = append(faults, ve.msg)
			continue
		}
		for k, v := range fields {
			st[k] = v
		}
	}
	st["aspect"] = fmt.Sprintf("0x%02x", vals[4])
	if len(faults) > 0 {
		return st, badValue("status: %s", strings.Join(faults, "; "))
	}
	return st, nil
}

// An input is one source a display may show.
type input struct {
	code    byte
	name    string
	getOnly bool // the display reports it but cannot be switched to it
	aliases []string
}

// inputs is the table of input source codes; see the package documentation for which are
// confirmed by Samsung manuals.
var inputs = []input{
	{code: 0x04, name: "s-video", aliases: []string{"svideo"}},
	{code: 0x08, name: "component"},
	{code: 0x0C, name: "av", aliases: []string{"av1", "composite"}},
	{code: 0x0D, name: "av2"},
	{code: 0x0E, name: "scart", aliases: []string{"scart1"}},
	{code: 0x14, name: "pc", aliases: []string{"vga"}},
	{code: 0x18, name: "dvi"},
	{code: 0x1E, name: "bnc"},
	{code: 0x1F, name: "dvi-video", getOnly: true},
	{code: 0x20, name: "magicinfo"},
	{code: 0x21, name: "hdmi1", aliases: []string{"hdmi"}},
	{code: 0x22, name: "hdmi1-pc", getOnly: true},
	{code: 0x23, name: "hdmi2"},
	{code: 0x24, name: "hdmi2-pc", getOnly: true},
	{code: 0x25, name: "dp1", aliases: []string{"dp", "displayport", "displayport1"}},
	{code: 0x26, name: "dp2", aliases: []string{"displayport2"}},
	{code: 0x27, name: "dp3", aliases: []string{"displayport3"}},
	{code: 0x30, name: "tv", aliases: []string{"rf", "rf-tv"}},
	{code: 0x31, name: "hdmi3"},
	{code: 0x32, name: "hdmi3-pc", getOnly: true},
	{code: 0x33, name: "hdmi4"},
	{code: 0x34, name: "hdmi4-pc", getOnly: true},
	{code: 0x40, name: "dtv"},
	{code: 0x50, name: "plug-in", aliases: []string{"plugin", "ops"}},
	{code: 0x55, name: "hdbaset"},
	{code: 0x60, name: "magicinfo-s", aliases: []string{"media"}},
	{code: 0x61, name: "screen-mirroring", aliases: []string{"widi"}},
	{code: 0x62, name: "usb", aliases: []string{"internal-usb"}},
	{code: 0x63, name: "url-launcher"},
	{code: 0x64, name: "whiteboard", aliases: []string{"iwb"}},
}

// InputNames lists the names SetInput takes and Poll reports, in code order. Aliases
// ("hdmi" for "hdmi1", "dp" and "displayport" for "dp1", "vga" for "pc", …) are taken too.
func InputNames() []string {
	out := make([]string, len(inputs))
	for i, in := range inputs {
		out[i] = in.name
	}
	return out
}

// InputName returns the name of an input source code, or "0x7f" for a code not in the table.
func InputName(code byte) string {
	for _, in := range inputs {
		if in.code == code {
			return in.name
		}
	}
	return fmt.Sprintf("0x%02x", code)
}

// inputCode turns a source — a name, an alias or a hex code "0x21" — into the code to set.
// Unknown names and get-only sources are drivers.ErrBadArgs.
func inputCode(source string) (byte, error) {
	s := strings.ToLower(strings.TrimSpace(source))
	s = strings.ReplaceAll(s, "_", "-")
	if h, ok := strings.CutPrefix(s, "0x"); ok && len(h) >= 1 && len(h) <= 2 {
		if n, err := strconv.ParseUint(h, 16, 8); err == nil {
			for _, in := range inputs {
				if in.code == byte(n) && in.getOnly {
					return 0, fmt.Errorf("input %q (%s) can only be reported, not selected: %w", source, in.name, drivers.ErrBadArgs)
				}
			}
			return byte(n), nil
		}
	}
	for _, in := range inputs {
		match := s == in.name
		for _, a := range in.aliases {
			match = match || s == a
		}
		if !match {
			continue
		}
		if in.getOnly {
			return 0, fmt.Errorf("input %q can only be reported, not selected: %w", source, drivers.ErrBadArgs)
		}
		return in.code, nil
	}
	return 0, fmt.Errorf("unknown input %q: want one of %s, or a code such as 0x21: %w",
		source, strings.Join(settable(), ", "), drivers.ErrBadArgs)
}

func settable() []string {
	var out []string
	for _, in := range inputs {
		if !in.getOnly {
			out = append(out, in.name)
		}
	}
	return out
}

// levelForGain maps a gain in dB onto the MDC volume level: 100 + dB, floored at 0. A
// positive or NaN gain is drivers.ErrBadArgs.
func levelForGain(db float64) (byte, error) {
	if math.IsNaN(db) || db > 0 {
		return 0, fmt.Errorf("gain %v dB: a display's volume tops out at 0 dB (level 100): %w", db, drivers.ErrBadArgs)
	}
	level := math.Round(100 + db)
	if level < 0 {
		level = 0
	}
	return byte(level), nil
}
