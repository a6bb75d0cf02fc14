// Package golden holds the ESC/POS tables that the driver's codec test, its transcript test,
// the simulator's test and the fuzz seed corpora all use: status request ⇄ status byte ⇄
// decoded state ⇄ expected error; ticket args ⇄ bytes ⇄ what a printer prints; and byte
// streams ⇄ what a printer prints and answers.
//
// It is internal to drivers/escpos and imported only by tests.
package golden

import (
	"strings"
	"time"

	"github.com/bailiff/bailiff/internal/wire"
)

// Status is one real-time status exchange: DLE EOT N answered by Reply.
type Status struct {
	Name    string
	N       byte
	Request string // "\x10\x04" + N
	Reply   byte
	// Want is the state Poll returns when the printer answers Reply to DLE EOT N and 0x12
	// (all clear) to the three others; nil when Reply is garbled.
	Want map[string]any
	// Code is the contract error code Poll returns then ("" for none).
	Code string
	// Sim, when not nil, is a simulator setup in which escpossim answers Request with Reply.
	Sim *Setup
}

// Setup is the state a printer simulator is put in.
type Setup struct {
	PaperOut, NearEnd, CoverOpen bool
	Cutter, Fatal, Recover       bool // autocutter, unrecoverable, auto-recoverable errors
}

// State builds a Poll state.
func State(paper, cover string, online bool, err string) map[string]any {
	return map[string]any{"paper": paper, "cover": cover, "online": online, "error": err}
}

// Clear is the state of a printer that is ready.
var Clear = State("ok", "closed", true, "none")

func req(n byte) string { return string([]byte{0x10, 0x04, n}) }

// Statuses is the golden table of status bytes (Epson ESC/POS reference, DLE EOT).
var Statuses = []Status{
	{Name: "printer online", N: 1, Request: req(1), Reply: 0x12, Want: Clear, Sim: &Setup{}},
	{Name: "printer offline", N: 1, Request: req(1), Reply: 0x1A, Want: State("ok", "closed", false, "none"),
		Code: "device_error", Sim: &Setup{CoverOpen: true}},
	{Name: "drawer pin high", N: 1, Request: req(1), Reply: 0x16, Want: Clear},
	{Name: "offline cause none", N: 2, Request: req(2), Reply: 0x12, Want: Clear, Sim: &Setup{NearEnd: true}},
	{Name: "cover open", N: 2, Request: req(2), Reply: 0x16, Want: State("ok", "open", true, "none"),
		Code: "device_error", Sim: &Setup{CoverOpen: true}},
	{Name: "paper end stop", N: 2, Request: req(2), Reply: 0x32, Want: State("out", "closed", true, "none"),
		Code: "device_error", Sim: &Setup{PaperOut: true}},
	{Name: "error occurred", N: 2, Request: req(2), Reply: 0x52, Want: State("ok", "closed", true, "unknown"),
		Code: "device_error", Sim: &Setup{Cutter: true}},
	{Name: "feed button", N: 2, Request: req(2), Reply: 0x1A, Want: Clear},
	{Name: "no error", N: 3, Request: req(3), Reply: 0x12, Want: Clear, Sim: &Setup{PaperOut: true}},
	{Name: "autocutter error", N: 3, Request: req(3), Reply: 0x1A, Want: State("ok", "closed", true, "cutter"),
		Code: "device_error", Sim: &Setup{Cutter: true}},
	{Name: "unrecoverable error", N: 3, Request: req(3), Reply: 0x32, Want: State("ok", "closed", true, "unrecoverable"),
		Code: "device_error", Sim: &Setup{Fatal: true}},
	{Name: "auto-recoverable error", N: 3, Request: req(3), Reply: 0x52, Want: State("ok", "closed", true, "recoverable"),
		Code: "device_error", Sim: &Setup{Recover: true}},
	{Name: "two errors", N: 3, Request: req(3), Reply: 0x3A, Want: State("ok", "closed", true, "cutter,unrecoverable"),
		Code: "device_error", Sim: &Setup{Cutter: true, Fatal: true}},
	{Name: "paper adequate", N: 4, Request: req(4), Reply: 0x12, Want: Clear, Sim: &Setup{CoverOpen: true}},
	{Name: "paper near end", N: 4, Request: req(4), Reply: 0x1E, Want: State("near_end", "closed", true, "none"), Sim: &Setup{NearEnd: true}},
	{Name: "paper out", N: 4, Request: req(4), Reply: 0x72, Want: State("out", "closed", true, "none"),
		Code: "device_error", Sim: &Setup{PaperOut: true}},
	{Name: "paper out and near end", N: 4, Request: req(4), Reply: 0x7E, Want: State("out", "closed", true, "none"),
		Code: "device_error", Sim: &Setup{PaperOut: true, NearEnd: true}},

	// Garbled: the fixed bits (1 and 4 set, 0 and 7 clear) are wrong.
	{Name: "zero byte", N: 1, Request: req(1), Reply: 0x00, Code: "device_error"},
	{Name: "all bits", N: 2, Request: req(2), Reply: 0xFF, Code: "device_error"},
	{Name: "bit 0 set", N: 3, Request: req(3), Reply: 0x13, Code: "device_error"},
	{Name: "bit 7 set", N: 4, Request: req(4), Reply: 0x92, Code: "device_error"},
	{Name: "bit 4 clear", N: 1, Request: req(1), Reply: 0x02, Code: "device_error"},
	{Name: "ascii digit", N: 4, Request: req(4), Reply: '0', Code: "device_error"},
}

