package record

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/at-wat/ebml-go/mkvcore"
	"github.com/at-wat/ebml-go/webm"
)

// How a segment file is laid out (ebml-go's block writer does the writing):
//
//	EBML header
//	Segment (unknown size)
//	  SeekHead → Info, Tracks, Cues
//	  Info: TimecodeScale 1 ms, DateUTC, Duration (see below)
//	  Tracks: one TrackEntry
//	  Void, cuesReserve bytes, overwritten with Cues when the segment closes
//	  Cluster (unknown size) { Timecode, SimpleBlock… }
//	  Cluster …
//
// Segment and Clusters have unknown sizes, so a file cut anywhere (kill -9,
// power loss after the last fsync) is still a valid stream up to the last
// complete block: nothing written earlier ever has to be patched for a
// player to read it. Only two things are patched when the segment closes,
// both in the header: the Cues (written over the reserved Void) and the
// Duration. While the file is being written the Duration element is
// disguised as a Void of the same length, so a cut file has no Duration at
// all (players treat it as a live stream of unknown length) rather than the
// near-zero placeholder ebml-go writes; closing restores the Duration's ID
// after ebml-go has written its value.

const (
	cuesReserve = 16 << 10 // enough for ~900 cue points; ebml-go thins them out past that
	// Cluster lengths, ms: a video cluster starts at a keyframe once this
	// long, and at any frame once clusterMaxMS long.
	videoClusterMinMS = 1000
	clusterMaxMS      = 5000
)

var (
	durationID = []byte{0x44, 0x89, 0x88}       // Duration, 8-byte float follows
	voidID     = []byte{0xec, 0x89, 0x00}       // Void of 9 bytes: the same 11-byte length
	tinyFloat  = []byte{0, 0, 0, 0, 0, 0, 0, 1} // ebml-go's placeholder (smallest float64)
)

// sink sits between ebml-go's writer and the file. It writes straight
// through (every block reaches the kernel at once, so kill -9 loses nothing
// that got this far); after the first error it swallows everything so
// ebml-go's goroutine never stops on an error (it would then block its
// writers) and the recorder sees the error instead.
type sink struct {
	mu      sync.Mutex
	f       file
	header  []byte // collected until the header is complete
	inHead  bool
	durPos  int64 // offset of the disguised Duration element, or -1
	written int64
	err     error
}

func (s *sink) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return len(p), nil
	}
	if s.inHead {
		s.header = append(s.header, p...)
		return len(p), nil
	}
	n, err := s.f.Write(p)
	s.written += int64(n)
	if err == nil && n < len(p) {
		err = fmt.Errorf("short write (%d of %d bytes)", n, len(p))
	}
	if err != nil {
		s.err = err
	}
	return len(p), nil
}

func (s *sink) WriteAt(p []byte, off int64) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return len(p), nil
	}
	if _, err := s.f.WriteAt(p, off); err != nil {
		s.err = err
	}
	return len(p), nil
}

// Close is called by ebml-go once it has written everything, including
// the Cues and the Duration's value: put the Duration's ID back. The file
// itself is closed by the segment.
func (s *sink) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err == nil && s.durPos >= 0 {
		if _, err := s.f.WriteAt(durationID, s.durPos); err != nil {
			s.err = err
		}
	}
	return nil
}

// fatal receives ebml-go's fatal errors (only marshalling errors can reach
// it, since the sink never fails a write).
func (s *sink) fatal(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err == nil {
		s.err = fmt.Errorf("webm writer: %w", err)
	}
}

// endHeader writes the collected header in one piece, its Duration disguised.
func (s *sink) endHeader() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.inHead = false
	s.durPos = -1
	if i := bytes.Index(s.header, durationID); i >= 0 && i+len(durationID)+8 <= len(s.header) &&
		bytes.Equal(s.header[i+len(durationID):i+len(durationID)+8], tinyFloat) {
		copy(s.header[i:], voidID)
		s.durPos = int64(i)
	}
	n, err := s.f.Write(s.header)
	s.written += int64(n)
	if err != nil {
		s.err = err
		return err
	}
	s.header = nil
	return nil
}

