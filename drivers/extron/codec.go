package extron

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/bailiff/bailiff/drivers"
)

const (
	// maxLine is the longest line taken from the switcher; SIS answers are far shorter.
	maxLine = 256
	// passwordPrompt is what a password-protected switcher sends, with or without CR LF.
	passwordPrompt = "Password:"
	// maxNumber bounds input and output numbers (the largest matrices have a few hundred).
	maxNumber = 9999
)

// Telnet bytes (RFC 854), dropped from the stream.
const (
	iac  = 0xFF
	sb   = 0xFA
	se   = 0xF0
	will = 0xFB
	dont = 0xFE
)

// tokenReader splits what the switcher sends into lines (ended by CR, LF or both; empty
// lines are returned as "") and the password prompt, which may come without a line end. It
// drops Telnet option negotiation. A partial line survives a read timeout.
type tokenReader struct {
	br  *bufio.Reader
	buf []byte
}

func newTokenReader(r io.Reader) *tokenReader {
	return &tokenReader{br: bufio.NewReaderSize(r, 1024)}
}

// next returns the next line or the prompt. A line longer than maxLine or holding a byte that
// is not printable ASCII is garbled; the caller must then close the link. Any other error is
// the reader's (io.EOF, io.ErrUnexpectedEOF for a line cut short, a timeout).
func (t *tokenReader) next() (string, error) {
	for {
		c, err := t.br.ReadByte()
		if err != nil {
			if err == io.EOF && len(t.buf) > 0 {
				return "", io.ErrUnexpectedEOF
			}
			return "", err
		}
		switch {
		case c == iac:
			if err := t.skipTelnet(); err != nil {
				return "", err
			}
			continue
		case c == '\r' || c == '\n':
			line := string(t.buf)
			t.buf = t.buf[:0]
			return line, nil
		case (c < 0x20 && c != '\t') || c > 0x7E:
			bad := string(append(t.buf, c))
			t.buf = t.buf[:0]
			return "", garbled(bad, fmt.Sprintf("byte 0x%02x is not printable ASCII", c))
		}
		t.buf = append(t.buf, c)
		if len(t.buf) > maxLine {
			bad := string(t.buf)
			t.buf = t.buf[:0]
			return "", garbled(bad, fmt.Sprintf("line longer than %d bytes", maxLine))
		}
		if len(t.buf) == len(passwordPrompt) && string(t.buf) == passwordPrompt {
			t.buf = t.buf[:0]
			return passwordPrompt, nil
		}
	}
}

// skipTelnet drops one Telnet command after its IAC: an option negotiation (3 bytes in all),
// a subnegotiation up to IAC SE, or a 2-byte command. IAC IAC is a data byte 0xFF: garbled.
func (t *tokenReader) skipTelnet() error {
	c, err := t.br.ReadByte()
	if err != nil {
		return unexpectedEOF(err)
	}
	switch {
	case c == iac:
		return garbled(string(t.buf)+"\xff", "byte 0xff is not printable ASCII")
	case c >= will && c <= dont:
		_, err := t.br.ReadByte()
		return unexpectedEOF(err)
	case c == sb:
		for n := 0; n < maxLine; n++ {
			b, err := t.br.ReadByte()
			if err != nil {
				return unexpectedEOF(err)
			}
			if b == iac {
				b, err = t.br.ReadByte()
				if err != nil {
					return unexpectedEOF(err)
				}
				if b == se {
					return nil
				}
			}
		}
		return garbled(string(t.buf), "Telnet subnegotiation too long")
	}
	return nil
}

func unexpectedEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// Kind is a tie's kind, named by its SIS command character.
type Kind byte

// Kinds of tie.
const (
	AV    Kind = '!' // audio and video
	Video Kind = '%'
	Audio Kind = '$'
	RGB   Kind = '&' // RGB video; switchers treat it as Video
)

// word is how the switcher names the kind in a tie answer.
func (k Kind) word() string {
	switch k {
	case AV:
		return "All"
	case Video:
		return "Vid"
	case Audio:
		return "Aud"
	case RGB:
		return "RGB"
	}
	return "?"
}

func (k Kind) String() string {
	switch k {
	case AV:
		return "av"
	case Video:
		return "video"
	case Audio:
		return "audio"
	case RGB:
		return "rgb"
	}
	return fmt.Sprintf("Kind(%q)", byte(k))
}

// ParseKind reads a route's kind: "av" or "" (audio and video), "video" or "audio".
func ParseKind(kind string) (Kind, error) {
	switch strings.ToLower(strings.TrimSpace(kind)) {
	case "", "av":
		return AV, nil
	case "video":
		return Video, nil
	case "audio":
		return Audio, nil
	}
	return 0, fmt.Errorf("kind %q: want av, video or audio: %w", kind, drivers.ErrBadArgs)
}

