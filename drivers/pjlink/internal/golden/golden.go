// Package golden holds the one table of PJLink class 1 frames that the driver's codec test,
// its transcript test, the simulator's test and the fuzz seed corpora all use: request bytes
// ⇄ reply bytes ⇄ decoded value ⇄ expected error.
//
// It is internal to drivers/pjlink and imported only by tests.
package golden

import "strings"

// Frame is one exchange with a projector.
type Frame struct {
	Name    string
	Cmd     string // command body, e.g. "POWR"
	Param   string // "?" for a query, else the set parameter
	Request string // bytes the controller sends
	Reply   string // bytes the projector answers
	// Want is the decoded answer of a query, as the state fields Poll publishes; nil for a
	// set command and for a reply that does not decode.
	Want map[string]any
	// Code is the contract error code the driver must return ("" for none). A frame can have
	// both Want and Code (ERST reporting a fault: the state is kept, the fault reported).
	Code string
	// Sim, when not nil, is a simulator setup in which pjlinksim answers Request with
	// exactly Reply. Nil for replies no well-behaved projector sends.
	Sim *Setup
}

// Setup is the state a simulator is put in before a frame is sent to it. Warm-up and
// cool-down are long (an hour) so warming and cooling states hold for the test.
type Setup struct {
	On                              bool     // the projector starts powered on
	Before                          []string // requests sent first; each must be answered "=OK"
	Failure                         bool     // answer ERR4 to everything
	ERST                            string   // error status; "" means "000000"
	LampHours                       int
	Inputs                          []string // nil: the simulator's default ("11", "31", "32")
	Name, Manufacturer, Model, Info string
}

// Lamps builds the "lamps" state value of (hours, on) pairs.
func Lamps(pairs ...any) []map[string]any {
	out := []map[string]any{}
	for i := 0; i+1 < len(pairs); i += 2 {
		out = append(out, map[string]any{"hours": pairs[i].(int), "on": pairs[i+1].(bool)})
	}
	return out
}

// Errors builds the "errors" state value from six ERST digits.
func Errors(erst string) map[string]string {
	names := []string{"fan", "lamp", "temperature", "cover", "filter", "other"}
	levels := map[byte]string{'0': "ok", '1': "warning", '2': "error"}
	out := map[string]string{}
	for i, n := range names {
		out[n] = levels[erst[i]]
	}
	return out
}

func q(cmd string) string { return "%1" + cmd + " ?\r" }

