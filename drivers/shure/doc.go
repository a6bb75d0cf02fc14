// Package shure drives Shure networked audio devices that speak Shure command strings over
// TCP port 2202: MXA910, MXA920, MXA710 and MXA310 microphone arrays and the P300 IntelliMix
// audio conferencing processor.
//
// # Protocol
//
// Shure publishes one command-string document per product at
// https://pubs.shure.com/command-strings/<product>/en-US (MXA910, MXA920, MXA710, P300, …);
// all describe the same ASCII protocol, with no framing but the brackets and no
// authentication. Sources read for this driver (copies of the Shure PDFs on easymanua.ls,
// manuzoid.com and wixlib.com, and pubs.shure.com pages), and what each confirmed:
//
//   - "MXA910 Command Strings" (2017-10, and the later MXA910 user guide appendix):
//     "< GET|SET x AUDIO_MUTE ON|OFF|TOGGLE >" → "< REP x AUDIO_MUTE ON|OFF >" with x 0-9;
//     "< SET DEVICE_AUDIO_MUTE ON|OFF|TOGGLE >" → "< REP DEVICE_AUDIO_MUTE … >" (device mute,
//     post-meter: the mute button's); "< SET x AUDIO_GAIN_HI_RES yyyy >" with yyyy 0000-1400
//     in tenths of a dB, and "INC nn" / "DEC nn"; "< SET METER_RATE sssss >" in ms, 0 off,
//     100 minimum, 99999 maximum, off by default, answered "< REP METER_RATE sssss >" then
//     "< SAMPLE aaa bbb … >" with levels 000-060; "< SET PRESET nn >" (1-10, leading zero
//     optional) → "< REP PRESET nn >"; "< GET MODEL >" → 32 characters in braces;
//     "< GET x ALL >" answered by one REP per parameter.
//   - "MXA710 Command Strings": the AUDIO_GAIN_HI_RES value is tenths of a dB offset by 1100
//     (0 dB = 1100, 1400 = +30.0 dB, 0 the bottom of the range, which the document gives as
//     -109.9 dB; this driver takes -110.0…+30.0), and "< REP ERR >" is listed with each
//     parameter as the device's answer to a command it does not accept.
//   - "P300 Command Strings" (version 3.1-3.5, 2021): channels are two digits, 00 all,
//     01-08 Dante inputs with mic processing, 09-10 Dante, 11-12 analog, 13 USB and 14
//     mobile inputs, 15-20 and 23-28 outputs, 21 automixer, 22 AEC reference; same
//     AUDIO_MUTE, AUDIO_GAIN_HI_RES, PRESET and metering strings.
//   - The conventions page of every product (e.g. .../command-strings/MXA-MUTE/en-US):
//     GET and SET are answered by REP, REP is also sent by the device whenever a parameter
//     changes, SAMPLE carries meter levels.
//
// The documents give the meter range (000-060) but no unit or reference; this driver
// assumes 060 is full scale and reports level-60 dBFS (to be checked against a device).
// A second search (2026-11) of the MXA910 command strings (2017-10, SAMPLE,
// AUDIO_IN_PEAK_LVL and AUDIO_IN_RMS_LVL: "000-060"), the MXA710 and P300 command strings
// and the ANIUSB-Matrix guide found no more: the unit is still unconfirmed.
// There is no command to store a preset, so StorePreset is drivers.ErrUnsupported.
// The MXA arrays write a channel "x" (one digit), the P300 "xx" (two): Options.Model.
//
// # Connection
//
// Because the device talks without being asked, a Device keeps one connection with a reader
// goroutine that dispatches every message: a SAMPLE goes to Options.Notify.Meter as
// {"1": dBFS, "2": …}; a REP updates the state, completes the exchange waiting for it, and
// otherwise, once the device has been polled, goes to Options.Notify.State with the whole
// state. The goroutine starts at the first exchange (New and the registered factory never
// touch the network), turns metering on for every new connection, and when the connection
// drops dials again after a backoff (100 ms doubling to 10 s; at once when an exchange is
// waiting). A connection that sends nothing for ten meter periods (3 s at least) while
// metering is on counts as dropped. Close stops the goroutine.
//
// An exchange that loses its connection is sent once more on a new one (every command sent
// is idempotent). A timeout drops the connection, so a late answer cannot be taken for the
// next command's.
//
// # Errors
//
// Every error starts with "shure: " and names what failed. In the chain: connection and
// I/O failures drivers.ErrUnreachable; no answer before the deadline (the context's or
// Options.Timeout) context.DeadlineExceeded and drivers.ErrUnreachable; "< REP ERR >" a
// *ReplyError wrapping drivers.ErrDevice; bytes that are not command strings ("garbled
// reply") and reports whose value does not decode drivers.ErrDevice; bad arguments
// (an unknown channel, a gain out of range, preset 0 or 11) drivers.ErrBadArgs before
// anything is sent.
//
// # State
//
// Poll sends "< GET DEVICE_AUDIO_MUTE >", "< GET PRESET >", "< GET MODEL >" and, for each
// channel 1…Options.Channels, "< GET x AUDIO_MUTE >" and "< GET x AUDIO_GAIN_HI_RES >", and
// returns
//
//	{"mute": bool, "preset": int, "model": "MXA910", "meter_rate_ms": 200,
//	 "channels": {"1": {"mute": bool, "gain_db": -3.5}, …}}
//
// with channels named "1", "2", … whatever the model writes ("01" on a P300). Reports of
// other channels that arrived since are included too.
package shure
