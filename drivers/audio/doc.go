// Package audio drives microphones and line inputs: driver "audio". An input is a Source —
// a sound card's capture device through miniaudio (github.com/gen2brain/malgo, cgo), a WAV
// file, or a synthetic test signal — whose frames get a digital gain and a mute, are metered,
// and go on to the media path (Opus → WHIP) through Input.Output.
//
// Documents: miniaudio 0.11 (https://miniaud.io/docs/manual/), sections "Devices", "Data
// Formats" and "Backends" (the ma_backend enum, whose values the backend option maps to:
// malgo 0.11.24's BackendNull is miniaudio's custom backend, see backends in malgo.go); the
// Microsoft/IBM "Multimedia Programming Interface and Data Specifications 1.0" (1991): the
// RIFF chapter (chunks, padding to even sizes) and the WAVE form (fmt, data, fact chunks);
// the WAVEFORMATEXTENSIBLE structure (Microsoft Learn; mmreg.h, ksmedia.h) for the 40-byte
// fmt chunk and its KSDATAFORMAT_SUBTYPE_PCM and _IEEE_FLOAT GUIDs.
//
// # Builds
//
// The sound card is C: OpenCapture and CaptureDevices are in files built with cgo only. The
// hub is built with CGO_ENABLED=0 and links every driver, so without cgo the package still
// builds and registers "audio", with the WAV and synthetic sources; source malgo is then an
// error that says why (ErrNoCgo, code unsupported), from the factory, so a room config
// asking for it fails when the agent starts rather than at the first poll.
//
// # Options
//
//	source         malgo (default), wav, tone, noise or speech
//	device         malgo: capture device ID, name, or a part of a name no other device has
//	               (case-insensitive); "" is the backend's default device
//	backend        malgo: pulse (or pulseaudio), alsa, jack, null on Linux (wasapi, coreaudio,
//	               oss, … elsewhere); "" tries the platform's order. CI uses null: one
//	               device, "NULL Capture Device", that captures silence
//	channels       1…8; malgo and synthetic default 1; wav: the file's (if set, must match)
//	sample_rate    8000…192000 Hz; default 48000; wav: as channels
//	sample_format  malgo: s16 or f32 (default), asked of the device; frames are float32 anyway
//	file           wav: the file; 16-bit PCM or 32-bit float, mono to 8 channels
//	loop           wav: true to start over at the end; default false (the input then "ends")
//	meter_rate_ms  the metering window and publishing period, 10…60000; default 200; 0: no meters
//
// Options that do not apply to the source are ignored, so a room config can switch a device
// to a test file and back without deleting its device line; unknown keys and bad values are
// drivers.ErrBadArgs. The device has no address (config form "none").
//
// # Levels
//
// Each window of meter_rate_ms of audio (counted in samples, so the rate follows the
// source's clock) gives one Notifier.Meter call with, for each channel n = 1, 2, …, the
// keys "n" — RMS level — and "n/peak" — largest sample magnitude — in dBFS, rounded to
// 0.01 dB. The agent publishes them as "<device>/1", "<device>/1/peak", …. Both are relative
// to full scale 1, so a full-scale sine reads −3.01 dBFS RMS and 0 dBFS peak; silence and
// anything below −120 dBFS read Floor (−120). The levels are measured after gain and mute.
// Poll carries the last window's levels too.
//
// # Mute and gain
//
// An input has one mute and one gain for all its channels (channel "" only; per-channel
// control belongs to a DSP). Muting replaces the samples by zeros: the meters read Floor,
// the state says muted, and the media path gets digital silence for the same duration — not
// a gap, so RTP timestamps, the recorder's timeline and lip sync stay intact, and Opus
// codes the silence in a few bytes. Gain is digital, −60…+40 dB, applied before metering;
// a sample it takes past full scale is clipped.
//
// # Sources and pacing
//
// A WAV file or a synthetic signal is delivered by a clock-driven reader in chunks of
// FrameDuration (10 ms) at real-time pace, counted from the start so it does not drift; after
// a stall longer than half a second it skips ahead instead of bursting. A sound card paces
// itself (miniaudio's period is set to 10 ms).
//
// The WAV parser (ParseWAV) is strict: "RIFF" (not RIFX, RF64), form "WAVE", a RIFF size
// that matches the file exactly, chunks that tile it exactly (ids of printable ASCII, odd
// sizes padded), one fmt chunk (16, 18 with cbSize 0, or 40 bytes as WAVE_FORMAT_EXTENSIBLE
// with cbSize 22, valid bits equal to the container, a channel mask of no more speakers than
// channels and a KSDATAFORMAT_SUBTYPE GUID) giving 16-bit PCM or 32-bit IEEE float, 1…8
// channels, 8000…192000 Hz, a block align and byte rate that agree with them; then one
// non-empty data chunk of whole sample frames. Other chunks (LIST, fact, …) are skipped.
// Float samples are clamped to ±1 and NaN read as 0.
//
// # State
//
// Poll returns "status" (starting, running, failed, ended), "source", "muted", "gain_db",
// "sample_rate", "channels", "levels" and, by source: malgo "backend", "device" (the name
// of the device opened), "device_id", "sample_format"; wav "file", "loop",
// "sample_format", "duration_s"; synthetic "signal".
//
// # Errors
//
// Every error starts with "audio: ". The source is opened by the first Poll (or action) and
// reopened after a failure with a backoff from 0.5 s doubling up to 30 s; meanwhile Poll
// returns the state with the failure: a capture device or file that is not there, a backend
// that does not start, a device that stops by itself (unplugged) wrap drivers.ErrUnreachable
// (ErrNoDevice for a device not found); a file that is not one this package reads, or in
// another format than the options ask, drivers.ErrDevice (ErrBadWAV). The first failure of a
// run sends a "fault" event; running again sends the state. A file that does not loop ends
// with status "ended", without error.
package audio
