package frame

import (
	"encoding/binary"
	"fmt"
)

// Marshal returns m as a frame before COBS: type byte, payload, CRC (little-endian).
func Marshal(m Message) ([]byte, error) { return appendRaw(nil, m) }

func appendRaw(dst []byte, m Message) ([]byte, error) {
	start := len(dst)
	dst = append(dst, byte(m.Type()))
	dst, err := m.appendPayload(dst)
	if err != nil {
		return dst[:start], fmt.Errorf("%w: %s: %w", ErrInvalid, m.Type(), err)
	}
	if len(dst)-start+2 > MaxFrame {
		return dst[:start], fmt.Errorf("%w: %s: %d bytes, more than %d", ErrInvalid, m.Type(), len(dst)-start+2, MaxFrame)
	}
	return binary.LittleEndian.AppendUint16(dst, CRC16(dst[start:])), nil
}

// AppendFrame appends m as it goes on the wire to dst: COBS of the frame, then 0x00.
func AppendFrame(dst []byte, m Message) ([]byte, error) {
	var scratch [MaxFrame]byte
	raw, err := appendRaw(scratch[:0], m)
	if err != nil {
		return dst, err
	}
	return append(AppendCOBS(dst, raw), 0), nil
}

// Unmarshal decodes a frame before COBS (type, payload, CRC).
func Unmarshal(raw []byte) (Message, error) {
	switch {
	case len(raw) > MaxFrame:
		return nil, fmt.Errorf("%w: %d bytes, more than %d", ErrOversized, len(raw), MaxFrame)
	case len(raw) < 3:
		return nil, fmt.Errorf("%w: %d bytes", ErrShort, len(raw))
	}
	body := raw[:len(raw)-2]
	if got, want := binary.LittleEndian.Uint16(raw[len(raw)-2:]), CRC16(body); got != want {
		return nil, fmt.Errorf("%w: got %04x, want %04x", ErrCRC, got, want)
	}
	t := Type(body[0])
	m := newMessage(t)
	if m == nil {
		return nil, fmt.Errorf("%w 0x%02x", ErrUnknownType, body[0])
	}
	r := reader{b: body[1:]}
	m.decodePayload(&r)
	if r.err == nil && len(r.b) != 0 {
		r.fail("%d trailing bytes", len(r.b))
	}
	if r.err != nil {
		return nil, fmt.Errorf("%s: %w", t, r.err)
	}
	return m, nil
}

// Decode decodes one frame as read between two delimiters (COBS bytes, no 0x00).
func Decode(enc []byte) (Message, error) {
	if len(enc) > MaxEncoded {
		return nil, fmt.Errorf("%w: %d bytes on the wire, more than %d", ErrOversized, len(enc), MaxEncoded)
	}
	var scratch [MaxEncoded]byte
	raw, err := DecodeCOBS(scratch[:0], enc)
	if err != nil {
		return nil, err
	}
	return Unmarshal(raw)
}

// reader takes a payload apart; the first failure sticks.
type reader struct {
	b   []byte
	err error
}

func (r *reader) fail(format string, args ...any) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: "+format, append([]any{ErrPayload}, args...)...)
	}
	r.b = nil
}

func (r *reader) take(n int) []byte {
	if r.err != nil {
		return make([]byte, n)
	}
	if len(r.b) < n {
		r.fail("want %d more bytes, have %d", n, len(r.b))
		return make([]byte, n)
	}
	p := r.b[:n]
	r.b = r.b[n:]
	return p
}

func (r *reader) u8() uint8   { return r.take(1)[0] }
func (r *reader) u16() uint16 { return binary.LittleEndian.Uint16(r.take(2)) }
func (r *reader) u32() uint32 { return binary.LittleEndian.Uint32(r.take(4)) }

func (r *reader) version() Version { return Version{r.u16(), r.u16(), r.u16()} }

func (r *reader) str(what string, ok func(string) error) string {
	n := int(r.u8())
	if n > MaxString {
		r.fail("%s: %d bytes, more than %d", what, n, MaxString)
		return ""
	}
	s := string(r.take(n))
	if r.err == nil {
		if err := ok(s); err != nil {
			r.fail("%s: %v", what, err)
			return ""
		}
	}
	return s
}

