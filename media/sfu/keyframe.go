package sfu

import (
	"strings"

	"github.com/pion/webrtc/v4"
)

// keyframeStart reports whether an RTP payload of the codec begins a
// keyframe: where a viewer can start decoding another camera.
func keyframeStart(mime string, payload []byte) bool {
	switch {
	case strings.EqualFold(mime, webrtc.MimeTypeVP8):
		return vp8KeyframeStart(payload)
	case strings.EqualFold(mime, webrtc.MimeTypeH264):
		return h264KeyframeStart(payload)
	}
	return false
}

// vp8KeyframeStart reads the VP8 payload descriptor (RFC 7741 §4.2): the
// start of partition 0 of a frame whose header's P bit is 0 (a key frame).
func vp8KeyframeStart(b []byte) bool {
	if len(b) < 1 {
		return false
	}
	x, s, pid := b[0]&0x80 != 0, b[0]&0x10 != 0, b[0]&0x07
	if !s || pid != 0 {
		return false
	}
	i := 1
	if x {
		if len(b) < 2 {
			return false
		}
		ext := b[1]
		i = 2
		if ext&0x80 != 0 { // I: picture ID, 7 or 15 bits
			if len(b) <= i {
				return false
			}
			if b[i]&0x80 != 0 {
				i++
			}
			i++
		}
		if ext&0x40 != 0 { // L: TL0PICIDX
			i++
		}
		if ext&0x30 != 0 { // T or K: TID/Y/KEYIDX
			i++
		}
	}
	return len(b) > i && b[i]&0x01 == 0
}

// h264KeyframeStart reports whether an H.264 payload (RFC 6184, mode 0 or
// 1) begins an IDR access unit: an SPS, alone or first in a STAP-A, or
// the first (or only) piece of an IDR slice.
func h264KeyframeStart(b []byte) bool {
	if len(b) < 1 {
		return false
	}
	switch t := b[0] & 0x1f; t {
	case 5, 7:
		return true
	case 24: // STAP-A: 16-bit sizes, each followed by a NAL unit
		for i := 1; i+2 < len(b); {
			n := int(b[i])<<8 | int(b[i+1])
			if n == 0 || i+2+n > len(b) {
				return false
			}
			if nt := b[i+2] & 0x1f; nt == 5 || nt == 7 {
				return true
			}
			i += 2 + n
		}
	case 28: // FU-A: start bit and the fragment's NAL type
		return len(b) >= 2 && b[1]&0x80 != 0 && b[1]&0x1f == 5
	}
	return false
}
