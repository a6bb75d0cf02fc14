package source

import (
	"context"
	"reflect"
	"testing"

	"github.com/pion/webrtc/v4"
)

func TestParseICELinks(t *testing.T) {
	got := parseICELinks([]string{
		`<stun:127.0.0.1:3478>; rel="ice-server"`,
		`<turn:127.0.0.1:3478?transport=udp>; rel="ice-server"; username="u"; credential="p\"w,x"; credential-type="password", <https://x/>; rel="next"`,
		`<turn:h>; rel=ice-server; username=a; credential=b, <turns:h2:5349>;rel="ice-server"`,
		`<http://not-ice>; rel="ice-server"`,
		`garbage`,
	})
	want := []webrtc.ICEServer{
		{URLs: []string{"stun:127.0.0.1:3478"}},
		{URLs: []string{"turn:127.0.0.1:3478?transport=udp"}, Username: "u", Credential: `p"w,x`},
		{URLs: []string{"turn:h"}, Username: "a", Credential: "b"},
		{URLs: []string{"turns:h2:5349"}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
}

// The ICE servers of the hub's answer are what the next attempt uses.
func TestICEServersFromAnswer(t *testing.T) {
	ice := []webrtc.ICEServer{{URLs: []string{"stun:127.0.0.1:3478"}}, {URLs: []string{"turn:127.0.0.1:3478?transport=udp"}, Username: "agent", Credential: "t0ken"}}
	h := startHub(t, "127.0.0.1:0", ice...)
	ep := h.endpoint(t, "x")
	ep.defaults()
	tr, _ := webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}, "audio", "t")
	s, err := dial(context.Background(), &ep, nil, NewPublisher(ep, tr).setup)
	if err != nil {
		t.Fatal(err)
	}
	defer s.close()
	if !reflect.DeepEqual(s.ice, ice) {
		t.Errorf("learned %+v, want %+v", s.ice, ice)
	}
}

func FuzzParseICELinks(f *testing.F) {
	f.Add(`<turn:127.0.0.1:3478?transport=udp>; rel="ice-server"; username="u"; credential="p\"w"; credential-type="password"`)
	f.Add(`<stun:a>;rel=ice-server,<stun:b>;rel="ice-server"`)
	f.Fuzz(func(t *testing.T, v string) {
		for _, s := range parseICELinks([]string{v}) {
			if len(s.URLs) != 1 || !iceURL(s.URLs[0]) {
				t.Fatalf("server %+v", s)
			}
		}
		if len(parseICELinks([]string{v, v, v, v, v, v, v, v, v, v, v, v, v, v, v, v, v})) > maxICEServers {
			t.Fatal("over the bound")
		}
	})
}
