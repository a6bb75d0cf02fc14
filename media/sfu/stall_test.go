package sfu

import (
	"testing"
	"time"

	"github.com/bailiff/bailiff/media/sfu/sfutest"
	"github.com/pion/webrtc/v4"
)

// TestStalledViewer: one viewer whose writes block (as a congested TURN
// or TCP path would) loses packets from its own queue; the publisher's
// read loop and the other viewers do not slow down.
func TestStalledViewer(t *testing.T) {
	clips := sfutest.Load(t, sfutest.Small)
	o := testOptions()
	o.ViewerQueue = 64
	s := newTestSFU(t, o)
	api := clientAPI(t, false)
	pub, ps, _ := publish(t, s, api, testKey, webrtc.MimeTypeVP8, clips)
	const n = 12
	viewers := make([]*sfutest.Viewer, n)
	sessions := make([]*Session, n)
	for i := range viewers {
		viewers[i], sessions[i] = view(t, s, api, testKey, sfutest.ViewerOptions{})
	}
	for _, v := range viewers {
		if !sfutest.WaitFor(10*time.Second, func() bool { return v.Packets("video") > 20 }) {
			t.Fatal("viewer gets nothing")
		}
	}
	stalled := sessions[0].viewer
	release := make(chan struct{})
	hook := func() {
		select {
		case <-release:
		case <-stalled.stop:
		}
	}
	stalled.testHook.Store(&hook)

	var video *Track
	for _, tr := range ps.Stream().Tracks() {
		if tr.Info().Kind == "video" {
			video = tr
		}
	}
	time.Sleep(200 * time.Millisecond)
	sent0, read0 := pub.SentVideo.Load(), video.Stats().Packets
	got0 := make([]int64, n)
	for i, v := range viewers {
		got0[i] = v.Packets("video")
	}
	time.Sleep(3 * time.Second)
	sent, read := pub.SentVideo.Load()-sent0, video.Stats().Packets-read0
	t.Logf("publisher sent %d video packets, the hub read %d", sent, read)
	if read < sent*9/10 {
		t.Errorf("the publisher's read loop fell behind: %d of %d", read, sent)
	}
	for i, v := range viewers[1:] {
		got := v.Packets("video") - got0[i+1]
		t.Logf("viewer %d got %d", i+1, got)
		if got < read*9/10 {
			t.Errorf("viewer %d got %d of %d packets while another viewer stalled", i+1, got, read)
		}
	}
	st := sessions[0].Stats()
	t.Logf("stalled viewer: %+v", st)
	if st.Dropped == 0 {
		t.Error("the stalled viewer dropped nothing")
	}
	if st.Queued > o.ViewerQueue {
		t.Errorf("queue %d over its bound %d", st.Queued, o.ViewerQueue)
	}
	close(release)
	before := viewers[0].Packets("video")
	if !sfutest.WaitFor(5*time.Second, func() bool { return viewers[0].Packets("video") > before+50 }) {
		t.Error("the stalled viewer did not recover")
	}
}