// Command bytes of the ticket layout, spelled out.
const (
	Init        = "\x1b@"
	AlignLeft   = "\x1ba\x00"
	AlignCentre = "\x1ba\x01"
	BoldOn      = "\x1bE\x01"
	BoldOff     = "\x1bE\x00"
	Size1       = "\x1d!\x00"
	Size2       = "\x1d!\x11"
	Size3       = "\x1d!\x22"
	Size4       = "\x1d!\x33"
	Cut         = "\x1dVB\x00" // GS V 66 0
	FeedOut     = "\x1bd\x04"  // ESC d 4
	QRModel2    = "\x1d(k\x04\x001A2\x00"
	QRECM       = "\x1d(k\x03\x001E1"
	QRPrint     = "\x1d(k\x03\x001Q0"
)

// QRSize is GS ( k <Function 167> with n dots.
func QRSize(n byte) string { return "\x1d(k\x03\x001C" + string([]byte{n}) }

// QRStore is GS ( k <Function 180> with data.
func QRStore(data string) string {
	n := len(data) + 3
	return "\x1d(k" + string([]byte{byte(n), byte(n >> 8)}) + "1P0" + data
}

// QR is the whole QR sequence for data printed at module size n.
func QR(data string, n byte) string { return QRModel2 + QRSize(n) + QRECM + QRStore(data) + QRPrint }

// Ticket is one ticket: the args Print gets, the bytes the driver sends, what a printer
// prints from them.
type Ticket struct {
	Name     string
	Args     wire.PrintArgs
	Width    int    // 0: 48
	Encoding string // "": ascii
	At       time.Time
	Bytes    string
	// What escpossim prints: the text lines that are not empty, the QR payloads, the cut.
	Texts []string
	QR    []string
	Cut   string // "partial", "full", "" (not cut)
	// Code is the error code Print returns before sending anything ("" for none).
	Code string
}

// At is the time printed on the golden tickets.
var At = time.Date(2025, 3, 14, 9, 26, 0, 0, time.UTC)

func no() *bool { b := false; return &b }