// parseNumber reads an input or output number of a route: 1–4 digits.
func parseNumber(what, s string) (int, error) {
	s = strings.TrimSpace(s)
	if len(s) == 0 || len(s) > 4 || strings.Trim(s, "0123456789") != "" {
		return 0, fmt.Errorf("%s %q: want a number: %w", what, s, drivers.ErrBadArgs)
	}
	n, _ := strconv.Atoi(s)
	return n, nil
}

// parseRoute reads the arguments of a route: an input number (0 unties), an output number
// or "all" (returned as 0), and a kind.
func parseRoute(input, output, kind string) (in, out int, k Kind, err error) {
	if k, err = ParseKind(kind); err != nil {
		return 0, 0, 0, err
	}
	if in, err = parseNumber("input", input); err != nil {
		return 0, 0, 0, err
	}
	if strings.EqualFold(strings.TrimSpace(output), "all") {
		return in, 0, k, nil
	}
	if out, err = parseNumber("output", output); err != nil {
		return 0, 0, 0, fmt.Errorf("%w (or \"all\")", err)
	}
	if out == 0 {
		return 0, 0, 0, fmt.Errorf("output 0: outputs count from 1 (or \"all\"): %w", drivers.ErrBadArgs)
	}
	return in, out, k, nil
}

// request is one SIS command and how to read its answer.
type request struct {
	text  string                    // bytes sent
	parse func(string) (any, error) // decodes the answer line; an error that is not errGarbled is impossible
}

// tieRequest ties input in to output out (0: every output).
func tieRequest(in, out int, k Kind) request {
	if out == 0 {
		return request{text: fmt.Sprintf("%d*%c", in, byte(k)), parse: func(l string) (any, error) { return nil, parseTieAll(l, in, k) }}
	}
	return request{text: fmt.Sprintf("%d*%d%c", in, out, byte(k)), parse: func(l string) (any, error) { return nil, parseTie(l, in, out, k) }}
}

// viewRequest asks which input is tied to output out.
func viewRequest(out int, k Kind) request {
	return request{text: fmt.Sprintf("%d%c", out, byte(k)), parse: func(l string) (any, error) { return parseView(l, out, k) }}
}

var (
	infoRequest     = request{text: "I", parse: func(l string) (any, error) { return parseInfo(l) }}
	partRequest     = request{text: "N", parse: func(l string) (any, error) { return parsePart(l) }}
	firmwareRequest = request{text: "Q", parse: func(l string) (any, error) { return parseFirmware(l) }}
)

// rawRequest sends cmd and takes as its answer the first line the switcher would not send
// unasked.
func rawRequest(cmd string) request {
	return request{text: cmd, parse: func(l string) (any, error) {
		if skippable(l) {
			return nil, garbled(l, "sent unasked")
		}
		return l, nil
	}}
}

