package frame_test

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/bailiff/bailiff/firmware-bridge/frame"
	"github.com/bailiff/bailiff/firmware-bridge/internal/golden"
)

var updateCorpus = flag.Bool("update-corpus", false, "write the golden frames to testdata/fuzz as seed corpus")

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

func corpusFile(b []byte) []byte {
	return fmt.Appendf(nil, "go test fuzz v1\n[]byte(%q)\n", b)
}

// TestSeedCorpus checks that testdata/fuzz holds every golden frame as a seed of every fuzz
// target; run with -update-corpus to write them
// (go test ./firmware-bridge/frame -run TestSeedCorpus -update-corpus).
func TestSeedCorpus(t *testing.T) {
	want := map[string][]byte{}
	for _, g := range golden.Frames {
		want[filepath.Join("FuzzDecodeCOBS", g.Name)] = corpusFile(g.Wire)
		want[filepath.Join("FuzzDecode", g.Name)] = corpusFile(g.Wire)
		want[filepath.Join("FuzzReader", g.Name)] = corpusFile(append(append([]byte{0}, g.Wire...), 0))
	}
	for name, content := range want {
		path := filepath.Join("testdata", "fuzz", name)
		if *updateCorpus {
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, content, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(path)
		if err != nil || !bytes.Equal(got, content) {
			t.Errorf("%s is missing or stale (go test ./firmware-bridge/frame -run TestSeedCorpus -update-corpus): %v", path, err)
		}
	}
	// Seeds of frames no longer in the table are stale too (fuzzer finds have other names:
	// they are hex digests).
	files, _ := filepath.Glob(filepath.Join("testdata", "fuzz", "*", "*"))
	for _, f := range files {
		rel, _ := filepath.Rel(filepath.Join("testdata", "fuzz"), f)
		if _, ok := want[rel]; !ok && !isDigest(filepath.Base(f)) {
			t.Errorf("%s is not a golden frame any more: delete it", f)
		}
	}
}

func isDigest(s string) bool {
	if len(s) != 16 {
		return false
	}
	for _, c := range s {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// TestSeedCorpusParses checks that the committed seeds are in the go fuzz format.
func TestSeedCorpusParses(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("testdata", "fuzz", "*", "*"))
	if len(files) == 0 {
		t.Fatal("no seed corpus")
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		s := bufio.NewScanner(bytes.NewReader(b))
		if !s.Scan() || s.Text() != "go test fuzz v1" {
			t.Errorf("%s: does not start with go test fuzz v1", f)
		}
	}
}
