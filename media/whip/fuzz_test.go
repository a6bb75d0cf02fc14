package whip

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bailiff/bailiff/internal/testutil/fuzzseed"
	"github.com/bailiff/bailiff/media/sfu"
	"github.com/bailiff/bailiff/media/sfu/sfutest"
	"github.com/pion/webrtc/v4"
)

// fuzzHub is a hub whose handler the fuzz targets call directly.
func fuzzHub(t testing.TB) *testHub {
	return newTestHub(t, func(so *sfu.Options, wo *Options) {
		so.GatherTimeout = 2 * time.Second
		so.ConnectTimeout = time.Hour
		wo.RequestTimeout = 5 * time.Second
	})
}

func (h *testHub) serve(method, path, ctype, body string, hdr ...string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+pubToken)
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	rec := httptest.NewRecorder()
	h.whip.ServeHTTP(rec, req)
	return rec
}

// pionOffer is a real publisher's offer (VP8 and Opus, candidates in).
func pionOffer(t testing.TB) string {
	p, err := sfutest.NewPublisher(clientAPI(t, true), webrtc.MimeTypeVP8)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	o, err := p.Offer(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// FuzzWHIPOffer posts hostile offers: each gets 201 (then DELETE frees
// it) or a clear 4xx with a JSON error; nothing crashes and no session or
// peer connection is left behind.
func FuzzWHIPOffer(f *testing.F) {
	offer := pionOffer(f)
	f.Add([]byte(offer))
	f.Add([]byte(strings.ReplaceAll(offer, "a=sendonly", "a=recvonly")))
	f.Add([]byte(strings.ReplaceAll(offer, "VP8", "VP9")))
	f.Add([]byte(strings.ReplaceAll(offer, "a=mid:", "a=xmid:")))
	h := fuzzHub(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		rec := h.serve(http.MethodPost, whipPath, ContentTypeSDP, string(body))
		switch rec.Code {
		case http.StatusCreated:
			loc := rec.Header().Get("Location")
			if loc == "" || rec.Header().Get("ETag") == "" {
				t.Fatalf("201 without Location/ETag: %v", rec.Header())
			}
			if d := h.serve(http.MethodDelete, loc, "", ""); d.Code != http.StatusOK {
				t.Fatalf("DELETE: %d %s", d.Code, d.Body)
			}
		case http.StatusBadRequest, http.StatusRequestEntityTooLarge, http.StatusUnprocessableEntity:
			if !strings.Contains(rec.Body.String(), `"code":"`) {
				t.Fatalf("%d without a JSON error: %q", rec.Code, rec.Body)
			}
		default:
			t.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
		if n := h.whip.Sessions(); n != 0 {
			t.Fatalf("%d sessions left", n)
		}
		if st := h.sfu.Stats(); st.PeerConnections != 0 {
			t.Fatalf("SFU holds %+v", st)
		}
	})
}

// FuzzTrickle sends hostile PATCH bodies (with or without an If-Match) to
// a publisher session: each gets 204, 200 (an ICE restart) or a clear
// 4xx. The session's peer never connects, so once trickled candidates
// have failed their checks ICE gives up and the session ends by itself:
// then nothing of it may remain, and a new one takes its place. The last
// is freed by DELETE.
func FuzzTrickle(f *testing.F) {
	for _, c := range fragTable {
		f.Add([]byte(c.body), "")
		f.Add([]byte(c.body), "*")
	}
	restart := "a=ice-ufrag:Zz9+\r\na=ice-pwd:ZYXWVUTSRQPONMLKJIHGFEDCBA\r\nm=audio 9 UDP/TLS/RTP/SAVPF 0\r\na=mid:0\r\na=" + cand + "\r\na=end-of-candidates\r\n"
	f.Add([]byte(restart), "*")
	f.Add([]byte(restart), "")
	f.Add([]byte(restart), `"stale"`)
	h := fuzzHub(f)
	offer := pionOffer(f)
	var loc string
	open := func(t testing.TB) {
		rec := h.serve(http.MethodPost, whipPath, ContentTypeSDP, offer)
		if rec.Code != http.StatusCreated {
			t.Fatalf("POST: %d %s", rec.Code, rec.Body)
		}
		loc = rec.Header().Get("Location")
	}
	open(f)
	f.Cleanup(func() {
		if d := h.serve(http.MethodDelete, loc, "", ""); d.Code != http.StatusOK && d.Code != http.StatusNotFound {
			f.Errorf("DELETE: %d", d.Code)
		}
		if n := h.whip.Sessions(); n != 0 {
			f.Errorf("%d sessions left", n)
		}
	})
	f.Fuzz(func(t *testing.T, body []byte, ifMatch string) {
		var hdr []string
		if ifMatch != "" {
			hdr = []string{"If-Match", ifMatch}
		}
		rec := h.serve(http.MethodPatch, loc, ContentTypeFrag, string(body), hdr...)
		if rec.Code == http.StatusNotFound {
			// The session ended by itself: the candidates trickled so far
			// failed their checks and ICE gave up (its failed timeout).
			// Nothing of it may be left; a new one takes its place.
			if !sfutest.WaitFor(5*time.Second, func() bool { return h.whip.Sessions() == 0 && h.sfu.Stats().PeerConnections == 0 }) {
				t.Fatalf("a session ended but %d remain, SFU holds %+v", h.whip.Sessions(), h.sfu.Stats())
			}
			open(t)
			rec = h.serve(http.MethodPatch, loc, ContentTypeFrag, string(body), hdr...)
		}
		switch rec.Code {
		case http.StatusOK, http.StatusNoContent:
		case http.StatusBadRequest, http.StatusPreconditionFailed, http.StatusPreconditionRequired, http.StatusRequestEntityTooLarge:
			if !strings.Contains(rec.Body.String(), `"code":"`) {
				t.Fatalf("%d without a JSON error: %q", rec.Code, rec.Body)
			}
		default:
			t.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
		if n := h.whip.Sessions(); n > 1 {
			t.Fatalf("%d sessions", n)
		}
	})
}

// TestWriteFuzzSeeds rewrites the committed seed corpora under testdata/fuzz (with
// -update-corpus); TestSeedCorpusParses checks them.
func TestWriteFuzzSeeds(t *testing.T) {
	if !fuzzseed.Update() {
		t.Skip("run with -update-corpus to rewrite testdata/fuzz")
	}
	offer := pionOffer(t)
	lines := strings.Split(offer, "\r\n")
	var firstMedia int
	for i, l := range lines {
		if strings.HasPrefix(l, "m=") {
			firstMedia = i
			break
		}
	}
	manyM := strings.Join(lines[:firstMedia], "\r\n") + "\r\n"
	for i := range 20 {
		manyM += "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:" + strconv.Itoa(i) + "\r\na=sendonly\r\na=rtpmap:111 opus/48000/2\r\n"
	}
	offers := map[string]string{
		"pion-offer":          offer,
		"recvonly":            strings.ReplaceAll(offer, "a=sendonly", "a=recvonly"),
		"no-fingerprint":      dropLines(offer, "a=fingerprint:"),
		"no-ice":              dropLines(offer, "a=ice-"),
		"no-mid":              dropLines(offer, "a=mid:"),
		"simulcast":           strings.Replace(offer, "a=sendonly", "a=sendonly\r\na=rid:h send\r\na=simulcast:send h", 1),
		"vp9-only":            strings.ReplaceAll(strings.ReplaceAll(offer, "VP8", "VP9"), "H264", "H265"),
		"too-many-sections":   manyM,
		"nul":                 strings.Replace(offer, "v=0", "v=0\x00", 1),
		"lf-only":             strings.ReplaceAll(offer, "\r\n", "\n"),
		"huge-format-list":    strings.Replace(offer, "UDP/TLS/RTP/SAVPF 111", "UDP/TLS/RTP/SAVPF 111"+strings.Repeat(" 96", 5000), 1),
		"hostile-candidates":  strings.Replace(offer, "a=end-of-candidates", "a=candidate:1 1 udp 2130706431 10.1.2.3 9 typ host\r\na=candidate:2 1 udp 1 example.com 9 typ host\r\na=candidate:3 1 tcp 1 127.0.0.1 9 typ host tcptype active\r\na=end-of-candidates", 1),
		"truncated":           offer[:len(offer)/2],
		"garbage":             "hello, world",
		"empty":               "",
		"session-only":        strings.Join(lines[:firstMedia], "\r\n"),
		"bad-port":            strings.Replace(offer, "m=audio 9", "m=audio 99999999999", 1),
		"negative-version":    strings.Replace(offer, "v=0", "v=-1", 1),
		"application-only":    strings.Join(lines[:firstMedia], "\r\n") + "\r\nm=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\na=mid:0\r\na=sctp-port:5000\r\n",
		"bundle-only-port-0":  strings.Replace(offer, "m=video 9", "m=video 0", 1),
		"duplicate-mids":      strings.ReplaceAll(offer, "a=mid:1", "a=mid:0"),
		"rtpmap-out-of-range": strings.Replace(offer, "a=rtpmap:111", "a=rtpmap:300", 1),
	}
	for name, o := range offers {
		fuzzseed.Write(t, "FuzzWHIPOffer", name, []byte(o))
	}
	for i, c := range fragTable {
		fuzzseed.Write(t, "FuzzTrickle", "table-"+strconv.Itoa(i), []byte(c.body), "")
	}
	restart := "a=ice-ufrag:Zz9+\r\na=ice-pwd:ZYXWVUTSRQPONMLKJIHGFEDCBA\r\nm=audio 9 UDP/TLS/RTP/SAVPF 0\r\na=mid:0\r\na=" + cand + "\r\na=end-of-candidates\r\n"
	for name, args := range map[string][2]string{
		"restart-star":           {restart, "*"},
		"restart-no-if-match":    {restart, ""},
		"restart-stale":          {restart, `"stale"`},
		"restart-weak":           {restart, `W/"x"`},
		"restart-no-pwd":         {"a=ice-ufrag:Zz9+\r\n", "*"},
		"private-candidate":      {"m=audio 9 UDP/TLS/RTP/SAVPF 0\r\na=mid:0\r\na=candidate:1 1 udp 2130706431 192.168.1.9 5000 typ host\r\n", ""},
		"mdns-candidate":         {"m=audio 9 UDP/TLS/RTP/SAVPF 0\r\na=mid:0\r\na=candidate:1 1 udp 2130706431 abc.local 5000 typ host\r\n", ""},
		"relay-candidate":        {"m=audio 9 UDP/TLS/RTP/SAVPF 0\r\na=mid:0\r\na=candidate:1 1 udp 1 127.0.0.1 5000 typ relay raddr 127.0.0.1 rport 1\r\n", ""},
		"many-end-of-candidates": {strings.Repeat("a=end-of-candidates\r\n", 400), ""},
	} {
		fuzzseed.Write(t, "FuzzTrickle", name, []byte(args[0]), args[1])
	}
}

func dropLines(s, prefix string) string {
	var out []string
	for _, l := range strings.Split(s, "\r\n") {
		if !strings.HasPrefix(l, prefix) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\r\n")
}

// TestSeedCorpusParses checks that the committed seeds are in the go fuzz format.
func TestSeedCorpusParses(t *testing.T) { fuzzseed.CheckFormat(t) }
