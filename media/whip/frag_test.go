package whip

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/bailiff/bailiff/media/sfu"
)

const (
	ufrag = "Ab3+"
	pwd   = "abcdefghijklmnopqrstuv"
	cand  = "candidate:1 1 udp 2130706431 127.0.0.1 50000 typ host"
)

// fragTable is the golden table of trickle fragments: body ⇄ parsed
// fragment ⇄ error. The parser test and FuzzTrickle's seeds share it.
var fragTable = []struct {
	name string
	body string
	want fragment
	err  bool
}{
	{"trickle", "a=ice-ufrag:" + ufrag + "\r\na=ice-pwd:" + pwd + "\r\nm=audio 9 UDP/TLS/RTP/SAVPF 0\r\na=mid:0\r\na=" + cand + "\r\n",
		fragment{Ufrag: ufrag, Pwd: pwd, Candidates: []string{cand}}, false},
	{"end of candidates", "a=end-of-candidates\r\n", fragment{EndOfCandidates: true}, false},
	{"LF only", "a=ice-ufrag:" + ufrag + "\na=ice-pwd:" + pwd + "\nm=video 9 UDP/TLS/RTP/SAVPF 0\na=mid:1\na=" + cand + "\na=end-of-candidates\n",
		fragment{Ufrag: ufrag, Pwd: pwd, Candidates: []string{cand}, EndOfCandidates: true}, false},
	{"unknown attributes ignored", "a=ice-options:trickle\r\na=group:BUNDLE 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 0\r\na=mid:0\r\na=" + cand + "\r\n",
		fragment{Candidates: []string{cand}}, false},
	{"media-level credentials", "m=audio 9 UDP/TLS/RTP/SAVPF 0\r\na=mid:0\r\na=ice-ufrag:" + ufrag + "\r\na=ice-pwd:" + pwd + "\r\n",
		fragment{Ufrag: ufrag, Pwd: pwd}, false},
	{"empty", "", fragment{}, true},
	{"blank lines", "\r\n\r\n", fragment{}, true},
	{"not sdp", "hello world", fragment{}, true},
	{"uppercase type", "A=end-of-candidates\r\n", fragment{}, true},
	{"NUL", "a=end-of-candidates\x00\r\n", fragment{}, true},
	{"not UTF-8", "a=ice-ufrag:\xff\xfe\r\n", fragment{}, true},
	{"candidate before m=", "a=" + cand + "\r\n", fragment{}, true},
	{"bad candidate", "m=audio 9 UDP/TLS/RTP/SAVPF 0\r\na=candidate:1 1 udp x 127.0.0.1 1 typ host\r\n", fragment{}, true},
	{"hostname candidate", "m=audio 9 UDP/TLS/RTP/SAVPF 0\r\na=candidate:1 1 udp 1 example.com 1 typ host\r\n", fragment{}, true},
	{"short ufrag", "a=ice-ufrag:abc\r\na=ice-pwd:" + pwd + "\r\n", fragment{}, true},
	{"short pwd", "a=ice-ufrag:" + ufrag + "\r\na=ice-pwd:abc\r\n", fragment{}, true},
	{"bad ice-char", "a=ice-ufrag:ab c!\r\n", fragment{}, true},
	{"two ufrags", "a=ice-ufrag:" + ufrag + "\r\na=ice-ufrag:Zzzz\r\n", fragment{}, true},
	{"too many candidates", "m=audio 9 UDP/TLS/RTP/SAVPF 0\r\n" + strings.Repeat("a="+cand+"\r\n", maxFragmentCandidates+1), fragment{}, true},
	{"long line", "a=x:" + strings.Repeat("y", maxLineLength) + "\r\n", fragment{}, true},
}

func TestParseFragment(t *testing.T) {
	for _, c := range fragTable {
		t.Run(c.name, func(t *testing.T) {
			got, err := parseFragment([]byte(c.body))
			if c.err {
				if err == nil || !errors.Is(err, errFragment) {
					t.Fatalf("error %v, want a bad fragment", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, c.want) {
				t.Fatalf("got %+v\nwant %+v", got, c.want)
			}
		})
	}
}

func TestRenderFragment(t *testing.T) {
	got := renderFragment(sfu.ICEParameters{Ufrag: ufrag, Pwd: pwd, Media: "video", Mid: "0", Candidates: []string{cand}})
	want := "a=ice-ufrag:" + ufrag + "\r\na=ice-pwd:" + pwd + "\r\nm=video 9 UDP/TLS/RTP/SAVPF 0\r\na=mid:0\r\na=" + cand + "\r\na=end-of-candidates\r\n"
	if got != want {
		t.Fatalf("got\n%q\nwant\n%q", got, want)
	}
	f, err := parseFragment([]byte(got))
	if err != nil || f.Ufrag != ufrag || len(f.Candidates) != 1 || !f.EndOfCandidates {
		t.Fatalf("round trip: %+v %v", f, err)
	}
}

func TestETagMatches(t *testing.T) {
	for _, c := range []struct {
		ifMatch string
		ok      bool
	}{
		{`"abc"`, true}, {`*`, true}, {`"x", "abc"`, true}, {`W/"abc"`, false}, {`"abd"`, false}, {`abc`, false},
	} {
		if got := etagMatches(c.ifMatch, `"abc"`); got != c.ok {
			t.Errorf("If-Match %s: %v", c.ifMatch, got)
		}
	}
}

func TestLinkHeaders(t *testing.T) {
	if _, err := New(Options{SFU: &sfu.SFU{}, Authorizer: testAuth, ICEServers: nil}); err != nil {
		t.Fatal(err)
	}
	got := linkHeaders(nil)
	if len(got) != 0 {
		t.Fatal(got)
	}
	for _, bad := range []string{"http://x", "stun:", "stun:a>b", "turn:a b"} {
		if validICEURL(bad) {
			t.Errorf("%q accepted", bad)
		}
	}
}
