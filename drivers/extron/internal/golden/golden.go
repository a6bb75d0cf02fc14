// Package golden holds the one table of Extron SIS exchanges that the driver's codec test,
// its transcript test, the simulator's test and the fuzz seed corpora all use: command bytes
// ⇄ answer bytes ⇄ decoded value ⇄ expected error.
//
// It is internal to drivers/extron and imported only by tests.
package golden

// Operations of a frame.
const (
	Tie      = "tie"      // In, Out (0: every output), Kind
	View     = "view"     // Out, Kind
	Info     = "info"     // "I"
	Part     = "part"     // "N"
	Firmware = "firmware" // "Q"
	Raw      = "raw"      // Request as it is
)

// Frame is one exchange with a switcher.
type Frame struct {
	Name    string
	Op      string
	In, Out int
	Kind    byte   // '!', '%', '$'
	Request string // bytes the controller sends
	Reply   string // bytes the switcher answers, line end included
	// Want is the decoded answer: the input number of a view, a Size of "I", the string of
	// "N", "Q" and raw commands; nil for a tie.
	Want any
	// Code is the contract error code the driver must return ("" for none).
	Code string
	// Sim, when not nil, is a simulator setup in which extronsim answers Request with exactly
	// Reply. Nil for answers the simulator does not give.
	Sim *Setup
}

// Size is a matrix size as the driver decodes "I": video inputs and outputs, audio inputs
// and outputs.
type Size struct{ VideoInputs, VideoOutputs, AudioInputs, AudioOutputs int }

// Setup is the state a simulator is put in before a frame is sent to it.
type Setup struct {
	Inputs, Outputs int   // 0: 8 and 4
	NoAudio         bool  // a video-only model
	Digits          int   // padding of numbers in answers; 0: 2
	Video, Audio    []int // ties at start, output 1 first; nil: none
	Error           string
}

// Greeting is what a switcher sends when a controller connects over TCP.
type Greeting struct {
	Name  string
	Line  string // without its CR LF
	Model string // "" when the line names none
	Skip  bool   // the driver skips it while waiting for an answer
}

const crlf = "\r\n"

