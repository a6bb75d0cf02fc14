package audio

import (
	"context"
	"fmt"
	"os"
	"sync"

	"github.com/bailiff/bailiff/drivers"
)

// wavSource plays a WAV file at real-time pace.
type wavSource struct {
	path string
	f    *os.File
	info WAVInfo
	loop bool

	pos int64 // next byte of the data chunk to read
	raw []byte

	closeOnce sync.Once
	closeErr  error
}

// OpenWAV opens a WAV file of 16-bit PCM or 32-bit float samples (see ParseWAV) as a Source
// that delivers them at real-time pace, in chunks of FrameDuration. With loop it starts over
// at the end of the file; without, Start returns ErrEnded there.
//
// A file that cannot be opened is drivers.ErrUnreachable in the chain (a microphone that
// is not there); one that does not parse, ErrBadWAV (and drivers.ErrDevice).
func OpenWAV(path string, loop bool) (Source, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("audio: wav: %w: %w", err, drivers.ErrUnreachable)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("audio: wav: %w: %w", err, drivers.ErrUnreachable)
	}
	if !st.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("audio: wav: %s is not a regular file: %w", path, ErrBadWAV)
	}
	info, err := parseWAV(f, st.Size())
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("audio: wav: %s: %w", path, err)
	}
	return &wavSource{path: path, f: f, info: info, loop: loop}, nil
}

func (s *wavSource) Format() Format { return s.info.Format }

// Describe says what the file holds.
func (s *wavSource) Describe() map[string]any {
	return map[string]any{"sample_format": string(s.info.SampleFormat), "duration_s": s.info.Duration().Seconds()}
}

func (s *wavSource) Start(ctx context.Context, fn func(frame []float32)) error {
	return pace(ctx, s.info.Format, s.fill, fn)
}

// fill reads the next len(buf) samples, from the start again at the end when looping.
func (s *wavSource) fill(buf []float32) (int, error) {
	size := s.info.SampleFormat.Size()
	align := int64(s.info.BlockAlign())
	if want := len(buf) * size; len(s.raw) < want {
		s.raw = make([]byte, want)
	}
	done := 0 // samples written to buf
	for done < len(buf) {
		if s.pos >= s.info.DataSize {
			if !s.loop {
				return done / s.info.Format.Channels, ErrEnded
			}
			s.pos = 0
		}
		n := min(int64(len(buf)-done)*int64(size), s.info.DataSize-s.pos)
		n -= n % align
		raw := s.raw[:n]
		if _, err := s.f.ReadAt(raw, s.info.DataOffset+s.pos); err != nil {
			return done / s.info.Format.Channels, fmt.Errorf("audio: wav: read %s: %w: %w", s.path, err, drivers.ErrUnreachable)
		}
		done += decodeLE(buf[done:], raw, s.info.SampleFormat)
		s.pos += n
	}
	return done / s.info.Format.Channels, nil
}

func (s *wavSource) Close() error {
	s.closeOnce.Do(func() { s.closeErr = s.f.Close() })
	return s.closeErr
}