func (r *reader) fields() []Field {
	n := int(r.u8())
	if n > MaxFields {
		r.fail("%d fields, more than %d", n, MaxFields)
		return nil
	}
	if n == 0 {
		return nil
	}
	if r.err == nil && len(r.b) < 5*n {
		r.fail("%d fields need %d bytes, have %d", n, 5*n, len(r.b))
		return nil
	}
	f := make([]Field, n)
	for i := range f {
		f[i] = Field{Key(r.u8()), int32(r.u32())}
	}
	return f
}

func appendVersion(b []byte, v Version) []byte {
	b = binary.LittleEndian.AppendUint16(b, v.Major)
	b = binary.LittleEndian.AppendUint16(b, v.Minor)
	return binary.LittleEndian.AppendUint16(b, v.Patch)
}

func appendStr(b []byte, s, what string, ok func(string) error) ([]byte, error) {
	if len(s) > MaxString {
		return b, fmt.Errorf("%s: %d bytes, more than %d", what, len(s), MaxString)
	}
	if err := ok(s); err != nil {
		return b, fmt.Errorf("%s: %w", what, err)
	}
	return append(append(b, byte(len(s))), s...), nil
}

func appendFields(b []byte, f []Field) ([]byte, error) {
	if len(f) > MaxFields {
		return b, fmt.Errorf("%d fields, more than %d", len(f), MaxFields)
	}
	b = append(b, byte(len(f)))
	for _, x := range f {
		b = binary.LittleEndian.AppendUint32(append(b, byte(x.Key)), uint32(x.Value))
	}
	return b, nil
}

// validDeviceType accepts [a-z0-9-]{1,MaxString}.
func validDeviceType(s string) error {
	if s == "" {
		return fmt.Errorf("empty")
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return fmt.Errorf("byte 0x%02x at %d is not [a-z0-9-]", c, i)
		}
	}
	return nil
}

// validSerial accepts printable ASCII without space (0x21…0x7e), possibly empty.
func validSerial(s string) error {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return fmt.Errorf("byte 0x%02x at %d is not printable ASCII", s[i], i)
		}
	}
	return nil
}

func (m *Hello) appendPayload(b []byte) ([]byte, error) {
	p := m.Proto
	if p == 0 {
		p = ProtoVersion
	}
	if p != ProtoVersion {
		return b, fmt.Errorf("protocol version %d: this package speaks %d", p, ProtoVersion)
	}
	if m.MaxFrame < 16 || m.MaxFrame > MaxFrame {
		return b, fmt.Errorf("max frame %d: want 16…%d", m.MaxFrame, MaxFrame)
	}
	b = append(b, p, m.Flags)
	b = binary.LittleEndian.AppendUint32(b, uint32(m.Caps))
	b = binary.LittleEndian.AppendUint16(b, m.MaxFrame)
	b = appendVersion(b, m.Version)
	b, err := appendStr(b, m.DeviceType, "device type", validDeviceType)
	if err != nil {
		return b, err
	}
	return appendStr(b, m.Serial, "serial", validSerial)
}

func (m *Hello) decodePayload(r *reader) {
	if m.Proto = r.u8(); r.err == nil && m.Proto != ProtoVersion {
		r.err = fmt.Errorf("%w %d (this package speaks %d)", ErrVersion, m.Proto, ProtoVersion)
		return
	}
	m.Flags = r.u8()
	m.Caps = Caps(r.u32())
	if m.MaxFrame = r.u16(); r.err == nil && (m.MaxFrame < 16 || m.MaxFrame > MaxFrame) {
		r.fail("max frame %d: want 16…%d", m.MaxFrame, MaxFrame)
	}
	m.Version = r.version()
	m.DeviceType = r.str("device type", validDeviceType)
	m.Serial = r.str("serial", validSerial)
}

func (m *HelloRequest) appendPayload(b []byte) ([]byte, error) { return b, nil }
func (m *HelloRequest) decodePayload(*reader)                  {}

func (m *Ping) appendPayload(b []byte) ([]byte, error) {
	return binary.LittleEndian.AppendUint32(b, m.Nonce), nil
}
func (m *Ping) decodePayload(r *reader) { m.Nonce = r.u32() }

func (m *Pong) appendPayload(b []byte) ([]byte, error) {
	return binary.LittleEndian.AppendUint32(b, m.Nonce), nil
}
func (m *Pong) decodePayload(r *reader) { m.Nonce = r.u32() }

func (m *State) appendPayload(b []byte) ([]byte, error) { return appendFields(b, m.Fields) }
func (m *State) decodePayload(r *reader)                { m.Fields = r.fields() }

