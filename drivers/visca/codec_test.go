package visca

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"testing"

	"github.com/bailiff/bailiff/drivers"
	"github.com/bailiff/bailiff/drivers/transport"
	"github.com/bailiff/bailiff/drivers/visca/internal/golden"
)

// encoders build a golden frame's request the way the driver does.
var encoders = map[string]func(cam int, a []int) []byte{
	"power":   func(cam int, a []int) []byte { return cmdPower(cam, a[0] == 1) },
	"zoom":    func(cam int, a []int) []byte { return cmdZoom(cam, a[0], byte(a[1])) },
	"zoomto":  func(cam int, a []int) []byte { return cmdZoomDirect(cam, uint16(a[0])) },
	"pantilt": func(cam int, a []int) []byte { return cmdPanTilt(cam, byte(a[0]), byte(a[1]), a[2], a[3]) },
	"home":    func(cam int, _ []int) []byte { return cmdHome(cam) },
	"absolute": func(cam int, a []int) []byte {
		return cmdAbsolute(cam, byte(a[0]), byte(a[1]), int16(a[2]), int16(a[3]))
	},
	"preset":      func(cam int, a []int) []byte { return cmdPreset(cam, byte(a[0]), byte(a[1])) },
	"ifclear":     func(cam int, _ []int) []byte { return cmdIFClear(cam) },
	"cancel":      func(cam int, a []int) []byte { return cmdCancel(cam, a[0]) },
	"addressset":  func(int, []int) []byte { return addressSet },
	"ifclearall":  func(int, []int) []byte { return ifClearAll },
	"inq-power":   func(cam int, _ []int) []byte { return inqPower(cam) },
	"inq-zoom":    func(cam int, _ []int) []byte { return inqZoom(cam) },
	"inq-pantilt": func(cam int, _ []int) []byte { return inqPanTilt(cam) },
	"inq-version": func(cam int, _ []int) []byte { return inqVersion(cam) },
}

// decoders decode an inquiry's answer as Poll does.
var decoders = map[string]func([]byte) (drivers.State, error){
	"inq-power": decodePower, "inq-zoom": decodeZoom, "inq-pantilt": decodePanTilt, "inq-version": decodeVersion,
}

func camOf(f golden.Frame) int {
	if f.Camera == 0 {
		return 1
	}
	return f.Camera
}

func isInquiry(req []byte) bool { return len(req) > 1 && req[1] == 0x09 }

// decodeFrame runs a golden frame's replies through the codec the way an exchange does on a
// serial line: parse each packet, skip what is not for this camera, feed the rest to the
// exchange state, then decode an inquiry's answer.
func decodeFrame(f golden.Frame) (drivers.State, error) {
	cam := camOf(f)
	x := exchangeState{inquiry: isInquiry(f.Request)}
	for _, p := range f.Replies {
		r, err := parseReply(p)
		if err != nil {
			return nil, err
		}
		switch r.kind {
		case replyAddressSet:
			return drivers.State{"cameras": int(r.data[0]) - 1}, nil
		case replyIFClear:
			return nil, nil
		case replyEcho:
			if r.from == cam {
				return nil, fmt.Errorf("no camera at %d: %w", cam, drivers.ErrUnreachable)
			}
			continue
		case replyNetworkChange, replyUnsolicited:
			continue
		}
		if r.from != cam {
			continue
		}
		done, ans, err := x.feed(r)
		if !done {
			continue
		}
		if err != nil || !x.inquiry {
			return nil, err
		}
		dec, ok := decoders[f.Cmd]
		if !ok {
			return nil, fmt.Errorf("no decoder for %q", f.Cmd)
		}
		return dec(ans)
	}
	return nil, errors.New("no final reply")
}

func checkResult(t *testing.T, want map[string]any, code string, got drivers.State, err error) {
	t.Helper()
	if code == "" && err != nil {
		t.Fatalf("error %v, want none", err)
	}
	if code != "" {
		if err == nil {
			t.Fatalf("no error, want %s", code)
		}
		if c := drivers.Code(err); c != code {
			t.Fatalf("error %q has code %s, want %s", err, c, code)
		}
	}
	if want == nil {
		if len(got) != 0 {
			t.Fatalf("decoded %v, want nothing", got)
		}
		return
	}
	if !reflect.DeepEqual(map[string]any(got), want) {
		t.Fatalf("decoded %#v, want %#v", got, want)
	}
}