// Tickets is the golden table of tickets.
var Tickets = []Ticket{
	{Name: "queue ticket", At: At,
		Args: wire.PrintArgs{Number: "A023", Service: "Case filing", Lines: []string{"Window 3", "Please wait to be called"},
			QR: "https://court.example/q/A023"},
		Bytes: Init + AlignCentre + BoldOn + Size2 + "Case filing\n" + Size1 + BoldOff +
			BoldOn + Size4 + "A023\n" + Size1 + BoldOff + "2025-03-14 09:26\n" +
			"Window 3\nPlease wait to be called\n" + QR("https://court.example/q/A023", 6) + "\n" + AlignLeft + Cut,
		Texts: []string{"Case filing", "A023", "2025-03-14 09:26", "Window 3", "Please wait to be called"},
		QR:    []string{"https://court.example/q/A023"}, Cut: "partial"},
	{Name: "number only no cut", At: At, Args: wire.PrintArgs{Number: "17", Cut: no()},
		Bytes: Init + AlignCentre + BoldOn + Size4 + "17\n" + Size1 + BoldOff + "2025-03-14 09:26\n" + AlignLeft + FeedOut,
		Texts: []string{"17", "2025-03-14 09:26"}},
	{Name: "lines only", At: At, Args: wire.PrintArgs{Lines: []string{"Hearing 2025/117", "", "Room 4"}},
		Bytes: Init + AlignCentre + "2025-03-14 09:26\n" + "Hearing 2025/117\n\nRoom 4\n" + AlignLeft + Cut,
		Texts: []string{"2025-03-14 09:26", "Hearing 2025/117", "Room 4"}, Cut: "partial"},
	{Name: "long number on narrow paper", At: At, Width: 32, Args: wire.PrintArgs{Number: "B-10234567"},
		Bytes: Init + AlignCentre + BoldOn + Size3 + "B-10234567\n" + Size1 + BoldOff + "2025-03-14 09:26\n" + AlignLeft + Cut,
		Texts: []string{"B-10234567", "2025-03-14 09:26"}, Cut: "partial"},
	{Name: "wrapped line", At: At, Width: 16, Args: wire.PrintArgs{Lines: []string{"Please bring your identity card"}},
		Bytes: Init + AlignCentre + "2025-03-14 09:26\n" + "Please bring\nyour identity\ncard\n" + AlignLeft + Cut,
		Texts: []string{"2025-03-14 09:26", "Please bring", "your identity", "card"}, Cut: "partial"},
	{Name: "non-ascii as question marks", At: At, Args: wire.PrintArgs{Service: "民事立案", Number: "C5"},
		Bytes: Init + AlignCentre + BoldOn + Size2 + "????\n" + Size1 + BoldOff + BoldOn + Size4 + "C5\n" + Size1 + BoldOff +
			"2025-03-14 09:26\n" + AlignLeft + Cut,
		Texts: []string{"????", "C5", "2025-03-14 09:26"}, Cut: "partial"},
	{Name: "utf-8 passed through", At: At, Encoding: "utf-8", Args: wire.PrintArgs{Service: "民事立案", Number: "C5"},
		Bytes: Init + AlignCentre + BoldOn + Size2 + "民事立案\n" + Size1 + BoldOff + BoldOn + Size4 + "C5\n" + Size1 + BoldOff +
			"2025-03-14 09:26\n" + AlignLeft + Cut,
		Texts: []string{"民事立案", "C5", "2025-03-14 09:26"}, Cut: "partial"},
	{Name: "commands in text are neutralized", At: At, Args: wire.PrintArgs{Number: "D1", Lines: []string{"x\x1dVAy\x10\x04\x01z"}},
		Bytes: Init + AlignCentre + BoldOn + Size4 + "D1\n" + Size1 + BoldOff + "2025-03-14 09:26\n" + "x VAy   z\n" + AlignLeft + Cut,
		Texts: []string{"D1", "2025-03-14 09:26", "x VAy   z"}, Cut: "partial"},
	{Name: "long qr", At: At, Args: wire.PrintArgs{Number: "E9", QR: strings.Repeat("0123456789", 20)},
		Bytes: Init + AlignCentre + BoldOn + Size4 + "E9\n" + Size1 + BoldOff + "2025-03-14 09:26\n" +
			QR(strings.Repeat("0123456789", 20), 4) + "\n" + AlignLeft + Cut,
		Texts: []string{"E9", "2025-03-14 09:26"}, QR: []string{strings.Repeat("0123456789", 20)}, Cut: "partial"},
	{Name: "qr with a control character", At: At, Args: wire.PrintArgs{Number: "F1", QR: "a\x10\x04\x01"}, Code: "bad_args"},
	{Name: "qr too long", At: At, Args: wire.PrintArgs{Number: "F2", QR: strings.Repeat("x", 7090)}, Code: "bad_args"},
}

// Stream is bytes a printer receives and what it makes of them.
type Stream struct {
	Name  string
	Bytes string
	// Tickets are the cut tickets, each as its non-empty text lines, QR payloads and cut.
	Tickets []Printed
	// Pending is what was printed since the last cut.
	Pending Printed
	// Answers are the bytes the printer sends back (status), in order, when it is ready.
	Answers string
}

// Printed is what a printer put on paper between two cuts.
type Printed struct {
	Texts []string
	QR    []string
	Cut   string
}

