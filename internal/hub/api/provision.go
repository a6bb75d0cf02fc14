package api

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"context"

	"github.com/bailiff/bailiff/internal/config"
	"github.com/bailiff/bailiff/internal/wire"
)

// Provisioning keeps rooms' configs (numbered revisions, pushed to agents) and enrolls agents.
// Its errors wrap ErrNotFound, ErrConflict, ErrBadToken or ErrTokenSpent where those apply; a
// config that does not validate is a config.Errors.
type Provisioning interface {
	RoomConfig(ctx context.Context, site, room string, rev int64) (any, error)
	ConfigRevisions(ctx context.Context, site, room string) (any, error)
	PushConfig(ctx context.Context, site, room string, text []byte, by string) (any, error)
	CreateRoom(ctx context.Context, text []byte, by string) (any, error)
	Enroll(ctx context.Context, site, room string, ttl time.Duration, by string) (any, error)
	// Redeem spends a token; csr (PEM, may be "") asks for a client certificate too.
	Redeem(ctx context.Context, token, csr string) (any, error)
}

// Errors of enrollment tokens.
var (
	ErrBadToken   = errors.New("unknown enrollment token")
	ErrTokenSpent = errors.New("enrollment token no longer valid")
)

// Enrollment token lifetimes a technician may ask for.
const (
	minEnrollTTL = time.Minute
	maxEnrollTTL = 7 * 24 * time.Hour
)

// configError is the body of a 422 for a config that does not validate: every problem with
// its line and key.
type configError struct {
	Error configErrorBody `json:"error"`
}

type configErrorBody struct {
	Code     string          `json:"code"`
	Message  string          `json:"message"`
	Problems []configProblem `json:"problems"`
}

type configProblem struct {
	Line    int    `json:"line,omitempty"`
	Key     string `json:"key,omitempty"`
	Message string `json:"message"`
}

// provisionError answers an error of the provisioning service.
func (s *Server) provisionError(w http.ResponseWriter, err error) {
	var ce config.Errors
	switch {
	case errors.As(err, &ce):
		body := configError{Error: configErrorBody{Code: "invalid_config", Message: err.Error(), Problems: []configProblem{}}}
		for _, e := range ce {
			body.Error.Problems = append(body.Error.Problems, configProblem{Line: e.Line, Key: e.Key, Message: e.Msg})
		}
		writeJSON(w, http.StatusUnprocessableEntity, body)
	case errors.Is(err, ErrBadToken), errors.Is(err, ErrTokenSpent):
		writeError(w, http.StatusUnauthorized, "unauthorized", err.Error())
	default:
		s.serviceError(w, err)
	}
}

// readYAML reads a YAML request body (application/yaml, text/yaml, application/x-yaml,
// text/plain or no type), answering the error itself.
func readYAML(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	ct := r.Header.Get("Content-Type")
	mt, _, _ := strings.Cut(ct, ";")
	switch strings.TrimSpace(strings.ToLower(mt)) {
	case "", "application/yaml", "text/yaml", "application/x-yaml", "text/x-yaml", "text/plain":
	default:
		writeError(w, http.StatusUnsupportedMediaType, "bad_request", "the body must be a room config in YAML (application/yaml), not "+ct)
		return nil, false
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBody))
	if err != nil {
		writeError(w, http.StatusRequestEntityTooLarge, "bad_request", fmt.Sprintf("the body is larger than %d bytes", MaxBody))
		return nil, false
	}
	if len(strings.TrimSpace(string(body))) == 0 {
		writeError(w, http.StatusBadRequest, "bad_request", "the body is empty: send the room config in YAML")
		return nil, false
	}
	return body, true
}

