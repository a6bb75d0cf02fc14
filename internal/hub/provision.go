package hub

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sort"
	"sync"
	"time"

	"github.com/bailiff/bailiff/internal/config"
	"github.com/bailiff/bailiff/internal/hub/api"
	"github.com/bailiff/bailiff/internal/hub/auth"
	"github.com/bailiff/bailiff/internal/pki"
	"github.com/bailiff/bailiff/internal/store"
	"github.com/bailiff/bailiff/internal/wire"
)

// provisioning keeps every room's config as numbered revisions in the store, publishes the
// newest one retained on the room's config topic, and issues one-time enrollment tokens.
//
// The rooms directory's files are the first revision of their rooms. At every start a file
// whose text differs from the revision last taken from it becomes a new revision (someone
// edited it); otherwise the newest revision in the store wins, whether it came from a file or
// from the API.
type provisioning struct {
	h *Hub

	mu    sync.Mutex              // one change at a time: revision, registry, publish
	rooms map[string]*config.Room // "site/room" → the newest revision
}

// loadRooms stores the files' rooms as revisions where needed and returns the newest revision
// of every room the store knows.
func (p *provisioning) loadRooms(ctx context.Context, files []*config.Room) ([]*config.Room, error) {
	p.rooms = map[string]*config.Room{}
	st := p.h.store
	for _, r := range files {
		text, err := roomText(r)
		if err != nil {
			return nil, fmt.Errorf("hub: room %s/%s: %w", r.Site, r.Room, err)
		}
		last, err := st.LatestRoomConfigFrom(ctx, r.Site, r.Room, store.SourceFile)
		if err == nil && last.YAML == text {
			continue
		}
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return nil, fmt.Errorf("hub: %w", err)
		}
		rev, err := st.AddRoomConfig(ctx, store.RoomConfig{Site: r.Site, Room: r.Room, YAML: text, Source: store.SourceFile})
		if err != nil {
			return nil, fmt.Errorf("hub: %w", err)
		}
		p.h.log.Info("room config file stored as a new revision", "site", r.Site, "room", r.Room, "revision", rev, "file", r.File)
	}
	latest, err := st.LatestRoomConfigs(ctx)
	if err != nil {
		return nil, fmt.Errorf("hub: %w", err)
	}
	var out []*config.Room
	for _, c := range latest {
		r, err := p.newestGood(ctx, c)
		if err != nil {
			return nil, err
		}
		if r == nil {
			p.h.log.Error("no stored config of the room validates; room left out (create it again with POST /api/v1/rooms)",
				"site", c.Site, "room", c.Room)
			continue
		}
		p.rooms[c.Site+"/"+c.Room] = r
		out = append(out, r)
	}
	return out, nil
}

// newestGood returns the newest revision of c's room, from c down, that this hub accepts
// (nil when none does). A revision it no longer accepts (a driver removed, say) stays in the
// history; the room runs the newest good one until a good revision is pushed.
func (p *provisioning) newestGood(ctx context.Context, c store.RoomConfig) (*config.Room, error) {
	for rev := c.Revision; rev >= 1; rev-- {
		if rev != c.Revision {
			var err error
			if c, err = p.h.store.RoomConfigRevision(ctx, c.Site, c.Room, rev); errors.Is(err, store.ErrNotFound) {
				continue
			} else if err != nil {
				return nil, fmt.Errorf("hub: %w", err)
			}
		}
		r, err := config.ParseRoom(fmt.Sprintf("%s/%s revision %d", c.Site, c.Room, c.Revision), []byte(c.YAML))
		if err == nil {
			r.Revision = c.Revision
			return r, nil
		}
		p.h.log.Error("stored room config does not validate; trying the one before", "site", c.Site, "room", c.Room,
			"revision", c.Revision, "error", err)
	}
	return nil, nil
}

// roomText is the YAML of a room's file, or (for a room made in code) its YAML rendering.
func roomText(r *config.Room) (string, error) {
	if r.File != "" {
		if b, err := os.ReadFile(r.File); err == nil {
			if _, perr := config.ParseRoom(r.File, b); perr == nil {
				return string(b), nil
			}
		}
	}
	b, err := config.RoomYAML(r)
	return string(b), err
}

// publishAll publishes every room's newest revision, retained.
func (p *provisioning) publishAll() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, r := range p.rooms {
		if err := p.publish(r); err != nil {
			p.h.log.Warn("publish room config", "site", r.Site, "room", r.Room, "error", err)
		}
	}
}