func TestCodecGolden(t *testing.T) {
	for _, f := range golden.Frames {
		t.Run(f.Name, func(t *testing.T) {
			if f.Cmd != "" {
				enc, ok := encoders[f.Cmd]
				if !ok {
					t.Fatalf("no encoder %q", f.Cmd)
				}
				if got := enc(camOf(f), f.Args); !bytes.Equal(got, f.Request) {
					t.Fatalf("%s %v = [% X], want [% X]", f.Cmd, f.Args, got, f.Request)
				}
			}
			got, err := decodeFrame(f)
			checkResult(t, f.Want, f.Code, got, err)
		})
	}
}

func TestCodecDatagrams(t *testing.T) {
	for _, d := range golden.Datagrams {
		t.Run(d.Name, func(t *testing.T) {
			typ, seq, payload, err := decodeIP(d.Request)
			if err == nil {
				// What the driver would send for this payload encodes to the same bytes.
				if again := encodeIP(typ, seq, payload); !bytes.Equal(again, d.Request) {
					t.Fatalf("encodeIP = [% X], want [% X]", again, d.Request)
				}
			}
			var final error
			var x exchangeState
			if err == nil && typ != typeControl {
				x.inquiry = isInquiry(payload)
			}
			for _, dg := range d.Replies {
				m, err := parseIP(dg)
				if err != nil {
					final = err
					break
				}
				if m.control {
					if m.ctlErr != 0 {
						final = &ControlError{Code: m.ctlErr}
					}
					break
				}
				if done, _, err := x.feed(m.reply); done {
					final = err
					break
				}
			}
			checkResult(t, nil, d.Code, nil, final)
		})
	}
}

func TestUnsolicited(t *testing.T) {
	for _, u := range golden.Unsolicited {
		r, err := parseReply(u.Packet)
		if err != nil || (r.kind != replyNetworkChange && r.kind != replyUnsolicited) {
			t.Errorf("%s: %+v, %v", u.Name, r, err)
		}
		var x exchangeState
		if done, _, _ := x.feed(r); done {
			t.Errorf("%s ended an exchange", u.Name)
		}
	}
}

func TestReplyErrors(t *testing.T) {
	for _, c := range []struct {
		socket int
		code   byte
		want   string
		msg    string
	}{
		{0, CodeLength, "device_error", "message length error (60 01): device error"},
		{0, CodeSyntax, "bad_args", "syntax error: the camera does not take this command or its parameters (60 02): bad arguments"},
		{0, CodeBufferFull, "busy", "command buffer full: two commands are running (60 03): device busy"},
		{1, CodeCancelled, "device_error", "command cancelled (61 04): device error"},
		{2, CodeNoSocket, "device_error", "no such command to cancel (62 05): device error"},
		{1, CodeNotExecutable, "busy", "command not executable now (61 41): device busy"},
		{1, 0x7A, "device_error", "unknown error (61 7A): device error"},
	} {
		err := &ReplyError{Socket: c.socket, Code: c.code}
		if got := drivers.Code(err); got != c.want {
			t.Errorf("%02X: code %s, want %s", c.code, got, c.want)
		}
		if err.Error() != c.msg {
			t.Errorf("%02X: %q, want %q", c.code, err.Error(), c.msg)
		}
	}
	for code, msg := range map[byte]string{1: "sequence number refused (0F 01): device error", 2: "message type refused (0F 02): device error"} {
		err := &ControlError{Code: code}
		if drivers.Code(err) != "device_error" || err.Error() != msg {
			t.Errorf("control %02X: %q %s", code, err, drivers.Code(err))
		}
	}
}

