// Package frame is the serial frame codec between the agent and Bailiff's microcontroller
// devices (call buttons, tally lights, signs, keypads): COBS framing with 0x00 delimiters, a
// CRC-16/CCITT-FALSE on every frame, and the messages of protocol version 1.
//
// The protocol document is docs/FIRMWARE-PROTOCOL.md; the sections used here are §2 Framing
// (COBS, CRC, MaxFrame), §3 Messages (one Go type per message type, byte layouts) and §4
// Streams (delimiters, resynchronisation, what is dropped and counted).
//
// Marshal, Unmarshal, AppendFrame and Decode work on one frame; Reader splits a byte stream
// on 0x00, drops every frame that is garbled, truncated, oversized, fails its CRC or does not
// decode — counting it in Stats and never returning it — and resynchronises on the next
// delimiter. Writer sends frames, the first one preceded by a delimiter so the peer drops any
// partial frame it holds.
//
// The C implementation of the device side is in firmware-bridge/device-c; both are checked
// against the golden table in firmware-bridge/internal/golden.
//
// Every error starts with "frame: ".
package frame