// Frames is the golden table.
var Frames = []Frame{
	// POWR, spec §4.1 and §4.2.
	{Name: "power query off", Cmd: "POWR", Param: "?", Request: q("POWR"), Reply: "%1POWR=0\r",
		Want: map[string]any{"power": "off"}, Sim: &Setup{}},
	{Name: "power query on", Cmd: "POWR", Param: "?", Request: q("POWR"), Reply: "%1POWR=1\r",
		Want: map[string]any{"power": "on"}, Sim: &Setup{On: true}},
	{Name: "power query cooling", Cmd: "POWR", Param: "?", Request: q("POWR"), Reply: "%1POWR=2\r",
		Want: map[string]any{"power": "cooling"}, Sim: &Setup{On: true, Before: []string{"%1POWR 0\r"}}},
	{Name: "power query warming", Cmd: "POWR", Param: "?", Request: q("POWR"), Reply: "%1POWR=3\r",
		Want: map[string]any{"power": "warming"}, Sim: &Setup{Before: []string{"%1POWR 1\r"}}},
	{Name: "power on", Cmd: "POWR", Param: "1", Request: "%1POWR 1\r", Reply: "%1POWR=OK\r", Sim: &Setup{}},
	{Name: "power on when on", Cmd: "POWR", Param: "1", Request: "%1POWR 1\r", Reply: "%1POWR=OK\r", Sim: &Setup{On: true}},
	{Name: "power off", Cmd: "POWR", Param: "0", Request: "%1POWR 0\r", Reply: "%1POWR=OK\r", Sim: &Setup{On: true}},
	{Name: "power on while cooling", Cmd: "POWR", Param: "1", Request: "%1POWR 1\r", Reply: "%1POWR=ERR3\r",
		Code: "busy", Sim: &Setup{On: true, Before: []string{"%1POWR 0\r"}}},
	{Name: "power off while warming", Cmd: "POWR", Param: "0", Request: "%1POWR 0\r", Reply: "%1POWR=ERR3\r",
		Code: "busy", Sim: &Setup{Before: []string{"%1POWR 1\r"}}},
	{Name: "power bad parameter", Cmd: "POWR", Param: "7", Request: "%1POWR 7\r", Reply: "%1POWR=ERR2\r",
		Code: "bad_args", Sim: &Setup{}},

	// INPT, spec §4.3 and §4.4.
	{Name: "input query", Cmd: "INPT", Param: "?", Request: q("INPT"), Reply: "%1INPT=32\r",
		Want: map[string]any{"input": "32"}, Sim: &Setup{On: true, Before: []string{"%1INPT 32\r"}}},
	{Name: "input query while off", Cmd: "INPT", Param: "?", Request: q("INPT"), Reply: "%1INPT=ERR3\r",
		Code: "busy", Sim: &Setup{}},
	{Name: "input select", Cmd: "INPT", Param: "31", Request: "%1INPT 31\r", Reply: "%1INPT=OK\r", Sim: &Setup{On: true}},
	{Name: "input select not installed", Cmd: "INPT", Param: "52", Request: "%1INPT 52\r", Reply: "%1INPT=ERR2\r",
		Code: "bad_args", Sim: &Setup{On: true}},
	{Name: "input select while off", Cmd: "INPT", Param: "31", Request: "%1INPT 31\r", Reply: "%1INPT=ERR3\r",
		Code: "busy", Sim: &Setup{}},

	// AVMT, spec §4.5 and §4.6.
	{Name: "mute query none", Cmd: "AVMT", Param: "?", Request: q("AVMT"), Reply: "%1AVMT=30\r",
		Want: map[string]any{"video_mute": false, "audio_mute": false}, Sim: &Setup{On: true}},
	{Name: "mute query video", Cmd: "AVMT", Param: "?", Request: q("AVMT"), Reply: "%1AVMT=11\r",
		Want: map[string]any{"video_mute": true, "audio_mute": false}, Sim: &Setup{On: true, Before: []string{"%1AVMT 11\r"}}},
	{Name: "mute query audio", Cmd: "AVMT", Param: "?", Request: q("AVMT"), Reply: "%1AVMT=21\r",
		Want: map[string]any{"video_mute": false, "audio_mute": true}, Sim: &Setup{On: true, Before: []string{"%1AVMT 21\r"}}},
	{Name: "mute query both", Cmd: "AVMT", Param: "?", Request: q("AVMT"), Reply: "%1AVMT=31\r",
		Want: map[string]any{"video_mute": true, "audio_mute": true}, Sim: &Setup{On: true, Before: []string{"%1AVMT 31\r"}}},
	{Name: "mute query while off", Cmd: "AVMT", Param: "?", Request: q("AVMT"), Reply: "%1AVMT=ERR3\r",
		Code: "busy", Sim: &Setup{}},
	{Name: "video mute on", Cmd: "AVMT", Param: "11", Request: "%1AVMT 11\r", Reply: "%1AVMT=OK\r", Sim: &Setup{On: true}},
	{Name: "video mute off", Cmd: "AVMT", Param: "10", Request: "%1AVMT 10\r", Reply: "%1AVMT=OK\r", Sim: &Setup{On: true}},
	{Name: "audio mute on", Cmd: "AVMT", Param: "21", Request: "%1AVMT 21\r", Reply: "%1AVMT=OK\r", Sim: &Setup{On: true}},
	{Name: "audio mute off", Cmd: "AVMT", Param: "20", Request: "%1AVMT 20\r", Reply: "%1AVMT=OK\r", Sim: &Setup{On: true}},
	{Name: "mute bad parameter", Cmd: "AVMT", Param: "41", Request: "%1AVMT 41\r", Reply: "%1AVMT=ERR2\r",
		Code: "bad_args", Sim: &Setup{On: true}},
	{Name: "mute while off", Cmd: "AVMT", Param: "11", Request: "%1AVMT 11\r", Reply: "%1AVMT=ERR3\r",
		Code: "busy", Sim: &Setup{}},

	// ERST, spec §4.7.
	{Name: "error status ok", Cmd: "ERST", Param: "?", Request: q("ERST"), Reply: "%1ERST=000000\r",
		Want: map[string]any{"errors": Errors("000000")}, Sim: &Setup{}},
	{Name: "error status warning", Cmd: "ERST", Param: "?", Request: q("ERST"), Reply: "%1ERST=000010\r",
		Want: map[string]any{"errors": Errors("000010")}, Sim: &Setup{ERST: "000010"}},
	{Name: "error status faults", Cmd: "ERST", Param: "?", Request: q("ERST"), Reply: "%1ERST=201000\r",
		Want: map[string]any{"errors": Errors("201000")}, Code: "device_error", Sim: &Setup{ERST: "201000"}},

	// LAMP, spec §4.8.
	{Name: "lamp on", Cmd: "LAMP", Param: "?", Request: q("LAMP"), Reply: "%1LAMP=1200 1\r",
		Want: map[string]any{"lamps": Lamps(1200, true)}, Sim: &Setup{On: true, LampHours: 1200}},
	{Name: "lamp off", Cmd: "LAMP", Param: "?", Request: q("LAMP"), Reply: "%1LAMP=0 0\r",
		Want: map[string]any{"lamps": Lamps(0, false)}, Sim: &Setup{}},
	{Name: "two lamps", Cmd: "LAMP", Param: "?", Request: q("LAMP"), Reply: "%1LAMP=100 1 99999 0\r",
		Want: map[string]any{"lamps": Lamps(100, true, 99999, false)}},
	{Name: "no lamp", Cmd: "LAMP", Param: "?", Request: q("LAMP"), Reply: "%1LAMP=ERR1\r", Code: "unsupported"},

	// INST, NAME, INF1, INF2, INFO, CLSS: spec §4.9 to §4.14.
	{Name: "input list", Cmd: "INST", Param: "?", Request: q("INST"), Reply: "%1INST=11 31 32\r",
		Want: map[string]any{"inputs": []string{"11", "31", "32"}}, Sim: &Setup{Inputs: []string{"11", "31", "32"}}},
	{Name: "name", Cmd: "NAME", Param: "?", Request: q("NAME"), Reply: "%1NAME=Courtroom 3\r",
		Want: map[string]any{"name": "Courtroom 3"}, Sim: &Setup{Name: "Courtroom 3"}},
	{Name: "empty name", Cmd: "NAME", Param: "?", Request: q("NAME"), Reply: "%1NAME=\r",
		Want: map[string]any{"name": ""}, Sim: &Setup{}},
	{Name: "manufacturer", Cmd: "INF1", Param: "?", Request: q("INF1"), Reply: "%1INF1=Bailiff\r",
		Want: map[string]any{"manufacturer": "Bailiff"}, Sim: &Setup{Manufacturer: "Bailiff"}},
	{Name: "model", Cmd: "INF2", Param: "?", Request: q("INF2"), Reply: "%1INF2=PJLinkSim\r",
		Want: map[string]any{"model": "PJLinkSim"}, Sim: &Setup{Model: "PJLinkSim"}},
	{Name: "other info", Cmd: "INFO", Param: "?", Request: q("INFO"), Reply: "%1INFO=firmware 1.0\r",
		Want: map[string]any{"info": "firmware 1.0"}, Sim: &Setup{Info: "firmware 1.0"}},
	{Name: "class", Cmd: "CLSS", Param: "?", Request: q("CLSS"), Reply: "%1CLSS=1\r",
		Want: map[string]any{"class": "1"}, Sim: &Setup{}},

	// Error answers, spec §2.2.
	{Name: "undefined command", Cmd: "XXXX", Param: "?", Request: q("XXXX"), Reply: "%1XXXX=ERR1\r",
		Code: "unsupported", Sim: &Setup{}},
	{Name: "projector failure", Cmd: "POWR", Param: "?", Request: q("POWR"), Reply: "%1POWR=ERR4\r",
		Code: "device_error", Sim: &Setup{Failure: true}},
	{Name: "projector failure on set", Cmd: "AVMT", Param: "11", Request: "%1AVMT 11\r", Reply: "%1AVMT=ERR4\r",
		Code: "device_error", Sim: &Setup{On: true, Failure: true}},

	// Garbled replies: no projector should send these; the driver must reject them.
	{Name: "reply for another command", Cmd: "POWR", Param: "?", Request: q("POWR"), Reply: "%1INPT=31\r", Code: "device_error"},
	{Name: "class 2 header", Cmd: "POWR", Param: "?", Request: q("POWR"), Reply: "%2POWR=1\r", Code: "device_error"},
	{Name: "no separator", Cmd: "POWR", Param: "?", Request: q("POWR"), Reply: "%1POWR1\r", Code: "device_error"},
	{Name: "lower case", Cmd: "POWR", Param: "?", Request: q("POWR"), Reply: "%1powr=1\r", Code: "device_error"},
	{Name: "control byte", Cmd: "NAME", Param: "?", Request: q("NAME"), Reply: "%1NAME=ab\x01cd\r", Code: "device_error"},
	{Name: "invalid utf-8", Cmd: "NAME", Param: "?", Request: q("NAME"), Reply: "%1NAME=\xff\xfe\r", Code: "device_error"},
	{Name: "over-long line", Cmd: "NAME", Param: "?", Request: q("NAME"), Reply: "%1NAME=" + strings.Repeat("x", 130) + "\r", Code: "device_error"},
	{Name: "empty line", Cmd: "POWR", Param: "?", Request: q("POWR"), Reply: "\r", Code: "device_error"},
	{Name: "garbage", Cmd: "POWR", Param: "?", Request: q("POWR"), Reply: "\x00\x9b\x13zz%1\r", Code: "device_error"},
	{Name: "power value out of range", Cmd: "POWR", Param: "?", Request: q("POWR"), Reply: "%1POWR=4\r", Code: "device_error"},
	{Name: "unknown error code", Cmd: "POWR", Param: "?", Request: q("POWR"), Reply: "%1POWR=ERR5\r", Code: "device_error"},
	{Name: "input value malformed", Cmd: "INPT", Param: "?", Request: q("INPT"), Reply: "%1INPT=3\r", Code: "device_error"},
	{Name: "input type 6", Cmd: "INPT", Param: "?", Request: q("INPT"), Reply: "%1INPT=61\r", Code: "device_error"},
	{Name: "mute value unknown", Cmd: "AVMT", Param: "?", Request: q("AVMT"), Reply: "%1AVMT=40\r", Code: "device_error"},
	{Name: "error status short", Cmd: "ERST", Param: "?", Request: q("ERST"), Reply: "%1ERST=0000\r", Code: "device_error"},
	{Name: "error status digit 3", Cmd: "ERST", Param: "?", Request: q("ERST"), Reply: "%1ERST=000300\r", Code: "device_error"},
	{Name: "lamp hours not a number", Cmd: "LAMP", Param: "?", Request: q("LAMP"), Reply: "%1LAMP=12a 1\r", Code: "device_error"},
	{Name: "lamp odd fields", Cmd: "LAMP", Param: "?", Request: q("LAMP"), Reply: "%1LAMP=1200\r", Code: "device_error"},
	{Name: "lamp double space", Cmd: "LAMP", Param: "?", Request: q("LAMP"), Reply: "%1LAMP=1200  1\r", Code: "device_error"},
	{Name: "input list bad code", Cmd: "INST", Param: "?", Request: q("INST"), Reply: "%1INST=11 3X\r", Code: "device_error"},
	{Name: "class not a digit", Cmd: "CLSS", Param: "?", Request: q("CLSS"), Reply: "%1CLSS=A\r", Code: "device_error"},
	{Name: "set answered with a value", Cmd: "POWR", Param: "1", Request: "%1POWR 1\r", Reply: "%1POWR=1\r", Code: "device_error"},
	{Name: "authentication refused", Cmd: "POWR", Param: "?", Request: q("POWR"), Reply: "PJLINK ERRA\r", Code: "device_error"},
}

