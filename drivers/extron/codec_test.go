package extron

import (
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/bailiff/bailiff/drivers"
	"github.com/bailiff/bailiff/drivers/extron/internal/golden"
)

// requestFor builds the request of a golden frame.
func requestFor(f golden.Frame) request {
	switch f.Op {
	case golden.Tie:
		return tieRequest(f.In, f.Out, Kind(f.Kind))
	case golden.View:
		return viewRequest(f.Out, Kind(f.Kind))
	case golden.Info:
		return infoRequest
	case golden.Part:
		return partRequest
	case golden.Firmware:
		return firmwareRequest
	}
	return rawRequest(f.Request)
}

// decodeFrame runs a golden frame's answer through the codec the way an exchange does.
func decodeFrame(f golden.Frame) (any, error) {
	res, err := readAnswer(newTokenReader(strings.NewReader(f.Reply)), requestFor(f), func(string) {})
	if errors.Is(err, errPrompt) {
		return nil, fmt.Errorf("switcher asks for a password: %w", ErrAuth)
	}
	if err != nil {
		return nil, err
	}
	if res.err != nil {
		return nil, res.err
	}
	if sz, ok := res.v.(matrixSize); ok {
		return golden.Size(sz), nil
	}
	return res.v, nil
}

func checkFrame(t *testing.T, f golden.Frame, got any, err error) {
	t.Helper()
	if f.Code == "" && err != nil {
		t.Fatalf("error %v, want none", err)
	}
	if f.Code != "" {
		if err == nil {
			t.Fatalf("no error (got %v), want %s", got, f.Code)
		}
		if c := drivers.Code(err); c != f.Code {
			t.Fatalf("error %q has code %s, want %s", err, c, f.Code)
		}
		return
	}
	if !reflect.DeepEqual(got, f.Want) {
		t.Fatalf("decoded %#v, want %#v", got, f.Want)
	}
}

