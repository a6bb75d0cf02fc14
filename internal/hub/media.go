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
	"github.com/bailiff/bailiff/media/sfu"
	"github.com/bailiff/bailiff/media/whip"
)

// startMedia starts the SFU and its WHIP/WHEP endpoints.
func (h *Hub) startMedia() error {
	s, err := sfu.New(sfu.Options{Network: h.opts.Media, Logger: h.log.With("component", "sfu")})
	if err != nil {
		return fmt.Errorf("hub: media: %w", err)
	}
	w, err := whip.New(whip.Options{SFU: s, Authorizer: whip.AuthorizerFunc(h.authorizeMedia), Logger: h.log.With("component", "whip")})
	if err != nil {
		s.Close()
		return fmt.Errorf("hub: media: %w", err)
	}
	h.sfu, h.whip = s, w
	return nil
}

// authorizeMedia decides a WHIP publish or a WHEP view from the request's bearer token (an API
// session): people who may view rooms may watch their streams; publishing is for technicians
// until agents and invited parties get publishing tokens (issue 4's remaining work).
func (h *Hub) authorizeMedia(r *http.Request, site, room, stream string, publish bool) error {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
		return whip.ErrUnauthorized
	}
	if handled, err := h.agentMediaAuth(r, strings.TrimSpace(token), site, room, publish); handled {
		return err
	}
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	se, err := h.store.Session(ctx, auth.HashSecret(strings.TrimSpace(token)), time.Now())
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("the token is unknown or has expired: %w", whip.ErrUnauthorized)
	}
	if err != nil {
		return fmt.Errorf("could not check the session: %w", err)
	}
	if publish && se.Role != auth.RoleTechnician {
		return fmt.Errorf("the %s role may not publish to %s/%s", se.Role, site, room)
	}
	if !publish && !auth.CanView(se.Role) {
		return fmt.Errorf("the %s role may not watch %s/%s", se.Role, site, room)
	}
	return nil
}

// StreamView is a live stream as GET /api/v1/streams lists it.
type StreamView struct {
	sfu.StreamInfo
	WHEP string `json:"whep"`
}

func (h *Hub) streams() any {
	list := h.sfu.Streams()
	out := make([]StreamView, 0, len(list))
	for _, st := range list {
		out = append(out, StreamView{StreamInfo: st, WHEP: whip.WHEPPath(sfu.Key{Site: st.Site, Room: st.Room, Name: st.Name})})
	}
	return out
}

// SFU is the hub's media forwarder.
func (h *Hub) SFU() *sfu.SFU { return h.sfu }
