package record

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// H.264 NAL unit types (ITU-T H.264, table 7-1).
const (
	nalSlice = 1
	nalIDR   = 5
	nalSPS   = 7
	nalPPS   = 8
	nalAUD   = 9
)

var errBadNAL = errors.New("malformed NAL unit stream")

// maxPictureSize bounds width and height: far above what any H.264 level allows.
const maxPictureSize = 16384

// forEachNAL calls fn for each NAL unit of an access unit in AVC form
// (each unit preceded by its 4-byte big-endian length), as pion's H264Packet
// with IsAVC gives it.
func forEachNAL(avc []byte, fn func(nal []byte)) error {
	for len(avc) > 0 {
		if len(avc) < 4 {
			return errBadNAL
		}
		n := binary.BigEndian.Uint32(avc)
		avc = avc[4:]
		if n == 0 || uint64(n) > uint64(len(avc)) {
			return errBadNAL
		}
		fn(avc[:n])
		avc = avc[n:]
	}
	return nil
}

// spsInfo is what the recorder needs of a sequence parameter set.
type spsInfo struct {
	profile, compat, level     byte
	chromaFormat               uint32
	bitDepthLuma, bitDepthChro uint32
	width, height              uint32
}

// bitReader reads an RBSP (emulation prevention bytes already removed).
type bitReader struct {
	b   []byte
	pos int // in bits
}

var errShortSPS = errors.New("sps: too short")

func (r *bitReader) bit() (uint32, error) {
	if r.pos >= 8*len(r.b) {
		return 0, errShortSPS
	}
	v := (r.b[r.pos/8] >> (7 - r.pos%8)) & 1
	r.pos++
	return uint32(v), nil
}

func (r *bitReader) bits(n int) (uint32, error) {
	var v uint32
	for range n {
		b, err := r.bit()
		if err != nil {
			return 0, err
		}
		v = v<<1 | b
	}
	return v, nil
}

// ue reads an unsigned Exp-Golomb code (H.264 9.1).
func (r *bitReader) ue() (uint32, error) {
	zeros := 0
	for {
		b, err := r.bit()
		if err != nil {
			return 0, err
		}
		if b == 1 {
			break
		}
		zeros++
		if zeros > 31 {
			return 0, errors.New("sps: Exp-Golomb code too long")
		}
	}
	rest, err := r.bits(zeros)
	if err != nil {
		return 0, err
	}
	return uint32((uint64(1)<<zeros)-1) + rest, nil
}

// se reads a signed Exp-Golomb code (H.264 9.1.1).
func (r *bitReader) se() (int32, error) {
	k, err := r.ue()
	if err != nil {
		return 0, err
	}
	if k%2 == 1 {
		return int32((uint64(k) + 1) / 2), nil
	}
	return -int32(k / 2), nil
}

// unescapeRBSP removes emulation prevention bytes (00 00 03 → 00 00).
func unescapeRBSP(b []byte) []byte {
	out := make([]byte, 0, len(b))
	zeros := 0
	for _, c := range b {
		if zeros >= 2 && c == 3 {
			zeros = 0
			continue
		}
		out = append(out, c)
		if c == 0 {
			zeros++
		} else {
			zeros = 0
		}
	}
	return out
}

