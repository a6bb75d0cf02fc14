package pjlink

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/bailiff/bailiff/drivers"
	"github.com/bailiff/bailiff/drivers/pjlink/internal/golden"
	"github.com/bailiff/bailiff/internal/testutil/fuzzseed"
)

// FuzzParseReply feeds bytes from the wire to readLine, parseReply and decodeQuery, as the
// answer to cmd.
func FuzzParseReply(f *testing.F) {
	for _, fr := range golden.Frames {
		f.Add([]byte(fr.Reply), fr.Cmd)
	}
	f.Fuzz(func(t *testing.T, data []byte, cmd string) {
		line, err := readLine(newReader(bytes.NewReader(data)))
		if err != nil {
			return
		}
		if len(line) >= maxLine || bytes.IndexByte([]byte(line), '\r') >= 0 {
			t.Fatalf("readLine returned %q", line)
		}
		payload, err := parseReply(line, cmd)
		if err != nil {
			var re *ReplyError
			if !errors.As(err, &re) && !errors.Is(err, errGarbled) && !errors.Is(err, ErrAuth) {
				t.Fatalf("parseReply error %v is neither a reply error, garbled nor ErrAuth", err)
			}
			if c := drivers.Code(err); c == "unreachable" || c == "timeout" {
				t.Fatalf("parseReply error %v has code %s", err, c)
			}
			return
		}
		if line != "%1"+cmd+"="+payload {
			t.Fatalf("parseReply(%q, %q) = %q: not the payload of the line", line, cmd, payload)
		}
		if !utf8.ValidString(payload) {
			t.Fatalf("payload %q is not UTF-8", payload)
		}
		checkDecode(t, cmd, payload)
	})
}

// checkDecode runs decodeQuery and checks what it returns.
func checkDecode(t *testing.T, cmd, payload string) {
	st, err := decodeQuery(cmd, payload)
	if err != nil {
		var ve *valueError
		if !errors.As(err, &ve) && !errors.Is(err, drivers.ErrUnsupported) {
			t.Fatalf("decodeQuery(%q, %q) error %v of an unexpected kind", cmd, payload, err)
		}
		if cmd != "ERST" && st != nil {
			t.Fatalf("decodeQuery(%q, %q) returned %v with error %v", cmd, payload, st, err)
		}
		return
	}
	if len(st) == 0 {
		t.Fatalf("decodeQuery(%q, %q) returned nothing", cmd, payload)
	}
	if lamps, ok := st["lamps"].([]map[string]any); ok {
		for _, l := range lamps {
			if l["hours"].(int) < 0 {
				t.Fatalf("negative lamp hours from %q", payload)
			}
		}
	}
}

// FuzzGreeting feeds bytes from the wire to readLine and parseGreeting.
func FuzzGreeting(f *testing.F) {
	for _, g := range golden.Greetings {
		f.Add([]byte(g.Line))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		line, err := readLine(newReader(bytes.NewReader(data)))
		if err != nil {
			return
		}
		random, auth, err := parseGreeting(line)
		if err != nil {
			if !errors.Is(err, errGarbled) || drivers.Code(err) != "device_error" {
				t.Fatalf("parseGreeting(%q) error %v", line, err)
			}
			return
		}
		want := "PJLINK 0"
		if auth {
			if len(random) != 8 {
				t.Fatalf("random %q", random)
			}
			want = "PJLINK 1 " + random
		}
		if line != want {
			t.Fatalf("parseGreeting(%q) = %q, %v", line, random, auth)
		}
		_ = digest(random, "pw")
	})
}

// FuzzDecodeQuery feeds a payload to the decoder of one query.
func FuzzDecodeQuery(f *testing.F) {
	for _, fr := range golden.Frames {
		if fr.Param != "?" {
			continue
		}
		if _, payload, ok := strings.Cut(strings.TrimSuffix(fr.Reply, "\r"), "="); ok {
			f.Add(fr.Cmd, payload)
		}
	}
	f.Fuzz(func(t *testing.T, cmd, payload string) {
		checkDecode(t, cmd, payload)
	})
}

var inputSeeds = []string{"31", "rgb1", "DIGITAL2", "network9", "hdmi1", "", "video", " 11 ", "storage10"}

// FuzzInputCode feeds an action's source argument to inputCode.
func FuzzInputCode(f *testing.F) {
	for _, s := range inputSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, source string) {
		code, err := inputCode(source)
		if err != nil {
			if drivers.Code(err) != "bad_args" {
				t.Fatalf("inputCode(%q) error %v", source, err)
			}
			return
		}
		if !validInput(code) {
			t.Fatalf("inputCode(%q) = %q", source, code)
		}
		if _, err := encodeRequest("INPT", code); err != nil {
			t.Fatal(err)
		}
	})
}

// TestSeedCorpus checks that testdata/fuzz holds every golden frame as a seed; run with
// -update-corpus after the package to write them.
func TestSeedCorpus(t *testing.T) {
	c := fuzzseed.Corpus{}
	for _, fr := range golden.Frames {
		c.Add("FuzzParseReply", fr.Name, []byte(fr.Reply), fr.Cmd)
		if _, payload, ok := strings.Cut(strings.TrimSuffix(fr.Reply, "\r"), "="); ok && fr.Param == "?" {
			c.Add("FuzzDecodeQuery", fr.Name, fr.Cmd, payload)
		}
	}
	for _, g := range golden.Greetings {
		c.Add("FuzzGreeting", g.Name, []byte(g.Line))
	}
	for i, in := range inputSeeds {
		c.Add("FuzzInputCode", fmt.Sprintf("seed-%d", i), in)
	}
	fuzzseed.Check(t, c)
}

// TestSeedCorpusParses checks that the committed seeds are in the go fuzz format.
func TestSeedCorpusParses(t *testing.T) {
	fuzzseed.CheckFormat(t)
}
