package integration

import (
	"context"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bailiff/bailiff/internal/hub"
	"github.com/bailiff/bailiff/internal/testutil"
	"github.com/bailiff/bailiff/media/sfu/sfutest"
)

// whipPost posts an SDP offer and returns the status, the answer and the session's Location.
func (e *env) whipPost(path, token, offer string) (int, string, string) {
	e.t.Helper()
	return e.whipPostAt(e.url(""), path, token, offer)
}

// whipPostAt is whipPost to the listener at base (scheme://host:port).
func (e *env) whipPostAt(base, path, token, offer string) (int, string, string) {
	e.t.Helper()
	req, _ := http.NewRequest("POST", base+path, strings.NewReader(offer))
	req.Header.Set("Content-Type", "application/sdp")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatalf("POST %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header.Get("Location")
}

// connect posts a peer's offer (made now, or the one it already made) to a WHIP/WHEP path
// and applies the answer; the hub must answer 201. It returns the session's Location.
func (e *env) connect(ctx context.Context, p interface {
	Offer(context.Context) (string, error)
	SetAnswer(string) error
}, path, token string) string {
	e.t.Helper()
	return e.connectAt(ctx, e.url(""), p, path, token)
}

// connectAt is connect through the listener at base (scheme://host:port).
func (e *env) connectAt(ctx context.Context, base string, p interface {
	Offer(context.Context) (string, error)
	SetAnswer(string) error
}, path, token string) string {
	e.t.Helper()
	offer, err := p.Offer(ctx)
	if err != nil {
		e.t.Fatal(err)
	}
	st, answer, loc := e.whipPostAt(base, path, token, offer)
	if st != 201 || loc == "" {
		e.t.Fatalf("POST %s: %d %s", path, st, answer)
	}
	if err := p.SetAnswer(answer); err != nil {
		e.t.Fatal(err)
	}
	return loc
}

// A room's stream published over WHIP through the hub and watched over WHEP; who may do which.
func TestMediaThroughHub(t *testing.T) {
	clips := sfutest.Load(t, sfutest.Small)
	e := newEnv(t, 1, false)
	tech, judge, monitor := e.login("tech"), e.login("judge"), e.login("monitor")
	api, err := sfutest.NewAPI(true)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	pub, err := sfutest.NewPublisher(api, "video/VP8")
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	offer, err := pub.Offer(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// Refused: no token, and a role that may not publish.
	if st, _, _ := e.whipPost("/whip/court/r1/program", "", offer); st != 401 {
		t.Errorf("publish without a token: %d", st)
	}
	if st, _, _ := e.whipPost("/whip/court/r1/program", monitor, offer); st != 403 {
		t.Errorf("publish as monitor: %d", st)
	}
	// The judge starts recording the room before anything is published; a second start is refused.
	st, rec := e.call("POST", "/api/v1/recordings", judge, map[string]string{"site": "court", "room": "r1"})
	recID, _ := rec["id"].(string)
	if st != 201 || recID == "" || rec["state"] != "recording" {
		t.Fatalf("start recording: %d %v", st, rec)
	}
	if st, body := e.call("POST", "/api/v1/recordings", judge, map[string]string{"site": "court", "room": "r1"}); st != 409 {
		t.Errorf("second recording of a room: %d %v", st, body)
	}
	if st, body := e.call("POST", "/api/v1/recordings", monitor, map[string]string{"site": "court", "room": "r1"}); st != 403 {
		t.Errorf("monitor starts a recording: %d %v", st, body)
	}
	loc := e.connect(ctx, pub, "/whip/court/r1/program", tech)
	go pub.Run(ctx, clips.VP8, clips.Opus)

	testutil.Eventually(t, 10*time.Second, "the stream listed", func() bool {
		st, body := e.call("GET", "/api/v1/streams", judge, nil)
		list, _ := body["list"].([]any)
		if st != 200 || len(list) != 1 {
			return false
		}
		s := list[0].(map[string]any)
		tracks, _ := s["tracks"].([]any)
		return s["name"] == "program" && s["whep"] == "/whep/court/r1/program" && len(tracks) == 2
	})

	v, err := sfutest.NewViewer(api, sfutest.ViewerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	e.connect(ctx, v, "/whep/court/r1/program", judge)
	testutil.Eventually(t, 15*time.Second, "video and audio reach the viewer", func() bool {
		return v.Packets("video") > 20 && v.Packets("audio") > 20
	})
	if c := v.Codec("video"); c != "video/VP8" {
		t.Errorf("viewer's video codec %q: the hub must not transcode", c)
	}

	// Stop the recording: both tracks were recorded, sealed and signed, and they verify.
	testutil.Eventually(t, 10*time.Second, "both tracks recording", func() bool {
		_, body := e.call("GET", "/api/v1/recordings/"+recID, judge, nil)
		tracks, _ := body["tracks"].([]any)
		return len(tracks) == 2
	})
	time.Sleep(1500 * time.Millisecond) // let a second and a half of media reach the files
	if st, body := e.call("POST", "/api/v1/recordings/"+recID+"/stop", judge, nil); st != 200 || body["state"] != "stopped" {
		t.Fatalf("stop recording: %d %v", st, body)
	}
	st, got := e.call("GET", "/api/v1/recordings/"+recID, judge, nil)
	segs, _ := got["segments"].([]any)
	if st != 200 || got["verified"] != true || len(segs) != 2 {
		t.Fatalf("recording after stop: %d %v", st, got)
	}
	if st, _ := e.call("GET", "/api/v1/recordings/no-such-recording", judge, nil); st != 404 {
		t.Errorf("unknown recording: %d", st)
	}
	if rep, err := hub.VerifyRecording(filepath.Join(e.dir, "data"), filepath.Join(e.dir, "data", got["dir"].(string))); err != nil || !rep.OK() {
		t.Fatalf("hub verify-recording: %v %v", rep, err)
	}

	// The publisher ends its session: the stream is gone.
	req, _ := http.NewRequest("DELETE", e.url(loc), nil)
	req.Header.Set("Authorization", "Bearer "+tech)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode/100 != 2 {
		t.Fatalf("DELETE %s: %v %v", loc, resp, err)
	}
	resp.Body.Close()
	testutil.Eventually(t, 10*time.Second, "the stream ended", func() bool {
		_, body := e.call("GET", "/api/v1/streams", judge, nil)
		list, _ := body["list"].([]any)
		return len(list) == 0
	})
}
