package escpos

import (
	"bytes"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/bailiff/bailiff/drivers"
	"github.com/bailiff/bailiff/internal/wire"
)

// Control codes.
const (
	LF  = 0x0A
	DLE = 0x10
	EOT = 0x04
	ESC = 0x1B
	GS  = 0x1D
)

// Real-time status requests, DLE EOT n.
const (
	StatusPrinter = 1 // printer status: online/offline
	StatusOffline = 2 // offline cause: cover, paper-end stop, error
	StatusError   = 3 // error cause: autocutter, unrecoverable, auto-recoverable
	StatusPaper   = 4 // roll paper sensors: near end, end
)

// StatusRequest returns DLE EOT n.
func StatusRequest(n byte) []byte { return []byte{DLE, EOT, n} }

// statusAll is the four requests Poll sends in one write.
var statusAll = []byte{DLE, EOT, 1, DLE, EOT, 2, DLE, EOT, 3, DLE, EOT, 4}

// Bits of the status bytes (Epson ESC/POS reference, DLE EOT).
const (
	fixedMask = 0x93 // bits 0, 1, 4, 7
	fixedBits = 0x12 // bit 1 and bit 4 are 1, bits 0 and 7 are 0

	bitOffline     = 0x08 // n=1 bit 3
	bitCoverOpen   = 0x04 // n=2 bit 2
	bitFeedButton  = 0x08 // n=2 bit 3
	bitPaperStop   = 0x20 // n=2 bit 5: printing stopped at paper end
	bitErrorFlag   = 0x40 // n=2 bit 6
	bitCutter      = 0x08 // n=3 bit 3
	bitUnrecovered = 0x20 // n=3 bit 5
	bitAutoRecover = 0x40 // n=3 bit 6
	bitsNearEnd    = 0x0C // n=4 bits 2-3
	bitsPaperEnd   = 0x60 // n=4 bits 5-6
)

// Status is the printer's state as the four real-time status bytes tell it.
type Status struct {
	Online    bool
	CoverOpen bool
	PaperOut  bool // paper end sensor, or printing stopped at paper end
	NearEnd   bool
	Cutter    bool // autocutter error
	Fatal     bool // unrecoverable error
	Recover   bool // auto-recoverable error (head too hot, cover opened while printing)
	ErrorFlag bool // "error occurred" of the offline status
}

// decodeStatus applies the answer b to DLE EOT n to st. A byte whose fixed bits are wrong
// is a garbled reply.
func decodeStatus(n, b byte, st *Status) error {
	if b&fixedMask != fixedBits {
		return garbled(b, n)
	}
	switch n {
	case StatusPrinter:
		st.Online = b&bitOffline == 0
	case StatusOffline:
		st.CoverOpen = b&bitCoverOpen != 0
		st.PaperOut = st.PaperOut || b&bitPaperStop != 0
		st.ErrorFlag = b&bitErrorFlag != 0
	case StatusError:
		st.Cutter = b&bitCutter != 0
		st.Fatal = b&bitUnrecovered != 0
		st.Recover = b&bitAutoRecover != 0
	case StatusPaper:
		st.NearEnd = b&bitsNearEnd != 0
		st.PaperOut = st.PaperOut || b&bitsPaperEnd != 0
	default:
		return fmt.Errorf("no status %d: %w", n, drivers.ErrBadArgs)
	}
	return nil
}

// Paper returns "ok", "near_end" or "out".
func (st Status) Paper() string {
	switch {
	case st.PaperOut:
		return "out"
	case st.NearEnd:
		return "near_end"
	}
	return "ok"
}

// Errors lists the errors the printer reports: "cutter", "unrecoverable", "recoverable";
// "unknown" when only the offline status's error flag is set.
func (st Status) Errors() []string {
	var out []string
	if st.Cutter {
		out = append(out, "cutter")
	}
	if st.Fatal {
		out = append(out, "unrecoverable")
	}
	if st.Recover {
		out = append(out, "recoverable")
	}
	if len(out) == 0 && st.ErrorFlag {
		out = append(out, "unknown")
	}
	return out
}

