// Package golden holds the one table of WAV files that the driver's parser test, its fuzz
// seed corpus and the simulator's test all use: file bytes ⇄ decoded format and samples ⇄
// expected error.
//
// It is internal to drivers/audio and imported only by tests.
package golden

import (
	"encoding/binary"
	"math"
)

// WAV is one file.
type WAV struct {
	Name string
	Data []byte
	// For a file that parses (Err ""): its format, where its samples are, and the samples
	// as the driver decodes them (full scale ±1).
	Rate, Channels       int
	Format               string // "s16" or "f32"
	DataOffset, DataSize int64
	Samples              []float32
	// Err is a part of the error's text for a file the driver refuses.
	Err string
	// Sim marks a file the simulator's writer must produce byte for byte from Samples, Rate,
	// Channels and Format.
	Sim bool
}

// Chunk is a RIFF chunk: id, little-endian size, body, and a pad byte when the size is odd.
func Chunk(id string, body []byte) []byte {
	b := append([]byte(id), le32(uint32(len(body)))...)
	b = append(b, body...)
	if len(body)%2 == 1 {
		b = append(b, 0)
	}
	return b
}

// RIFF is a RIFF/WAVE file of the chunks, with its size field right.
func RIFF(chunks ...[]byte) []byte {
	var body []byte
	for _, c := range chunks {
		body = append(body, c...)
	}
	return RIFFSized(uint32(4+len(body)), chunks...)
}

// RIFFSized is a RIFF/WAVE file with the size field given.
func RIFFSized(size uint32, chunks ...[]byte) []byte {
	b := append([]byte("RIFF"), le32(size)...)
	b = append(b, "WAVE"...)
	for _, c := range chunks {
		b = append(b, c...)
	}
	return b
}

// Fmt is a 16-byte fmt chunk with every field given.
func Fmt(tag, channels int, rate, byteRate uint32, align, bits int) []byte {
	return Chunk("fmt ", fmtBody(tag, channels, rate, byteRate, align, bits))
}

// FmtOf is a right 16-byte fmt chunk: tag 1 (PCM) or 3 (float).
func FmtOf(tag, channels int, rate uint32, bits int) []byte {
	align := channels * bits / 8
	return Fmt(tag, channels, rate, rate*uint32(align), align, bits)
}

// FmtEx is an 18-byte fmt chunk (WAVEFORMATEX) with extension size cb.
func FmtEx(tag, channels int, rate uint32, bits, cb int) []byte {
	align := channels * bits / 8
	return Chunk("fmt ", append(fmtBody(tag, channels, rate, rate*uint32(align), align, bits), le16(uint16(cb))...))
}

// FmtExtensible is a 40-byte WAVEFORMATEXTENSIBLE fmt chunk; sub is the sub-format code
// (1 PCM, 3 float) put in the KSDATAFORMAT_SUBTYPE GUID.
func FmtExtensible(channels int, rate uint32, bits, valid int, mask uint32, sub uint32) []byte {
	align := channels * bits / 8
	b := fmtBody(0xFFFE, channels, rate, rate*uint32(align), align, bits)
	b = append(b, le16(22)...)
	b = append(b, le16(uint16(valid))...)
	b = append(b, le32(mask)...)
	b = append(b, le32(sub)...)
	b = append(b, "\x00\x00\x10\x00\x80\x00\x00\xaa\x00\x38\x9b\x71"...)
	return Chunk("fmt ", b)
}

func fmtBody(tag, channels int, rate, byteRate uint32, align, bits int) []byte {
	b := le16(uint16(tag))
	b = append(b, le16(uint16(channels))...)
	b = append(b, le32(rate)...)
	b = append(b, le32(byteRate)...)
	b = append(b, le16(uint16(align))...)
	return append(b, le16(uint16(bits))...)
}

// PCM16 is the data chunk body of 16-bit samples.
func PCM16(s ...int16) []byte {
	var b []byte
	for _, v := range s {
		b = append(b, le16(uint16(v))...)
	}
	return b
}

// Float32 is the data chunk body of float samples.
func Float32(s ...float32) []byte {
	var b []byte
	for _, v := range s {
		b = append(b, le32(math.Float32bits(v))...)
	}
	return b
}

func le16(v uint16) []byte { return binary.LittleEndian.AppendUint16(nil, v) }
func le32(v uint32) []byte { return binary.LittleEndian.AppendUint32(nil, v) }

