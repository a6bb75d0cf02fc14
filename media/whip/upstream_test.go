package whip

import (
	"context"
	"errors"
	"io"
	"net/http"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/bailiff/bailiff/media/sfu"
	"github.com/bailiff/bailiff/media/sfu/sfutest"
	"github.com/pion/rtcp"
	"github.com/pion/webrtc/v4"
)

const replicaToken = ReplicaTokenPrefix + "0123456789abcdef0123456789abcdef"

// replicaAuth is the origin's: the replica token may view only.
var replicaAuth = AuthorizerFunc(func(r *http.Request, site, room, stream string, publish bool) error {
	if r.Header.Get("Authorization") == "Bearer "+replicaToken {
		if publish {
			return ErrForbidden
		}
		return nil
	}
	return testAuth(r, site, room, stream, publish)
})

// newPair makes an origin hub and a replica hub that pulls hq/court-1's streams from it.
func newPair(t testing.TB, token string, linger time.Duration) (origin, replica *testHub) {
	t.Helper()
	origin = newTestHub(t, func(_ *sfu.Options, wo *Options) { wo.Authorizer = replicaAuth })
	up, err := NewUpstream([]Origin{{URL: origin.http.URL, Rooms: []string{"hq/court-1"}, Token: token}}, nil, quietLogger())
	if err != nil {
		t.Fatal(err)
	}
	replica = newTestHub(t, func(so *sfu.Options, _ *Options) {
		so.Upstream = up
		so.PullLinger = linger
		so.PullRetry = 10 * time.Second
	})
	return origin, replica
}

// TestReplicaPull: a publisher on the origin, two viewers on the replica: one pull serves
// both, what a viewer saves decodes, the replica lists the stream as pulled, a viewer's
// keyframe request reaches the publisher through the origin, the pull stops after the last
// viewer leaves, and a replica viewer goes on seeing video when the origin's publisher
// comes back.
func TestReplicaPull(t *testing.T) {
	sfutest.Load(t, sfutest.Small)
	before := runtime.NumGoroutine()
	func() {
		origin, replica := newPair(t, replicaToken, 300*time.Millisecond)
		api := clientAPI(t, true)
		// Nothing published at the origin: the replica's viewer gets the origin's 404.
		if status, body := replica.postOffer(t, api); status != http.StatusNotFound || !strings.Contains(body, "nobody publishes") {
			t.Errorf("no stream at the origin: %d %s", status, body)
		}
		pub, _, _, stopPub := origin.startPublisher(t, whipPath, webrtc.MimeTypeVP8)
		dir := t.TempDir()
		var viewers []*sfutest.Viewer
		var locs []string
		for _, o := range []sfutest.ViewerOptions{{SaveDir: dir}, {}} {
			v, err := sfutest.NewViewer(api, o)
			if err != nil {
				t.Fatal(err)
			}
			loc, _ := replica.connect(t, v, whepPath, viewToken)
			viewers = append(viewers, v)
			locs = append(locs, loc)
		}
		for _, v := range viewers {
			if !sfutest.WaitFor(10*time.Second, func() bool { return v.Packets("audio") > 100 && v.Frames() > 60 }) {
				t.Fatalf("replica viewer got %d audio packets, %d frames", v.Packets("audio"), v.Frames())
			}
		}
		if st := origin.sfu.Stats(); st.Viewers != 1 {
			t.Errorf("origin: %d viewers, want 1 (the replica's one pull)", st.Viewers)
		}
		if st := replica.sfu.Stats(); st.Pulls != 1 || st.Viewers != 2 || st.Publishers != 0 {
			t.Errorf("replica stats %+v, want 1 pull and 2 viewers", st)
		}
		infos := replica.sfu.Streams()
		if len(infos) != 1 || infos[0].Origin != origin.http.URL || len(infos[0].Tracks) != 2 || infos[0].Viewers != 2 {
			t.Errorf("replica streams %+v", infos)
		}
		if infos := origin.sfu.Streams(); len(infos) != 1 || infos[0].Origin != "" {
			t.Errorf("origin streams %+v", infos)
		}

		// A replica viewer's PLI reaches the publisher through the origin.
		plis := pub.PLIs.Load()
		var ssrc uint32
		for _, tr := range viewers[1].PC.GetTransceivers() {
			if tr.Kind() == webrtc.RTPCodecTypeVideo && tr.Receiver() != nil && tr.Receiver().Track() != nil {
				ssrc = uint32(tr.Receiver().Track().SSRC())
			}
		}
		if ssrc == 0 {
			t.Fatal("the replica viewer has no video track")
		}
		time.Sleep(sfu.DefaultKeyframeInterval + 100*time.Millisecond) // past the joins' own requests
		plis = pub.PLIs.Load()
		if err := sendPLI(viewers[1].PC, ssrc); err != nil {
			t.Fatal(err)
		}
		if !sfutest.WaitFor(5*time.Second, func() bool { return pub.PLIs.Load() > plis }) {
			t.Errorf("the publisher got no PLI from a replica viewer's (%d before, %d now)", plis, pub.PLIs.Load())
		}

		// The origin's publisher goes and comes back: the replica's viewer sees video again
		// on the same session.
		stopPub()
		time.Sleep(500 * time.Millisecond)
		frames := viewers[1].Frames()
		_, _, _, stopPub = origin.startPublisher(t, whipPath, webrtc.MimeTypeVP8)
		if !sfutest.WaitFor(15*time.Second, func() bool { return viewers[1].Frames() > frames+30 }) {
			t.Fatalf("after the origin's publisher came back the replica viewer got %d frames more", viewers[1].Frames()-frames)
		}

		// Both viewers leave: the pull stops after the linger, at the origin too.
		for i, v := range viewers {
			resp := replica.do(t, http.MethodDelete, locs[i], viewToken, "", "")
			readBody(t, resp)
			_ = v.Close()
		}
		if !sfutest.WaitFor(5*time.Second, func() bool {
			return replica.sfu.Stats().Pulls == 0 && len(replica.sfu.Streams()) == 0 && origin.sfu.Stats().Viewers == 0
		}) {
			t.Fatalf("the pull did not stop: replica %+v %+v, origin %+v", replica.sfu.Stats(), replica.sfu.Streams(), origin.sfu.Stats())
		}
		n, err := sfutest.CountFrames(filepath.Join(dir, "video.ivf"))
		if err != nil {
			t.Fatal(err)
		}
		if n < 55 {
			t.Errorf("the replica viewer's video: %d frames decode, want ≥ 55", n)
		}
		if n, err := sfutest.CountFrames(filepath.Join(dir, "audio.ogg")); err != nil || n < 90 {
			t.Errorf("the replica viewer's audio: %d frames decode (%v), want ≥ 90", n, err)
		}
		stopPub()
		for _, h := range []*testHub{replica, origin} {
			h.http.Close()
			_ = h.whip.Close()
			_ = h.sfu.Close()
		}
	}()
	checkGoroutines(t, before)
}

