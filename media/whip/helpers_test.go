package whip

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/bailiff/bailiff/media/sfu"
	"github.com/bailiff/bailiff/media/sfu/sfutest"
	"github.com/pion/webrtc/v4"
)

func TestMain(m *testing.M) {
	code := m.Run()
	sfutest.Cleanup()
	os.Exit(code)
}

func quietLogger() *slog.Logger {
	if os.Getenv("WHIP_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

const (
	pubToken  = "publisher-token"
	viewToken = "viewer-token"
)

// testAuth: the publisher token may publish and view, the viewer token
// may only view; anything else is unauthorized.
var testAuth = AuthorizerFunc(func(r *http.Request, site, room, stream string, publish bool) error {
	switch r.Header.Get("Authorization") {
	case "Bearer " + pubToken:
		return nil
	case "Bearer " + viewToken:
		if publish {
			return ErrForbidden
		}
		return nil
	}
	return ErrUnauthorized
})

type testHub struct {
	sfu  *sfu.SFU
	whip *Server
	http *httptest.Server
}

func newTestHub(t testing.TB, mod func(*sfu.Options, *Options)) *testHub {
	t.Helper()
	so := sfu.Options{
		Network: sfu.Network{UDPAddr: "127.0.0.1:0", Loopback: true, RemoteIPFilter: sfutest.Loopback},
		Logger:  quietLogger(),
	}
	wo := Options{
		Authorizer:     testAuth,
		ICEServers:     []webrtc.ICEServer{{URLs: []string{"stun:127.0.0.1:3478"}}, {URLs: []string{"turn:127.0.0.1:3478?transport=udp"}, Username: "u", Credential: `p"w`}},
		AllowedOrigins: []string{"https://panel.example"},
		Logger:         quietLogger(),
	}
	if mod != nil {
		mod(&so, &wo)
	}
	s, err := sfu.New(so)
	if err != nil {
		t.Fatal(err)
	}
	wo.SFU = s
	w, err := New(wo)
	if err != nil {
		t.Fatal(err)
	}
	h := &testHub{sfu: s, whip: w, http: httptest.NewServer(w)}
	t.Cleanup(func() {
		h.http.Close()
		_ = w.Close()
		_ = s.Close()
	})
	return h
}

// do sends one request to the hub.
func (h *testHub) do(t testing.TB, method, path, token, ctype, body string, hdr ...string) *http.Response {
	t.Helper()
	url := path
	if strings.HasPrefix(path, "/") {
		url = h.http.URL + path
	}
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Add(hdr[i], hdr[i+1])
	}
	resp, err := h.http.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

func readBody(t testing.TB, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// peer is a sfutest publisher or viewer as far as signalling goes.
type peer interface {
	Offer(context.Context) (string, error)
	SetAnswer(string) error
}

// connect POSTs a peer's offer and applies the answer; it returns the
// session's Location and ETag.
func (h *testHub) connect(t testing.TB, p peer, path, token string) (location, etag string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	offer, err := p.Offer(ctx)
	if err != nil {
		t.Fatal(err)
	}
	resp := h.do(t, http.MethodPost, path, token, ContentTypeSDP, offer)
	answer := readBody(t, resp)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("POST %s: %s %s", path, resp.Status, answer)
	}
	if ct := resp.Header.Get("Content-Type"); ct != ContentTypeSDP {
		t.Errorf("answer Content-Type %q", ct)
	}
	location, etag = resp.Header.Get("Location"), resp.Header.Get("ETag")
	if !strings.HasPrefix(location, path+"/") || len(etag) < 3 || etag[0] != '"' {
		t.Fatalf("Location %q, ETag %q", location, etag)
	}
	if err := p.SetAnswer(answer); err != nil {
		t.Fatal(err)
	}
	return location, etag
}

func clientAPI(t testing.TB, interceptors bool) *webrtc.API {
	t.Helper()
	api, err := sfutest.NewAPI(interceptors)
	if err != nil {
		t.Fatal(err)
	}
	return api
}

// startPublisher publishes clips over WHIP until the test ends or stop.
func (h *testHub) startPublisher(t testing.TB, path, videoMime string) (p *sfutest.Publisher, location, etag string, stop func()) {
	t.Helper()
	clips := sfutest.Load(t, sfutest.Small)
	p, err := sfutest.NewPublisher(clientAPI(t, true), videoMime)
	if err != nil {
		t.Fatal(err)
	}
	location, etag = h.connect(t, p, path, pubToken)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	video := clips.VP8
	if videoMime == webrtc.MimeTypeH264 {
		video = clips.H264
	}
	go func() {
		defer close(done)
		p.Run(ctx, video, clips.Opus)
	}()
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		<-done
		_ = p.Close()
	}
	t.Cleanup(stop)
	return p, location, etag, stop
}

func checkGoroutines(t testing.TB, before int) {
	t.Helper()
	var n int
	if !sfutest.WaitFor(10*time.Second, func() bool { n = runtime.NumGoroutine(); return n <= before }) {
		buf := make([]byte, 1<<20)
		buf = buf[:runtime.Stack(buf, true)]
		t.Fatalf("goroutines: %d before, %d after:\n%s", before, n, buf)
	}
}

func jsonError(t testing.TB, body string) string {
	t.Helper()
	i := strings.Index(body, `"code":"`)
	if i < 0 {
		t.Fatalf("not a JSON error: %q", body)
	}
	rest := body[i+len(`"code":"`):]
	return rest[:strings.IndexByte(rest, '"')]
}

var errTimeout = errors.New("timeout")
