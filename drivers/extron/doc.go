// Package extron drives Extron matrix switchers (CrossPoint, MAV, DXP, XTP CrossPoint, FOX
// Matrix, …) through SIS, Extron's Simple Instruction Set, over Telnet/TCP (port 23) or an
// RS-232 line (9600 8N1).
//
// # Sources
//
// Extron publishes SIS in each product's user guide ("Programmer's Guide" / "SIS
// Configuration and Control"). What this package relies on, and where it was checked:
//
//   - Ties: "X*Y!" audio and video, "X*Y%" video, "X*Y&" RGB (= video), "X*Y$" audio, answered
//     "OutY InX All", "… Vid", "… RGB", "… Aud"; "X*!" / "X*%" / "X*$" tie an input to every
//     output, answered "InX All" / "InX Vid" / "InX Aud"; input 0 unties. Numbers may be sent
//     with 1–3 digits and come back padded to 2 or 3. Commands may be sent back to back with
//     no separator. (MAV 44/48/84/88 user manual §4 "Command/response table for SIS
//     commands", example "1*3! Out3 In1 All"; CrossPoint 300 programmer's guide p. 4-7,
//     "Out03 In01 All"; Matrix 12800 user guide p. 4-8, "Out003 In001 All".)
//   - Reading ties: "Y%" (video) and "Y$" (audio) answer the input tied to output Y, "00"
//     when none (CrossPoint 450 Plus / MAV Plus user guide p. 4-15: "7%" → "02", "3$" → "06").
//   - Information: "I" → "V16X16 A16X16 Exe0" (CrossPoint Plus p. 4-7) or "V12X8 A12X8" (XTP
//     II CrossPoint p. 36), the video and audio matrix sizes; "N" → the part number
//     ("N60-332-06" or "60-nnnn-nn"); "Q" → the firmware version ("Ver2.00" or "1.23").
//   - Error answers (CrossPoint 300 p. 4-5, MTPX Plus p. 4-7, FOX3 Matrix p. 33): E01
//     invalid input number, E10 invalid command, E11 invalid preset, E12 invalid output
//     number, E13 invalid value, E14 invalid for this configuration, E17 timeout, E18 invalid
//     for this signal type, E21 invalid room, E22 busy, E24 privilege violation, E25 device not
//     present, E26 too many connections, E27 invalid event, E28 bad file name.
//   - Connecting over IP (FOX Matrix 3200/7200 and CrossPoint 450 Plus "Switcher-initiated
//     messages"): the switcher sends "(c) Copyright 20yy, Extron Electronics, <model>, Vx.xx,
//     60-nnnn-nn" and, on the LAN port, the day, date and time; a password-protected switcher
//     then sends "Password:" and repeats it for every wrong entry; a right one gets "Login
//     Administrator" or "Login User". Front-panel events arrive unasked ("Qik", "Spr",
//     "Rpr", "Vmt", "Amt", "Exe", …). Replies end in CR LF.
//
// Unconfirmed: whether the date comes on the copyright line or a line of its own, and
// whether "Password:" ends in CR LF (the driver takes both); Telnet option negotiation (the
// driver drops any IAC sequence and answers none); the answer of a video-only model to an
// audio tie (the simulator says E14); "Y!" as a tie query (not used).
//
// # Routes
//
// Route takes an input number (0 unties), an output number or "all", and a kind: "av" (or
// ""), "video" or "audio". With known matrix sizes (Options, or learned by Poll), numbers
// out of range are drivers.ErrBadArgs and nothing is sent. The switcher's answer must echo
// the tie; an answer for another output, input or kind is a garbled answer.
//
// # Password
//
// Options.Password (room option "password") is sent when a switcher reached over TCP asks
// for it. With a password set, the driver reads the greeting of each new connection and waits
// for the prompt until the line has been quiet for a moment; without one it sends at once and
// a prompt is ErrAuth. A refused password is ErrAuth too and is not retried. The password is
// never logged.
//
// # Connection
//
// A Switcher keeps one link (TCP connection or serial port) open and reuses it, and sends
// the queries of a poll back to back, 16 at a time, in one write. When a write or read fails
// on the link, it opens a new one and sends the commands once more (ties and queries are
// idempotent). It does not retry after a timeout, a garbled answer or a refused password:
// it closes the link, and the next exchange opens a new one; on a serial line it first
// discards what the line still holds. Lines the switcher sends unasked (the greeting,
// front-panel events, empty lines) are skipped.
//
// # Errors
//
// Every error starts with "extron: " and names what failed. In the chain:
//
//   - dial, write and read failures: drivers.ErrUnreachable;
//   - no answer before the deadline (the context's, or Options.Timeout when sooner):
//     context.DeadlineExceeded and drivers.ErrUnreachable (contract code "timeout");
//   - an E-code: *SISError, unwrapping to drivers.ErrBadArgs (E01, E11, E12, E13, E21, E27,
//     E28), drivers.ErrUnsupported (E10, E14, E18), drivers.ErrBusy (E22, E26) or
//     drivers.ErrDevice (the rest);
//   - a refused or missing password: ErrAuth (drivers.ErrDevice);
//   - an answer that is not SIS, or not the answer to the command sent ("garbled answer"):
//     drivers.ErrDevice.
//
// # State
//
// Poll sends "I", "N" and "Q", then reads the video and audio tie of every output, and
// returns "outputs" and "inputs" (the video matrix size; "inputs" only when known), "video"
// and "audio" (output number → input number, 0 for none, as {"1": 3, "2": 0}),
// "part_number", "firmware", and "model" when a greeting named it. "audio" is left out when
// the switcher has no audio matrix (the "I" answer says none, or it refuses audio queries
// with E10, E14 or E18). Options.Inputs and Options.Outputs (room options "inputs",
// "outputs") replace the size "I" reports, for switchers that do not answer it. An E-code
// answering a tie query leaves that output out and Poll then returns the state with an error
// wrapping drivers.ErrDevice; a transport failure, a timeout, a garbled answer or a refused
// password end the poll with a nil state.
package extron
