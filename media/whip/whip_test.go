package whip

import (
	"context"
	"net/http"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/bailiff/bailiff/media/sfu"
	"github.com/bailiff/bailiff/media/sfu/sfutest"
	"github.com/pion/webrtc/v4"
)

const (
	whipPath = "/whip/hq/court-1/bench"
	whepPath = "/whep/hq/court-1/bench"
)

// TestWHIPToWHEP: a pion publisher sends real VP8 and Opus over WHIP; two
// pion viewers get every track over WHEP, and what one saves decodes;
// DELETE ends sessions and frees every peer connection and goroutine.
func TestWHIPToWHEP(t *testing.T) {
	sfutest.Load(t, sfutest.Small)
	before := runtime.NumGoroutine()
	func() {
		h := newTestHub(t, nil)
		_, pubLoc, _, stopPub := h.startPublisher(t, whipPath, webrtc.MimeTypeVP8)
		api := clientAPI(t, true)
		dir := t.TempDir()
		var viewers []*sfutest.Viewer
		var locs []string
		for i, o := range []sfutest.ViewerOptions{{SaveDir: dir}, {}} {
			v, err := sfutest.NewViewer(api, o)
			if err != nil {
				t.Fatal(err)
			}
			token := viewToken
			if i == 1 {
				token = pubToken
			}
			loc, _ := h.connect(t, v, whepPath, token)
			viewers = append(viewers, v)
			locs = append(locs, loc)
		}
		for _, v := range viewers {
			if !sfutest.WaitFor(10*time.Second, func() bool { return v.Packets("audio") > 100 && v.Frames() > 60 }) {
				t.Fatalf("viewer got %d audio packets, %d frames", v.Packets("audio"), v.Frames())
			}
		}
		if h.whip.Sessions() != 3 {
			t.Errorf("%d sessions, want 3", h.whip.Sessions())
		}
		infos := h.sfu.Streams()
		if len(infos) != 1 || len(infos[0].Tracks) != 2 || infos[0].Viewers != 2 {
			t.Errorf("streams %+v", infos)
		}

		// The first viewer leaves with DELETE; its file decodes.
		resp := h.do(t, http.MethodDelete, locs[0], viewToken, "", "")
		readBody(t, resp)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("DELETE viewer: %s", resp.Status)
		}
		_ = viewers[0].Close()
		for _, f := range []struct {
			name string
			min  int
		}{{"video.ivf", 55}, {"audio.ogg", 90}} {
			n, err := sfutest.CountFrames(filepath.Join(dir, f.name))
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%s: %d frames decoded", f.name, n)
			if n < f.min {
				t.Errorf("%s: %d frames decoded, want ≥ %d", f.name, n, f.min)
			}
		}
		resp = h.do(t, http.MethodDelete, locs[0], viewToken, "", "")
		if readBody(t, resp); resp.StatusCode != http.StatusNotFound {
			t.Errorf("second DELETE: %s", resp.Status)
		}

		// The publisher leaves with DELETE: the other viewer sees the end.
		resp = h.do(t, http.MethodDelete, pubLoc, pubToken, "", "")
		if readBody(t, resp); resp.StatusCode != http.StatusOK {
			t.Fatalf("DELETE publisher: %s", resp.Status)
		}
		select {
		case <-viewers[1].Ended():
		case <-time.After(10 * time.Second):
			t.Fatal("viewer did not see the stream end")
		}
		if !sfutest.WaitFor(5*time.Second, func() bool { return h.whip.Sessions() == 0 }) {
			t.Errorf("%d sessions left", h.whip.Sessions())
		}
		if st := h.sfu.Stats(); st != (sfu.Stats{}) {
			t.Errorf("SFU holds %+v", st)
		}
		resp = h.do(t, http.MethodPost, whepPath, viewToken, ContentTypeSDP, "v=0\r\n")
		if body := readBody(t, resp); resp.StatusCode != http.StatusBadRequest {
			t.Errorf("WHEP with a bad offer: %s %s", resp.Status, body)
		}
		stopPub()
		_ = viewers[1].Close()
		h.http.Close()
		_ = h.whip.Close()
		_ = h.sfu.Close()
	}()
	checkGoroutines(t, before)
}

