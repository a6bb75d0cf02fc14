// Package samsungmdc drives Samsung displays (LFD, signage, video-wall panels) that speak
// Samsung's Multiple Display Control protocol (MDC) over TCP (port 1515) or an RS-232 line
// (9600 8N1, daisy-chained displays told apart by their display ID).
//
// # Sources
//
// The protocol document is Samsung's "Multiple Display Control Protocol" (SEC-VD-DSW, "MDC
// 0008"); version 2.1 of 2008-06-26 (SyncMaster 320MX/400MX/460CX, P50F/P63F) is public, later
// versions ship as the "RS232C / MDC" chapter of each display's user manual. What this package
// relies on, and where it was checked:
//
//   - Frame "AA cmd id len data… cs", cs the sum of every byte after AA, mod 256; ACK
//     "AA FF id len 'A' r-cmd val… cs", NAK "AA FF id 03 'N' r-cmd err cs": MDC 0008 v2.1 §1–2
//     and every manual's command pages (e.g. QM43B-T user manual p. 43, PM49F p. 24). The
//     checksum covers the ACK's FF too: worked examples "AA 11 01 01 01 14" (PROTOCOLS.md) and
//     "AA FF 00 03 41 F9 00 3C" (PlaceOS/drivers issue #87) agree.
//   - ID FE is broadcast: every display acts and none answers (MDC 0008 v2.1 p. 5).
//     RS-232 is 9600 bps, 8 data bits, no parity, 1 stop bit, no flow control (same, table 2-1).
//   - Power 0x11 (0 off, 1 on), volume 0x12 (0–100), input source 0x14: QM43B-T p. 43,
//     PM49F p. 24, ME95C p. 37, UD55C p. 34, 400MX p. 34 (the get is the command with no data,
//     the set has one data byte, the ACK echoes the value).
//   - Input source codes confirmed by those manuals: 0x14 PC, 0x1E BNC, 0x18 DVI, 0x0C AV,
//     0x04 S-Video, 0x08 Component, 0x20 MagicInfo, 0x1F DVI_video, 0x30 RF(TV), 0x40 DTV,
//     0x21 HDMI1, 0x22 HDMI1_PC, 0x23 HDMI2, 0x24 HDMI2_PC, 0x25 DisplayPort, 0x31 HDMI3,
//     0x32 HDMI3_PC (ME95C), 0x60 MagicInfo on newer models (EB40D p. 32). DVI_video and the
//     *_PC codes are "Get only": SetInput refuses them.
//
// Unconfirmed (taken from open-source implementations citing "MDC Protocol v15.0
// 2020-11-06", chiefly python-samsung-mdc, and not checked against a Samsung page):
//
//   - Mute 0x13 with 0 off, 1 on.
//   - Status inquiry 0x00 (no data) answered with seven values: power, volume, mute, input
//     source, picture aspect, N-time NF, F-time NF. Poll reads the first five and accepts more.
//
// A second search (2026-11) found Samsung's full protocol document in two later versions,
// "SEC-VD-DSW Multiple Display Control Protocol" ver. 13.7c (2016-02-23) and ver. 14.1c
// (2017-04-20), whose tables of contents name "0x00 Status Control" among the commands, but
// not the pages of the mute and status commands themselves; the command tables of two user
// manuals (ME75B §1.6.3, SBB-SS08EL1 p. 23) list only power, volume, input, screen mode and
// size, PIP, auto adjustment, video wall and safety lock. So mute and the status layout stay
// unconfirmed, and some models may not take them: which is why Poll falls back to one
// command at a time when the status inquiry is refused.
//   - Input codes 0x0D AV2, 0x0E SCART, 0x26 DisplayPort 2, 0x27 DisplayPort 3, 0x33 HDMI4,
//     0x34 HDMI4_PC, 0x50 plug-in module, 0x55 HDBaseT, 0x61 screen mirroring, 0x62 internal
//     USB, 0x63 URL launcher, 0x64 whiteboard.
//   - The TCP port 1515 (every implementation uses it; Samsung manuals say only "MDC over LAN").
//
// Not documented anywhere found: the meaning of NAK error codes (the manuals say only "ERR: a
// code showing what error has occurred"). A NAK is therefore a *NakError that carries its
// code and unwraps to drivers.ErrDevice, whatever the code.
//
// Not supported: MDC "Secured Protocol" (TLS on port 1515 with a 4-digit PIN, offered by
// displays of about 2020 on; python-samsung-mdc implements it). This driver speaks plain MDC:
// turn the secured protocol off on the display. A display in "network standby off" does not
// answer over TCP while in standby, which shows as unreachable.
//
// # Display ID
//
// Options.ID (room option "id", 0–254, decimal or 0x-hex, default 0) addresses one display;
// the answer must come from that ID. ID 254 (0xFE) is broadcast: set commands are sent and
// not answered, and Poll cannot read the displays (see Poll).
//
// # Volume and gain
//
// MDC volume is a level 0–100 with no stated relation to decibels. The gain action maps onto
// it linearly with 0 dB as full volume: level = 100 + dB, so −30 dB is level 70 and −100 dB
// (or anything lower) is level 0. A positive gain is drivers.ErrBadArgs: a display cannot go
// above its full volume. Poll reports both "volume" (the level) and "gain_db" (level − 100).
// SetVolume sets the level directly.
//
// # Connection
//
// A Display keeps one link (TCP connection or serial port) open and reuses it. When a write
// or read fails on it, the Display dials again and sends the frame once more (every command
// used here is idempotent). It does not retry after a timeout or a garbled answer: it closes
// the link, and the next exchange opens a new one; on a serial line it first discards what
// the line still holds, so a late answer cannot be taken for the next one.
//
// # Errors
//
// Every error starts with "samsungmdc: " and names what failed. In the chain:
//
//   - dial, write and read failures: drivers.ErrUnreachable;
//   - no answer before the deadline (the context's, or Options.Timeout when sooner):
//     context.DeadlineExceeded and drivers.ErrUnreachable (contract code "timeout");
//   - a NAK: *NakError, drivers.ErrDevice;
//   - an answer that is not MDC, from another display, for another command, or with a bad
//     checksum ("garbled answer"), and a value that does not decode: drivers.ErrDevice;
//   - arguments outside what the protocol takes (unknown input, channel, positive gain):
//     drivers.ErrBadArgs, and nothing is sent.
//
// # State
//
// Poll sends the status inquiry (0x00) and returns "power" ("on"/"off"), "volume" (0–100),
// "gain_db", "mute" (bool), "input" (a name of InputNames, or "0x7f" for a code it does not
// know) and "aspect" (the raw picture-aspect code, "0x10"). A value that does not decode is
// left out and Poll returns the state with an error wrapping drivers.ErrDevice. When the
// display NAKs the status inquiry (some models refuse it in standby), Poll asks power (0x11),
// volume (0x12), mute (0x13) and input (0x14) one by one and leaves out what is refused; it
// fails only when all four are refused. With the broadcast ID, Poll opens the link (so an
// unreachable line still shows) and returns {"broadcast": true} with the values last set
// through this Display, which are what was sent, not what the displays report.
package samsungmdc
