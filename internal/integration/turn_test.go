package integration

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/bailiff/bailiff/internal/hub"
	"github.com/bailiff/bailiff/internal/testutil"
	"github.com/bailiff/bailiff/media/sfu/sfutest"
	"github.com/bailiff/bailiff/media/whip"
	"github.com/pion/webrtc/v4"
)

// iceServers asks a WHIP/WHEP endpoint for its ICE servers (OPTIONS with the token, RFC 9725
// §4.6), keeping the URLs that contain only.
func (e *env) iceServers(path, token, only string) []webrtc.ICEServer {
	e.t.Helper()
	return e.iceServersFrom(e.url(path), token, only)
}

// iceServersFrom is iceServers from the endpoint at url.
func (e *env) iceServersFrom(url, token, only string) []webrtc.ICEServer {
	e.t.Helper()
	req, _ := http.NewRequest("OPTIONS", url, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	resp.Body.Close()
	var out []webrtc.ICEServer
	for _, s := range whip.ParseLinks(resp.Header.Values("Link")) {
		if strings.Contains(s.URLs[0], only) {
			out = append(out, s)
		}
	}
	return out
}

// A publisher and a viewer that may use only the relay (ICETransportPolicyRelay) reach the
// hub through its embedded TURN server, over UDP and over TCP, and media flows; a wrong TURN
// credential gets no relay.
func TestMediaThroughTURN(t *testing.T) {
	clips := sfutest.Load(t, sfutest.Small)
	e := newEnvWith(t, 1, false, func(o *hub.Options) {
		o.TURN = &hub.TURNOptions{Listen: "127.0.0.1:0", RelayPortMin: 45000, RelayPortMax: 47999, TTL: 10 * time.Minute}
	})
	tech, judge := e.login("tech"), e.login("judge")
	api, err := sfutest.NewAPI(true)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	turn := e.hub.TURN()

	// Without a valid token OPTIONS gives no credentials.
	if got := e.iceServers("/whip/court/r1/cam", "nope", "turn:"); len(got) != 0 {
		t.Fatalf("ICE servers for a bad token: %+v", got)
	}
	udp := e.iceServers("/whip/court/r1/cam", tech, "transport=udp")
	if len(udp) != 1 || !strings.Contains(udp[0].Username, ":user-") {
		t.Fatalf("TURN over UDP in the Link headers: %+v", udp)
	}
	relayOnly := func(s []webrtc.ICEServer) webrtc.Configuration {
		return webrtc.Configuration{ICEServers: s, ICETransportPolicy: webrtc.ICETransportPolicyRelay}
	}
	pub, err := sfutest.NewPublisherConfig(api, webrtc.MimeTypeVP8, relayOnly(udp))
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	offer, err := pub.Offer(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(offer, "typ relay") || strings.Contains(offer, "typ host") {
		t.Fatalf("the publisher's offer should hold relay candidates only:\n%s", offer)
	}
	e.connect(ctx, pub, "/whip/court/r1/cam", tech)
	go pub.Run(ctx, clips.VP8, clips.Opus)

	// The viewer relays over TCP.
	tcp := e.iceServers("/whep/court/r1/cam", judge, "transport=tcp")
	if len(tcp) != 1 {
		t.Fatalf("TURN over TCP in the Link headers: %+v", tcp)
	}
	v, err := sfutest.NewViewer(api, sfutest.ViewerOptions{Config: relayOnly(tcp)})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	testutil.Eventually(t, 10*time.Second, "the stream published", func() bool { return len(e.hub.SFU().Streams()) == 1 })
	voffer, err := v.Offer(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(voffer, "typ relay") || strings.Contains(voffer, "typ host") {
		t.Fatalf("the viewer's offer should hold relay candidates only:\n%s", voffer)
	}
	e.connect(ctx, v, "/whep/court/r1/cam", judge)
	testutil.Eventually(t, 20*time.Second, "video and audio reach the viewer through the relay", func() bool {
		return v.Frames() > 10 && v.Packets("audio") > 20
	})
	if n := turn.Allocations(); n < 2 {
		t.Errorf("TURN allocations: %d, want the publisher's and the viewer's", n)
	}
	resp, err := http.Get(e.url("/metrics"))
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{"bailiff_media_sessions 2", fmt.Sprintf("bailiff_turn_allocations %d", turn.Allocations())} {
		if !strings.Contains(string(metrics), want+"\n") {
			t.Errorf("metrics lack %q", want)
		}
	}

	// A wrong credential: the TURN server refuses it, so a relay-only peer has no candidate.
	bad := e.iceServers("/whep/court/r1/cam", judge, "transport=udp")
	bad[0].Credential = "d3JvbmcgcGFzc3dvcmQ="
	v2, err := sfutest.NewViewer(api, sfutest.ViewerOptions{Config: relayOnly(bad)})
	if err != nil {
		t.Fatal(err)
	}
	defer v2.Close()
	o2, err := v2.Offer(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(o2, "typ relay") {
		t.Errorf("a relay was allocated with a wrong password:\n%s", o2)
	}
}
