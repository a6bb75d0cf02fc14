package escpossim

import "strings"

// Line is one printed line, or one printed QR code.
type Line struct {
	Text          string // the bytes of the line as received
	Align         string // "left", "center", "right"
	Bold          bool
	Width, Height int    // character magnification, 1-8
	QR            string // the payload when this is a QR code ("" for a text line)
}

// Ticket is what was printed between two cuts.
type Ticket struct {
	Lines []Line
	Cut   string // "full" or "partial"; "" for what is not cut yet
}

// Texts returns the ticket's text lines that are not empty.
func (t Ticket) Texts() []string {
	var out []string
	for _, l := range t.Lines {
		if l.QR == "" && l.Text != "" {
			out = append(out, l.Text)
		}
	}
	return out
}

// QRs returns the payloads of the QR codes printed on the ticket.
func (t Ticket) QRs() []string {
	var out []string
	for _, l := range t.Lines {
		if l.QR != "" {
			out = append(out, l.QR)
		}
	}
	return out
}

// Line returns the first text line holding s, and whether there is one.
func (t Ticket) Line(s string) (Line, bool) {
	for _, l := range t.Lines {
		if l.QR == "" && strings.Contains(l.Text, s) {
			return l, true
		}
	}
	return Line{}, false
}

type style struct {
	align         int
	bold          bool
	width, height int
}

func defaultStyle() style { return style{width: 1, height: 1} }

// Parser reads the ESC/POS byte stream a printer receives and keeps what it prints. It
// knows the commands drivers/escpos sends and the common others (styles, feeds, cuts, bit
// and raster images, barcodes, 2D symbols, kanji mode, drawer kick, real-time commands), so
// it stays in step with any stream: a command it does not know is skipped as two bytes.
// Real-time commands (DLE EOT) are taken where a command may start, not inside the data
// of another command, and GS ( k <Function 182> (symbol size information) is not
// answered. The zero value is ready to use.
type Parser struct {
	// Status answers DLE EOT n (n 1-4); nil answers nothing.
	Status func(n byte) byte
	// Offline, when not nil and true, drops what would be printed (lines, QR codes, cuts):
	// a printer with its cover open or out of paper.
	Offline func() bool

	buf      []byte
	st       style
	started  bool
	line     []byte
	cur      Ticket
	qr       []byte
	qrStored bool
	tickets  []Ticket
	unknown  int
}

// Limits that keep a hostile stream from holding memory.
const (
	maxCommand = 1 << 20 // a longer declared command is skipped as unknown
	maxLine    = 1 << 16 // a longer line is cut
	maxTickets = 10000   // older tickets are forgotten
)

// Write feeds bytes to the parser and returns the answers to the real-time status requests
// among them.
func (p *Parser) Write(b []byte) []byte {
	if !p.started {
		p.st, p.started = defaultStyle(), true
	}
	p.buf = append(p.buf, b...)
	var out []byte
	i := 0
	for i < len(p.buf) {
		n, ans := p.step(p.buf[i:])
		if n == 0 {
			break
		}
		out = append(out, ans...)
		i += n
	}
	p.buf = append(p.buf[:0], p.buf[i:]...)
	return out
}

// DropPartial forgets a command cut short (the connection that sent it ended).
func (p *Parser) DropPartial() { p.buf = p.buf[:0] }

// Tickets returns the tickets cut so far.
func (p *Parser) Tickets() []Ticket { return append([]Ticket(nil), p.tickets...) }

// Pending returns what was printed since the last cut, the line not yet ended included.
func (p *Parser) Pending() Ticket {
	t := Ticket{Lines: append([]Line(nil), p.cur.Lines...)}
	if len(p.line) > 0 {
		t.Lines = append(t.Lines, p.lineOf(string(p.line)))
	}
	return t
}

// Unknown returns how many unknown commands were skipped.
func (p *Parser) Unknown() int { return p.unknown }

func (p *Parser) offline() bool { return p.Offline != nil && p.Offline() }

func (p *Parser) lineOf(text string) Line {
	return Line{Text: text, Align: [...]string{"left", "center", "right"}[p.st.align], Bold: p.st.bold,
		Width: p.st.width, Height: p.st.height}
}

// flush prints the line buffer (an empty line too when always).
func (p *Parser) flush(always bool) {
	if len(p.line) == 0 && !always {
		return
	}
	if !p.offline() {
		p.cur.Lines = append(p.cur.Lines, p.lineOf(string(p.line)))
	}
	p.line = p.line[:0]
}

