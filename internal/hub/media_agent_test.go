package hub

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/bailiff/bailiff/internal/store"
	"github.com/bailiff/bailiff/media/whip"
)

// An agent's media token: its own room to publish, its own site to view; a wrong or unknown
// secret is unauthorized.
func TestAuthorizeAgentMedia(t *testing.T) {
	st, err := store.Open(filepath.Join(t.TempDir(), "hub.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	cred, err := AddAgent(ctx, st, "tcp://127.0.0.1:1883", "court", "r1")
	if err != nil {
		t.Fatal(err)
	}
	h := &Hub{store: st}
	tok := "agent.court.r1." + cred.Password
	for _, c := range []struct {
		token, site, room string
		publish           bool
		want              string // "" ok, "401", "403"
	}{
		{tok, "court", "r1", true, ""},
		{tok, "court", "r1", false, ""},
		{tok, "court", "r2", false, ""},
		{tok, "court", "r2", true, "403"},
		{tok, "other", "r1", false, "403"},
		{"agent.court.r1.wrong", "court", "r1", true, "401"},
		{"agent.court.r9." + cred.Password, "court", "r9", true, "401"},
		{"agent.court.r1", "court", "r1", true, "401"},
		{"agent.Court.r1." + cred.Password, "court", "r1", true, "401"},
		{"agent.court.r1.", "court", "r1", true, "401"},
	} {
		err := h.authorizeAgentMedia(ctx, c.token, c.site, c.room, c.publish)
		got := ""
		switch {
		case errors.Is(err, whip.ErrUnauthorized):
			got = "401"
		case err != nil:
			got = "403"
		}
		if got != c.want {
			t.Errorf("%s %s/%s publish=%v: %v, want %q", c.token[:min(len(c.token), 20)], c.site, c.room, c.publish, err, c.want)
		}
	}
	if isAgentToken("0123abcd") || !isAgentToken(tok) {
		t.Error("isAgentToken")
	}
}
