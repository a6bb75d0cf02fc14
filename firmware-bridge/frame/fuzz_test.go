package frame_test

import (
	"bytes"
	"errors"
	"io"
	"reflect"
	"testing"

	"github.com/bailiff/bailiff/firmware-bridge/frame"
	"github.com/bailiff/bailiff/firmware-bridge/internal/golden"
	"github.com/bailiff/bailiff/internal/testutil/fuzzseed"
)

// dropErrors are the errors a frame is dropped with.
var dropErrors = []error{frame.ErrGarbled, frame.ErrShort, frame.ErrOversized, frame.ErrCRC,
	frame.ErrUnknownType, frame.ErrPayload, frame.ErrVersion}

func isDropError(err error) bool {
	for _, e := range dropErrors {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// FuzzDecodeCOBS: the decoder never panics, and what it decodes encodes back to bytes that
// decode to the same.
func FuzzDecodeCOBS(f *testing.F) {
	for _, g := range golden.Frames {
		f.Add(g.Wire)
	}
	f.Fuzz(func(t *testing.T, enc []byte) {
		dec, err := frame.DecodeCOBS(nil, enc)
		if err != nil {
			if !errors.Is(err, frame.ErrGarbled) {
				t.Fatalf("error %v is not ErrGarbled", err)
			}
			return
		}
		re := frame.AppendCOBS(nil, dec)
		if bytes.IndexByte(re, 0) >= 0 || len(re) > frame.COBSLen(len(dec)) {
			t.Fatalf("AppendCOBS(% x) = % x", dec, re)
		}
		dec2, err := frame.DecodeCOBS(nil, re)
		if err != nil || !bytes.Equal(dec, dec2) {
			t.Fatalf("round trip of % x: % x, %v", dec, dec2, err)
		}
	})
}

// FuzzDecode: a frame either decodes, and then re-encodes to the very same bytes, or fails
// with one of the drop errors.
func FuzzDecode(f *testing.F) {
	for _, g := range golden.Frames {
		f.Add(g.Wire)
	}
	f.Fuzz(func(t *testing.T, enc []byte) {
		m, err := frame.Decode(enc)
		if err != nil {
			if m != nil || !isDropError(err) {
				t.Fatalf("Decode = %v, %v", m, err)
			}
			return
		}
		re, err := frame.AppendFrame(nil, m)
		if err != nil {
			t.Fatalf("decoded %+v does not encode: %v", m, err)
		}
		raw, _ := frame.DecodeCOBS(nil, enc)
		raw2, _ := frame.DecodeCOBS(nil, re[:len(re)-1])
		if !bytes.Equal(raw, raw2) {
			t.Fatalf("re-encoded %x, was %x", raw2, raw)
		}
		m2, err := frame.Decode(re[:len(re)-1])
		if err != nil || !reflect.DeepEqual(m, m2) {
			t.Fatalf("second decode %+v, %v", m2, err)
		}
	})
}

// FuzzReader: the stream reader never panics, returns only messages that encode, counts
// every frame once, and after any bytes and a 0x00 reads a good frame again.
func FuzzReader(f *testing.F) {
	for _, g := range golden.Frames {
		f.Add(append(append([]byte{0}, g.Wire...), 0))
	}
	ping, _ := frame.AppendFrame(nil, &frame.Ping{Nonce: 0xC0FFEE})
	f.Fuzz(func(t *testing.T, data []byte) {
		stream := append(append(append([]byte(nil), data...), 0), ping...)
		r := frame.NewReader(bytes.NewReader(stream))
		var last frame.Message
		for {
			m, err := r.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("Next: %v", err)
			}
			if _, err := frame.AppendFrame(nil, m); err != nil {
				t.Fatalf("returned %+v that does not encode: %v", m, err)
			}
			last = m
		}
		if !reflect.DeepEqual(last, &frame.Ping{Nonce: 0xC0FFEE}) {
			t.Fatalf("did not resynchronise: last %+v, stats %+v", last, r.Stats())
		}
		s := r.Stats()
		if s.Truncated != 0 {
			t.Fatalf("stats %+v", s)
		}
		if max := uint64(bytes.Count(stream, []byte{0})); s.Frames+s.Dropped() > max {
			t.Fatalf("%d frames and drops from %d delimiters", s.Frames+s.Dropped(), max)
		}
	})
}

// TestSeedCorpus checks that testdata/fuzz holds every golden frame as a seed of every fuzz
// target; run with -update-corpus to write them
// (go test ./firmware-bridge/frame -run TestSeedCorpus -update-corpus).
func TestSeedCorpus(t *testing.T) {
	c := fuzzseed.Corpus{}
	for _, g := range golden.Frames {
		c.Add("FuzzDecodeCOBS", g.Name, g.Wire)
		c.Add("FuzzDecode", g.Name, g.Wire)
		c.Add("FuzzReader", g.Name, append(append([]byte{0}, g.Wire...), 0))
	}
	fuzzseed.Check(t, c)
}

// TestSeedCorpusParses checks that the committed seeds are in the go fuzz format.
func TestSeedCorpusParses(t *testing.T) {
	fuzzseed.CheckFormat(t)
}
