package source

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/bailiff/bailiff/media/sfu"
	"github.com/bailiff/bailiff/media/sfu/sfutest"
	"github.com/bailiff/bailiff/media/whip"
)

func quiet() *slog.Logger {
	if os.Getenv("SOURCE_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

const token = "agent-token"

// testHub is the hub's media side (SFU and WHIP/WHEP) on loopback.
type testHub struct {
	addr string
	sfu  *sfu.SFU
	whip *whip.Server
	srv  *http.Server
}

// startHub starts a hub on addr ("127.0.0.1:0" for a new port). Token "agent-token" may
// publish and view; "view-only" may only view.
func startHub(t *testing.T, addr string, ice ...webrtc.ICEServer) *testHub {
	t.Helper()
	s, err := sfu.New(sfu.Options{Network: sfu.Network{UDPAddr: "127.0.0.1:0", Loopback: true, RemoteIPFilter: sfutest.Loopback}, Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	w, err := whip.New(whip.Options{SFU: s, Logger: quiet(), ICEServers: ice, Authorizer: whip.AuthorizerFunc(func(r *http.Request, site, room, stream string, publish bool) error {
		switch r.Header.Get("Authorization") {
		case "Bearer " + token:
			return nil
		case "Bearer view-only":
			if publish {
				return whip.ErrForbidden
			}
			return nil
		}
		return whip.ErrUnauthorized
	})})
	if err != nil {
		t.Fatal(err)
	}
	var ln net.Listener
	for i := 0; ; i++ {
		if ln, err = net.Listen("tcp", addr); err == nil || i == 50 {
			break
		}
		time.Sleep(100 * time.Millisecond) // the old hub's port is still closing
	}
	if err != nil {
		t.Fatal(err)
	}
	h := &testHub{addr: ln.Addr().String(), sfu: s, whip: w, srv: &http.Server{Handler: w}}
	go h.srv.Serve(ln)
	t.Cleanup(h.stop)
	return h
}

func (h *testHub) stop() {
	h.srv.Close()
	h.whip.Close()
	h.sfu.Close()
}

func (h *testHub) url(path string) string { return "http://" + h.addr + path }

func testAPI(t testing.TB) *webrtc.API {
	se := webrtc.SettingEngine{}
	sfutest.LoopbackOnly(&se)
	api, err := NewAPI(&se)
	if err != nil {
		t.Fatal(err)
	}
	return api
}

func (h *testHub) endpoint(t testing.TB, stream string) Endpoint {
	return Endpoint{URL: h.url("/whip/court/r1/" + stream), Token: token, API: testAPI(t), Logger: quiet(),
		MinBackoff: 100 * time.Millisecond, MaxBackoff: 500 * time.Millisecond}
}

// view watches a stream over WHEP with a pion viewer.
func (h *testHub) view(t *testing.T, stream string, o sfutest.ViewerOptions) *sfutest.Viewer {
	t.Helper()
	api, err := sfutest.NewAPI(true)
	if err != nil {
		t.Fatal(err)
	}
	var v *sfutest.Viewer
	waitFor(t, 10*time.Second, "the stream is viewable", func() bool {
		if v != nil {
			v.Close()
		}
		if v, err = sfutest.NewViewer(api, o); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		offer, err := v.Offer(ctx)
		if err != nil {
			t.Fatal(err)
		}
		req, _ := http.NewRequest("POST", h.url("/whep/court/r1/"+stream), strings.NewReader(offer))
		req.Header.Set("Content-Type", "application/sdp")
		req.Header.Set("Authorization", "Bearer view-only")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 201 {
			return false
		}
		return v.SetAnswer(string(b)) == nil
	})
	t.Cleanup(func() { v.Close() })
	return v
}

func waitFor(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v: %s", d, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
