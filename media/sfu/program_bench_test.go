package sfu

import (
	"testing"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// BenchmarkProgramForward is the program's cost per packet: one camera's video packet
// rewritten and handed to one sink (the forwarding of a publisher's track is
// BenchmarkForward).
func BenchmarkProgramForward(b *testing.B) {
	s := newTestSFU(b, testOptions())
	p, err := s.NewProgram("hq", "court-1", ProgramOptions{Cameras: []string{"cam-a"}})
	if err != nil {
		b.Fatal(err)
	}
	defer p.Close()
	src := newStream(s, Key{Site: "hq", Room: "court-1", Name: "cam-a"}, nil, 1)
	t := newTrack(src, TrackInfo{ID: "video0", Kind: "video", MimeType: webrtc.MimeTypeVP8, ClockRate: 90000}, nil, nil)
	sink := p.addSource("cam-a", true, false, t)
	c := &countSink{}
	if _, err := p.Stream().Attach(DownstreamFunc(func(*Track) (Sink, error) { return c, nil })); err != nil {
		b.Fatal(err)
	}
	key := &rtp.Packet{Header: rtp.Header{SequenceNumber: 1, Timestamp: 3000}, Payload: []byte{0x10, 0x00, 0x9d, 0x01, 0x2a}}
	if err := sink.WriteRTP(key); err != nil {
		b.Fatal(err)
	}
	pkt := &rtp.Packet{Header: rtp.Header{Timestamp: 6000}, Payload: make([]byte, 1100)}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		pkt.SequenceNumber = uint16(i + 2)
		_ = sink.WriteRTP(pkt)
	}
	b.StopTimer()
	if c.packets.Load() != int64(b.N+1) {
		b.Fatalf("%d packets forwarded, want %d", c.packets.Load(), b.N+1)
	}
}

// BenchmarkMutedAudio is the cost of privacy per audio packet: an Opus packet replaced by
// silence of the same duration.
func BenchmarkMutedAudio(b *testing.B) {
	pkt := &rtp.Packet{Header: rtp.Header{SequenceNumber: 1, Timestamp: 960}, Payload: append([]byte{0xfc}, make([]byte, 80)...)}
	b.ReportAllocs()
	for b.Loop() {
		_ = silenced(pkt)
	}
}
