package wire

import (
	"encoding/json"
	"testing"
)

func FuzzParseTopic(f *testing.F) {
	for _, tc := range topicTable {
		f.Add(tc.name)
	}
	f.Fuzz(func(t *testing.T, name string) {
		tp, err := ParseTopic(name)
		if err != nil {
			return
		}
		if tp.String() != name {
			t.Fatalf("ParseTopic(%q).String() = %q", name, tp.String())
		}
	})
}

// fuzzDecoder checks that a decoder never panics and that what it accepts re-encodes to
// something it accepts again.
func fuzzDecoder(f *testing.F, k Kind) {
	for _, tc := range messageTable {
		if tc.kind == k {
			f.Add([]byte(tc.in))
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		v, err := decode(k, b)
		if err != nil {
			return
		}
		if _, err := decode(k, Encode(v)); err != nil {
			t.Fatalf("%s %q decoded but its encoding does not: %v", k, b, err)
		}
	})
}

func FuzzDecodeAgentStatus(f *testing.F) { fuzzDecoder(f, KindAgent) }
func FuzzDecodeDeviceState(f *testing.F) { fuzzDecoder(f, KindState) }
func FuzzDecodeCommand(f *testing.F)     { fuzzDecoder(f, KindCmd) }
func FuzzDecodeAck(f *testing.F)         { fuzzDecoder(f, KindAck) }
func FuzzDecodeEvent(f *testing.F)       { fuzzDecoder(f, KindEvent) }
func FuzzDecodeMeter(f *testing.F)       { fuzzDecoder(f, KindMeter) }
func FuzzDecodeRoomConfig(f *testing.F)  { fuzzDecoder(f, KindConfig) }

func FuzzParseArgs(f *testing.F) {
	for _, a := range ActionNames() {
		f.Add(a, []byte(`{"on":true}`))
	}
	f.Add("preset", []byte(`{"recall":1}`))
	f.Add("ptz", []byte(`{"pan":0.5,"tilt":-0.5,"zoom":0}`))
	f.Fuzz(func(t *testing.T, action string, raw []byte) {
		ParseArgs(action, json.RawMessage(raw))
	})
}
