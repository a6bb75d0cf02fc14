// Package escpos drives ESC/POS ticket printers (Epson TM series and the many printers that
// follow Epson's command set) on a raw TCP port (9100) or a serial line, for the queue
// kiosks of litigation service halls: it prints queue tickets with a QR code and reports
// paper, cover and error status.
//
// # Protocol
//
// The commands used are those of Epson's "ESC/POS Command Reference for TM Printers"
// (https://download4.epson.biz/sec_pubs/pos/reference_en/escpos/, e.g. gs_lparen_lk_fn167.html
// for the QR module size). The byte values and ranges were checked against the Epson pages
// and model specifications that print the same tables (TM-T81 and TM-T88/TM-T85 manuals:
// GS ( k <Function 165>, 167, 169, 180; GS V; the TM-U210 reference v10.01: <Function 181>,
// 182; TM-U295: DLE EOT), and against compatible printers' manuals (Bixolon SRP-350/F310,
// Sewoo, HPRT, CBM) for DLE EOT 1-4, which all give the same bits:
//
//   - ESC @ (1B 40) initialize; ESC a n (1B 61 n) justification, 0 left, 1 centre, 2
//     right; ESC E n (1B 45 n) emphasized on when bit 0 is 1; GS ! n (1D 21 n) character
//     size, bits 0-2 height and bits 4-6 width magnification minus one; LF (0A) print and
//     feed a line; ESC d n (1B 64 n) print and feed n lines.
//   - GS V m / GS V m n (1D 56): cut; m 0/48 full, 1/49 partial, 65/66 feed to the cutting
//     position plus n and cut full/partial. Tickets end with GS V 66 0, a form the TM-T88
//     and most compatible printers take.
//   - GS ( k pL pH cn fn … (1D 28 6B) with cn 49, QR Code: <Function 165> fn 65 select model
//     (n1 49 model 1, 50 model 2), <Function 167> fn 67 module size in dots, <Function 169>
//     fn 69 error correction 48-51 (L, M, Q, H), <Function 180> fn 80 m 48 store data
//     (pL+pH×256 = k+3, at most 7092), <Function 181> fn 81 m 48 print the stored symbol.
//   - DLE EOT n (10 04 n), real-time status, answered at once with one byte whose bits 1
//     and 4 are 1 and bits 0 and 7 are 0: n=1 printer status (bit 3 offline); n=2 offline
//     cause (bit 2 cover open, bit 3 feed button, bit 5 printing stopped at paper end, bit 6
//     error); n=3 error cause (bit 3 autocutter error, bit 5 unrecoverable error, bit 6
//     auto-recoverable error); n=4 roll paper sensor (bits 2-3 near end, bits 5-6 paper end).
//
// # Tickets
//
// Print lays out wire.PrintArgs as: ESC @; centred; the service in bold at 2×2; the number
// in bold at 4×4 (smaller when it would not fit the line); the time ("2006-01-02 15:04");
// the free lines, wrapped at the line width; the QR code of args.QR (model 2, error
// correction M, module 6 dots down to 3 for long data); then GS V 66 0, or ESC d 4 when
// args.Cut is false. Text goes through Layout.Encoding: "ascii" prints other characters as
// "?", "utf-8" sends them as they are (for printers set to UTF-8); control characters
// become spaces, so no text can smuggle a command in. QR data may not hold control
// characters (a DLE EOT inside it would be answered at once by many printers).
//
// Print asks for the status before sending anything and refuses (a *FaultError wrapping
// drivers.ErrDevice) when the paper is out, the cover open, an error is reported or the
// printer is offline; after sending it asks again, which returns once the printer has taken
// the ticket in (real-time commands are answered in order with the data before them). A
// ticket is sent at most once.
//
// # Connection
//
// A Printer keeps one connection (or serial port) open and reuses it. A status exchange
// that finds the connection dead is tried once more on a new one. After a failed connection
// attempt the next waits a backoff (200 ms doubling to 10 s); a call whose deadline is
// sooner than that fails at once with the last attempt's error. A timeout or a garbled
// status byte closes the connection, so a late answer cannot be taken for the next.
//
// # Errors
//
// Every error starts with "escpos: " and names what failed. In the chain: connect, read and
// write failures drivers.ErrUnreachable; no answer before the deadline (the context's, or
// Options.Timeout) context.DeadlineExceeded and drivers.ErrUnreachable; a status byte whose
// fixed bits are wrong ("garbled reply") drivers.ErrDevice; a printer that cannot print a
// *FaultError (drivers.ErrDevice); bad options or args drivers.ErrBadArgs.
//
// # State
//
// Poll sends DLE EOT 1, 2, 3 and 4 in one write and returns
//
//	{"paper": "ok"|"near_end"|"out", "cover": "closed"|"open", "online": bool,
//	 "error": "none"|"cutter"|"unrecoverable"|"recoverable"|"unknown"}
//
// together with a *FaultError when the printer cannot print (paper out, cover open, an
// error, offline), so the agent shows it reachable with the fault as its error.
package escpos