func TestSpeeds(t *testing.T) {
	for _, c := range []struct {
		v    float64
		top  int
		want byte
	}{{0, 0x18, 1}, {0.001, 0x18, 1}, {0.5, 0x18, 13}, {-0.5, 0x18, 13}, {1, 0x18, 0x18}, {-1, 0x14, 0x14}, {0.05, 0x14, 2}} {
		if got := panTiltSpeed(c.v, c.top); got != c.want {
			t.Errorf("panTiltSpeed(%v, %X) = %X, want %X", c.v, c.top, got, c.want)
		}
	}
	for v, want := range map[float64]byte{0: 0, 0.07: 0, 0.5: 4, -1: 7, 1: 7, 0.93: 7} {
		if got := zoomSpeed(v); got != want {
			t.Errorf("zoomSpeed(%v) = %d, want %d", v, got, want)
		}
	}
}

func TestNibbles(t *testing.T) {
	for _, v := range []uint16{0, 1, 0x1234, 0xF725, 0xFFFF} {
		got, ok := fromNibbles(nibbles(v))
		if !ok || got != v {
			t.Errorf("nibbles %04X round trip: %04X %v", v, got, ok)
		}
	}
	if _, ok := fromNibbles([]byte{0, 0x10, 0, 0}); ok {
		t.Error("10h accepted as a nibble")
	}
}

// chunkReader returns its chunks one Read at a time, then err.
type chunkReader struct {
	chunks [][]byte
	err    error
}

func (c *chunkReader) Read(b []byte) (int, error) {
	if len(c.chunks) == 0 {
		return 0, c.err
	}
	n := copy(b, c.chunks[0])
	c.chunks[0] = c.chunks[0][n:]
	if len(c.chunks[0]) == 0 {
		c.chunks = c.chunks[1:]
	}
	return n, nil
}

func TestFrameReader(t *testing.T) {
	timeout := transport.ErrTimeout
	cr := &chunkReader{chunks: [][]byte{{0x90, 0x41}, {0xFF, 0x90}, {0x51, 0xFF, 0x90, 0x50, 0x02, 0xFF}}, err: timeout}
	fr := newFrameReader(cr)
	for _, want := range [][]byte{{0x90, 0x41, 0xFF}, {0x90, 0x51, 0xFF}, {0x90, 0x50, 0x02, 0xFF}} {
		p, err := fr.next()
		if err != nil || !bytes.Equal(p, want) {
			t.Fatalf("next = [% X] %v, want [% X]", p, err, want)
		}
	}
	// A partial packet survives a timeout.
	cr.chunks = [][]byte{{0xA0, 0x50}}
	if _, err := fr.next(); !isTimeout(err) {
		t.Fatalf("partial packet: %v, want a timeout", err)
	}
	cr.chunks = [][]byte{{0x03, 0xFF}}
	if p, err := fr.next(); err != nil || !bytes.Equal(p, []byte{0xA0, 0x50, 0x03, 0xFF}) {
		t.Fatalf("after the timeout: [% X] %v", p, err)
	}
	// An over-long packet is garbled once, and the stream goes on after its terminator.
	long := append(bytes.Repeat([]byte{0x01}, 20), 0xFF, 0x90, 0x51, 0xFF)
	fr = newFrameReader(&chunkReader{chunks: [][]byte{long}, err: io.EOF})
	if _, err := fr.next(); !errors.Is(err, errGarbled) {
		t.Fatalf("over-long: %v", err)
	}
	if p, err := fr.next(); err != nil || !bytes.Equal(p, []byte{0x90, 0x51, 0xFF}) {
		t.Fatalf("after the over-long packet: [% X] %v", p, err)
	}
	if _, err := fr.next(); err != io.EOF {
		t.Fatalf("at the end: %v", err)
	}
	fr = newFrameReader(&chunkReader{chunks: [][]byte{{0x90, 0x41}}, err: io.EOF})
	if _, err := fr.next(); err != io.ErrUnexpectedEOF {
		t.Fatalf("cut packet: %v", err)
	}
}

func TestGarbledShowsBytes(t *testing.T) {
	_, err := parseReply([]byte{0x00, 0x9B, 0x13, 0xFF})
	if err == nil || !strings.Contains(err.Error(), "garbled reply [00 9B 13 FF]") || drivers.Code(err) != "device_error" {
		t.Fatalf("error %v", err)
	}
	_, err = parseReply(bytes.Repeat([]byte{0x01}, 40))
	if err == nil || !strings.Contains(err.Error(), "…]") {
		t.Fatalf("long garbage not cut short: %v", err)
	}
}