// sisError reports whether line is an error answer, "E" and two digits.
func sisError(line string) (*SISError, bool) {
	if len(line) == 3 && line[0] == 'E' && isDigits(line[1:]) {
		return &SISError{Code: line}, true
	}
	return nil, false
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// number reads a decimal field of at most 4 digits (3 in practice, padded with zeros).
func number(s string) (int, bool) {
	if !isDigits(s) || len(s) > 4 {
		return 0, false
	}
	n, _ := strconv.Atoi(s)
	return n, true
}

// tieFields reads "OutY InX Word" or "InX OutY Word" (some firmware puts In first). out is
// -1 when the line has no Out field ("InX Word", a tie to every output).
func tieFields(line string) (in, out int, word string, ok bool) {
	f := strings.Fields(line)
	if len(f) < 2 || len(f) > 3 {
		return 0, 0, "", false
	}
	in, out = -1, -1
	for _, x := range f[:len(f)-1] {
		switch {
		case strings.HasPrefix(x, "Out") && out < 0:
			n, ok := number(x[3:])
			if !ok {
				return 0, 0, "", false
			}
			out = n
		case strings.HasPrefix(x, "In") && in < 0:
			n, ok := number(x[2:])
			if !ok {
				return 0, 0, "", false
			}
			in = n
		default:
			return 0, 0, "", false
		}
	}
	if in < 0 {
		return 0, 0, "", false
	}
	return in, out, f[len(f)-1], true
}

// parseTie checks the answer to "in*outK": "OutY InX Word" for this output, input and kind.
func parseTie(line string, in, out int, k Kind) error {
	gi, gout, word, ok := tieFields(line)
	switch {
	case !ok || gout < 0:
		return garbled(line, "want Out… In… "+k.word())
	case gout != out || gi != in:
		return garbled(line, fmt.Sprintf("ties input %d to output %d, not input %d to output %d", gi, gout, in, out))
	case word != k.word() && !(k == Video && word == "RGB"):
		return garbled(line, fmt.Sprintf("ties %s, not %s", word, k.word()))
	}
	return nil
}

// parseTieAll checks the answer to "in*K": "InX Word".
func parseTieAll(line string, in int, k Kind) error {
	gi, gout, word, ok := tieFields(line)
	switch {
	case !ok || gout >= 0:
		return garbled(line, "want In… "+k.word())
	case gi != in:
		return garbled(line, fmt.Sprintf("ties input %d, not %d", gi, in))
	case word != k.word() && !(k == Video && word == "RGB"):
		return garbled(line, fmt.Sprintf("ties %s, not %s", word, k.word()))
	}
	return nil
}

// parseView reads the answer to "outK": the input number ("02", 0 for none), or in verbose
// mode "OutY InX Word".
func parseView(line string, out int, k Kind) (int, error) {
	if n, ok := number(line); ok {
		return n, nil
	}
	if in, gout, _, ok := tieFields(line); ok && gout == out {
		return in, nil
	}
	return 0, garbled(line, fmt.Sprintf("want the input tied to output %d", out))
}

// matrixSize is a switcher's matrix size, as "I" reports it; zero audio sizes mean no
// audio matrix.
type matrixSize struct {
	VideoInputs, VideoOutputs int
	AudioInputs, AudioOutputs int
}

// parseInfo reads the answer to "I": "V<in>X<out>" and optionally "A<in>X<out>", then
// fields it ignores ("Exe0").
func parseInfo(line string) (matrixSize, error) {
	var s matrixSize
	video := false
	for _, f := range strings.Fields(line) {
		if len(f) < 4 || (f[0] != 'V' && f[0] != 'A') {
			continue
		}
		a, b, ok := strings.Cut(f[1:], "X")
		in, ok1 := number(a)
		out, ok2 := number(b)
		if !ok || !ok1 || !ok2 {
			continue
		}
		if f[0] == 'V' && !video {
			s.VideoInputs, s.VideoOutputs, video = in, out, true
		} else if f[0] == 'A' {
			s.AudioInputs, s.AudioOutputs = in, out
		}
	}
	if !video || s.VideoOutputs == 0 {
		return matrixSize{}, garbled(line, "want V<inputs>X<outputs>")
	}
	return s, nil
}

// parsePart reads the answer to "N": a part number such as "60-332-06", perhaps after "N".
func parsePart(line string) (string, error) {
	p := strings.TrimPrefix(strings.TrimSpace(line), "N")
	if len(p) < 4 || !strings.Contains(p, "-") || strings.Trim(p, "0123456789-.ABCDEFGHIJKLMNOPQRSTUVWXYZ") != "" {
		return "", garbled(line, "want a part number such as 60-1234-01")
	}
	return p, nil
}

// parseFirmware reads the answer to "Q": a version such as "1.23", perhaps after "Ver".
func parseFirmware(line string) (string, error) {
	v := strings.TrimPrefix(strings.TrimSpace(line), "Ver")
	if v == "" || v[0] < '0' || v[0] > '9' || !strings.Contains(v, ".") || strings.Trim(v, "0123456789.-") != "" {
		return "", garbled(line, "want a version such as 1.23")
	}
	return v, nil
}

// unsolicited are the starts of lines a switcher sends unasked: the greeting's date, login
// results and front-panel events.
var unsolicited = []string{"Mon, ", "Tue, ", "Wed, ", "Thu, ", "Fri, ", "Sat, ", "Sun, ",
	"Login ", "Qik", "Spr", "Rpr", "Vmt", "Amt", "Exe", "Reconfig", "All Configuration"}

// skippable reports whether line is one a switcher sends unasked.
func skippable(line string) bool {
	l := strings.TrimSpace(line)
	if l == "" || isCopyright(l) {
		return true
	}
	for _, p := range unsolicited {
		if strings.HasPrefix(l, p) {
			return true
		}
	}
	// Front-panel level changes: "In05 Aud+03", "Out02 Vol55".
	f := strings.Fields(l)
	if len(f) == 2 && (strings.HasPrefix(f[0], "In") || strings.HasPrefix(f[0], "Out")) &&
		(strings.HasPrefix(f[1], "Aud") && len(f[1]) > 3 || strings.HasPrefix(f[1], "Vol")) {
		return true
	}
	return false
}

func isCopyright(line string) bool {
	return strings.HasPrefix(strings.ToLower(line), "(c)")
}

// bannerModel returns the model a greeting names: "(c) Copyright 2008, Extron Electronics,
// MAV Plus, V1.23, 60-1234-01" → "MAV Plus".
func bannerModel(line string) (string, bool) {
	if !isCopyright(strings.TrimSpace(line)) {
		return "", false
	}
	f := strings.Split(line, ",")
	for i := 1; i+1 < len(f); i++ {
		if strings.EqualFold(strings.TrimSpace(f[i]), "Extron Electronics") {
			m := strings.TrimSpace(f[i+1])
			if m != "" && !(m[0] == 'V' && isVersion(m[1:])) {
				return m, true
			}
		}
	}
	return "", false
}

func isVersion(s string) bool {
	return s != "" && strings.Trim(s, "0123456789.") == ""
}

// isGarbled reports an errGarbled error.
func isGarbled(err error) bool { return errors.Is(err, errGarbled) }
