package frame

import (
	"errors"
	"io"
	"sync"
	"sync/atomic"
)

// Stats counts what a Reader read. Every dropped frame is counted once, under its reason.
type Stats struct {
	Frames    uint64 // frames decoded and returned
	Garbled   uint64 // ErrGarbled: bad COBS
	Short     uint64 // ErrShort: fewer than 3 bytes
	Oversized uint64 // ErrOversized: longer than MaxEncoded before a delimiter
	BadCRC    uint64 // ErrCRC
	Truncated uint64 // ErrTruncated: the stream ended inside a frame
	Unknown   uint64 // ErrUnknownType
	Malformed uint64 // ErrPayload, ErrVersion
}

// Dropped is the number of frames dropped for any reason.
func (s Stats) Dropped() uint64 {
	return s.Garbled + s.Short + s.Oversized + s.BadCRC + s.Truncated + s.Unknown + s.Malformed
}

// Reader reads messages from a byte stream (protocol §4). It returns only frames that decode;
// it drops any other frame, counts it and calls OnDrop, and starts again after the next 0x00.
// Empty frames (0x00 0x00) are idle fill and neither returned nor counted.
//
// Next is called from one goroutine; Stats from any.
type Reader struct {
	// OnDrop, when not nil, is called with the reason of every dropped frame (for a debug log).
	OnDrop func(err error)

	r     io.Reader
	buf   []byte
	pos   int
	end   int
	frame []byte // COBS bytes of the frame being read
	skip  bool   // inside an oversized frame: discard up to the next delimiter
	empty int    // consecutive reads that returned nothing and no error

	frames, garbled, short, oversized, badCRC, truncated, unknown, malformed atomic.Uint64
}

// NewReader reads frames from r.
func NewReader(r io.Reader) *Reader {
	return &Reader{r: r, buf: make([]byte, 1024), frame: make([]byte, 0, MaxEncoded)}
}

// Next returns the next message that decodes. It returns an error only when reading fails:
// io.EOF at the end of the stream (a frame cut off by it is counted as truncated), or the
// read error (a deadline, say), after which Next may be called again and goes on where it was.
func (r *Reader) Next() (Message, error) {
	for {
		for r.pos < r.end {
			c := r.buf[r.pos]
			r.pos++
			if c != 0 {
				switch {
				case r.skip:
				case len(r.frame) == MaxEncoded:
					r.skip = true
					r.frame = r.frame[:0]
					r.drop(ErrOversized)
				default:
					r.frame = append(r.frame, c)
				}
				continue
			}
			if r.skip {
				r.skip = false
				continue
			}
			if len(r.frame) == 0 {
				continue
			}
			m, err := Decode(r.frame)
			r.frame = r.frame[:0]
			if err != nil {
				r.drop(err)
				continue
			}
			r.frames.Add(1)
			return m, nil
		}
		n, err := r.r.Read(r.buf)
		r.pos, r.end = 0, n
		if n > 0 {
			r.empty = 0
			continue
		}
		if err == nil {
			if r.empty++; r.empty < 100 { // as bufio: tolerate a few empty reads
				continue
			}
			r.empty = 0
			err = io.ErrNoProgress
		}
		if errors.Is(err, io.EOF) && (len(r.frame) > 0 || r.skip) {
			r.frame, r.skip = r.frame[:0], false
			r.drop(ErrTruncated)
		}
		return nil, err
	}
}

func (r *Reader) drop(err error) {
	switch {
	case errors.Is(err, ErrGarbled):
		r.garbled.Add(1)
	case errors.Is(err, ErrShort):
		r.short.Add(1)
	case errors.Is(err, ErrOversized):
		r.oversized.Add(1)
	case errors.Is(err, ErrCRC):
		r.badCRC.Add(1)
	case errors.Is(err, ErrTruncated):
		r.truncated.Add(1)
	case errors.Is(err, ErrUnknownType):
		r.unknown.Add(1)
	default:
		r.malformed.Add(1)
	}
	if r.OnDrop != nil {
		r.OnDrop(err)
	}
}

// Stats returns the counters so far.
func (r *Reader) Stats() Stats {
	return Stats{
		Frames: r.frames.Load(), Garbled: r.garbled.Load(), Short: r.short.Load(),
		Oversized: r.oversized.Load(), BadCRC: r.badCRC.Load(), Truncated: r.truncated.Load(),
		Unknown: r.unknown.Load(), Malformed: r.malformed.Load(),
	}
}

// Writer writes messages to a byte stream, one Write call per frame. The first frame is
// preceded by a 0x00, so a peer holding a partial frame drops it instead of the first one.
// It is safe for concurrent use.
type Writer struct {
	w       io.Writer
	mu      sync.Mutex
	buf     []byte
	started bool
}

// NewWriter writes frames to w.
func NewWriter(w io.Writer) *Writer { return &Writer{w: w, buf: make([]byte, 0, MaxEncoded+2)} }

// Write sends m.
func (w *Writer) Write(m Message) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	b := w.buf[:0]
	if !w.started {
		b = append(b, 0)
	}
	b, err := AppendFrame(b, m)
	if err != nil {
		return err
	}
	if _, err := w.w.Write(b); err != nil {
		return err
	}
	w.started = true
	return nil
}
