package sfu

import (
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bailiff/bailiff/media/record"
	"github.com/bailiff/bailiff/media/sfu/sfutest"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// countSink counts a track's packets; it fails once it has failAfter.
type countSink struct {
	info      TrackInfo
	packets   atomic.Int64
	closed    atomic.Bool
	failAfter int64
}

func (c *countSink) WriteRTP(p *rtp.Packet) error {
	if len(p.Payload) == 0 {
		return errors.New("empty packet")
	}
	if n := c.packets.Add(1); c.failAfter > 0 && n >= c.failAfter {
		return errors.New("sink gave up")
	}
	return nil
}

func (c *countSink) Close() error {
	c.closed.Store(true)
	return nil
}

// TestSinkDownstream: a downstream attached the way the hub attaches the
// recorder (Watch, then Attach) gets every track's packets, can ask for a
// keyframe, and has its sinks closed when the publisher goes.
func TestSinkDownstream(t *testing.T) {
	clips := sfutest.Load(t, sfutest.Small)
	s := newTestSFU(t, testOptions())
	var mu sync.Mutex
	sinks := map[string]*countSink{}
	var tracks []*Track
	cancel := s.Watch(func(st *Stream) {
		_, err := st.Attach(DownstreamFunc(func(tr *Track) (Sink, error) {
			mu.Lock()
			defer mu.Unlock()
			c := &countSink{info: tr.Info()}
			sinks[tr.Info().ID] = c
			tracks = append(tracks, tr)
			return c, nil
		}))
		if err != nil {
			t.Error(err)
		}
	})
	defer cancel()
	api := clientAPI(t, true)
	pub, _, stop := publish(t, s, api, testKey, webrtc.MimeTypeVP8, clips)
	ok := sfutest.WaitFor(10*time.Second, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(sinks) == 2 && sinks["audio0"].packets.Load() > 50 && sinks["video0"].packets.Load() > 50
	})
	if !ok {
		t.Fatalf("sinks: %v", sinks)
	}
	mu.Lock()
	if sinks["video0"].info.MimeType != webrtc.MimeTypeVP8 || sinks["audio0"].info.MimeType != webrtc.MimeTypeOpus {
		t.Errorf("infos %+v %+v", sinks["video0"].info, sinks["audio0"].info)
	}
	var video *Track
	for _, tr := range tracks {
		if tr.Info().Kind == "video" {
			video = tr
		}
	}
	mu.Unlock()
	time.Sleep(DefaultKeyframeInterval)
	before := pub.PLIs.Load()
	video.RequestKeyframe() // what record.Track.RequestKeyframe calls
	if !sfutest.WaitFor(5*time.Second, func() bool { return pub.PLIs.Load() > before }) {
		t.Error("the downstream's keyframe request did not reach the publisher")
	}
	stop()
	if !sfutest.WaitFor(5*time.Second, func() bool {
		return sinks["audio0"].closed.Load() && sinks["video0"].closed.Load()
	}) {
		t.Error("sinks not closed when the publisher went")
	}
}

// TestSinkErrorDetaches: a sink whose WriteRTP fails is detached and
// closed; the others go on.
func TestSinkErrorDetaches(t *testing.T) {
	clips := sfutest.Load(t, sfutest.Small)
	s := newTestSFU(t, testOptions())
	api := clientAPI(t, true)
	_, ps, _ := publish(t, s, api, testKey, webrtc.MimeTypeVP8, clips)
	bad, good := &countSink{failAfter: 10}, &countSink{}
	var n atomic.Int32
	detach, err := ps.Stream().Attach(DownstreamFunc(func(tr *Track) (Sink, error) {
		if tr.Info().Kind != "video" {
			return nil, nil
		}
		if n.Add(1) == 1 {
			return bad, nil
		}
		return good, nil
	}))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ps.Stream().Attach(DownstreamFunc(func(tr *Track) (Sink, error) {
		if tr.Info().Kind != "video" {
			return nil, nil
		}
		return good, nil
	})); err != nil {
		t.Fatal(err)
	}
	if !sfutest.WaitFor(10*time.Second, func() bool { return good.packets.Load() > 100 }) {
		t.Fatal("good sink starved")
	}
	if !bad.closed.Load() || bad.packets.Load() != 10 {
		t.Errorf("failing sink: closed %v after %d packets", bad.closed.Load(), bad.packets.Load())
	}
	detach()
	detach() // twice is harmless
}

// TestRecorderDownstream attaches media/record's recorder as the hub
// will, and checks that it writes what the publisher sends and verifies.
func TestRecorderDownstream(t *testing.T) {
	clips := sfutest.Load(t, sfutest.Small)
	s := newTestSFU(t, testOptions())
	pubKey, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "rec")
	rec, err := record.Start(record.Options{Dir: dir, Key: key, Site: testKey.Site, Room: testKey.Room, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var writers []*record.TrackWriter
	cancel := s.Watch(func(st *Stream) {
		if st.Key().Site != testKey.Site || st.Key().Room != testKey.Room {
			return
		}
		_, err := st.Attach(DownstreamFunc(func(tr *Track) (Sink, error) {
			i := tr.Info()
			tw, err := rec.AddTrack(record.Track{
				ID: st.Key().Name + "-" + i.ID, MimeType: i.MimeType, ClockRate: i.ClockRate, Channels: i.Channels,
				RequestKeyframe: tr.RequestKeyframe,
			})
			if err != nil {
				return nil, err
			}
			mu.Lock()
			writers = append(writers, tw)
			mu.Unlock()
			return tw, nil
		}))
		if err != nil {
			t.Error(err)
		}
	})
	defer cancel()
	api := clientAPI(t, true)
	_, _, stop := publish(t, s, api, testKey, webrtc.MimeTypeH264, clips)
	ok := sfutest.WaitFor(10*time.Second, func() bool {
		mu.Lock()
		defer mu.Unlock()
		if len(writers) != 2 {
			return false
		}
		for _, w := range writers {
			if w.Stats().Frames < 40 {
				return false
			}
		}
		return true
	})
	if !ok {
		t.Fatalf("recorder stats: %+v", rec.Stats())
	}
	stop() // the SFU closes the track writers: their segments are sealed
	if err := rec.Close(); err != nil {
		t.Fatal(err)
	}
	rep, err := record.Verify(dir, pubKey)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() || len(rep.Segments) != 2 {
		t.Fatalf("recording does not verify:\n%s", rep)
	}
}