func (s *Server) getRoomConfig(w http.ResponseWriter, r *http.Request) {
	ids, ok := pathIDs(w, r, "site", "room")
	if !ok {
		return
	}
	var rev int64
	if q := r.URL.Query().Get("revision"); q != "" {
		n, err := strconv.ParseInt(q, 10, 64)
		if err != nil || n < 1 {
			writeError(w, http.StatusBadRequest, "bad_request", fmt.Sprintf("revision %q: want a whole number ≥ 1", q))
			return
		}
		rev = n
	}
	v, err := s.Provisioning.RoomConfig(r.Context(), ids[0], ids[1], rev)
	if err != nil {
		s.provisionError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

func (s *Server) roomConfigRevisions(w http.ResponseWriter, r *http.Request) {
	ids, ok := pathIDs(w, r, "site", "room")
	if !ok {
		return
	}
	v, err := s.Provisioning.ConfigRevisions(r.Context(), ids[0], ids[1])
	if err != nil {
		s.provisionError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

func (s *Server) putRoomConfig(w http.ResponseWriter, r *http.Request) {
	ids, ok := pathIDs(w, r, "site", "room")
	if !ok {
		return
	}
	body, ok := readYAML(w, r)
	if !ok {
		return
	}
	v, err := s.Provisioning.PushConfig(r.Context(), ids[0], ids[1], body, callerOf(r).User)
	if err != nil {
		s.provisionError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

func (s *Server) createRoom(w http.ResponseWriter, r *http.Request) {
	body, ok := readYAML(w, r)
	if !ok {
		return
	}
	v, err := s.Provisioning.CreateRoom(r.Context(), body, callerOf(r).User)
	if err != nil {
		s.provisionError(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, v)
}

type enrollmentRequest struct {
	Site string `json:"site"`
	Room string `json:"room"`
	// TTL is how long the token may be used, e.g. "30m"; default 1h, from 1m to 168h.
	TTL string `json:"ttl"`
}

func (s *Server) createEnrollment(w http.ResponseWriter, r *http.Request) {
	var req enrollmentRequest
	if !decodeBody(w, r, &req) {
		return
	}
	if !bodyIDs(w, req.Site, req.Room) {
		return
	}
	var ttl time.Duration
	if req.TTL != "" {
		d, err := time.ParseDuration(req.TTL)
		if err != nil || d < minEnrollTTL || d > maxEnrollTTL {
			writeError(w, http.StatusBadRequest, "bad_request", fmt.Sprintf(`"ttl" %q: want a duration from %s to %s, e.g. "30m"`, req.TTL, minEnrollTTL, maxEnrollTTL))
			return
		}
		ttl = d
	}
	v, err := s.Provisioning.Enroll(r.Context(), req.Site, req.Room, ttl, callerOf(r).User)
	if err != nil {
		s.provisionError(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, v)
}

type enrollRequest struct {
	Token string `json:"token"`
	// CSR is the agent's certificate signing request (PEM); with TLS on, the hub answers
	// with a client certificate bound to the token's room.
	CSR string `json:"csr"`
}

// maxCSR bounds a certificate signing request (an ECDSA one is well under 1 KiB).
const maxCSR = 8 << 10

// enroll exchanges a one-time token for an agent's credentials. It needs no login: the
// token is the proof. Failed attempts are limited per client address.
func (s *Server) enroll(w http.ResponseWriter, r *http.Request) {
	host, ok := s.enrollAllowed(w, r, "enrollment")
	if !ok {
		return
	}
	var req enrollRequest
	if !decodeBody(w, r, &req) {
		s.enrollLimit.fail(host, time.Now())
		return
	}
	if req.Token == "" || len(req.Token) > 256 {
		s.enrollLimit.fail(host, time.Now())
		writeError(w, http.StatusBadRequest, "bad_request", `"token" is required (1-256 characters)`)
		return
	}
	if len(req.CSR) > maxCSR {
		writeError(w, http.StatusBadRequest, "bad_request", fmt.Sprintf(`"csr" is longer than %d bytes`, maxCSR))
		return
	}
	v, err := s.Provisioning.Redeem(r.Context(), strings.TrimSpace(req.Token), req.CSR)
	if err != nil {
		if errors.Is(err, ErrBadToken) || errors.Is(err, ErrTokenSpent) {
			s.enrollLimit.fail(host, time.Now())
			s.Log.Warn("enrollment refused", "client", host, "error", err)
		}
		s.provisionError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

// enrollAllowed answers 429 itself when the client's address has failed too often to enroll
// or renew (what names the attempts), and returns the address.
func (s *Server) enrollAllowed(w http.ResponseWriter, r *http.Request, what string) (string, bool) {
	host := clientHost(r)
	if wait := s.enrollLimit.blocked(host, time.Now()); wait > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int(wait.Seconds()+0.999)))
		writeError(w, http.StatusTooManyRequests, "rate_limited", fmt.Sprintf("too many failed %s attempts from %s: try again in %s", what, host, wait.Round(time.Second)))
		return host, false
	}
	return host, true
}

// bodyIDs checks the site and room IDs of a request body, answering the error itself.
func bodyIDs(w http.ResponseWriter, site, room string) bool {
	for _, f := range [][2]string{{"site", site}, {"room", room}} {
		if err := wire.CheckID(f[0], f[1]); err != nil {
			writeError(w, http.StatusBadRequest, "bad_request", err.Error())
			return false
		}
	}
	return true
}

func clientHost(r *http.Request) string {
	h, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return h
}

// Enrollment rate limit: after enrollFailures failed attempts from one address within
// enrollWindow, that address is refused until the window has passed.
const (
	enrollFailures = 5
	enrollWindow   = time.Minute
	enrollClients  = 10000 // addresses remembered; beyond, the oldest windows are forgotten
)

// failLimiter counts failures per client in fixed windows.
type failLimiter struct {
	// max failures within window before the key is refused until the window ends; zero:
	// the enrollment limits.
	max    int
	window time.Duration

	mu sync.Mutex
	m  map[string]*failWindow
}

func (l *failLimiter) limits() (int, time.Duration) {
	if l.max == 0 {
		return enrollFailures, enrollWindow
	}
	return l.max, l.window
}

// reset forgets key's failures (a successful login).
func (l *failLimiter) reset(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.m, key)
}

type failWindow struct {
	start time.Time
	n     int
}

func (l *failLimiter) windowOf(host string, now time.Time) *failWindow {
	if l.m == nil {
		l.m = map[string]*failWindow{}
	}
	_, window := l.limits()
	fw := l.m[host]
	if fw == nil || now.Sub(fw.start) >= window {
		if len(l.m) >= enrollClients {
			for h, x := range l.m {
				if now.Sub(x.start) >= window {
					delete(l.m, h)
				}
			}
			if len(l.m) >= enrollClients {
				l.m = map[string]*failWindow{}
			}
		}
		fw = &failWindow{start: now}
		l.m[host] = fw
	}
	return fw
}

// blocked returns how long host must wait, or 0.
func (l *failLimiter) blocked(host string, now time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	max, window := l.limits()
	fw := l.windowOf(host, now)
	if fw.n < max {
		return 0
	}
	return fw.start.Add(window).Sub(now)
}

func (l *failLimiter) fail(host string, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.windowOf(host, now).n++
}

// AgentRevoker revokes a room agent: its password and certificates stop working and its live
// MQTT session ends. It wraps ErrNotFound when the room has no agent credentials.
type AgentRevoker interface {
	RevokeAgent(ctx context.Context, site, room, by string) error
}

// revokeAgent is DELETE /api/v1/agents/{site}/{room}.
func (s *Server) revokeAgent(w http.ResponseWriter, r *http.Request) {
	ids, ok := pathIDs(w, r, "site", "room")
	if !ok {
		return
	}
	if err := s.Agents.RevokeAgent(r.Context(), ids[0], ids[1], callerOf(r).User); err != nil {
		s.serviceError(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
