// Package golden holds the one table of VISCA frames that the driver's codec test, its
// transcript tests, the simulator's tests and the fuzz seed corpora all use: request bytes ⇄
// the camera's replies ⇄ decoded value ⇄ expected error.
//
// Frames carries bare VISCA packets (RS-232 and TCP 1259); Datagrams carries VISCA over IP
// (UDP 52381) messages with their 8-byte header. Byte values follow the Sony manuals cited
// in drivers/visca's doc.go.
//
// It is internal to drivers/visca and imported only by tests.
package golden

import "bytes"

// Frame is one exchange on a bare VISCA link.
type Frame struct {
	Name string
	// Cmd names the driver encoder that builds Request from Camera and Args ("" when the
	// driver never sends this request: it is there for the simulator and the parsers).
	// Encoders: power [on], zoom [dir, speed], zoomto [pos], pantilt [vv, ww, pan dir,
	// tilt dir], home, absolute [vv, ww, pan, tilt], preset [op, n], ifclear, cancel
	// [socket], addressset, ifclearall, and the inquiries inq-power, inq-zoom,
	// inq-pantilt, inq-version.
	Cmd    string
	Args   []int
	Camera int // the address the request goes to; 0 means 1
	// Request is what the controller sends, Replies what the camera answers, in order.
	Request []byte
	Replies [][]byte
	// Want is the decoded answer of an inquiry, as the state fields Poll publishes, or
	// {"cameras": n} for an AddressSet; nil otherwise.
	Want map[string]any
	// Code is the contract error code the driver must return ("" for none).
	Code string
	// Serial marks a frame that only a serial line (a daisy chain) gives.
	Serial bool
	// Sim, when not nil, is a simulator setup in which viscasim answers Request with exactly
	// Replies. Nil for replies no well-behaved camera sends.
	Sim *Setup
}

// Step is one exchange sent to the simulator to set it up, with the replies it must give.
type Step struct {
	Request []byte
	Replies [][]byte
}

// Setup is the state a simulator is put in before a frame is sent to it.
type Setup struct {
	On      bool // cameras start powered on
	Booting bool // a power-on is under way and takes an hour
	// SlowMotion makes moves take minutes, so commands hold their sockets for the test.
	SlowMotion bool
	Pan, Tilt  int // start position of camera 1
	Zoom       int
	Cameras    int // cameras on the serial line; 0 means 1
	// Unaddressed leaves the cameras of a serial line without addresses (no AddressSet yet).
	Unaddressed bool
	// Fail is the fault camera 1 answers its next message with: "length", "syntax",
	// "buffer-full", "cancelled", "no-socket", "not-executable", and over IP "sequence",
	// "message-type".
	Fail   string
	Before []Step
}

// P builds a packet from bytes; it reads better than []byte{…} in the table.
func P(b ...byte) []byte { return b }

// R builds a list of replies.
func R(p ...[]byte) [][]byte { return p }

var (
	ack1   = P(0x90, 0x41, 0xFF)
	done1  = P(0x90, 0x51, 0xFF)
	ackOK  = R(ack1, done1)
	on     = &Setup{On: true}
	off    = &Setup{}
	booted = &Setup{Booting: true, Before: []Step{{P(0x81, 0x01, 0x04, 0x00, 0x02, 0xFF), R(ack1)}}}
	// slow holds both sockets of camera 1: a long absolute move and a long direct zoom.
	slow = &Setup{On: true, SlowMotion: true, Before: []Step{
		{P(0x81, 0x01, 0x06, 0x02, 0x01, 0x01, 0x00, 0x08, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0xFF), R(ack1)},
		{P(0x81, 0x01, 0x04, 0x47, 0x04, 0x00, 0x00, 0x00, 0xFF), R(P(0x90, 0x42, 0xFF))},
	}}
)

func fail(f string) *Setup { return &Setup{On: true, Fail: f} }

