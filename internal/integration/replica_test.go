package integration

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bailiff/bailiff/internal/hub"
	"github.com/bailiff/bailiff/internal/testutil"
	"github.com/bailiff/bailiff/internal/testutil/browser"
	"github.com/bailiff/bailiff/media/sfu/sfutest"
	"github.com/pion/webrtc/v4"
)

// newOriginAndReplica starts two hubs: the origin carries court/r1's media and lets the
// replica "hub-b" pull it; the replica pulls court/r1 from it. replicaMod changes the
// replica's options further (nil: none); withBrowser makes the replica a browser env (with
// a headless Chromium on its test page). It returns the file of the replica's secret.
func newOriginAndReplica(t *testing.T, withBrowser bool) (origin, replica *env, b *browser.Browser, token string) {
	t.Helper()
	keys := t.TempDir()
	token = filepath.Join(keys, "replica-hub-b.token")
	origin = newEnvWith(t, 1, false, func(o *hub.Options) {
		o.Pull.Replicas = []hub.ReplicaOptions{{Name: "hub-b", TokenFile: token}}
	})
	// The origin made the secret on its first start: the technician copies it to the replica.
	if b, err := os.ReadFile(token); err != nil || len(strings.TrimSpace(string(b))) < 16 {
		t.Fatalf("the origin made no replica secret: %v %q", err, b)
	}
	mod := func(o *hub.Options) {
		o.Pull.Origins = []hub.OriginOptions{{URL: origin.url(""), Rooms: []string{"court/r1"}, TokenFile: token}}
		o.Pull.Linger = 500 * time.Millisecond
	}
	if withBrowser {
		replica, b = newBrowserEnv(t, mod)
	} else {
		replica = newEnvWith(t, 1, false, mod)
	}
	return origin, replica, b, token
}

