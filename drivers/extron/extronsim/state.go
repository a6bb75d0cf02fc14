package extronsim

import (
	"fmt"
	"strconv"
	"strings"
)

// maxCommand is the longest command the parser keeps; a longer one is answered E10.
const maxCommand = 64

// parser splits the byte stream into SIS commands as a switcher does: a command ends at its
// terminating character, with no line end needed, so commands may come back to back.
type parser struct {
	buf  []byte
	esc  bool // inside an Esc … } command
	over bool // dropping the rest of an over-long command, already answered
}

// feed takes one byte and returns a complete command when c ends one.
func (p *parser) feed(c byte) (string, bool) {
	switch {
	case p.over:
		if c == '!' || c == '%' || c == '&' || c == '$' || c == '}' || c == '\r' || c == '\n' {
			p.over = false
		}
		return "", false
	case p.esc:
		p.buf = append(p.buf, c)
		if c == '}' {
			p.esc = false
			return p.take(), true
		}
		if len(p.buf) > maxCommand {
			p.esc, p.over = false, true
			return p.take(), true
		}
		return "", false
	case c == 0x1B:
		p.buf, p.esc = append(p.buf[:0], c), true
		return "", false
	case c == '!' || c == '%' || c == '&' || c == '$':
		p.buf = append(p.buf, c)
		return p.take(), true
	case c == '\r' || c == '\n':
		if len(p.buf) == 0 {
			return "", false // line ends between commands are ignored
		}
		return p.take(), true
	case len(p.buf) == 0 && !(c >= '0' && c <= '9') && c != '*':
		p.buf = append(p.buf, c) // a one-letter command: I, N, Q, or one the switcher does not know
		return p.take(), true
	}
	p.buf = append(p.buf, c)
	if len(p.buf) > maxCommand {
		p.over = true
		return p.take(), true
	}
	return "", false
}

func (p *parser) take() string {
	s := string(p.buf)
	p.buf = p.buf[:0]
	return s
}

// handle acts on one command and returns the answer with its CR LF.
func (s *Sim) handle(cmd string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	ans := s.act(cmd)
	return ans + "\r\n"
}

// act applies cmd to the switcher and returns the answer. s.mu is held.
func (s *Sim) act(cmd string) string {
	if s.errCode != "" {
		return s.errCode
	}
	switch strings.ToUpper(cmd) {
	case "I":
		if s.audio == nil {
			return fmt.Sprintf("V%dX%d", s.cfg.Inputs, s.cfg.Outputs)
		}
		return fmt.Sprintf("V%dX%d A%dX%d", s.cfg.Inputs, s.cfg.Outputs, s.cfg.Inputs, s.cfg.Outputs)
	case "N":
		return s.cfg.Part
	case "Q":
		return s.cfg.Firmware
	}
	if len(cmd) < 2 {
		return "E10"
	}
	kind := cmd[len(cmd)-1]
	body := cmd[:len(cmd)-1]
	if kind != '!' && kind != '%' && kind != '&' && kind != '$' {
		return "E10"
	}
	if a, b, ok := strings.Cut(body, "*"); ok {
		in, ok := num(a)
		if !ok {
			return "E10"
		}
		out := 0
		if b != "" {
			if out, ok = num(b); !ok {
				return "E10"
			}
			if out == 0 {
				return "E12"
			}
		}
		if err := s.tie(in, out, kind); err != "" {
			return err
		}
		if out == 0 {
			return fmt.Sprintf("In%s %s", s.pad(in), word(kind))
		}
		return fmt.Sprintf("Out%s In%s %s", s.pad(out), s.pad(in), word(kind))
	}
	out, ok := num(body)
	switch {
	case !ok:
		return "E10"
	case out < 1 || out > s.cfg.Outputs:
		return "E12"
	case kind == '$' && s.audio == nil:
		return "E14"
	case kind == '$':
		return s.pad(s.audio[out-1])
	}
	return s.pad(s.video[out-1])
}

// tie ties in to out (0: every output) and returns "" or the E-code. s.mu is held.
func (s *Sim) tie(in, out int, kind byte) string {
	switch {
	case in < 0 || in > s.cfg.Inputs:
		return "E01"
	case out < 0 || out > s.cfg.Outputs:
		return "E12"
	case kind != '!' && kind != '%' && kind != '&' && kind != '$':
		return "E10"
	case kind == '$' && s.audio == nil:
		return "E14"
	}
	first, last := out, out
	if out == 0 {
		first, last = 1, s.cfg.Outputs
	}
	for o := first; o <= last; o++ {
		if kind != '$' {
			s.video[o-1] = in
		}
		if kind == '!' || kind == '$' {
			if s.audio != nil {
				s.audio[o-1] = in
			}
		}
	}
	return ""
}

// num reads a 1-3 digit number as SIS takes them.
func num(s string) (int, bool) {
	if len(s) == 0 || len(s) > 3 || strings.Trim(s, "0123456789") != "" {
		return 0, false
	}
	n, err := strconv.Atoi(s)
	return n, err == nil
}

func (s *Sim) pad(n int) string { return fmt.Sprintf("%0*d", s.cfg.Digits, n) }

func word(kind byte) string {
	switch kind {
	case '!':
		return "All"
	case '%':
		return "Vid"
	case '&':
		return "RGB"
	}
	return "Aud"
}
