package hub

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/bailiff/bailiff/internal/hub/auth"
	"github.com/bailiff/bailiff/internal/store"
	"github.com/bailiff/bailiff/internal/wire"
	"github.com/bailiff/bailiff/media/whip"
)

// agentTokenPrefix starts an agent's media token: "agent.{site}.{room}.{secret}", the secret
// being the agent's MQTT password (IDs hold no dots, so the split is unambiguous).
const agentTokenPrefix = "agent."

// isAgentToken tells an agent's media token from an API session's.
func isAgentToken(token string) bool { return strings.HasPrefix(token, agentTokenPrefix) }

// authorizeAgentMedia decides a WHIP publish or WHEP view by a room's agent: it may publish
// only to its own room, and view the streams of its own site (a room's speakers play the
// remote parties of a hearing).
func (h *Hub) authorizeAgentMedia(ctx context.Context, token, site, room string, publish bool) error {
	parts := strings.SplitN(strings.TrimPrefix(token, agentTokenPrefix), ".", 3)
	if len(parts) != 3 || wire.CheckID("site", parts[0]) != nil || wire.CheckID("room", parts[1]) != nil || parts[2] == "" {
		return fmt.Errorf("an agent token is agent.SITE.ROOM.SECRET: %w", whip.ErrUnauthorized)
	}
	asite, aroom, secret := parts[0], parts[1], parts[2]
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	hash, err := h.store.AgentHash(ctx, asite, aroom)
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("no agent credentials for %s/%s: %w", asite, aroom, whip.ErrUnauthorized)
	}
	if err != nil {
		return fmt.Errorf("could not check the agent's credentials: %w", err)
	}
	if !auth.CheckSecret(hash, secret) {
		return fmt.Errorf("wrong secret for the agent of %s/%s: %w", asite, aroom, whip.ErrUnauthorized)
	}
	if publish && (asite != site || aroom != room) {
		return fmt.Errorf("the agent of %s/%s may publish only to its own room, not %s/%s", asite, aroom, site, room)
	}
	if !publish && asite != site {
		return fmt.Errorf("the agent of %s/%s may view only streams of site %s", asite, aroom, asite)
	}
	return nil
}

// agentMediaAuth routes an agent's token to authorizeAgentMedia; handled is false for other
// tokens.
func (h *Hub) agentMediaAuth(r *http.Request, token, site, room string, publish bool) (handled bool, err error) {
	if !isAgentToken(token) {
		return false, nil
	}
	return true, h.authorizeAgentMedia(r.Context(), token, site, room, publish)
}