// TestH264 forwards H.264 from WHIP to WHEP.
func TestH264(t *testing.T) {
	h := newTestHub(t, nil)
	h.startPublisher(t, whipPath, webrtc.MimeTypeH264)
	v, err := sfutest.NewViewer(clientAPI(t, true), sfutest.ViewerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	h.connect(t, v, whepPath, viewToken)
	if !sfutest.WaitFor(10*time.Second, func() bool { return v.Frames() > 30 }) {
		t.Fatal("no H.264 frames")
	}
	if v.Codec("video") != webrtc.MimeTypeH264 {
		t.Errorf("video arrived as %s", v.Codec("video"))
	}
}

// TestResponseHeaders: Link headers carry the ICE servers (RFC 9725
// §4.6), Accept-Patch, and CORS for an allowed origin only.
func TestResponseHeaders(t *testing.T) {
	h := newTestHub(t, nil)
	p, err := sfutest.NewPublisher(clientAPI(t, false), webrtc.MimeTypeVP8)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	offer, err := p.Offer(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	resp := h.do(t, http.MethodPost, whipPath, pubToken, ContentTypeSDP+"; charset=utf-8", offer, "Origin", "https://panel.example")
	readBody(t, resp)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("POST: %s", resp.Status)
	}
	links := resp.Header.Values("Link")
	want := []string{
		`<stun:127.0.0.1:3478>; rel="ice-server"`,
		`<turn:127.0.0.1:3478?transport=udp>; rel="ice-server"; username="u"; credential="p\"w"; credential-type="password"`,
	}
	if strings.Join(links, "\n") != strings.Join(want, "\n") {
		t.Errorf("Link:\n%s\nwant\n%s", strings.Join(links, "\n"), strings.Join(want, "\n"))
	}
	if resp.Header.Get("Accept-Patch") != ContentTypeFrag {
		t.Errorf("Accept-Patch %q", resp.Header.Get("Accept-Patch"))
	}
	if resp.Header.Get("Access-Control-Allow-Origin") != "https://panel.example" ||
		!strings.Contains(resp.Header.Get("Access-Control-Expose-Headers"), "Location") {
		t.Errorf("CORS headers %v", resp.Header)
	}
	loc := resp.Header.Get("Location")

	// Preflights: the endpoint and the session.
	for _, c := range []struct{ path, allow string }{{whipPath, "OPTIONS, POST"}, {loc, "OPTIONS, PATCH, DELETE"}} {
		resp := h.do(t, http.MethodOptions, c.path, "", "", "", "Origin", "https://panel.example",
			"Access-Control-Request-Method", "POST")
		readBody(t, resp)
		if resp.StatusCode != http.StatusNoContent || resp.Header.Get("Allow") != c.allow ||
			resp.Header.Get("Access-Control-Allow-Origin") != "https://panel.example" ||
			!strings.Contains(resp.Header.Get("Access-Control-Allow-Headers"), "Authorization") ||
			!strings.Contains(resp.Header.Get("Access-Control-Allow-Methods"), "PATCH") {
			t.Errorf("OPTIONS %s: %s %v", c.path, resp.Status, resp.Header)
		}
	}
	resp = h.do(t, http.MethodOptions, whipPath, "", "", "", "Origin", "https://evil.example")
	readBody(t, resp)
	if resp.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Error("CORS allowed an unknown origin")
	}
	if resp.Header.Get("Accept-Post") != ContentTypeSDP {
		t.Errorf("Accept-Post %q", resp.Header.Get("Accept-Post"))
	}
}