func (s *sink) error() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// segmentWriter writes one segment file of one track.
type segmentWriter struct {
	path   string
	name   string
	index  int
	f      file
	sink   *sink
	bw     webm.BlockWriteCloser
	config string // codec configuration the file was started with
	track  Track
	err    error // what cut the segment short, if anything

	startMS, lastMS int64
	lastDur         int64 // ms, duration of the last frame
	startWall       time.Time
	frames          int64
	closed          bool
}

// trackUID makes a stable, non-zero TrackUID from the file name.
func trackUID(name string) uint64 {
	h := sha256.Sum256([]byte(name))
	return binary.BigEndian.Uint64(h[:8]) | 1
}

func openSegment(open openFunc, dir, name string, index int, entry webm.TrackEntry, video bool, config string, startMS int64, wall time.Time) (*segmentWriter, error) {
	path := dir + string(os.PathSeparator) + name
	f, err := open(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o640)
	if err != nil {
		return nil, fmt.Errorf("record: create segment %s: %w", name, err)
	}
	s := &sink{f: f, inHead: true, durPos: -1}
	entry.TrackNumber = 1
	entry.TrackUID = trackUID(name)
	info := &webm.Info{
		TimecodeScale: 1000000, // 1 ms
		MuxingApp:     "ebml-go",
		WritingApp:    "bailiff/record",
		DateUTC:       wall.UTC(),
	}
	minCluster := int64(clusterMaxMS)
	if video {
		minCluster = videoClusterMinMS
	}
	ws, err := webm.NewSimpleBlockWriter(s, []webm.TrackEntry{entry},
		mkvcore.WithSegmentInfo(info),
		mkvcore.WithBlockInterceptor(nil), // one track, frames already in order
		mkvcore.WithSeekHead(true),
		mkvcore.WithCues(cuesReserve),
		mkvcore.WithMinMaxClusterDuration(1, minCluster, clusterMaxMS),
		mkvcore.WithOnFatalHandler(s.fatal),
		mkvcore.WithOnErrorHandler(func(error) {}), // a too old frame is dropped; cannot happen as frames are in order
	)
	if err == nil {
		err = s.endHeader()
	}
	if err == nil {
		err = f.Sync()
	}
	if err != nil {
		for _, w := range ws {
			w.Close()
		}
		f.Close()
		return nil, fmt.Errorf("record: start segment %s: %w", name, err)
	}
	return &segmentWriter{
		path: path, name: name, index: index, f: f, sink: s, bw: ws[0], config: config,
		startMS: startMS, lastMS: startMS, startWall: wall,
	}, nil
}

// write adds one frame; ms is the track's media time.
func (w *segmentWriter) write(key bool, ms, dur int64, data []byte) error {
	if _, err := w.bw.Write(key, ms, data); err != nil {
		return err
	}
	w.frames++
	w.lastMS = ms
	w.lastDur = dur
	return w.sink.error()
}

// sync flushes what has been written to the disk.
func (w *segmentWriter) sync() error {
	if err := w.sink.error(); err != nil {
		return err
	}
	return w.f.Sync()
}

// close finalizes the file (Cues, Duration) and closes it. The error is
// that of the first failed write, if any: the file then ends where that
// write failed.
func (w *segmentWriter) close() error {
	if w.closed {
		return nil
	}
	w.closed = true
	w.bw.Close() // returns once ebml-go has written the last bytes
	err := w.sink.error()
	if serr := w.f.Sync(); err == nil {
		err = serr
	}
	if cerr := w.f.Close(); err == nil {
		err = cerr
	}
	return err
}

// durationMS is the media time the segment covers.
func (w *segmentWriter) durationMS() int64 {
	return w.lastMS - w.startMS + w.lastDur
}
