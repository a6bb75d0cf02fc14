// Package pjlink drives projectors and displays that speak PJLink class 1 over TCP (port 4352).
//
// The protocol document is the JBMIA "PJLink Specifications", class 1, version 1.04
// (2013-12-10) or later; class 2 devices (version 2.x) answer class 1 too. Sections used:
//
//   - §2 Command Format: command line "%1CMND param\r", response line "%1CMND=resp\r",
//     set commands answering "OK" or ERR1 (undefined command), ERR2 (out of parameter),
//     ERR3 (unavailable time), ERR4 (projector/display failure); a line is at most 136 bytes.
//   - §3 Protocol: one TCP connection, the projector speaks first (the greeting).
//   - §4.1–§4.14 Command Descriptions: POWR, POWR?, INPT, INPT?, AVMT, AVMT?, ERST?, LAMP?,
//     INST?, NAME?, INF1?, INF2?, INFO?, CLSS?.
//   - §5 Authentication: greeting "PJLINK 1 <random>" asks for md5hex(random+password) in front
//     of the first command of the connection; "PJLINK 0" means none; "PJLINK ERRA" refuses it.
//     §5.3 allows more commands on the same connection; §5.4 lets the projector close a
//     connection that stays idle (30 s on most models).
//
// # Connection
//
// A Projector keeps one connection open and reuses it. When a write or a read fails on it
// (the projector closed it while idle, say), the Projector dials again and sends the request
// once more; every PJLink set command is idempotent, so the retry is safe. It does not retry
// after a timeout, a garbled reply or a refused password.
//
// # Errors
//
// Every error starts with "pjlink: " and names what failed. In the chain:
//
//   - dial, write and read failures: drivers.ErrUnreachable;
//   - no answer before the deadline (the context's, or Options.Timeout when the context has
//     none sooner): context.DeadlineExceeded and drivers.ErrUnreachable, so drivers.Code says
//     "timeout" and the device counts as unreachable;
//   - ERR1 drivers.ErrUnsupported, ERR2 drivers.ErrBadArgs, ERR3 drivers.ErrBusy,
//     ERR4 drivers.ErrDevice, each as a *ReplyError;
//   - a reply that is not PJLink ("garbled reply"), a refused password (ErrAuth) and a fault
//     reported by ERST: drivers.ErrDevice.
//
// # State
//
// Poll sends POWR?, INPT?, AVMT?, LAMP?, ERST?, INST?, NAME?, INF1?, INF2?, INFO? and CLSS?
// and returns "power" (off, on, cooling, warming), "input" ("31"), "video_mute" and
// "audio_mute" (bools), "lamps" ([{"hours":N,"on":bool}]), "errors" (fan, lamp, temperature,
// cover, filter, other → ok, warning or error), "inputs" (["11","31"]), "name",
// "manufacturer", "model", "info" and "class". A query answered ERR1, ERR2 or ERR3 (INPT? and
// AVMT? while the projector is off, LAMP? on a lampless display) leaves its fields out
// without an error. ERR4, a value that does not decode and an ERST digit 2 ("error") also
// leave the field out (ERST's "errors" is kept) but Poll then returns the state together with
// an error wrapping drivers.ErrDevice that names them, so the agent publishes the device as
// reachable with the error text. A transport failure, a timeout, a garbled frame or a refused
// password end the poll with a nil state.
package pjlink
