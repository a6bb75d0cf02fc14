package extron

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/bailiff/bailiff/drivers"
	"github.com/bailiff/bailiff/drivers/extron/internal/golden"
	"github.com/bailiff/bailiff/internal/testutil/fuzzseed"
)

// FuzzTokens feeds bytes from the wire to the token reader and checks every token is a
// printable line without a line end, or the password prompt.
func FuzzTokens(f *testing.F) {
	for _, fr := range golden.Frames {
		f.Add([]byte(fr.Reply))
	}
	for _, g := range golden.Greetings {
		f.Add([]byte(g.Line + "\r\n"))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r := newTokenReader(bytes.NewReader(data))
		for {
			tok, err := r.next()
			if err != nil {
				if !isGarbled(err) && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
					t.Fatalf("next() error %v", err)
				}
				if isGarbled(err) && drivers.Code(err) != "device_error" {
					t.Fatalf("garbled error %v has code %s", err, drivers.Code(err))
				}
				return
			}
			if len(tok) > maxLine {
				t.Fatalf("token of %d bytes", len(tok))
			}
			for i := 0; i < len(tok); i++ {
				if c := tok[i]; (c < 0x20 && c != '\t') || c > 0x7E {
					t.Fatalf("token %q holds byte %#x", tok, c)
				}
			}
			skippable(tok)
			bannerModel(tok)
		}
	})
}

// FuzzAnswer feeds a line to the parser of the answer to each kind of request, as the
// answer to the numbers given.
func FuzzAnswer(f *testing.F) {
	for _, fr := range golden.Frames {
		line, _, _ := strings.Cut(fr.Reply, "\r")
		f.Add(line, fr.In, fr.Out, fr.Kind)
	}
	f.Fuzz(func(t *testing.T, line string, in, out int, kind byte) {
		if in < 0 || out < 0 || in > maxNumber || out > maxNumber {
			return
		}
		k := Kind(kind)
		check := func(what string, err error) {
			if err != nil && (!isGarbled(err) || drivers.Code(err) != "device_error") {
				t.Fatalf("%s(%q): error %v is not a garbled answer", what, line, err)
			}
		}
		if err := parseTie(line, in, max(out, 1), k); err == nil {
			gi, gout, word, ok := tieFields(line)
			if !ok || gi != in || gout != max(out, 1) || (word != k.word() && word != "RGB") {
				t.Fatalf("parseTie(%q, %d, %d, %q) accepted %d %d %q", line, in, max(out, 1), kind, gi, gout, word)
			}
		} else {
			check("parseTie", err)
		}
		check("parseTieAll", parseTieAll(line, in, k))
		if n, err := parseView(line, out, k); err == nil && (n < 0 || n > maxNumber) {
			t.Fatalf("parseView(%q) = %d", line, n)
		} else {
			check("parseView", err)
		}
		if sz, err := parseInfo(line); err == nil {
			if sz.VideoOutputs < 1 || sz.VideoInputs < 0 || sz.AudioOutputs < 0 || sz.VideoOutputs > maxNumber {
				t.Fatalf("parseInfo(%q) = %+v", line, sz)
			}
		} else {
			check("parseInfo", err)
		}
		if p, err := parsePart(line); err == nil && (p == "" || strings.ContainsAny(p, " \t")) {
			t.Fatalf("parsePart(%q) = %q", line, p)
		} else {
			check("parsePart", err)
		}
		if v, err := parseFirmware(line); err == nil && (v == "" || v[0] < '0' || v[0] > '9') {
			t.Fatalf("parseFirmware(%q) = %q", line, v)
		} else {
			check("parseFirmware", err)
		}
		if e, ok := sisError(line); ok && (drivers.Code(e) == "" || !strings.HasPrefix(e.Error(), "switcher error "+line)) {
			t.Fatalf("sisError(%q) = %v", line, e)
		}
	})
}

var routeSeeds = [][3]string{
	{"1", "3", "av"}, {"0", "2", ""}, {"5", "all", "video"}, {"12", "04", "audio"}, {"x", "1", "av"},
	{"1", "0", "av"}, {"1", "2", "rgb"}, {" 7 ", " 5 ", "VIDEO"}, {"99999", "1", "av"},
}

// FuzzRoute feeds a route action's arguments to parseRoute and the command it builds.
func FuzzRoute(f *testing.F) {
	for _, s := range routeSeeds {
		f.Add(s[0], s[1], s[2])
	}
	f.Fuzz(func(t *testing.T, input, output, kind string) {
		in, out, k, err := parseRoute(input, output, kind)
		if err != nil {
			if drivers.Code(err) != "bad_args" {
				t.Fatalf("parseRoute(%q, %q, %q) error %v", input, output, kind, err)
			}
			return
		}
		if in < 0 || in > maxNumber || out < 0 || out > maxNumber || (k != AV && k != Video && k != Audio) {
			t.Fatalf("parseRoute(%q, %q, %q) = %d, %d, %v", input, output, kind, in, out, k)
		}
		req := tieRequest(in, out, k)
		if strings.Trim(req.text, "0123456789*!%$") != "" || strings.Count(req.text, "*") != 1 {
			t.Fatalf("tie command %q", req.text)
		}
		// The switcher's own answer to it parses.
		ans := fmt.Sprintf("Out%03d In%03d %s", out, in, k.word())
		if out == 0 {
			ans = fmt.Sprintf("In%02d %s", in, k.word())
		}
		if _, err := req.parse(ans); err != nil {
			t.Fatalf("answer %q to %q: %v", ans, req.text, err)
		}
	})
}

// TestSeedCorpus checks that testdata/fuzz holds every golden frame as a seed; run
// go test ./drivers/extron -run TestSeedCorpus -update-corpus to write them.
func TestSeedCorpus(t *testing.T) {
	c := fuzzseed.Corpus{}
	for _, fr := range golden.Frames {
		c.Add("FuzzTokens", fr.Name, []byte(fr.Reply))
		line, _, _ := strings.Cut(fr.Reply, "\r")
		c.Add("FuzzAnswer", fr.Name, line, fr.In, fr.Out, fr.Kind)
	}
	for _, g := range golden.Greetings {
		c.Add("FuzzTokens", "greeting-"+fuzzseed.Name(g.Name), []byte(g.Line+"\r\n"))
	}
	for i, s := range routeSeeds {
		c.Add("FuzzRoute", fmt.Sprintf("seed-%d", i), s[0], s[1], s[2])
	}
	fuzzseed.Check(t, c)
}
