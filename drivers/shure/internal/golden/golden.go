// Package golden holds the one table of Shure command strings that the driver's codec
// test, its transcript test, the simulator's test and the fuzz seed corpora all use:
// command bytes ⇄ reply bytes ⇄ decoded message and state ⇄ expected error.
//
// It is internal to drivers/shure and imported only by tests.
package golden

import "strings"

// Frame is one exchange with a device, or (Request "") one message the device sends by
// itself.
type Frame struct {
	Name string
	// The command the controller sends, as fields and as bytes; all "" for an unsolicited
	// message.
	Kind, Channel, Param, Value string
	Request                     string
	// Reply is the bytes the device sends.
	Reply string
	// The first message of Reply, decoded; RKind "" when it does not decode.
	RKind, RChannel, RParam, RValue string
	Levels                          []int
	// Want is the state fields the reply makes (Poll's form); Meter the levels in dBFS a
	// SAMPLE gives Notify.Meter. Nil when there are none.
	Want  map[string]any
	Meter map[string]float64
	// Code is the contract error code the driver must return when it gets Reply as the
	// answer to Request (or, unsolicited, when it parses Reply); "" for none.
	Code string
	// Sim, when not nil, is a simulator setup in which shuresim answers Request with exactly
	// Reply.
	Sim *Setup
}

// Setup is the state a simulator is put in before a frame is sent to it.
type Setup struct {
	Model      string // "" is an MXA910
	Channels   int    // 0: 8
	DeviceMute bool
	Mute       map[int]bool
	Gain       map[int]int // AUDIO_GAIN_HI_RES values
	Preset     int         // 0: 1
}

// Channel builds the "channels" state value of one channel.
func Channel(n string, fields ...any) map[string]map[string]any {
	m := map[string]any{}
	for i := 0; i+1 < len(fields); i += 2 {
		m[fields[i].(string)] = fields[i+1]
	}
	return map[string]map[string]any{n: m}
}

// Model pads a model name to the 32 characters of a MODEL report, in braces.
func Model(name string) string { return "{" + name + strings.Repeat(" ", 32-len(name)) + "}" }

