package frame

import "errors"

// Errors of a frame that is dropped. Decode and Unmarshal wrap them with detail; Reader counts
// each under its own counter in Stats.
var (
	// ErrGarbled: the bytes between two delimiters are not valid COBS.
	ErrGarbled = errors.New("frame: garbled (bad COBS)")
	// ErrShort: the frame is shorter than a type byte and a CRC.
	ErrShort = errors.New("frame: too short")
	// ErrOversized: the frame is longer than MaxFrame (decoded) or MaxEncoded (on the wire).
	ErrOversized = errors.New("frame: oversized")
	// ErrCRC: the CRC does not match.
	ErrCRC = errors.New("frame: CRC mismatch")
	// ErrTruncated: the stream ended in the middle of a frame.
	ErrTruncated = errors.New("frame: truncated by end of stream")
	// ErrUnknownType: a valid frame of a message type this version does not know.
	ErrUnknownType = errors.New("frame: unknown message type")
	// ErrPayload: a valid frame whose payload does not match its type's layout.
	ErrPayload = errors.New("frame: malformed payload")
	// ErrVersion: a hello of a protocol version other than ProtoVersion.
	ErrVersion = errors.New("frame: unsupported protocol version")
	// ErrInvalid: Marshal was given a message that cannot be sent (a field out of range).
	ErrInvalid = errors.New("frame: invalid message")
)