// Fact is a fact chunk giving the number of sample frames.
func Fact(frames uint32) []byte { return Chunk("fact", le32(frames)) }

var (
	nan  = float32(math.NaN())
	inf  = float32(math.Inf(1))
	half = float32(0.5)
)

// WAVs is the table.
var WAVs = []WAV{
	// Files the driver reads.
	{Name: "pcm16-mono-8k", Data: RIFF(FmtOf(1, 1, 8000, 16), Chunk("data", PCM16(0, 16384, -32768, 32767, -1))),
		Rate: 8000, Channels: 1, Format: "s16", DataOffset: 44, DataSize: 10,
		Samples: []float32{0, 0.5, -1, 32767.0 / 32768, -1.0 / 32768}, Sim: true},
	{Name: "pcm16-stereo-48k", Data: RIFF(FmtOf(1, 2, 48000, 16), Chunk("data", PCM16(100, -100, 8192, -8192))),
		Rate: 48000, Channels: 2, Format: "s16", DataOffset: 44, DataSize: 8,
		Samples: []float32{100.0 / 32768, -100.0 / 32768, 0.25, -0.25}, Sim: true},
	{Name: "float32-mono-48k", Data: RIFF(FmtEx(3, 1, 48000, 32, 0), Fact(3), Chunk("data", Float32(0.5, -0.25, 1))),
		Rate: 48000, Channels: 1, Format: "f32", DataOffset: 58, DataSize: 12,
		Samples: []float32{0.5, -0.25, 1}, Sim: true},
	{Name: "float32-stereo-16-byte-fmt-no-fact", Data: RIFF(FmtOf(3, 2, 44100, 32), Chunk("data", Float32(0.125, -0.125))),
		Rate: 44100, Channels: 2, Format: "f32", DataOffset: 44, DataSize: 8, Samples: []float32{0.125, -0.125}},
	{Name: "float32-out-of-range-clamped", Data: RIFF(FmtOf(3, 1, 48000, 32), Chunk("data", Float32(1.5, -2, nan, inf, -inf, half))),
		Rate: 48000, Channels: 1, Format: "f32", DataOffset: 44, DataSize: 24, Samples: []float32{1, -1, 0, 1, -1, 0.5}},
	{Name: "pcm16-18-byte-fmt", Data: RIFF(FmtEx(1, 1, 16000, 16, 0), Chunk("data", PCM16(-16384))),
		Rate: 16000, Channels: 1, Format: "s16", DataOffset: 46, DataSize: 2, Samples: []float32{-0.5}},
	{Name: "extensible-pcm16-stereo", Data: RIFF(FmtExtensible(2, 48000, 16, 16, 0x3, 1), Chunk("data", PCM16(16384, -16384))),
		Rate: 48000, Channels: 2, Format: "s16", DataOffset: 68, DataSize: 4, Samples: []float32{0.5, -0.5}},
	{Name: "extensible-float-mono-no-mask", Data: RIFF(FmtExtensible(1, 96000, 32, 32, 0, 3), Fact(1), Chunk("data", Float32(-0.75))),
		Rate: 96000, Channels: 1, Format: "f32", DataOffset: 80, DataSize: 4, Samples: []float32{-0.75}},
	{Name: "odd-list-chunk-before-fmt", Data: RIFF(Chunk("LIST", []byte("INFOabc")), FmtOf(1, 1, 8000, 16), Chunk("data", PCM16(1))),
		Rate: 8000, Channels: 1, Format: "s16", DataOffset: 60, DataSize: 2, Samples: []float32{1.0 / 32768}},
	{Name: "chunk-after-data", Data: RIFF(FmtOf(1, 1, 8000, 16), Chunk("data", PCM16(2)), Chunk("id3 ", []byte{1, 2, 3})),
		Rate: 8000, Channels: 1, Format: "s16", DataOffset: 44, DataSize: 2, Samples: []float32{2.0 / 32768}},
	{Name: "8-channels-192k", Data: RIFF(FmtOf(1, 8, 192000, 16), Chunk("data", PCM16(1, 2, 3, 4, 5, 6, 7, 8))),
		Rate: 192000, Channels: 8, Format: "s16", DataOffset: 44, DataSize: 16,
		Samples: []float32{1.0 / 32768, 2.0 / 32768, 3.0 / 32768, 4.0 / 32768, 5.0 / 32768, 6.0 / 32768, 7.0 / 32768, 8.0 / 32768}},

	// Files it refuses.
	{Name: "empty", Data: nil, Err: "too short for a RIFF header"},
	{Name: "short-header", Data: []byte("RIFF\x04\x00\x00\x00WAV"), Err: "too short for a RIFF header"},
	{Name: "ogg", Data: []byte("OggS\x00\x02\x00\x00\x00\x00\x00\x00\x00\x00"), Err: "no RIFF header"},
	{Name: "rifx", Data: []byte("RIFX\x00\x00\x00\x04WAVE"), Err: "big-endian RIFX"},
	{Name: "rf64", Data: []byte("RF64\xff\xff\xff\xffWAVE"), Err: "RF64 file"},
	{Name: "avi", Data: []byte("RIFF\x04\x00\x00\x00AVI "), Err: "not WAVE"},
	{Name: "no-chunks", Data: RIFF(), Err: "no fmt chunk"},
	{Name: "riff-size-past-the-end", Data: RIFFSized(100, FmtOf(1, 1, 8000, 16), Chunk("data", PCM16(1))), Err: "RIFF size 100 does not match"},
	{Name: "riff-size-short-of-the-end", Data: RIFFSized(20, FmtOf(1, 1, 8000, 16), Chunk("data", PCM16(1))), Err: "RIFF size 20 does not match"},
	{Name: "stray-bytes", Data: RIFF(FmtOf(1, 1, 8000, 16), Chunk("data", PCM16(1)), []byte("junk")), Err: "4 stray bytes at offset 46"},
	{Name: "chunk-past-the-end", Data: RIFF(FmtOf(1, 1, 8000, 16), []byte("data\x10\x00\x00\x00\x01\x00")), Err: "size 16 runs past the end"},
	{Name: "chunk-size-huge", Data: RIFF(FmtOf(1, 1, 8000, 16), []byte("data\xff\xff\xff\xff\x01\x00")), Err: "size 4294967295 runs past the end"},
	{Name: "odd-chunk-without-pad", Data: RIFF(FmtOf(1, 1, 8000, 16), Chunk("data", PCM16(1)), []byte("LIST\x01\x00\x00\x00x")), Err: "odd size 1 without its pad byte"},
	{Name: "bad-chunk-id", Data: RIFF([]byte("\x00mt \x10\x00\x00\x00"), make([]byte, 16)), Err: "is not a four-character code"},
	{Name: "no-fmt", Data: RIFF(Chunk("data", PCM16(1))), Err: "data chunk at offset 12 before the fmt chunk"},
	{Name: "no-data", Data: RIFF(FmtOf(1, 1, 8000, 16), Chunk("LIST", []byte("INFO"))), Err: "no data chunk"},
	{Name: "two-fmt", Data: RIFF(FmtOf(1, 1, 8000, 16), FmtOf(1, 1, 8000, 16), Chunk("data", PCM16(1))), Err: "a second fmt chunk"},
	{Name: "fmt-after-data", Data: RIFF(FmtOf(1, 1, 8000, 16), Chunk("data", PCM16(1)), FmtOf(1, 1, 8000, 16)), Err: "a second fmt chunk"},
	{Name: "two-data", Data: RIFF(FmtOf(1, 1, 8000, 16), Chunk("data", PCM16(1)), Chunk("data", PCM16(1))), Err: "a second data chunk"},
	{Name: "empty-data", Data: RIFF(FmtOf(1, 1, 8000, 16), Chunk("data", nil)), Err: "the data chunk is empty"},
	{Name: "data-not-whole-frames", Data: RIFF(FmtOf(1, 2, 8000, 16), Chunk("data", PCM16(1, 2, 3))), Err: "not a whole number of 4-byte sample frames"},
	{Name: "fmt-20-bytes", Data: RIFF(Chunk("fmt ", make([]byte, 20)), Chunk("data", PCM16(1))), Err: "fmt chunk of 20 bytes"},
	{Name: "fmt-14-bytes", Data: RIFF(Chunk("fmt ", make([]byte, 14)), Chunk("data", PCM16(1))), Err: "fmt chunk of 14 bytes"},
	{Name: "pcm8", Data: RIFF(FmtOf(1, 1, 8000, 8), Chunk("data", []byte{0x80, 0x80})), Err: "8-bit PCM"},
	{Name: "pcm24", Data: RIFF(FmtOf(1, 1, 8000, 24), Chunk("data", []byte{0, 0, 0, 0})), Err: "24-bit PCM"},
	{Name: "pcm32", Data: RIFF(FmtOf(1, 1, 8000, 32), Chunk("data", []byte{0, 0, 0, 0})), Err: "32-bit PCM"},
	{Name: "float64", Data: RIFF(FmtOf(3, 1, 8000, 64), Chunk("data", make([]byte, 8))), Err: "64-bit float"},
	{Name: "mu-law", Data: RIFF(FmtEx(7, 1, 8000, 8, 0), Chunk("data", []byte{0xff, 0xff})), Err: "format tag 0x0007"},
	{Name: "adpcm", Data: RIFF(FmtOf(2, 1, 8000, 4), Chunk("data", []byte{0, 0})), Err: "format tag 0x0002"},
	{Name: "fmt-18-extension-size-2", Data: RIFF(FmtEx(1, 1, 8000, 16, 2), Chunk("data", PCM16(1))), Err: "fmt extension size 2"},
	{Name: "extensible-in-18-bytes", Data: RIFF(FmtEx(0xFFFE, 1, 8000, 16, 0), Chunk("data", PCM16(1))), Err: "extensible fmt chunk of 18 bytes"},
	{Name: "extensible-in-16-bytes", Data: RIFF(FmtOf(0xFFFE, 1, 8000, 16), Chunk("data", PCM16(1))), Err: "extensible fmt chunk of 16 bytes"},
	{Name: "pcm-in-40-bytes", Data: RIFF(Chunk("fmt ", append(fmtBody(1, 1, 8000, 16000, 2, 16), make([]byte, 24)...)), Chunk("data", PCM16(1))), Err: "fmt chunk of 40 bytes with format tag 0x0001"},
	{Name: "extensible-extension-size-0", Data: RIFF(Chunk("fmt ", append(fmtBody(0xFFFE, 1, 8000, 16000, 2, 16), make([]byte, 24)...)), Chunk("data", PCM16(1))), Err: "extensible fmt extension size 0"},
	{Name: "extensible-24-in-32", Data: RIFF(FmtExtensible(1, 48000, 32, 24, 0x4, 1), Chunk("data", make([]byte, 4))), Err: "24 valid bits in 32-bit containers"},
	{Name: "extensible-mask-too-wide", Data: RIFF(FmtExtensible(1, 48000, 16, 16, 0x3, 1), Chunk("data", PCM16(1))), Err: "channel mask 0x3"},
	{Name: "extensible-bad-guid", Data: RIFF(Chunk("fmt ", append(fmtBody(0xFFFE, 1, 8000, 16000, 2, 16), append([]byte{22, 0, 16, 0, 4, 0, 0, 0}, make([]byte, 16)...)...)), Chunk("data", PCM16(1))), Err: "is not a KSDATAFORMAT_SUBTYPE"},
	{Name: "extensible-mu-law", Data: RIFF(FmtExtensible(1, 8000, 8, 8, 0x4, 7), Chunk("data", []byte{0xff, 0xff})), Err: "format tag 0x0007"},
	{Name: "extensible-in-extensible", Data: RIFF(FmtExtensible(1, 8000, 16, 16, 0x4, 0xFFFE), Chunk("data", PCM16(1))), Err: "extensible sub-format 0xfffe"},
	{Name: "zero-channels", Data: RIFF(Fmt(1, 0, 8000, 0, 0, 16), Chunk("data", PCM16(1))), Err: "0 channels"},
	{Name: "nine-channels", Data: RIFF(FmtOf(1, 9, 8000, 16), Chunk("data", make([]byte, 18))), Err: "9 channels"},
	{Name: "rate-7999", Data: RIFF(FmtOf(1, 1, 7999, 16), Chunk("data", PCM16(1))), Err: "sample rate 7999 Hz"},
	{Name: "rate-192001", Data: RIFF(FmtOf(1, 1, 192001, 16), Chunk("data", PCM16(1))), Err: "sample rate 192001 Hz"},
	{Name: "rate-max-uint32", Data: RIFF(Fmt(1, 1, 0xffffffff, 0xfffffffe, 2, 16), Chunk("data", PCM16(1))), Err: "sample rate 4294967295 Hz"},
	{Name: "block-align-wrong", Data: RIFF(Fmt(1, 2, 8000, 32000, 2, 16), Chunk("data", PCM16(1, 2))), Err: "block align 2: want 4"},
	{Name: "byte-rate-wrong", Data: RIFF(Fmt(1, 1, 8000, 8000, 2, 16), Chunk("data", PCM16(1))), Err: "byte rate 8000: want 16000"},
}
