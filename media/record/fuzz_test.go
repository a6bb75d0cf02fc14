package record

import (
	"bytes"
	"crypto/ed25519"
	"encoding/binary"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/bailiff/bailiff/internal/testutil/fuzzseed"
	"github.com/pion/rtp"
	"github.com/pion/rtp/codecs"
)

// Fuzz targets. Their seed corpora are committed under testdata/fuzz; make
// them anew (from the golden manifest and the ffmpeg clips) with
//
//	go test ./media/record -run TestWriteFuzzCorpus -gencorpus

// FuzzVerify: any manifest, as bytes on disk, yields a report, never a
// panic; one whose bytes differ from the golden manifest never verifies.
func FuzzVerify(f *testing.F) {
	golden, err := os.ReadFile(filepath.Join(goldenDir, ManifestName))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(golden)
	pub := testKey().Public().(ed25519.PublicKey)
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		for _, name := range goldenFiles {
			if err := os.WriteFile(filepath.Join(dir, name), goldenContent(name), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.WriteFile(filepath.Join(dir, ManifestName), data, 0o644); err != nil {
			t.Fatal(err)
		}
		rep, err := Verify(dir, pub)
		if err != nil {
			t.Fatal(err)
		}
		_ = rep.String()
		if rep.OK() && !bytes.Equal(data, golden) {
			// Only the golden manifest itself is signed by the test key.
			t.Fatalf("a manifest that is not the golden one verifies:\n%q", data)
		}
		for _, l := range bytes.Split(data, []byte("\n")) {
			if p, err := parseLine(l); err == nil {
				p.verifySig(pub)
			}
		}
	})
}

// fuzzPackets decodes a fuzz input into RTP packets. data[0] picks the
// codec; then records of
//
//	flags (bit 0 marker, bit 1 new SSRC, bits 4-7 wall time step in 10 ms)
//	sequence number step (int8), timestamp step (uint32), payload length (uint16), payload
func fuzzPackets(data []byte) (sel byte, pkts []*rtp.Packet, steps []time.Duration) {
	if len(data) == 0 {
		return 0, nil, nil
	}
	sel, data = data[0]%3, data[1:]
	seq, ts, ssrc := uint16(1000), uint32(5000), uint32(1)
	for len(data) >= 8 {
		flags, dseq := data[0], int8(data[1])
		dts := binary.BigEndian.Uint32(data[2:])
		n := int(binary.BigEndian.Uint16(data[6:]))
		data = data[8:]
		if n > len(data) {
			n = len(data)
		}
		if flags&2 != 0 {
			ssrc++
		}
		seq += uint16(dseq)
		ts += dts
		pkts = append(pkts, &rtp.Packet{
			Header:  rtp.Header{Version: 2, Marker: flags&1 != 0, SequenceNumber: seq, Timestamp: ts, SSRC: ssrc, PayloadType: 96},
			Payload: data[:n:n],
		})
		steps = append(steps, time.Duration(flags>>4)*10*time.Millisecond)
		data = data[n:]
	}
	return sel, pkts, steps
}

// encodeFuzzPackets is the inverse of fuzzPackets, for seeds.
func encodeFuzzPackets(sel byte, pkts []*rtp.Packet) []byte {
	out := []byte{sel}
	for i, p := range pkts {
		flags := byte(2 << 4) // 20 ms of wall time
		if p.Marker {
			flags |= 1
		}
		var prevSeq uint16 = 1000
		var prevTS uint32 = 5000
		if i > 0 {
			prevSeq, prevTS = pkts[i-1].SequenceNumber, pkts[i-1].Timestamp
		} else {
			prevSeq, prevTS = p.SequenceNumber-1, p.Timestamp
		}
		out = append(out, flags, byte(int8(p.SequenceNumber-prevSeq)))
		out = binary.BigEndian.AppendUint32(out, p.Timestamp-prevTS)
		out = binary.BigEndian.AppendUint16(out, uint16(len(p.Payload)))
		out = append(out, p.Payload...)
	}
	return out
}

// memFile is a file in memory.
type memFile struct{ b []byte }

func (f *memFile) Write(p []byte) (int, error) { f.b = append(f.b, p...); return len(p), nil }
func (f *memFile) WriteAt(p []byte, off int64) (int, error) {
	if end := int(off) + len(p); end > len(f.b) {
		f.b = append(f.b, make([]byte, end-len(f.b))...)
	}
	copy(f.b[off:], p)
	return len(p), nil
}
func (f *memFile) Close() error { return nil }
func (f *memFile) Sync() error  { return nil }
func (f *memFile) Truncate(n int64) error {
	f.b = f.b[:n]
	return nil
}

// memRecorder is a recorder whose files live in memory and whose segments
// are never sealed: the depacketizing and writing path alone, for fuzzing.
func memRecorder(files map[string]*memFile) *Recorder {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	return &Recorder{
		opts: Options{
			Dir: "mem", Key: testKey(), SegmentDuration: 300 * time.Millisecond, QueueSize: 1,
			FlushInterval: time.Hour, Clock: time.Now, Logger: log,
			open: func(name string, _ int, _ os.FileMode) (file, error) {
				f := &memFile{}
				files[name] = f
				return f, nil
			},
			syncDir: func(string) error { return nil },
		},
		log:       log,
		man:       &manifestWriter{f: &memFile{}, key: testKey()},
		tracks:    map[string]*TrackWriter{},
		nextIndex: map[string]int{},
		stop:      make(chan struct{}),
		sealq:     make(chan *segmentWriter, 1024),
	}
}

