package sfu

import (
	"context"
	"errors"
	"os"
	"runtime"
	"testing"
	"time"

	"github.com/bailiff/bailiff/media/sfu/sfutest"
	"github.com/pion/webrtc/v4"
)

// TestForwardEveryCodec publishes Opus with VP8, then with H.264, and
// checks that a viewer receives every track in the publisher's codec, that
// what it receives decodes (ffprobe), and that the stream is listed.
func TestForwardEveryCodec(t *testing.T) {
	clips := sfutest.Load(t, sfutest.Small)
	for _, mime := range []string{webrtc.MimeTypeVP8, webrtc.MimeTypeH264} {
		t.Run(mime[len("video/"):], func(t *testing.T) {
			s := newTestSFU(t, testOptions())
			api := clientAPI(t, true)
			pub, _, stop := publish(t, s, api, testKey, mime, clips)
			dir := t.TempDir()
			if d := os.Getenv("SFU_TEST_KEEP"); d != "" {
				dir = d
			}
			v, vs := view(t, s, api, testKey, sfutest.ViewerOptions{SaveDir: dir})
			ok := sfutest.WaitFor(10*time.Second, func() bool {
				return v.Packets("audio") > 100 && v.Frames() > 60
			})
			if !ok {
				t.Fatalf("viewer got %d audio packets, %d video frames (%d packets); publisher sent %d/%d",
					v.Packets("audio"), v.Frames(), v.Packets("video"), pub.SentAudio.Load(), pub.SentVideo.Load())
			}
			if got := v.Codec("video"); got != mime {
				t.Errorf("video arrived as %q, want %q", got, mime)
			}
			if got := v.Codec("audio"); got != webrtc.MimeTypeOpus {
				t.Errorf("audio arrived as %q", got)
			}
			infos := s.Streams()
			if len(infos) != 1 || infos[0].Name != "bench" || len(infos[0].Tracks) != 2 || infos[0].Viewers != 1 {
				t.Fatalf("Streams() = %+v", infos)
			}
			codecs := map[string]string{}
			for _, ti := range infos[0].Tracks {
				codecs[ti.ID] = ti.MimeType
			}
			if codecs["audio0"] != webrtc.MimeTypeOpus || codecs["video0"] != mime {
				t.Errorf("tracks %v", codecs)
			}
			if st := vs.Stats(); st.Sent == 0 || st.Errors != 0 {
				t.Errorf("viewer stats %+v", st)
			}
			// RTCP: receiver reports and TWCC feedback to the publisher,
			// sender reports to the viewer.
			if !sfutest.WaitFor(5*time.Second, func() bool {
				return pub.RRs.Load() > 0 && pub.TWCCs.Load() > 0 && v.SenderReports() > 0
			}) {
				t.Errorf("RTCP: publisher got %d RRs, %d TWCC; viewer got %d SRs",
					pub.RRs.Load(), pub.TWCCs.Load(), v.SenderReports())
			}
			stop()
			select {
			case <-v.Ended():
			case <-time.After(10 * time.Second):
				t.Fatal("the viewer did not see the stream end")
			}
			_ = v.Close()
			videoFile := dir + "/video.ivf"
			if mime == webrtc.MimeTypeH264 {
				videoFile = dir + "/video.h264"
			}
			for _, f := range []struct {
				path string
				min  int
			}{{videoFile, 30}, {dir + "/audio.ogg", 50}} {
				n, err := sfutest.CountFrames(f.path)
				if err != nil {
					t.Fatal(err)
				}
				if n < f.min {
					t.Errorf("%s: %d frames decoded, want ≥ %d", f.path, n, f.min)
				}
				t.Logf("%s: %d frames decoded", f.path, n)
			}
			if !sfutest.WaitFor(5*time.Second, func() bool { return len(s.Streams()) == 0 }) {
				t.Errorf("stream still listed: %+v", s.Streams())
			}
		})
	}
}

// TestKeyframeOnJoin: each viewer that connects makes the hub ask the
// publisher for a keyframe, rate-limited.
func TestKeyframeOnJoin(t *testing.T) {
	clips := sfutest.Load(t, sfutest.Small)
	o := testOptions()
	o.KeyframeInterval = 300 * time.Millisecond
	s := newTestSFU(t, o)
	api := clientAPI(t, true)
	pub, ps, _ := publish(t, s, api, testKey, webrtc.MimeTypeVP8, clips)
	if !sfutest.WaitFor(5*time.Second, func() bool { return len(ps.Stream().Tracks()) == 2 }) {
		t.Fatal("tracks did not arrive")
	}
	base := pub.PLIs.Load()
	v, _ := view(t, s, api, testKey, sfutest.ViewerOptions{})
	if !sfutest.WaitFor(5*time.Second, func() bool { return pub.PLIs.Load() > base }) {
		t.Fatalf("no PLI reached the publisher when a viewer joined (PLIs %d)", pub.PLIs.Load())
	}
	if !sfutest.WaitFor(5*time.Second, func() bool { return v.Frames() > 10 }) {
		t.Fatal("viewer gets no frames")
	}
	// A storm of requests (a recorder, viewers' PLIs) is folded: at most
	// one PLI per interval.
	var video *Track
	for _, tr := range ps.Stream().Tracks() {
		if tr.Info().Kind == "video" {
			video = tr
		}
	}
	time.Sleep(400 * time.Millisecond)
	before := video.Stats().Keyframes
	start := time.Now()
	for time.Since(start) < time.Second {
		video.RequestKeyframe()
		time.Sleep(time.Millisecond)
	}
	time.Sleep(400 * time.Millisecond)
	sent := video.Stats().Keyframes - before
	if sent < 2 || sent > 5 {
		t.Errorf("1 s of requests every 1 ms sent %d PLIs; want about 1 s / 300 ms", sent)
	}
}