// Frames is the golden table.
var Frames = []Frame{
	// Ties (MAV / CrossPoint SIS tables).
	{Name: "tie av", Op: Tie, In: 1, Out: 3, Kind: '!', Request: "1*3!", Reply: "Out03 In01 All" + crlf, Sim: &Setup{}},
	{Name: "tie video", Op: Tie, In: 7, Out: 4, Kind: '%', Request: "7*4%", Reply: "Out04 In07 Vid" + crlf, Sim: &Setup{}},
	{Name: "tie audio", Op: Tie, In: 2, Out: 4, Kind: '$', Request: "2*4$", Reply: "Out04 In02 Aud" + crlf, Sim: &Setup{}},
	{Name: "untie", Op: Tie, In: 0, Out: 2, Kind: '!', Request: "0*2!", Reply: "Out02 In00 All" + crlf,
		Sim: &Setup{Video: []int{1, 1}, Audio: []int{1, 1}}},
	{Name: "tie to every output", Op: Tie, In: 5, Kind: '!', Request: "5*!", Reply: "In05 All" + crlf, Sim: &Setup{}},
	{Name: "tie video to every output", Op: Tie, In: 5, Kind: '%', Request: "5*%", Reply: "In05 Vid" + crlf, Sim: &Setup{}},
	{Name: "tie with three digits", Op: Tie, In: 12, Out: 3, Kind: '!', Request: "12*3!", Reply: "Out003 In012 All" + crlf,
		Sim: &Setup{Inputs: 16, Outputs: 16, Digits: 3}},
	{Name: "tie answer without padding", Op: Tie, In: 1, Out: 3, Kind: '!', Request: "1*3!", Reply: "Out3 In1 All" + crlf},
	{Name: "tie answer input first", Op: Tie, In: 1, Out: 3, Kind: '!', Request: "1*3!", Reply: "In1 Out3 All" + crlf},
	{Name: "tie answered rgb", Op: Tie, In: 1, Out: 3, Kind: '%', Request: "1*3%", Reply: "Out03 In01 RGB" + crlf},
	{Name: "tie invalid input", Op: Tie, In: 9, Out: 1, Kind: '!', Request: "9*1!", Reply: "E01" + crlf, Code: "bad_args", Sim: &Setup{}},
	{Name: "tie invalid output", Op: Tie, In: 1, Out: 5, Kind: '!', Request: "1*5!", Reply: "E12" + crlf, Code: "bad_args", Sim: &Setup{}},
	{Name: "audio tie on a video-only switcher", Op: Tie, In: 1, Out: 1, Kind: '$', Request: "1*1$", Reply: "E14" + crlf,
		Code: "unsupported", Sim: &Setup{NoAudio: true}},
	{Name: "tie while busy", Op: Tie, In: 1, Out: 3, Kind: '!', Request: "1*3!", Reply: "E22" + crlf, Code: "busy",
		Sim: &Setup{Error: "E22"}},
	{Name: "tie answered for another output", Op: Tie, In: 1, Out: 3, Kind: '!', Request: "1*3!", Reply: "Out02 In01 All" + crlf,
		Code: "device_error"},
	{Name: "tie answered for another input", Op: Tie, In: 1, Out: 3, Kind: '!', Request: "1*3!", Reply: "Out03 In04 All" + crlf,
		Code: "device_error"},
	{Name: "tie answered with another kind", Op: Tie, In: 1, Out: 3, Kind: '!', Request: "1*3!", Reply: "Out03 In01 Vid" + crlf,
		Code: "device_error"},
	{Name: "tie to every output answered for one", Op: Tie, In: 5, Kind: '!', Request: "5*!", Reply: "Out01 In05 All" + crlf,
		Code: "device_error"},

	// Reading ties (CrossPoint 450 Plus / MAV Plus: "7%" → "02").
	{Name: "view video tie", Op: View, Out: 3, Kind: '%', Request: "3%", Reply: "01" + crlf, Want: 1,
		Sim: &Setup{Video: []int{0, 0, 1, 0}}},
	{Name: "view audio tie", Op: View, Out: 4, Kind: '$', Request: "4$", Reply: "06" + crlf, Want: 6,
		Sim: &Setup{Audio: []int{0, 0, 0, 6}}},
	{Name: "view untied output", Op: View, Out: 2, Kind: '%', Request: "2%", Reply: "00" + crlf, Want: 0, Sim: &Setup{}},
	{Name: "view with three digits", Op: View, Out: 3, Kind: '%', Request: "3%", Reply: "012" + crlf, Want: 12,
		Sim: &Setup{Inputs: 16, Outputs: 16, Digits: 3, Video: []int{0, 0, 12}}},
	{Name: "view in verbose mode", Op: View, Out: 3, Kind: '%', Request: "3%", Reply: "Out03 In01 Vid" + crlf, Want: 1},
	{Name: "view invalid output", Op: View, Out: 9, Kind: '%', Request: "9%", Reply: "E12" + crlf, Code: "bad_args", Sim: &Setup{}},
	{Name: "view audio on a video-only switcher", Op: View, Out: 1, Kind: '$', Request: "1$", Reply: "E14" + crlf,
		Code: "unsupported", Sim: &Setup{NoAudio: true}},
	{Name: "view not a number", Op: View, Out: 3, Kind: '%', Request: "3%", Reply: "0x" + crlf, Code: "device_error"},
	{Name: "view answered for another output", Op: View, Out: 3, Kind: '%', Request: "3%", Reply: "Out02 In01 Vid" + crlf,
		Code: "device_error"},
	{Name: "view after a blank line", Op: View, Out: 3, Kind: '%', Request: "3%", Reply: crlf + "01" + crlf, Want: 1},
	{Name: "view after the greeting", Op: View, Out: 3, Kind: '%', Request: "3%",
		Reply: "(c) Copyright 2008, Extron Electronics, MAV Plus, V1.23, 60-1234-01" + crlf + "Tue, 02 Dec 2025 10:00:00" + crlf + "01" + crlf,
		Want:  1},
	{Name: "view after a front-panel event", Op: View, Out: 3, Kind: '%', Request: "3%", Reply: "Qik" + crlf + "Amt03 1" + crlf + "01" + crlf, Want: 1},
	{Name: "view after telnet negotiation", Op: View, Out: 3, Kind: '%', Request: "3%",
		Reply: "\xff\xfb\x01\xff\xfd\x03\xff\xfa\x18\x01\xff\xf0" + "01" + crlf, Want: 1},
	{Name: "view with a bare cr", Op: View, Out: 3, Kind: '%', Request: "3%", Reply: "01\r", Want: 1},

	// Information, part number, firmware.
	{Name: "information", Op: Info, Request: "I", Reply: "V8X4 A8X4" + crlf, Want: Size{8, 4, 8, 4}, Sim: &Setup{}},
	{Name: "information video only", Op: Info, Request: "I", Reply: "V8X4" + crlf, Want: Size{8, 4, 0, 0}, Sim: &Setup{NoAudio: true}},
	{Name: "information with executive mode", Op: Info, Request: "I", Reply: "V16X16 A16X16 Exe0" + crlf, Want: Size{16, 16, 16, 16}},
	{Name: "information padded", Op: Info, Request: "I", Reply: "V12X08 A12X08" + crlf, Want: Size{12, 8, 12, 8}},
	{Name: "information without audio", Op: Info, Request: "I", Reply: "V12X8 A0X0" + crlf, Want: Size{12, 8, 0, 0}},
	{Name: "information garbled", Op: Info, Request: "I", Reply: "X8V4" + crlf, Code: "device_error"},
	{Name: "information refused", Op: Info, Request: "I", Reply: "E10" + crlf, Code: "unsupported"},
	{Name: "part number", Op: Part, Request: "N", Reply: "60-1234-01" + crlf, Want: "60-1234-01", Sim: &Setup{}},
	{Name: "part number with prefix", Op: Part, Request: "N", Reply: "N60-332-06" + crlf, Want: "60-332-06"},
	{Name: "part number garbled", Op: Part, Request: "N", Reply: "sixty" + crlf, Code: "device_error"},
	{Name: "firmware", Op: Firmware, Request: "Q", Reply: "1.23" + crlf, Want: "1.23", Sim: &Setup{}},
	{Name: "firmware with prefix", Op: Firmware, Request: "Q", Reply: "Ver2.00" + crlf, Want: "2.00"},
	{Name: "firmware garbled", Op: Firmware, Request: "Q", Reply: "new" + crlf, Code: "device_error"},

	// Errors and other answers.
	{Name: "invalid command", Op: Raw, Request: "Z", Reply: "E10" + crlf, Code: "unsupported", Sim: &Setup{}},
	{Name: "raw command", Op: Raw, Request: "1%", Reply: "00" + crlf, Want: "00", Sim: &Setup{}},
	{Name: "invalid value", Op: View, Out: 1, Kind: '%', Request: "1%", Reply: "E13" + crlf, Code: "bad_args",
		Sim: &Setup{Error: "E13"}},
	{Name: "unknown error code", Op: View, Out: 1, Kind: '%', Request: "1%", Reply: "E99" + crlf, Code: "device_error"},
	{Name: "privilege violation", Op: Tie, In: 1, Out: 1, Kind: '!', Request: "1*1!", Reply: "E24" + crlf, Code: "device_error",
		Sim: &Setup{Error: "E24"}},
	{Name: "garbage", Op: View, Out: 1, Kind: '%', Request: "1%", Reply: "\x01\x9bzz" + crlf, Code: "device_error"},
	{Name: "over-long line", Op: View, Out: 1, Kind: '%', Request: "1%", Reply: longLine() + crlf, Code: "device_error"},
	{Name: "password prompt", Op: View, Out: 1, Kind: '%', Request: "1%", Reply: "Password:", Code: "device_error"},
	{Name: "cut short", Op: View, Out: 1, Kind: '%', Request: "1%", Reply: "0", Code: "unreachable"},
}

