package whip

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/bailiff/bailiff/media/sfu"
)

// ReplicaTokenPrefix starts the bearer token a replica hub pulls an origin's streams with:
// "replica." then the secret both hubs share.
const ReplicaTokenPrefix = "replica."

// Origin is a hub that carries the media of some rooms, from which a replica pulls their
// streams over WHEP.
type Origin struct {
	// URL is the origin hub's HTTP address (scheme, host, port; a path prefix is kept),
	// e.g. "https://hub-a.court.example:8443".
	URL string
	// Rooms are the rooms it carries: "site/room", or "site/*" for every room of a site.
	Rooms []string
	// Token is the bearer token the origin accepts for the replica: view only.
	Token string
}

// Upstream is a replica's side of WHEP: it pulls streams from the origins as a viewer
// (an sfu.Upstream).
type Upstream struct {
	origins []Origin
	client  *http.Client
	log     *slog.Logger
}

// NewUpstream makes the WHEP client of a replica. client nil: a client with a 15 s timeout.
func NewUpstream(origins []Origin, client *http.Client, log *slog.Logger) (*Upstream, error) {
	if client == nil {
		client = &http.Client{Timeout: DefaultRequestTimeout}
	}
	if log == nil {
		log = slog.Default()
	}
	for i, o := range origins {
		u, err := url.Parse(o.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("whip: origin %d: URL %q is not an http(s) address", i, o.URL)
		}
		if !strings.HasPrefix(o.Token, ReplicaTokenPrefix) {
			return nil, fmt.Errorf("whip: origin %s: the token is not a replica token (%s…)", o.URL, ReplicaTokenPrefix)
		}
		for _, r := range o.Rooms {
			if !ValidRoomPattern(r) {
				return nil, fmt.Errorf("whip: origin %s: room %q: want site/room or site/*", o.URL, r)
			}
		}
	}
	return &Upstream{origins: origins, client: client, log: log}, nil
}

// ValidRoomPattern reports whether p is "site/room" or "site/*".
func ValidRoomPattern(p string) bool {
	site, room, ok := strings.Cut(p, "/")
	if !ok {
		return false
	}
	if room == "*" {
		room = "x"
	}
	return sfu.Key{Site: site, Room: room, Name: "x"}.Valid() == nil
}

// origin returns the origin carrying the room of k.
func (u *Upstream) origin(k sfu.Key) (Origin, bool) {
	for _, o := range u.origins {
		for _, r := range o.Rooms {
			if r == k.Site+"/"+k.Room || r == k.Site+"/*" {
				return o, true
			}
		}
	}
	return Origin{}, false
}

// Origin names the origin of the stream of k: its URL, or "" when its room is carried here.
func (u *Upstream) Origin(k sfu.Key) string {
	o, _ := u.origin(k)
	return o.URL
}

// Exchange POSTs the replica's offer to the origin's WHEP endpoint of k.
func (u *Upstream) Exchange(ctx context.Context, k sfu.Key, offer string) (string, func(), error) {
	o, ok := u.origin(k)
	if !ok {
		return "", nil, fmt.Errorf("%w: %s", sfu.ErrNoStream, k)
	}
	endpoint := strings.TrimSuffix(o.URL, "/") + WHEPPath(k)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(offer))
	if err != nil {
		return "", nil, fmt.Errorf("%w: %s: %w", sfu.ErrUpstream, k, err)
	}
	req.Header.Set("Content-Type", ContentTypeSDP)
	req.Header.Set("Authorization", "Bearer "+o.Token)
	resp, err := u.client.Do(req)
	if err != nil {
		return "", nil, fmt.Errorf("%w: %s: the origin %s cannot be reached: %w", sfu.ErrUpstream, k, o.URL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, sfu.MaxSDP+1))
	if err != nil {
		return "", nil, fmt.Errorf("%w: %s: the origin %s: reading its answer: %w", sfu.ErrUpstream, k, o.URL, err)
	}
	answer, loc, err := ReadAnswer(o.URL, k, req.URL, resp.StatusCode, resp.Header.Get("Content-Type"), resp.Header.Get("Location"), body)
	if err != nil {
		return "", nil, err
	}
	return answer, func() { u.hangup(loc.String(), o.Token) }, nil
}

// ReadAnswer checks an origin's reply to a replica's WHEP POST to endpoint: a 201 with an SDP
// answer (at most sfu.MaxSDP bytes, with media the origin sends) and a session URL on the
// origin's own host; anything else is an error that says what the origin said.
func ReadAnswer(origin string, k sfu.Key, endpoint *url.URL, status int, ctype, location string, body []byte) (string, *url.URL, error) {
	if status != http.StatusCreated {
		return "", nil, OriginError(origin, k, status, body)
	}
	mt, _, _ := mime.ParseMediaType(ctype)
	if mt != ContentTypeSDP || len(body) > sfu.MaxSDP {
		return "", nil, fmt.Errorf("%w: %s: the origin %s answered with %q of %d bytes, not an SDP answer",
			sfu.ErrUpstream, k, origin, ctype, len(body))
	}
	if sfu.SendingSections(string(body)) == 0 {
		return "", nil, fmt.Errorf("%w: %s: the origin %s sends no media in its answer", sfu.ErrUpstream, k, origin)
	}
	loc, err := endpoint.Parse(location)
	if err != nil || location == "" || loc.Host != endpoint.Host || (loc.Scheme != "http" && loc.Scheme != "https") {
		return "", nil, fmt.Errorf("%w: %s: the origin %s gave no session URL of its own (Location %q)",
			sfu.ErrUpstream, k, origin, location)
	}
	return string(body), loc, nil
}

// hangup ends the session at the origin (WHEP DELETE); the origin ends it anyway when the
// peer connection closes.
func (u *Upstream) hangup(session, token string) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodDelete, session, nil)
	if err != nil {
		return
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := u.client.Do(req)
	if err != nil {
		u.log.Debug("whep: hang up at the origin", "session", session, "error", err)
		return
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
	_ = resp.Body.Close()
}

// OriginError says why an origin refused a replica's WHEP request, from its status and its
// JSON error body: 404 wraps sfu.ErrNoStream, 503 sfu.ErrNotReady, others sfu.ErrUpstream.
func OriginError(origin string, k sfu.Key, status int, body []byte) error {
	msg := ""
	var b errorBody
	if json.Unmarshal(bytes.TrimSpace(body), &b) == nil {
		msg = b.Error.Message
	}
	if len(msg) > 200 {
		msg = msg[:200] + "…"
	}
	msg = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, msg)
	detail := fmt.Sprintf("%d %s", status, http.StatusText(status))
	if msg != "" {
		detail += ": " + msg
	}
	var kind error = sfu.ErrUpstream
	what := "refused the pull"
	switch status {
	case http.StatusUnauthorized:
		what = "refused this hub's replica credential"
	case http.StatusForbidden:
		what = "does not let this hub's replica credential view the stream"
	case http.StatusNotFound:
		kind, what = sfu.ErrNoStream, "has no such stream"
	case http.StatusServiceUnavailable:
		kind, what = sfu.ErrNotReady, "cannot give the stream now"
	}
	return fmt.Errorf("%w: %s: the origin %s %s (%s)", kind, k, origin, what, detail)
}

// errIsUpstream reports whether err is a failed pull from an origin.
func errIsUpstream(err error) bool { return errors.Is(err, sfu.ErrUpstream) }
