package clips

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/pion/webrtc/v4/pkg/media/h264reader"
	"github.com/pion/webrtc/v4/pkg/media/ivfreader"
	"github.com/pion/webrtc/v4/pkg/media/oggreader"
)

var (
	//go:embed files/h264.264
	h264Data []byte
	//go:embed files/vp8.ivf
	vp8Data []byte
	//go:embed files/opus.ogg
	opusData []byte
)

// Codec names, as WebRTC mime subtypes.
const (
	H264 = "H264"
	VP8  = "VP8"
	Opus = "opus"
)

// Frame is one encoded frame: an H.264 access unit in Annex B, a VP8 frame or an Opus packet.
type Frame struct {
	Data     []byte
	Duration time.Duration
	Key      bool // a keyframe (video)
}

// Clip is a clip read into frames.
type Clip struct {
	Codec     string // H264, VP8 or Opus
	ClockRate uint32
	Channels  int // audio
	Frames    []Frame

	// H.264 only: the first SPS and PPS, and the profile-level-id (6 hex digits).
	SPS, PPS       []byte
	ProfileLevelID string
}

// Duration is the clip's length.
func (c *Clip) Duration() time.Duration {
	var d time.Duration
	for _, f := range c.Frames {
		d += f.Duration
	}
	return d
}

var (
	once   sync.Once
	loaded map[string]*Clip
	errLd  error
)

// Get returns the bundled clip of a codec (H264, VP8 or Opus).
func Get(codec string) (*Clip, error) {
	once.Do(func() {
		loaded = map[string]*Clip{}
		frame := time.Second / 15
		fr, err := ReadH264(bytes.NewReader(h264Data), frame)
		if err != nil {
			errLd = err
			return
		}
		h := &Clip{Codec: H264, ClockRate: 90000, Frames: fr}
		h.SPS, h.PPS = ParameterSets(fr)
		if len(h.SPS) >= 4 {
			h.ProfileLevelID = fmt.Sprintf("%02x%02x%02x", h.SPS[1], h.SPS[2], h.SPS[3])
		}
		loaded[H264] = h
		if fr, err = ReadIVF(bytes.NewReader(vp8Data), frame); err != nil {
			errLd = err
			return
		}
		loaded[VP8] = &Clip{Codec: VP8, ClockRate: 90000, Frames: fr}
		if fr, err = ReadOgg(bytes.NewReader(opusData)); err != nil {
			errLd = err
			return
		}
		loaded[Opus] = &Clip{Codec: Opus, ClockRate: 48000, Channels: 2, Frames: fr}
	})
	if errLd != nil {
		return nil, errLd
	}
	c, ok := loaded[codec]
	if !ok {
		return nil, fmt.Errorf("clips: no clip of codec %q (have H264, VP8, opus)", codec)
	}
	return c, nil
}

// MustGet is Get for the bundled clips, which always load.
func MustGet(codec string) *Clip {
	c, err := Get(codec)
	if err != nil {
		panic(err)
	}
	return c
}

// WithoutParameterSets returns a copy of an H.264 clip whose frames carry no SPS or PPS, as
// a camera that sends them only in its SDP (sprop-parameter-sets) streams.
func (c *Clip) WithoutParameterSets() *Clip {
	out := *c
	out.Frames = make([]Frame, len(c.Frames))
	for i, f := range c.Frames {
		var b []byte
		for _, nal := range SplitAnnexB(f.Data) {
			if t := nal[0] & 0x1f; t != 7 && t != 8 {
				b = append(append(b, 0, 0, 0, 1), nal...)
			}
		}
		out.Frames[i] = Frame{Data: b, Duration: f.Duration, Key: f.Key}
	}
	return &out
}

// ParameterSets returns the first SPS and PPS of H.264 frames.
func ParameterSets(frames []Frame) (sps, pps []byte) {
	for _, f := range frames {
		for _, nal := range SplitAnnexB(f.Data) {
			switch nal[0] & 0x1f {
			case 7:
				if sps == nil {
					sps = nal
				}
			case 8:
				if pps == nil {
					pps = nal
				}
			}
			if sps != nil && pps != nil {
				return sps, pps
			}
		}
	}
	return sps, pps
}

// SplitAnnexB splits an Annex B byte stream into its NAL units (without start codes).
func SplitAnnexB(b []byte) [][]byte {
	var out [][]byte
	for len(b) > 0 {
		i := bytes.Index(b, []byte{0, 0, 1})
		if i < 0 {
			if len(b) > 0 {
				out = append(out, b)
			}
			break
		}
		if nal := bytes.TrimRight(b[:i], "\x00"); len(nal) > 0 {
			out = append(out, nal)
		}
		b = b[i+3:]
	}
	return out
}

// ReadH264 reads an Annex B stream into access units, each in Annex B. An access unit starts
// at an access unit delimiter, at a parameter set or SEI that follows a picture's slices, or
// at a slice whose first_mb_in_slice is 0.
func ReadH264(r io.Reader, frame time.Duration) ([]Frame, error) {
	hr, err := h264reader.NewReader(r)
	if err != nil {
		return nil, fmt.Errorf("clips: h264: %w", err)
	}
	var out []Frame
	var au bytes.Buffer
	haveSlice, idr := false, false
	flush := func() {
		if haveSlice {
			out = append(out, Frame{Data: bytes.Clone(au.Bytes()), Duration: frame, Key: idr})
		}
		au.Reset()
		haveSlice, idr = false, false
	}
	for {
		nal, err := hr.NextNAL()
		if errors.Is(err, io.EOF) {
			flush()
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("clips: h264: %w", err)
		}
		slice := nal.UnitType == h264reader.NalUnitTypeCodedSliceIdr || nal.UnitType == h264reader.NalUnitTypeCodedSliceNonIdr
		switch {
		case nal.UnitType == h264reader.NalUnitTypeAUD:
			flush()
			continue
		case !slice && haveSlice:
			flush()
		case slice && haveSlice && len(nal.Data) > 1 && nal.Data[1]&0x80 != 0:
			flush()
		}
		au.Write([]byte{0, 0, 0, 1})
		au.Write(nal.Data)
		haveSlice = haveSlice || slice
		idr = idr || nal.UnitType == h264reader.NalUnitTypeCodedSliceIdr
	}
}

// ReadIVF reads the frames of an IVF stream (VP8).
func ReadIVF(r io.Reader, frame time.Duration) ([]Frame, error) {
	ir, _, err := ivfreader.NewWith(r)
	if err != nil {
		return nil, fmt.Errorf("clips: ivf: %w", err)
	}
	var out []Frame
	for {
		b, _, err := ir.ParseNextFrame()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("clips: ivf: %w", err)
		}
		out = append(out, Frame{Data: b, Duration: frame, Key: len(b) > 0 && b[0]&0x01 == 0})
	}
}

// ReadOgg reads the Opus packets of an Ogg stream (one packet a page, 20 ms each).
func ReadOgg(r io.Reader) ([]Frame, error) {
	or, _, err := oggreader.NewWith(r)
	if err != nil {
		return nil, fmt.Errorf("clips: ogg: %w", err)
	}
	var out []Frame
	for {
		b, h, err := or.ParseNextPage()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("clips: ogg: %w", err)
		}
		if h.GranulePosition == 0 || len(b) == 0 || bytes.HasPrefix(b, []byte("OpusTags")) {
			continue
		}
		out = append(out, Frame{Data: b, Duration: 20 * time.Millisecond})
	}
}
