package hub

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/bailiff/bailiff/internal/wire"
	"github.com/bailiff/bailiff/media/whip"
)

// agentTokenPrefix starts an agent's media token: agent.{site}.{room}.{secret}, where secret
// is the agent's MQTT password (IDs have no dots, and neither has a secret from
// auth.NewSecret).
const agentTokenPrefix = "agent."

// parseAgentToken splits an agent's media token; ok is false when token is not one.
func parseAgentToken(token string) (site, room, secret string, ok bool) {
	rest, found := strings.CutPrefix(token, agentTokenPrefix)
	if !found || len(token) > 512 {
		return "", "", "", false
	}
	parts := strings.Split(rest, ".")
	if len(parts) != 3 || !wire.ValidID(parts[0]) || !wire.ValidID(parts[1]) || parts[2] == "" {
		return "", "", "", false
	}
	return parts[0], parts[1], parts[2], true
}

// authorizeAgentMedia lets a room's agent publish (cameras, microphones) and view (the room's
// speakers play remote parties) the streams of its own room, and nothing else. Its bearer
// token is agent.{site}.{room}.{secret}; the secret is checked against the store's agent hash
// exactly as the MQTT broker checks the agent's login.
func (h *Hub) authorizeAgentMedia(r *http.Request, site, room, stream string, publish bool) error {
	tsite, troom, secret, ok := parseAgentToken(bearerToken(r))
	if !ok {
		return fmt.Errorf("not an agent token (want agent.{site}.{room}.{secret}): %w", whip.ErrUnauthorized)
	}
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := (storeAuth{h.store}).Authenticate(ctx, wire.AgentUser(tsite, troom), secret); err != nil {
		h.log.Warn("media: agent token refused", "site", tsite, "room", troom, "error", err)
		return fmt.Errorf("agent %s/%s: %w", tsite, troom, whip.ErrUnauthorized)
	}
	if tsite != site || troom != room {
		return fmt.Errorf("the agent of %s/%s may not use the media of %s/%s", tsite, troom, site, room)
	}
	return nil
}