// Frames is the golden table of bare VISCA exchanges.
var Frames = []Frame{
	// CAM_Power and CAM_PowerInq.
	{Name: "power on", Cmd: "power", Args: []int{1}, Request: P(0x81, 0x01, 0x04, 0x00, 0x02, 0xFF), Replies: ackOK, Sim: off},
	{Name: "power on when on", Cmd: "power", Args: []int{1}, Request: P(0x81, 0x01, 0x04, 0x00, 0x02, 0xFF), Replies: ackOK, Sim: on},
	{Name: "power off", Cmd: "power", Args: []int{0}, Request: P(0x81, 0x01, 0x04, 0x00, 0x03, 0xFF), Replies: ackOK, Sim: on},
	{Name: "power on while booting", Cmd: "power", Args: []int{1}, Request: P(0x81, 0x01, 0x04, 0x00, 0x02, 0xFF),
		Replies: R(P(0x90, 0x62, 0x41, 0xFF)), Code: "busy", Sim: booted},
	{Name: "power query on", Cmd: "inq-power", Request: P(0x81, 0x09, 0x04, 0x00, 0xFF), Replies: R(P(0x90, 0x50, 0x02, 0xFF)),
		Want: map[string]any{"power": "on"}, Sim: on},
	{Name: "power query off", Cmd: "inq-power", Request: P(0x81, 0x09, 0x04, 0x00, 0xFF), Replies: R(P(0x90, 0x50, 0x03, 0xFF)),
		Want: map[string]any{"power": "off"}, Sim: off},
	{Name: "power query bad value", Cmd: "inq-power", Request: P(0x81, 0x09, 0x04, 0x00, 0xFF), Replies: R(P(0x90, 0x50, 0x07, 0xFF)),
		Code: "device_error"},
	{Name: "power query two bytes", Cmd: "inq-power", Request: P(0x81, 0x09, 0x04, 0x00, 0xFF), Replies: R(P(0x90, 0x50, 0x02, 0x02, 0xFF)),
		Code: "device_error"},

	// CAM_Zoom and CAM_ZoomPosInq.
	{Name: "zoom stop", Cmd: "zoom", Args: []int{0, 0}, Request: P(0x81, 0x01, 0x04, 0x07, 0x00, 0xFF), Replies: ackOK, Sim: on},
	{Name: "zoom tele fast", Cmd: "zoom", Args: []int{1, 7}, Request: P(0x81, 0x01, 0x04, 0x07, 0x27, 0xFF), Replies: ackOK, Sim: on},
	{Name: "zoom wide slow", Cmd: "zoom", Args: []int{-1, 0}, Request: P(0x81, 0x01, 0x04, 0x07, 0x30, 0xFF), Replies: ackOK, Sim: on},
	{Name: "zoom tele standard", Request: P(0x81, 0x01, 0x04, 0x07, 0x02, 0xFF), Replies: ackOK, Sim: on},
	{Name: "zoom wide standard", Request: P(0x81, 0x01, 0x04, 0x07, 0x03, 0xFF), Replies: ackOK, Sim: on},
	{Name: "zoom bad speed", Request: P(0x81, 0x01, 0x04, 0x07, 0x28, 0xFF), Replies: R(P(0x90, 0x60, 0x02, 0xFF)), Code: "bad_args", Sim: on},
	{Name: "zoom while off", Cmd: "zoom", Args: []int{1, 3}, Request: P(0x81, 0x01, 0x04, 0x07, 0x23, 0xFF),
		Replies: R(P(0x90, 0x61, 0x41, 0xFF)), Code: "busy", Sim: off},
	{Name: "direct zoom", Cmd: "zoomto", Args: []int{0x2000}, Request: P(0x81, 0x01, 0x04, 0x47, 0x02, 0x00, 0x00, 0x00, 0xFF),
		Replies: ackOK, Sim: on},
	{Name: "direct zoom beyond tele", Cmd: "zoomto", Args: []int{0x4001}, Request: P(0x81, 0x01, 0x04, 0x47, 0x04, 0x00, 0x00, 0x01, 0xFF),
		Replies: R(P(0x90, 0x60, 0x02, 0xFF)), Code: "bad_args", Sim: on},
	{Name: "zoom position", Cmd: "inq-zoom", Request: P(0x81, 0x09, 0x04, 0x47, 0xFF), Replies: R(P(0x90, 0x50, 0x01, 0x02, 0x03, 0x04, 0xFF)),
		Want: map[string]any{"zoom": 0x1234}, Sim: &Setup{On: true, Zoom: 0x1234}},
	{Name: "zoom position tele end", Cmd: "inq-zoom", Request: P(0x81, 0x09, 0x04, 0x47, 0xFF), Replies: R(P(0x90, 0x50, 0x04, 0x00, 0x00, 0x00, 0xFF)),
		Want: map[string]any{"zoom": 0x4000}, Sim: &Setup{On: true, Zoom: 0x4000}},
	{Name: "zoom position not nibbles", Cmd: "inq-zoom", Request: P(0x81, 0x09, 0x04, 0x47, 0xFF), Replies: R(P(0x90, 0x50, 0x01, 0x12, 0x03, 0x04, 0xFF)),
		Code: "device_error"},
	{Name: "zoom position short", Cmd: "inq-zoom", Request: P(0x81, 0x09, 0x04, 0x47, 0xFF), Replies: R(P(0x90, 0x50, 0x01, 0x02, 0xFF)),
		Code: "device_error"},

	// Pan-tiltDrive, Home, AbsolutePosition and Pan-tiltPosInq.
	{Name: "pan right fast", Cmd: "pantilt", Args: []int{0x18, 0x14, 1, 0}, Request: P(0x81, 0x01, 0x06, 0x01, 0x18, 0x14, 0x02, 0x03, 0xFF),
		Replies: ackOK, Sim: on},
	{Name: "tilt down slow", Cmd: "pantilt", Args: []int{0x01, 0x01, 0, -1}, Request: P(0x81, 0x01, 0x06, 0x01, 0x01, 0x01, 0x03, 0x02, 0xFF),
		Replies: ackOK, Sim: on},
	{Name: "up left", Cmd: "pantilt", Args: []int{0x0C, 0x0A, -1, 1}, Request: P(0x81, 0x01, 0x06, 0x01, 0x0C, 0x0A, 0x01, 0x01, 0xFF),
		Replies: ackOK, Sim: on},
	{Name: "down right", Cmd: "pantilt", Args: []int{0x02, 0x03, 1, -1}, Request: P(0x81, 0x01, 0x06, 0x01, 0x02, 0x03, 0x02, 0x02, 0xFF),
		Replies: ackOK, Sim: on},
	{Name: "pan tilt stop", Cmd: "pantilt", Args: []int{0x01, 0x01, 0, 0}, Request: P(0x81, 0x01, 0x06, 0x01, 0x01, 0x01, 0x03, 0x03, 0xFF),
		Replies: ackOK, Sim: on},
	{Name: "pan tilt bad direction", Request: P(0x81, 0x01, 0x06, 0x01, 0x05, 0x05, 0x04, 0x03, 0xFF),
		Replies: R(P(0x90, 0x60, 0x02, 0xFF)), Code: "bad_args", Sim: on},
	{Name: "pan speed zero", Request: P(0x81, 0x01, 0x06, 0x01, 0x00, 0x05, 0x02, 0x03, 0xFF),
		Replies: R(P(0x90, 0x60, 0x02, 0xFF)), Code: "bad_args", Sim: on},
	{Name: "pan tilt while off", Cmd: "pantilt", Args: []int{0x18, 0x14, 1, 0}, Request: P(0x81, 0x01, 0x06, 0x01, 0x18, 0x14, 0x02, 0x03, 0xFF),
		Replies: R(P(0x90, 0x61, 0x41, 0xFF)), Code: "busy", Sim: off},
	{Name: "home", Cmd: "home", Request: P(0x81, 0x01, 0x06, 0x04, 0xFF), Replies: ackOK, Sim: on},
	{Name: "absolute position", Cmd: "absolute", Args: []int{0x18, 0x14, 1296, -16},
		Request: P(0x81, 0x01, 0x06, 0x02, 0x18, 0x14, 0x00, 0x05, 0x01, 0x00, 0x0F, 0x0F, 0x0F, 0x00, 0xFF), Replies: ackOK, Sim: on},
	{Name: "absolute position out of range", Cmd: "absolute", Args: []int{0x10, 0x10, 0x7000, 0},
		Request: P(0x81, 0x01, 0x06, 0x02, 0x10, 0x10, 0x07, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xFF),
		Replies: R(P(0x90, 0x60, 0x02, 0xFF)), Code: "bad_args", Sim: on},
	{Name: "pan tilt position", Cmd: "inq-pantilt", Request: P(0x81, 0x09, 0x06, 0x12, 0xFF),
		Replies: R(P(0x90, 0x50, 0x0F, 0x08, 0x06, 0x08, 0x00, 0x03, 0x06, 0x00, 0xFF)),
		Want:    map[string]any{"pan": -1944, "tilt": 864}, Sim: &Setup{On: true, Pan: -1944, Tilt: 864}},
	{Name: "pan tilt position centre", Cmd: "inq-pantilt", Request: P(0x81, 0x09, 0x06, 0x12, 0xFF),
		Replies: R(P(0x90, 0x50, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xFF)),
		Want:    map[string]any{"pan": 0, "tilt": 0}, Sim: on},
	{Name: "pan tilt position short", Cmd: "inq-pantilt", Request: P(0x81, 0x09, 0x06, 0x12, 0xFF),
		Replies: R(P(0x90, 0x50, 0x00, 0x00, 0x00, 0x00, 0xFF)), Code: "device_error"},
	{Name: "pan tilt position not nibbles", Cmd: "inq-pantilt", Request: P(0x81, 0x09, 0x06, 0x12, 0xFF),
		Replies: R(P(0x90, 0x50, 0xF0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xFF)), Code: "device_error"},

	// CAM_Memory (presets).
	{Name: "preset store", Cmd: "preset", Args: []int{1, 3}, Request: P(0x81, 0x01, 0x04, 0x3F, 0x01, 0x03, 0xFF), Replies: ackOK, Sim: on},
	{Name: "preset recall", Cmd: "preset", Args: []int{2, 3}, Request: P(0x81, 0x01, 0x04, 0x3F, 0x02, 0x03, 0xFF), Replies: ackOK,
		Sim: &Setup{On: true, Before: []Step{{P(0x81, 0x01, 0x04, 0x3F, 0x01, 0x03, 0xFF), ackOK}}}},
	{Name: "preset reset", Cmd: "preset", Args: []int{0, 3}, Request: P(0x81, 0x01, 0x04, 0x3F, 0x00, 0x03, 0xFF), Replies: ackOK, Sim: on},
	{Name: "preset out of range", Cmd: "preset", Args: []int{2, 64}, Request: P(0x81, 0x01, 0x04, 0x3F, 0x02, 0x40, 0xFF),
		Replies: R(P(0x90, 0x60, 0x02, 0xFF)), Code: "bad_args", Sim: on},
	{Name: "preset recall while off", Cmd: "preset", Args: []int{2, 0}, Request: P(0x81, 0x01, 0x04, 0x3F, 0x02, 0x00, 0xFF),
		Replies: R(P(0x90, 0x61, 0x41, 0xFF)), Code: "busy", Sim: off},

	// CAM_VersionInq.
	{Name: "version", Cmd: "inq-version", Request: P(0x81, 0x09, 0x00, 0x02, 0xFF),
		Replies: R(P(0x90, 0x50, 0x00, 0x01, 0x05, 0x05, 0x01, 0x00, 0x02, 0xFF)),
		Want:    map[string]any{"vendor": "Sony", "model": "BRC-Z700"}, Sim: on},
	{Name: "version unknown model", Cmd: "inq-version", Request: P(0x81, 0x09, 0x00, 0x02, 0xFF),
		Replies: R(P(0x90, 0x50, 0x00, 0x20, 0x12, 0x34, 0x00, 0x01, 0x02, 0xFF)),
		Want:    map[string]any{"vendor": "Sony", "model": "0x1234"}},
	{Name: "version other vendor", Cmd: "inq-version", Request: P(0x81, 0x09, 0x00, 0x02, 0xFF),
		Replies: R(P(0x90, 0x50, 0x12, 0x34, 0x05, 0x05, 0x00, 0x01, 0x02, 0xFF)),
		Want:    map[string]any{"vendor": "0x1234", "model": "0x0505"}},
	{Name: "version short", Cmd: "inq-version", Request: P(0x81, 0x09, 0x00, 0x02, 0xFF),
		Replies: R(P(0x90, 0x50, 0x00, 0x01, 0xFF)), Code: "device_error"},

	// Interface commands: IF_Clear, Cancel.
	{Name: "if clear", Cmd: "ifclear", Request: P(0x81, 0x01, 0x00, 0x01, 0xFF), Replies: R(P(0x90, 0x50, 0xFF)), Sim: on},
	{Name: "cancel idle socket", Cmd: "cancel", Args: []int{1}, Request: P(0x81, 0x21, 0xFF), Replies: R(P(0x90, 0x61, 0x05, 0xFF)),
		Code: "device_error", Sim: on},
	{Name: "cancel running command", Cmd: "cancel", Args: []int{1}, Request: P(0x81, 0x21, 0xFF), Replies: R(P(0x90, 0x61, 0x04, 0xFF)),
		Code: "device_error", Sim: booted},

	// Error replies the camera gives by itself.
	{Name: "buffer full", Cmd: "zoom", Args: []int{0, 0}, Request: P(0x81, 0x01, 0x04, 0x07, 0x00, 0xFF),
		Replies: R(P(0x90, 0x60, 0x03, 0xFF)), Code: "busy", Sim: slow},
	{Name: "unknown command", Request: P(0x81, 0x01, 0x7E, 0x7E, 0xFF), Replies: R(P(0x90, 0x60, 0x02, 0xFF)), Code: "bad_args", Sim: on},
	{Name: "unknown inquiry", Request: P(0x81, 0x09, 0x7E, 0x7E, 0xFF), Replies: R(P(0x90, 0x60, 0x02, 0xFF)), Code: "bad_args", Sim: on},
	{Name: "message too long", Request: append(append(P(0x81, 0x01), bytes.Repeat(P(0x00), 15)...), 0xFF),
		Replies: R(P(0x90, 0x60, 0x01, 0xFF)), Code: "device_error", Sim: on},

	// Error replies on demand (viscasim's Fail).
	{Name: "fault length", Cmd: "zoom", Args: []int{0, 0}, Request: P(0x81, 0x01, 0x04, 0x07, 0x00, 0xFF),
		Replies: R(P(0x90, 0x60, 0x01, 0xFF)), Code: "device_error", Sim: fail("length")},
	{Name: "fault syntax", Cmd: "zoom", Args: []int{0, 0}, Request: P(0x81, 0x01, 0x04, 0x07, 0x00, 0xFF),
		Replies: R(P(0x90, 0x60, 0x02, 0xFF)), Code: "bad_args", Sim: fail("syntax")},
	{Name: "fault buffer full", Cmd: "zoom", Args: []int{0, 0}, Request: P(0x81, 0x01, 0x04, 0x07, 0x00, 0xFF),
		Replies: R(P(0x90, 0x60, 0x03, 0xFF)), Code: "busy", Sim: fail("buffer-full")},
	{Name: "fault cancelled", Cmd: "zoom", Args: []int{0, 0}, Request: P(0x81, 0x01, 0x04, 0x07, 0x00, 0xFF),
		Replies: R(ack1, P(0x90, 0x61, 0x04, 0xFF)), Code: "device_error", Sim: fail("cancelled")},
	{Name: "fault no socket", Cmd: "zoom", Args: []int{0, 0}, Request: P(0x81, 0x01, 0x04, 0x07, 0x00, 0xFF),
		Replies: R(P(0x90, 0x61, 0x05, 0xFF)), Code: "device_error", Sim: fail("no-socket")},
	{Name: "fault not executable", Cmd: "zoom", Args: []int{0, 0}, Request: P(0x81, 0x01, 0x04, 0x07, 0x00, 0xFF),
		Replies: R(P(0x90, 0x61, 0x41, 0xFF)), Code: "busy", Sim: fail("not-executable")},
	{Name: "fault on inquiry", Cmd: "inq-power", Request: P(0x81, 0x09, 0x04, 0x00, 0xFF),
		Replies: R(P(0x90, 0x60, 0x41, 0xFF)), Code: "busy", Sim: fail("not-executable")},

	// Replies on other sockets and out of order: what the driver must follow.
	{Name: "completion on socket 2", Cmd: "power", Args: []int{1}, Request: P(0x81, 0x01, 0x04, 0x00, 0x02, 0xFF),
		Replies: R(P(0x90, 0x42, 0xFF), P(0x90, 0x52, 0xFF))},
	{Name: "stale completion skipped", Cmd: "power", Args: []int{0}, Request: P(0x81, 0x01, 0x04, 0x00, 0x03, 0xFF),
		Replies: R(P(0x90, 0x52, 0xFF), ack1, P(0x90, 0x52, 0xFF), done1)},
	{Name: "error on the acked socket", Cmd: "home", Request: P(0x81, 0x01, 0x06, 0x04, 0xFF),
		Replies: R(P(0x90, 0x42, 0xFF), P(0x90, 0x61, 0x41, 0xFF), P(0x90, 0x62, 0x41, 0xFF)), Code: "busy"},
	{Name: "unknown error code", Cmd: "home", Request: P(0x81, 0x01, 0x06, 0x04, 0xFF), Replies: R(P(0x90, 0x60, 0x7A, 0xFF)),
		Code: "device_error"},

	// Garbled replies: no camera should send these; the driver must reject them.
	{Name: "reply header without camera", Cmd: "inq-power", Request: P(0x81, 0x09, 0x04, 0x00, 0xFF), Replies: R(P(0x80, 0x50, 0x02, 0xFF)),
		Code: "device_error"},
	{Name: "reply header not a header", Cmd: "inq-power", Request: P(0x81, 0x09, 0x04, 0x00, 0xFF), Replies: R(P(0x10, 0x50, 0x02, 0xFF)),
		Code: "device_error"},
	{Name: "reply to a camera", Cmd: "inq-power", Request: P(0x81, 0x09, 0x04, 0x00, 0xFF), Replies: R(P(0x91, 0x50, 0x02, 0xFF)),
		Code: "device_error"},
	{Name: "ack on socket 0", Cmd: "home", Request: P(0x81, 0x01, 0x06, 0x04, 0xFF), Replies: R(P(0x90, 0x40, 0xFF)), Code: "device_error"},
	{Name: "error too long", Cmd: "home", Request: P(0x81, 0x01, 0x06, 0x04, 0xFF), Replies: R(P(0x90, 0x60, 0x02, 0x00, 0xFF)),
		Code: "device_error"},
	{Name: "completion with data on socket 1", Cmd: "home", Request: P(0x81, 0x01, 0x06, 0x04, 0xFF), Replies: R(P(0x90, 0x51, 0x00, 0xFF)),
		Code: "device_error"},
	{Name: "unknown message", Cmd: "home", Request: P(0x81, 0x01, 0x06, 0x04, 0xFF), Replies: R(P(0x90, 0x7A, 0xFF)), Code: "device_error"},
	{Name: "garbage", Cmd: "inq-power", Request: P(0x81, 0x09, 0x04, 0x00, 0xFF), Replies: R(P(0x00, 0x9B, 0x13, 0xFF)), Code: "device_error"},
	{Name: "terminator alone", Cmd: "inq-power", Request: P(0x81, 0x09, 0x04, 0x00, 0xFF), Replies: R(P(0xFF)), Code: "device_error"},
	{Name: "over-long reply", Cmd: "inq-power", Request: P(0x81, 0x09, 0x04, 0x00, 0xFF),
		Replies: R(append(append(P(0x90, 0x50), bytes.Repeat(P(0x01), 20)...), 0xFF)), Code: "device_error"},

	// A serial line: AddressSet, broadcast IF_Clear and cameras daisy-chained.
	{Name: "address set one camera", Cmd: "addressset", Request: P(0x88, 0x30, 0x01, 0xFF), Replies: R(P(0x88, 0x30, 0x02, 0xFF)),
		Want: map[string]any{"cameras": 1}, Serial: true, Sim: &Setup{Unaddressed: true}},
	{Name: "address set two cameras", Cmd: "addressset", Request: P(0x88, 0x30, 0x01, 0xFF), Replies: R(P(0x88, 0x30, 0x03, 0xFF)),
		Want: map[string]any{"cameras": 2}, Serial: true, Sim: &Setup{Cameras: 2, Unaddressed: true}},
	{Name: "address set seven cameras", Cmd: "addressset", Request: P(0x88, 0x30, 0x01, 0xFF), Replies: R(P(0x88, 0x30, 0x08, 0xFF)),
		Want: map[string]any{"cameras": 7}, Serial: true, Sim: &Setup{Cameras: 7, Unaddressed: true}},
	{Name: "if clear broadcast", Cmd: "ifclearall", Request: P(0x88, 0x01, 0x00, 0x01, 0xFF), Replies: R(P(0x88, 0x01, 0x00, 0x01, 0xFF)),
		Serial: true, Sim: &Setup{Cameras: 2}},
	{Name: "camera 2 power on", Cmd: "power", Args: []int{1}, Camera: 2, Request: P(0x82, 0x01, 0x04, 0x00, 0x02, 0xFF),
		Replies: R(P(0xA0, 0x41, 0xFF), P(0xA0, 0x51, 0xFF)), Serial: true, Sim: &Setup{Cameras: 2}},
	{Name: "camera 2 power query", Cmd: "inq-power", Camera: 2, Request: P(0x82, 0x09, 0x04, 0x00, 0xFF),
		Replies: R(P(0xA0, 0x50, 0x03, 0xFF)), Want: map[string]any{"power": "off"}, Serial: true, Sim: &Setup{Cameras: 2}},
	{Name: "camera 7 power query", Cmd: "inq-power", Camera: 7, Request: P(0x87, 0x09, 0x04, 0x00, 0xFF),
		Replies: R(P(0xF0, 0x50, 0x02, 0xFF)), Want: map[string]any{"power": "on"}, Serial: true, Sim: &Setup{Cameras: 7, On: true}},
	{Name: "no camera at address 3", Cmd: "inq-power", Camera: 3, Request: P(0x83, 0x09, 0x04, 0x00, 0xFF),
		Replies: R(P(0x83, 0x09, 0x04, 0x00, 0xFF)), Code: "unreachable", Serial: true, Sim: &Setup{Cameras: 2}},
	{Name: "unaddressed camera", Cmd: "inq-power", Request: P(0x81, 0x09, 0x04, 0x00, 0xFF),
		Replies: R(P(0x81, 0x09, 0x04, 0x00, 0xFF)), Code: "unreachable", Serial: true, Sim: &Setup{Unaddressed: true}},
}