func (p *Parser) cut(kind string) {
	p.flush(false)
	if p.offline() {
		return
	}
	p.cur.Cut = kind
	p.tickets = append(p.tickets, p.cur)
	if len(p.tickets) > maxTickets {
		p.tickets = p.tickets[len(p.tickets)-maxTickets:]
	}
	p.cur = Ticket{}
}

func (p *Parser) reset() {
	p.st = defaultStyle()
	p.line = p.line[:0]
	p.qr, p.qrStored = nil, false
}

// step parses the command at the start of b and returns its length (0 when b holds only
// part of it) and its answer.
func (p *Parser) step(b []byte) (int, []byte) {
	c := b[0]
	switch {
	case c == 0x0A: // LF
		p.flush(true)
		return 1, nil
	case c == 0x0C: // FF
		p.flush(false)
		return 1, nil
	case c == 0x09: // HT
		p.text(' ')
		return 1, nil
	case c == 0x1B:
		return p.esc(b), nil
	case c == 0x1D:
		return p.gs(b), nil
	case c == 0x1C:
		return p.fs(b), nil
	case c == 0x10:
		return p.dle(b)
	case c < 0x20 || c == 0x7F: // CR and other control bytes
		return 1, nil
	}
	p.text(c)
	return 1, nil
}

func (p *Parser) text(c byte) {
	if len(p.line) < maxLine {
		p.line = append(p.line, c)
	}
}

// need returns n when b holds n bytes, else 0 (wait for more).
func need(b []byte, n int) int {
	if len(b) < n {
		return 0
	}
	return n
}

func (p *Parser) skipUnknown(n int) int {
	p.unknown++
	return n
}

func (p *Parser) esc(b []byte) int {
	if len(b) < 2 {
		return 0
	}
	switch b[1] {
	case '@': // initialize
		p.reset()
		return 2
	case '2', '<', 'S', 'L': // default line spacing, return home, standard and page mode
		return 2
	case 'i', 'm': // partial cut (older models)
		p.cut("partial")
		return 2
	case 'a': // justification
		if n := need(b, 3); n > 0 {
			p.st.align = min(int(b[2]%48), 2)
			return n
		}
		return 0
	case 'E': // emphasized
		if n := need(b, 3); n > 0 {
			p.st.bold = b[2]&1 == 1
			return n
		}
		return 0
	case '!': // print mode: bit 3 emphasized, 4 double height, 5 double width
		if n := need(b, 3); n > 0 {
			p.st.bold = b[2]&0x08 != 0
			p.st.height, p.st.width = 1, 1
			if b[2]&0x10 != 0 {
				p.st.height = 2
			}
			if b[2]&0x20 != 0 {
				p.st.width = 2
			}
			return n
		}
		return 0
	case 'd', 'J', 'e': // print and feed n lines / n dots / reverse n lines
		if n := need(b, 3); n > 0 {
			p.flush(false)
			return n
		}
		return 0
	case '-', 'G', 'M', 't', 'R', '{', 'V', '3', 'U', 'r', ' ', '=', '%', '?', 'T', 'K':
		return need(b, 3)
	case 'c': // ESC c 3 n, ESC c 4 n, ESC c 5 n
		return need(b, 4)
	case '$', '\\': // absolute / relative position
		return need(b, 4)
	case 'p': // drawer kick: ESC p m t1 t2
		return need(b, 5)
	case 'W': // print area in page mode
		return need(b, 10)
	case 'D': // tab positions, up to NUL
		for i := 2; i < len(b) && i < 40; i++ {
			if b[i] == 0 {
				return i + 1
			}
		}
		if len(b) >= 40 {
			return p.skipUnknown(2)
		}
		return 0
	case '*': // bit image: ESC * m nL nH d…
		if len(b) < 5 {
			return 0
		}
		k := int(b[3]) + int(b[4])*256
		if b[2] == 32 || b[2] == 33 {
			k *= 3
		}
		return need(b, 5+k)
	}
	return p.skipUnknown(2)
}

