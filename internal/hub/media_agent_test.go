package hub

import (
	"strings"
	"testing"

	"github.com/bailiff/bailiff/internal/wire"
)

func TestParseAgentToken(t *testing.T) {
	for _, tc := range []struct {
		in                 string
		site, room, secret string
		ok                 bool
	}{
		{"agent.court.r1.abc-_DEF", "court", "r1", "abc-_DEF", true},
		{"agent.court.r1.", "", "", "", false},
		{"agent.court.r1", "", "", "", false},
		{"agent.court.r1.a.b", "", "", "", false},
		{"agent.Court.r1.x", "", "", "", false},
		{"invite.court.r1.x", "", "", "", false},
		{"agent..r1.x", "", "", "", false},
	} {
		site, room, secret, ok := parseAgentToken(tc.in)
		if ok != tc.ok || site != tc.site || room != tc.room || secret != tc.secret {
			t.Errorf("%q: %q %q %q %v", tc.in, site, room, secret, ok)
		}
	}
}

// FuzzParseAgentToken: an accepted token has valid IDs and a non-empty secret without dots,
// and is exactly what it was made from.
func FuzzParseAgentToken(f *testing.F) {
	f.Add("agent.court.r1.Zm9vYmFyYmF6cXV4Zm9vYmFyYmF6cXV4Zm9vYmFyYmF6")
	f.Add("agent.a.b.c.d")
	f.Fuzz(func(t *testing.T, s string) {
		site, room, secret, ok := parseAgentToken(s)
		if !ok {
			return
		}
		if !wire.ValidID(site) || !wire.ValidID(room) || secret == "" || strings.Contains(secret, ".") {
			t.Fatalf("accepted %q: %q %q %q", s, site, room, secret)
		}
		if agentTokenPrefix+site+"."+room+"."+secret != s {
			t.Fatalf("not a round trip: %q", s)
		}
	})
}