func TestCodecGolden(t *testing.T) {
	for _, f := range golden.Frames {
		t.Run(f.Name, func(t *testing.T) {
			if got := requestFor(f).text; got != f.Request {
				t.Fatalf("request %q, want %q", got, f.Request)
			}
			got, err := decodeFrame(f)
			if f.Code == "unreachable" {
				// A line cut short is an I/O error here; the exchange wraps it (transcript test).
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
	for _, f := range golden.Frames {
		if f.Code != "device_error" || strings.HasPrefix(f.Reply, "E") || f.Reply == passwordPrompt {
			continue
		}
		_, err := decodeFrame(f)
		if !errors.Is(err, errGarbled) || !strings.Contains(err.Error(), "garbled answer") {
			t.Errorf("%s: error %v, want a garbled answer", f.Name, err)
		}
	}
}

func TestGreetingsGolden(t *testing.T) {
	for _, g := range golden.Greetings {
		if got := skippable(g.Line); got != g.Skip {
			t.Errorf("%s: skippable(%q) = %v, want %v", g.Name, g.Line, got, g.Skip)
		}
		m, ok := bannerModel(g.Line)
		if m != g.Model || ok != (g.Model != "") {
			t.Errorf("%s: bannerModel(%q) = %q, %v; want %q", g.Name, g.Line, m, ok, g.Model)
		}
	}
}

// chunks is a reader that hands out its pieces one Read at a time; an error piece is
// returned as the error of that Read.
type chunks []any

func (c *chunks) Read(b []byte) (int, error) {
	if len(*c) == 0 {
		return 0, io.EOF
	}
	p := (*c)[0]
	*c = (*c)[1:]
	if err, ok := p.(error); ok {
		return 0, err
	}
	return copy(b, p.(string)), nil
}

func TestTokenReader(t *testing.T) {
	r := newTokenReader(&chunks{"(c) Copyright\r\nPass", "word:", "Login Administrator\r\n01\n02\r", "\n", "\xff\xfd\x01", "03", os.ErrDeadlineExceeded, "\r\nE1"})
	want := []string{"(c) Copyright", "", passwordPrompt, "Login Administrator", "", "01", "02", ""}
	for _, w := range want {
		got, err := r.next()
		if err != nil || got != w {
			t.Fatalf("next() = %q, %v; want %q", got, err, w)
		}
	}
	if _, err := r.next(); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("next() across a timeout: %v", err)
	}
	if got, err := r.next(); err != nil || got != "03" {
		t.Fatalf("next() after the timeout = %q, %v; want the partial line kept", got, err)
	}
	if got, err := r.next(); err != nil || got != "" {
		t.Fatalf("next() = %q, %v", got, err)
	}
	if _, err := r.next(); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("next() of a cut line: %v, want io.ErrUnexpectedEOF", err)
	}
	for _, bad := range []string{"ab\x00\r\n", "\xc3\xa9\r\n", strings.Repeat("1", 300) + "\r\n", "\xff\xff\r\n", "\xff\xfa" + strings.Repeat("x", 300)} {
		if _, err := newTokenReader(strings.NewReader(bad)).next(); !isGarbled(err) {
			t.Errorf("next() of %q: %v, want garbled", bad, err)
		}
	}
	for _, cut := range []string{"\xff", "\xff\xfb", "\xff\xfa\x18", "\xff\xfa\x18\xff"} {
		if _, err := newTokenReader(strings.NewReader(cut)).next(); !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Errorf("next() of %q: %v, want io.ErrUnexpectedEOF", cut, err)
		}
	}
}

func TestParseRoute(t *testing.T) {
	for _, c := range []struct {
		in, out, kind string
		wi, wo        int
		wk            Kind
	}{
		{"1", "3", "av", 1, 3, AV}, {"1", "3", "", 1, 3, AV}, {" 12 ", "04", "video", 12, 4, Video},
		{"0", "2", "audio", 0, 2, Audio}, {"5", "all", "av", 5, 0, AV}, {"5", "ALL", "Video", 5, 0, Video},
		{"0001", "9999", "av", 1, 9999, AV},
	} {
		i, o, k, err := parseRoute(c.in, c.out, c.kind)
		if err != nil || i != c.wi || o != c.wo || k != c.wk {
			t.Errorf("parseRoute(%q, %q, %q) = %d, %d, %v, %v", c.in, c.out, c.kind, i, o, k, err)
		}
	}
	for _, c := range [][3]string{
		{"", "1", "av"}, {"a", "1", "av"}, {"-1", "1", "av"}, {"1", "0", "av"}, {"1", "", "av"}, {"1", "x", "av"},
		{"1", "2", "rgb"}, {"1", "2", "both"}, {"12345", "1", "av"}, {"1", "1.5", "av"}, {"1", "+2", "av"},
	} {
		if _, _, _, err := parseRoute(c[0], c[1], c[2]); drivers.Code(err) != "bad_args" {
			t.Errorf("parseRoute(%q, %q, %q): %v, want bad_args", c[0], c[1], c[2], err)
		}
	}
}

func TestSISErrorMessages(t *testing.T) {
	for code, want := range map[string]string{
		"E01": "switcher error E01 (invalid input number): bad arguments",
		"E10": "switcher error E10 (invalid command): unsupported",
		"E12": "switcher error E12 (invalid output number): bad arguments",
		"E13": "switcher error E13 (invalid value): bad arguments",
		"E14": "switcher error E14 (invalid for this configuration): unsupported",
		"E22": "switcher error E22 (busy): device busy",
		"E24": "switcher error E24 (privilege violation): device error",
		"E99": "switcher error E99 (unknown error): device error",
	} {
		if got := (&SISError{Code: code}).Error(); got != want {
			t.Errorf("%s: %q, want %q", code, got, want)
		}
	}
	for _, l := range []string{"E1", "E100", "e01", "EAB", " E01"} {
		if _, ok := sisError(l); ok {
			t.Errorf("sisError(%q) accepted", l)
		}
	}
}

func TestKindNames(t *testing.T) {
	for k, want := range map[Kind]string{AV: "av", Video: "video", Audio: "audio", RGB: "rgb", Kind('x'): "Kind('x')"} {
		if k.String() != want {
			t.Errorf("%q: %q, want %q", byte(k), k.String(), want)
		}
	}
}

func TestOptionsHidePassword(t *testing.T) {
	o := Options{Password: "s3cret-pw", Outputs: 4}
	for _, s := range []string{o.String(), o.LogValue().String(), fmt.Sprint(o), fmt.Sprintf("%+v", o)} {
		if strings.Contains(s, "s3cret-pw") {
			t.Fatalf("options print the password: %s", s)
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
	seen = map[string]bool{}
	for _, g := range golden.Greetings {
		if seen[g.Name] {
			t.Errorf("greeting %q twice (it names a seed file)", g.Name)
		}
		seen[g.Name] = true
	}
}
