package frame_test

import (
	"bytes"
	"errors"
	"io"
	"reflect"
	"testing"
	"testing/iotest"

	"github.com/bailiff/bailiff/firmware-bridge/frame"
	"github.com/bailiff/bailiff/firmware-bridge/internal/golden"
)

// readAll reads messages until the stream ends.
func readAll(t *testing.T, r *frame.Reader) []frame.Message {
	t.Helper()
	var out []frame.Message
	for {
		m, err := r.Next()
		if err != nil {
			if !errors.Is(err, io.EOF) {
				t.Fatalf("Next: %v", err)
			}
			return out
		}
		out = append(out, m)
	}
}

// TestReaderGolden sends every golden frame on one stream, each after a 0x00, and reads back
// exactly the good ones, every bad one counted under its reason.
func TestReaderGolden(t *testing.T) {
	var stream []byte
	var want []frame.Message
	var wantStats frame.Stats
	for _, g := range golden.Frames {
		if bytes.IndexByte(g.Wire, 0) >= 0 {
			continue // cannot travel between two delimiters
		}
		stream = append(append(append(stream, 0), g.Wire...), 0)
		switch {
		case g.Msg != nil:
			want = append(want, g.Msg)
			wantStats.Frames++
		case errors.Is(g.Err, frame.ErrGarbled):
			wantStats.Garbled++
		case errors.Is(g.Err, frame.ErrShort):
			wantStats.Short++
		case errors.Is(g.Err, frame.ErrOversized):
			wantStats.Oversized++
		case errors.Is(g.Err, frame.ErrCRC):
			wantStats.BadCRC++
		case errors.Is(g.Err, frame.ErrUnknownType):
			wantStats.Unknown++
		default:
			wantStats.Malformed++
		}
	}
	for name, src := range map[string]io.Reader{
		"whole":    bytes.NewReader(stream),
		"one-byte": iotest.OneByteReader(bytes.NewReader(stream)),
		"half":     iotest.HalfReader(bytes.NewReader(stream)),
	} {
		t.Run(name, func(t *testing.T) {
			r := frame.NewReader(src)
			var drops int
			r.OnDrop = func(error) { drops++ }
			got := readAll(t, r)
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("read %d messages, want %d", len(got), len(want))
			}
			if s := r.Stats(); s != wantStats || int(s.Dropped()) != drops {
				t.Fatalf("stats %+v (%d drops), want %+v", s, drops, wantStats)
			}
		})
	}
}

func wire(t *testing.T, m frame.Message) []byte {
	t.Helper()
	b, err := frame.AppendFrame(nil, m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestReaderResync(t *testing.T) {
	ping := wire(t, &frame.Ping{Nonce: 1})
	pong := wire(t, &frame.Pong{Nonce: 2})
	var s []byte
	s = append(s, 0x55, 0xAA, 0x13)                 // line noise before the first delimiter
	s = append(s, 0)                                // … dropped as one garbled/short frame
	s = append(s, ping[:len(ping)-3]...)            // a frame cut by a reset,
	s = append(s, 0)                                // then a delimiter: dropped
	s = append(s, 0, 0, 0)                          // idle fill: ignored
	s = append(s, ping...)                          // good
	s = append(s, bytes.Repeat([]byte{7}, 2000)...) // babble longer than any frame
	s = append(s, 0)                                // dropped once as oversized
	s = append(s, pong...)                          // good
	flipped := append([]byte(nil), pong...)         //
	flipped[2] ^= 0x04                              // a bit flipped on the line
	s = append(s, flipped...)                       // dropped: CRC
	s = append(s, ping[:len(ping)-1]...)            // cut off by the end of the stream
	r := frame.NewReader(bytes.NewReader(s))
	got := readAll(t, r)
	want := []frame.Message{&frame.Ping{Nonce: 1}, &frame.Pong{Nonce: 2}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v", got)
	}
	st := r.Stats()
	if st.Frames != 2 || st.Oversized != 1 || st.BadCRC < 1 || st.Truncated != 1 || st.Dropped() != 5 {
		t.Fatalf("stats %+v", st)
	}
}

// TestReaderReadError checks that a read error (a deadline) keeps the partial frame.
func TestReaderReadError(t *testing.T) {
	ping := wire(t, &frame.Ping{Nonce: 9})
	errTimeout := errors.New("timeout")
	pr, pw := io.Pipe()
	src := &flaky{r: pr, err: errTimeout}
	r := frame.NewReader(src)
	go func() {
		pw.Write(ping[:3])
		pw.Write(ping[3:])
		pw.Close()
	}()
	var got []frame.Message
	var timeouts int
	for {
		m, err := r.Next()
		if errors.Is(err, errTimeout) {
			timeouts++
			continue
		}
		if err != nil {
			break
		}
		got = append(got, m)
	}
	if len(got) != 1 || timeouts == 0 || r.Stats().Dropped() != 0 {
		t.Fatalf("got %v, %d timeouts, stats %+v", got, timeouts, r.Stats())
	}
}

// flaky fails every other Read with err.
type flaky struct {
	r    io.Reader
	err  error
	fail bool
}

func (f *flaky) Read(b []byte) (int, error) {
	f.fail = !f.fail
	if f.fail {
		return 0, f.err
	}
	return f.r.Read(b)
}

func TestWriter(t *testing.T) {
	var buf bytes.Buffer
	w := frame.NewWriter(&buf)
	for _, m := range []frame.Message{&frame.Ping{Nonce: 1}, &frame.Pong{Nonce: 1}} {
		if err := w.Write(m); err != nil {
			t.Fatal(err)
		}
	}
	want := append(append([]byte{0}, wire(t, &frame.Ping{Nonce: 1})...), wire(t, &frame.Pong{Nonce: 1})...)
	if !bytes.Equal(buf.Bytes(), want) {
		t.Fatalf("wrote %x, want %x", buf.Bytes(), want)
	}
	if err := w.Write(&frame.UpdateChunk{}); !errors.Is(err, frame.ErrInvalid) {
		t.Fatalf("Write(invalid) = %v", err)
	}
}