// Greeting is one line a projector sends when a controller connects (spec §5).
type Greeting struct {
	Name   string
	Line   string // with its CR
	OK     bool
	Auth   bool
	Random string
}

// Greetings is the golden table of greetings.
var Greetings = []Greeting{
	{Name: "no auth", Line: "PJLINK 0\r", OK: true},
	{Name: "auth", Line: "PJLINK 1 498e4a67\r", OK: true, Auth: true, Random: "498e4a67"},
	{Name: "auth upper case", Line: "PJLINK 1 4F9E4A6B\r", OK: true, Auth: true, Random: "4F9E4A6B"},
	{Name: "auth no random", Line: "PJLINK 1 \r"},
	{Name: "auth short random", Line: "PJLINK 1 498e4a6\r"},
	{Name: "auth long random", Line: "PJLINK 1 498e4a677\r"},
	{Name: "auth random not alphanumeric", Line: "PJLINK 1 498e4a-7\r"},
	{Name: "unknown mode", Line: "PJLINK 2\r"},
	{Name: "no auth extra", Line: "PJLINK 0 x\r"},
	{Name: "error", Line: "PJLINK ERRA\r"},
	{Name: "lower case", Line: "pjlink 0\r"},
	{Name: "garbage", Line: "\x00\x01\xff\r"},
	{Name: "empty", Line: "\r"},
	{Name: "over-long", Line: "PJLINK 1 " + strings.Repeat("a", 140) + "\r"},
}

// Vector is the authentication test vector of the spec (§5.1) and of PROTOCOLS.md.
var Vector = struct{ Random, Password, Digest string }{
	Random: "498e4a67", Password: "JBMIAProjectorLink", Digest: "5d8409bc1c3fa39749434aa3a5c38682",
}