// parseSPS reads a sequence parameter set NAL unit (with its one-byte
// header) far enough for the avcC record and the picture size
// (H.264 7.3.2.1.1 and the frame cropping of 7.4.2.1.1).
func parseSPS(nal []byte) (spsInfo, error) {
	var s spsInfo
	if len(nal) < 4 || nal[0]&0x1f != nalSPS {
		return s, errShortSPS
	}
	s.profile, s.compat, s.level = nal[1], nal[2], nal[3]
	r := &bitReader{b: unescapeRBSP(nal[4:])}
	if _, err := r.ue(); err != nil { // seq_parameter_set_id
		return s, err
	}
	s.chromaFormat = 1
	separateColourPlane := uint32(0)
	switch s.profile {
	case 100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135:
		var err error
		if s.chromaFormat, err = r.ue(); err != nil {
			return s, err
		}
		if s.chromaFormat > 3 {
			return s, fmt.Errorf("sps: chroma_format_idc %d", s.chromaFormat)
		}
		if s.chromaFormat == 3 {
			if separateColourPlane, err = r.bit(); err != nil {
				return s, err
			}
		}
		if s.bitDepthLuma, err = r.ue(); err != nil {
			return s, err
		}
		if s.bitDepthChro, err = r.ue(); err != nil {
			return s, err
		}
		if s.bitDepthLuma > 6 || s.bitDepthChro > 6 {
			return s, errors.New("sps: bit depth out of range")
		}
		if _, err = r.bit(); err != nil { // qpprime_y_zero_transform_bypass_flag
			return s, err
		}
		present, err := r.bit() // seq_scaling_matrix_present_flag
		if err != nil {
			return s, err
		}
		if present == 1 {
			lists := 8
			if s.chromaFormat == 3 {
				lists = 12
			}
			for i := range lists {
				p, err := r.bit()
				if err != nil {
					return s, err
				}
				if p == 0 {
					continue
				}
				size := 16
				if i >= 6 {
					size = 64
				}
				last, next := int32(8), int32(8)
				for range size {
					if next != 0 {
						d, err := r.se()
						if err != nil {
							return s, err
						}
						next = ((last+d)%256 + 256) % 256
					}
					if next != 0 {
						last = next
					}
				}
			}
		}
	}
	if _, err := r.ue(); err != nil { // log2_max_frame_num_minus4
		return s, err
	}
	pocType, err := r.ue()
	if err != nil {
		return s, err
	}
	switch pocType {
	case 0:
		if _, err := r.ue(); err != nil { // log2_max_pic_order_cnt_lsb_minus4
			return s, err
		}
	case 1:
		if _, err := r.bit(); err != nil { // delta_pic_order_always_zero_flag
			return s, err
		}
		if _, err := r.se(); err != nil { // offset_for_non_ref_pic
			return s, err
		}
		if _, err := r.se(); err != nil { // offset_for_top_to_bottom_field
			return s, err
		}
		n, err := r.ue()
		if err != nil {
			return s, err
		}
		if n > 255 {
			return s, errors.New("sps: num_ref_frames_in_pic_order_cnt_cycle out of range")
		}
		for range n {
			if _, err := r.se(); err != nil {
				return s, err
			}
		}
	case 2:
	default:
		return s, fmt.Errorf("sps: pic_order_cnt_type %d", pocType)
	}
	if _, err := r.ue(); err != nil { // max_num_ref_frames
		return s, err
	}
	if _, err := r.bit(); err != nil { // gaps_in_frame_num_value_allowed_flag
		return s, err
	}
	wMbs, err := r.ue()
	if err != nil {
		return s, err
	}
	hMaps, err := r.ue()
	if err != nil {
		return s, err
	}
	frameMbsOnly, err := r.bit()
	if err != nil {
		return s, err
	}
	if frameMbsOnly == 0 {
		if _, err := r.bit(); err != nil { // mb_adaptive_frame_field_flag
			return s, err
		}
	}
	if _, err := r.bit(); err != nil { // direct_8x8_inference_flag
		return s, err
	}
	if wMbs > 1024 || hMaps > 1024 {
		return s, errors.New("sps: picture too large")
	}
	width := (wMbs + 1) * 16
	height := (2 - frameMbsOnly) * (hMaps + 1) * 16
	crop, err := r.bit()
	if err != nil {
		return s, err
	}
	if crop == 1 {
		var c [4]uint32 // left, right, top, bottom
		for i := range c {
			if c[i], err = r.ue(); err != nil {
				return s, err
			}
		}
		cropX, cropY := uint32(1), 2-frameMbsOnly
		if separateColourPlane == 0 && s.chromaFormat != 0 {
			subW, subH := uint32(2), uint32(1)
			if s.chromaFormat == 3 {
				subW = 1
			}
			if s.chromaFormat == 1 {
				subH = 2
			}
			cropX, cropY = subW, subH*(2-frameMbsOnly)
		}
		cw, ch := uint64(cropX)*(uint64(c[0])+uint64(c[1])), uint64(cropY)*(uint64(c[2])+uint64(c[3]))
		if cw >= uint64(width) || ch >= uint64(height) {
			return s, errors.New("sps: cropping larger than the picture")
		}
		width -= uint32(cw)
		height -= uint32(ch)
	}
	if width > maxPictureSize || height > maxPictureSize {
		return s, errors.New("sps: picture too large")
	}
	s.width, s.height = width, height
	return s, nil
}

// avcDecoderConfig builds the AVCDecoderConfigurationRecord (ISO/IEC
// 14496-15, 5.3.3.1) that Matroska's V_MPEG4/ISO/AVC carries as CodecPrivate.
// NAL units are stored with 4-byte lengths.
func avcDecoderConfig(sps, pps []byte, info spsInfo) []byte {
	b := []byte{
		1, // configurationVersion
		info.profile, info.compat, info.level,
		0xfc | 3, // lengthSizeMinusOne = 3
		0xe0 | 1, // one SPS
	}
	b = binary.BigEndian.AppendUint16(b, uint16(len(sps)))
	b = append(b, sps...)
	b = append(b, 1) // one PPS
	b = binary.BigEndian.AppendUint16(b, uint16(len(pps)))
	b = append(b, pps...)
	switch info.profile {
	case 100, 110, 122, 144:
		b = append(b,
			0xfc|byte(info.chromaFormat),
			0xf8|byte(info.bitDepthLuma),
			0xf8|byte(info.bitDepthChro),
			0, // no SPS extensions
		)
	}
	return b
}