// TestPublisherNACK: packets lost on the way from the publisher are
// NACKed by the hub (the publisher's client retransmits them).
func TestPublisherNACK(t *testing.T) {
	clips := sfutest.Load(t, sfutest.Small)
	s := newTestSFU(t, testOptions())
	api := clientAPI(t, true)
	p, err := sfutest.NewPublisher(api, webrtc.MimeTypeVP8)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	p.DropEvery = 25
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	offer, _ := p.Offer(ctx)
	_, answer, err := s.Publish(ctx, testKey, offer)
	if err != nil {
		t.Fatal(err)
	}
	_ = p.SetAnswer(answer)
	go p.Run(ctx, clips.VP8, clips.Opus)
	if !sfutest.WaitFor(10*time.Second, func() bool { return p.NACKs.Load() > 0 }) {
		t.Fatal("the hub sent no NACK for lost packets")
	}
}

// TestReplacePublisher: a new publisher of the same key replaces the old
// stream; the old stream's viewers see it end.
func TestReplacePublisher(t *testing.T) {
	clips := sfutest.Load(t, sfutest.Small)
	s := newTestSFU(t, testOptions())
	api := clientAPI(t, true)
	_, first, _ := publish(t, s, api, testKey, webrtc.MimeTypeVP8, clips)
	v, _ := view(t, s, api, testKey, sfutest.ViewerOptions{})
	if !sfutest.WaitFor(10*time.Second, func() bool { return v.Frames() > 5 }) {
		t.Fatal("first viewer gets nothing")
	}
	_, second, _ := publish(t, s, api, testKey, webrtc.MimeTypeH264, clips)
	select {
	case <-v.Ended():
	case <-time.After(10 * time.Second):
		t.Fatal("the old stream's viewer did not see it end")
	}
	select {
	case <-first.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("the old publisher's session did not end")
	}
	if s.Stream(testKey) != second.Stream() {
		t.Fatal("the new stream is not the listed one")
	}
	v2, _ := view(t, s, api, testKey, sfutest.ViewerOptions{})
	if !sfutest.WaitFor(10*time.Second, func() bool { return v2.Frames() > 5 }) {
		t.Fatal("new viewer gets nothing")
	}
	if v2.Codec("video") != webrtc.MimeTypeH264 {
		t.Errorf("new viewer gets %s", v2.Codec("video"))
	}
}

// TestViewErrors: unknown streams, bad keys and offers.
func TestViewErrors(t *testing.T) {
	s := newTestSFU(t, testOptions())
	ctx := context.Background()
	api := clientAPI(t, false)
	v, err := sfutest.NewViewer(api, sfutest.ViewerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	offer, err := v.Offer(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.View(ctx, testKey, offer); !errors.Is(err, ErrNoStream) {
		t.Errorf("View of nothing: %v", err)
	}
	if _, _, err := s.View(ctx, Key{"HQ", "r", "s"}, offer); !errors.Is(err, ErrBadKey) {
		t.Errorf("bad key: %v", err)
	}
	// A viewer's offer is not a publisher's.
	if _, _, err := s.Publish(ctx, testKey, offer); !errors.Is(err, ErrBadOffer) {
		t.Errorf("Publish with a receive-only offer: %v", err)
	}
	if st := s.Stats(); st.PeerConnections != 0 || st.Streams != 0 {
		t.Errorf("left behind: %+v", st)
	}
}

// TestCloseFreesEverything: after publishers and viewers come and go, and
// after Close, no peer connection or goroutine remains.
func TestCloseFreesEverything(t *testing.T) {
	clips := sfutest.Load(t, sfutest.Small)
	before := runtime.NumGoroutine()
	func() {
		s, err := New(testOptions())
		if err != nil {
			t.Fatal(err)
		}
		api := clientAPI(t, true)
		p, err := sfutest.NewPublisher(api, webrtc.MimeTypeVP8)
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		offer, _ := p.Offer(ctx)
		ps, answer, err := s.Publish(ctx, testKey, offer)
		if err != nil {
			t.Fatal(err)
		}
		_ = p.SetAnswer(answer)
		rctx, stop := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { defer close(done); p.Run(rctx, clips.VP8, clips.Opus) }()
		var viewers []*sfutest.Viewer
		var sessions []*Session
		for range 3 {
			v, err := sfutest.NewViewer(api, sfutest.ViewerOptions{})
			if err != nil {
				t.Fatal(err)
			}
			offer, _ := v.Offer(ctx)
			vs, answer, err := s.View(ctx, testKey, offer)
			if err != nil {
				t.Fatal(err)
			}
			_ = v.SetAnswer(answer)
			viewers = append(viewers, v)
			sessions = append(sessions, vs)
		}
		for _, v := range viewers {
			if !sfutest.WaitFor(10*time.Second, func() bool { return v.Frames() > 3 }) {
				t.Fatal("viewer gets nothing")
			}
		}
		// One viewer leaves by closing its own session (DELETE).
		_ = sessions[0].Close()
		_ = viewers[0].Close()
		if st := s.Stats(); st.Viewers != 2 || st.PeerConnections != 3 {
			t.Errorf("after one viewer left: %+v", st)
		}
		// The publisher leaves: the stream and its viewers end.
		_ = ps.Close()
		for _, vs := range sessions[1:] {
			select {
			case <-vs.Done():
			case <-time.After(10 * time.Second):
				t.Fatal("viewer session outlived its stream")
			}
		}
		if st := s.Stats(); st != (Stats{}) {
			t.Errorf("after the publisher left: %+v", st)
		}
		stop()
		<-done
		_ = p.Close()
		for _, v := range viewers[1:] {
			_ = v.Close()
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}()
	checkGoroutines(t, before)
}
