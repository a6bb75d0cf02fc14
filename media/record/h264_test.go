package record

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"testing"
)

// SPS NAL units written by x264 (ffmpeg's libx264), with the sizes they
// describe.
var x264SPS = []struct {
	name          string
	hex           string
	width, height uint32
}{
	{"baseline 320x240", "6742c00dda0507ec04400000030040000f03c50aa8", 320, 240},
	{"main 320x240", "674d400deca0a0fd80880000030008000003019078a14cb0", 320, 240},
	{"high 1920x1080 (cropped)", "67640028acd940780227e5c044000003000400000300c83c60c658", 1920, 1080},
	{"high 4:4:4 352x288", "67f4000d919b282c12d808800000030080000019078a14cb", 352, 288},
	{"interlaced 704x572 (cropped)", "6764001eacd940b024fd6022000003000200000300643e28532c", 704, 572},
}

// bitWriter writes an RBSP, to make SPS that x264 would not.
type bitWriter struct {
	b    []byte
	nbit int
}

func (w *bitWriter) bit(v uint32) {
	if w.nbit%8 == 0 {
		w.b = append(w.b, 0)
	}
	if v != 0 {
		w.b[len(w.b)-1] |= 1 << (7 - w.nbit%8)
	}
	w.nbit++
}

func (w *bitWriter) ue(v uint32) {
	v++
	n := 0
	for x := v; x > 1; x >>= 1 {
		n++
	}
	for range n {
		w.bit(0)
	}
	for i := n; i >= 0; i-- {
		w.bit(v >> i & 1)
	}
}

func (w *bitWriter) se(v int32) {
	if v > 0 {
		w.ue(uint32(2*v - 1))
	} else {
		w.ue(uint32(-2 * v))
	}
}

