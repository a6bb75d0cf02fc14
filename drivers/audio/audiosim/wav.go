package audiosim

import (
	"encoding/binary"
	"fmt"
	"math"
)

// Encode returns a WAV file of the interleaved samples (full scale ±1): 16-bit PCM with a
// 16-byte fmt chunk, or 32-bit IEEE float with an 18-byte fmt chunk (cbSize 0) and the fact
// chunk the RIFF specification asks of non-PCM data. 16-bit samples are v·32768, rounded
// and clipped to −32768…32767.
func Encode(rate, channels int, float bool, samples []float32) ([]byte, error) {
	if channels < 1 || len(samples)%channels != 0 {
		return nil, fmt.Errorf("audiosim: %d samples do not make whole frames of %d channels", len(samples), channels)
	}
	size, tag, fmtLen := 2, 1, 16
	if float {
		size, tag, fmtLen = 4, 3, 18
	}
	dataLen := len(samples) * size
	if dataLen > math.MaxUint32-100 {
		return nil, fmt.Errorf("audiosim: %d samples: too many for a WAV file", len(samples))
	}
	align := channels * size
	var b []byte
	le16 := func(v int) { b = binary.LittleEndian.AppendUint16(b, uint16(v)) }
	le32 := func(v int) { b = binary.LittleEndian.AppendUint32(b, uint32(v)) }
	riff := 4 + 8 + fmtLen + 8 + dataLen
	if float {
		riff += 12 // fact
	}
	b = append(b, "RIFF"...)
	le32(riff)
	b = append(b, "WAVE"...)
	b = append(b, "fmt "...)
	le32(fmtLen)
	le16(tag)
	le16(channels)
	le32(rate)
	le32(rate * align)
	le16(align)
	le16(size * 8)
	if float {
		le16(0) // cbSize
		b = append(b, "fact"...)
		le32(4)
		le32(len(samples) / channels)
	}
	b = append(b, "data"...)
	le32(dataLen)
	for _, v := range samples {
		if float {
			b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
			continue
		}
		x := math.Round(float64(v) * 32768)
		le16(int(int16(min(max(x, -32768), 32767))))
	}
	return b, nil
}
