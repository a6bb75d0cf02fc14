package integration

import (
	"context"
	_ "embed"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/bailiff/bailiff/internal/hub"
	"github.com/bailiff/bailiff/internal/testutil"
	"github.com/bailiff/bailiff/internal/testutil/browser"
	"github.com/bailiff/bailiff/media/sfu/sfutest"
	"github.com/bailiff/bailiff/web"
	"github.com/pion/webrtc/v4"
)

//go:embed testdata/browser.html
var browserPage []byte

// newBrowserEnv is a hub whose panel also serves the test page (same origin as WHIP/WHEP,
// using web/static/whip.js), and a headless Chromium on it.
//
// The hub's media stays on loopback and accepts loopback peers only, but Chromium never
// gathers loopback candidates (only the machine's other addresses). So the page connects
// through the hub's embedded TURN server on loopback, whose relayed addresses are loopback
// ones: the staff tests force it (relay-only policy), the visitor's page leaves the policy
// alone and gets there because the hub refuses its host candidates.
func newBrowserEnv(t *testing.T, mod func(*hub.Options)) (*env, *browser.Browser) {
	e := newEnvWith(t, 2, false, func(o *hub.Options) {
		mux := http.NewServeMux()
		mux.Handle("/", web.Handler())
		mux.HandleFunc("/browser-test.html", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.Write(browserPage)
		})
		o.Web = mux
		o.TURN = &hub.TURNOptions{Listen: "127.0.0.1:0", RelayPortMin: 45000, RelayPortMax: 47999, TTL: 10 * time.Minute}
		if mod != nil {
			mod(o)
		}
	})
	b := browser.Start(t, browser.Options{})
	b.Navigate(t, e.url("/browser-test.html"))
	return e, b
}

// js quotes Go strings as JavaScript string literals.
func js(s string) string { return fmt.Sprintf("%q", s) }

// Chromium publishes its fake camera and microphone over WHIP (a technician's token); a pion
// viewer receives the video through the hub. Then Chromium views a pion publisher's stream
// over WHEP and decodes a rising number of frames.
func TestBrowserWHIPAndWHEP(t *testing.T) {
	clips := sfutest.Load(t, sfutest.Small)
	e, b := newBrowserEnv(t, nil)
	tech, judge := e.login("tech"), e.login("judge")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	var res string
	b.MustEval(t, 30*time.Second, `startPublish("/whip/court/r1/chrome", `+js(tech)+`, true)`, &res)
	if res != "ok" {
		t.Fatalf("Chromium publishes: %s\n%s", res, b.Log())
	}
	t.Cleanup(func() {
		if t.Failed() {
			var st map[string]string
			var sdp string
			b.Eval(5*time.Second, `state()`, &st)
			b.Eval(5*time.Second, `sdp()`, &sdp)
			t.Logf("page state %v\n%s", st, sdp)
		}
	})
	testutil.Eventually(t, 15*time.Second, "Chromium's stream with audio and video", func() bool {
		for _, s := range e.hub.SFU().Streams() {
			if s.Name == "chrome" && len(s.Tracks) == 2 {
				return true
			}
		}
		return false
	})
	api, err := sfutest.NewAPI(true)
	if err != nil {
		t.Fatal(err)
	}
	v, err := sfutest.NewViewer(api, sfutest.ViewerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	e.connect(ctx, v, "/whep/court/r1/chrome", judge)
	testutil.Eventually(t, 20*time.Second, "Chromium's video and audio reach a viewer", func() bool {
		return v.Frames() > 10 && v.Packets("audio") > 20
	})

	// Chromium as a WHEP viewer of a pion publisher.
	pub, err := sfutest.NewPublisher(api, webrtc.MimeTypeVP8)
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	e.connect(ctx, pub, "/whip/court/r1/program", tech)
	go pub.Run(ctx, clips.VP8, clips.Opus)
	testutil.Eventually(t, 10*time.Second, "the program stream", func() bool { return len(e.hub.SFU().Streams()) == 2 })
	b.MustEval(t, 30*time.Second, `startView("/whep/court/r1/program", `+js(judge)+`, true)`, &res)
	if res != "ok" {
		t.Fatalf("Chromium views: %s\n%s", res, b.Log())
	}
	first := browserFrames(t, b, 20*time.Second, 1)
	browserFrames(t, b, 20*time.Second, first+10)
	// Chromium's DTLS (the hub its server, one cipher suite) gave the hub its SRTP keys: every
	// viewer, Chromium and pion, is sent on the fast path.
	if st := e.hub.SFU().Stats(); st.Viewers < 2 || st.FastViewers != st.Viewers {
		t.Errorf("viewers %+v: all wanted on the fast path", st)
	}
	b.MustEval(t, 10*time.Second, `stopAll()`, &res)
}

// browserFrames waits until the page's WHEP viewer has decoded more than min video frames
// (getStats framesDecoded) and returns the count.
func browserFrames(t *testing.T, b *browser.Browser, timeout time.Duration, min int) int {
	t.Helper()
	var n int
	testutil.Eventually(t, timeout, fmt.Sprintf("Chromium decodes more than %d frames", min), func() bool {
		if err := b.Eval(5*time.Second, `frames()`, &n); err != nil {
			t.Logf("frames(): %v", err)
			return false
		}
		return n > min
	})
	return n
}

// A visitor in Chromium with an invite token publishes its camera under its own stream name,
// is refused any other, and watches its room.
func TestBrowserInvite(t *testing.T) {
	e, b := newBrowserEnv(t, nil)
	judge := e.login("judge")
	st, inv := e.call("POST", "/api/v1/invites", judge, map[string]any{"site": site, "room": "r1", "hearing": "h-7", "name": "Remote Party"})
	token, _ := inv["token"].(string)
	stream, _ := inv["stream"].(string)
	if st != 201 || token == "" {
		t.Fatalf("invite: %d %v", st, inv)
	}
	var res string
	b.MustEval(t, 30*time.Second, `startPublish("/whip/court/r1/program", `+js(token)+`, false)`, &res)
	if !strings.Contains(res, "403") {
		t.Errorf("a visitor publishes under another name: %q", res)
	}
	b.MustEval(t, 30*time.Second, `startPublish("/whip/court/r1/`+stream+`", `+js(token)+`, false)`, &res)
	if res != "ok" {
		t.Fatalf("a visitor publishes its camera: %s", res)
	}
	testutil.Eventually(t, 15*time.Second, "the visitor's stream", func() bool { return len(e.hub.SFU().Streams()) == 1 })
	b.MustEval(t, 30*time.Second, `startView("/whep/court/r2/`+stream+`", `+js(token)+`, false)`, &res)
	if !strings.Contains(res, "403") {
		t.Errorf("a visitor watches another room: %q", res)
	}
	// The visitor watches its own room (here: its own stream, looped back through the hub).
	b.MustEval(t, 30*time.Second, `startView("/whep/court/r1/`+stream+`", `+js(token)+`, false)`, &res)
	if res != "ok" {
		t.Fatalf("a visitor watches its room: %s", res)
	}
	browserFrames(t, b, 20*time.Second, 5)
}
