package api

import (
	"strings"
	"testing"
	"time"

	"github.com/bailiff/bailiff/internal/hub/invite"
	"github.com/bailiff/bailiff/internal/wire"
)

// FuzzParseInviteRequest: any body is either refused with a one-line reason, or accepted as a
// request whose every field is within bounds.
func FuzzParseInviteRequest(f *testing.F) {
	f.Add([]byte(`{"site":"court","room":"r1","hearing":"2026-cv-17","name":"A. Witness","expires_in":"2h"}`))
	f.Add([]byte(`{"site":"court","room":"r1","hearing":"h","name":"n","expires_in":3600}`))
	f.Add([]byte(`{"site":"court","room":"r1","hearing":"h","name":"n","expires_in":null}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		req, err := ParseInviteRequest(body)
		if err != nil {
			if msg := err.Error(); msg == "" || strings.Contains(msg, "\n") {
				t.Fatalf("error is not one line: %q", msg)
			}
			return
		}
		if !wire.ValidID(req.Site) || !wire.ValidID(req.Room) {
			t.Fatalf("bad IDs accepted: %+v", req)
		}
		if invite.CheckText("hearing", req.Hearing, invite.MaxHearingLen) != nil || invite.CheckText("name", req.Name, invite.MaxNameLen) != nil {
			t.Fatalf("bad text accepted: %+v", req)
		}
		if req.ExpiresIn < invite.MinLifetime || req.ExpiresIn > invite.MaxLifetime {
			t.Fatalf("lifetime %s accepted", req.ExpiresIn)
		}
		// What the API accepts can always be signed.
		c := invite.Claims{ID: invite.NewID(), Site: req.Site, Room: req.Room, Hearing: req.Hearing, Name: req.Name, Expires: time.Now().Add(req.ExpiresIn)}
		if err := c.Check(); err != nil {
			t.Fatalf("accepted request makes bad claims: %v", err)
		}
	})
}