// A publisher on the origin hub; viewers on the replica hub get its video and audio through
// one pull, which stops when they leave and comes back when the origin's publisher does. The
// replica lists the stream as pulled and leaves recording to the origin.
func TestReplicaHub(t *testing.T) {
	clips := sfutest.Load(t, sfutest.Small)
	origin, replica, _, token := newOriginAndReplica(t, false)
	tech := origin.login("tech")
	judge := replica.login("judge")
	api, err := sfutest.NewAPI(true)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()

	publish := func() (stop func()) {
		pub, err := sfutest.NewPublisher(api, webrtc.MimeTypeVP8)
		if err != nil {
			t.Fatal(err)
		}
		loc := origin.connect(ctx, pub, "/whip/court/r1/cam", tech)
		pctx, pcancel := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() {
			defer close(done)
			pub.Run(pctx, clips.VP8, clips.Opus)
		}()
		return func() {
			pcancel()
			<-done
			req, _ := http.NewRequest("DELETE", origin.url(loc), nil)
			req.Header.Set("Authorization", "Bearer "+tech)
			if resp, err := http.DefaultClient.Do(req); err == nil {
				resp.Body.Close()
			}
			_ = pub.Close()
		}
	}
	stop := publish()
	defer func() { stop() }()

	dir := t.TempDir()
	v, err := sfutest.NewViewer(api, sfutest.ViewerOptions{SaveDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	vloc := replica.connect(ctx, v, "/whep/court/r1/cam", judge)
	testutil.Eventually(t, 15*time.Second, "the origin's video and audio reach the replica's viewer", func() bool {
		return v.Frames() > 60 && v.Packets("audio") > 100
	})

	// The replica lists the stream as pulled from the origin; the origin lists its one viewer.
	st, body := replica.call("GET", "/api/v1/streams", judge, nil)
	list, _ := body["list"].([]any)
	if st != 200 || len(list) != 1 {
		t.Fatalf("replica's streams: %d %v", st, body)
	}
	if s := list[0].(map[string]any); s["origin"] != origin.url("") || s["whep"] != "/whep/court/r1/cam" || s["viewers"] != float64(1) {
		t.Errorf("replica's stream %v", s)
	}
	if s := origin.hub.SFU().Streams(); len(s) != 1 || s[0].Origin != "" || s[0].Viewers != 1 {
		t.Errorf("origin's streams %+v", s)
	}
	replica.waitMetric("bailiff_media_pulls", 5*time.Second, func(v float64) bool { return v == 1 })
	// Recording stays with the origin.
	if st, body := replica.call("POST", "/api/v1/recordings", judge, map[string]string{"site": "court", "room": "r1"}); st != 409 ||
		!strings.Contains(body["error"].(map[string]any)["message"].(string), origin.url("")) {
		t.Errorf("recording on the replica: %d %v", st, body)
	}

	// The origin's publisher goes and comes back: the viewer on the replica sees video again.
	stop()
	time.Sleep(300 * time.Millisecond)
	frames := v.Frames()
	stop = publish()
	testutil.Eventually(t, 20*time.Second, "video again after the origin's publisher came back", func() bool {
		return v.Frames() > frames+30
	})

	// The viewer leaves: the pull stops, at the origin too.
	req, _ := http.NewRequest("DELETE", replica.url(vloc), nil)
	req.Header.Set("Authorization", "Bearer "+judge)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("DELETE %s: %v %v", vloc, resp, err)
	}
	resp.Body.Close()
	_ = v.Close()
	testutil.Eventually(t, 10*time.Second, "the pull stopped", func() bool {
		return replica.hub.SFU().Stats().Pulls == 0 && len(replica.hub.SFU().Streams()) == 0 &&
			origin.hub.SFU().Stats().Viewers == 0
	})
	// Every video frame the viewer got decodes, across the origin's restart too (a re-pull
	// starts the replica's video at a keyframe), and so does its audio.
	got := int(v.Frames())
	for _, f := range []struct {
		name string
		min  int
	}{{"video.ivf", max(got-3, 85)}, {"audio.ogg", 140}} {
		n, err := sfutest.CountFrames(filepath.Join(dir, f.name))
		if err != nil || n < f.min {
			t.Errorf("%s saved on the replica: %d frames decode (%v), want ≥ %d (%d video frames received)", f.name, n, err, f.min, got)
		}
	}

	// The replica's credential views only, and only streams the origin carries.
	secret, _ := os.ReadFile(token)
	rt := "replica." + strings.TrimSpace(string(secret))
	if st, body, _ := origin.whipPost("/whip/court/r1/cam2", rt, "v=0\r\n"); st != 403 {
		t.Errorf("the replica's token publishing at the origin: %d %s", st, body)
	}
	if st, body, _ := origin.whipPost("/whep/court/r1/cam", "replica.not-the-secret-at-all", "v=0\r\n"); st != 401 {
		t.Errorf("a wrong replica token at the origin: %d %s", st, body)
	}
}

// A replica whose credential the origin does not know: its viewer is told why, with a 502
// naming the origin, and nothing is left pulling.
func TestReplicaWrongCredential(t *testing.T) {
	clips := sfutest.Load(t, sfutest.Small)
	keys := t.TempDir()
	origin := newEnvWith(t, 1, false, func(o *hub.Options) {
		o.Pull.Replicas = []hub.ReplicaOptions{{Name: "hub-b", TokenFile: filepath.Join(keys, "hub-b.token")}}
	})
	wrong := filepath.Join(keys, "wrong.token")
	if err := os.WriteFile(wrong, []byte("this-is-not-the-secret-the-origin-made\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	replica := newEnvWith(t, 0, false, func(o *hub.Options) {
		o.Pull.Origins = []hub.OriginOptions{{URL: origin.url(""), Rooms: []string{"court/*"}, TokenFile: wrong}}
	})
	api, err := sfutest.NewAPI(true)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	pub, err := sfutest.NewPublisher(api, webrtc.MimeTypeVP8)
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	origin.connect(ctx, pub, "/whip/court/r1/cam", origin.login("tech"))
	go pub.Run(ctx, clips.VP8, clips.Opus)

	v, err := sfutest.NewViewer(api, sfutest.ViewerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	offer, err := v.Offer(ctx)
	if err != nil {
		t.Fatal(err)
	}
	st, body, _ := replica.whipPost("/whep/court/r1/cam", replica.login("judge"), offer)
	if st != 502 || !strings.Contains(body, "refused this hub's replica credential (401") || !strings.Contains(body, origin.url("")) {
		t.Errorf("viewer on a replica with a wrong credential: %d %s", st, body)
	}
	if s := replica.hub.SFU().Stats(); s.Pulls != 0 || s.PeerConnections != 0 {
		t.Errorf("the replica holds %+v after a refused pull", s)
	}
	if s := origin.hub.SFU().Stats(); s.Viewers != 0 {
		t.Errorf("the origin holds %+v", s)
	}
}

// Chromium watches, through the replica hub, a stream published on the origin hub.
func TestBrowserOnReplica(t *testing.T) {
	clips := sfutest.Load(t, sfutest.Small)
	origin, replica, b, _ := newOriginAndReplica(t, true)
	api, err := sfutest.NewAPI(true)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	pub, err := sfutest.NewPublisher(api, webrtc.MimeTypeVP8)
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	origin.connect(ctx, pub, "/whip/court/r1/program", origin.login("tech"))
	go pub.Run(ctx, clips.VP8, clips.Opus)
	var res string
	b.MustEval(t, 30*time.Second, `startView("/whep/court/r1/program", `+js(replica.login("judge"))+`, true)`, &res)
	if res != "ok" {
		t.Fatalf("Chromium views on the replica: %s\n%s", res, b.Log())
	}
	first := browserFrames(t, b, 20*time.Second, 1)
	browserFrames(t, b, 20*time.Second, first+10)
	b.MustEval(t, 10*time.Second, `stopAll()`, &res)
}
