// Package golden holds the one table of Samsung MDC frames that the driver's codec test, its
// transcript test, the simulator's test and the fuzz seed corpora all use: request bytes ⇄
// reply bytes ⇄ decoded value ⇄ expected error.
//
// It is internal to drivers/samsungmdc and imported only by tests.
package golden

import (
	"encoding/hex"
	"strings"
)

// Frame is one exchange with a display.
type Frame struct {
	Name string
	Cmd  byte
	ID   byte
	// Data is the data of a set command; nil for a get (and the status inquiry).
	Data    []byte
	Request []byte // bytes the controller sends
	Reply   []byte // bytes the display answers; nil for none (the broadcast ID)
	// Want is the decoded answer of a get, as the state fields Poll publishes; nil for a set
	// and for an answer that does not decode at all.
	Want map[string]any
	// Code is the contract error code the driver must return ("" for none). A frame can have
	// both Want and Code (a status with one bad value: the rest is kept, the fault reported).
	Code string
	// Sim, when not nil, is a simulator setup in which mdcsim answers Request with exactly
	// Reply. Nil for answers no well-behaved display sends.
	Sim *Setup
}

// Setup is the state a simulator is put in before a frame is sent to it.
type Setup struct {
	ID       byte
	On       bool
	Volume   int
	Mute     bool
	Input    byte   // 0: the simulator's default (0x21, HDMI1)
	Aspect   byte   // 0: the simulator's default (0x10)
	Inputs   []byte // nil: the simulator's default
	NoStatus bool   // refuse the status inquiry, as some models in standby
}

// H decodes hex with spaces: "AA 11 01 00 12".
func H(s string) []byte {
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		panic(err)
	}
	return b
}

// Status builds the state Poll publishes for a status answer.
func Status(power string, volume int, mute bool, input, aspect string) map[string]any {
	return map[string]any{"power": power, "volume": volume, "gain_db": float64(volume) - 100,
		"mute": mute, "input": input, "aspect": aspect}
}

// without returns m less keys.
func without(m map[string]any, keys ...string) map[string]any {
	for _, k := range keys {
		delete(m, k)
	}
	return m
}