func (p *provisioning) publish(r *config.Room) error {
	body, err := json.Marshal(r)
	if err != nil {
		return err
	}
	msg, err := wire.NewRoomConfig(r.Revision, body)
	if err != nil {
		return err
	}
	return p.h.bus.Publish(wire.RoomTopic(r.Site, r.Room, wire.KindConfig), 1, true, wire.Encode(msg))
}

// follow takes a room config revision another hub of the share group stored (its
// "room-config" feed event): this hub's scenes, hearings, program and checks run it from then
// on, as they would had the push come here.
func (p *provisioning) follow(ctx context.Context, data []byte) {
	var ev struct {
		Site, Room string
		Revision   int64
	}
	if err := json.Unmarshal(data, &ev); err != nil || ev.Revision < 1 {
		p.h.log.Warn("room-config event from another hub not understood", "error", err)
		return
	}
	c, err := p.h.store.RoomConfigRevision(ctx, ev.Site, ev.Room, ev.Revision)
	if err != nil {
		p.h.log.Error("room config another hub stored", "site", ev.Site, "room", ev.Room, "revision", ev.Revision, "error", err)
		return
	}
	r, err := config.ParseRoom(fmt.Sprintf("%s/%s revision %d", c.Site, c.Room, c.Revision), []byte(c.YAML))
	if err != nil {
		p.h.log.Error("room config another hub stored does not validate here", "site", c.Site, "room", c.Room, "revision", c.Revision, "error", err)
		return
	}
	r.Revision = c.Revision
	key := r.Site + "/" + r.Room
	p.mu.Lock()
	if cur := p.rooms[key]; cur != nil && cur.Revision >= r.Revision {
		p.mu.Unlock()
		return
	}
	p.rooms[key] = r
	p.h.reg.SetRooms(p.roomList())
	p.mu.Unlock()
	if p.h.programs != nil {
		if err := p.h.programs.reconfigure(ctx, r); err != nil {
			p.h.log.Error("program of a config another hub pushed", "site", r.Site, "room", r.Room, "error", err)
		}
	}
	p.h.log.Info("room config taken from another hub", "site", r.Site, "room", r.Room, "revision", r.Revision)
}

// room is the newest revision of a room's config, as the scenes and hearings run it.
func (p *provisioning) room(site, room string) (*config.Room, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	r, ok := p.rooms[site+"/"+room]
	return r, ok
}

func (p *provisioning) roomList() []*config.Room {
	out := make([]*config.Room, 0, len(p.rooms))
	for _, r := range p.rooms {
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Site+"/"+out[i].Room < out[j].Site+"/"+out[j].Room })
	return out
}

// ConfigView is a revision of a room's config as the API shows it.
type ConfigView struct {
	Site     string    `json:"site"`
	Room     string    `json:"room"`
	Revision int64     `json:"revision"`
	YAML     string    `json:"yaml,omitempty"`
	Source   string    `json:"source"`
	Author   string    `json:"author,omitempty"`
	Created  time.Time `json:"created"`
	// Current is the revision the hub publishes now (the newest).
	Current int64 `json:"current"`
	// Agent is what the room's agent last reported of its config: the revision it runs, and
	// the newest one it refused with the reason. Left out when the agent never said.
	Agent *wire.ConfigStatus `json:"agent,omitempty"`
	// Unchanged is set when a push was the same text as the newest revision: nothing stored.
	Unchanged bool `json:"unchanged,omitempty"`
}

func (p *provisioning) view(c store.RoomConfig) ConfigView {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.viewLocked(c)
}

// RoomConfig returns one revision of a room's config (rev 0: the newest).
func (p *provisioning) RoomConfig(ctx context.Context, site, room string, rev int64) (any, error) {
	c, err := p.h.store.RoomConfigRevision(ctx, site, room, rev)
	if errors.Is(err, store.ErrNotFound) {
		if rev == 0 {
			return nil, fmt.Errorf("%w: no config for room %s/%s", api.ErrNotFound, site, room)
		}
		return nil, fmt.Errorf("%w: room %s/%s has no revision %d", api.ErrNotFound, site, room, rev)
	}
	if err != nil {
		return nil, err
	}
	return p.view(c), nil
}

