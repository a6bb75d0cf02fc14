package audio

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"math/bits"
	"time"

	"github.com/bailiff/bailiff/drivers"
)

// WAV format tags (Microsoft RIFF spec, "WAVE Form Registration Numbers"; mmreg.h).
const (
	wavePCM        = 0x0001
	waveFloat      = 0x0003
	waveExtensible = 0xFFFE
)

// guidTail is the part after the format code of a KSDATAFORMAT_SUBTYPE GUID
// (xxxxxxxx-0000-0010-8000-00aa00389b71) as it is stored in WAVEFORMATEXTENSIBLE.SubFormat.
const guidTail = "\x00\x00\x10\x00\x80\x00\x00\xaa\x00\x38\x9b\x71"

// WAVInfo is what ParseWAV finds in a WAV file: the samples' format and where they are.
type WAVInfo struct {
	Format       Format
	SampleFormat SampleFormat
	DataOffset   int64 // offset of the first sample in the file
	DataSize     int64 // bytes of samples, a whole number of sample frames
}

// BlockAlign is the size of one sample frame in bytes.
func (w WAVInfo) BlockAlign() int { return w.Format.Channels * w.SampleFormat.Size() }

// Frames is the number of sample frames in the file.
func (w WAVInfo) Frames() int64 {
	if b := w.BlockAlign(); b > 0 {
		return w.DataSize / int64(b)
	}
	return 0
}

// Duration is how long the file plays.
func (w WAVInfo) Duration() time.Duration {
	if w.Format.SampleRate <= 0 {
		return 0
	}
	f := w.Frames()
	rate := int64(w.Format.SampleRate)
	return time.Duration(f/rate)*time.Second + time.Duration(f%rate)*time.Second/time.Duration(rate)
}

// ParseWAV reads the header of the WAV file r of size bytes and returns where its samples
// are. It is strict; see the package documentation for what it takes. Every error it
// returns for a file it does not take has ErrBadWAV in the chain; a read that fails for
// another reason than the end of r wraps that error and drivers.ErrUnreachable.
func ParseWAV(r io.ReaderAt, size int64) (WAVInfo, error) {
	info, err := parseWAV(r, size)
	if err != nil {
		return WAVInfo{}, fmt.Errorf("audio: wav: %w", err)
	}
	return info, nil
}

// parseWAV is ParseWAV without the package prefix on its errors.
func parseWAV(r io.ReaderAt, size int64) (WAVInfo, error) {
	var info WAVInfo
	var hdr [12]byte
	if size < int64(len(hdr)) {
		return info, badWAV("%d bytes: too short for a RIFF header", size)
	}
	if err := readAt(r, hdr[:], 0); err != nil {
		return info, err
	}
	switch string(hdr[0:4]) {
	case "RIFF":
	case "RIFX":
		return info, badWAV("big-endian RIFX file: only little-endian RIFF is read")
	case "RF64", "BW64":
		return info, badWAV("%s file (over 4 GiB): not read", hdr[0:4])
	default:
		return info, badWAV("no RIFF header (the file starts %q)", hdr[0:4])
	}
	if string(hdr[8:12]) != "WAVE" {
		return info, badWAV("RIFF form %q: not WAVE", hdr[8:12])
	}
	if riff := int64(binary.LittleEndian.Uint32(hdr[4:8])); riff+8 != size {
		return info, badWAV("RIFF size %d does not match the file of %d bytes (want %d)", riff, size, size-8)
	}
	var haveFmt, haveData bool
	for off := int64(len(hdr)); off < size; {
		if size-off < 8 {
			return info, badWAV("%d stray bytes at offset %d: too short for a chunk header", size-off, off)
		}
		var ch [8]byte
		if err := readAt(r, ch[:], off); err != nil {
			return info, err
		}
		id := string(ch[0:4])
		if !fourCC(id) {
			return info, badWAV("chunk at offset %d: id %q is not a four-character code", off, id)
		}
		n := int64(binary.LittleEndian.Uint32(ch[4:8]))
		body := off + 8
		end := body + n
		if end > size {
			return info, badWAV("chunk %q at offset %d: size %d runs past the end of the file", id, off, n)
		}
		if n%2 == 1 {
			end++ // chunks are padded to an even size
			if end > size {
				return info, badWAV("chunk %q at offset %d: odd size %d without its pad byte", id, off, n)
			}
		}
		switch id {
		case "fmt ":
			if haveFmt {
				return info, badWAV("a second fmt chunk at offset %d", off)
			}
			if n != 16 && n != 18 && n != 40 {
				return info, badWAV("fmt chunk of %d bytes: want 16, 18 or 40", n)
			}
			b := make([]byte, n)
			if err := readAt(r, b, body); err != nil {
				return info, err
			}
			f, sf, err := parseFmt(b)
			if err != nil {
				return info, err
			}
			info.Format, info.SampleFormat, haveFmt = f, sf, true
		case "data":
			if haveData {
				return info, badWAV("a second data chunk at offset %d", off)
			}
			if !haveFmt {
				return info, badWAV("data chunk at offset %d before the fmt chunk", off)
			}
			if n == 0 {
				return info, badWAV("the data chunk is empty")
			}
			if align := int64(info.BlockAlign()); n%align != 0 {
				return info, badWAV("data chunk of %d bytes: not a whole number of %d-byte sample frames", n, align)
			}
			info.DataOffset, info.DataSize, haveData = body, n, true
		}
		// Any other chunk (LIST, fact, cue, bext, …) is skipped.
		off = end
	}
	if !haveFmt {
		return info, badWAV("no fmt chunk")
	}
	if !haveData {
		return info, badWAV("no data chunk")
	}
	return info, nil
}

