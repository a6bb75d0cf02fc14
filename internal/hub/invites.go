package hub

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/bailiff/bailiff/internal/hub/api"
	"github.com/bailiff/bailiff/internal/hub/hearings"
	"github.com/bailiff/bailiff/internal/hub/invite"
	"github.com/bailiff/bailiff/internal/store"
	"github.com/bailiff/bailiff/media/record"
	"github.com/bailiff/bailiff/media/whip"
)

// inviteKeyFile is the hub's ed25519 key that signs invite tokens, in the data directory;
// inviteKeyringFile keeps the public half of every invite key it has used (rotation: keys.go).
const (
	inviteKeyFile     = "keys/invite.key"
	inviteKeyringFile = "keys/invite-keyring.pem"
)

// JoinPath is where an invite link points; the token follows in the fragment, which browsers
// never send to a server (so it stays out of access logs).
const JoinPath = "/join"

// invites is the invite service behind /api/v1/invites.
type invites struct {
	h    *Hub
	key  ed25519.PrivateKey
	ring []ed25519.PublicKey // the current key's public half first, then the earlier ones
}

func newInvites(h *Hub) (*invites, error) {
	key, err := InviteKey(h.opts.DataDir)
	if err != nil {
		return nil, fmt.Errorf("hub: invite key: %w", err)
	}
	kr, err := record.LoadKeyring(filepath.Join(h.opts.DataDir, inviteKeyringFile))
	if err != nil {
		return nil, fmt.Errorf("hub: invite keyring: %w", err)
	}
	pub := key.Public().(ed25519.PublicKey)
	ring := []ed25519.PublicKey{pub}
	for _, k := range kr {
		if !k.Equal(pub) {
			ring = append(ring, k)
		}
	}
	return &invites{h: h, key: key, ring: ring}, nil
}

// InviteKey loads the hub's invite key from the data directory, making one on first start, and
// makes sure its public half is in the invite keyring (so invites it signs stay valid after
// the key is rotated, until they expire).
func InviteKey(dataDir string) (ed25519.PrivateKey, error) {
	return keyWithRing(dataDir, inviteKeyFile, inviteKeyringFile)
}

// InviteView is an invite as the API shows it. Token and Link are only in the answer to its
// creation: the hub keeps no copy of the token.
type InviteView struct {
	ID      string     `json:"id"`
	Site    string     `json:"site"`
	Room    string     `json:"room"`
	Hearing string     `json:"hearing"`
	Name    string     `json:"name"`
	Stream  string     `json:"stream"`
	By      string     `json:"created_by"`
	Created time.Time  `json:"created"`
	Expires time.Time  `json:"expires"`
	Revoked *time.Time `json:"revoked,omitempty"`
	State   string     `json:"state"` // valid, expired, revoked or ended (its hearing has)
	Token   string     `json:"token,omitempty"`
	Link    string     `json:"link,omitempty"`
}

func viewInvite(in store.Invite, now time.Time) InviteView {
	v := InviteView{ID: in.ID, Site: in.Site, Room: in.Room, Hearing: in.Hearing, Name: in.Name,
		Stream: invite.Stream(in.ID), By: in.CreatedBy, Created: in.Created, Expires: in.Expires, State: "valid"}
	switch {
	case !in.Revoked.IsZero():
		r := in.Revoked
		v.Revoked, v.State = &r, "revoked"
	case !now.Before(in.Expires):
		v.State = "expired"
	}
	return v
}

// Create issues an invite.
func (s *invites) Create(ctx context.Context, by string, req api.InviteRequest) (any, error) {
	if ended, err := s.ended(ctx, req.Hearing); err != nil {
		return nil, err
	} else if ended {
		return nil, fmt.Errorf("%w: hearing %s has ended: no one can be invited to it", api.ErrConflict, req.Hearing)
	}
	now := time.Now().UTC().Truncate(time.Second)
	c := invite.Claims{ID: invite.NewID(), Site: req.Site, Room: req.Room, Hearing: req.Hearing, Name: req.Name,
		Expires: now.Add(req.ExpiresIn)}
	token, err := invite.Sign(s.key, c)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", api.ErrBadRequest, err)
	}
	in := store.Invite{ID: c.ID, Site: c.Site, Room: c.Room, Hearing: c.Hearing, Name: c.Name, CreatedBy: by,
		Created: now, Expires: c.Expires}
	if err := s.h.store.PutInvite(ctx, in); err != nil {
		return nil, err
	}
	s.h.log.Info("invite created", "invite", c.ID, "site", c.Site, "room", c.Room, "by", by, "expires", c.Expires)
	v := viewInvite(in, now)
	v.Token, v.Link = token, JoinPath+"#"+token
	return v, nil
}

// List lists the invites of a site and room ("" for all).
func (s *invites) List(ctx context.Context, site, room string) (any, error) {
	list, err := s.h.store.Invites(ctx, site, room)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	out := make([]InviteView, 0, len(list))
	ended := map[string]bool{}
	for _, in := range list {
		v := viewInvite(in, now)
		e, seen := ended[in.Hearing]
		if !seen {
			if e, err = s.ended(ctx, in.Hearing); err != nil {
				return nil, err
			}
			ended[in.Hearing] = e
		}
		if e && v.State == "valid" {
			v.State = "ended"
		}
		out = append(out, v)
	}
	return out, nil
}