// Frames is the golden table.
var Frames = []Frame{
	// Device mute: "Get/Mute/Unmute Device Audio".
	{Name: "device mute on", Kind: "SET", Param: "DEVICE_AUDIO_MUTE", Value: "ON",
		Request: "< SET DEVICE_AUDIO_MUTE ON >", Reply: "< REP DEVICE_AUDIO_MUTE ON >",
		RKind: "REP", RParam: "DEVICE_AUDIO_MUTE", RValue: "ON", Want: map[string]any{"mute": true}, Sim: &Setup{}},
	{Name: "device mute off", Kind: "SET", Param: "DEVICE_AUDIO_MUTE", Value: "OFF",
		Request: "< SET DEVICE_AUDIO_MUTE OFF >", Reply: "< REP DEVICE_AUDIO_MUTE OFF >",
		RKind: "REP", RParam: "DEVICE_AUDIO_MUTE", RValue: "OFF", Want: map[string]any{"mute": false}, Sim: &Setup{DeviceMute: true}},
	{Name: "device mute query", Kind: "GET", Param: "DEVICE_AUDIO_MUTE",
		Request: "< GET DEVICE_AUDIO_MUTE >", Reply: "< REP DEVICE_AUDIO_MUTE ON >",
		RKind: "REP", RParam: "DEVICE_AUDIO_MUTE", RValue: "ON", Want: map[string]any{"mute": true}, Sim: &Setup{DeviceMute: true}},

	// Channel mute: "Get/Mute/Unmute Channel Audio".
	{Name: "channel mute on", Kind: "SET", Channel: "1", Param: "AUDIO_MUTE", Value: "ON",
		Request: "< SET 1 AUDIO_MUTE ON >", Reply: "< REP 1 AUDIO_MUTE ON >",
		RKind: "REP", RChannel: "1", RParam: "AUDIO_MUTE", RValue: "ON",
		Want: map[string]any{"channels": Channel("1", "mute", true)}, Sim: &Setup{}},
	{Name: "channel mute off", Kind: "SET", Channel: "8", Param: "AUDIO_MUTE", Value: "OFF",
		Request: "< SET 8 AUDIO_MUTE OFF >", Reply: "< REP 8 AUDIO_MUTE OFF >",
		RKind: "REP", RChannel: "8", RParam: "AUDIO_MUTE", RValue: "OFF",
		Want: map[string]any{"channels": Channel("8", "mute", false)}, Sim: &Setup{Mute: map[int]bool{8: true}}},
	{Name: "channel mute query", Kind: "GET", Channel: "3", Param: "AUDIO_MUTE",
		Request: "< GET 3 AUDIO_MUTE >", Reply: "< REP 3 AUDIO_MUTE ON >",
		RKind: "REP", RChannel: "3", RParam: "AUDIO_MUTE", RValue: "ON",
		Want: map[string]any{"channels": Channel("3", "mute", true)}, Sim: &Setup{Mute: map[int]bool{3: true}}},
	{Name: "p300 channel mute on", Kind: "SET", Channel: "01", Param: "AUDIO_MUTE", Value: "ON",
		Request: "< SET 01 AUDIO_MUTE ON >", Reply: "< REP 01 AUDIO_MUTE ON >",
		RKind: "REP", RChannel: "01", RParam: "AUDIO_MUTE", RValue: "ON",
		Want: map[string]any{"channels": Channel("1", "mute", true)}, Sim: &Setup{Model: "P300"}},

	// Gain: "Get/Set Audio Gain", 0000-1400, 1100 = 0 dB.
	{Name: "gain 0 dB", Kind: "SET", Channel: "1", Param: "AUDIO_GAIN_HI_RES", Value: "1100",
		Request: "< SET 1 AUDIO_GAIN_HI_RES 1100 >", Reply: "< REP 1 AUDIO_GAIN_HI_RES 1100 >",
		RKind: "REP", RChannel: "1", RParam: "AUDIO_GAIN_HI_RES", RValue: "1100",
		Want: map[string]any{"channels": Channel("1", "gain_db", 0.0)}, Sim: &Setup{Gain: map[int]int{1: 1000}}},
	{Name: "gain -3.5 dB", Kind: "SET", Channel: "2", Param: "AUDIO_GAIN_HI_RES", Value: "1065",
		Request: "< SET 2 AUDIO_GAIN_HI_RES 1065 >", Reply: "< REP 2 AUDIO_GAIN_HI_RES 1065 >",
		RKind: "REP", RChannel: "2", RParam: "AUDIO_GAIN_HI_RES", RValue: "1065",
		Want: map[string]any{"channels": Channel("2", "gain_db", -3.5)}, Sim: &Setup{}},
	{Name: "gain minimum", Kind: "SET", Channel: "4", Param: "AUDIO_GAIN_HI_RES", Value: "0000",
		Request: "< SET 4 AUDIO_GAIN_HI_RES 0000 >", Reply: "< REP 4 AUDIO_GAIN_HI_RES 0000 >",
		RKind: "REP", RChannel: "4", RParam: "AUDIO_GAIN_HI_RES", RValue: "0000",
		Want: map[string]any{"channels": Channel("4", "gain_db", -110.0)}, Sim: &Setup{}},
	{Name: "gain maximum", Kind: "SET", Channel: "5", Param: "AUDIO_GAIN_HI_RES", Value: "1400",
		Request: "< SET 5 AUDIO_GAIN_HI_RES 1400 >", Reply: "< REP 5 AUDIO_GAIN_HI_RES 1400 >",
		RKind: "REP", RChannel: "5", RParam: "AUDIO_GAIN_HI_RES", RValue: "1400",
		Want: map[string]any{"channels": Channel("5", "gain_db", 30.0)}, Sim: &Setup{}},
	{Name: "gain query", Kind: "GET", Channel: "6", Param: "AUDIO_GAIN_HI_RES",
		Request: "< GET 6 AUDIO_GAIN_HI_RES >", Reply: "< REP 6 AUDIO_GAIN_HI_RES 1212 >",
		RKind: "REP", RChannel: "6", RParam: "AUDIO_GAIN_HI_RES", RValue: "1212",
		Want: map[string]any{"channels": Channel("6", "gain_db", 11.2)}, Sim: &Setup{Gain: map[int]int{6: 1212}}},
	{Name: "p300 gain +10 dB", Kind: "SET", Channel: "12", Param: "AUDIO_GAIN_HI_RES", Value: "1200",
		Request: "< SET 12 AUDIO_GAIN_HI_RES 1200 >", Reply: "< REP 12 AUDIO_GAIN_HI_RES 1200 >",
		RKind: "REP", RChannel: "12", RParam: "AUDIO_GAIN_HI_RES", RValue: "1200",
		Want: map[string]any{"channels": Channel("12", "gain_db", 10.0)}, Sim: &Setup{Model: "P300", Channels: 12}},

	// Presets: "Get/Set Preset", 1-10.
	{Name: "preset recall", Kind: "SET", Param: "PRESET", Value: "03",
		Request: "< SET PRESET 03 >", Reply: "< REP PRESET 03 >",
		RKind: "REP", RParam: "PRESET", RValue: "03", Want: map[string]any{"preset": 3}, Sim: &Setup{}},
	{Name: "preset recall 10", Kind: "SET", Param: "PRESET", Value: "10",
		Request: "< SET PRESET 10 >", Reply: "< REP PRESET 10 >",
		RKind: "REP", RParam: "PRESET", RValue: "10", Want: map[string]any{"preset": 10}, Sim: &Setup{}},
	{Name: "preset query", Kind: "GET", Param: "PRESET",
		Request: "< GET PRESET >", Reply: "< REP PRESET 07 >",
		RKind: "REP", RParam: "PRESET", RValue: "07", Want: map[string]any{"preset": 7}, Sim: &Setup{Preset: 7}},

	// Metering: "Set/Get Metering Rate", "< SAMPLE … >" 000-060.
	{Name: "meter rate 200", Kind: "SET", Param: "METER_RATE", Value: "00200",
		Request: "< SET METER_RATE 00200 >", Reply: "< REP METER_RATE 00200 >",
		RKind: "REP", RParam: "METER_RATE", RValue: "00200", Want: map[string]any{"meter_rate_ms": 200}, Sim: &Setup{}},
	{Name: "meter off", Kind: "SET", Param: "METER_RATE", Value: "00000",
		Request: "< SET METER_RATE 00000 >", Reply: "< REP METER_RATE 00000 >",
		RKind: "REP", RParam: "METER_RATE", RValue: "00000", Want: map[string]any{"meter_rate_ms": 0}, Sim: &Setup{}},
	{Name: "meter rate too fast", Kind: "SET", Param: "METER_RATE", Value: "00050",
		Request: "< SET METER_RATE 00050 >", Reply: "< REP ERR >", RKind: "REP", RParam: "ERR",
		Code: "device_error", Sim: &Setup{}},
	{Name: "sample", Reply: "< SAMPLE 060 045 000 030 >", RKind: "SAMPLE", Levels: []int{60, 45, 0, 30},
		Meter: map[string]float64{"1": 0, "2": -15, "3": -60, "4": -30}},
	{Name: "sample of nine", Reply: "< SAMPLE 001 002 003 004 005 006 007 008 059 >", RKind: "SAMPLE",
		Levels: []int{1, 2, 3, 4, 5, 6, 7, 8, 59},
		Meter:  map[string]float64{"1": -59, "2": -58, "3": -57, "4": -56, "5": -55, "6": -54, "7": -53, "8": -52, "9": -1}},

	// Model: "Get Model Number", 32 characters in braces.
	{Name: "model", Kind: "GET", Param: "MODEL", Request: "< GET MODEL >", Reply: "< REP MODEL " + Model("MXA910") + " >",
		RKind: "REP", RParam: "MODEL", RValue: Model("MXA910"), Want: map[string]any{"model": "MXA910"}, Sim: &Setup{}},
	{Name: "p300 model", Kind: "GET", Param: "MODEL", Request: "< GET MODEL >", Reply: "< REP MODEL " + Model("P300") + " >",
		RKind: "REP", RParam: "MODEL", RValue: Model("P300"), Want: map[string]any{"model": "P300"}, Sim: &Setup{Model: "P300"}},

	// Reports the device sends by itself.
	{Name: "unsolicited channel mute", Reply: "< REP 2 AUDIO_MUTE ON >",
		RKind: "REP", RChannel: "2", RParam: "AUDIO_MUTE", RValue: "ON", Want: map[string]any{"channels": Channel("2", "mute", true)}},
	{Name: "unsolicited report of another parameter", Reply: "< REP 1 AUTOMIX_GATE_OUT_EXT_SIG ON >",
		RKind: "REP", RChannel: "1", RParam: "AUTOMIX_GATE_OUT_EXT_SIG", RValue: "ON"},
	{Name: "lf between frames", Reply: "\r\n< REP DEVICE_AUDIO_MUTE OFF >\r\n",
		RKind: "REP", RParam: "DEVICE_AUDIO_MUTE", RValue: "OFF", Want: map[string]any{"mute": false}},

	// Error answers: "< REP ERR >".
	{Name: "channel the device lacks", Kind: "SET", Channel: "5", Param: "AUDIO_MUTE", Value: "ON",
		Request: "< SET 5 AUDIO_MUTE ON >", Reply: "< REP ERR >", RKind: "REP", RParam: "ERR",
		Code: "device_error", Sim: &Setup{Channels: 4}},
	{Name: "unknown parameter", Kind: "GET", Param: "NO_SUCH_THING", Request: "< GET NO_SUCH_THING >",
		Reply: "< REP ERR >", RKind: "REP", RParam: "ERR", Code: "device_error", Sim: &Setup{}},
	{Name: "preset out of range", Kind: "SET", Param: "PRESET", Value: "11", Request: "< SET PRESET 11 >",
		Reply: "< REP ERR >", RKind: "REP", RParam: "ERR", Code: "device_error", Sim: &Setup{}},
	{Name: "gain out of range", Kind: "SET", Channel: "1", Param: "AUDIO_GAIN_HI_RES", Value: "1500",
		Request: "< SET 1 AUDIO_GAIN_HI_RES 1500 >", Reply: "< REP ERR >", RKind: "REP", RParam: "ERR",
		Code: "device_error", Sim: &Setup{}},

	// Values that do not decode: the device is in step, the driver cannot use the value.
	{Name: "mute value unknown", Kind: "GET", Param: "DEVICE_AUDIO_MUTE", Request: "< GET DEVICE_AUDIO_MUTE >",
		Reply: "< REP DEVICE_AUDIO_MUTE MAYBE >", RKind: "REP", RParam: "DEVICE_AUDIO_MUTE", RValue: "MAYBE", Code: "device_error"},
	{Name: "gain above 1400", Kind: "GET", Channel: "1", Param: "AUDIO_GAIN_HI_RES", Request: "< GET 1 AUDIO_GAIN_HI_RES >",
		Reply: "< REP 1 AUDIO_GAIN_HI_RES 1401 >", RKind: "REP", RChannel: "1", RParam: "AUDIO_GAIN_HI_RES", RValue: "1401", Code: "device_error"},
	{Name: "gain not 4 digits", Kind: "GET", Channel: "1", Param: "AUDIO_GAIN_HI_RES", Request: "< GET 1 AUDIO_GAIN_HI_RES >",
		Reply: "< REP 1 AUDIO_GAIN_HI_RES 11 >", RKind: "REP", RChannel: "1", RParam: "AUDIO_GAIN_HI_RES", RValue: "11", Code: "device_error"},
	{Name: "preset not a number", Kind: "GET", Param: "PRESET", Request: "< GET PRESET >",
		Reply: "< REP PRESET X1 >", RKind: "REP", RParam: "PRESET", RValue: "X1", Code: "device_error"},

	// Garbled: no device should send these; the driver must reject them and reconnect.
	{Name: "byte outside a frame", Kind: "GET", Param: "PRESET", Request: "< GET PRESET >",
		Reply: "x< REP PRESET 01 >", Code: "device_error"},
	{Name: "lower-case kind", Kind: "GET", Param: "PRESET", Request: "< GET PRESET >",
		Reply: "< rep PRESET 01 >", Code: "device_error"},
	{Name: "unknown kind", Kind: "GET", Param: "PRESET", Request: "< GET PRESET >",
		Reply: "< ACK PRESET 01 >", Code: "device_error"},
	{Name: "empty frame", Kind: "GET", Param: "PRESET", Request: "< GET PRESET >", Reply: "< >", Code: "device_error"},
	{Name: "control byte", Kind: "GET", Param: "PRESET", Request: "< GET PRESET >", Reply: "< REP PRESET 0\x011 >", Code: "device_error"},
	{Name: "second open bracket", Kind: "GET", Param: "PRESET", Request: "< GET PRESET >",
		Reply: "< REP < REP PRESET 01 >", Code: "device_error"},
	{Name: "channel of three digits", Kind: "GET", Channel: "1", Param: "AUDIO_MUTE", Request: "< GET 1 AUDIO_MUTE >",
		Reply: "< REP 100 AUDIO_MUTE ON >", Code: "device_error"},
	{Name: "report without a parameter", Kind: "GET", Channel: "1", Param: "AUDIO_MUTE", Request: "< GET 1 AUDIO_MUTE >",
		Reply: "< REP 1 >", Code: "device_error"},
	{Name: "text after braces", Kind: "GET", Param: "MODEL", Request: "< GET MODEL >",
		Reply: "< REP MODEL {MXA910} x >", Code: "device_error"},
	{Name: "over-long frame", Kind: "GET", Param: "MODEL", Request: "< GET MODEL >",
		Reply: "< REP MODEL {" + strings.Repeat("x", 600) + "} >", Code: "device_error"},
	{Name: "error answer with a value", Kind: "GET", Param: "PRESET", Request: "< GET PRESET >",
		Reply: "< REP ERR 12 >", Code: "device_error"},
	{Name: "command from the device", Kind: "GET", Param: "PRESET", Request: "< GET PRESET >",
		Reply: "< SET PRESET 01 >", RKind: "SET", RParam: "PRESET", RValue: "01", Code: "device_error"},
	{Name: "sample level above 60", Reply: "< SAMPLE 061 >", Code: "device_error"},
	{Name: "sample not a number", Reply: "< SAMPLE 0a0 >", Code: "device_error"},
	{Name: "sample without levels", Reply: "< SAMPLE >", Code: "device_error"},
	{Name: "garbage", Kind: "GET", Param: "PRESET", Request: "< GET PRESET >", Reply: "\x00\x9b\x13zz<\x01>", Code: "device_error"},
}