// State returns the state Poll publishes:
//
//	{"paper": "ok"|"near_end"|"out", "cover": "closed"|"open", "online": bool,
//	 "error": "none"|"cutter"|"unrecoverable"|"recoverable"|"unknown" (several joined by ",")}
func (st Status) State() drivers.State {
	cover := "closed"
	if st.CoverOpen {
		cover = "open"
	}
	errs := "none"
	if e := st.Errors(); len(e) > 0 {
		errs = strings.Join(e, ",")
	}
	return drivers.State{"paper": st.Paper(), "cover": cover, "online": st.Online, "error": errs}
}

// Faults lists what keeps the printer from printing a ticket; nil when it can. Paper near
// its end is no fault.
func (st Status) Faults() []string {
	var out []string
	if st.PaperOut {
		out = append(out, "paper out")
	}
	if st.CoverOpen {
		out = append(out, "cover open")
	}
	for _, e := range st.Errors() {
		out = append(out, e+" error")
	}
	if !st.Online && len(out) == 0 {
		out = append(out, "offline")
	}
	return out
}

// Layout is how a ticket is laid out.
type Layout struct {
	Width    int    // characters per line of the normal font; 48 on 80 mm paper, 32 on 58 mm
	Encoding string // "ascii" (non-ASCII printed as "?") or "utf-8" (sent as it is)
}

// Layout limits.
const (
	DefaultWidth = 48
	MinWidth     = 16
	MaxWidth     = 96
	// MaxQR is the most data GS ( k <Function 180> stores: (pL + pH×256) ≤ 7092, minus 3.
	MaxQR = 7089
	// maxLineBytes bounds one free line before wrapping (a guard against huge args).
	maxLineBytes = 4096
)

// Commands the ticket is made of (Epson ESC/POS command reference).
var (
	cmdInit       = []byte{ESC, '@'}                          // ESC @: initialize printer
	cmdAlignLeft  = []byte{ESC, 'a', 0}                       // ESC a 0
	cmdAlignMid   = []byte{ESC, 'a', 1}                       // ESC a 1: centre
	cmdBoldOn     = []byte{ESC, 'E', 1}                       // ESC E 1: emphasized
	cmdBoldOff    = []byte{ESC, 'E', 0}                       // ESC E 0
	cmdSizeNormal = []byte{GS, '!', 0x00}                     // GS ! 0: 1×1
	cmdSizeDouble = []byte{GS, '!', 0x11}                     // GS ! 0x11: 2×2
	cmdCut        = []byte{GS, 'V', 66, 0}                    // GS V 66 0: feed to the cutter, partial cut
	cmdFeedOut    = []byte{ESC, 'd', 4}                       // ESC d 4: print and feed 4 lines (no cutter)
	cmdQRModel2   = []byte{GS, '(', 'k', 4, 0, 49, 65, 50, 0} // <Function 165>: model 2
	cmdQRECM      = []byte{GS, '(', 'k', 3, 0, 49, 69, 49}    // <Function 169>: error correction M
	cmdQRPrint    = []byte{GS, '(', 'k', 3, 0, 49, 81, 48}    // <Function 181>: print the stored symbol
)

// sizeCmd returns GS ! n for a magnification of m in both directions (1-8).
func sizeCmd(m int) []byte {
	n := byte(m-1)<<4 | byte(m-1)
	return []byte{GS, '!', n}
}

// qrSize returns GS ( k <Function 167>, the module size in dots.
func qrSize(dots int) []byte { return []byte{GS, '(', 'k', 3, 0, 49, 67, byte(dots)} }

// qrStore returns GS ( k <Function 180>: store data in the symbol storage area.
func qrStore(data string) []byte {
	n := len(data) + 3
	out := []byte{GS, '(', 'k', byte(n), byte(n >> 8), 49, 80, 48}
	return append(out, data...)
}

// qrModule picks the module size for data: as large as fits 80 mm paper (576 dots) for
// the symbol versions data of that length needs at error correction M.
func qrModule(n int) int {
	switch {
	case n <= 60:
		return 6
	case n <= 150:
		return 5
	case n <= 300:
		return 4
	}
	return 3
}

