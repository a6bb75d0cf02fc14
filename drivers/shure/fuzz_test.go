package shure

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/bailiff/bailiff/drivers"
	"github.com/bailiff/bailiff/drivers/shure/internal/golden"
	"github.com/bailiff/bailiff/internal/testutil/fuzzseed"
)

// FuzzReadMessage feeds bytes from the wire to the reader goroutine's parser: readFrame,
// parseMessage, and the state cache; it checks what comes out.
func FuzzReadMessage(f *testing.F) {
	for _, fr := range golden.Frames {
		f.Add([]byte(fr.Reply))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r := newReader(bytes.NewReader(data))
		c := newCache()
		for {
			m, err := readMessage(r)
			if err != nil {
				if isGarbled(err) && drivers.Code(err) != "device_error" {
					t.Fatalf("garbled error %v has code %s", err, drivers.Code(err))
				}
				return
			}
			checkMessage(t, m)
			changed, err := c.apply(m)
			if err != nil {
				var ve *valueError
				if !errors.As(err, &ve) || changed {
					t.Fatalf("apply(%+v) = %v, %v", m, changed, err)
				}
			}
			checkState(t, c.state())
			if m.Kind == KindSample {
				for ch, db := range meterLevels(m.Levels) {
					if db < -60 || db > 0 || ch == "" {
						t.Fatalf("level %s = %v from %v", ch, db, m.Levels)
					}
				}
			}
		}
	})
}

// checkMessage checks that a parsed message re-encodes to a frame that parses the same.
func checkMessage(t *testing.T, m Message) {
	t.Helper()
	switch m.Kind {
	case KindGet, KindSet, KindRep:
		if !validParam(m.Param) || (m.Channel != "" && !isChannel(m.Channel)) {
			t.Fatalf("parsed %+v", m)
		}
		frame := Command{Kind: m.Kind, Channel: m.Channel, Param: m.Param, Value: m.Value}.String()
		again, err := readMessage(newReader(strings.NewReader(frame)))
		if err != nil {
			t.Fatalf("re-encoded %+v as %q: does not parse: %v", m, frame, err)
		}
		if again.Kind != m.Kind || again.Channel != m.Channel || again.Param != m.Param || again.Value != m.Value {
			t.Fatalf("re-encoded %+v parses as %+v", m, again)
		}
	case KindSample:
		if len(m.Levels) == 0 {
			t.Fatalf("sample without levels")
		}
		for _, l := range m.Levels {
			if l < 0 || l > LevelMax {
				t.Fatalf("level %d", l)
			}
		}
	default:
		t.Fatalf("kind %q", m.Kind)
	}
}

func checkState(t *testing.T, st drivers.State) {
	t.Helper()
	if chs, ok := st["channels"].(map[string]map[string]any); ok {
		for k, v := range chs {
			if k == "" || k == "0" {
				t.Fatalf("channel %q", k)
			}
			if g, ok := v["gain_db"].(float64); ok && (g < -110 || g > 30) {
				t.Fatalf("gain %v", g)
			}
		}
	}
	if p, ok := st["preset"].(int); ok && (p < 0 || p > 99) {
		t.Fatalf("preset %d", p)
	}
}

// FuzzParseMessage feeds the inside of a frame to parseMessage.
func FuzzParseMessage(f *testing.F) {
	for _, fr := range golden.Frames {
		if body, err := readFrame(newReader(strings.NewReader(fr.Reply))); err == nil {
			f.Add(body)
		}
	}
	f.Fuzz(func(t *testing.T, body string) {
		m, err := parseMessage(body)
		if err != nil {
			if !isGarbled(err) {
				t.Fatalf("parseMessage(%q): %v is not garbled", body, err)
			}
			return
		}
		checkMessage(t, m)
	})
}

var gainSeeds = []float64{0, -3.5, 30, -110, 30.05, -110.05, 12.3456, 1e300, -1e-300}

// FuzzGainValue feeds an action's db argument to GainValue.
func FuzzGainValue(f *testing.F) {
	for _, g := range gainSeeds {
		f.Add(g)
	}
	f.Fuzz(func(t *testing.T, db float64) {
		v, ok := GainValue(db)
		if !ok {
			return
		}
		if v < 0 || v > GainMax {
			t.Fatalf("GainValue(%v) = %d", db, v)
		}
		if d := GainDB(v) - db; d > 0.05+1e-9 || d < -0.05-1e-9 {
			t.Fatalf("GainValue(%v) = %d (%v dB)", db, v, GainDB(v))
		}
		if _, err := (Command{Kind: KindSet, Channel: "1", Param: ParamGain, Value: fmt.Sprintf("%04d", v)}).encode(); err != nil {
			t.Fatal(err)
		}
	})
}

// TestSeedCorpus checks that testdata/fuzz holds every golden frame as a seed; run
// go test ./drivers/shure -run TestSeedCorpus -update-corpus to write them.
func TestSeedCorpus(t *testing.T) {
	c := fuzzseed.Corpus{}
	for _, fr := range golden.Frames {
		c.Add("FuzzReadMessage", fr.Name, []byte(fr.Reply))
		if body, err := readFrame(newReader(strings.NewReader(fr.Reply))); err == nil {
			c.Add("FuzzParseMessage", fr.Name, body)
		}
	}
	for i, g := range gainSeeds {
		c.Add("FuzzGainValue", fmt.Sprintf("seed-%d", i), g)
	}
	fuzzseed.Check(t, c)
}

// TestSeedCorpusParses checks that the committed seeds are in the go fuzz format.
func TestSeedCorpusParses(t *testing.T) {
	fuzzseed.CheckFormat(t)
}
