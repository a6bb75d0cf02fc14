package visca

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"

	"github.com/bailiff/bailiff/drivers"
)

// Packet layout ("VISCA Communication Specifications" of the Sony manuals): a header byte,
// 1 to 14 message bytes, the terminator FF; 16 bytes at most.
const (
	maxPacket  = 16
	terminator = 0xFF
	broadcast  = 0x88 // header of a packet to every camera of a serial line
)

// Largest pan-tilt drive speeds (VV 01-18h; WW 01-14h on the EVI-D100, 01-17h on later
// models: 14h suits both).
const (
	MaxPanSpeed  = 0x18
	MaxTiltSpeed = 0x17
	defTiltSpeed = 0x14
)

// packet returns the packet from the controller (address 0) to camera cam (1-7): 8x body FF.
func packet(cam int, body ...byte) []byte {
	p := make([]byte, 0, len(body)+2)
	p = append(p, 0x80|byte(cam))
	p = append(p, body...)
	return append(p, terminator)
}

// nibbles spreads v over four bytes 0p 0q 0r 0s, most significant first.
func nibbles(v uint16) []byte {
	return []byte{byte(v>>12) & 0xF, byte(v>>8) & 0xF, byte(v>>4) & 0xF, byte(v) & 0xF}
}

// fromNibbles reads four bytes 0p 0q 0r 0s; false when a byte is above 0F.
func fromNibbles(b []byte) (uint16, bool) {
	if len(b) != 4 {
		return 0, false
	}
	var v uint16
	for _, n := range b {
		if n > 0xF {
			return 0, false
		}
		v = v<<4 | uint16(n)
	}
	return v, true
}

// Commands. Power: CAM_Power On/Off.
func cmdPower(cam int, on bool) []byte {
	if on {
		return packet(cam, 0x01, 0x04, 0x00, 0x02)
	}
	return packet(cam, 0x01, 0x04, 0x00, 0x03)
}

// cmdZoom is CAM_Zoom Stop (dir 0), Tele variable (dir > 0, 2p) or Wide variable (dir < 0,
// 3p); speed p is 0 (slow) to 7 (fast).
func cmdZoom(cam, dir int, speed byte) []byte {
	switch {
	case dir > 0:
		return packet(cam, 0x01, 0x04, 0x07, 0x20|speed&0x7)
	case dir < 0:
		return packet(cam, 0x01, 0x04, 0x07, 0x30|speed&0x7)
	}
	return packet(cam, 0x01, 0x04, 0x07, 0x00)
}

// cmdZoomDirect is CAM_Zoom Direct to pos (0 wide end, 4000h optical tele end on most models).
func cmdZoomDirect(cam int, pos uint16) []byte {
	return packet(cam, append([]byte{0x01, 0x04, 0x47}, nibbles(pos)...)...)
}

// cmdPanTilt is Pan-tiltDrive at pan speed vv and tilt speed ww. pan > 0 turns right, < 0
// left; tilt > 0 up, < 0 down; 0 stops the axis.
func cmdPanTilt(cam int, vv, ww byte, pan, tilt int) []byte {
	pd, td := byte(0x03), byte(0x03)
	switch {
	case pan < 0:
		pd = 0x01
	case pan > 0:
		pd = 0x02
	}
	switch {
	case tilt > 0:
		td = 0x01
	case tilt < 0:
		td = 0x02
	}
	return packet(cam, 0x01, 0x06, 0x01, vv, ww, pd, td)
}

// cmdHome is Pan-tiltDrive Home.
func cmdHome(cam int) []byte { return packet(cam, 0x01, 0x06, 0x04) }

// cmdAbsolute is Pan-tiltDrive AbsolutePosition at speeds vv, ww; positions are signed.
func cmdAbsolute(cam int, vv, ww byte, pan, tilt int16) []byte {
	b := []byte{0x01, 0x06, 0x02, vv, ww}
	b = append(b, nibbles(uint16(pan))...)
	b = append(b, nibbles(uint16(tilt))...)
	return packet(cam, b...)
}

// Preset operations of CAM_Memory.
const (
	presetReset  = 0x00
	presetSet    = 0x01
	presetRecall = 0x02
)

func cmdPreset(cam int, op, n byte) []byte { return packet(cam, 0x01, 0x04, 0x3F, op, n) }

// cmdCancel cancels the command running in socket.
func cmdCancel(cam, socket int) []byte {
	return []byte{0x80 | byte(cam), 0x20 | byte(socket&0xF), terminator}
}

