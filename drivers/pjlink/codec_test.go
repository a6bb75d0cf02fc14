package pjlink

import (
	"bufio"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/bailiff/bailiff/drivers"
	"github.com/bailiff/bailiff/drivers/pjlink/internal/golden"
)

func TestDigestVector(t *testing.T) {
	v := golden.Vector
	if got := digest(v.Random, v.Password); got != v.Digest {
		t.Fatalf("digest(%q, password) = %s, want %s", v.Random, got, v.Digest)
	}
}

// decodeFrame runs a golden frame's reply through the codec the way an exchange and its
// caller do: read the line, parse it as the answer to the frame's command, then decode a
// query's value or check a set command's OK.
func decodeFrame(f golden.Frame) (drivers.State, error) {
	line, err := readLine(bufio.NewReader(strings.NewReader(f.Reply)))
	if err != nil {
		return nil, err
	}
	payload, err := parseReply(line, f.Cmd)
	if err != nil {
		return nil, err
	}
	if f.Param != "?" {
		return nil, checkOK(f.Cmd, payload)
	}
	return decodeQuery(f.Cmd, payload)
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

func TestCodecGolden(t *testing.T) {
	for _, f := range golden.Frames {
		t.Run(f.Name, func(t *testing.T) {
			req, err := encodeRequest(f.Cmd, f.Param)
			if err != nil {
				t.Fatalf("encodeRequest(%q, %q): %v", f.Cmd, f.Param, err)
			}
			if string(req) != f.Request {
				t.Fatalf("encodeRequest(%q, %q) = %q, want %q", f.Cmd, f.Param, req, f.Request)
			}
			got, err := decodeFrame(f)
			checkFrame(t, f, got, err)
		})
	}
}

func TestGarbledRepliesSayGarbled(t *testing.T) {
	for _, f := range golden.Frames {
		if f.Want != nil || f.Code != "device_error" || strings.HasPrefix(f.Reply, "%1"+f.Cmd+"=") {
			continue
		}
		if f.Reply == "PJLINK ERRA\r" {
			continue
		}
		_, err := decodeFrame(f)
		if !errors.Is(err, errGarbled) || !strings.Contains(err.Error(), "garbled reply") {
			t.Errorf("%s: error %v, want a garbled reply", f.Name, err)
		}
	}
}

func TestAuthRefusedIsErrAuth(t *testing.T) {
	_, err := parseReply("PJLINK ERRA", "POWR")
	if !errors.Is(err, ErrAuth) || !errors.Is(err, drivers.ErrDevice) {
		t.Fatalf("error %v, want ErrAuth wrapping drivers.ErrDevice", err)
	}
	if !strings.Contains(err.Error(), "authentication failed (wrong or missing password)") {
		t.Fatalf("error %q does not say authentication failed", err)
	}
}

func TestGreetingGolden(t *testing.T) {
	for _, g := range golden.Greetings {
		t.Run(g.Name, func(t *testing.T) {
			line, err := readLine(bufio.NewReader(strings.NewReader(g.Line)))
			var random string
			var auth bool
			if err == nil {
				random, auth, err = parseGreeting(line)
			}
			if !g.OK {
				if err == nil {
					t.Fatalf("parsed %q, want an error", g.Line)
				}
				if drivers.Code(err) != "device_error" || !errors.Is(err, errGarbled) {
					t.Fatalf("error %v, want a garbled reply (device_error)", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("error %v", err)
			}
			if auth != g.Auth || random != g.Random {
				t.Fatalf("got auth %v random %q, want %v %q", auth, random, g.Auth, g.Random)
			}
		})
	}
}

func TestEncodeRequestRejects(t *testing.T) {
	for _, c := range []struct{ cmd, param string }{
		{"POW", "1"}, {"powr", "1"}, {"PO R", "1"}, {"POWR", ""}, {"POWR", "a\rb"},
		{"POWR", strings.Repeat("1", 129)}, {"NAME", "é"},
	} {
		if _, err := encodeRequest(c.cmd, c.param); drivers.Code(err) != "bad_args" {
			t.Errorf("encodeRequest(%q, %q): %v, want bad_args", c.cmd, c.param, err)
		}
	}
}

func TestReadLine(t *testing.T) {
	r := bufio.NewReader(strings.NewReader("%1POWR=1\r\n%1INPT=31\r%1AV"))
	for _, want := range []string{"%1POWR=1", "%1INPT=31"} {
		got, err := readLine(r)
		if err != nil || got != want {
			t.Fatalf("readLine = %q, %v; want %q", got, err, want)
		}
	}
	if _, err := readLine(r); err == nil || errors.Is(err, errGarbled) {
		t.Fatalf("readLine of a cut line: %v, want an I/O error", err)
	}
	long := "%1NAME=" + strings.Repeat("x", 128) + "\r" // 136 bytes: the longest allowed
	if got, err := readLine(newReader(strings.NewReader(long))); err != nil || len(got) != 135 {
		t.Fatalf("readLine of a 136-byte line: %d bytes, %v", len(got), err)
	}
	huge := strings.Repeat("x", 1000) + "\r"
	if _, err := readLine(newReader(strings.NewReader(huge))); !errors.Is(err, errGarbled) {
		t.Fatalf("readLine of 1000 bytes: %v, want garbled", err)
	}
}

func TestInputCode(t *testing.T) {
	for in, want := range map[string]string{
		"31": "31", "11": "11", "59": "59", "rgb1": "11", "RGB2": "12", "video2": "22",
		"digital1": "31", "digital9": "39", "storage1": "41", "network1": "51", " 32 ": "32",
	} {
		if got, err := inputCode(in); err != nil || got != want {
			t.Errorf("inputCode(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", "3", "30", "61", "01", "hdmi1", "rgb", "rgb0", "rgb10", "digital", "video 1", "311"} {
		if got, err := inputCode(in); drivers.Code(err) != "bad_args" {
			t.Errorf("inputCode(%q) = %q, %v; want bad_args", in, got, err)
		}
	}
}

func TestReplyErrorMessages(t *testing.T) {
	for code, want := range map[string]string{
		"ERR1": "undefined command (ERR1): unsupported",
		"ERR2": "parameter out of range (ERR2): bad arguments",
		"ERR3": "projector busy (ERR3): device busy",
		"ERR4": "projector failure (ERR4): device error",
	} {
		if got := (&ReplyError{Cmd: "POWR", Code: code}).Error(); got != want {
			t.Errorf("%s: %q, want %q", code, got, want)
		}
	}
}

func TestWithDefaultPort(t *testing.T) {
	for in, want := range map[string]string{
		"10.0.0.7":       "10.0.0.7:4352",
		"10.0.0.7:4353":  "10.0.0.7:4353",
		"proj-1.local":   "proj-1.local:4352",
		"fe80::1":        "[fe80::1]:4352",
		"[fe80::1]":      "[fe80::1]:4352",
		"[fe80::1]:4000": "[fe80::1]:4000",
	} {
		if got := withDefaultPort(in); got != want {
			t.Errorf("withDefaultPort(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestOptionsHidePassword(t *testing.T) {
	o := Options{Password: "s3cret-pw"}
	var b strings.Builder
	for _, s := range []string{o.String(), o.LogValue().String()} {
		b.WriteString(s)
	}
	if strings.Contains(b.String(), "s3cret-pw") {
		t.Fatalf("options print the password: %s", b.String())
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
	seen = map[string]bool{}
	for _, g := range golden.Greetings {
		if seen[g.Name] {
			t.Errorf("greeting %q twice (it names a seed file)", g.Name)
		}
		seen[g.Name] = true
	}
}