// ConfigRevisions lists a room's revisions, newest first.
func (p *provisioning) ConfigRevisions(ctx context.Context, site, room string) (any, error) {
	cs, err := p.h.store.RoomConfigRevisions(ctx, site, room)
	if err != nil {
		return nil, err
	}
	if len(cs) == 0 {
		return nil, fmt.Errorf("%w: no config for room %s/%s", api.ErrNotFound, site, room)
	}
	out := make([]ConfigView, len(cs))
	for i, c := range cs {
		out[i] = p.view(c)
	}
	return out, nil
}

// PushConfig validates text as the config of an existing room, stores it as the room's next
// revision and publishes it. Invalid text is a config.Errors and changes nothing.
func (p *provisioning) PushConfig(ctx context.Context, site, room string, text []byte, by string) (any, error) {
	return p.put(ctx, site, room, text, by, false)
}

// CreateRoom validates text as the config of a new room, stores it as revision 1 and
// publishes it.
func (p *provisioning) CreateRoom(ctx context.Context, text []byte, by string) (any, error) {
	return p.put(ctx, "", "", text, by, true)
}

func (p *provisioning) put(ctx context.Context, site, room string, text []byte, by string, create bool) (any, error) {
	name := "config.yaml"
	if !create {
		name = site + "/" + room + ".yaml"
	}
	r, err := config.ParseRoom(name, text)
	if err != nil {
		return nil, err
	}
	if !create && (r.Site != site || r.Room != room) {
		return nil, config.Errors{{File: name, Key: "site", Msg: fmt.Sprintf(
			"the config is for room %s/%s, not %s/%s: create a room with POST /api/v1/rooms", r.Site, r.Room, site, room)}}
	}
	key := r.Site + "/" + r.Room
	p.mu.Lock()
	defer p.mu.Unlock()
	cur := p.rooms[key]
	switch {
	case create && cur != nil:
		return nil, fmt.Errorf("%w: room %s already exists (revision %d): PUT its config instead", api.ErrConflict, key, cur.Revision)
	case !create && cur == nil:
		return nil, fmt.Errorf("%w: no room %s: create it with POST /api/v1/rooms", api.ErrNotFound, key)
	}
	if cur != nil {
		last, err := p.h.store.RoomConfigRevision(ctx, r.Site, r.Room, cur.Revision)
		if err == nil && bytes.Equal([]byte(last.YAML), text) {
			v := p.viewLocked(last)
			v.Unchanged = true
			return v, nil
		}
	}
	rev, err := p.h.store.AddRoomConfig(ctx, store.RoomConfig{Site: r.Site, Room: r.Room, YAML: string(text), Source: store.SourceAPI, Author: by})
	if err != nil {
		return nil, err
	}
	r.Revision = rev
	p.rooms[key] = r
	p.h.reg.SetRooms(p.roomList())
	if p.h.programs != nil {
		if err := p.h.programs.reconfigure(ctx, r); err != nil {
			p.h.log.Error("program of a pushed config", "site", r.Site, "room", r.Room, "error", err)
		}
	}
	if err := p.publish(r); err != nil {
		// Stored: the next start (or push) publishes it. Say so rather than fail the push.
		p.h.log.Error("publish room config", "site", r.Site, "room", r.Room, "revision", rev, "error", err)
	}
	p.h.log.Info("room config pushed", "site", r.Site, "room", r.Room, "revision", rev, "by", by)
	// The other hubs of a share group take it from the store when the hub feed tells them.
	p.h.feed.Publish("room-config", map[string]any{"site": r.Site, "room": r.Room, "revision": rev, "by": by})
	c, err := p.h.store.RoomConfigRevision(ctx, r.Site, r.Room, rev)
	if err != nil {
		return nil, err
	}
	return p.viewLocked(c), nil
}

// viewLocked is view for a caller that holds p.mu.
func (p *provisioning) viewLocked(c store.RoomConfig) ConfigView {
	v := ConfigView{Site: c.Site, Room: c.Room, Revision: c.Revision, YAML: c.YAML, Source: c.Source, Author: c.Author, Created: c.Created}
	if r := p.rooms[c.Site+"/"+c.Room]; r != nil {
		v.Current = r.Revision
	}
	if rv, ok := p.h.reg.Room(c.Site, c.Room); ok && rv.Agent != nil && rv.Agent.Config != nil {
		a := *rv.Agent.Config
		v.Agent = &a
	}
	return v
}

