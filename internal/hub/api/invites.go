package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/bailiff/bailiff/internal/hub/invite"
	"github.com/bailiff/bailiff/internal/wire"
)

// Invites is the invite service the API drives. Its errors wrap ErrNotFound or ErrBadRequest
// where those apply.
type Invites interface {
	Create(ctx context.Context, by string, req InviteRequest) (any, error)
	List(ctx context.Context, site, room string) (any, error)
	Revoke(ctx context.Context, by, id string) (any, error)
	// Self is what a visitor's page may know of its own invite, given the invite token: its
	// room, hearing, stream name and the room's live streams. An error wrapping
	// ErrUnauthorized refuses the token (forged, expired, revoked, unknown).
	Self(ctx context.Context, token string) (any, error)
}

// ErrUnauthorized is wrapped by the invite service when it refuses an invite token.
var ErrUnauthorized = errors.New("unauthorized")

// InviteRequest is the body of POST /api/v1/invites, checked.
type InviteRequest struct {
	Site, Room, Hearing, Name string
	ExpiresIn                 time.Duration
}

// Invite lifetimes.
const (
	DefaultInviteLifetime = 4 * time.Hour
)

type inviteBody struct {
	Site      string          `json:"site"`
	Room      string          `json:"room"`
	Hearing   string          `json:"hearing"`
	Name      string          `json:"name"`
	ExpiresIn json.RawMessage `json:"expires_in"`
}

// ParseInviteRequest decodes and checks the body of POST /api/v1/invites: site and room IDs,
// a hearing and a visitor name (one line, 1-200 characters each), and expires_in as a
// duration string ("2h", "90m") or a number of seconds, from 1 minute to 30 days (default
// 4h).
func ParseInviteRequest(body []byte) (InviteRequest, error) {
	var b inviteBody
	if err := decodeJSON(body, &b); err != nil {
		return InviteRequest{}, err
	}
	req := InviteRequest{Site: b.Site, Room: b.Room, Hearing: b.Hearing, Name: b.Name, ExpiresIn: DefaultInviteLifetime}
	if err := wire.CheckID("site", b.Site); err != nil {
		return req, err
	}
	if err := wire.CheckID("room", b.Room); err != nil {
		return req, err
	}
	if err := invite.CheckText(`"hearing"`, b.Hearing, invite.MaxHearingLen); err != nil {
		return req, err
	}
	if err := invite.CheckText(`"name"`, b.Name, invite.MaxNameLen); err != nil {
		return req, err
	}
	if raw := strings.TrimSpace(string(b.ExpiresIn)); raw != "" && raw != "null" {
		d, err := parseLifetime(b.ExpiresIn)
		if err != nil {
			return req, err
		}
		req.ExpiresIn = d
	}
	if req.ExpiresIn < invite.MinLifetime || req.ExpiresIn > invite.MaxLifetime {
		return req, fmt.Errorf(`"expires_in" must be from %s to %s, got %s`, invite.MinLifetime, invite.MaxLifetime, req.ExpiresIn)
	}
	return req, nil
}

// parseLifetime reads a duration string or a number of seconds.
func parseLifetime(raw json.RawMessage) (time.Duration, error) {
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		d, err := time.ParseDuration(s)
		if err != nil {
			return 0, fmt.Errorf(`"expires_in" %q: want a duration such as "2h" or a number of seconds`, s)
		}
		return d, nil
	}
	var secs float64
	if err := json.Unmarshal(raw, &secs); err != nil {
		return 0, errors.New(`"expires_in": want a duration such as "2h" or a number of seconds`)
	}
	if secs < 0 || secs > invite.MaxLifetime.Seconds()+1 {
		return 0, fmt.Errorf(`"expires_in" must be from %s to %s, got %g seconds`, invite.MinLifetime, invite.MaxLifetime, secs)
	}
	return time.Duration(secs * float64(time.Second)), nil
}

func (s *Server) createInvite(w http.ResponseWriter, r *http.Request) {
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(ct, "application/json") {
		writeError(w, http.StatusUnsupportedMediaType, "bad_request", "the body must be application/json, not "+ct)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBody))
	if err != nil {
		writeError(w, http.StatusRequestEntityTooLarge, "bad_request", fmt.Sprintf("the body is larger than %d bytes", MaxBody))
		return
	}
	req, err := ParseInviteRequest(body)
	if err != nil {
		writeError(w, http.StatusBadRequest, "bad_request", err.Error())
		return
	}
	if _, ok := s.Registry.Room(req.Site, req.Room); !ok {
		writeError(w, http.StatusNotFound, "not_found", fmt.Sprintf("no room %s/%s", req.Site, req.Room))
		return
	}
	v, err := s.Invites.Create(r.Context(), callerOf(r).User, req)
	if err != nil {
		s.serviceError(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, v)
}

func (s *Server) listInvites(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	site, room := q.Get("site"), q.Get("room")
	for _, f := range [][2]string{{"site", site}, {"room", room}} {
		if f[1] == "" {
			continue
		}
		if err := wire.CheckID(f[0], f[1]); err != nil {
			writeError(w, http.StatusBadRequest, "bad_request", err.Error())
			return
		}
	}
	v, err := s.Invites.List(r.Context(), site, room)
	if err != nil {
		s.serviceError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

func (s *Server) revokeInvite(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if !invite.ValidID(id) {
		writeError(w, http.StatusBadRequest, "bad_request", fmt.Sprintf("invalid invite ID %q: want 16 hex digits", id))
		return
	}
	v, err := s.Invites.Revoke(r.Context(), callerOf(r).User, id)
	if err != nil {
		s.serviceError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

// inviteSelf is GET /api/v1/invite: the one route an invite token opens (and no other token).
func (s *Server) inviteSelf(w http.ResponseWriter, r *http.Request) {
	token := bearer(r)
	if !strings.HasPrefix(token, invite.Prefix) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="bailiff"`)
		writeError(w, http.StatusUnauthorized, "unauthorized", "an invite token is required (the part of the invite link after #)")
		return
	}
	v, err := s.Invites.Self(r.Context(), token)
	if errors.Is(err, ErrUnauthorized) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="bailiff", error="invalid_token"`)
		writeError(w, http.StatusUnauthorized, "unauthorized", err.Error())
		return
	}
	if err != nil {
		s.serviceError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}