func (m *Event) appendPayload(b []byte) ([]byte, error) {
	return appendFields(append(b, byte(m.Code)), m.Fields)
}
func (m *Event) decodePayload(r *reader) { m.Code = EventCode(r.u8()); m.Fields = r.fields() }

func (m *Command) appendPayload(b []byte) ([]byte, error) {
	b = binary.LittleEndian.AppendUint16(b, m.ID)
	return appendFields(append(b, byte(m.Action)), m.Fields)
}
func (m *Command) decodePayload(r *reader) {
	m.ID = r.u16()
	m.Action = Action(r.u8())
	m.Fields = r.fields()
}

func (m *Ack) appendPayload(b []byte) ([]byte, error) {
	b = binary.LittleEndian.AppendUint16(b, m.ID)
	return appendFields(append(b, byte(m.Status)), m.Fields)
}
func (m *Ack) decodePayload(r *reader) {
	m.ID = r.u16()
	m.Status = Status(r.u8())
	m.Fields = r.fields()
}

func (m *UpdateBegin) appendPayload(b []byte) ([]byte, error) {
	if m.ChunkSize == 0 || m.ChunkSize > MaxChunk {
		return b, fmt.Errorf("chunk size %d: want 1…%d", m.ChunkSize, MaxChunk)
	}
	b = binary.LittleEndian.AppendUint32(b, m.Size)
	b = appendVersion(b, m.Version)
	b = binary.LittleEndian.AppendUint16(b, m.ChunkSize)
	b = append(b, m.Flags)
	b = append(b, m.SHA256[:]...)
	b = append(b, m.Signature[:]...)
	return appendStr(b, m.DeviceType, "device type", validDeviceType)
}

func (m *UpdateBegin) decodePayload(r *reader) {
	m.Size = r.u32()
	m.Version = r.version()
	if m.ChunkSize = r.u16(); r.err == nil && (m.ChunkSize == 0 || m.ChunkSize > MaxChunk) {
		r.fail("chunk size %d: want 1…%d", m.ChunkSize, MaxChunk)
	}
	m.Flags = r.u8()
	copy(m.SHA256[:], r.take(32))
	copy(m.Signature[:], r.take(64))
	m.DeviceType = r.str("device type", validDeviceType)
}

func (m *UpdateChunk) appendPayload(b []byte) ([]byte, error) {
	if len(m.Data) == 0 || len(m.Data) > MaxChunk {
		return b, fmt.Errorf("chunk of %d bytes: want 1…%d", len(m.Data), MaxChunk)
	}
	return append(binary.LittleEndian.AppendUint32(b, m.Offset), m.Data...), nil
}

func (m *UpdateChunk) decodePayload(r *reader) {
	m.Offset = r.u32()
	if r.err == nil && len(r.b) == 0 {
		r.fail("chunk without data")
		return
	}
	m.Data = append([]byte(nil), r.take(len(r.b))...)
}

func (m *UpdateChunkAck) appendPayload(b []byte) ([]byte, error) {
	return append(binary.LittleEndian.AppendUint32(b, m.Next), byte(m.Status)), nil
}
func (m *UpdateChunkAck) decodePayload(r *reader) {
	m.Next = r.u32()
	m.Status = ChunkStatus(r.u8())
}

func (m *UpdateVerify) appendPayload(b []byte) ([]byte, error)  { return b, nil }
func (m *UpdateVerify) decodePayload(*reader)                   {}
func (m *UpdateReboot) appendPayload(b []byte) ([]byte, error)  { return b, nil }
func (m *UpdateReboot) decodePayload(*reader)                   {}
func (m *UpdateConfirm) appendPayload(b []byte) ([]byte, error) { return b, nil }
func (m *UpdateConfirm) decodePayload(*reader)                  {}

func (m *UpdateStatus) appendPayload(b []byte) ([]byte, error) {
	b = append(b, byte(m.Phase), byte(m.Reason))
	b = binary.LittleEndian.AppendUint32(b, m.Offset)
	return appendVersion(b, m.Version), nil
}
func (m *UpdateStatus) decodePayload(r *reader) {
	m.Phase = Phase(r.u8())
	m.Reason = Reason(r.u8())
	m.Offset = r.u32()
	m.Version = r.version()
}

func (m *UpdateAbort) appendPayload(b []byte) ([]byte, error) { return append(b, byte(m.Reason)), nil }
func (m *UpdateAbort) decodePayload(r *reader)                { m.Reason = Reason(r.u8()) }