// Unsolicited are messages a camera sends without being asked; the driver skips them.
var Unsolicited = []struct {
	Name   string
	Packet []byte
}{
	{"network change", P(0x90, 0x38, 0xFF)},
	{"network change camera 2", P(0xA0, 0x38, 0xFF)},
	{"ir receive return power", P(0x90, 0x07, 0x7D, 0x01, 0x04, 0x00, 0xFF)},
}

// Datagram is one exchange of VISCA over IP: the message with its header, and the camera's.
type Datagram struct {
	Name    string
	Request []byte
	Replies [][]byte
	Code    string
	// Sim is the simulator setup; its Before steps are datagrams too.
	Sim *Setup
}

// IP builds a VISCA over IP message: payload type, length, sequence number, payload.
func IP(typ uint16, seq uint32, payload ...byte) []byte {
	n := len(payload)
	return append([]byte{byte(typ >> 8), byte(typ), byte(n >> 8), byte(n), byte(seq >> 24), byte(seq >> 16), byte(seq >> 8), byte(seq)}, payload...)
}

var (
	powerOnIP = IP(0x0100, 1, 0x81, 0x01, 0x04, 0x00, 0x02, 0xFF)
	queryIP   = func(seq uint32) []byte { return IP(0x0110, seq, 0x81, 0x09, 0x04, 0x00, 0xFF) }
	answerIP  = func(seq uint32, v byte) []byte { return IP(0x0111, seq, 0x90, 0x50, v, 0xFF) }
)

