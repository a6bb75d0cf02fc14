package whip

import (
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/bailiff/bailiff/internal/testutil/fuzzseed"
	"github.com/bailiff/bailiff/media/sfu"
)

// originAnswer is an origin's answer to a replica's receive-only offer: it sends Opus and VP8.
const originAnswer = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0 1\r\n" +
	"m=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\na=sendonly\r\na=rtpmap:111 opus/48000/2\r\n" +
	"m=video 9 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\na=mid:1\r\na=sendonly\r\na=rtpmap:96 VP8/90000\r\n"

// originReplies are replies of an origin to a replica's WHEP POST, good and bad.
var originReplies = []struct {
	name     string
	status   int
	ctype    string
	location string
	body     string
	ok       bool
}{
	{"answer", 201, ContentTypeSDP, "/whep/hq/court-1/bench/abc", originAnswer, true},
	{"answer-absolute-location", 201, "application/sdp; charset=utf-8", "http://origin.example:8080/whep/hq/court-1/bench/abc", originAnswer, true},
	{"location-elsewhere", 201, ContentTypeSDP, "http://evil.example/x", originAnswer, false},
	{"location-javascript", 201, ContentTypeSDP, "javascript:alert(1)", originAnswer, false},
	{"no-location", 201, ContentTypeSDP, "", originAnswer, false},
	{"inactive", 201, ContentTypeSDP, "/s", strings.ReplaceAll(originAnswer, "a=sendonly", "a=inactive"), false},
	{"json", 201, "application/json", "/s", "{}", false},
	{"garbage", 201, ContentTypeSDP, "/s", "hello", false},
	{"unauthorized", 401, "application/json", "", `{"error":{"code":"unauthorized","message":"missing or invalid bearer token"}}`, false},
	{"not-found", 404, "application/json", "", `{"error":{"code":"not_found","message":"nobody publishes hq/court-1/bench"}}`, false},
	{"busy", 503, "application/json", "", `{"error":{"code":"unavailable","message":"too many sessions"}}`, false},
	{"control-characters", 500, "text/plain", "", "{\"error\":{\"message\":\"a\\u0000\\r\\nb\"}}", false},
	{"teapot", 418, "", "", "", false},
}

// FuzzOriginReply feeds any reply to the replica's reading of it: it never panics, accepts
// only a 201 SDP answer with media and a session on the origin's host, and otherwise says
// what went wrong in one line, as an error the SFU and the HTTP layer know.
func FuzzOriginReply(f *testing.F) {
	for _, r := range originReplies {
		f.Add(r.status, r.ctype, r.location, []byte(r.body))
	}
	endpoint, _ := url.Parse("http://origin.example:8080/whep/hq/court-1/bench")
	k := sfu.Key{Site: "hq", Room: "court-1", Name: "bench"}
	f.Fuzz(func(t *testing.T, status int, ctype, location string, body []byte) {
		answer, loc, err := ReadAnswer("http://origin.example:8080", k, endpoint, status, ctype, location, body)
		if err == nil {
			if status != 201 || answer != string(body) || loc == nil || loc.Host != endpoint.Host || sfu.SendingSections(answer) == 0 {
				t.Fatalf("accepted %d %q %q: %q", status, ctype, location, body)
			}
			return
		}
		if !errors.Is(err, sfu.ErrUpstream) && !errors.Is(err, sfu.ErrNoStream) && !errors.Is(err, sfu.ErrNotReady) {
			t.Fatalf("error of no known kind: %v", err)
		}
		if strings.ContainsAny(err.Error(), "\r\n\x00") {
			t.Fatalf("the error is not one line: %q", err)
		}
	})
}

// TestOriginReplies checks the table's verdicts and that the committed seeds are the table's
// (go test ./media/whip -run TestOriginReplies -update-corpus rewrites them).
func TestOriginReplies(t *testing.T) {
	endpoint, _ := url.Parse("http://origin.example:8080/whep/hq/court-1/bench")
	k := sfu.Key{Site: "hq", Room: "court-1", Name: "bench"}
	c := fuzzseed.Corpus{}
	for _, r := range originReplies {
		_, _, err := ReadAnswer("http://origin.example:8080", k, endpoint, r.status, r.ctype, r.location, []byte(r.body))
		if (err == nil) != r.ok {
			t.Errorf("%s: %v", r.name, err)
		}
		c.Add("FuzzOriginReply", r.name, r.status, r.ctype, r.location, []byte(r.body))
	}
	fuzzseed.Check(t, c)
}