// Enrollment lifetimes.
const (
	DefaultEnrollTTL = time.Hour
	MaxEnrollTTL     = 7 * 24 * time.Hour
)

// EnrollmentView is a new enrollment token, shown once.
type EnrollmentView struct {
	Token   string    `json:"token"`
	Site    string    `json:"site"`
	Room    string    `json:"room"`
	Expires time.Time `json:"expires"`
	// CAFingerprint is the SHA-256 of the hub's CA certificate when TLS is on: the agent
	// pins it on its first contact (agent enroll --ca-fingerprint).
	CAFingerprint string `json:"ca_fingerprint,omitempty"`
}

// Enroll issues a one-time token with which the agent of site/room can fetch its credentials
// before ttl has passed (0: DefaultEnrollTTL). Only the token's hash is stored.
func (p *provisioning) Enroll(ctx context.Context, site, room string, ttl time.Duration, by string) (any, error) {
	if _, ok := p.h.reg.Room(site, room); !ok {
		return nil, fmt.Errorf("%w: no room %s/%s", api.ErrNotFound, site, room)
	}
	if ttl == 0 {
		ttl = DefaultEnrollTTL
	}
	now := time.Now().UTC().Truncate(time.Second)
	tok := auth.NewSecret()
	e := store.Enrollment{TokenHash: auth.HashSecret(tok), Site: site, Room: room, Author: by, Created: now, Expires: now.Add(ttl)}
	if err := p.h.store.PutEnrollment(ctx, e); err != nil {
		return nil, err
	}
	p.h.log.Info("enrollment token issued", "site", site, "room", room, "by", by, "expires", e.Expires)
	v := EnrollmentView{Token: tok, Site: site, Room: room, Expires: e.Expires}
	if p.h.ca != nil {
		v.CAFingerprint = p.h.ca.Fingerprint()
	}
	return v, nil
}

// CredentialsView is what an agent gets for its token.
type CredentialsView struct {
	Site     string `json:"site"`
	Room     string `json:"room"`
	Broker   string `json:"broker"`
	Username string `json:"username"`
	Password string `json:"password"`
	// With TLS on: the hub's CA certificate (PEM), which the agent trusts from now on, and,
	// when the agent sent a certificate request, its client certificate (PEM).
	CA          string `json:"ca,omitempty"`
	Certificate string `json:"certificate,omitempty"`
}

// Redeem spends an enrollment token: it issues the room's agent new credentials (as `hub
// agents add` does, replacing any it had) and returns them. A token works once.
func (p *provisioning) Redeem(ctx context.Context, token, csr string) (any, error) {
	if csr != "" && p.h.ca != nil && p.h.ca.Key != nil {
		// Check the request before the token is spent, so a bad one costs no token.
		if _, err := pki.ParseCSR([]byte(csr)); err != nil {
			return nil, fmt.Errorf("%w: %v", api.ErrBadRequest, err)
		}
	}
	e, err := p.h.store.UseEnrollment(ctx, auth.HashSecret(token), time.Now())
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil, api.ErrBadToken
	case errors.Is(err, store.ErrEnrollmentUsed):
		return nil, fmt.Errorf("%w: the token has been used", api.ErrTokenSpent)
	case errors.Is(err, store.ErrEnrollmentExpired):
		return nil, fmt.Errorf("%w: the token has expired", api.ErrTokenSpent)
	case err != nil:
		return nil, err
	}
	c, err := AddAgent(ctx, p.h.store, p.h.agentBrokerURL(), e.Site, e.Room)
	if err != nil {
		return nil, err
	}
	cert, err := p.h.issueAgentCert(ctx, csr, e.Site, e.Room)
	if err != nil {
		return nil, err
	}
	p.h.log.Info("agent enrolled", "site", e.Site, "room", e.Room, "token_by", e.Author, "certificate", cert != "")
	v := CredentialsView{Site: e.Site, Room: e.Room, Broker: c.Broker, Username: c.Username, Password: c.Password, Certificate: cert}
	if p.h.ca != nil {
		v.CA = string(p.h.trust.PEM())
	}
	return v, nil
}

// agentBrokerURL is the broker URL enrolled agents are given.
func (h *Hub) agentBrokerURL() string {
	if h.opts.AgentBrokerURL != "" {
		return h.opts.AgentBrokerURL
	}
	return h.brokerURL
}