// TestErrors: each refusal has its status and a JSON error body.
func TestErrors(t *testing.T) {
	h := newTestHub(t, func(_ *sfu.Options, o *Options) { o.MaxSessions = 1; o.MaxBody = 8 << 10 })
	p, err := sfutest.NewPublisher(clientAPI(t, false), webrtc.MimeTypeVP8)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	offer, err := p.Offer(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	v, err := sfutest.NewViewer(clientAPI(t, false), sfutest.ViewerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	vOffer, err := v.Offer(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, method, path, token, ctype, body string
		status                                 int
		code                                   string
		header                                 string // a header the answer must have
	}{
		{"no token", "POST", whipPath, "", ContentTypeSDP, offer, 401, CodeUnauthorized, "WWW-Authenticate"},
		{"bad token", "POST", whipPath, "nope", ContentTypeSDP, offer, 401, CodeUnauthorized, "WWW-Authenticate"},
		{"viewer publishes", "POST", whipPath, viewToken, ContentTypeSDP, offer, 403, CodeForbidden, ""},
		{"content type", "POST", whipPath, pubToken, "application/json", offer, 415, CodeUnsupportedMediaType, "Accept-Post"},
		{"no content type", "POST", whipPath, pubToken, "", offer, 415, CodeUnsupportedMediaType, "Accept-Post"},
		{"too large", "POST", whipPath, pubToken, ContentTypeSDP, offer + strings.Repeat("a=x\r\n", 4000), 413, CodeTooLarge, ""},
		{"garbage", "POST", whipPath, pubToken, ContentTypeSDP, "hello", 400, CodeBadSDP, ""},
		{"empty", "POST", whipPath, pubToken, ContentTypeSDP, "", 400, CodeBadSDP, ""},
		{"receive-only offer to WHIP", "POST", whipPath, pubToken, ContentTypeSDP, vOffer, 400, CodeBadSDP, ""},
		{"send-only offer to WHEP", "POST", "/whep/hq/court-1/other", viewToken, ContentTypeSDP, offer, 400, CodeBadSDP, ""},
		{"unknown stream", "POST", "/whep/hq/court-1/other", viewToken, ContentTypeSDP, vOffer, 404, CodeNotFound, ""},
		{"bad name", "POST", "/whip/HQ/court-1/bench", pubToken, ContentTypeSDP, offer, 404, CodeNotFound, ""},
		{"too deep", "POST", "/whip/hq/court-1/bench/x/y", pubToken, ContentTypeSDP, offer, 404, CodeNotFound, ""},
		{"GET endpoint", "GET", whipPath, pubToken, "", "", 405, CodeMethodNotAllowed, "Allow"},
		{"GET session", "GET", whipPath + "/abc", pubToken, "", "", 405, CodeMethodNotAllowed, "Allow"},
		{"PATCH unknown", "PATCH", whipPath + "/abc", pubToken, ContentTypeFrag, "a=end-of-candidates\r\n", 404, CodeNotFound, ""},
		{"DELETE unknown", "DELETE", whipPath + "/abc", pubToken, "", "", 404, CodeNotFound, ""},
		{"DELETE no token", "DELETE", whipPath + "/abc", "", "", "", 401, CodeUnauthorized, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			resp := h.do(t, c.method, c.path, c.token, c.ctype, c.body)
			body := readBody(t, resp)
			if resp.StatusCode != c.status {
				t.Fatalf("%s: %s %s", c.name, resp.Status, body)
			}
			if got := jsonError(t, body); got != c.code {
				t.Errorf("code %q, want %q", got, c.code)
			}
			if c.header != "" && resp.Header.Get(c.header) == "" {
				t.Errorf("no %s header", c.header)
			}
		})
	}
	// MaxSessions = 1: a second session is refused with 503.
	loc, _ := h.connect(t, p, whipPath, pubToken)
	p2, err := sfutest.NewPublisher(clientAPI(t, false), webrtc.MimeTypeVP8)
	if err != nil {
		t.Fatal(err)
	}
	defer p2.Close()
	offer2, _ := p2.Offer(context.Background())
	resp := h.do(t, http.MethodPost, "/whip/hq/court-1/other", pubToken, ContentTypeSDP, offer2)
	body := readBody(t, resp)
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" || jsonError(t, body) != CodeUnavailable {
		t.Errorf("over MaxSessions: %s %s", resp.Status, body)
	}
	// A session is reached only through its own path and kind.
	id := loc[strings.LastIndexByte(loc, '/'):]
	for _, path := range []string{whepPath + id, "/whip/hq/court-1/other" + id} {
		resp := h.do(t, http.MethodDelete, path, pubToken, "", "")
		if readBody(t, resp); resp.StatusCode != http.StatusNotFound {
			t.Errorf("DELETE %s: %s", path, resp.Status)
		}
	}
	resp = h.do(t, http.MethodPatch, loc, pubToken, "text/plain", "a=end-of-candidates\r\n")
	if readBody(t, resp); resp.StatusCode != http.StatusUnsupportedMediaType || resp.Header.Get("Accept-Patch") != ContentTypeFrag {
		t.Errorf("PATCH text/plain: %s", resp.Status)
	}
	resp = h.do(t, http.MethodDelete, loc, pubToken, "", "")
	if readBody(t, resp); resp.StatusCode != http.StatusOK {
		t.Errorf("DELETE: %s", resp.Status)
	}
}
