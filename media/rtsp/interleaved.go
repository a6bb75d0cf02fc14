package rtsp

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// MaxGarbage is how many bytes in a row the interleaved reader skips looking for a frame or a
// message before it gives up on the connection.
const MaxGarbage = 1 << 20

// Frame is an interleaved binary frame (RFC 2326 §10.12): '$', a channel, a 16-bit length.
type Frame struct {
	Channel uint8
	Payload []byte
}

// Bytes renders the frame.
func (f Frame) Bytes() []byte {
	b := make([]byte, 4+len(f.Payload))
	b[0], b[1] = '$', f.Channel
	binary.BigEndian.PutUint16(b[2:], uint16(len(f.Payload)))
	copy(b[4:], f.Payload)
	return b
}

// Message is what the interleaved reader read: one of a frame, a request or a response.
type Message struct {
	Frame    *Frame
	Request  *Request
	Response *Response
}

// Reader reads a connection that mixes interleaved frames with RTSP messages, and
// resynchronises when it meets bytes that are neither.
type Reader struct {
	br *bufio.Reader
	// Channel, if set, says which channels are expected; a '$' of another channel is
	// treated as garbage.
	Channel func(ch uint8) bool
	// Skipped counts the garbage bytes skipped so far.
	Skipped int64
}

// NewReader reads from r.
func NewReader(r io.Reader) *Reader {
	if br, ok := r.(*bufio.Reader); ok && br.Size() >= 4096 {
		return &Reader{br: br}
	}
	return &Reader{br: bufio.NewReaderSize(r, 8192)}
}

var methods = [][]byte{
	[]byte("OPTIONS "), []byte("DESCRIBE "), []byte("SETUP "), []byte("PLAY "), []byte("PAUSE "),
	[]byte("TEARDOWN "), []byte("GET_PARAMETER "), []byte("SET_PARAMETER "), []byte("ANNOUNCE "),
	[]byte("RECORD "), []byte("REDIRECT "),
}

// Next reads the next frame or message. A message that does not parse is returned as an
// error wrapping ErrMalformed (or ErrTooLarge); the reader may be used again after it.
func (r *Reader) Next() (Message, error) {
	run := 0
	for {
		head, err := r.br.Peek(1)
		if err != nil {
			return Message{}, err
		}
		switch head[0] {
		case '$':
			h, err := r.br.Peek(5)
			if err != nil {
				if len(h) < 5 && errors.Is(err, io.EOF) {
					return Message{}, io.ErrUnexpectedEOF
				}
				return Message{}, err
			}
			n := int(binary.BigEndian.Uint16(h[2:4]))
			if n >= 4 && h[4]>>6 == 2 && (r.Channel == nil || r.Channel(h[1])) {
				f := &Frame{Channel: h[1], Payload: make([]byte, n)}
				_, _ = r.br.Discard(4)
				if _, err := io.ReadFull(r.br, f.Payload); err != nil {
					return Message{}, fmt.Errorf("rtsp: reading a %d-byte frame: %w", n, err)
				}
				return Message{Frame: f}, nil
			}
		case 'R':
			h, _ := r.br.Peek(7)
			if bytes.Equal(h, []byte("RTSP/1.")) {
				first, hd, body, err := readMessage(r.br)
				if err != nil {
					return Message{}, err
				}
				resp, err := parseStatusLine(first, hd, body)
				return Message{Response: resp}, err
			}
			fallthrough
		default:
			if head[0] >= 'A' && head[0] <= 'Z' {
				h, _ := r.br.Peek(14)
				for _, m := range methods {
					if bytes.HasPrefix(h, m) {
						first, hd, body, err := readMessage(r.br)
						if err != nil {
							return Message{}, err
						}
						req, err := parseRequestLine(first, hd, body)
						return Message{Request: req}, err
					}
				}
			}
		}
		// Garbage: skip a byte and look again.
		_, _ = r.br.Discard(1)
		r.Skipped++
		if run++; run > MaxGarbage {
			return Message{}, fmt.Errorf("%w: no frame or message in %d bytes", ErrMalformed, MaxGarbage)
		}
	}
}
