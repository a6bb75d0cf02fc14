package whip

import (
	"reflect"
	"testing"

	"github.com/pion/webrtc/v4"
)

func TestParseLinksRoundTrip(t *testing.T) {
	servers := []webrtc.ICEServer{
		{URLs: []string{"stun:stun.example:3478"}},
		{URLs: []string{"turn:127.0.0.1:3478?transport=udp", "turn:127.0.0.1:3478?transport=tcp"},
			Username: "1800000000:invite-0123", Credential: `a"b\c=`},
	}
	got := ParseLinks(linkHeaders(servers))
	want := []webrtc.ICEServer{
		{URLs: []string{"stun:stun.example:3478"}},
		{URLs: []string{"turn:127.0.0.1:3478?transport=udp"}, Username: "1800000000:invite-0123", Credential: `a"b\c=`, CredentialType: webrtc.ICECredentialTypePassword},
		{URLs: []string{"turn:127.0.0.1:3478?transport=tcp"}, Username: "1800000000:invite-0123", Credential: `a"b\c=`, CredentialType: webrtc.ICECredentialTypePassword},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got  %+v\nwant %+v", got, want)
	}
}

func TestParseLinks(t *testing.T) {
	for _, tc := range []struct {
		in   []string
		want int
	}{
		{[]string{`<stun:a.example>; rel="ice-server", <turn:b.example>; rel=ice-server; username=u; credential=c`}, 2},
		{[]string{`<https://x.example/>; rel="next"`}, 0},
		{[]string{`<http://x.example>; rel="ice-server"`}, 0},
		{[]string{`<turn:b.example>; rel="ice-server"; username="u"; credential="c"; credential-type="oauth"`}, 0},
		{[]string{`garbage`, `<stun:a.example>; rel="ice-server"`}, 1},
		{[]string{`<stun:a.example>; rel="ice-server"; x="unterminated`}, 0},
	} {
		if got := ParseLinks(tc.in); len(got) != tc.want {
			t.Errorf("%q: %d servers %+v, want %d", tc.in, len(got), got, tc.want)
		}
	}
}

// FuzzParseLinks: any header value is parsed without a panic, into at most maxLinks servers
// whose URLs are all ICE URLs.
func FuzzParseLinks(f *testing.F) {
	f.Add(`<turn:127.0.0.1:3478?transport=udp>; rel="ice-server"; username="1:x"; credential="p\"w"; credential-type="password"`)
	f.Add(`<stun:a.example>; rel=ice-server, <stun:b.example>; rel="ice-server"`)
	f.Fuzz(func(t *testing.T, v string) {
		got := ParseLinks([]string{v, v})
		if len(got) > maxLinks {
			t.Fatalf("%d servers", len(got))
		}
		for _, s := range got {
			if len(s.URLs) != 1 || !validICEURL(s.URLs[0]) {
				t.Fatalf("bad server %+v", s)
			}
		}
	})
}
