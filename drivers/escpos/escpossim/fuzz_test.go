package escpossim

import (
	"bytes"
	"reflect"
	"strings"
	"testing"

	"github.com/bailiff/bailiff/drivers/escpos/internal/golden"
	"github.com/bailiff/bailiff/internal/testutil/fuzzseed"
)

func fixedStatus(n byte) byte { return 0x10 | n }

// FuzzParser feeds a byte stream to the parser, whole and in two pieces split anywhere, and
// checks that both give the same tickets and answers (the parser waits for the rest of a
// command cut short) and that every status request gets one answer.
func FuzzParser(f *testing.F) {
	for _, s := range golden.Streams {
		f.Add([]byte(s.Bytes), uint16(len(s.Bytes)/2))
	}
	for _, tk := range golden.Tickets {
		f.Add([]byte(tk.Bytes), uint16(7))
	}
	f.Fuzz(func(t *testing.T, data []byte, split uint16) {
		whole := Parser{Status: fixedStatus}
		ans1 := whole.Write(data)
		cut := int(split) % (len(data) + 1)
		parts := Parser{Status: fixedStatus}
		ans2 := append(parts.Write(data[:cut]), parts.Write(data[cut:])...)
		if !bytes.Equal(ans1, ans2) {
			t.Fatalf("answers % x whole, % x in two pieces at %d", ans1, ans2, cut)
		}
		if !reflect.DeepEqual(whole.Tickets(), parts.Tickets()) || !reflect.DeepEqual(whole.Pending(), parts.Pending()) {
			t.Fatalf("tickets differ when split at %d:\n%+v\n%+v", cut, whole.Tickets(), parts.Tickets())
		}
		if len(ans1) > bytes.Count(data, []byte{0x10, 0x04}) {
			t.Fatalf("%d answers to %d status requests", len(ans1), bytes.Count(data, []byte{0x10, 0x04}))
		}
		for _, b := range ans1 {
			if b < 0x11 || b > 0x14 {
				t.Fatalf("answer %#x", b)
			}
		}
		for _, tk := range whole.Tickets() {
			if tk.Cut != "full" && tk.Cut != "partial" {
				t.Fatalf("cut %q", tk.Cut)
			}
			for _, l := range tk.Lines {
				if l.Width < 1 || l.Width > 8 || l.Height < 1 || l.Height > 8 || strings.ContainsAny(l.Text, "\n\x1b\x1d\x10") {
					t.Fatalf("line %+v", l)
				}
			}
		}
	})
}

// TestSeedCorpus checks that testdata/fuzz holds every golden stream and ticket as a seed;
// run go test ./drivers/escpos/escpossim -run TestSeedCorpus -update-corpus to write them.
func TestSeedCorpus(t *testing.T) {
	c := fuzzseed.Corpus{}
	for _, s := range golden.Streams {
		c.Add("FuzzParser", "stream-"+s.Name, []byte(s.Bytes), uint16(len(s.Bytes)/2))
	}
	for _, tk := range golden.Tickets {
		if tk.Bytes != "" {
			c.Add("FuzzParser", "ticket-"+tk.Name, []byte(tk.Bytes), uint16(7))
		}
	}
	fuzzseed.Check(t, c)
}