// TestReplicaRefused: a replica with the wrong credential, and a stream the origin does
// not have, give the replica's viewer clear errors; no pull is left behind.
func TestReplicaRefused(t *testing.T) {
	sfutest.Load(t, sfutest.Small)
	origin, replica := newPair(t, ReplicaTokenPrefix+"wrong", time.Second)
	origin.startPublisher(t, whipPath, webrtc.MimeTypeVP8)
	status, body := replica.postOffer(t, clientAPI(t, true))
	if status != http.StatusBadGateway || jsonError(t, body) != CodeUpstream ||
		!strings.Contains(body, "refused this hub's replica credential (401") || !strings.Contains(body, origin.http.URL) {
		t.Errorf("wrong credential: %d %s", status, body)
	}
	if replica.sfu.Stats().PeerConnections != 0 || len(replica.sfu.Streams()) != 0 {
		t.Errorf("replica after a refused pull: %+v %+v", replica.sfu.Stats(), replica.sfu.Streams())
	}
	// The replica token may not publish at the origin.
	resp := origin.do(t, http.MethodPost, whipPath, replicaToken, ContentTypeSDP, "v=0")
	if b := readBody(t, resp); resp.StatusCode != http.StatusForbidden {
		t.Errorf("replica token publishing: %s %s", resp.Status, b)
	}
}

