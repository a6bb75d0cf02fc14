package samsungmdc

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"

	"github.com/bailiff/bailiff/drivers"
	"github.com/bailiff/bailiff/drivers/samsungmdc/internal/golden"
)

// brokenOnPurpose are the golden rows whose bytes break the frame rules.
var brokenOnPurpose = map[string]bool{"bad checksum": true, "no header": true, "garbage": true, "cut short": true}

// garbledRows are the golden rows the driver must call a garbled answer.
var garbledRows = []string{
	"answer from another display", "answer for another command", "neither ack nor nak", "answer too short",
	"nak with extra bytes", "request echoed", "bad checksum", "no header", "garbage",
}

// decodeFrame runs a golden frame's reply through the codec the way an exchange and its
// caller do: read the frame, parse it as the answer to the frame's command, then decode a
// get's value or check a set's echo.
func decodeFrame(f golden.Frame) (drivers.State, error) {
	if f.Reply == nil {
		return nil, nil
	}
	fr, err := readFrame(bufio.NewReader(bytes.NewReader(f.Reply)))
	if err != nil {
		return nil, err
	}
	vals, err := parseReply(fr, f.Cmd, f.ID)
	if err != nil {
		return nil, err
	}
	switch {
	case f.Data != nil:
		return nil, checkEcho(f.Cmd, f.Data[0], vals)
	case f.Cmd == CmdStatus:
		return decodeStatus(vals)
	}
	return decodeValue(f.Cmd, vals)
}

func checkFrame(t *testing.T, f golden.Frame, got drivers.State, err error) {
	t.Helper()
	if f.Code == "" && err != nil {
		t.Fatalf("error %v, want none", err)
	}
	if f.Code != "" {
		if err == nil {
			t.Fatalf("no error, want %s", f.Code)
		}
		if c := drivers.Code(err); c != f.Code {
			t.Fatalf("error %q has code %s, want %s", err, c, f.Code)
		}
	}
	if f.Want == nil {
		if len(got) != 0 {
			t.Fatalf("decoded %v, want nothing", got)
		}
		return
	}
	if !reflect.DeepEqual(map[string]any(got), f.Want) {
		t.Fatalf("decoded %#v, want %#v", got, f.Want)
	}
}

func TestGoldenChecksums(t *testing.T) {
	for _, f := range golden.Frames {
		for _, b := range [][]byte{f.Request, f.Reply} {
			if b == nil || brokenOnPurpose[f.Name] && bytes.Equal(b, f.Reply) {
				continue
			}
			if len(b) < 5 || b[0] != 0xAA || int(b[3])+5 != len(b) {
				t.Errorf("%s: % X is not one whole frame", f.Name, b)
				continue
			}
			if got := checksum(b[1 : len(b)-1]); got != b[len(b)-1] {
				t.Errorf("%s: % X has checksum %02X, the rule gives %02X", f.Name, b, b[len(b)-1], got)
			}
		}
	}
}

func TestCodecGolden(t *testing.T) {
	for _, f := range golden.Frames {
		t.Run(f.Name, func(t *testing.T) {
			req, err := encodeFrame(f.Cmd, f.ID, f.Data)
			if err != nil {
				t.Fatalf("encodeFrame: %v", err)
			}
			if !bytes.Equal(req, f.Request) {
				t.Fatalf("encodeFrame(%02X, %d, % X) = % X, want % X", f.Cmd, f.ID, f.Data, req, f.Request)
			}
			got, err := decodeFrame(f)
			if f.Code == "unreachable" {
				// A frame cut short is an I/O error here; the exchange wraps it (transcript test).
				if !errors.Is(err, io.ErrUnexpectedEOF) {
					t.Fatalf("error %v, want io.ErrUnexpectedEOF", err)
				}
				return
			}
			checkFrame(t, f, got, err)
		})
	}
}

func TestGarbledAnswersSayGarbled(t *testing.T) {
	byName := map[string]golden.Frame{}
	for _, f := range golden.Frames {
		byName[f.Name] = f
	}
	for _, name := range garbledRows {
		f, ok := byName[name]
		if !ok {
			t.Fatalf("no golden row %q", name)
		}
		_, err := decodeFrame(f)
		if !errors.Is(err, errGarbled) || !strings.Contains(err.Error(), "garbled answer") || !errors.Is(err, drivers.ErrDevice) {
			t.Errorf("%s: error %v, want a garbled answer", name, err)
		}
	}
}

func TestNakError(t *testing.T) {
	_, err := parseReply(frame{cmd: 0xFF, id: 1, data: []byte{'N', 0x14, 0x02}}, 0x14, 1)
	var ne *NakError
	if !errors.As(err, &ne) || ne.Cmd != 0x14 || ne.Code != 0x02 || !errors.Is(err, drivers.ErrDevice) {
		t.Fatalf("error %v, want a *NakError for 0x14 code 0x02", err)
	}
	if got, want := err.Error(), "display refused command 0x14 (NAK, error code 0x02): device error"; got != want {
		t.Fatalf("message %q, want %q", got, want)
	}
}

