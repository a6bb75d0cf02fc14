package sfu

import (
	"net"
	"sync"
	"testing"
	"time"

	"github.com/bailiff/bailiff/media/sfu/sfutest"
	"github.com/pion/ice/v4"
	"github.com/pion/webrtc/v4"
)

// gatedConn is a viewer's UDP socket whose reads can be held: a viewer
// that stops reading (a frozen machine, a congested path) while the hub
// goes on sending to it. Its small receive buffer fills and the kernel
// drops what comes next, as a real one would.
type gatedConn struct {
	*net.UDPConn
	mu   sync.Mutex
	gate chan struct{} // non-nil: reads wait for it to close
}

func (g *gatedConn) ReadFrom(b []byte) (int, net.Addr, error) {
	g.mu.Lock()
	gate := g.gate
	g.mu.Unlock()
	if gate != nil {
		<-gate
	}
	return g.UDPConn.ReadFrom(b)
}

func (g *gatedConn) hold() {
	g.mu.Lock()
	g.gate = make(chan struct{})
	g.mu.Unlock()
}

func (g *gatedConn) release() {
	g.mu.Lock()
	if g.gate != nil {
		close(g.gate)
		g.gate = nil
	}
	g.mu.Unlock()
}

// TestViewerStopsReading: one viewer's socket is not read for three
// seconds (its receive buffer fills, the kernel drops the rest); the
// publisher's read loop and the other viewers do not slow down, the hub
// goes on sending to it without queueing past its bound, and it receives
// again once it reads.
func TestViewerStopsReading(t *testing.T) {
	uc, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	_ = uc.SetReadBuffer(16 << 10)
	gc := &gatedConn{UDPConn: uc}
	slow := apiOver(t, gc, false)
	t.Cleanup(gc.release) // before the mux closes: its reader may wait at the gate
	const n = 12
	pub, ps, viewers, sessions, o := stallSetup(t, n, slow)
	var video *Track
	for _, tr := range ps.Stream().Tracks() {
		if tr.Info().Kind == "video" {
			video = tr
		}
	}
	gc.hold()
	time.Sleep(200 * time.Millisecond)
	sent0, read0 := pub.SentVideo.Load(), video.Stats().Packets
	got0 := make([]int64, n)
	for i, v := range viewers {
		got0[i] = v.Packets("video")
	}
	slow0 := sessions[0].Stats().Sent
	time.Sleep(3 * time.Second)
	sent, read := pub.SentVideo.Load()-sent0, video.Stats().Packets-read0
	t.Logf("publisher sent %d video packets, the hub read %d", sent, read)
	if read < sent*9/10 {
		t.Errorf("the publisher's read loop fell behind: %d of %d", read, sent)
	}
	if got := viewers[0].Packets("video") - got0[0]; got > read/4 {
		t.Errorf("the stalled viewer read %d of %d packets while it did not read", got, read)
	}
	for i, v := range viewers[1:] {
		got := v.Packets("video") - got0[i+1]
		if got < read*9/10 {
			t.Errorf("viewer %d got %d of %d packets while another viewer stalled", i+1, got, read)
		}
	}
	st := sessions[0].Stats()
	t.Logf("stalled viewer: %+v", st)
	if st.Sent-slow0 < read*9/10 {
		t.Errorf("the hub sent the stalled viewer %d of %d packets: it was held up", st.Sent-slow0, read)
	}
	if st.Queued > o.ViewerQueue {
		t.Errorf("queue %d over its bound %d", st.Queued, o.ViewerQueue)
	}
	gc.release()
	before := viewers[0].Packets("video")
	if !sfutest.WaitFor(5*time.Second, func() bool { return viewers[0].Packets("video") > before+50 }) {
		t.Error("the stalled viewer did not recover")
	}
}

// stallSetup publishes a stream to a hub whose viewers' queues hold 64
// packets and starts n viewers, the first through first when it is set,
// each receiving video.
func stallSetup(t *testing.T, n int, first *webrtc.API) (*sfutest.Publisher, *Session, []*sfutest.Viewer, []*Session, Options) {
	clips := sfutest.Load(t, sfutest.Small)
	o := testOptions()
	o.ViewerQueue = 64
	s := newTestSFU(t, o)
	api := clientAPI(t, false)
	pub, ps, _ := publish(t, s, api, testKey, webrtc.MimeTypeVP8, clips)
	viewers := make([]*sfutest.Viewer, n)
	sessions := make([]*Session, n)
	for i := range viewers {
		a := api
		if i == 0 && first != nil {
			a = first
		}
		viewers[i], sessions[i] = view(t, s, a, testKey, sfutest.ViewerOptions{})
	}
	for _, v := range viewers {
		if !sfutest.WaitFor(10*time.Second, func() bool { return v.Packets("video") > 20 }) {
			t.Fatal("viewer gets nothing")
		}
	}
	return pub, ps, viewers, sessions, o
}

// apiOver makes a test peer's API whose ICE uses conn (a socket the test
// loses or holds packets on).
func apiOver(t *testing.T, conn net.PacketConn, interceptors bool) *webrtc.API {
	t.Helper()
	mux := ice.NewUDPMuxDefault(ice.UDPMuxParams{UDPConn: conn})
	t.Cleanup(func() { _ = mux.Close() })
	api, err := sfutest.NewAPIWith(interceptors, func(se *webrtc.SettingEngine) { se.SetICEUDPMux(mux) })
	if err != nil {
		t.Fatal(err)
	}
	return api
}