// Frames is the golden table. Checksums are written out, not computed: the codec test checks
// each against the rule, and the rows named "bad checksum" break it on purpose.
var Frames = []Frame{
	// Status inquiry 0x00 (layout unconfirmed, see the package documentation).
	{Name: "status on", Cmd: 0x00, ID: 1, Request: H("AA 00 01 00 01"),
		Reply: H("AA FF 01 09 41 00 01 32 00 21 10 00 00 AE"),
		Want:  Status("on", 50, false, "hdmi1", "0x10"), Sim: &Setup{ID: 1, On: true, Volume: 50}},
	{Name: "status off", Cmd: 0x00, ID: 1, Request: H("AA 00 01 00 01"),
		Reply: H("AA FF 01 09 41 00 00 0A 00 21 10 00 00 85"),
		Want:  Status("off", 10, false, "hdmi1", "0x10"), Sim: &Setup{ID: 1, Volume: 10}},
	{Name: "status muted on displayport", Cmd: 0x00, ID: 1, Request: H("AA 00 01 00 01"),
		Reply: H("AA FF 01 09 41 00 01 14 01 25 10 00 00 95"),
		Want:  Status("on", 20, true, "dp1", "0x10"), Sim: &Setup{ID: 1, On: true, Volume: 20, Mute: true, Input: 0x25}},
	{Name: "status unknown input", Cmd: 0x00, ID: 1, Request: H("AA 00 01 00 01"),
		Reply: H("AA FF 01 09 41 00 01 32 00 7F 10 00 00 0C"),
		Want:  Status("on", 50, false, "0x7f", "0x10"), Sim: &Setup{ID: 1, On: true, Volume: 50, Input: 0x7F}},
	{Name: "status of display 0", Cmd: 0x00, ID: 0, Request: H("AA 00 00 00 00"),
		Reply: H("AA FF 00 09 41 00 01 32 00 21 10 00 00 AD"),
		Want:  Status("on", 50, false, "hdmi1", "0x10"), Sim: &Setup{ID: 0, On: true, Volume: 50}},
	{Name: "status with five values", Cmd: 0x00, ID: 1, Request: H("AA 00 01 00 01"),
		Reply: H("AA FF 01 07 41 00 01 32 00 21 10 AC"),
		Want:  Status("on", 50, false, "hdmi1", "0x10")},
	{Name: "status too short", Cmd: 0x00, ID: 1, Request: H("AA 00 01 00 01"),
		Reply: H("AA FF 01 05 41 00 01 32 00 79"), Code: "device_error"},
	{Name: "status power out of range", Cmd: 0x00, ID: 1, Request: H("AA 00 01 00 01"),
		Reply: H("AA FF 01 09 41 00 07 32 00 21 10 00 00 B4"),
		Want:  without(Status("on", 50, false, "hdmi1", "0x10"), "power"), Code: "device_error"},
	{Name: "status volume out of range", Cmd: 0x00, ID: 1, Request: H("AA 00 01 00 01"),
		Reply: H("AA FF 01 09 41 00 01 65 00 21 10 00 00 E1"),
		Want:  without(Status("on", 50, false, "hdmi1", "0x10"), "volume", "gain_db"), Code: "device_error"},
	{Name: "status mute out of range", Cmd: 0x00, ID: 1, Request: H("AA 00 01 00 01"),
		Reply: H("AA FF 01 09 41 00 01 32 02 21 10 00 00 B0"),
		Want:  without(Status("on", 50, false, "hdmi1", "0x10"), "mute"), Code: "device_error"},
	{Name: "status refused", Cmd: 0x00, ID: 1, Request: H("AA 00 01 00 01"),
		Reply: H("AA FF 01 03 4E 00 01 52"), Code: "device_error", Sim: &Setup{ID: 1, NoStatus: true}},

	// Power 0x11.
	{Name: "power query", Cmd: 0x11, ID: 1, Request: H("AA 11 01 00 12"), Reply: H("AA FF 01 03 41 11 01 56"),
		Want: map[string]any{"power": "on"}, Sim: &Setup{ID: 1, On: true}},
	{Name: "power on", Cmd: 0x11, ID: 1, Data: []byte{1}, Request: H("AA 11 01 01 01 14"),
		Reply: H("AA FF 01 03 41 11 01 56"), Sim: &Setup{ID: 1}},
	{Name: "power off", Cmd: 0x11, ID: 1, Data: []byte{0}, Request: H("AA 11 01 01 00 13"),
		Reply: H("AA FF 01 03 41 11 00 55"), Sim: &Setup{ID: 1, On: true}},
	{Name: "power on broadcast", Cmd: 0x11, ID: 0xFE, Data: []byte{1}, Request: H("AA 11 FE 01 01 11"),
		Sim: &Setup{ID: 1}},

	// Volume 0x12.
	{Name: "volume query", Cmd: 0x12, ID: 1, Request: H("AA 12 01 00 13"), Reply: H("AA FF 01 03 41 12 1E 74"),
		Want: map[string]any{"volume": 30, "gain_db": -70.0}, Sim: &Setup{ID: 1, On: true, Volume: 30}},
	{Name: "volume set", Cmd: 0x12, ID: 1, Data: []byte{30}, Request: H("AA 12 01 01 1E 32"),
		Reply: H("AA FF 01 03 41 12 1E 74"), Sim: &Setup{ID: 1, On: true}},
	{Name: "volume out of range", Cmd: 0x12, ID: 1, Data: []byte{101}, Request: H("AA 12 01 01 65 79"),
		Reply: H("AA FF 01 03 4E 12 02 65"), Code: "device_error", Sim: &Setup{ID: 1, On: true}},

	// Mute 0x13 (unconfirmed).
	{Name: "mute query", Cmd: 0x13, ID: 1, Request: H("AA 13 01 00 14"), Reply: H("AA FF 01 03 41 13 01 58"),
		Want: map[string]any{"mute": true}, Sim: &Setup{ID: 1, On: true, Mute: true}},
	{Name: "mute on", Cmd: 0x13, ID: 1, Data: []byte{1}, Request: H("AA 13 01 01 01 16"),
		Reply: H("AA FF 01 03 41 13 01 58"), Sim: &Setup{ID: 1, On: true}},
	{Name: "mute off", Cmd: 0x13, ID: 1, Data: []byte{0}, Request: H("AA 13 01 01 00 15"),
		Reply: H("AA FF 01 03 41 13 00 57"), Sim: &Setup{ID: 1, On: true, Mute: true}},

	// Input source 0x14.
	{Name: "input query", Cmd: 0x14, ID: 1, Request: H("AA 14 01 00 15"), Reply: H("AA FF 01 03 41 14 23 7B"),
		Want: map[string]any{"input": "hdmi2"}, Sim: &Setup{ID: 1, On: true, Input: 0x23}},
	{Name: "input select", Cmd: 0x14, ID: 1, Data: []byte{0x23}, Request: H("AA 14 01 01 23 39"),
		Reply: H("AA FF 01 03 41 14 23 7B"), Sim: &Setup{ID: 1, On: true}},
	{Name: "input not fitted", Cmd: 0x14, ID: 1, Data: []byte{0x25}, Request: H("AA 14 01 01 25 3B"),
		Reply: H("AA FF 01 03 4E 14 02 67"), Code: "device_error", Sim: &Setup{ID: 1, On: true, Inputs: []byte{0x21, 0x23}}},
	{Name: "input while off", Cmd: 0x14, ID: 1, Data: []byte{0x23}, Request: H("AA 14 01 01 23 39"),
		Reply: H("AA FF 01 03 4E 14 03 68"), Code: "device_error", Sim: &Setup{ID: 1}},
	{Name: "unknown command", Cmd: 0x99, ID: 1, Request: H("AA 99 01 00 9A"), Reply: H("AA FF 01 03 4E 99 01 EB"),
		Code: "device_error", Sim: &Setup{ID: 1}},

	// Answers no display should send; the driver must reject them.
	{Name: "answer from another display", Cmd: 0x11, ID: 1, Request: H("AA 11 01 00 12"),
		Reply: H("AA FF 02 03 41 11 01 57"), Code: "device_error"},
	{Name: "answer for another command", Cmd: 0x11, ID: 1, Request: H("AA 11 01 00 12"),
		Reply: H("AA FF 01 03 41 12 01 57"), Code: "device_error"},
	{Name: "neither ack nor nak", Cmd: 0x11, ID: 1, Request: H("AA 11 01 00 12"),
		Reply: H("AA FF 01 03 58 11 01 6D"), Code: "device_error"},
	{Name: "answer too short", Cmd: 0x11, ID: 1, Request: H("AA 11 01 00 12"),
		Reply: H("AA FF 01 01 41 42"), Code: "device_error"},
	{Name: "nak with extra bytes", Cmd: 0x11, ID: 1, Request: H("AA 11 01 00 12"),
		Reply: H("AA FF 01 04 4E 11 01 02 66"), Code: "device_error"},
	{Name: "request echoed", Cmd: 0x11, ID: 1, Data: []byte{1}, Request: H("AA 11 01 01 01 14"),
		Reply: H("AA 11 01 01 01 14"), Code: "device_error"},
	{Name: "set acknowledged with another value", Cmd: 0x11, ID: 1, Data: []byte{1}, Request: H("AA 11 01 01 01 14"),
		Reply: H("AA FF 01 03 41 11 00 55"), Code: "device_error"},
	{Name: "set acknowledged without value", Cmd: 0x11, ID: 1, Data: []byte{1}, Request: H("AA 11 01 01 01 14"),
		Reply: H("AA FF 01 02 41 11 54"), Code: "device_error"},
	{Name: "power value out of range", Cmd: 0x11, ID: 1, Request: H("AA 11 01 00 12"),
		Reply: H("AA FF 01 03 41 11 07 5C"), Code: "device_error"},
	{Name: "bad checksum", Cmd: 0x11, ID: 1, Request: H("AA 11 01 00 12"),
		Reply: H("AA FF 01 03 41 11 01 57"), Code: "device_error"},
	{Name: "no header", Cmd: 0x11, ID: 1, Request: H("AA 11 01 00 12"),
		Reply: H("55 FF 01 03 41 11 01 56"), Code: "device_error"},
	{Name: "garbage", Cmd: 0x11, ID: 1, Request: H("AA 11 01 00 12"),
		Reply: H("00 9B 13 7A 7A 25 31 0D"), Code: "device_error"},
	{Name: "cut short", Cmd: 0x11, ID: 1, Request: H("AA 11 01 00 12"),
		Reply: H("AA FF 01 03 41"), Code: "unreachable"},
}