func longLine() string {
	b := make([]byte, 300)
	for i := range b {
		b[i] = '7'
	}
	return string(b)
}

// Greetings is the golden table of lines a switcher sends unasked.
var Greetings = []Greeting{
	{Name: "copyright", Line: "(c) Copyright 2008, Extron Electronics, MAV Plus, V1.23, 60-1234-01", Model: "MAV Plus", Skip: true},
	{Name: "copyright upper case", Line: "(C) COPYRIGHT 2012, Extron Electronics, FOX Matrix 3200, V1.10, 60-1100-01", Model: "FOX Matrix 3200", Skip: true},
	{Name: "copyright with date", Line: "(c) Copyright 2007, Extron Electronics, CP 300 450 MAV IP, V1.00, 60-881-01 Tue, 02 Dec 2025 10:00:00", Model: "CP 300 450 MAV IP", Skip: true},
	{Name: "copyright without commas", Line: "(C) Copyright 2003, Extron Electronics Matrix12800, V1.02", Skip: true},
	{Name: "date", Line: "Tue, 02 Dec 2025 10:00:00", Skip: true},
	{Name: "login administrator", Line: "Login Administrator", Skip: true},
	{Name: "login user", Line: "Login User", Skip: true},
	{Name: "quick tie", Line: "Qik", Skip: true},
	{Name: "preset saved", Line: "Spr03", Skip: true},
	{Name: "preset recalled", Line: "Rpr03", Skip: true},
	{Name: "video mute", Line: "Vmt02 1", Skip: true},
	{Name: "executive mode", Line: "Exe1", Skip: true},
	{Name: "input gain", Line: "In05 Aud+03", Skip: true},
	{Name: "output volume", Line: "Out02 Vol55", Skip: true},
	{Name: "empty", Line: "", Skip: true},
	{Name: "tie answer", Line: "Out03 In01 All"},
	{Name: "number", Line: "01"},
	{Name: "error", Line: "E10"},
	{Name: "stranger", Line: "hello"},
}
