package frame

import "fmt"

// AppendCOBS appends the COBS encoding of src to dst, without the 0x00 delimiter (protocol
// §2.1). The encoding is the canonical one of Cheshire and Baker: a block of 254 non-zero
// bytes ending the input is not followed by an empty block.
func AppendCOBS(dst, src []byte) []byte {
	codeAt := len(dst)
	dst = append(dst, 0)
	code := byte(1)
	for i, b := range src {
		if b == 0 {
			dst[codeAt] = code
			codeAt = len(dst)
			dst = append(dst, 0)
			code = 1
			continue
		}
		dst = append(dst, b)
		code++
		if code == 0xFF && i != len(src)-1 {
			dst[codeAt] = code
			codeAt = len(dst)
			dst = append(dst, 0)
			code = 1
		}
	}
	dst[codeAt] = code
	return dst
}

// COBSLen is the length of the COBS encoding of n bytes, at most.
func COBSLen(n int) int { return n + n/254 + 1 }

// DecodeCOBS appends the decoding of the COBS bytes src (no delimiter) to dst. It fails with
// ErrGarbled on a 0x00 in src or a block that runs past its end.
func DecodeCOBS(dst, src []byte) ([]byte, error) {
	for i := 0; i < len(src); {
		code := src[i]
		if code == 0 {
			return dst, fmt.Errorf("%w: 0x00 at %d", ErrGarbled, i)
		}
		i++
		n := int(code) - 1
		if i+n > len(src) {
			return dst, fmt.Errorf("%w: block at %d runs past the end", ErrGarbled, i-1)
		}
		for j, b := range src[i : i+n] {
			if b == 0 {
				return dst, fmt.Errorf("%w: 0x00 at %d", ErrGarbled, i+j)
			}
		}
		dst = append(dst, src[i:i+n]...)
		i += n
		if code != 0xFF && i < len(src) {
			dst = append(dst, 0)
		}
	}
	return dst, nil
}