// cmdIFClear is IF_Clear to one camera.
func cmdIFClear(cam int) []byte { return packet(cam, 0x01, 0x00, 0x01) }

// Broadcast packets of a serial line: AddressSet (the first camera takes address 1) and
// IF_Clear to every camera.
var (
	addressSet = []byte{broadcast, 0x30, 0x01, terminator}
	ifClearAll = []byte{broadcast, 0x01, 0x00, 0x01, terminator}
)

// Inquiries.
func inqPower(cam int) []byte   { return packet(cam, 0x09, 0x04, 0x00) }
func inqZoom(cam int) []byte    { return packet(cam, 0x09, 0x04, 0x47) }
func inqPanTilt(cam int) []byte { return packet(cam, 0x09, 0x06, 0x12) }
func inqVersion(cam int) []byte { return packet(cam, 0x09, 0x00, 0x02) }

// panTiltSpeed maps |v| in (0, 1] onto 1…max; 0 gives 1, the slowest, which a stop carries.
func panTiltSpeed(v float64, top int) byte {
	s := 1 + int(math.Round(math.Abs(v)*float64(top-1)))
	return byte(min(max(s, 1), top))
}

// zoomSpeed maps |v| in [0, 1] onto the variable zoom speed 0…7.
func zoomSpeed(v float64) byte {
	return byte(min(max(int(math.Round(math.Abs(v)*7)), 0), 7))
}

// Kinds of reply.
type replyKind int

const (
	replyACK           replyKind = iota + 1 // z0 4y FF
	replyCompletion                         // z0 5y FF
	replyAnswer                             // z0 50 data… FF, the answer to an inquiry
	replyError                              // z0 6y ee FF
	replyNetworkChange                      // z0 38 FF
	replyUnsolicited                        // z0 07 …: IR_ReceiveReturn and the like
	replyAddressSet                         // 88 30 0n FF: n-1 cameras took an address
	replyIFClear                            // 88 01 00 01 FF
	replyEcho                               // 8x …: a packet to camera x came back: no camera has that address
)

// reply is one decoded packet from a camera.
type reply struct {
	kind   replyKind
	from   int    // the camera's address 1-7; for replyEcho the address the packet was for
	socket int    // ACK, completion and error
	code   byte   // error code
	data   []byte // the answer of an inquiry; for replyAddressSet the next free address
}

// parseReply decodes one packet, terminator included, read from a camera or a serial line.
func parseReply(p []byte) (reply, error) {
	switch {
	case len(p) < 3:
		return reply{}, garbled(p, "shorter than 3 bytes")
	case len(p) > maxPacket:
		return reply{}, garbled(p, fmt.Sprintf("longer than %d bytes", maxPacket))
	case p[len(p)-1] != terminator:
		return reply{}, garbled(p, "no terminator")
	}
	for _, b := range p[:len(p)-1] {
		if b == terminator {
			return reply{}, garbled(p, "terminator inside the packet")
		}
	}
	h := p[0]
	if h == broadcast {
		switch {
		case len(p) == 4 && p[1] == 0x30 && p[2] >= 1 && p[2] <= 8:
			return reply{kind: replyAddressSet, data: []byte{p[2]}}, nil
		case len(p) == 5 && p[1] == 0x01 && p[2] == 0x00 && p[3] == 0x01:
			return reply{kind: replyIFClear}, nil
		}
		return reply{}, garbled(p, "unknown broadcast")
	}
	if h >= 0x81 && h <= 0x87 {
		return reply{kind: replyEcho, from: int(h & 0x7)}, nil
	}
	if h&0x0F != 0 || h < 0x90 {
		return reply{}, garbled(p, fmt.Sprintf("header %02X is not from a camera to the controller", h))
	}
	r := reply{from: int(h>>4) - 8}
	m := p[1]
	switch {
	case m&0xF0 == 0x40 && len(p) == 3 && m&0x0F != 0:
		r.kind, r.socket = replyACK, int(m&0x0F)
	case m&0xF0 == 0x50 && len(p) == 3:
		r.kind, r.socket = replyCompletion, int(m&0x0F)
	case m == 0x50:
		r.kind, r.data = replyAnswer, p[2:len(p)-1]
	case m&0xF0 == 0x60 && len(p) == 4:
		r.kind, r.socket, r.code = replyError, int(m&0x0F), p[2]
	case m == 0x38 && len(p) == 3:
		r.kind = replyNetworkChange
	case m == 0x07:
		r.kind = replyUnsolicited
	default:
		return reply{}, garbled(p, "not an ACK, completion, answer or error")
	}
	return r, nil
}

