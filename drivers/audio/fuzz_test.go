package audio

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/bailiff/bailiff/drivers"
	"github.com/bailiff/bailiff/drivers/audio/internal/golden"
	"github.com/bailiff/bailiff/internal/testutil/fuzzseed"
)

// FuzzParseWAV feeds a file's bytes to ParseWAV and, when it takes them, decodes the samples
// and writes them back out: the copy must parse to the same format and samples.
func FuzzParseWAV(f *testing.F) {
	for _, g := range golden.WAVs {
		f.Add(g.Data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		info, err := ParseWAV(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			if !errors.Is(err, ErrBadWAV) || drivers.Code(err) != "device_error" || !strings.HasPrefix(err.Error(), "audio: wav: ") {
				t.Fatalf("error %v: not a bad-WAV error", err)
			}
			return
		}
		if err := info.Format.check(); err != nil {
			t.Fatalf("parsed a format out of range: %+v: %v", info, err)
		}
		align := int64(info.BlockAlign())
		if align == 0 || info.DataSize <= 0 || info.DataSize%align != 0 || info.DataOffset < 12+8+16+8 ||
			info.DataOffset+info.DataSize > int64(len(data)) {
			t.Fatalf("bad data chunk %+v in %d bytes", info, len(data))
		}
		if r := binary.LittleEndian.Uint32(data[4:8]); int(r)+8 != len(data) {
			t.Fatalf("took a RIFF size %d for %d bytes", r, len(data))
		}
		samples := make([]float32, info.DataSize/int64(info.SampleFormat.Size()))
		if n := decodeLE(samples, data[info.DataOffset:info.DataOffset+info.DataSize], info.SampleFormat); n != len(samples) {
			t.Fatalf("decoded %d of %d samples", n, len(samples))
		}
		for i, v := range samples {
			if math.IsNaN(float64(v)) || v > 1 || v < -1 {
				t.Fatalf("sample %d is %v", i, v)
			}
		}
		again := encodeWAV(info.Format, info.SampleFormat, samples)
		info2, err := ParseWAV(bytes.NewReader(again), int64(len(again)))
		if err != nil {
			t.Fatalf("the copy does not parse: %v", err)
		}
		if info2.Format != info.Format || info2.SampleFormat != info.SampleFormat || info2.DataSize != info.DataSize {
			t.Fatalf("copy %+v of %+v", info2, info)
		}
		samples2 := make([]float32, len(samples))
		decodeLE(samples2, again[info2.DataOffset:], info2.SampleFormat)
		if !slices.Equal(samples, samples2) {
			t.Fatal("the copy's samples differ")
		}
	})
}

// encodeWAV is the plainest WAV file of samples: RIFF, a 16-byte fmt, data.
func encodeWAV(f Format, sf SampleFormat, samples []float32) []byte {
	var data []byte
	tag := 1
	for _, v := range samples {
		if sf == F32 {
			data = binary.LittleEndian.AppendUint32(data, math.Float32bits(v))
			tag = 3
			continue
		}
		data = binary.LittleEndian.AppendUint16(data, uint16(int16(math.Round(float64(v)*32768))))
	}
	return golden.RIFF(golden.FmtOf(tag, f.Channels, uint32(f.SampleRate), sf.Size()*8), golden.Chunk("data", data))
}

// optionSeeds are (key, value) pairs of device options.
var optionSeeds = [][2]string{
	{"source", "wav"}, {"source", "speech"}, {"source", "Malgo"}, {"channels", "2"}, {"channels", "0"},
	{"sample_rate", "48000"}, {"sample_rate", "4.8e4"}, {"sample_format", "s16"}, {"loop", "TRUE"},
	{"meter_rate_ms", "0"}, {"meter_rate_ms", "-5"}, {"backend", "pulseaudio"}, {"backend", "custom"},
	{"device", "USB Audio"}, {"file", ""}, {"volume", "11"},
}

// FuzzParseOptions feeds a device option from a room config file to parseOptions.
func FuzzParseOptions(f *testing.F) {
	for _, s := range optionSeeds {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, key, value string) {
		opts := map[string]string{key: value}
		if key != "file" {
			opts["file"] = "x.wav" // so that source wav is complete
		}
		s, err := parseOptions(opts)
		if err != nil {
			if drivers.Code(err) != "bad_args" {
				t.Fatalf("parseOptions(%q: %q): error %v is not bad_args", key, value, err)
			}
			return
		}
		if !slices.Contains(optionKeys, key) {
			t.Fatalf("took unknown option %q", key)
		}
		f := s.withDefaults()
		if f.check() != nil || s.sampleFormat.Size() == 0 || s.meterRate == 0 {
			t.Fatalf("parseOptions(%q: %q) = %+v", key, value, s)
		}
		if s.backend != "" {
			if _, err := backendIndex(s.backend); err != nil {
				t.Fatal(err)
			}
		}
		if s.source != SourceMalgo && s.source != SourceWAV {
			if _, err := NewSynth(s.source, f); err != nil {
				t.Fatal(err)
			}
		}
	})
}

// TestSeedCorpus checks that testdata/fuzz holds every golden file and option seed; run with
// -update-corpus to write them.
func TestSeedCorpus(t *testing.T) {
	c := fuzzseed.Corpus{}
	for _, g := range golden.WAVs {
		c.Add("FuzzParseWAV", g.Name, g.Data)
	}
	for i, s := range optionSeeds {
		c.Add("FuzzParseOptions", fmt.Sprintf("seed-%d", i), s[0], s[1])
	}
	fuzzseed.Check(t, c)
}

// TestSeedCorpusParses checks that the committed seeds are in the go fuzz format.
func TestSeedCorpusParses(t *testing.T) {
	fuzzseed.CheckFormat(t)
}
