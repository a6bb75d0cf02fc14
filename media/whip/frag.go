package whip

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/bailiff/bailiff/media/sfu"
	"github.com/pion/ice/v4"
)

// Limits on a trickle fragment.
const (
	maxFragmentCandidates = 64
	maxFragmentLines      = 512
	maxLineLength         = 2048
)

// fragment is an application/trickle-ice-sdpfrag body (RFC 8840 §9.2):
// ICE credentials, candidates per media section, end-of-candidates.
type fragment struct {
	Ufrag, Pwd      string
	Candidates      []string // "candidate:…"
	EndOfCandidates bool
}

var errFragment = errors.New("whip: bad trickle-ice-sdpfrag")

// parseFragment reads a trickle fragment. It accepts CRLF or LF line
// ends, ignores attributes it does not use, and rejects what is not SDP
// syntax, credentials that disagree or are not ice-chars, candidates that
// do not parse, and fragments past the limits above.
func parseFragment(b []byte) (fragment, error) {
	var f fragment
	bad := func(format string, a ...any) (fragment, error) {
		return fragment{}, fmt.Errorf("%w: "+format, append([]any{errFragment}, a...)...)
	}
	if !utf8.Valid(b) {
		return bad("not UTF-8")
	}
	lines := strings.Split(string(b), "\n")
	if len(lines) > maxFragmentLines {
		return bad("more than %d lines", maxFragmentLines)
	}
	inMedia := false
	for i, line := range lines {
		line = strings.TrimSuffix(line, "\r")
		if line == "" {
			continue
		}
		if len(line) > maxLineLength {
			return bad("line %d is longer than %d bytes", i+1, maxLineLength)
		}
		for _, c := range []byte(line) {
			if c < 0x20 && c != '\t' || c == 0x7f {
				return bad("line %d has a control character", i+1)
			}
		}
		if len(line) < 2 || line[1] != '=' || line[0] < 'a' || line[0] > 'z' {
			return bad("line %d is not <type>=<value>", i+1)
		}
		typ, val := line[0], line[2:]
		switch typ {
		case 'm':
			inMedia = true
			continue
		case 'a':
		default:
			continue
		}
		name, value, _ := strings.Cut(val, ":")
		switch name {
		case "ice-ufrag":
			if f.Ufrag != "" && f.Ufrag != value {
				return bad("two different ice-ufrag")
			}
			f.Ufrag = value
		case "ice-pwd":
			if f.Pwd != "" && f.Pwd != value {
				return bad("two different ice-pwd")
			}
			f.Pwd = value
		case "candidate":
			if !inMedia {
				return bad("a candidate before any m= line")
			}
			if len(f.Candidates) == maxFragmentCandidates {
				return bad("more than %d candidates", maxFragmentCandidates)
			}
			if _, err := ice.UnmarshalCandidate(value); err != nil {
				return bad("line %d: %v", i+1, err)
			}
			f.Candidates = append(f.Candidates, "candidate:"+value)
		case "end-of-candidates":
			f.EndOfCandidates = true
		}
	}
	if f.Ufrag != "" && !iceChars(f.Ufrag, 4) {
		return bad("ice-ufrag is not 4 to 256 ice-chars")
	}
	if f.Pwd != "" && !iceChars(f.Pwd, 22) {
		return bad("ice-pwd is not 22 to 256 ice-chars")
	}
	if f.Ufrag == "" && f.Pwd == "" && len(f.Candidates) == 0 && !f.EndOfCandidates {
		return bad("no ICE credentials, candidates or end-of-candidates")
	}
	return f, nil
}

// iceChars: ALPHA / DIGIT / "+" / "/" (RFC 8839 §5.4).
func iceChars(s string, min int) bool {
	if len(s) < min || len(s) > 256 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '+' || c == '/') {
			return false
		}
	}
	return true
}

// renderFragment writes the hub's side of an ICE restart as a trickle
// fragment: credentials, then its candidates under the first media
// section, then end-of-candidates (the hub gathers before answering).
func renderFragment(p sfu.ICEParameters) string {
	var b strings.Builder
	media := p.Media
	if media == "" {
		media = "audio"
	}
	fmt.Fprintf(&b, "a=ice-ufrag:%s\r\na=ice-pwd:%s\r\nm=%s 9 UDP/TLS/RTP/SAVPF 0\r\n", p.Ufrag, p.Pwd, media)
	if p.Mid != "" {
		fmt.Fprintf(&b, "a=mid:%s\r\n", p.Mid)
	}
	for _, c := range p.Candidates {
		fmt.Fprintf(&b, "a=%s\r\n", c)
	}
	b.WriteString("a=end-of-candidates\r\n")
	return b.String()
}
