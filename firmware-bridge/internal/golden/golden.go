// Package golden holds the one table of firmware-bridge frames that the Go codec tests, the
// fuzz seed corpora, the C codec's cross-check and the device simulator's tests all use:
// wire bytes ⇄ message ⇄ expected error.
//
// It is internal to firmware-bridge and imported only by tests.
package golden

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"strings"

	"github.com/bailiff/bailiff/firmware-bridge/frame"
)

// Frame is one frame on the wire.
type Frame struct {
	Name string
	// Wire is the frame as it travels between two 0x00 delimiters (COBS bytes, no 0x00).
	Wire []byte
	// Msg is what Wire decodes to, and what encodes to Wire followed by 0x00; nil when Wire
	// must be dropped.
	Msg frame.Message
	// Err is the error Wire is dropped with (errors.Is), nil for a frame that decodes.
	Err error
}

// h reads hex with spaces.
func h(s string) []byte {
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		panic(err)
	}
	return b
}

// framed wraps a frame body (type and payload, in hex) in its CRC and COBS: for payloads
// that are well framed but must not decode.
func framed(body string) []byte {
	b := h(body)
	b = binary.LittleEndian.AppendUint16(b, frame.CRC16(b))
	return frame.AppendCOBS(nil, b)
}

func seq(n int, first byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte((int(first)+i-1)%255 + 1) // 1…255, never 0
	}
	return b
}

func sha() (s [32]byte) {
	for i := range s {
		s[i] = byte(i)
	}
	return s
}

func sig() (s [64]byte) {
	for i := range s {
		s[i] = byte(0xA0 + i)
	}
	return s
}