// TestOriginError: the origin's refusals map onto the SFU's errors and keep its message.
func TestOriginError(t *testing.T) {
	k := sfu.Key{Site: "hq", Room: "court-1", Name: "bench"}
	for _, c := range []struct {
		status int
		body   string
		want   error
		text   string
	}{
		{401, `{"error":{"code":"unauthorized","message":"missing or invalid bearer token"}}`, sfu.ErrUpstream, "refused this hub's replica credential (401 Unauthorized: missing or invalid bearer token)"},
		{403, `{}`, sfu.ErrUpstream, "(403 Forbidden)"},
		{404, `not json`, sfu.ErrNoStream, "has no such stream"},
		{503, `{"error":{"message":"a\nb"}}`, sfu.ErrNotReady, "a b"},
		{500, strings.Repeat("x", 10), sfu.ErrUpstream, "500 Internal Server Error"},
	} {
		err := OriginError("http://origin", k, c.status, []byte(c.body))
		if !errors.Is(err, c.want) || !strings.Contains(err.Error(), c.text) {
			t.Errorf("%d %s: %v", c.status, c.body, err)
		}
	}
	if _, err := NewUpstream([]Origin{{URL: "ftp://x", Token: replicaToken}}, nil, nil); err == nil {
		t.Error("an ftp origin was taken")
	}
	if _, err := NewUpstream([]Origin{{URL: "http://x", Token: "agent.x", Rooms: []string{"a/b"}}}, nil, nil); err == nil {
		t.Error("a token that is not a replica's was taken")
	}
	if _, err := NewUpstream([]Origin{{URL: "http://x", Token: replicaToken, Rooms: []string{"a"}}}, nil, nil); err == nil {
		t.Error("room \"a\" was taken")
	}
}

// sendPLI sends a picture loss indication for the track of ssrc, as a browser does.
func sendPLI(pc *webrtc.PeerConnection, ssrc uint32) error {
	return pc.WriteRTCP([]rtcp.Packet{&rtcp.PictureLossIndication{MediaSSRC: ssrc}})
}

// postOffer POSTs a fresh viewer's offer to the hub's WHEP endpoint and closes the viewer.
func (h *testHub) postOffer(t testing.TB, api *webrtc.API) (int, string) {
	t.Helper()
	v, err := sfutest.NewViewer(api, sfutest.ViewerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	offer, err := v.Offer(ctx)
	if err != nil {
		t.Fatal(err)
	}
	resp := h.do(t, http.MethodPost, whepPath, viewToken, ContentTypeSDP, offer)
	return resp.StatusCode, readBody(t, resp)
}

// TestReplicaConcurrentViewers: viewers who come at once while no pull runs share the one
// pull the first of them starts.
func TestReplicaConcurrentViewers(t *testing.T) {
	sfutest.Load(t, sfutest.Small)
	origin, replica := newPair(t, replicaToken, time.Second)
	origin.startPublisher(t, whipPath, webrtc.MimeTypeVP8)
	api := clientAPI(t, true)
	const n = 4
	viewers := make([]*sfutest.Viewer, n)
	offers := make([]string, n)
	for i := range viewers {
		v, err := sfutest.NewViewer(api, sfutest.ViewerOptions{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = v.Close() })
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		offers[i], err = v.Offer(ctx)
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		viewers[i] = v
	}
	type result struct {
		status int
		body   string
	}
	results := make(chan result, n)
	for i := range viewers {
		go func() {
			req, _ := http.NewRequest(http.MethodPost, replica.http.URL+whepPath, strings.NewReader(offers[i]))
			req.Header.Set("Authorization", "Bearer "+viewToken)
			req.Header.Set("Content-Type", ContentTypeSDP)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				results <- result{0, err.Error()}
				return
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusCreated {
				if err := viewers[i].SetAnswer(string(b)); err != nil {
					results <- result{0, err.Error()}
					return
				}
			}
			results <- result{resp.StatusCode, string(b)}
		}()
	}
	for range n {
		if r := <-results; r.status != http.StatusCreated {
			t.Errorf("a viewer: %d %s", r.status, r.body)
		}
	}
	for _, v := range viewers {
		if !sfutest.WaitFor(10*time.Second, func() bool { return v.Frames() > 10 }) {
			t.Errorf("a viewer got %d frames", v.Frames())
		}
	}
	if st := origin.sfu.Stats(); st.Viewers != 1 {
		t.Errorf("the origin has %d viewers, want the one pull", st.Viewers)
	}
	if st := replica.sfu.Stats(); st.Pulls != 1 || st.Viewers != n {
		t.Errorf("the replica: %+v", st)
	}
}