// Streams is the golden table of byte streams, for the simulator's parser.
var Streams = []Stream{
	{Name: "text and cut", Bytes: "\x1b@hello\nworld\n\x1dV\x00",
		Tickets: []Printed{{Texts: []string{"hello", "world"}, Cut: "full"}}},
	{Name: "partial cut forms", Bytes: "a\n\x1dV\x01b\n\x1dV1c\n\x1dVB\x05d\n\x1dVA\x00e\n\x1dV0",
		Tickets: []Printed{{Texts: []string{"a"}, Cut: "partial"}, {Texts: []string{"b"}, Cut: "partial"},
			{Texts: []string{"c"}, Cut: "partial"}, {Texts: []string{"d"}, Cut: "full"}, {Texts: []string{"e"}, Cut: "full"}}},
	{Name: "status in the stream", Bytes: "x\n\x10\x04\x01y\x10\x04\x04\n",
		Pending: Printed{Texts: []string{"x", "y"}}, Answers: "\x12\x12"},
	{Name: "all four statuses", Bytes: "\x10\x04\x01\x10\x04\x02\x10\x04\x03\x10\x04\x04", Answers: "\x12\x12\x12\x12"},
	{Name: "styles", Bytes: "\x1b@\x1ba\x01\x1bE\x01\x1d!\x33BIG\n\x1d!\x00\x1bE\x00\x1b!\x08\x1b-\x01u\n\x1bG\x01\x1bM\x01\x1bt\x10\x1bR\x00\x1b{\x00\x1b2\x1b3\x20\x1b \x00s\n",
		Pending: Printed{Texts: []string{"BIG", "u", "s"}}},
	{Name: "feed commands", Bytes: "a\x1bd\x03b\x1bJ\x10c\r\n\x0c",
		Pending: Printed{Texts: []string{"a", "b", "c"}}},
	{Name: "qr code", Bytes: QR("HELLO", 6) + "\n\x1dVB\x00",
		Tickets: []Printed{{QR: []string{"HELLO"}, Cut: "partial"}}},
	{Name: "qr printed twice", Bytes: QRStore("ONE") + QRPrint + QRPrint + QRStore("TWO") + QRPrint,
		Pending: Printed{QR: []string{"ONE", "ONE", "TWO"}}},
	{Name: "qr print with nothing stored", Bytes: "\x1b@" + QRPrint + "t\n", Pending: Printed{Texts: []string{"t"}}},
	{Name: "qr size info and other symbols", Bytes: "\x1d(k\x03\x001R0" + "\x1d(k\x06\x000P0abc" + "\x1d(L\x02\x000E" + "z\n",
		Pending: Printed{Texts: []string{"z"}}},
	{Name: "barcodes", Bytes: "\x1dh\x50\x1dw\x02\x1dH\x02\x1dk\x04A123\x00\x1dkI\x05{B123b\n",
		Pending: Printed{Texts: []string{"b"}}},
	{Name: "raster image", Bytes: "\x1dv0\x00\x02\x00\x02\x00\xff\x10\x04\x01\x00r\n",
		Pending: Printed{Texts: []string{"r"}}},
	{Name: "bit image", Bytes: "\x1b*\x00\x03\x00\x10\x04\x01i\n\x1b*\x21\x01\x00\x01\x02\x03j\n",
		Pending: Printed{Texts: []string{"i", "j"}}},
	{Name: "kanji and drawer", Bytes: "\x1c&\x1c!\x00\x1c.\x1bp\x00\x19\xfak\n\x10\x14\x01\x00\x01",
		Pending: Printed{Texts: []string{"k"}}},
	{Name: "init discards a started line", Bytes: "lost\x1b@kept\n", Pending: Printed{Texts: []string{"kept"}}},
	{Name: "incomplete command at the end", Bytes: "a\n\x1d(k\x10\x00", Pending: Printed{Texts: []string{"a"}}},
	{Name: "unknown commands skipped", Bytes: "\x1b\x7fa\n\x1d\x7f\x01b\n\x1c\x7fc\n\x10\x7fd\n",
		Pending: Printed{Texts: []string{"a", "b", "c", "d"}}},
	{Name: "old partial cut", Bytes: "a\n\x1bi", Tickets: []Printed{{Texts: []string{"a"}, Cut: "partial"}}},
	{Name: "tab", Bytes: "a\tb\n", Pending: Printed{Texts: []string{"a b"}}},
}