// QR returns the commands that print data as a QR code: model 2, module size, error
// correction M, store, print.
func QR(data string) []byte {
	var b []byte
	b = append(b, cmdQRModel2...)
	b = append(b, qrSize(qrModule(len(data)))...)
	b = append(b, cmdQRECM...)
	b = append(b, qrStore(data)...)
	b = append(b, cmdQRPrint...)
	return b
}

// text turns s into bytes the printer prints as text: control characters (which would be
// taken as commands) become spaces, and with the ascii encoding other non-ASCII runes "?".
func (l Layout) text(s string) []byte {
	out := make([]byte, 0, len(s))
	for _, r := range s {
		switch {
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0):
			out = append(out, ' ')
		case r < 0x80:
			out = append(out, byte(r))
		case r == utf8.RuneError:
			out = append(out, '?')
		case l.Encoding == "utf-8":
			out = utf8.AppendRune(out, r)
		default:
			out = append(out, '?')
		}
	}
	return out
}

// wrap splits s into lines of at most width characters, at spaces where it can.
func wrap(s string, width int) []string {
	runes := []rune(s)
	if len(runes) <= width {
		return []string{s}
	}
	var out []string
	for len(runes) > width {
		cut := width
		for i := width; i > width/2; i-- {
			if runes[i] == ' ' {
				cut = i
				break
			}
		}
		out = append(out, strings.TrimRight(string(runes[:cut]), " "))
		runes = runes[cut:]
		for len(runes) > 0 && runes[0] == ' ' {
			runes = runes[1:]
		}
	}
	if len(runes) > 0 {
		out = append(out, string(runes))
	}
	return out
}

// numberSize returns the magnification of the ticket number: 4× when it fits the line,
// else as large as fits, at least 1.
func numberSize(number string, width int) int {
	n := max(1, utf8.RuneCountInString(number))
	return max(1, min(4, width/n))
}

// Ticket returns the bytes of a queue ticket: initialize; centred, the service in bold at
// double size, the number in bold at up to 4×, the time, the free lines; the QR code; then
// a partial cut (or, with Cut false, a feed to tear the ticket off).
func (l Layout) Ticket(p wire.PrintArgs, at time.Time) ([]byte, error) {
	if len(p.QR) > MaxQR {
		return nil, fmt.Errorf("qr of %d bytes: at most %d: %w", len(p.QR), MaxQR, drivers.ErrBadArgs)
	}
	for i := 0; i < len(p.QR); i++ {
		// A DLE EOT inside the data would be answered at once by many printers.
		if c := p.QR[i]; c < 0x20 || c == 0x7f {
			return nil, fmt.Errorf("qr holds control character %#02x: %w", c, drivers.ErrBadArgs)
		}
	}
	var b bytes.Buffer
	b.Write(cmdInit)
	b.Write(cmdAlignMid)
	if p.Service != "" {
		b.Write(cmdBoldOn)
		b.Write(cmdSizeDouble)
		for _, line := range wrap(p.Service, l.Width/2) {
			b.Write(l.text(line))
			b.WriteByte(LF)
		}
		b.Write(cmdSizeNormal)
		b.Write(cmdBoldOff)
	}
	if p.Number != "" {
		m := numberSize(p.Number, l.Width)
		b.Write(cmdBoldOn)
		b.Write(sizeCmd(m))
		for _, line := range wrap(p.Number, max(1, l.Width/m)) {
			b.Write(l.text(line))
			b.WriteByte(LF)
		}
		b.Write(cmdSizeNormal)
		b.Write(cmdBoldOff)
	}
	if !at.IsZero() {
		b.Write(l.text(at.Format("2006-01-02 15:04")))
		b.WriteByte(LF)
	}
	for _, line := range p.Lines {
		if len(line) > maxLineBytes {
			line = line[:maxLineBytes]
		}
		for _, w := range wrap(line, l.Width) {
			b.Write(l.text(w))
			b.WriteByte(LF)
		}
	}
	if p.QR != "" {
		b.Write(QR(p.QR))
		b.WriteByte(LF)
	}
	b.Write(cmdAlignLeft)
	if p.Cut == nil || *p.Cut {
		b.Write(cmdCut)
	} else {
		b.Write(cmdFeedOut)
	}
	return b.Bytes(), nil
}
