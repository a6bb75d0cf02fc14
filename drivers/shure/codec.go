package shure

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/bailiff/bailiff/drivers"
)

// Kinds of command string.
const (
	KindGet    = "GET"
	KindSet    = "SET"
	KindRep    = "REP"
	KindSample = "SAMPLE"
)

// Parameters this driver sends or reads.
const (
	ParamDeviceMute = "DEVICE_AUDIO_MUTE"
	ParamMute       = "AUDIO_MUTE"
	ParamGain       = "AUDIO_GAIN_HI_RES"
	ParamPreset     = "PRESET"
	ParamMeterRate  = "METER_RATE"
	ParamModel      = "MODEL"
	ParamAll        = "ALL"
	paramErr        = "ERR"
)

const (
	// maxFrame is the longest frame, "<" to ">", this driver reads. The longest report of the
	// command-string documents is a 32-character model or serial number in braces.
	maxFrame = 512
	// GainOffset is the AUDIO_GAIN_HI_RES value of 0 dB: the value is tenths of a dB plus 1100.
	GainOffset = 1100
	// GainMax is the highest AUDIO_GAIN_HI_RES value (+30.0 dB); the lowest is 0 (-110.0 dB).
	GainMax = 1400
	// LevelMax is the highest audio level of a SAMPLE (000-060); level L is L-60 dBFS.
	LevelMax = 60
)

// Message is one command string, "< KIND [channel] PARAM [value] >", or a meter sample,
// "< SAMPLE aaa bbb … >".
type Message struct {
	Kind    string // GET, SET, REP or SAMPLE
	Channel string // the channel index as sent ("1", "01"), "" when the message names none
	Param   string // e.g. "AUDIO_MUTE"; "ERR" in the error answer "< REP ERR >"
	Value   string // the rest, e.g. "ON", "1100", "{MXA910 …}"; "" when none
	Levels  []int  // the levels of a SAMPLE, 0-60
}

// Command is what the controller sends: a GET or a SET.
type Command struct {
	Kind, Channel, Param, Value string
}

// String returns the command string, "< SET 1 AUDIO_MUTE ON >".
func (c Command) String() string {
	var b strings.Builder
	b.WriteString("< ")
	b.WriteString(c.Kind)
	if c.Channel != "" {
		b.WriteByte(' ')
		b.WriteString(c.Channel)
	}
	b.WriteByte(' ')
	b.WriteString(c.Param)
	if c.Value != "" {
		b.WriteByte(' ')
		b.WriteString(c.Value)
	}
	b.WriteString(" >")
	return b.String()
}