// frameReader splits a byte stream (a TCP connection, a serial line) into packets ending in
// FF. It keeps a partial packet across reads that time out.
type frameReader struct {
	r       io.Reader
	raw     [256]byte
	buf     []byte // read, not yet consumed
	frame   []byte // the packet so far
	skip    bool   // discarding an over-long packet up to its terminator
	pending error  // a read error to return once buf is consumed
}

func newFrameReader(r io.Reader) *frameReader { return &frameReader{r: r} }

// next returns the next packet, terminator included. A packet longer than maxPacket is a
// garbled reply: next returns that error once and discards the rest of the packet. Any other
// error is the reader's (io.EOF, a timeout); a partial packet stays for the next call.
func (f *frameReader) next() ([]byte, error) {
	for {
		for len(f.buf) > 0 {
			b := f.buf[0]
			f.buf = f.buf[1:]
			if f.skip {
				f.skip = b != terminator
				continue
			}
			f.frame = append(f.frame, b)
			if b == terminator {
				out := f.frame
				f.frame = nil
				return out, nil
			}
			if len(f.frame) >= maxPacket {
				bad := f.frame
				f.frame, f.skip = nil, true
				return nil, garbled(bad, fmt.Sprintf("no terminator within %d bytes", maxPacket))
			}
		}
		if f.pending != nil {
			err := f.pending
			f.pending = nil
			return nil, err
		}
		n, err := f.r.Read(f.raw[:])
		f.buf = f.raw[:n]
		if err != nil {
			if n == 0 {
				if errors.Is(err, io.EOF) && len(f.frame) > 0 {
					return nil, io.ErrUnexpectedEOF
				}
				return nil, err
			}
			f.pending = err
		}
	}
}

// reset drops a partial packet and anything buffered.
func (f *frameReader) reset() { f.buf, f.frame, f.skip, f.pending = nil, nil, false, nil }

// Inquiry answers.

// decodePower reads the answer to CAM_PowerInq: 02 on, 03 off (standby).
func decodePower(data []byte) (drivers.State, error) {
	if len(data) == 1 {
		switch data[0] {
		case 0x02:
			return drivers.State{"power": "on"}, nil
		case 0x03:
			return drivers.State{"power": "off"}, nil
		}
	}
	return nil, badValue("power", data, "want 02 or 03")
}

// decodeZoom reads the answer to CAM_ZoomPosInq: 0p 0q 0r 0s.
func decodeZoom(data []byte) (drivers.State, error) {
	v, ok := fromNibbles(data)
	if !ok {
		return nil, badValue("zoom position", data, "want 0p 0q 0r 0s")
	}
	return drivers.State{"zoom": int(v)}, nil
}

// decodePanTilt reads the answer to Pan-tiltPosInq: 0w 0w 0w 0w 0z 0z 0z 0z, two signed
// 16-bit positions (0 is the centre, negative left and down).
func decodePanTilt(data []byte) (drivers.State, error) {
	if len(data) != 8 {
		return nil, badValue("pan-tilt position", data, "want 8 bytes")
	}
	p, ok1 := fromNibbles(data[:4])
	t, ok2 := fromNibbles(data[4:])
	if !ok1 || !ok2 {
		return nil, badValue("pan-tilt position", data, "want 0w 0w 0w 0w 0z 0z 0z 0z")
	}
	return drivers.State{"pan": int(int16(p)), "tilt": int(int16(t))}, nil
}

// Version is the answer to CAM_VersionInq.
type Version struct {
	Vendor  uint16 // 0001h Sony (0020h on FCB block cameras)
	Model   uint16
	ROM     uint16
	Sockets int
}

// models are Sony model IDs of CAM_VersionInq, from their manuals.
var models = map[uint16]string{
	0x040F: "BRC-300", 0x0410: "BRU-300",
	0x0501: "BRC-H700", 0x0502: "BRU-H700", 0x0505: "BRC-Z700",
	0x050C: "EVI-D80", 0x050D: "EVI-D90",
	0x045C: "FCB-EH4300", 0x0467: "FCB-EV7500",
}

// VendorName returns "Sony" for Sony's vendor IDs, else the ID in hex.
func (v Version) VendorName() string {
	if v.Vendor == 0x0001 || v.Vendor == 0x0020 {
		return "Sony"
	}
	return fmt.Sprintf("0x%04X", v.Vendor)
}

