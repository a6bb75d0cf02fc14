package sfu

import (
	"context"
	"io"
	"log/slog"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/bailiff/bailiff/media/sfu/sfutest"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

func TestMain(m *testing.M) {
	code := m.Run()
	sfutest.Cleanup()
	os.Exit(code)
}

func quietLogger() *slog.Logger {
	if os.Getenv("SFU_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// testOptions: one UDP port on loopback, candidates only from loopback.
func testOptions() Options {
	return Options{
		Network: Network{UDPAddr: "127.0.0.1:0", Loopback: true, RemoteIPFilter: sfutest.Loopback},
		Logger:  quietLogger(),
	}
}

func newTestSFU(t testing.TB, o Options) *SFU {
	t.Helper()
	s, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func clientAPI(t testing.TB, interceptors bool) *webrtc.API {
	t.Helper()
	api, err := sfutest.NewAPI(interceptors)
	if err != nil {
		t.Fatal(err)
	}
	return api
}

var testKey = Key{Site: "hq", Room: "court-1", Name: "bench"}

// publish connects a publisher of videoMime to s under key and starts
// sending the clips; cancel stops it.
func publish(t testing.TB, s *SFU, api *webrtc.API, key Key, videoMime string, clips *sfutest.Clips) (*sfutest.Publisher, *Session, context.CancelFunc) {
	t.Helper()
	return publishWith(t, s, api, key, videoMime, clips, nil)
}

// publishWith is publish with a hook that sees each packet sent.
func publishWith(t testing.TB, s *SFU, api *webrtc.API, key Key, videoMime string, clips *sfutest.Clips,
	onSend func(kind string, p *rtp.Packet)) (*sfutest.Publisher, *Session, context.CancelFunc) {
	t.Helper()
	p, err := sfutest.NewPublisher(api, videoMime)
	if err != nil {
		t.Fatal(err)
	}
	p.OnSend = onSend
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	offer, err := p.Offer(ctx)
	if err != nil {
		t.Fatal(err)
	}
	sess, answer, err := s.Publish(ctx, key, offer)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.SetAnswer(answer); err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	video := clips.VP8
	if videoMime == webrtc.MimeTypeH264 {
		video = clips.H264
	}
	go func() {
		defer close(done)
		p.Run(runCtx, video, clips.Opus)
	}()
	var once bool
	stopAll := func() {
		if once {
			return
		}
		once = true
		stop()
		<-done
		_ = p.Close()
	}
	t.Cleanup(stopAll)
	return p, sess, stopAll
}

func view(t testing.TB, s *SFU, api *webrtc.API, key Key, o sfutest.ViewerOptions) (*sfutest.Viewer, *Session) {
	t.Helper()
	v, err := sfutest.NewViewer(api, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = v.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	offer, err := v.Offer(ctx)
	if err != nil {
		t.Fatal(err)
	}
	sess, answer, err := s.View(ctx, key, offer)
	if err != nil {
		t.Fatal(err)
	}
	if err := v.SetAnswer(answer); err != nil {
		t.Fatal(err)
	}
	return v, sess
}

// checkGoroutines fails if goroutines started since before remain (a
// leak), after giving them time to end.
func checkGoroutines(t testing.TB, before int) {
	t.Helper()
	var n int
	ok := sfutest.WaitFor(10*time.Second, func() bool {
		n = runtime.NumGoroutine()
		return n <= before
	})
	if !ok {
		buf := make([]byte, 1<<20)
		buf = buf[:runtime.Stack(buf, true)]
		var ours []string
		for _, g := range strings.Split(string(buf), "\n\n") {
			if strings.Contains(g, "pion") || strings.Contains(g, "bailiff") {
				ours = append(ours, g)
			}
		}
		t.Fatalf("goroutines: %d before, %d after; pion/bailiff ones:\n%s", before, n, strings.Join(ours, "\n\n"))
	}
}