// parseFmt decodes a fmt chunk body of 16, 18 or 40 bytes (WAVEFORMAT + wBitsPerSample,
// WAVEFORMATEX, WAVEFORMATEXTENSIBLE).
func parseFmt(b []byte) (Format, SampleFormat, error) {
	le := binary.LittleEndian
	tag, channels, rate := le.Uint16(b[0:]), int(le.Uint16(b[2:])), int64(le.Uint32(b[4:]))
	byteRate, align, nbits := int64(le.Uint32(b[8:])), int(le.Uint16(b[12:])), int(le.Uint16(b[14:]))
	switch len(b) {
	case 18:
		if tag == waveExtensible {
			return Format{}, "", badWAV("extensible fmt chunk of 18 bytes: want 40")
		}
		if cb := le.Uint16(b[16:]); cb != 0 {
			return Format{}, "", badWAV("fmt extension size %d in an 18-byte fmt chunk: want 0", cb)
		}
	case 40:
		if tag != waveExtensible {
			return Format{}, "", badWAV("fmt chunk of 40 bytes with format tag 0x%04x: only the extensible format (0xFFFE) has 40", tag)
		}
	}
	if tag == waveExtensible {
		if len(b) != 40 {
			return Format{}, "", badWAV("extensible fmt chunk of %d bytes: want 40", len(b))
		}
		if cb := le.Uint16(b[16:]); cb != 22 {
			return Format{}, "", badWAV("extensible fmt extension size %d: want 22", cb)
		}
		if valid := int(le.Uint16(b[18:])); valid != nbits {
			return Format{}, "", badWAV("%d valid bits in %d-bit containers: only samples that fill their container are read", valid, nbits)
		}
		if mask := le.Uint32(b[20:]); bits.OnesCount32(mask) > channels {
			return Format{}, "", badWAV("channel mask 0x%x names more speakers than the %d channels", mask, channels)
		}
		if string(b[28:40]) != guidTail {
			return Format{}, "", badWAV("extensible sub-format GUID % x is not a KSDATAFORMAT_SUBTYPE", b[24:40])
		}
		sub := le.Uint32(b[24:])
		if sub > 0xFFFF || sub == waveExtensible {
			return Format{}, "", badWAV("extensible sub-format 0x%x", sub)
		}
		tag = uint16(sub)
	}
	var sf SampleFormat
	switch {
	case tag == wavePCM && nbits == 16:
		sf = S16
	case tag == waveFloat && nbits == 32:
		sf = F32
	case tag == wavePCM:
		return Format{}, "", badWAV("%d-bit PCM: only 16-bit PCM and 32-bit float are read", nbits)
	case tag == waveFloat:
		return Format{}, "", badWAV("%d-bit float: only 16-bit PCM and 32-bit float are read", nbits)
	default:
		return Format{}, "", badWAV("format tag 0x%04x: only PCM (1) and IEEE float (3), plain or extensible, are read", tag)
	}
	if rate < MinSampleRate || rate > MaxSampleRate { // before the int conversion below
		return Format{}, "", badWAV("sample rate %d Hz: want %d…%d", rate, MinSampleRate, MaxSampleRate)
	}
	f := Format{SampleRate: int(rate), Channels: channels}
	if err := f.check(); err != nil {
		return Format{}, "", badWAV("%v", err)
	}
	if want := channels * sf.Size(); align != want {
		return Format{}, "", badWAV("block align %d: want %d for %d channels of %s", align, want, channels, sf)
	}
	if want := rate * int64(align); byteRate != want {
		return Format{}, "", badWAV("byte rate %d: want %d (%d Hz × %d bytes)", byteRate, want, rate, align)
	}
	return f, sf, nil
}

// fourCC reports whether id is a RIFF chunk id: four printable ASCII characters.
func fourCC(id string) bool {
	for i := 0; i < len(id); i++ {
		if id[i] < 0x20 || id[i] > 0x7e {
			return false
		}
	}
	return len(id) == 4
}

func readAt(r io.ReaderAt, b []byte, off int64) error {
	n, err := r.ReadAt(b, off)
	if n == len(b) {
		return nil
	}
	if err == nil || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return badWAV("the file ends at offset %d, inside a header", off+int64(n))
	}
	return fmt.Errorf("read at offset %d: %w: %w", off, err, drivers.ErrUnreachable)
}

func badWAV(format string, args ...any) error {
	return fmt.Errorf("%s: %w", fmt.Sprintf(format, args...), ErrBadWAV)
}

// decodeLE converts the little-endian samples of src, of format sf, into dst, which has
// room for len(src)/sf.Size() of them, and returns how many it wrote. Float samples are
// clamped to full scale (±1), infinities with them, and NaN becomes 0: no converter delivers
// more than full scale, and the meters and the encoder never see a NaN.
func decodeLE(dst []float32, src []byte, sf SampleFormat) int {
	switch sf {
	case S16:
		n := min(len(dst), len(src)/2)
		for i := range n {
			dst[i] = float32(int16(binary.LittleEndian.Uint16(src[2*i:]))) * (1.0 / 32768)
		}
		return n
	case F32:
		n := min(len(dst), len(src)/4)
		for i := range n {
			dst[i] = clampSample(math.Float32frombits(binary.LittleEndian.Uint32(src[4*i:])))
		}
		return n
	}
	return 0
}

// clampSample clamps v to ±1 and turns NaN into 0.
func clampSample(v float32) float32 {
	switch {
	case v > 1:
		return 1
	case v < -1:
		return -1
	case v == v:
		return v
	}
	return 0
}
