package whip

import (
	"net/http"
	"testing"
	"time"

	"github.com/bailiff/bailiff/media/sfu"
	"github.com/bailiff/bailiff/media/sfu/sfutest"
	"github.com/pion/webrtc/v4"
)

// OPTIONS with a valid token carries the ICE servers (RFC 9725 §4.6); without one, or as a
// CORS preflight, it carries none.
func TestOptionsICEServers(t *testing.T) {
	h := newTestHub(t, nil)
	const path = "/whip/court/r1/cam"
	for _, c := range []struct {
		name, token string
		hdr         []string
		want        int
	}{
		{"token", pubToken, nil, 2},
		{"no token", "", nil, 0},
		{"bad token", "nope", nil, 0},
		{"preflight", pubToken, []string{"Access-Control-Request-Method", "POST"}, 0},
	} {
		resp := h.do(t, http.MethodOptions, path, c.token, "", "", c.hdr...)
		readBody(t, resp)
		if got := ParseLinks(resp.Header.Values("Link")); resp.StatusCode != http.StatusNoContent || len(got) != c.want {
			t.Errorf("%s: %s, %d ICE servers %+v, want %d", c.name, resp.Status, len(got), got, c.want)
		}
	}
}

// CloseOwner ends the sessions opened with one credential and no other; a session also ends
// when its credential expires.
func TestOwnerSessions(t *testing.T) {
	var expires time.Time
	h := newTestHub(t, func(_ *sfu.Options, o *Options) {
		o.Owner = func(r *http.Request) (string, time.Time) {
			if r.Header.Get("Authorization") == "Bearer "+viewToken {
				return "viewer", expires
			}
			return "publisher", time.Time{}
		}
	})
	h.startPublisher(t, "/whip/court/r1/cam", webrtc.MimeTypeVP8)
	view := func() *sfutest.Viewer {
		v, err := sfutest.NewViewer(clientAPI(t, false), sfutest.ViewerOptions{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { v.Close() })
		h.connect(t, v, "/whep/court/r1/cam", viewToken)
		if !sfutest.WaitFor(10*time.Second, func() bool { return v.Packets("video") > 0 }) {
			t.Fatal("the viewer gets no video")
		}
		return v
	}
	v1 := view()
	if n := h.whip.Sessions(); n != 2 {
		t.Fatalf("sessions: %d", n)
	}
	if n := h.whip.CloseOwner("nobody"); n != 0 {
		t.Errorf("CloseOwner(nobody) = %d", n)
	}
	if n := h.whip.CloseOwner("viewer"); n != 1 {
		t.Errorf("CloseOwner(viewer) = %d", n)
	}
	select {
	case <-v1.Ended():
	case <-time.After(10 * time.Second):
		t.Fatal("the viewer's session did not end")
	}
	if !sfutest.WaitFor(5*time.Second, func() bool { return h.whip.Sessions() == 1 }) {
		t.Fatalf("sessions after CloseOwner: %d", h.whip.Sessions())
	}

	// A credential that expires in a second ends its session then.
	expires = time.Now().Add(3 * time.Second)
	v2 := view()
	select {
	case <-v2.Ended():
	case <-time.After(10 * time.Second):
		t.Fatal("the session outlived its credential")
	}
	if !sfutest.WaitFor(5*time.Second, func() bool { return h.whip.Sessions() == 1 }) {
		t.Errorf("the publisher's session should remain alone: %d", h.whip.Sessions())
	}
}
