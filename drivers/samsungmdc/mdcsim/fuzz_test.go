package mdcsim

import (
	"bufio"
	"bytes"
	"testing"

	"github.com/bailiff/bailiff/drivers/samsungmdc/internal/golden"
	"github.com/bailiff/bailiff/internal/testutil/fuzzseed"
)

// FuzzHandle feeds bytes from the wire to readFrame and each frame to the handler of a
// simulated display, as a line does, and checks every answer is one well-formed MDC answer
// to the frame, from the display's ID.
func FuzzHandle(f *testing.F) {
	for _, fr := range golden.Frames {
		f.Add(fr.Request)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s := New(Config{ID: 1, Inputs: []byte{0x21, 0x23}})
		defer s.Close()
		r := bufio.NewReader(bytes.NewReader(data))
		for {
			fr, err := readFrame(r)
			if err != nil {
				return
			}
			if fr == nil {
				continue
			}
			ans := s.handle(fr)
			if ans == nil {
				if fr.id == 1 {
					t.Fatalf("no answer to % X for this display", fr.data)
				}
				continue
			}
			if fr.id != 1 {
				t.Fatalf("answer % X to a frame for display %d", ans, fr.id)
			}
			if len(ans) < 7 || ans[0] != 0xAA || ans[1] != 0xFF || ans[2] != 1 || int(ans[3])+5 != len(ans) {
				t.Fatalf("answer % X is not one frame from display 1", ans)
			}
			var sum byte
			for _, c := range ans[1 : len(ans)-1] {
				sum += c
			}
			if sum != ans[len(ans)-1] || (ans[4] != 'A' && ans[4] != 'N') || ans[5] != fr.cmd {
				t.Fatalf("answer % X to command %02X", ans, fr.cmd)
			}
			if ans[4] == 'N' && len(ans) != 8 {
				t.Fatalf("NAK % X carries more than a code", ans)
			}
			if st := s.State(); st.Volume < 0 || st.Volume > 100 {
				t.Fatalf("state %+v", st)
			}
		}
	})
}

// TestSeedCorpus checks that testdata/fuzz holds every golden request as a seed; run
// go test ./drivers/samsungmdc/mdcsim -run TestSeedCorpus -update-corpus to write them.
func TestSeedCorpus(t *testing.T) {
	c := fuzzseed.Corpus{}
	for _, fr := range golden.Frames {
		c.Add("FuzzHandle", fr.Name, []byte(fr.Request))
	}
	fuzzseed.Check(t, c)
}
