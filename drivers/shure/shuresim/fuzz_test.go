package shuresim

import (
	"bufio"
	"bytes"
	"strings"
	"testing"

	"github.com/bailiff/bailiff/drivers/shure/internal/golden"
	"github.com/bailiff/bailiff/internal/testutil/fuzzseed"
)

var extraSeeds = map[string]string{
	"get-all":        "< GET 0 ALL >",
	"gain-inc":       "< SET 1 AUDIO_GAIN_HI_RES INC 15 >",
	"toggle-all":     "< SET 0 AUDIO_MUTE TOGGLE >",
	"junk-and-frame": "junk < SET PRESET 2 > more",
	"braces":         "< SET DEVICE_ID {a > b} >",
}

// FuzzHandle feeds bytes from the wire to readFrame and each frame to the command handler,
// as a connection does, and checks every answer is one or more command strings and the
// state stays in range.
func FuzzHandle(f *testing.F) {
	for _, fr := range golden.Frames {
		if fr.Request != "" {
			f.Add([]byte(fr.Request))
		}
	}
	for _, s := range extraSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s := New(Config{Channels: 4})
		defer s.Close()
		ss := &session{wake: make(chan struct{}, 1)}
		r := bufio.NewReaderSize(bytes.NewReader(data), 2*maxFrame)
		for {
			body, err := readFrame(r)
			if err != nil {
				return
			}
			reply, others := s.handle(ss, body)
			if len(reply) == 0 {
				t.Fatalf("no answer to %q", body)
			}
			for _, m := range append(reply, others...) {
				if !strings.HasPrefix(m, "< REP ") || !strings.HasSuffix(m, " >") || strings.Count(m, "<") != 1 {
					t.Fatalf("answer %q to %q is not one report", m, body)
				}
			}
			st := s.State()
			for _, g := range st.Gain {
				if g < 0 || g > gainMax {
					t.Fatalf("gain %d after %q", g, body)
				}
			}
			if st.Preset < 1 || st.Preset > 10 {
				t.Fatalf("preset %d after %q", st.Preset, body)
			}
			if r := ss.rate.Load(); r != 0 && (r < 100 || r > 99999) {
				t.Fatalf("meter rate %d after %q", r, body)
			}
		}
	})
}

// TestSeedCorpus checks that testdata/fuzz holds every golden request as a seed; run
// go test ./drivers/shure/shuresim -run TestSeedCorpus -update-corpus to write them.
func TestSeedCorpus(t *testing.T) {
	c := fuzzseed.Corpus{}
	for _, fr := range golden.Frames {
		if fr.Request != "" {
			c.Add("FuzzHandle", fr.Name, []byte(fr.Request))
		}
	}
	for k, v := range extraSeeds {
		c.Add("FuzzHandle", k, []byte(v))
	}
	fuzzseed.Check(t, c)
}