// ModelName returns the model of a known Sony model ID, else the ID in hex.
func (v Version) ModelName() string {
	if name, ok := models[v.Model]; ok && v.VendorName() == "Sony" {
		return name
	}
	return fmt.Sprintf("0x%04X", v.Model)
}

// parseVersion reads GG GG HH HH JJ JJ KK.
func parseVersion(data []byte) (Version, error) {
	if len(data) != 7 {
		return Version{}, badValue("version", data, "want 7 bytes")
	}
	return Version{
		Vendor:  binary.BigEndian.Uint16(data[0:]),
		Model:   binary.BigEndian.Uint16(data[2:]),
		ROM:     binary.BigEndian.Uint16(data[4:]),
		Sockets: int(data[6]),
	}, nil
}

func decodeVersion(data []byte) (drivers.State, error) {
	v, err := parseVersion(data)
	if err != nil {
		return nil, err
	}
	return drivers.State{"vendor": v.VendorName(), "model": v.ModelName()}, nil
}

// inquiry is one inquiry Poll sends.
type inquiry struct {
	name   string
	build  func(cam int) []byte
	decode func(data []byte) (drivers.State, error)
}

var inquiries = []inquiry{
	{"power", inqPower, decodePower},
	{"zoom", inqZoom, decodeZoom},
	{"pan-tilt", inqPanTilt, decodePanTilt},
	{"version", inqVersion, decodeVersion},
}

// VISCA over IP (UDP 52381): an 8-byte big-endian header, payload type, payload length,
// sequence number, then the payload.
const (
	ipHeader = 8

	typeCommand      = 0x0100
	typeInquiry      = 0x0110
	typeReply        = 0x0111
	typeSetting      = 0x0120
	typeControl      = 0x0200
	typeControlReply = 0x0201

	ctlReset = 0x01 // control command RESET; its reply is 01 too
	ctlError = 0x0F // control ERROR 0F yy: 01 sequence number, 02 message type
)

// encodeIP returns a VISCA over IP message.
func encodeIP(typ uint16, seq uint32, payload []byte) []byte {
	b := make([]byte, ipHeader, ipHeader+len(payload))
	binary.BigEndian.PutUint16(b[0:], typ)
	binary.BigEndian.PutUint16(b[2:], uint16(len(payload)))
	binary.BigEndian.PutUint32(b[4:], seq)
	return append(b, payload...)
}

// decodeIP splits a VISCA over IP message. The length field must match the payload, which
// holds 1 to 16 bytes.
func decodeIP(d []byte) (typ uint16, seq uint32, payload []byte, err error) {
	if len(d) < ipHeader {
		return 0, 0, nil, garbled(d, "shorter than the 8-byte header")
	}
	typ = binary.BigEndian.Uint16(d[0:])
	n := int(binary.BigEndian.Uint16(d[2:]))
	seq = binary.BigEndian.Uint32(d[4:])
	payload = d[ipHeader:]
	if n != len(payload) {
		return 0, 0, nil, garbled(d, fmt.Sprintf("length field %d, payload %d bytes", n, len(payload)))
	}
	if n < 1 || n > maxPacket {
		return 0, 0, nil, garbled(d, fmt.Sprintf("payload of %d bytes", n))
	}
	return typ, seq, payload, nil
}

// ipMessage is one decoded datagram from a camera.
type ipMessage struct {
	seq     uint32
	control bool   // a control message: reset acknowledged, or an error
	ctlErr  byte   // 01, 02 of an ERROR; 0 for the RESET reply
	reply   reply  // a VISCA reply (not control)
	raw     []byte // the VISCA packet of a reply
}

// parseIP decodes a datagram from a camera: a VISCA reply (0111h) or a control message
// (0200h or 0201h) holding the RESET acknowledge 01 or an ERROR 0F yy.
func parseIP(d []byte) (ipMessage, error) {
	typ, seq, payload, err := decodeIP(d)
	if err != nil {
		return ipMessage{}, err
	}
	m := ipMessage{seq: seq}
	switch typ {
	case typeReply:
		r, err := parseReply(payload)
		if err != nil {
			return ipMessage{}, err
		}
		m.reply, m.raw = r, payload
		return m, nil
	case typeControl, typeControlReply:
		m.control = true
		switch {
		case len(payload) == 1 && payload[0] == ctlReset:
			return m, nil
		case len(payload) == 2 && payload[0] == ctlError && payload[1] != 0:
			m.ctlErr = payload[1]
			return m, nil
		}
		return ipMessage{}, garbled(d, "unknown control payload")
	}
	return ipMessage{}, garbled(d, fmt.Sprintf("payload type %04X", typ))
}
