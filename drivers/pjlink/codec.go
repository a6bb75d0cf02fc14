package pjlink

import (
	"bufio"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/bailiff/bailiff/drivers"
)

const (
	// maxLine is the longest line, its CR included, either side may send (spec §2.1).
	maxLine = 136
	// maxParam is the longest parameter of a command (spec §2.1).
	maxParam = 128
	// digestLen is the length of the authentication digest, md5 in lower-case hex (spec §5.1).
	digestLen = 32
)

// digest returns md5hex(random + password), the prefix of the first command on a connection
// to a projector that asked for authentication (spec §5.1).
func digest(random, password string) string {
	sum := md5.Sum([]byte(random + password))
	return hex.EncodeToString(sum[:])
}

func validBody(cmd string) bool {
	if len(cmd) != 4 {
		return false
	}
	for i := 0; i < 4; i++ {
		c := cmd[i]
		if (c < 'A' || c > 'Z') && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}

// encodeRequest returns the command line "%1CMND param\r" (spec §2.1).
func encodeRequest(cmd, param string) ([]byte, error) {
	if !validBody(cmd) {
		return nil, fmt.Errorf("command %q: want 4 upper-case letters or digits: %w", cmd, drivers.ErrBadArgs)
	}
	if param == "" || len(param) > maxParam {
		return nil, fmt.Errorf("parameter of %s: want 1-%d characters: %w", cmd, maxParam, drivers.ErrBadArgs)
	}
	for i := 0; i < len(param); i++ {
		if param[i] < 0x20 || param[i] > 0x7e {
			return nil, fmt.Errorf("parameter of %s: want printable ASCII: %w", cmd, drivers.ErrBadArgs)
		}
	}
	return []byte("%1" + cmd + " " + param + "\r"), nil
}

// readLine reads one line ending in CR and returns it without the CR. A single LF at its
// start is dropped (some devices end lines with CR LF). A line longer than maxLine is a
// garbled reply; the caller must then close the connection, whose stream is out of step.
// Any other error is the reader's (io.EOF, a timeout).
func readLine(r *bufio.Reader) (string, error) {
	b, err := r.ReadSlice('\r')
	if len(b) > 0 && b[0] == '\n' {
		b = b[1:]
	}
	switch {
	case len(b) > maxLine:
		return "", garbled(string(b), fmt.Sprintf("longer than %d bytes", maxLine))
	case errors.Is(err, bufio.ErrBufferFull):
		return "", garbled(string(b), fmt.Sprintf("longer than %d bytes", maxLine))
	case err == io.EOF && len(b) > 0:
		return "", io.ErrUnexpectedEOF
	case err != nil:
		return "", err
	}
	return string(b[:len(b)-1]), nil
}

// newReader returns a reader with room for an over-long line to be noticed.
func newReader(rd io.Reader) *bufio.Reader { return bufio.NewReaderSize(rd, 2*maxLine) }

// parseGreeting parses the line a projector sends on connect (spec §5): "PJLINK 0", or
// "PJLINK 1 <random>" with random 8 letters or digits.
func parseGreeting(line string) (random string, auth bool, err error) {
	if line == "PJLINK 0" {
		return "", false, nil
	}
	rest, ok := strings.CutPrefix(line, "PJLINK 1 ")
	if !ok {
		return "", false, garbled(line, "not a PJLink greeting")
	}
	if len(rest) != 8 {
		return "", false, garbled(line, "the random of the greeting is not 8 characters")
	}
	for i := 0; i < len(rest); i++ {
		c := rest[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'z') && (c < 'A' || c > 'Z') {
			return "", false, garbled(line, "the random of the greeting is not alphanumeric")
		}
	}
	return rest, true, nil
}

// parseReply checks that line is the answer "%1CMND=payload" to cmd and returns its payload.
// An error answer (ERR1-4) is a *ReplyError; "PJLINK ERRA" is ErrAuth; anything else that is
// not a well-formed answer to cmd is a garbled reply.
func parseReply(line, cmd string) (string, error) {
	if line == "PJLINK ERRA" {
		return "", fmt.Errorf("projector refused the password: %w", ErrAuth)
	}
	if len(line) < 7 || line[0] != '%' || line[1] != '1' || line[6] != '=' {
		return "", garbled(line, "want %1CMND=…")
	}
	if line[2:6] != cmd {
		return "", garbled(line, "answers "+strconv.Quote(line[2:6])+", not "+cmd)
	}
	payload := line[7:]
	if !utf8.ValidString(payload) {
		return "", garbled(line, "not UTF-8")
	}
	for _, r := range payload {
		if !unicode.IsPrint(r) {
			return "", garbled(line, "holds a non-printable character")
		}
	}
	switch payload {
	case "ERR1", "ERR2", "ERR3", "ERR4":
		return "", &ReplyError{Cmd: cmd, Code: payload}
	}
	return payload, nil
}

// checkOK checks the payload of the answer to a set command.
func checkOK(cmd, payload string) error {
	if payload != "OK" {
		return badValue(cmd, payload, "want OK")
	}
	return nil
}

// queries lists the commands Poll sends, in order.
var queries = []string{"POWR", "INPT", "AVMT", "LAMP", "ERST", "INST", "NAME", "INF1", "INF2", "INFO", "CLSS"}

var powerStates = map[string]string{"0": "off", "1": "on", "2": "cooling", "3": "warming"}

// validInput reports whether s is a class 1 input code: type 1-5 (RGB, VIDEO, DIGITAL,
// STORAGE, NETWORK) then number 1-9 (spec §4.3).
func validInput(s string) bool {
	return len(s) == 2 && s[0] >= '1' && s[0] <= '5' && s[1] >= '1' && s[1] <= '9'
}

var errorParts = []string{"fan", "lamp", "temperature", "cover", "filter", "other"}

// decodeQuery decodes the payload of the answer to the query cmd into the state fields Poll
// publishes. An ERST answer with an "error" digit returns its fields and an error.
func decodeQuery(cmd, payload string) (drivers.State, error) {
	switch cmd {
	case "POWR": // §4.2
		p, ok := powerStates[payload]
		if !ok {
			return nil, badValue(cmd, payload, "want 0, 1, 2 or 3")
		}
		return drivers.State{"power": p}, nil
	case "INPT": // §4.4
		if !validInput(payload) {
			return nil, badValue(cmd, payload, "want an input code 11-59")
		}
		return drivers.State{"input": payload}, nil
	case "AVMT": // §4.6
		var video, audio bool
		switch payload {
		case "11":
			video = true
		case "21":
			audio = true
		case "31":
			video, audio = true, true
		case "30", "10", "20":
		default:
			return nil, badValue(cmd, payload, "want 11, 21, 30 or 31")
		}
		return drivers.State{"video_mute": video, "audio_mute": audio}, nil
	case "ERST": // §4.7
		if len(payload) != len(errorParts) {
			return nil, badValue(cmd, payload, "want 6 digits")
		}
		levels := make(map[string]string, len(errorParts))
		var faults []string
		for i, part := range errorParts {
			switch payload[i] {
			case '0':
				levels[part] = "ok"
			case '1':
				levels[part] = "warning"
			case '2':
				levels[part] = "error"
				faults = append(faults, part)
			default:
				return nil, badValue(cmd, payload, "want digits 0, 1 or 2")
			}
		}
		st := drivers.State{"errors": levels}
		if len(faults) > 0 {
			return st, &valueError{msg: fmt.Sprintf("projector reports errors in %s (ERST %s)", strings.Join(faults, ", "), payload)}
		}
		return st, nil
	case "LAMP": // §4.8
		f := strings.Split(payload, " ")
		if len(f)%2 != 0 || len(f) > 16 {
			return nil, badValue(cmd, payload, "want 1-8 pairs of hours and 0 or 1")
		}
		lamps := make([]map[string]any, 0, len(f)/2)
		for i := 0; i < len(f); i += 2 {
			h, s := f[i], f[i+1]
			// The spec allows 1-5 digits; some light sources outlive that, so up to 9 are taken.
			if len(h) == 0 || len(h) > 9 || strings.Trim(h, "0123456789") != "" {
				return nil, badValue(cmd, payload, "lamp hours are not a number")
			}
			if s != "0" && s != "1" {
				return nil, badValue(cmd, payload, "lamp state is not 0 or 1")
			}
			n, _ := strconv.Atoi(h)
			lamps = append(lamps, map[string]any{"hours": n, "on": s == "1"})
		}
		return drivers.State{"lamps": lamps}, nil
	case "INST": // §4.9
		inputs := []string{}
		if payload != "" {
			inputs = strings.Split(payload, " ")
		}
		for _, in := range inputs {
			if !validInput(in) {
				return nil, badValue(cmd, payload, "want input codes 11-59 separated by spaces")
			}
		}
		return drivers.State{"inputs": inputs}, nil
	case "NAME": // §4.10
		return drivers.State{"name": payload}, nil
	case "INF1": // §4.11
		return drivers.State{"manufacturer": payload}, nil
	case "INF2": // §4.12
		return drivers.State{"model": payload}, nil
	case "INFO": // §4.13
		return drivers.State{"info": payload}, nil
	case "CLSS": // §4.14
		if len(payload) != 1 || payload[0] < '1' || payload[0] > '9' {
			return nil, badValue(cmd, payload, "want a class digit")
		}
		return drivers.State{"class": payload}, nil
	}
	return nil, fmt.Errorf("no decoder for %s: %w", cmd, drivers.ErrUnsupported)
}

// inputTypes maps the friendly names of the input types of spec §4.3 to their digit.
var inputTypes = []struct {
	name  string
	digit byte
}{{"rgb", '1'}, {"video", '2'}, {"digital", '3'}, {"storage", '4'}, {"network", '5'}}

// inputCode turns a source, a code ("31") or a friendly name ("digital1"), into a code.
func inputCode(source string) (string, error) {
	s := strings.ToLower(strings.TrimSpace(source))
	if validInput(s) {
		return s, nil
	}
	for _, t := range inputTypes {
		if n, ok := strings.CutPrefix(s, t.name); ok && len(n) == 1 && n[0] >= '1' && n[0] <= '9' {
			return string([]byte{t.digit, n[0]}), nil
		}
	}
	return "", fmt.Errorf("unknown input %q: want a PJLink code 11-59 or rgb1-9, video1-9, digital1-9, storage1-9, network1-9: %w",
		source, drivers.ErrBadArgs)
}
