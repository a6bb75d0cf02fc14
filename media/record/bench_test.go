package record

import (
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/rtp/codecs"
)

var (
	benchOnce   sync.Once
	benchVideo  []*rtp.Packet
	benchAudio  []*rtp.Packet
	benchErr    error
	benchSecond = 4 // seconds in the benchmark clip
)

// benchStream makes 4 s of a 2.5 Mb/s 720p30 H.264 stream (noise keeps
// x264 at its bitrate; a keyframe every 2 s, constrained baseline as
// WebRTC sends) and 64 kb/s Opus, packetized.
func benchStream(b *testing.B) ([]*rtp.Packet, []*rtp.Packet) {
	requireFFmpeg(b)
	benchOnce.Do(func() {
		dir, err := os.MkdirTemp("", "record-bench-")
		if err != nil {
			benchErr = err
			return
		}
		defer os.RemoveAll(dir)
		d := "4"
		out, err := exec.Command("ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i",
			"testsrc2=size=1280x720:rate=30,noise=alls=25:allf=t", "-t", d,
			"-c:v", "libx264", "-profile:v", "baseline", "-pix_fmt", "yuv420p", "-preset", "ultrafast",
			"-b:v", "2500k", "-maxrate", "2500k", "-bufsize", "2500k", "-g", "60", "-bf", "0",
			"-x264-params", "repeat-headers=1", "-f", "h264", filepath.Join(dir, "h264.264")).CombinedOutput()
		if err != nil {
			benchErr = &exec.ExitError{Stderr: out}
			return
		}
		small := filepath.Join(dir, "small")
		if err := os.Mkdir(small, 0o755); err != nil {
			benchErr = err
			return
		}
		if err := encodeClips(small, "64x48", 4, 10, 10, "64k", "30k"); err != nil { // for its Opus
			benchErr = err
			return
		}
		v := readH264(b, filepath.Join(dir, "h264.264"))
		a := readOpus(b, filepath.Join(small, "opus.ogg"))
		benchVideo = packetize(v, &codecs.H264Payloader{}, 1, 1, 0)
		benchAudio = packetize(a, &codecs.OpusPayloader{}, 2, 1, 0)
	})
	if benchErr != nil {
		b.Fatal(benchErr)
	}
	return benchVideo, benchAudio
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkRecordStream records one 2.5 Mb/s H.264 + 64 kb/s Opus stream
// to disk (segments, fsyncs, manifest and all) as fast as it can take it.
// One op is one second of the stream; cpu-ms/s is the CPU the whole
// process spent per second of stream, so cpu-ms/s ÷ 10 is the percentage
// of one core that recording such a stream in real time costs.
//
//	go test ./media/record -run '^$' -bench RecordStream -benchtime 60x
func BenchmarkRecordStream(b *testing.B) {
	video, audio := benchStream(b)
	var bytesPerSec int64
	for _, p := range video {
		bytesPerSec += int64(len(p.Payload))
	}
	for _, p := range audio {
		bytesPerSec += int64(len(p.Payload))
	}
	bytesPerSec /= int64(benchSecond)
	b.SetBytes(bytesPerSec)

	dir := filepath.Join(b.TempDir(), "rec")
	rec, err := Start(Options{Dir: dir, Key: testKey(), QueueSize: 1 << 20, Logger: quietLogger()})
	if err != nil {
		b.Fatal(err)
	}
	vtw, err := rec.AddTrack(Track{ID: "cam1", MimeType: MimeTypeH264})
	if err != nil {
		b.Fatal(err)
	}
	atw, err := rec.AddTrack(Track{ID: "mic1", MimeType: MimeTypeOpus})
	if err != nil {
		b.Fatal(err)
	}
	// Packets of one second of the clip; every pass through the clip
	// continues the sequence numbers and timestamps.
	vPerSec, aPerSec := len(video)/benchSecond, len(audio)/benchSecond
	var vi, ai int
	var vSeq, aSeq uint16
	var vTS, aTS uint32
	next := func(pkts []*rtp.Packet, i *int, seq *uint16, ts *uint32, span uint32) *rtp.Packet {
		p := pkts[*i%len(pkts)]
		lap := uint32(*i / len(pkts))
		q := *p
		q.SequenceNumber = *seq
		q.Timestamp = p.Timestamp + lap*span
		*seq++
		*i++
		*ts = q.Timestamp
		return &q
	}
	vSpan := video[len(video)-1].Timestamp - video[0].Timestamp + 90000/30
	aSpan := audio[len(audio)-1].Timestamp - audio[0].Timestamp + 960

	cpu0 := cpuTime()
	b.ResetTimer()
	for range b.N {
		for range vPerSec {
			if err := vtw.WriteRTP(next(video, &vi, &vSeq, &vTS, vSpan)); err != nil {
				b.Fatal(err)
			}
		}
		for range aPerSec {
			if err := atw.WriteRTP(next(audio, &ai, &aSeq, &aTS, aSpan)); err != nil {
				b.Fatal(err)
			}
		}
	}
	if err := rec.Close(); err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	b.ReportMetric(float64((cpuTime()-cpu0).Milliseconds())/float64(b.N), "cpu-ms/s")
	vs, as := vtw.Stats(), atw.Stats()
	if vs.Dropped+as.Dropped+vs.Lost+as.Lost > 0 {
		b.Fatalf("dropped or lost packets: %+v %+v", vs, as)
	}
	if want := int64(b.N) * int64(vPerSec) / 2; vs.Frames == 0 || vs.Packets < want {
		b.Fatalf("video: %+v", vs)
	}
}