// encode checks a command and returns its bytes.
func (c Command) encode() ([]byte, error) {
	if c.Kind != KindGet && c.Kind != KindSet {
		return nil, fmt.Errorf("command kind %q: want GET or SET: %w", c.Kind, drivers.ErrBadArgs)
	}
	if c.Channel != "" && !isChannel(c.Channel) {
		return nil, fmt.Errorf("channel %q: want 1 or 2 digits: %w", c.Channel, drivers.ErrBadArgs)
	}
	if !validParam(c.Param) {
		return nil, fmt.Errorf("parameter %q: want upper-case letters, digits and _: %w", c.Param, drivers.ErrBadArgs)
	}
	for i := 0; i < len(c.Value); i++ {
		if ch := c.Value[i]; ch < 0x20 || ch > 0x7e || ch == '<' || ch == '>' {
			return nil, fmt.Errorf("value of %s: want printable ASCII without < or >: %w", c.Param, drivers.ErrBadArgs)
		}
	}
	return []byte(c.String()), nil
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

// isChannel reports whether s is a channel index: 1 or 2 digits (spec: "x" on MXA, "xx" on P300).
func isChannel(s string) bool { return len(s) <= 2 && isDigits(s) }

// validParam reports whether s is a parameter name: an upper-case letter, then upper-case
// letters, digits and underscores (PRESET1, AUDIO_GAIN_HI_RES).
func validParam(s string) bool {
	if s == "" || len(s) > 64 || s[0] < 'A' || s[0] > 'Z' {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if (c < 'A' || c > 'Z') && (c < '0' || c > '9') && c != '_' {
			return false
		}
	}
	return true
}

// newReader returns a reader for a connection's byte stream.
func newReader(rd io.Reader) *bufio.Reader { return bufio.NewReaderSize(rd, 2*maxFrame) }

// readFrame reads the next frame and returns what is between "<" and ">". White space
// between frames is skipped; any other byte there, a second "<" inside a frame or a frame
// longer than maxFrame is a garbled reply, after which the caller must close the connection.
// A ">" inside braces ("{…}", a name or model) does not end the frame. Any other error is
// the reader's (io.EOF, a timeout); a frame cut short by EOF is io.ErrUnexpectedEOF.
func readFrame(r *bufio.Reader) (string, error) {
	for {
		c, err := r.ReadByte()
		if err != nil {
			return "", err
		}
		if c == '<' {
			break
		}
		switch c {
		case ' ', '\r', '\n', '\t', 0:
			continue
		}
		return "", garbled(string([]byte{c}), "byte outside a command string")
	}
	var b []byte
	braces := false
	for {
		c, err := r.ReadByte()
		if err != nil {
			if err == io.EOF {
				return "", io.ErrUnexpectedEOF
			}
			return "", err
		}
		switch {
		case c == '{':
			braces = true
		case c == '}':
			braces = false
		case c == '>' && !braces:
			return string(b), nil
		case c == '<' && !braces:
			return "", garbled("<"+string(b)+"<", "a second < inside a command string")
		}
		b = append(b, c)
		if len(b) > maxFrame {
			return "", garbled("<"+string(b), fmt.Sprintf("longer than %d bytes", maxFrame))
		}
	}
}

// parseMessage parses the inside of a frame, " REP 1 AUDIO_MUTE ON ". Spaces around it and
// between fields are not counted; a value in braces is kept whole, spaces included.
func parseMessage(body string) (Message, error) {
	frame := "<" + body + ">"
	braces := false
	for i := 0; i < len(body); i++ {
		switch c := body[i]; {
		case c < 0x20 || c > 0x7e:
			return Message{}, garbled(frame, "holds a byte that is not printable ASCII")
		case c == '{':
			braces = true
		case c == '}':
			braces = false
		case (c == '<' || c == '>') && !braces:
			return Message{}, garbled(frame, "holds a bracket")
		}
	}
	if braces {
		return Message{}, garbled(frame, "an unclosed {")
	}
	rest := strings.TrimSpace(body)
	kind, rest := cutField(rest)
	var m Message
	switch kind {
	case KindGet, KindSet, KindRep:
		m.Kind = kind
	case KindSample:
		m.Kind = kind
		fields := strings.Fields(rest)
		if len(fields) == 0 {
			return Message{}, garbled(frame, "a sample without levels")
		}
		m.Levels = make([]int, len(fields))
		for i, f := range fields {
			if len(f) > 3 || !isDigits(f) {
				return Message{}, garbled(frame, "a level is not 1-3 digits")
			}
			n, _ := strconv.Atoi(f)
			if n > LevelMax {
				return Message{}, garbled(frame, fmt.Sprintf("a level above %d", LevelMax))
			}
			m.Levels[i] = n
		}
		return m, nil
	case "":
		return Message{}, garbled(frame, "empty")
	default:
		return Message{}, garbled(frame, "not GET, SET, REP or SAMPLE")
	}
	f, after := cutField(rest)
	if isChannel(f) {
		m.Channel = f
		f, after = cutField(after)
	}
	if !validParam(f) {
		return Message{}, garbled(frame, "no parameter name")
	}
	m.Param = f
	m.Value = after
	if strings.HasPrefix(m.Value, "{") && !strings.HasSuffix(m.Value, "}") {
		return Message{}, garbled(frame, "text after a value in braces")
	}
	if m.Param == paramErr && (m.Kind != KindRep || m.Channel != "" || m.Value != "") {
		return Message{}, garbled(frame, "a malformed error answer")
	}
	if n := canonicalLen(m); n > maxFrame {
		// Every message parsed is one a frame can carry as the protocol writes it.
		return Message{}, garbled(frame, fmt.Sprintf("longer than %d bytes as a frame (%d)", maxFrame, n))
	}
	return m, nil
}

// canonicalLen is the length of the inside of m's frame as Command.String writes it:
// " KIND [CHANNEL ]PARAM[ VALUE] ".
func canonicalLen(m Message) int {
	n := 1 + len(m.Kind) + 1 + len(m.Param) + 1
	if m.Channel != "" {
		n += 1 + len(m.Channel)
	}
	if m.Value != "" {
		n += 1 + len(m.Value)
	}
	return n
}

// cutField splits off the first space-separated field; a field starting with "{" runs to the
// matching "}".
func cutField(s string) (field, rest string) {
	s = strings.TrimLeft(s, " ")
	if strings.HasPrefix(s, "{") {
		if i := strings.IndexByte(s, '}'); i >= 0 {
			return s[:i+1], strings.TrimSpace(s[i+1:])
		}
		return s, ""
	}
	if i := strings.IndexByte(s, ' '); i >= 0 {
		return s[:i], strings.TrimSpace(s[i+1:])
	}
	return s, ""
}

// channelNumber returns the number of a channel index ("01" → 1); -1 when there is none.
func channelNumber(s string) int {
	if s == "" {
		return -1
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return -1
	}
	return n
}

// decodeOnOff decodes the value of a mute report.
func decodeOnOff(m Message) (bool, error) {
	switch m.Value {
	case "ON":
		return true, nil
	case "OFF":
		return false, nil
	}
	return false, badValue(m, "want ON or OFF")
}

// decodeGain decodes an AUDIO_GAIN_HI_RES value, 0000-1400, into dB.
func decodeGain(m Message) (float64, error) {
	if len(m.Value) != 4 || !isDigits(m.Value) {
		return 0, badValue(m, "want 4 digits")
	}
	n, _ := strconv.Atoi(m.Value)
	if n > GainMax {
		return 0, badValue(m, fmt.Sprintf("above %04d", GainMax))
	}
	return GainDB(n), nil
}

// decodeNumber decodes a PRESET or METER_RATE value of at most digits digits.
func decodeNumber(m Message, digits int) (int, error) {
	if len(m.Value) > digits || !isDigits(m.Value) {
		return 0, badValue(m, fmt.Sprintf("want 1-%d digits", digits))
	}
	n, _ := strconv.Atoi(m.Value)
	return n, nil
}

// decodeText decodes a text value, "{MXA910      }" → "MXA910".
func decodeText(m Message) string {
	v := strings.TrimSuffix(strings.TrimPrefix(m.Value, "{"), "}")
	return strings.TrimSpace(v)
}

// GainDB converts an AUDIO_GAIN_HI_RES value to dB: (value-1100)/10.
func GainDB(value int) float64 { return float64(value-GainOffset) / 10 }

// GainValue converts dB to an AUDIO_GAIN_HI_RES value, rounded to 0.1 dB; ok is false when
// db is outside -110.0…+30.0.
func GainValue(db float64) (value int, ok bool) {
	if math.IsNaN(db) || math.IsInf(db, 0) {
		return 0, false
	}
	v := math.Round(db*10) + GainOffset
	if v < 0 || v > GainMax {
		return 0, false
	}
	return int(v), true
}

// LevelDBFS converts a SAMPLE level (0-60) to dBFS: level-60.
func LevelDBFS(level int) float64 { return float64(level - LevelMax) }

// meterLevels turns a SAMPLE into the levels Notify.Meter takes, by channel "1", "2", ….
func meterLevels(levels []int) map[string]float64 {
	out := make(map[string]float64, len(levels))
	for i, l := range levels {
		out[strconv.Itoa(i+1)] = LevelDBFS(l)
	}
	return out
}

// cache is the device's state as its reports told it.
type cache struct {
	deviceMute *bool
	preset     *int
	meterRate  *int
	model      *string
	mute       map[int]bool
	gain       map[int]float64
}

func newCache() *cache { return &cache{mute: map[int]bool{}, gain: map[int]float64{}} }

// apply takes a report into the cache. changed tells whether a published field changed
// (mute, gain, preset, model; the meter rate is this driver's own setting). Reports of
// parameters the state does not hold are ignored; a value that does not decode is an error
// and changes nothing.
func (c *cache) apply(m Message) (changed bool, err error) {
	if m.Kind != KindRep {
		return false, nil
	}
	ch := channelNumber(m.Channel)
	switch m.Param {
	case ParamDeviceMute:
		on, err := decodeOnOff(m)
		if err != nil {
			return false, err
		}
		changed = c.deviceMute == nil || *c.deviceMute != on
		c.deviceMute = &on
	case ParamMute:
		if ch < 1 {
			return false, nil // "0": all channels, never reported as such
		}
		on, err := decodeOnOff(m)
		if err != nil {
			return false, err
		}
		old, ok := c.mute[ch]
		changed = !ok || old != on
		c.mute[ch] = on
	case ParamGain:
		if ch < 1 {
			return false, nil
		}
		db, err := decodeGain(m)
		if err != nil {
			return false, err
		}
		old, ok := c.gain[ch]
		changed = !ok || old != db
		c.gain[ch] = db
	case ParamPreset:
		n, err := decodeNumber(m, 2)
		if err != nil {
			return false, err
		}
		changed = c.preset == nil || *c.preset != n
		c.preset = &n
	case ParamMeterRate:
		n, err := decodeNumber(m, 5)
		if err != nil {
			return false, err
		}
		c.meterRate = &n
	case ParamModel:
		s := decodeText(m)
		changed = c.model == nil || *c.model != s
		c.model = &s
	}
	return changed, nil
}

// state returns the fields of the cache that are known:
//
//	"mute": bool (device mute), "preset": int, "model": string, "meter_rate_ms": int,
//	"channels": {"1": {"mute": bool, "gain_db": float64}, …}
func (c *cache) state() drivers.State {
	st := drivers.State{}
	if c.deviceMute != nil {
		st["mute"] = *c.deviceMute
	}
	if c.preset != nil {
		st["preset"] = *c.preset
	}
	if c.model != nil {
		st["model"] = *c.model
	}
	if c.meterRate != nil {
		st["meter_rate_ms"] = *c.meterRate
	}
	if len(c.mute)+len(c.gain) > 0 {
		chs := map[string]map[string]any{}
		get := func(n int) map[string]any {
			k := strconv.Itoa(n)
			if chs[k] == nil {
				chs[k] = map[string]any{}
			}
			return chs[k]
		}
		for n, on := range c.mute {
			get(n)["mute"] = on
		}
		for n, db := range c.gain {
			get(n)["gain_db"] = db
		}
		st["channels"] = chs
	}
	return st
}

// isErr reports whether m is the error answer "< REP ERR >".
func isErr(m Message) bool { return m.Kind == KindRep && m.Param == paramErr }

// readMessage reads and parses the next message.
func readMessage(r *bufio.Reader) (Message, error) {
	body, err := readFrame(r)
	if err != nil {
		return Message{}, err
	}
	return parseMessage(body)
}

// isGarbled reports whether err says the stream is out of step.
func isGarbled(err error) bool { return errors.Is(err, errGarbled) }