// escape adds emulation prevention bytes.
func escape(b []byte) []byte {
	var out []byte
	zeros := 0
	for _, c := range b {
		if zeros >= 2 && c <= 3 {
			out = append(out, 3)
			zeros = 0
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

// highSPS: High profile with a scaling matrix (one list given, one "use
// default" by a zero delta), POC type 1 with a cycle, frame cropping.
var highSPS = func() []byte {
	w := &bitWriter{}
	w.ue(0) // sps id
	w.ue(1) // chroma_format_idc 4:2:0
	w.ue(0) // bit_depth_luma_minus8
	w.ue(0) // bit_depth_chroma_minus8
	w.bit(0)
	w.bit(1) // seq_scaling_matrix_present_flag
	for i := range 8 {
		switch i {
		case 0:
			w.bit(1)
			for j := range 16 {
				w.se(int32(j%5) - 2)
			}
		case 6:
			w.bit(1)
			w.se(-8) // next scale 0: the default list, no more deltas
		default:
			w.bit(0)
		}
	}
	w.ue(0) // log2_max_frame_num_minus4
	w.ue(1) // pic_order_cnt_type
	w.bit(0)
	w.se(-1)
	w.se(2)
	w.ue(3)
	w.se(1)
	w.se(-1)
	w.se(0)
	w.ue(4)  // max_num_ref_frames
	w.bit(0) // gaps
	w.ue(79) // 1280
	w.ue(44) // 720
	w.bit(1) // frame_mbs_only
	w.bit(1) // direct_8x8
	w.bit(1) // cropping
	w.ue(2)  // left 4 px
	w.ue(2)  // right 4 px
	w.ue(0)
	w.ue(4) // bottom 8 px
	w.bit(0)
	w.bit(1) // rbsp stop bit
	return append([]byte{0x67, 100, 0, 31}, escape(w.b)...)
}()

// interlacedSPS: Main profile, field coding (frame_mbs_only 0), cropped.
var interlacedSPS = func() []byte {
	w := &bitWriter{}
	w.ue(0)
	w.ue(0)  // log2_max_frame_num_minus4
	w.ue(2)  // pic_order_cnt_type 2
	w.ue(1)  // max_num_ref_frames
	w.bit(0) // gaps
	w.ue(44) // 720
	w.ue(17) // 18 map units = 36 MB rows = 576
	w.bit(0) // frame_mbs_only 0
	w.bit(1) // mb_adaptive_frame_field
	w.bit(1) // direct_8x8
	w.bit(1) // cropping
	w.ue(0)
	w.ue(0)
	w.ue(1) // top: 4 lines (2 * 2 for fields)
	w.ue(1) // bottom: 4 lines
	w.bit(0)
	w.bit(1)
	return append([]byte{0x67, 77, 0, 30}, escape(w.b)...)
}()

func TestParseSPS(t *testing.T) {
	cases := x264SPS
	cases = append(cases,
		struct {
			name          string
			hex           string
			width, height uint32
		}{"high with scaling lists", hex.EncodeToString(highSPS), 1272, 712},
		struct {
			name          string
			hex           string
			width, height uint32
		}{"interlaced", hex.EncodeToString(interlacedSPS), 720, 568},
	)
	for _, tc := range cases {
		nal, _ := hex.DecodeString(tc.hex)
		s, err := parseSPS(nal)
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if s.width != tc.width || s.height != tc.height {
			t.Errorf("%s: %dx%d, want %dx%d", tc.name, s.width, s.height, tc.width, tc.height)
		}
		// Every prefix is too short, and never panics.
		for i := range len(nal) - 1 {
			parseSPS(nal[:i])
		}
	}
	if _, err := parseSPS([]byte{0x68, 1, 2, 3, 4}); err == nil {
		t.Errorf("a PPS parsed as an SPS")
	}
}

func TestUnescapeRBSP(t *testing.T) {
	for _, tc := range []struct{ in, out string }{
		{"000003", "0000"},
		{"00000301", "000001"},
		{"0000030000030000", "00000000" + "0000"},
		{"0003", "0003"},
		{"ff000003ff", "ff0000ff"},
	} {
		in, _ := hex.DecodeString(tc.in)
		if got := hex.EncodeToString(unescapeRBSP(in)); got != tc.out {
			t.Errorf("%s: got %s, want %s", tc.in, got, tc.out)
		}
	}
}

func TestAVCDecoderConfig(t *testing.T) {
	sps, _ := hex.DecodeString(x264SPS[2].hex) // High
	pps := []byte{0x68, 0xeb, 0xe3, 0xcb, 0x22, 0xc0}
	info, err := parseSPS(sps)
	if err != nil {
		t.Fatal(err)
	}
	c := avcDecoderConfig(sps, pps, info)
	want := []byte{1, 0x64, 0x00, 0x28, 0xff, 0xe1}
	want = binary.BigEndian.AppendUint16(want, uint16(len(sps)))
	want = append(want, sps...)
	want = append(want, 1)
	want = binary.BigEndian.AppendUint16(want, uint16(len(pps)))
	want = append(want, pps...)
	want = append(want, 0xfd, 0xf8, 0xf8, 0) // 4:2:0, 8 bit, no extensions
	if !bytes.Equal(c, want) {
		t.Errorf("avcC\n got %x\nwant %x", c, want)
	}
}

// annexBToAVC turns start codes into 4-byte lengths.
func annexBToAVC(b []byte) []byte {
	var out []byte
	var nals [][]byte
	for len(b) > 0 {
		i := bytes.Index(b, []byte{0, 0, 1})
		if i < 0 {
			nals = append(nals, b)
			break
		}
		if i > 0 {
			nals = append(nals, bytes.TrimRight(b[:i], "\x00"))
		}
		b = b[i+3:]
	}
	for _, n := range nals {
		if len(n) == 0 {
			continue
		}
		out = binary.BigEndian.AppendUint32(out, uint32(len(n)))
		out = append(out, n...)
	}
	return out
}

func TestH264Frames(t *testing.T) {
	sps, _ := hex.DecodeString(x264SPS[0].hex)
	pps := []byte{0x68, 0xce, 0x3c, 0x80}
	idr := []byte{0x65, 0x88, 0x84, 0x00}
	slice := []byte{0x41, 0x9a, 0x02}
	avc := func(nals ...[]byte) []byte {
		var b []byte
		for _, n := range nals {
			b = binary.BigEndian.AppendUint32(b, uint32(len(n)))
			b = append(b, n...)
		}
		return b
	}
	c := &h264Codec{}
	if _, _, err := c.frame(avc(idr)); err != errNoParameters {
		t.Errorf("IDR before SPS/PPS: %v", err)
	}
	if _, _, err := c.frame(avc(sps, pps)); err != errEmptyFrame {
		t.Errorf("parameter sets alone: %v", err)
	}
	if _, key, err := c.frame(avc(idr)); err != nil || !key {
		t.Errorf("IDR after SPS/PPS: key %v, %v", key, err)
	}
	if _, key, err := c.frame(avc(slice)); err != nil || key {
		t.Errorf("non-IDR slice: key %v, %v", key, err)
	}
	if _, _, err := c.frame([]byte{0, 0, 0, 9, 1}); err == nil {
		t.Errorf("length past the end accepted")
	}
	e := c.trackEntry("cam")
	if e.CodecID != "V_MPEG4/ISO/AVC" || e.Video.PixelWidth != 320 || e.Video.PixelHeight != 240 {
		t.Errorf("track entry %+v %+v", e, e.Video)
	}
	cfg := c.config()
	c.frame(avc(sps, []byte{0x68, 0xce, 0x3c, 0x81}, idr))
	if c.config() == cfg {
		t.Errorf("a new PPS did not change the configuration")
	}
}

func TestVP8Frames(t *testing.T) {
	c := &vp8Codec{}
	key := []byte{0x50, 0x42, 0x00, 0x9d, 0x01, 0x2a, 0x40, 0x01, 0xf0, 0x00, 0xff}
	if _, k, err := c.frame(key); err != nil || !k || c.width != 320 || c.height != 240 {
		t.Errorf("keyframe: key %v, %dx%d, %v", k, c.width, c.height, err)
	}
	if _, k, err := c.frame([]byte{0x51, 0x42, 0x00, 0x12}); err != nil || k {
		t.Errorf("interframe: key %v, %v", k, err)
	}
	if _, _, err := c.frame([]byte{0x50, 0x42, 0x00, 0x9d, 0x01}); err == nil {
		t.Errorf("short keyframe accepted")
	}
	if _, _, err := c.frame(nil); err == nil {
		t.Errorf("empty frame accepted")
	}
}

func TestOpusHead(t *testing.T) {
	c := &opusCodec{channels: 2}
	e := c.trackEntry("mic")
	want := []byte("OpusHead\x01\x02\x00\x00\x80\xbb\x00\x00\x00\x00\x00")
	if !bytes.Equal(e.CodecPrivate, want) || e.CodecID != "A_OPUS" || e.Audio.Channels != 2 {
		t.Errorf("Opus track entry: %q %+v", e.CodecPrivate, e)
	}
}