// Datagrams is the golden table of VISCA over IP exchanges.
var Datagrams = []Datagram{
	{Name: "reset", Request: IP(0x0200, 0, 0x01), Replies: R(IP(0x0201, 0, 0x01)), Sim: off},
	{Name: "reset ignores the sequence number", Request: IP(0x0200, 77, 0x01), Replies: R(IP(0x0201, 77, 0x01)), Sim: off},
	// The example of PROTOCOLS.md: power on, sequence number 1.
	{Name: "power on", Request: powerOnIP, Replies: R(IP(0x0111, 1, 0x90, 0x41, 0xFF), IP(0x0111, 1, 0x90, 0x51, 0xFF)), Sim: off},
	{Name: "power query", Request: queryIP(2), Replies: R(answerIP(2, 0x02)), Sim: on},
	{Name: "any camera address is camera 1", Request: IP(0x0110, 2, 0x83, 0x09, 0x04, 0x00, 0xFF), Replies: R(answerIP(2, 0x03)), Sim: off},
	{Name: "not executable", Request: IP(0x0100, 7, 0x81, 0x01, 0x04, 0x07, 0x00, 0xFF),
		Replies: R(IP(0x0111, 7, 0x90, 0x61, 0x41, 0xFF)), Code: "busy", Sim: off},
	{Name: "duplicate sequence number", Request: queryIP(2), Replies: R(IP(0x0200, 2, 0x0F, 0x01)), Code: "device_error",
		Sim: &Setup{On: true, Before: []Step{{queryIP(2), R(answerIP(2, 0x02))}}}},
	{Name: "old sequence number", Request: queryIP(4), Replies: R(IP(0x0200, 4, 0x0F, 0x01)), Code: "device_error",
		Sim: &Setup{On: true, Before: []Step{{queryIP(5), R(answerIP(5, 0x02))}}}},
	{Name: "sequence accepted after reset", Request: queryIP(4), Replies: R(answerIP(4, 0x02)),
		Sim: &Setup{On: true, Before: []Step{{queryIP(5), R(answerIP(5, 0x02))}, {IP(0x0200, 0, 0x01), R(IP(0x0201, 0, 0x01))}}}},
	{Name: "bad message type", Request: IP(0x0150, 3, 0x81, 0x09, 0x04, 0x00, 0xFF), Replies: R(IP(0x0200, 3, 0x0F, 0x02)),
		Code: "device_error", Sim: on},
	{Name: "length field too long", Request: append(IP(0x0100, 3, 0x81, 0x01, 0x04, 0x00, 0x02, 0xFF)[:3], 0x09, 0, 0, 0, 3, 0x81, 0x01, 0x04, 0x00, 0x02, 0xFF),
		Replies: R(IP(0x0200, 3, 0x0F, 0x02)), Code: "device_error", Sim: on},
	{Name: "payload not a packet", Request: IP(0x0100, 3, 0x01, 0x04, 0x00, 0x02, 0xFF),
		Replies: R(IP(0x0111, 3, 0x90, 0x60, 0x02, 0xFF)), Code: "bad_args", Sim: on},
	{Name: "unknown control", Request: IP(0x0200, 3, 0x05), Replies: R(IP(0x0200, 3, 0x0F, 0x02)), Code: "device_error", Sim: on},
	{Name: "fault sequence", Request: queryIP(9), Replies: R(IP(0x0200, 9, 0x0F, 0x01)), Code: "device_error", Sim: fail("sequence")},
	{Name: "fault message type", Request: queryIP(9), Replies: R(IP(0x0200, 9, 0x0F, 0x02)), Code: "device_error", Sim: fail("message-type")},
	{Name: "fault buffer full", Request: IP(0x0100, 9, 0x81, 0x01, 0x04, 0x07, 0x00, 0xFF),
		Replies: R(IP(0x0111, 9, 0x90, 0x60, 0x03, 0xFF)), Code: "busy", Sim: fail("buffer-full")},
	{Name: "sequence error as control reply", Request: queryIP(9), Replies: R(IP(0x0201, 9, 0x0F, 0x01)), Code: "device_error"},

	// Garbled datagrams: the driver must reject them.
	{Name: "reply shorter than a header", Request: queryIP(1), Replies: R(P(0x01, 0x11, 0x00)), Code: "device_error"},
	{Name: "reply length mismatch", Request: queryIP(1), Replies: R(append(IP(0x0111, 1, 0x90, 0x50, 0x02, 0xFF)[:3], 0x09, 0, 0, 0, 1, 0x90, 0x50, 0x02, 0xFF)),
		Code: "device_error"},
	{Name: "reply empty payload", Request: queryIP(1), Replies: R(IP(0x0111, 1)), Code: "device_error"},
	{Name: "reply unknown type", Request: queryIP(1), Replies: R(IP(0x0199, 1, 0x90, 0x50, 0x02, 0xFF)), Code: "device_error"},
	{Name: "reply unknown control", Request: queryIP(1), Replies: R(IP(0x0200, 1, 0x07)), Code: "device_error"},
	{Name: "reply payload not a packet", Request: queryIP(1), Replies: R(IP(0x0111, 1, 0x90, 0x50, 0x02)), Code: "device_error"},
}
