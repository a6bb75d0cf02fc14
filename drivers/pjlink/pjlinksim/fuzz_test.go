package pjlinksim

import (
	"bufio"
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/bailiff/bailiff/drivers/pjlink/internal/golden"
	"github.com/bailiff/bailiff/internal/testutil/fuzzseed"
)

// FuzzHandle feeds bytes from the wire to readRequest and each line to the command handler
// of a simulator, as a connection does, and checks every answer is one PJLink line.
func FuzzHandle(f *testing.F) {
	for _, fr := range golden.Frames {
		f.Add([]byte(fr.Request))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s := New(Config{Name: "fuzz", Inputs: []string{"11", "31"}})
		defer s.Close()
		r := bufio.NewReaderSize(bytes.NewReader(data), 2*maxRequest)
		now := time.Unix(1e9, 0)
		for i := 0; ; i++ {
			line, err := readRequest(r)
			if err != nil {
				return
			}
			if len(line) > maxRequest || strings.Contains(line, "\r") {
				t.Fatalf("readRequest returned %q", line)
			}
			now = now.Add(time.Second)
			answer := s.handle(line, now)
			if answer == "" {
				continue
			}
			if len(answer) > 136 || strings.Count(answer, "\r") != 1 || !strings.HasSuffix(answer, "\r") {
				t.Fatalf("answer %q to %q is not one line of at most 136 bytes", answer, line)
			}
			if len(answer) < 8 || answer[:6] != line[:6] || answer[6] != '=' {
				t.Fatalf("answer %q does not echo the command of %q", answer, line)
			}
			for _, c := range []byte(answer[:len(answer)-1]) {
				if c < 0x20 || c > 0x7e {
					t.Fatalf("answer %q holds a non-printable byte", answer)
				}
			}
			st := s.State()
			if st.Power < PowerOff || st.Power > PowerWarming || !validInput(st.Input) {
				t.Fatalf("state %+v after %q", st, line)
			}
		}
	})
}

// TestSeedCorpus checks that testdata/fuzz holds every golden request as a seed; run
// go test ./drivers/pjlink/pjlinksim -run TestSeedCorpus -update-corpus to write them.
func TestSeedCorpus(t *testing.T) {
	c := fuzzseed.Corpus{}
	for _, fr := range golden.Frames {
		c.Add("FuzzHandle", fr.Name, []byte(fr.Request))
	}
	fuzzseed.Check(t, c)
}
