package record_test

import (
	"crypto/ed25519"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/pion/rtp"

	"github.com/bailiff/bailiff/media/record"
)

// Record an Opus track, then verify the recording.
func Example() {
	base, _ := os.MkdirTemp("", "record-example-")
	defer os.RemoveAll(base)
	key, err := record.LoadOrCreateKey(filepath.Join(base, "keys", "recording.key"))
	if err != nil {
		panic(err)
	}
	dir := filepath.Join(base, "recordings", "court-1")
	rec, err := record.Start(record.Options{Dir: dir, Key: key, Site: "main", Room: "court-1",
		SegmentDuration: time.Second})
	if err != nil {
		panic(err)
	}
	tw, err := rec.AddTrack(record.Track{ID: "bench-mic", MimeType: "audio/opus"})
	if err != nil {
		panic(err)
	}
	// 3 s of 20 ms Opus packets (here: silence frames).
	for i := range 150 {
		tw.WriteRTP(&rtp.Packet{
			Header:  rtp.Header{Version: 2, SequenceNumber: uint16(i), Timestamp: uint32(i * 960), SSRC: 1},
			Payload: []byte{0xf8, 0xff, 0xfe},
		})
	}
	rec.Mark("note", "hearing opened")
	if err := rec.Close(); err != nil {
		panic(err)
	}

	rep, err := record.Verify(dir, key.Public().(ed25519.PublicKey))
	if err != nil {
		panic(err)
	}
	fmt.Println("ok:", rep.OK(), "closed:", rep.Closed)
	for _, s := range rep.Segments {
		fmt.Println(s.File, s.Frames, "frames", s.DurationMS, "ms")
	}
	// Output:
	// ok: true closed: true
	// bench-mic-000000.webm 50 frames 1000 ms
	// bench-mic-000001.webm 50 frames 1000 ms
	// bench-mic-000002.webm 50 frames 1000 ms
}
