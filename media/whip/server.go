package whip

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/bailiff/bailiff/media/sfu"
	"github.com/pion/webrtc/v4"
)

// Media types of the bodies.
const (
	ContentTypeSDP  = "application/sdp"
	ContentTypeFrag = "application/trickle-ice-sdpfrag"
)

// Defaults for Options.
const (
	DefaultMaxSessions    = 1000
	DefaultMaxBody        = 64 << 10
	DefaultMaxLifetime    = 24 * time.Hour
	DefaultRequestTimeout = 15 * time.Second
	// MaxCandidatesPerSession bounds what one session's PATCHes may add.
	MaxCandidatesPerSession = 256
)

// Authorizer decides whether a request may publish (WHIP) or view (WHEP)
// a stream: the hub checks the request's Bearer token. It is called for
// every POST, PATCH and DELETE (not for OPTIONS, which carries no
// credentials). An error wrapping ErrUnauthorized answers 401; any other
// error, 403.
type Authorizer interface {
	Authorize(r *http.Request, site, room, stream string, publish bool) error
}

// AuthorizerFunc makes a function an Authorizer.
type AuthorizerFunc func(r *http.Request, site, room, stream string, publish bool) error

// Authorize calls f.
func (f AuthorizerFunc) Authorize(r *http.Request, site, room, stream string, publish bool) error {
	return f(r, site, room, stream, publish)
}

// Options configure a Server.
type Options struct {
	// SFU carries the media. Required.
	SFU *sfu.SFU
	// Authorizer is asked about every request. Required.
	Authorizer Authorizer
	// ICEServers are sent to clients in Link headers (RFC 9725 §4.6).
	ICEServers []webrtc.ICEServer
	// ICEServersFor, when set, gives the ICE servers for one request in
	// place of ICEServers (short-lived TURN credentials).
	ICEServersFor func(r *http.Request) []webrtc.ICEServer
	// Owner, when set, names the credential a POST was authorised with (e.g. "invite:ID"),
	// so that CloseOwner can end every session opened with it, and gives the time the
	// credential expires, when the session ends too (zero: only MaxLifetime applies). It is
	// called after the Authorizer has accepted the request.
	Owner func(r *http.Request) (owner string, expires time.Time)
	// AllowedOrigins may call the endpoints from a browser page of another
	// origin (CORS); "*" allows any. Same-origin pages need nothing.
	AllowedOrigins []string
	// MaxSessions bounds the sessions (WHIP and WHEP together, those being
	// set up included); past it, POST answers 503.
	MaxSessions int
	// MaxBody bounds a request body (an offer, a fragment); default 64 KiB.
	MaxBody int64
	// MaxLifetime ends a session this long after it began (0: 24 h).
	MaxLifetime time.Duration
	// RequestTimeout bounds the work of one POST or PATCH (ICE gathering).
	RequestTimeout time.Duration
	// Logger; slog.Default() when nil.
	Logger *slog.Logger
}

// Server serves WHIP at /whip/{site}/{room}/{stream} and WHEP at
// /whep/{site}/{room}/{stream}, with the sessions they create at
// …/{stream}/{session}. It is an http.Handler for both prefixes.
type Server struct {
	o   Options
	log *slog.Logger

	mu       sync.Mutex
	closed   bool
	pending  int
	sessions map[string]*session
	wg       sync.WaitGroup
	stop     chan struct{}
}

type session struct {
	id      string
	key     sfu.Key
	publish bool
	ss      *sfu.Session
	owner   string
	until   time.Time // the credential's expiry; zero: none

	mu         sync.Mutex
	etag       string
	candidates int
}

// New makes a Server.
func New(o Options) (*Server, error) {
	if o.SFU == nil {
		return nil, errors.New("whip: Options.SFU is nil")
	}
	if o.Authorizer == nil {
		return nil, errors.New("whip: Options.Authorizer is nil")
	}
	if o.MaxSessions <= 0 {
		o.MaxSessions = DefaultMaxSessions
	}
	if o.MaxBody <= 0 {
		o.MaxBody = DefaultMaxBody
	}
	if o.MaxLifetime <= 0 {
		o.MaxLifetime = DefaultMaxLifetime
	}
	if o.RequestTimeout <= 0 {
		o.RequestTimeout = DefaultRequestTimeout
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	for _, s := range o.ICEServers {
		for _, u := range s.URLs {
			if !validICEURL(u) {
				return nil, fmt.Errorf("whip: Options.ICEServers: bad URL %q", u)
			}
		}
	}
	return &Server{o: o, log: o.Logger, sessions: map[string]*session{}, stop: make(chan struct{})}, nil
}

// WHIPPath and WHEPPath give a stream's endpoint paths.
func WHIPPath(k sfu.Key) string { return "/whip/" + k.String() }

// WHEPPath gives the path a viewer POSTs its offer to (GET /api/v1/streams
// lists it).
func WHEPPath(k sfu.Key) string { return "/whep/" + k.String() }

// Sessions returns how many sessions are open.
func (s *Server) Sessions() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.sessions)
}