func TestReadFrameSequence(t *testing.T) {
	r := bufio.NewReader(bytes.NewReader(golden.H("AA FF 01 03 41 11 01 56 AA FF 01 03 41 12 1E 74 AA FF")))
	for _, cmd := range []byte{0x11, 0x12} {
		f, err := readFrame(r)
		if err != nil || f.data[1] != cmd {
			t.Fatalf("readFrame = %+v, %v; want the answer to %02X", f, err, cmd)
		}
	}
	if _, err := readFrame(r); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("readFrame of a cut frame: %v, want io.ErrUnexpectedEOF", err)
	}
	if _, err := readFrame(r); !errors.Is(err, io.EOF) {
		t.Fatalf("readFrame at the end: %v, want io.EOF", err)
	}
}

func TestEncodeFrameRejectsLongData(t *testing.T) {
	if _, err := encodeFrame(0x11, 1, make([]byte, 256)); drivers.Code(err) != "bad_args" {
		t.Fatalf("256 data bytes: %v, want bad_args", err)
	}
	if b, err := encodeFrame(0x11, 1, make([]byte, 255)); err != nil || len(b) != 260 {
		t.Fatalf("255 data bytes: %d bytes, %v", len(b), err)
	}
}

func TestInputCode(t *testing.T) {
	for in, want := range map[string]byte{
		"hdmi1": 0x21, "HDMI1": 0x21, "hdmi": 0x21, " hdmi2 ": 0x23, "hdmi3": 0x31, "hdmi4": 0x33,
		"dp": 0x25, "dp1": 0x25, "displayport": 0x25, "dp2": 0x26, "pc": 0x14, "vga": 0x14, "dvi": 0x18,
		"magicinfo": 0x20, "magicinfo-s": 0x60, "magicinfo_s": 0x60, "hdbaset": 0x55, "0x21": 0x21, "0X25": 0x25,
		"0x7f": 0x7F, "tv": 0x30, "s-video": 0x04, "component": 0x08, "url-launcher": 0x63,
	} {
		if got, err := inputCode(in); err != nil || got != want {
			t.Errorf("inputCode(%q) = %02X, %v; want %02X", in, got, err, want)
		}
	}
	for _, in := range []string{"", "hdmi5", "hdmi1-pc", "dvi-video", "0x22", "0x1f", "0x", "0x123", "0xzz", "21", "input1"} {
		if got, err := inputCode(in); drivers.Code(err) != "bad_args" {
			t.Errorf("inputCode(%q) = %02X, %v; want bad_args", in, got, err)
		}
	}
}

func TestInputNamesRoundTrip(t *testing.T) {
	names := InputNames()
	if len(names) != len(inputs) || names[0] != "s-video" {
		t.Fatalf("InputNames() = %v", names)
	}
	seen := map[string]bool{}
	for _, in := range inputs {
		if seen[in.name] {
			t.Errorf("name %q twice", in.name)
		}
		seen[in.name] = true
		for _, a := range in.aliases {
			if seen[a] {
				t.Errorf("alias %q twice", a)
			}
			seen[a] = true
		}
		if InputName(in.code) != in.name {
			t.Errorf("InputName(%02X) = %q, want %q", in.code, InputName(in.code), in.name)
		}
		code, err := inputCode(in.name)
		if in.getOnly {
			if drivers.Code(err) != "bad_args" {
				t.Errorf("get-only %q: %v, want bad_args", in.name, err)
			}
			continue
		}
		if err != nil || code != in.code {
			t.Errorf("inputCode(%q) = %02X, %v; want %02X", in.name, code, err, in.code)
		}
	}
	if got := InputName(0x99); got != "0x99" {
		t.Errorf("InputName(0x99) = %q", got)
	}
}

func TestLevelForGain(t *testing.T) {
	for db, want := range map[float64]byte{0: 100, -0.4: 100, -0.6: 99, -30: 70, -99.6: 0, -100: 0, -120: 0, -55.5: 45} {
		if got, err := levelForGain(db); err != nil || got != want {
			t.Errorf("levelForGain(%v) = %d, %v; want %d", db, got, err, want)
		}
	}
	for _, db := range []float64{0.1, 6, 60} {
		if _, err := levelForGain(db); drivers.Code(err) != "bad_args" {
			t.Errorf("levelForGain(%v): %v, want bad_args", db, err)
		}
	}
}

func TestParseID(t *testing.T) {
	for in, want := range map[string]byte{"0": 0, "1": 1, " 7 ": 7, "0x0a": 10, "254": 254, "0xfe": 0xFE} {
		if got, err := ParseID(in); err != nil || got != want {
			t.Errorf("ParseID(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "255", "0xff", "-1", "one", "1.5"} {
		if _, err := ParseID(in); drivers.Code(err) != "bad_args" {
			t.Errorf("ParseID(%q): %v, want bad_args", in, err)
		}
	}
}

func TestGoldenNamesUnique(t *testing.T) {
	seen := map[string]bool{}
	for _, f := range golden.Frames {
		if seen[f.Name] {
			t.Errorf("frame %q twice (it names a seed file)", f.Name)
		}
		seen[f.Name] = true
	}
}