// Frames is the table. Names are unique and usable as file names.
var Frames = []Frame{
	{Name: "hello", Wire: h("030101020301028003020102020203170b74616c6c792d6c6967687407544c2d30303031b88c"), Msg: &frame.Hello{Proto: 1, Caps: frame.CapTally | frame.CapButton | frame.CapUpdate, MaxFrame: 512,
		Version: frame.Version{Major: 1, Minor: 2, Patch: 3}, DeviceType: "tally-light", Serial: "TL-0001"}},
	{Name: "hello-pending", Wire: h("0501010104010280030102010101010e0c73657373696f6e2d7369676e03c0c5"), Msg: &frame.Hello{Proto: 1, Flags: frame.HelloPending, Caps: frame.CapSign | frame.CapUpdate, MaxFrame: 256,
		Version: frame.Version{Major: 2, Minor: 0, Patch: 0}, DeviceType: "session-sign"}},
	{Name: "hello-request", Wire: h("0402b2c1"), Msg: &frame.HelloRequest{}},
	{Name: "ping", Wire: h("080378563412242f"), Msg: &frame.Ping{Nonce: 0x12345678}},
	{Name: "ping-zero", Wire: h("020301010103deff"), Msg: &frame.Ping{Nonce: 0}},
	{Name: "pong", Wire: h("080478563412f048"), Msg: &frame.Pong{Nonce: 0x12345678}},
	{Name: "state", Wire: h("05100201010101020301010103ae79"), Msg: &frame.State{Fields: []frame.Field{{Key: frame.KeyTally, Value: 1}, {Key: frame.KeyButton, Value: 0}}}},
	{Name: "state-empty", Wire: h("0210037c1e"), Msg: &frame.State{}},
	{Name: "event-button-press", Wire: h("0511010106010101031d7b"), Msg: &frame.Event{Code: frame.EventButtonPress, Fields: []frame.Field{{Key: frame.KeyIndex, Value: 0}}}},
	{Name: "event-fault", Wire: h("0b11040107feffffff9047"), Msg: &frame.Event{Code: frame.EventFault, Fields: []frame.Field{{Key: frame.KeyCode, Value: -2}}}},
	{Name: "command-set-tally", Wire: h("082002010101010201010378e3"), Msg: &frame.Command{ID: 0x0102, Action: frame.ActionSet, Fields: []frame.Field{{Key: frame.KeyTally, Value: 2}}}},
	{Name: "command-pulse-relay", Wire: h("03200706020104f401010356a7"), Msg: &frame.Command{ID: 7, Action: frame.ActionPulse, Fields: []frame.Field{{Key: frame.KeyRelay, Value: 500}}}},
	{Name: "command-get", Wire: h("0520ffff03032bc8"), Msg: &frame.Command{ID: 0xFFFF, Action: frame.ActionGet}},
	{Name: "ack-ok", Wire: h("04210201040201020101020301010103c929"), Msg: &frame.Ack{ID: 0x0102, Status: frame.StatusOK, Fields: []frame.Field{{Key: frame.KeyTally, Value: 2}, {Key: frame.KeyButton, Value: 0}}}},
	{Name: "ack-unsupported", Wire: h("032107020103f5d1"), Msg: &frame.Ack{ID: 7, Status: frame.StatusUnsupported}},
	{Name: "update-begin", Wire: h("0230010201020102030101010201016e0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1fa0a1a2a3a4a5a6a7a8a9aaabacadaeafb0" +
		"b1b2b3b4b5b6b7b8b9babbbcbdbebfc0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedf0b74616c6c792d6c6967687447d8"), Msg: &frame.UpdateBegin{Size: 65536, Version: frame.Version{Major: 1, Minor: 3, Patch: 0}, ChunkSize: 256,
		SHA256: sha(), Signature: sig(), DeviceType: "tally-light"}},
	{Name: "update-chunk", Wire: h("023101010101120102030405060708090a0b0c0d0e0f6430"), Msg: &frame.UpdateChunk{Offset: 0, Data: h("00 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f")}},
	{Name: "update-chunk-long-run", Wire: h("ff31010101010102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f303132333435363738393a" +
		"3b3c3d3e3f404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f606162636465666768696a6b6c6d6e6f707172737475767778797a" +
		"7b7c7d7e7f808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9fa0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9ba" +
		"bbbcbdbebfc0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedfe0e1e2e3e4e5e6e7e8e9eaebecedeeeff0f1f2f3f4f5f6f7f8f936" +
		"fafbfcfdfeff0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d648a"), Msg: &frame.UpdateChunk{Offset: 0x01010101, Data: seq(300, 1)}},
	{Name: "update-chunk-max", Wire: h("0231020101ff0708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f40" +
		"4142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f80" +
		"8182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9fa0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebfc0" +
		"c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedfe0e1e2e3e4e5e6e7e8e9eaebecedeeeff0f1f2f3f4f5f6f7f8f9fafbfcfdfeff01" +
		"02030405fe060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f40" +
		"4142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f80" +
		"8182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9fa0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebfc0" +
		"c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedfe0e1e2e3e4e5e6e7e8e9eaebecedeeeff0f1f2f3f4f5f6f7f8f9fafbfcfdfeff01" +
		"ba04"), Msg: &frame.UpdateChunk{Offset: 256, Data: seq(frame.MaxChunk, 7)}},
	{Name: "update-chunk-ack", Wire: h("0232020101010368dc"), Msg: &frame.UpdateChunkAck{Next: 256, Status: frame.ChunkOK}},
	{Name: "update-chunk-ack-resend", Wire: h("033280010104012d98"), Msg: &frame.UpdateChunkAck{Next: 128, Status: frame.ChunkResend}},
	{Name: "update-verify", Wire: h("0433c0e7"), Msg: &frame.UpdateVerify{}},
	{Name: "update-reboot", Wire: h("04342797"), Msg: &frame.UpdateReboot{}},
	{Name: "update-confirm", Wire: h("04350687"), Msg: &frame.UpdateConfirm{}},
	{Name: "update-status-verified", Wire: h("03360301010201020102030101028b01"), Msg: &frame.UpdateStatus{Phase: frame.PhaseVerified, Offset: 65536, Version: frame.Version{Major: 1, Minor: 3}}},
	{Name: "update-status-bad-signature", Wire: h("043607010102010201020301010316d5"), Msg: &frame.UpdateStatus{Phase: frame.PhaseFailed, Reason: frame.ReasonBadSignature, Offset: 65536, Version: frame.Version{Major: 1, Minor: 3}}},
	{Name: "update-abort", Wire: h("053707eaf1"), Msg: &frame.UpdateAbort{Reason: frame.ReasonAborted}},

	// Frames that must be dropped.
	{Name: "garbled-block-past-end", Wire: h("05 01 02"), Err: frame.ErrGarbled},
	{Name: "garbled-zero-code", Wire: h("03 11 00 22"), Err: frame.ErrGarbled},
	{Name: "short-one-byte", Wire: h("02 03"), Err: frame.ErrShort},
	{Name: "short-empty-cobs", Wire: h("01"), Err: frame.ErrShort},
	{Name: "bad-crc", Wire: h("0803785634122430"), Err: frame.ErrCRC},
	{Name: "unknown-type", Wire: framed("7f 01 02"), Err: frame.ErrUnknownType},
	{Name: "ping-too-short", Wire: framed("03 78 56 34"), Err: frame.ErrPayload},
	{Name: "hello-request-trailing", Wire: framed("02 00"), Err: frame.ErrPayload},
	{Name: "hello-version-2", Wire: framed("01 02 00 03000080 0002 0100 0200 0300 0b 74616c6c792d6c69676874 00"), Err: frame.ErrVersion},
	{Name: "hello-bad-device-type", Wire: framed("01 01 00 03000080 0002 0100 0200 0300 0b 54616c6c792d6c69676874 00"), Err: frame.ErrPayload},
	{Name: "state-33-fields", Wire: framed("10 21" + strings.Repeat(" 01 01000000", 33)), Err: frame.ErrPayload},
	{Name: "state-fields-cut", Wire: framed("10 02 01 01000000 03 0000"), Err: frame.ErrPayload},
	{Name: "update-chunk-empty", Wire: framed("31 00000000"), Err: frame.ErrPayload},
	{Name: "update-begin-chunk-size-0", Wire: framed("30 00000100 0100 0300 0000 0000 00" + strings.Repeat(" 00", 96) + " 0b 74616c6c792d6c69676874"), Err: frame.ErrPayload},
	{Name: "oversized-decoded", Wire: bytes.Repeat([]byte{0x01}, frame.MaxFrame+2), Err: frame.ErrOversized},
	{Name: "oversized", Wire: seq(frame.MaxEncoded+1, 1), Err: frame.ErrOversized},
}