// ended reports whether hearing id has ended (false for none, or one the store does not
// hold: an invite may name a hearing kept elsewhere).
func (s *invites) ended(ctx context.Context, id string) (bool, error) {
	if id == "" {
		return false, nil
	}
	hr, err := s.h.store.Hearing(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("the hearing of an invite: %w", err)
	}
	return hr.State == hearings.Ended, nil
}

// Revoke revokes an invite and closes its live WHIP/WHEP sessions.
func (s *invites) Revoke(ctx context.Context, by, id string) (any, error) {
	in, err := s.h.store.RevokeInvite(ctx, id, time.Now())
	if errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("no invite %s: %w", id, api.ErrNotFound)
	}
	if err != nil {
		return nil, err
	}
	n := s.h.whip.CloseOwner("invite:" + id)
	s.h.log.Info("invite revoked", "invite", id, "site", in.Site, "room", in.Room, "by", by, "sessions_closed", n)
	return viewInvite(in, time.Now()), nil
}

// checkInvite checks an invite token: signed by this hub, unexpired, known to the store and
// not revoked. Its refusals wrap whip.ErrUnauthorized.
func (h *Hub) checkInvite(ctx context.Context, token string) (invite.Claims, error) {
	c, err := invite.ParseKeyring(h.invites.ring, token, time.Now())
	if err != nil {
		return c, fmt.Errorf("%v: %w", err, whip.ErrUnauthorized)
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	in, err := h.store.Invite(ctx, c.ID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return c, fmt.Errorf("invite %s is unknown: %w", c.ID, whip.ErrUnauthorized)
	case err != nil:
		return c, fmt.Errorf("could not check invite %s: %w", c.ID, err)
	case !in.Revoked.IsZero():
		return c, fmt.Errorf("invite %s is revoked: %w", c.ID, whip.ErrUnauthorized)
	case in.Site != c.Site || in.Room != c.Room || in.Hearing != c.Hearing || in.Name != c.Name || in.Expires.Unix() != c.Expires.Unix():
		// Signed, but not as issued: only a leaked invite key makes such a token.
		h.log.Warn("invite token differs from the invite issued", "invite", c.ID)
		return c, fmt.Errorf("invite %s: the token does not match the invite issued: %w", c.ID, whip.ErrUnauthorized)
	}
	if ended, err := h.invites.ended(ctx, c.Hearing); err != nil {
		return c, fmt.Errorf("invite %s: %w", c.ID, err)
	} else if ended {
		return c, fmt.Errorf("invite %s: hearing %s has ended: %w", c.ID, c.Hearing, whip.ErrUnauthorized)
	}
	return c, nil
}

// hearingEnded closes the live WHIP/WHEP sessions of the hearing's invites: an invite is
// for one hearing, and its visitor leaves when it ends (checkInvite refuses it from then on).
func (s *invites) hearingEnded(ctx context.Context, hr store.Hearing) {
	list, err := s.h.store.Invites(ctx, hr.Site, hr.Room)
	if err != nil {
		s.h.log.Error("invites of an ended hearing", "hearing", hr.ID, "error", err)
		return
	}
	for _, in := range list {
		if in.Hearing != hr.ID {
			continue
		}
		if n := s.h.whip.CloseOwner("invite:" + in.ID); n > 0 {
			s.h.log.Info("hearing ended: visitor sessions closed", "hearing", hr.ID, "invite", in.ID, "sessions_closed", n)
		}
	}
}

// authorizeInviteMedia lets a visitor publish under its own stream name and watch, in its
// invite's room only, while the invite is valid.
func (h *Hub) authorizeInviteMedia(ctx context.Context, token, site, room, stream string, publish bool) error {
	c, err := h.checkInvite(ctx, token)
	if err != nil {
		return err
	}
	if publish && !c.MayPublish(site, room, stream) {
		return fmt.Errorf("invite %s may publish only %s in %s/%s", c.ID, invite.Stream(c.ID), c.Site, c.Room)
	}
	if !publish && !c.MayView(site, room) {
		return fmt.Errorf("invite %s may watch only %s/%s", c.ID, c.Site, c.Room)
	}
	return nil
}

// InviteSelf is what GET /api/v1/invite shows a visitor: its own invite and its room's live
// streams (other visitors' too: they are in the same hearing).
type InviteSelf struct {
	ID      string       `json:"id"`
	Site    string       `json:"site"`
	Room    string       `json:"room"`
	Hearing string       `json:"hearing"`
	Name    string       `json:"name"`
	Stream  string       `json:"stream"`
	Expires time.Time    `json:"expires"`
	Streams []StreamView `json:"streams"`
}

// Self answers GET /api/v1/invite for a valid invite token.
func (s *invites) Self(ctx context.Context, token string) (any, error) {
	c, err := s.h.checkInvite(ctx, token)
	if errors.Is(err, whip.ErrUnauthorized) {
		return nil, fmt.Errorf("%v: %w", err, api.ErrUnauthorized)
	}
	if err != nil {
		return nil, err
	}
	v := InviteSelf{ID: c.ID, Site: c.Site, Room: c.Room, Hearing: c.Hearing, Name: c.Name, Stream: invite.Stream(c.ID),
		Expires: c.Expires, Streams: []StreamView{}}
	for _, st := range s.h.streams().([]StreamView) {
		if st.Site == c.Site && st.Room == c.Room {
			v.Streams = append(v.Streams, st)
		}
	}
	return v, nil
}