var fuzzTracks = []Track{
	{ID: "a", MimeType: MimeTypeOpus, ClockRate: 48000, Channels: 2},
	{ID: "v", MimeType: MimeTypeVP8, ClockRate: 90000},
	{ID: "h", MimeType: MimeTypeH264, ClockRate: 90000},
}

// FuzzDepacketize feeds hostile RTP to a track: reordered, lost,
// duplicated, malformed payloads, SSRC changes, timestamp jumps. It must
// never panic or hang, and every segment it writes must start as WebM.
func FuzzDepacketize(f *testing.F) {
	f.Add([]byte{0})
	f.Fuzz(runFuzzDepacketize)
}

func runFuzzDepacketize(t *testing.T, data []byte) {
	sel, pkts, steps := fuzzPackets(data)
	files := map[string]*memFile{}
	r := memRecorder(files)
	tr := fuzzTracks[sel]
	c, err := newCodec(tr)
	if err != nil {
		t.Fatal(err)
	}
	tw := newTrackWriter(r, tr, c)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i, p := range pkts {
		now = now.Add(steps[i])
		tw.arrived = now
		tw.push(p)
	}
	tw.sb.Flush()
	tw.drain()
	tw.closeSegment(nil)
	if err := r.Err(); err != nil {
		t.Fatal(err)
	}
	for name, f := range files {
		if !bytes.HasPrefix(f.b, []byte{0x1a, 0x45, 0xdf, 0xa3}) {
			t.Fatalf("%s does not start with an EBML header", name)
		}
	}
	if int(tw.frames.Load()) > len(pkts) {
		t.Fatalf("%d frames from %d packets", tw.frames.Load(), len(pkts))
	}
}

// FuzzParseSPS: the SPS parser never panics and gives sane sizes.
func FuzzParseSPS(f *testing.F) {
	f.Add([]byte{0x67, 0x42, 0xc0, 0x0d, 0xda, 0x05, 0x07, 0xec, 0x04, 0x40})
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := parseSPS(data)
		if err == nil && (s.width > maxPictureSize || s.height > maxPictureSize || s.width == 0 || s.height == 0) {
			t.Fatalf("%dx%d", s.width, s.height)
		}
	})
}

// TestWriteFuzzCorpus writes the seed corpora (with -update-corpus); TestSeedCorpusParses
// checks them.
func TestWriteFuzzCorpus(t *testing.T) {
	if !fuzzseed.Update() {
		t.Skip("run with -update-corpus to rewrite testdata/fuzz")
	}
	write := func(target, name string, data []byte) { fuzzseed.Write(t, target, name, data) }
	golden, err := os.ReadFile(filepath.Join(goldenDir, ManifestName))
	if err != nil {
		t.Fatal(err)
	}
	lines := bytes.SplitAfter(golden, []byte("\n"))
	write("FuzzVerify", "golden", golden)
	write("FuzzVerify", "torn", golden[:len(golden)-30])
	write("FuzzVerify", "header-only", lines[0])
	write("FuzzVerify", "swapped", bytes.Join([][]byte{lines[0], lines[2], lines[1]}, nil))
	write("FuzzVerify", "one-line-no-newline", bytes.TrimSuffix(lines[3], []byte("\n")))

	// Small seeds keep the fuzzer quick (it minimizes every new input):
	// 1 s of 64x48 video at 10 fps with a keyframe every 5 frames, and
	// Opus at 6 kb/s.
	tiny := t.TempDir()
	if err := encodeClips(tiny, "64x48", 1, 10, 5, "6k", "30k"); err != nil {
		t.Fatal(err)
	}
	seeds := []struct {
		name string
		sel  byte
		pkts []*rtp.Packet
	}{
		{"opus", 0, packetize(readOpus(t, filepath.Join(tiny, "opus.ogg")), &codecs.OpusPayloader{}, 1, 1, 1)},
		{"vp8", 1, packetize(readVP8(t, filepath.Join(tiny, "vp8.ivf")), &codecs.VP8Payloader{EnablePictureID: true}, 1, 1, 1)},
		{"h264", 2, packetize(readH264(t, filepath.Join(tiny, "h264.264")), &codecs.H264Payloader{}, 1, 1, 1)},
	}
	for _, s := range seeds {
		n := min(len(s.pkts), 12)
		write("FuzzDepacketize", s.name, encodeFuzzPackets(s.sel, s.pkts[:n]))
		write("FuzzDepacketize", s.name+"-lossy", encodeFuzzPackets(s.sel, perturb(s.pkts[:n:n], 7, 3, 11)))
		if len(s.pkts) > n {
			write("FuzzDepacketize", s.name+"-all", encodeFuzzPackets(s.sel, s.pkts))
		}
	}
	h := readH264(t, filepath.Join(clips(t), "h264.264"))
	var sps []byte
	_ = forEachNAL(annexBToAVC(h.frames[0]), func(nal []byte) {
		if nal[0]&0x1f == nalSPS && sps == nil {
			sps = bytes.Clone(nal)
		}
	})
	write("FuzzParseSPS", "x264-baseline", sps)
	write("FuzzParseSPS", "high-with-scaling-lists", highSPS)
	write("FuzzParseSPS", "interlaced-cropped", interlacedSPS)
	fmt.Println("wrote the fuzz corpora under testdata/fuzz")
}

// TestSeedCorpusParses checks that the committed seeds are in the go fuzz format.
func TestSeedCorpusParses(t *testing.T) { fuzzseed.CheckFormat(t) }