func (p *Parser) gs(b []byte) int {
	if len(b) < 2 {
		return 0
	}
	switch b[1] {
	case '!': // character size
		if n := need(b, 3); n > 0 {
			p.st.height = int(b[2]&0x07) + 1
			p.st.width = int(b[2]>>4&0x07) + 1
			return n
		}
		return 0
	case 'V': // cut
		if len(b) < 3 {
			return 0
		}
		switch m := b[2]; m {
		case 0, 48:
			p.cut("full")
			return 3
		case 1, 49:
			p.cut("partial")
			return 3
		case 65, 97, 103:
			if len(b) < 4 {
				return 0
			}
			p.cut("full")
			return 4
		case 66, 98, 104:
			if len(b) < 4 {
				return 0
			}
			p.cut("partial")
			return 4
		}
		return p.skipUnknown(3)
	case '(': // GS ( x pL pH …
		if len(b) < 5 {
			return 0
		}
		l := int(b[3]) + int(b[4])*256
		if len(b) < 5+l {
			return 0
		}
		if b[2] == 'k' {
			p.symbol(b[5 : 5+l])
		}
		return 5 + l
	case 'k': // barcode
		if len(b) < 3 {
			return 0
		}
		if m := b[2]; m <= 6 {
			for i := 3; i < len(b) && i < 3+256; i++ {
				if b[i] == 0 {
					return i + 1
				}
			}
			if len(b) >= 3+256 {
				return p.skipUnknown(3)
			}
			return 0
		}
		if len(b) < 4 {
			return 0
		}
		return need(b, 4+int(b[3]))
	case 'v': // raster image: GS v 0 m xL xH yL yH d…
		if len(b) < 8 {
			return 0
		}
		k := (int(b[4]) + int(b[5])*256) * (int(b[6]) + int(b[7])*256)
		if k > maxCommand {
			return p.skipUnknown(8)
		}
		return need(b, 8+k)
	case '*': // define downloaded bit image: GS * x y d…
		if len(b) < 4 {
			return 0
		}
		return need(b, 4+int(b[2])*int(b[3])*8)
	case 'B', 'b', 'H', 'h', 'w', 'f', 'a', 'I', 'r', 'E', 'T', '/', 'j':
		return need(b, 3)
	case 'L', 'W', 'P', '$', '\\':
		return need(b, 4)
	case '^':
		return need(b, 5)
	case ':':
		return 2
	}
	return p.skipUnknown(2)
}

// symbol handles GS ( k: cn 49 is QR Code.
func (p *Parser) symbol(params []byte) {
	if len(params) < 2 || params[0] != 49 {
		return
	}
	switch params[1] {
	case 80: // <Function 180>: store, m = 48
		if len(params) >= 3 && params[2] == 48 {
			p.qr, p.qrStored = append([]byte(nil), params[3:]...), true
		}
	case 81: // <Function 181>: print
		if !p.qrStored || len(p.qr) == 0 {
			return
		}
		p.flush(false)
		if !p.offline() {
			l := p.lineOf("")
			l.QR = string(p.qr)
			p.cur.Lines = append(p.cur.Lines, l)
		}
	}
	// 65 model, 67 module size, 69 error correction, 82 size information: nothing to keep.
}

func (p *Parser) fs(b []byte) int {
	if len(b) < 2 {
		return 0
	}
	switch b[1] {
	case '&', '.': // kanji mode on, off
		return 2
	case '!', '-', 'W', 'C':
		return need(b, 3)
	case 'S', 'p':
		return need(b, 4)
	case '(':
		if len(b) < 5 {
			return 0
		}
		return need(b, 5+int(b[3])+int(b[4])*256)
	}
	return p.skipUnknown(2)
}

func (p *Parser) dle(b []byte) (int, []byte) {
	if len(b) < 2 {
		return 0, nil
	}
	switch b[1] {
	case 0x04: // DLE EOT n: real-time status
		if len(b) < 3 {
			return 0, nil
		}
		n := b[2]
		if n == 7 || n == 8 { // DLE EOT 7 a / 8 a
			return need(b, 4), nil
		}
		if n >= 1 && n <= 4 && p.Status != nil {
			return 3, []byte{p.Status(n)}
		}
		return 3, nil
	case 0x05: // DLE ENQ n
		return need(b, 3), nil
	case 0x14: // DLE DC4 fn …
		if len(b) < 3 {
			return 0, nil
		}
		switch b[2] {
		case 1, 2, 3:
			return need(b, 5), nil
		case 7:
			return need(b, 4), nil
		case 8:
			return need(b, 10), nil
		}
		return 3, nil
	}
	p.unknown++
	return 1, nil
}
