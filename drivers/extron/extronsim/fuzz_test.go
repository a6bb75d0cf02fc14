package extronsim

import (
	"strings"
	"testing"

	"github.com/bailiff/bailiff/drivers/extron/internal/golden"
	"github.com/bailiff/bailiff/internal/testutil/fuzzseed"
)

// FuzzHandle feeds bytes from the wire to the command parser and each command to the handler
// of a simulated switcher, as a line does, and checks every answer is one printable SIS line.
func FuzzHandle(f *testing.F) {
	for _, fr := range golden.Frames {
		f.Add([]byte(fr.Request))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s := New(Config{Inputs: 12, Outputs: 8})
		defer s.Close()
		var p parser
		for _, c := range data {
			cmd, done := p.feed(c)
			if !done {
				continue
			}
			if len(cmd) == 0 || len(cmd) > maxCommand+1 {
				t.Fatalf("command %q", cmd)
			}
			ans := s.handle(cmd)
			if !strings.HasSuffix(ans, "\r\n") || strings.Count(ans, "\n") != 1 || strings.Count(ans, "\r") != 1 || len(ans) < 3 {
				t.Fatalf("answer %q to %q is not one line", ans, cmd)
			}
			for _, c := range []byte(ans[:len(ans)-2]) {
				if c < 0x20 || c > 0x7E {
					t.Fatalf("answer %q holds a non-printable byte", ans)
				}
			}
			st := s.State()
			for o := range st.Video {
				if st.Video[o] < 0 || st.Video[o] > 12 || st.Audio[o] < 0 || st.Audio[o] > 12 {
					t.Fatalf("state %+v after %q", st, cmd)
				}
			}
		}
	})
}

// TestSeedCorpus checks that testdata/fuzz holds every golden command as a seed; run
// go test ./drivers/extron/extronsim -run TestSeedCorpus -update-corpus to write them.
func TestSeedCorpus(t *testing.T) {
	c := fuzzseed.Corpus{}
	for _, fr := range golden.Frames {
		c.Add("FuzzHandle", fr.Name, []byte(fr.Request))
	}
	fuzzseed.Check(t, c)
}
