// Package visca drives Sony VISCA PTZ cameras (and the many cameras that copy the protocol)
// on an RS-232 line, over VISCA over IP (UDP 52381), and as bare VISCA on TCP (port 1259 of
// clone cameras).
//
// # Sources
//
// Facts were checked against Sony's manuals (the pages are cited as found online):
//
//   - Packet format, sockets, ACK z0 4y FF, completion z0 5y FF, the error messages z0 60 01
//     (length), 60 02 (syntax), 60 03 (buffer full), 6y 04 (cancelled), 6y 05 (no socket),
//     6y 41 (not executable), network change z0 38 FF: "VISCA Camera-Issued Messages" of the
//     EVI-D70 Technical Manual (https://www.manualsdir.com/manuals/459455/vaddio-sony-evi-d70-ptz-camera.html?page=38),
//     the EVI-D100 (https://azmanual.top/manuals/144564/sony-evi-d100.html?page=24) and the
//     BRC-Z700 (https://azmanual.top/manuals/459453/vaddio-sony-brc-z700.html?page=8).
//   - AddressSet 88 30 01 FF, IF_Clear 8x 01 00 01 FF (→ z0 50 FF) and its broadcast
//     88 01 00 01 FF (→ 88 01 00 01 FF), CAM_VersionInq 8x 09 00 02 FF → y0 50 GG GG HH HH
//     JJ JJ KK FF: "VISCA Device Setting Command" of the FCB-EV7500 Technical Manual
//     (https://manual.onestart.ai/manuals/Sony-fcb-ev7500-Technical-Manual-5668857?page=30);
//     model IDs from the BRC-300 (http://www.manualslib.com/manual/960952/Sony-Brc-300.html?page=6),
//     BRC-Z700 (https://www.manualsdir.com/manuals/459453/vaddio-sony-brc-z700.html?page=6) and
//     EVI-D80/D90 (https://www.manualowl.com/m/Sony/EVID90/Manual/374525?page=33) manuals. The
//     AddressSet reply 88 30 0w FF, w the next free address, is also in the Datavideo BC-80
//     manual (https://manualshive.com/en/manual/datavideo/bc-80/513261?page=36).
//   - Commands: CAM_Power 8x 01 04 00 02|03 FF, CAM_Zoom 8x 01 04 07 00|2p|3p FF and Direct
//     8x 01 04 47 0p 0q 0r 0s FF, Pan-tiltDrive 8x 01 06 01 VV WW 01-03 01-03 FF,
//     AbsolutePosition 8x 01 06 02 VV WW 0Y 0Y 0Y 0Y 0Z 0Z 0Z 0Z FF, Home 8x 01 06 04 FF,
//     CAM_Memory 8x 01 04 3F 00|01|02 pp FF: EVI-D70 command list
//     (https://www.manualowl.com/m/Sony/EVI-D70/Manual/297034?page=42) and the SRG-X400 command
//     list (https://easymanua.ls/sony/srg-x400/manual/36555?p=20: VV 01-18h, WW 01-17h).
//   - Inquiries: CAM_PowerInq y0 50 02 (on) | 03 (standby) FF, CAM_ZoomPosInq y0 50 0p 0q 0r
//     0s FF, Pan-tiltPosInq 8x 09 06 12 FF → y0 50 0w 0w 0w 0w 0z 0z 0z 0z FF (signed, 0 the
//     centre): EVI-D100 inquiry list (https://azmanual.top/manuals/144564/sony-evi-d100.html?page=30);
//     position reference values in the EVI-D70 manual
//     (https://azmanual.top/manuals/459455/vaddio-sony-evi-d70-ptz-camera.html?page=51).
//   - VISCA over IP: payload types 0100h command, 0110h inquiry, 0111h reply, 0120h device
//     setting, 0200h control, 0201h control reply; length 1-16; sequence number; control
//     RESET 01h (acknowledged 01h) sets the camera's number to 0; ERROR 0F 01 (sequence
//     number) and 0F 02 (message type); "Delivery confirmation": on a timeout send the message
//     again with the same sequence number, and what each answer then means: SRG-300H
//     Technical Manual (http://88.208.23.73:8080/en/manual/sony/srg300h/400108?page=31 and
//     https://manualshive.com/en/manual/sony/srg300h/400108?page=32). Camera address locked
//     to 1 and controller to 0, no broadcast, no AddressSet over IP: BRC-X400 Command List,
//     "Limitation" (https://manualslook.com/ko/manual/5709199/page-13).
//
// Not found in a manual, and modelled as the daisy-chain wiring implies: a packet for an
// address no camera has goes round the chain and comes back to the controller unchanged.
//
// # Transports
//
// The address of a device says how to reach it (the forms of drivers/transport):
//
//	host, host:port, tcp://host[:port]   bare VISCA on TCP, port 1259 by default
//	udp://host[:port]                    VISCA over IP, port 52381 by default
//	serial:/dev/ttyUSB0, /dev/ttyUSB0    RS-232, 9600 8N1 unless the options say otherwise
//
// On a serial line up to seven cameras are daisy-chained; each device of a room config names
// its camera with the option "camera" (1-7). The cameras of one process on the same device
// path share one open port, and one exchange runs on the line at a time. Before its first
// exchange, and again after a timeout, a garbled reply, a network change message or a
// packet that came back unanswered, the driver sets the line up: AddressSet (which tells how
// many cameras there are), then IF_Clear to all. Over IP the camera is always 1.
//
// A TCP connection or UDP link is opened by the first exchange and kept. When it fails after
// having worked (the camera closed it, was restarted), the driver opens it again and sends
// the message once more; every command it sends is idempotent. It does not retry after a
// timeout, a garbled reply or an error message.
//
// # Commands and completion
//
// A command is done at its completion, not its ACK: SetPower returns once the camera has
// started, RecallPreset, MoveTo, ZoomTo and Home once it is there. The first reply must come
// within Options.Timeout, the completion within Options.CompletionTimeout after the ACK, or
// sooner when the context says so. Replies on another socket than the command's ACK (late
// replies of a command given up on) are skipped.
//
// Over IP every message carries a sequence number, reset with RESET when a link is opened
// and whenever the camera refuses a number. When no reply comes within Options.Retransmit
// the message is sent again with the same number, up to Options.Retries times. Following
// Sony's table, an ERROR 0F 01 to a message sent again means the camera had it already: a
// command has been performed (its completion is still awaited if only its ACK was lost), an
// inquiry is asked again with a new number. After the ACK, a completion that does not come
// within CompletionTimeout is asked for by sending the command again once: 0F 01 then says
// it ran. Replies with another sequence number are skipped.
//
// # Errors
//
// Every error starts with "visca: " and names what failed. In the chain:
//
//   - connect, read and write failures, a camera missing from a serial line:
//     drivers.ErrUnreachable;
//   - no answer in time: context.DeadlineExceeded and drivers.ErrUnreachable, so
//     drivers.Code says "timeout" and the device counts as unreachable; a command accepted
//     (ACK) whose completion does not come in time: context.DeadlineExceeded only;
//   - error messages, as a *ReplyError: 60 02 syntax is drivers.ErrBadArgs (the camera does
//     not take the command or its parameters, such as a preset it does not have); 60 03
//     buffer full and 6y 41 not executable are drivers.ErrBusy; 60 01 length, 6y 04
//     cancelled and 6y 05 no socket are drivers.ErrDevice;
//   - VISCA over IP ERROR 0F 01 (when resetting did not help) and 0F 02, as a *ControlError:
//     drivers.ErrDevice;
//   - a reply that is not VISCA ("garbled reply") or a value that does not decode:
//     drivers.ErrDevice.
//
// "Not executable" is busy, not a device error: Sony returns it "when a command cannot be
// executed due to current conditions" (in standby, while starting up, with the menu shown,
// manual focus during autofocus), which pass; a panel may try again. This is how
// drivers/pjlink treats ERR3.
//
// # State
//
// Poll sends CAM_PowerInq, CAM_ZoomPosInq, Pan-tiltPosInq and CAM_VersionInq, and returns
// "power" ("on", "off"), "zoom" (0 wide … 4000h optical tele end on most models), "pan" and
// "tilt" (the camera's signed units, 0 the centre, negative left and down), "vendor" ("Sony"
// or the ID in hex) and "model" (the name of a known Sony model, else the ID in hex). An
// inquiry answered with a syntax error or not executable leaves its fields out without an
// error; any other error message or an answer that does not decode leaves them out and
// Poll returns the state together with an error wrapping drivers.ErrDevice. A transport
// failure, a timeout or a garbled reply end the poll with a nil state.
//
// # Options
//
// The driver registered as "visca" takes the options "camera" (1-7, default 1; 1 only over
// IP), the serial settings "baud", "data_bits", "parity" and "stop_bits" (serial addresses
// only), and "max_pan_speed" (1-18h, default 18h) and "max_tilt_speed" (1-17h, default 14h),
// the speeds Drive uses at ±1. Numbers are decimal or 0x-hex.
package visca
