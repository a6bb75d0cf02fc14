package whip

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bailiff/bailiff/media/sfu/sfutest"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"
)

// fragmentOf builds a trickle fragment from a description's credentials
// and the given candidates (RFC 8840 §9.2 layout).
func fragmentOf(t testing.TB, desc string, candidates []string, end bool) string {
	t.Helper()
	var sd sdp.SessionDescription
	if err := sd.UnmarshalString(desc); err != nil {
		t.Fatal(err)
	}
	md := sd.MediaDescriptions[0]
	ufrag, ok := md.Attribute("ice-ufrag")
	if !ok {
		ufrag, _ = sd.Attribute("ice-ufrag")
	}
	pwd, ok := md.Attribute("ice-pwd")
	if !ok {
		pwd, _ = sd.Attribute("ice-pwd")
	}
	mid, _ := md.Attribute("mid")
	var b strings.Builder
	b.WriteString("a=ice-ufrag:" + ufrag + "\r\na=ice-pwd:" + pwd + "\r\n")
	b.WriteString("m=" + md.MediaName.Media + " 9 UDP/TLS/RTP/SAVPF 0\r\na=mid:" + mid + "\r\n")
	for _, c := range candidates {
		b.WriteString("a=" + c + "\r\n")
	}
	if end {
		b.WriteString("a=end-of-candidates\r\n")
	}
	return b.String()
}

// TestTrickle: a publisher posts its offer before gathering and trickles
// its candidates with PATCH (If-Match: the ETag); a stale ETag is
// refused with 412.
func TestTrickle(t *testing.T) {
	h := newTestHub(t, nil)
	clips := sfutest.Load(t, sfutest.Small)
	p, err := sfutest.NewPublisher(clientAPI(t, true), webrtc.MimeTypeVP8)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	var mu sync.Mutex
	var cands []string
	gathered := make(chan struct{})
	p.PC.OnICECandidate(func(c *webrtc.ICECandidate) {
		mu.Lock()
		defer mu.Unlock()
		if c == nil {
			close(gathered)
			return
		}
		cands = append(cands, c.ToJSON().Candidate)
	})
	offer, err := p.PC.CreateOffer(nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.PC.SetLocalDescription(offer); err != nil {
		t.Fatal(err)
	}
	resp := h.do(t, http.MethodPost, whipPath, pubToken, ContentTypeSDP, offer.SDP)
	answer := readBody(t, resp)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("POST: %s %s", resp.Status, answer)
	}
	loc, etag := resp.Header.Get("Location"), resp.Header.Get("ETag")
	if err := p.SetAnswer(answer); err != nil {
		t.Fatal(err)
	}
	<-gathered
	mu.Lock()
	frag := fragmentOf(t, offer.SDP, cands, true)
	mu.Unlock()
	if len(cands) == 0 {
		t.Fatal("the publisher gathered no candidates")
	}

	resp = h.do(t, http.MethodPatch, loc, pubToken, ContentTypeFrag, frag, "If-Match", `"stale"`)
	if body := readBody(t, resp); resp.StatusCode != http.StatusPreconditionFailed || jsonError(t, body) != CodePreconditionFailed {
		t.Fatalf("PATCH with a stale ETag: %s %s", resp.Status, body)
	}
	resp = h.do(t, http.MethodPatch, loc, pubToken, ContentTypeFrag, frag, "If-Match", etag)
	if body := readBody(t, resp); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("PATCH trickle: %s %s", resp.Status, body)
	}
	// Without If-Match a trickle PATCH is still taken.
	resp = h.do(t, http.MethodPatch, loc, pubToken, ContentTypeFrag, "a=end-of-candidates\r\n")
	if body := readBody(t, resp); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("PATCH end-of-candidates: %s %s", resp.Status, body)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go p.Run(ctx, clips.VP8, clips.Opus)
	v, err := sfutest.NewViewer(clientAPI(t, false), sfutest.ViewerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	h.connect(t, v, whepPath, viewToken)
	if !sfutest.WaitFor(10*time.Second, func() bool { return v.Frames() > 10 }) {
		t.Fatal("no media after trickle")
	}
	// Hostile fragments are refused and leave the session as it was.
	for _, bad := range []string{
		"a=candidate:garbage\r\n",
		"m=audio 9 UDP/TLS/RTP/SAVPF 0\r\na=candidate:1 1 udp 1 127.0.0.1 notaport typ host\r\n",
		"a=ice-ufrag:ab\r\na=ice-pwd:short\r\n",
		"x\r\n",
		"",
	} {
		resp := h.do(t, http.MethodPatch, loc, pubToken, ContentTypeFrag, bad)
		if body := readBody(t, resp); resp.StatusCode != http.StatusBadRequest {
			t.Errorf("PATCH %q: %s %s", bad, resp.Status, body)
		}
	}
	if h.whip.Sessions() != 2 {
		t.Errorf("%d sessions", h.whip.Sessions())
	}
}