// Close ends every session; POSTs answer 503 from then on.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	close(s.stop)
	s.mu.Unlock()
	s.wg.Wait()
	return nil
}

// ServeHTTP routes /whip/… and /whep/….
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var publish bool
	var rest string
	switch {
	case strings.HasPrefix(r.URL.Path, "/whip/"):
		publish, rest = true, r.URL.Path[len("/whip/"):]
	case strings.HasPrefix(r.URL.Path, "/whep/"):
		rest = r.URL.Path[len("/whep/"):]
	default:
		writeError(w, http.StatusNotFound, CodeNotFound, "no such endpoint")
		return
	}
	s.cors(w, r)
	parts := strings.Split(rest, "/")
	if len(parts) != 3 && len(parts) != 4 {
		writeError(w, http.StatusNotFound, CodeNotFound, "no such endpoint")
		return
	}
	key := sfu.Key{Site: parts[0], Room: parts[1], Name: parts[2]}
	if err := key.Valid(); err != nil {
		writeError(w, http.StatusNotFound, CodeNotFound, "site, room and stream are [a-z0-9][a-z0-9-]{0,62}")
		return
	}
	if len(parts) == 3 {
		switch r.Method {
		case http.MethodPost:
			s.post(w, r, key, publish)
		case http.MethodOptions:
			w.Header().Set("Allow", "OPTIONS, POST")
			w.Header().Set("Accept-Post", ContentTypeSDP)
			// RFC 9725 §4.6: a client that needs its ICE servers before its offer (one
			// that may use only a relay) asks with OPTIONS and its token; a CORS
			// preflight carries no credentials and gets none.
			if r.Header.Get("Authorization") != "" && r.Header.Get("Access-Control-Request-Method") == "" &&
				s.o.Authorizer.Authorize(r, key.Site, key.Room, key.Name, publish) == nil {
				s.addLinks(w, r)
			}
			w.WriteHeader(http.StatusNoContent)
		default:
			w.Header().Set("Allow", "OPTIONS, POST")
			writeError(w, http.StatusMethodNotAllowed, CodeMethodNotAllowed, r.Method+" is not allowed on an endpoint")
		}
		return
	}
	id := parts[3]
	switch r.Method {
	case http.MethodPatch:
		s.patch(w, r, key, publish, id)
	case http.MethodDelete:
		s.delete(w, r, key, publish, id)
	case http.MethodOptions:
		w.Header().Set("Allow", "OPTIONS, PATCH, DELETE")
		w.Header().Set("Accept-Patch", ContentTypeFrag)
		w.WriteHeader(http.StatusNoContent)
	default:
		w.Header().Set("Allow", "OPTIONS, PATCH, DELETE")
		writeError(w, http.StatusMethodNotAllowed, CodeMethodNotAllowed, r.Method+" is not allowed on a session")
	}
}

// cors adds the CORS headers for an allowed origin; a preflight gets the
// methods and headers the endpoints take.
func (s *Server) cors(w http.ResponseWriter, r *http.Request) {
	origin := r.Header.Get("Origin")
	h := w.Header()
	h.Add("Vary", "Origin")
	if origin == "" || !(slices.Contains(s.o.AllowedOrigins, "*") || slices.Contains(s.o.AllowedOrigins, origin)) {
		return
	}
	h.Set("Access-Control-Allow-Origin", origin)
	h.Set("Access-Control-Expose-Headers", "Location, ETag, Link, Accept-Patch, Accept-Post, Retry-After")
	if r.Method == http.MethodOptions {
		h.Set("Access-Control-Allow-Methods", "OPTIONS, POST, PATCH, DELETE")
		h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, If-Match")
		h.Set("Access-Control-Max-Age", "600")
	}
}

