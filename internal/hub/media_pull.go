package hub

import (
	"crypto/subtle"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/bailiff/bailiff/internal/config"
	"github.com/bailiff/bailiff/internal/hub/api"
	"github.com/bailiff/bailiff/media/relay"
	"github.com/bailiff/bailiff/media/sfu"
	"github.com/bailiff/bailiff/media/whip"
)

// PullOptions make the hub an origin that replica hubs pull streams from, a replica that
// pulls the streams of other hubs' rooms, or both (hub.yaml media.replicas, media.origins).
type PullOptions struct {
	// Replicas may pull this hub's streams (view only) with "Bearer replica.{secret}".
	Replicas []ReplicaOptions
	// Origins carry the media of the rooms they list: this hub's viewers of those rooms'
	// streams are served from a pull.
	Origins []OriginOptions
	// Linger: how long a pulled stream with no viewer is kept (0: sfu.DefaultPullLinger).
	Linger time.Duration
}

// ReplicaOptions name a replica hub and the file of its secret (made when missing).
type ReplicaOptions struct {
	Name, TokenFile string
}

// OriginOptions are an origin hub's address, its rooms, the file of the secret it gave this
// hub, and, for an https origin, a CA to trust besides the system's and this hub's own.
type OriginOptions struct {
	URL               string
	Rooms             []string
	TokenFile, CAFile string
}

// PullFrom maps hub.yaml's media.replicas, media.origins and media.pull_linger.
func PullFrom(c *config.Hub) PullOptions {
	o := PullOptions{Linger: c.Media.PullLinger.D()}
	for _, r := range c.Media.Replicas {
		o.Replicas = append(o.Replicas, ReplicaOptions{Name: r.Name, TokenFile: c.Resolve(r.TokenFile)})
	}
	for _, g := range c.Media.Origins {
		oo := OriginOptions{URL: strings.TrimSuffix(g.URL, "/"), Rooms: g.Rooms, TokenFile: c.Resolve(g.TokenFile)}
		if g.CAFile != "" {
			oo.CAFile = c.Resolve(g.CAFile)
		}
		o.Origins = append(o.Origins, oo)
	}
	return o
}

// ErrMediaElsewhere: the room's media is carried by another hub (its origin), which records
// it and makes its program.
var ErrMediaElsewhere = fmt.Errorf("the room's media is carried by another hub: %w", api.ErrConflict)

// mediaPull is the hub's side of origins and replicas.
type mediaPull struct {
	replicas []replicaSecret
	up       *whip.Upstream // nil: this hub pulls from no origin
}

type replicaSecret struct {
	name   string
	secret []byte
}

// startPull loads the replicas' secrets (making missing ones) and the origins' tokens, and
// returns the WHEP client the SFU pulls with (nil when there is no origin).
func (h *Hub) startPull() (sfu.Upstream, error) {
	o := h.opts.Pull
	mp := &mediaPull{}
	h.pull = mp
	for _, r := range o.Replicas {
		secret, err := relay.LoadOrCreateSecret(r.TokenFile)
		if err != nil {
			return nil, fmt.Errorf("hub: media.replicas %s: %w", r.Name, err)
		}
		mp.replicas = append(mp.replicas, replicaSecret{name: r.Name, secret: secret})
		h.log.Info("media: a replica hub may pull this hub's streams", "replica", r.Name, "token_file", r.TokenFile)
	}
	if len(o.Origins) == 0 {
		return nil, nil
	}
	var origins []whip.Origin
	var extra []*x509.Certificate
	if h.ca != nil {
		extra = append(extra, h.ca.Cert)
	}
	roots, err := x509.SystemCertPool()
	if err != nil {
		roots = x509.NewCertPool()
	}
	for _, c := range extra {
		roots.AddCert(c)
	}
	for _, g := range o.Origins {
		b, err := os.ReadFile(g.TokenFile)
		if err != nil {
			return nil, fmt.Errorf("hub: media.origins %s: token_file: %w (copy it from the origin hub, whose media.replicas names this hub)", g.URL, err)
		}
		secret := strings.TrimSpace(string(b))
		if len(secret) < 16 {
			return nil, fmt.Errorf("hub: media.origins %s: token_file %s: shorter than 16 characters", g.URL, g.TokenFile)
		}
		if g.CAFile != "" {
			pem, err := os.ReadFile(g.CAFile)
			if err != nil {
				return nil, fmt.Errorf("hub: media.origins %s: ca_file: %w", g.URL, err)
			}
			if !roots.AppendCertsFromPEM(pem) {
				return nil, fmt.Errorf("hub: media.origins %s: ca_file %s: no PEM certificate in it", g.URL, g.CAFile)
			}
		}
		origins = append(origins, whip.Origin{URL: g.URL, Rooms: g.Rooms, Token: whip.ReplicaTokenPrefix + secret})
		h.log.Info("media: pulling rooms' streams from their origin", "origin", g.URL, "rooms", strings.Join(g.Rooms, ","))
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}
	up, err := whip.NewUpstream(origins, &http.Client{Transport: tr, Timeout: whip.DefaultRequestTimeout},
		h.log.With("component", "whep-upstream"))
	if err != nil {
		return nil, fmt.Errorf("hub: media.origins: %w", err)
	}
	mp.up = up
	return up, nil
}

// mediaOrigin names the hub that carries the media of a room, "" when it is this one.
func (h *Hub) mediaOrigin(site, room string) string {
	if h.pull == nil || h.pull.up == nil {
		return ""
	}
	return h.pull.up.Origin(sfu.Key{Site: site, Room: room, Name: "x"})
}

// replicaName returns the name of the replica whose token this is, or "".
func (h *Hub) replicaName(token string) string {
	secret, ok := strings.CutPrefix(token, whip.ReplicaTokenPrefix)
	if !ok || h.pull == nil {
		return ""
	}
	for _, r := range h.pull.replicas {
		if subtle.ConstantTimeCompare([]byte(secret), r.secret) == 1 {
			return r.name
		}
	}
	return ""
}

// authorizeReplicaMedia lets a replica hub view (never publish) the streams of the rooms
// this hub carries; a room this hub itself pulls from another is refused, so that no chain
// or loop of pulls can form.
func (h *Hub) authorizeReplicaMedia(r *http.Request, site, room string, publish bool) error {
	name := h.replicaName(bearerToken(r))
	if name == "" {
		h.log.Warn("media: a replica token was refused: no replica in media.replicas has it",
			"remote", r.RemoteAddr, "site", site, "room", room)
		return fmt.Errorf("unknown replica token: %w", whip.ErrUnauthorized)
	}
	if publish {
		return fmt.Errorf("the replica %s may only view: %w", name, whip.ErrForbidden)
	}
	if o := h.mediaOrigin(site, room); o != "" {
		return fmt.Errorf("the media of %s/%s is carried by %s, not here: %w", site, room, o, whip.ErrForbidden)
	}
	return nil
}