// TestICERestart: the publisher restarts ICE with a PATCH (If-Match: *);
// the hub answers 200 with its new credentials, candidates and ETag;
// media goes on over the new ICE session; the old ETag is stale.
func TestICERestart(t *testing.T) {
	h := newTestHub(t, nil)
	p, loc, etag, _ := h.startPublisher(t, whipPath, webrtc.MimeTypeVP8)
	v, err := sfutest.NewViewer(clientAPI(t, false), sfutest.ViewerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	h.connect(t, v, whepPath, viewToken)
	if !sfutest.WaitFor(10*time.Second, func() bool { return v.Frames() > 10 }) {
		t.Fatal("no media before the restart")
	}

	offer, err := p.PC.CreateOffer(&webrtc.OfferOptions{ICERestart: true})
	if err != nil {
		t.Fatal(err)
	}
	gathered := webrtc.GatheringCompletePromise(p.PC)
	if err := p.PC.SetLocalDescription(offer); err != nil {
		t.Fatal(err)
	}
	<-gathered
	local := p.PC.LocalDescription().SDP
	var cands []string
	for _, l := range strings.Split(local, "\r\n") {
		if strings.HasPrefix(l, "a=candidate:") {
			cands = append(cands, l[2:])
		}
	}
	frag := fragmentOf(t, local, cands, true)

	resp := h.do(t, http.MethodPatch, loc, pubToken, ContentTypeFrag, frag)
	if body := readBody(t, resp); resp.StatusCode != http.StatusPreconditionRequired {
		t.Fatalf("restart without If-Match: %s %s", resp.Status, body)
	}
	resp = h.do(t, http.MethodPatch, loc, pubToken, ContentTypeFrag, frag, "If-Match", "*")
	body := readBody(t, resp)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != ContentTypeFrag {
		t.Fatalf("restart: %s %s", resp.Status, body)
	}
	newTag := resp.Header.Get("ETag")
	if newTag == "" || newTag == etag {
		t.Fatalf("ETag after restart %q (before %q)", newTag, etag)
	}
	hf, err := parseFragment([]byte(body))
	if err != nil {
		t.Fatalf("the hub's fragment: %v\n%s", err, body)
	}
	if len(hf.Candidates) == 0 || !hf.EndOfCandidates {
		t.Fatalf("the hub's fragment has no candidates:\n%s", body)
	}
	// The publisher applies the hub's side as its new answer.
	old := p.PC.RemoteDescription().SDP
	var sd sdp.SessionDescription
	if err := sd.UnmarshalString(old); err != nil {
		t.Fatal(err)
	}
	for i, md := range sd.MediaDescriptions {
		var attrs []sdp.Attribute
		for _, a := range md.Attributes {
			switch a.Key {
			case "ice-ufrag":
				a.Value = hf.Ufrag
			case "ice-pwd":
				a.Value = hf.Pwd
			case "candidate", "end-of-candidates":
				continue
			}
			attrs = append(attrs, a)
		}
		if i == 0 {
			for _, c := range hf.Candidates {
				attrs = append(attrs, sdp.Attribute{Key: "candidate", Value: strings.TrimPrefix(c, "candidate:")})
			}
		}
		md.Attributes = attrs
	}
	sd.Origin.SessionVersion++
	ans, _ := sd.Marshal()
	if err := p.SetAnswer(string(ans)); err != nil {
		t.Fatal(err)
	}
	before := v.Frames()
	if !sfutest.WaitFor(10*time.Second, func() bool { return v.Frames() > before+30 }) {
		t.Fatal("no media after the ICE restart")
	}
	var cur *session
	h.whip.mu.Lock()
	for _, s := range h.whip.sessions {
		if s.publish {
			cur = s
		}
	}
	h.whip.mu.Unlock()
	if u, _ := cur.ss.RemoteICE(); !strings.Contains(frag, "a=ice-ufrag:"+u+"\r\n") {
		t.Errorf("the hub's remote ufrag %q is not the restarted one", u)
	}
	// Candidates sent with the old ETag belong to the old ICE session.
	resp = h.do(t, http.MethodPatch, loc, pubToken, ContentTypeFrag, "a=end-of-candidates\r\n", "If-Match", etag)
	if readBody(t, resp); resp.StatusCode != http.StatusPreconditionFailed {
		t.Errorf("trickle with the old ETag: %s", resp.Status)
	}
	resp = h.do(t, http.MethodPatch, loc, pubToken, ContentTypeFrag, "a=end-of-candidates\r\n", "If-Match", newTag)
	if readBody(t, resp); resp.StatusCode != http.StatusNoContent {
		t.Errorf("trickle with the new ETag: %s", resp.Status)
	}
}