func (s *Server) authorize(w http.ResponseWriter, r *http.Request, key sfu.Key, publish bool) bool {
	err := s.o.Authorizer.Authorize(r, key.Site, key.Room, key.Name, publish)
	if err == nil {
		return true
	}
	if errors.Is(err, ErrUnauthorized) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="bailiff"`)
		writeError(w, http.StatusUnauthorized, CodeUnauthorized, "missing or invalid bearer token")
		return false
	}
	what := "view"
	if publish {
		what = "publish"
	}
	writeError(w, http.StatusForbidden, CodeForbidden, "not allowed to "+what+" this stream")
	return false
}

// body reads a request body of the given media type, at most MaxBody.
func (s *Server) body(w http.ResponseWriter, r *http.Request, want, acceptHeader string) ([]byte, bool) {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != want {
		w.Header().Set(acceptHeader, want)
		writeError(w, http.StatusUnsupportedMediaType, CodeUnsupportedMediaType, "the body must be "+want)
		return nil, false
	}
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.o.MaxBody))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			writeError(w, http.StatusRequestEntityTooLarge, CodeTooLarge, fmt.Sprintf("the body is larger than %d bytes", s.o.MaxBody))
		} else {
			writeError(w, http.StatusBadRequest, CodeBadRequest, "could not read the body")
		}
		return nil, false
	}
	return b, true
}

func (s *Server) post(w http.ResponseWriter, r *http.Request, key sfu.Key, publish bool) {
	if !s.authorize(w, r, key, publish) {
		return
	}
	offer, ok := s.body(w, r, ContentTypeSDP, "Accept-Post")
	if !ok {
		return
	}
	s.mu.Lock()
	if s.closed || len(s.sessions)+s.pending >= s.o.MaxSessions {
		s.mu.Unlock()
		w.Header().Set("Retry-After", "5")
		writeError(w, http.StatusServiceUnavailable, CodeUnavailable, "too many sessions")
		return
	}
	s.pending++
	s.wg.Add(1) // the session's watcher, or undone below
	s.mu.Unlock()
	started := false
	defer func() {
		s.mu.Lock()
		s.pending--
		s.mu.Unlock()
		if !started {
			s.wg.Done()
		}
	}()

	ctx, cancel := context.WithTimeout(r.Context(), s.o.RequestTimeout)
	defer cancel()
	var ss *sfu.Session
	var answer string
	var err error
	if publish {
		ss, answer, err = s.o.SFU.Publish(ctx, key, string(offer))
	} else {
		ss, answer, err = s.o.SFU.View(ctx, key, string(offer))
	}
	if err != nil {
		s.sfuError(w, key, err)
		return
	}
	sess := &session{id: randomID(), key: key, publish: publish, ss: ss, etag: newETag()}
	if s.o.Owner != nil {
		sess.owner, sess.until = s.o.Owner(r)
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		_ = ss.Close()
		w.Header().Set("Retry-After", "5")
		writeError(w, http.StatusServiceUnavailable, CodeUnavailable, "shutting down")
		return
	}
	s.sessions[sess.id] = sess
	s.mu.Unlock()
	started = true
	go s.watch(sess)

	h := w.Header()
	h.Set("Content-Type", ContentTypeSDP)
	h.Set("Location", s.path(sess))
	h.Set("ETag", sess.etag)
	h.Set("Accept-Patch", ContentTypeFrag)
	h.Set("Cache-Control", "no-store")
	s.addLinks(w, r)
	w.WriteHeader(http.StatusCreated)
	_, _ = io.WriteString(w, answer)
	s.log.Info("whip: session created", "site", key.Site, "room", key.Room, "stream", key.Name,
		"session", sess.id, "publish", publish)
}

// addLinks adds the ICE servers for r as Link headers.
func (s *Server) addLinks(w http.ResponseWriter, r *http.Request) {
	servers := s.o.ICEServers
	if s.o.ICEServersFor != nil {
		servers = s.o.ICEServersFor(r)
	}
	for _, l := range linkHeaders(servers) {
		w.Header().Add("Link", l)
	}
}

// watch removes a session from the table when it ends, and ends it when
// its lifetime is over or the server closes.
func (s *Server) watch(sess *session) {
	defer s.wg.Done()
	life := s.o.MaxLifetime
	if !sess.until.IsZero() {
		life = min(life, max(time.Until(sess.until), 0))
	}
	t := time.NewTimer(life)
	defer t.Stop()
	select {
	case <-sess.ss.Done():
	case <-t.C:
		s.log.Info("whip: session lifetime over", "session", sess.id)
		_ = sess.ss.Close()
	case <-s.stop:
		_ = sess.ss.Close()
	}
	s.mu.Lock()
	delete(s.sessions, sess.id)
	s.mu.Unlock()
}

// CloseOwner ends every session opened with the credential Options.Owner named owner (a
// revoked invite), and returns how many it ended.
func (s *Server) CloseOwner(owner string) int {
	if owner == "" {
		return 0
	}
	s.mu.Lock()
	var list []*session
	for _, sess := range s.sessions {
		if sess.owner == owner {
			list = append(list, sess)
		}
	}
	s.mu.Unlock()
	for _, sess := range list {
		_ = sess.ss.Close()
		s.log.Info("whip: session closed: its credential was withdrawn", "site", sess.key.Site, "room", sess.key.Room,
			"stream", sess.key.Name, "session", sess.id)
	}
	return len(list)
}

func (s *Server) path(sess *session) string {
	p := WHEPPath(sess.key)
	if sess.publish {
		p = WHIPPath(sess.key)
	}
	return p + "/" + sess.id
}

func (s *Server) sfuError(w http.ResponseWriter, key sfu.Key, err error) {
	switch {
	case errors.Is(err, sfu.ErrBadOffer):
		writeError(w, http.StatusBadRequest, CodeBadSDP, err.Error())
	case errors.Is(err, sfu.ErrBadKey):
		writeError(w, http.StatusNotFound, CodeNotFound, err.Error())
	case errors.Is(err, sfu.ErrNoStream):
		writeError(w, http.StatusNotFound, CodeNotFound, "nobody publishes "+key.String())
	case errIsUpstream(err):
		// A replica could not pull the stream from its origin: say why (no secret is in it).
		s.log.Warn("whep: pull from the origin failed", "site", key.Site, "room", key.Room, "stream", key.Name, "error", err)
		writeError(w, http.StatusBadGateway, CodeUpstream, err.Error())
	case errors.Is(err, sfu.ErrNoCodec):
		writeError(w, http.StatusUnprocessableEntity, CodeNoCodec, err.Error())
	case errors.Is(err, sfu.ErrNotReady), errors.Is(err, sfu.ErrTooManyViewers), errors.Is(err, sfu.ErrClosed):
		w.Header().Set("Retry-After", "2")
		writeError(w, http.StatusServiceUnavailable, CodeUnavailable, err.Error())
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		w.Header().Set("Retry-After", "2")
		writeError(w, http.StatusServiceUnavailable, CodeUnavailable, "timed out")
	default:
		s.log.Warn("whip: session setup failed", "site", key.Site, "room", key.Room, "stream", key.Name, "error", err)
		writeError(w, http.StatusInternalServerError, CodeInternal, "session setup failed")
	}
}

// lookup finds a session by ID that belongs to this path.
func (s *Server) lookup(w http.ResponseWriter, key sfu.Key, publish bool, id string) *session {
	s.mu.Lock()
	sess := s.sessions[id]
	s.mu.Unlock()
	ended := false
	if sess != nil {
		select {
		case <-sess.ss.Done():
			ended = true
		default:
		}
	}
	if sess == nil || ended || sess.key != key || sess.publish != publish {
		writeError(w, http.StatusNotFound, CodeNotFound, "no such session")
		return nil
	}
	return sess
}

func (s *Server) delete(w http.ResponseWriter, r *http.Request, key sfu.Key, publish bool, id string) {
	if !s.authorize(w, r, key, publish) {
		return
	}
	sess := s.lookup(w, key, publish, id)
	if sess == nil {
		return
	}
	_ = sess.ss.Close()
	s.mu.Lock()
	delete(s.sessions, id)
	s.mu.Unlock()
	w.WriteHeader(http.StatusOK)
	s.log.Info("whip: session deleted", "site", key.Site, "room", key.Room, "stream", key.Name, "session", id)
}

// patch takes trickled candidates (204) or an ICE restart (200 with the
// hub's new credentials and candidates, and a new ETag): RFC 9725 §4.3.
// A restart needs If-Match ("*" or the current ETag); trickle may send the
// current ETag; a stale one answers 412.
func (s *Server) patch(w http.ResponseWriter, r *http.Request, key sfu.Key, publish bool, id string) {
	if !s.authorize(w, r, key, publish) {
		return
	}
	sess := s.lookup(w, key, publish, id)
	if sess == nil {
		return
	}
	b, ok := s.body(w, r, ContentTypeFrag, "Accept-Patch")
	if !ok {
		return
	}
	f, err := parseFragment(b)
	if err != nil {
		writeError(w, http.StatusBadRequest, CodeBadFragment, err.Error())
		return
	}
	ifMatch := strings.Join(r.Header.Values("If-Match"), ",")

	sess.mu.Lock()
	defer sess.mu.Unlock()
	ufrag, pwd := sess.ss.RemoteICE()
	restart := f.Ufrag != "" && f.Ufrag != ufrag || f.Pwd != "" && f.Pwd != pwd
	switch {
	case restart && ifMatch == "":
		writeError(w, http.StatusPreconditionRequired, CodePreconditionRequired, "an ICE restart needs If-Match")
		return
	case ifMatch != "" && !etagMatches(ifMatch, sess.etag):
		writeError(w, http.StatusPreconditionFailed, CodePreconditionFailed, "the ICE session has changed")
		return
	case restart && (f.Ufrag == "" || f.Pwd == ""):
		writeError(w, http.StatusBadRequest, CodeBadFragment, "an ICE restart needs ice-ufrag and ice-pwd")
		return
	}
	if sess.candidates+len(f.Candidates) > MaxCandidatesPerSession {
		writeError(w, http.StatusBadRequest, CodeBadFragment,
			fmt.Sprintf("more than %d candidates in one session", MaxCandidatesPerSession))
		return
	}
	var local sfu.ICEParameters
	if restart {
		ctx, cancel := context.WithTimeout(r.Context(), s.o.RequestTimeout)
		defer cancel()
		local, err = sess.ss.RestartICE(ctx, f.Ufrag, f.Pwd)
		if err != nil {
			if errors.Is(err, sfu.ErrClosed) {
				writeError(w, http.StatusNotFound, CodeNotFound, "the session has ended")
			} else if errors.Is(err, sfu.ErrBadCandidate) {
				writeError(w, http.StatusBadRequest, CodeBadFragment, err.Error())
			} else {
				s.log.Warn("whip: ICE restart failed", "session", id, "error", err)
				writeError(w, http.StatusInternalServerError, CodeInternal, "ICE restart failed")
			}
			return
		}
		sess.etag = newETag()
		sess.candidates = 0
	}
	for _, c := range f.Candidates {
		if err := sess.ss.AddICECandidate(c); err != nil {
			if errors.Is(err, sfu.ErrClosed) {
				writeError(w, http.StatusNotFound, CodeNotFound, "the session has ended")
			} else {
				writeError(w, http.StatusBadRequest, CodeBadFragment, err.Error())
			}
			return
		}
		sess.candidates++
	}
	if f.EndOfCandidates {
		_ = sess.ss.AddICECandidate("")
	}
	if !restart {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	w.Header().Set("Content-Type", ContentTypeFrag)
	w.Header().Set("ETag", sess.etag)
	w.WriteHeader(http.StatusOK)
	_, _ = io.WriteString(w, renderFragment(local))
}

// etagMatches compares If-Match with the current strong entity-tag
// (RFC 9110 §13.1.1): "*" matches; weak tags never do.
func etagMatches(ifMatch, etag string) bool {
	for _, t := range strings.Split(ifMatch, ",") {
		t = strings.TrimSpace(t)
		if t == "*" || t == etag {
			return true
		}
	}
	return false
}

func randomID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func newETag() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return `"` + hex.EncodeToString(b[:]) + `"`
}

// linkHeaders renders ICE servers as Link header values (RFC 9725 §4.6):
// <stun:host>; rel="ice-server", with username, credential and
// credential-type="password" for TURN.
func linkHeaders(servers []webrtc.ICEServer) []string {
	var out []string
	for _, srv := range servers {
		for _, u := range srv.URLs {
			if !validICEURL(u) {
				continue
			}
			l := "<" + u + `>; rel="ice-server"`
			if cred, ok := srv.Credential.(string); ok && srv.Username != "" {
				u, okU := quotedString(srv.Username)
				c, okC := quotedString(cred)
				if !okU || !okC {
					continue
				}
				l += "; username=" + u + "; credential=" + c + `; credential-type="password"`
			}
			out = append(out, l)
		}
	}
	return out
}

// quotedString makes an HTTP quoted-string (RFC 9110 §5.6.4) of visible
// ASCII, escaping '"' and '\\'.
func quotedString(v string) (string, bool) {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c < 0x20 || c > 0x7e {
			return "", false
		}
		if c == '"' || c == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(c)
	}
	b.WriteByte('"')
	return b.String(), true
}

// validICEURL accepts stun:, stuns:, turn: and turns: URLs that fit in a
// Link header.
func validICEURL(u string) bool {
	if len(u) > 512 || strings.ContainsAny(u, "<>\"\r\n ,;") {
		return false
	}
	for _, p := range []string{"stun:", "stuns:", "turn:", "turns:"} {
		if strings.HasPrefix(u, p) && len(u) > len(p) {
			return true
		}
	}
	return false
}
