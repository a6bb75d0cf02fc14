package record

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"

	"github.com/at-wat/ebml-go/webm"
	"github.com/pion/rtp"
	"github.com/pion/rtp/codecs"
)

// Codec names, as in Track.MimeType (compared without regard to case).
const (
	MimeTypeOpus = "audio/opus"
	MimeTypeVP8  = "video/VP8"
	MimeTypeH264 = "video/H264"
)

var (
	errEmptyFrame   = errors.New("empty frame")
	errBadKeyframe  = errors.New("keyframe without a valid header")
	errNoParameters = errors.New("H.264 keyframe before any SPS and PPS")
)

// codec turns depacketized samples of one codec into WebM frames.
type codec interface {
	depacketizer() rtp.Depacketizer
	// frame checks a sample and returns the bytes to store and whether it
	// is a keyframe (every audio frame is one). An error drops the frame.
	frame(sample []byte) (data []byte, key bool, err error)
	// config identifies the configuration trackEntry would describe; a
	// keyframe that changes it starts a new segment.
	config() string
	// trackEntry describes the track for a segment starting now.
	trackEntry(name string) webm.TrackEntry
	video() bool
}

func newCodec(t Track) (codec, error) {
	switch strings.ToLower(t.MimeType) {
	case strings.ToLower(MimeTypeOpus):
		ch := t.Channels
		if ch == 0 {
			ch = 2
		}
		if ch > 2 {
			return nil, fmt.Errorf("%w: Opus with %d channels", ErrUnsupportedCodec, ch)
		}
		return &opusCodec{channels: ch}, nil
	case strings.ToLower(MimeTypeVP8):
		return &vp8Codec{}, nil
	case strings.ToLower(MimeTypeH264):
		return &h264Codec{}, nil
	}
	return nil, fmt.Errorf("%w: %q", ErrUnsupportedCodec, t.MimeType)
}

// opusCodec: every RTP packet is one Opus packet (RFC 7587).
type opusCodec struct{ channels uint16 }

func (c *opusCodec) depacketizer() rtp.Depacketizer { return &codecs.OpusPacket{} }
func (c *opusCodec) video() bool                    { return false }
func (c *opusCodec) config() string                 { return "" }

func (c *opusCodec) frame(b []byte) ([]byte, bool, error) {
	if len(b) == 0 {
		return nil, false, errEmptyFrame // padding
	}
	return b, true, nil
}

func (c *opusCodec) trackEntry(name string) webm.TrackEntry {
	// OpusHead (RFC 7845, 5.1), channel mapping family 0. Pre-skip 0: the
	// recording starts in the middle of a stream, there is no encoder delay
	// to hide.
	head := []byte("OpusHead")
	head = append(head, 1, byte(c.channels))
	head = binary.LittleEndian.AppendUint16(head, 0)     // pre-skip
	head = binary.LittleEndian.AppendUint32(head, 48000) // input sample rate
	head = binary.LittleEndian.AppendUint16(head, 0)     // output gain
	head = append(head, 0)                               // mapping family
	return webm.TrackEntry{
		Name:         name,
		CodecID:      "A_OPUS",
		CodecPrivate: head,
		TrackType:    2,
		SeekPreRoll:  80000000, // 80 ms, as the WebM guidelines ask for Opus
		Audio:        &webm.Audio{SamplingFrequency: 48000, Channels: uint64(c.channels)},
	}
}

// vp8Codec: RFC 7741; the frame header is in RFC 6386, 9.1.
type vp8Codec struct{ width, height uint16 }

func (c *vp8Codec) depacketizer() rtp.Depacketizer { return &codecs.VP8Packet{} }
func (c *vp8Codec) video() bool                    { return true }
func (c *vp8Codec) config() string                 { return fmt.Sprintf("%dx%d", c.width, c.height) }

func (c *vp8Codec) frame(b []byte) ([]byte, bool, error) {
	if len(b) < 3 {
		return nil, false, errEmptyFrame
	}
	if b[0]&1 != 0 {
		return b, false, nil
	}
	if len(b) < 10 || b[3] != 0x9d || b[4] != 0x01 || b[5] != 0x2a {
		return nil, false, errBadKeyframe
	}
	c.width = binary.LittleEndian.Uint16(b[6:]) & 0x3fff
	c.height = binary.LittleEndian.Uint16(b[8:]) & 0x3fff
	return b, true, nil
}

func (c *vp8Codec) trackEntry(name string) webm.TrackEntry {
	return webm.TrackEntry{
		Name:      name,
		CodecID:   "V_VP8",
		TrackType: 1,
		Video:     &webm.Video{PixelWidth: uint64(c.width), PixelHeight: uint64(c.height)},
	}
}

// h264Codec: RFC 6184, depacketized to AVC form (4-byte lengths), which is
// what V_MPEG4/ISO/AVC blocks hold. SPS and PPS stay in band too, and go
// into the avcC of each segment.
type h264Codec struct {
	sps, pps []byte
	info     spsInfo
}

const maxParamSetSize = 1024

func (c *h264Codec) depacketizer() rtp.Depacketizer { return &codecs.H264Packet{IsAVC: true} }
func (c *h264Codec) video() bool                    { return true }
func (c *h264Codec) config() string                 { return string(c.sps) + "\x00" + string(c.pps) }

func (c *h264Codec) frame(b []byte) ([]byte, bool, error) {
	if len(b) == 0 {
		return nil, false, errEmptyFrame
	}
	key, vcl := false, false
	err := forEachNAL(b, func(nal []byte) {
		switch nal[0] & 0x1f {
		case nalSPS:
			if len(nal) >= 4 && len(nal) <= maxParamSetSize && !bytes.Equal(nal, c.sps) {
				c.sps = bytes.Clone(nal)
				info, err := parseSPS(nal)
				if err != nil { // keep the SPS; the picture size stays unknown
					info = spsInfo{profile: nal[1], compat: nal[2], level: nal[3], chromaFormat: 1}
				}
				c.info = info
			}
		case nalPPS:
			if len(nal) >= 2 && len(nal) <= maxParamSetSize && !bytes.Equal(nal, c.pps) {
				c.pps = bytes.Clone(nal)
			}
		case nalIDR:
			key, vcl = true, true
		case nalSlice, 2, 3, 4:
			vcl = true
		}
	})
	if err != nil {
		return nil, false, err
	}
	if !vcl {
		return nil, false, errEmptyFrame // parameter sets or SEI alone: kept for the next frame
	}
	if key && (c.sps == nil || c.pps == nil) {
		return nil, false, errNoParameters
	}
	return b, key, nil
}

func (c *h264Codec) trackEntry(name string) webm.TrackEntry {
	return webm.TrackEntry{
		Name:         name,
		CodecID:      "V_MPEG4/ISO/AVC",
		CodecPrivate: avcDecoderConfig(c.sps, c.pps, c.info),
		TrackType:    1,
		Video:        &webm.Video{PixelWidth: uint64(c.info.width), PixelHeight: uint64(c.info.height)},
	}
}
