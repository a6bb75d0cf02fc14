// Package api serves the hub's HTTP API v1: health, metrics, login, rooms, device commands and
// the server-sent event stream. Errors are JSON {"error":{"code","message"}} with a fitting
// status; every request body is size-limited and decoded strictly.
package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/bailiff/bailiff/internal/hub/audit"
	"github.com/bailiff/bailiff/internal/hub/auth"
	"github.com/bailiff/bailiff/internal/hub/hearings"
	"github.com/bailiff/bailiff/internal/hub/registry"
	"github.com/bailiff/bailiff/internal/hub/scenes"
	"github.com/bailiff/bailiff/internal/store"
	"github.com/bailiff/bailiff/internal/wire"
)

// Store is what the API needs of the hub's store.
type Store interface {
	User(ctx context.Context, name string) (store.User, error)
	PutSession(ctx context.Context, s store.Session) error
	Session(ctx context.Context, tokenHash string, now time.Time) (store.Session, error)
	DeleteSession(ctx context.Context, tokenHash string) error
}

// Commander sends a command and waits for its outcome.
type Commander interface {
	Send(ctx context.Context, site, room, device, action string, args json.RawMessage, by string) (wire.Ack, error)
}

// Server holds what the handlers use. Set every field before Handler.
type Server struct {
	Store      Store
	Registry   *registry.Registry
	Feed       *registry.Feed
	Commands   Commander
	Metrics    http.Handler
	Health     func(ctx context.Context) map[string]error // component → nil when up
	Log        *slog.Logger
	SessionTTL time.Duration
	// Recordings starts, stops and shows recordings; nil: the routes answer 404.
	Recordings Recordings
	// Invites issues, lists and revokes visitor invites; nil: the routes answer 404.
	Invites Invites
	// Streams lists the live media streams (GET /api/v1/streams); nil: the route answers [].
	Streams func() any
	// Firmware stores and serves firmware images; nil: the routes answer 404.
	Firmware Firmware
	// AgentAuth checks an agent's credentials (site, room, its MQTT password), for the routes
	// an agent may call (GET /api/v1/firmware/images/{id}).
	AgentAuth func(ctx context.Context, site, room, secret string) error
	// Queues are the litigation halls' ticket queues; nil: the queue routes answer 404.
	Queues Queues
	// Heartbeat is how often an idle event stream gets a comment line (keeps proxies open).
	Heartbeat time.Duration
	// Audit records logins, commands and recordings; nil records nothing.
	Audit *audit.Log
	// AuditLog reads and checks the audit log (GET /api/v1/audit); nil: the routes answer 404.
	AuditLog AuditLog
	// Scenes runs the rooms' scenes; nil: the scene routes answer 404.
	Scenes Scenes
	// Hearings is the hearings service; nil: the hearing routes answer 404, and recordings
	// are not filtered by access level.
	Hearings *hearings.Service
	// Provisioning keeps room configs and enrolls agents; nil: the routes answer 404.
	Provisioning Provisioning
	// Alarms lists and acknowledges alarms; nil: the routes answer 404.
	Alarms Alarms
	// Privacy reports a room's privacy flag, shown with the room; nil leaves it out.
	Privacy func(site, room string) bool
	// Agents revokes room agents (DELETE /api/v1/agents/{site}/{room}); nil: 404.
	Agents AgentRevoker
	// Programs shows and sets the rooms' program streams; nil: the routes answer 404.
	Programs Programs
	// Renewer renews agent certificates (POST /api/v1/renew); nil: 404.
	Renewer AgentRenewer
	// LoginCounts, when set, counts failed logins where every hub of a share group sees them
	// (the shared store), beside this process's own counts; nil: each hub counts its own.
	LoginCounts LoginCounter

	sessions    sessionCache
	enrollLimit failLimiter
	loginUser   failLimiter // failed logins per user name (lockout)
	loginAddr   failLimiter // failed logins per client address
}

// Recordings is the recording service the API drives. Its errors wrap ErrNotFound or
// ErrConflict where those apply.
type Recordings interface {
	Start(ctx context.Context, site, room string) (any, error)
	Stop(ctx context.Context, id string) (any, error)
	Get(ctx context.Context, id string) (any, error)
	// List lists the recordings for which visible (nil: all) is true.
	List(ctx context.Context, visible func(id string) bool) any
}

// Firmware is the firmware image service the API drives. Its errors wrap ErrNotFound,
// ErrConflict or ErrBadRequest where those apply.
type Firmware interface {
	Upload(ctx context.Context, deviceType, version, minVersion string, body io.Reader, by string) (any, error)
	List(ctx context.Context) (any, error)
	Get(ctx context.Context, id string) (any, error)
	Open(ctx context.Context, id string) (io.ReadSeekCloser, int64, error)
	// StartRollout decodes req (RolloutRequest's JSON) itself; GetRollout shows one.
	StartRollout(ctx context.Context, id string, req json.RawMessage, by string) (any, error)
	GetRollout(ctx context.Context, id string) (any, error)
}

// Errors a service wraps so the API answers 404, 409 or 400.
var (
	ErrNotFound   = errors.New("not found")
	ErrConflict   = errors.New("conflict")
	ErrBadRequest = errors.New("bad request")
)

// MaxBody is the largest request body the API reads.
const MaxBody = 64 << 10

// Handler returns the API's routes.
func (s *Server) Handler() http.Handler {
	s.loginUser.max, s.loginUser.window = LoginUserFailures, LoginLockout
	s.loginAddr.max, s.loginAddr.window = LoginAddrFailures, LoginAddrWindow
	if s.SessionTTL == 0 {
		s.SessionTTL = 12 * time.Hour
	}
	if s.Heartbeat == 0 {
		s.Heartbeat = 15 * time.Second
	}
	if s.Log == nil {
		s.Log = slog.Default()
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", s.healthz)
	if s.Metrics != nil {
		mux.Handle("GET /metrics", s.Metrics)
	}
	mux.HandleFunc("POST /api/v1/login", s.login)
	mux.HandleFunc("POST /api/v1/logout", s.authed(auth.ValidRole, s.logout))
	mux.HandleFunc("GET /api/v1/rooms", s.authed(auth.CanView, s.rooms))
	mux.HandleFunc("GET /api/v1/rooms/{site}/{room}", s.authed(auth.CanView, s.room))
	mux.HandleFunc("POST /api/v1/rooms/{site}/{room}/devices/{device}/commands", s.authed(auth.CanCommand, s.command))
	mux.HandleFunc("GET /api/v1/events", s.authed(auth.CanView, s.events, tokenInQuery))
	mux.HandleFunc("GET /api/v1/streams", s.authed(auth.CanView, s.streams))
	if s.Recordings != nil {
		mux.HandleFunc("GET /api/v1/recordings", s.authed(auth.CanView, s.listRecordings))
		mux.HandleFunc("POST /api/v1/recordings", s.authed(auth.CanCommand, s.startRecording))
		mux.HandleFunc("GET /api/v1/recordings/{id}", s.authed(auth.CanView, s.getRecording))
		mux.HandleFunc("POST /api/v1/recordings/{id}/stop", s.authed(auth.CanCommand, s.stopRecording))
		mux.HandleFunc("GET /api/v1/recordings/{id}/tracks/{track}/segments/{n}", s.authed(auth.CanView, s.recordingSegment, tokenInQuery))
	}
	if s.Scenes != nil {
		mux.HandleFunc("GET /api/v1/rooms/{site}/{room}/scenes", s.authed(auth.CanView, s.listScenes))
		mux.HandleFunc("POST /api/v1/rooms/{site}/{room}/scenes/{scene}", s.authed(auth.CanCommand, s.runScene))
	}
	if s.Hearings != nil {
		mux.HandleFunc("POST /api/v1/hearings", s.authed(auth.CanCommand, s.createHearing))
		mux.HandleFunc("GET /api/v1/hearings", s.authed(auth.CanView, s.listHearings))
		mux.HandleFunc("GET /api/v1/hearings/{id}", s.authed(auth.CanView, s.getHearing))
		mux.HandleFunc("POST /api/v1/hearings/{id}/start", s.authed(auth.CanCommand, s.hearingTransition))
		mux.HandleFunc("POST /api/v1/hearings/{id}/pause", s.authed(auth.CanCommand, s.hearingTransition))
		mux.HandleFunc("POST /api/v1/hearings/{id}/resume", s.authed(auth.CanCommand, s.hearingTransition))
		mux.HandleFunc("POST /api/v1/hearings/{id}/end", s.authed(auth.CanCommand, s.hearingTransition))
		mux.HandleFunc("POST /api/v1/hearings/{id}/notes", s.authed(auth.CanCommand, s.addNote))
		mux.HandleFunc("GET /api/v1/hearings/{id}/notes", s.authed(auth.CanView, s.notes))
	}
	if s.AuditLog != nil {
		mux.HandleFunc("GET /api/v1/audit", s.authed(auth.IsTechnician, s.auditList))
		mux.HandleFunc("GET /api/v1/audit/verify", s.authed(auth.IsTechnician, s.auditVerify))
	}
	// Provisioning: room configs and their revisions, new rooms, agent enrollment.
	if s.Provisioning != nil {
		mux.HandleFunc("POST /api/v1/rooms", s.authed(auth.IsTechnician, s.createRoom))
		mux.HandleFunc("GET /api/v1/rooms/{site}/{room}/config", s.authed(auth.IsTechnician, s.getRoomConfig))
		mux.HandleFunc("PUT /api/v1/rooms/{site}/{room}/config", s.authed(auth.IsTechnician, s.putRoomConfig))
		mux.HandleFunc("GET /api/v1/rooms/{site}/{room}/config/revisions", s.authed(auth.IsTechnician, s.roomConfigRevisions))
		mux.HandleFunc("POST /api/v1/enrollments", s.authed(auth.IsTechnician, s.createEnrollment))
		mux.HandleFunc("POST /api/v1/enroll", s.enroll)
		if s.Renewer != nil {
			mux.HandleFunc("POST /api/v1/renew", s.renew)
		}
	}
	if s.Agents != nil {
		mux.HandleFunc("DELETE /api/v1/agents/{site}/{room}", s.authed(auth.IsTechnician, s.revokeAgent))
	}
	if s.Alarms != nil {
		mux.HandleFunc("GET /api/v1/alarms", s.authed(auth.CanView, s.listAlarms))
		mux.HandleFunc("POST /api/v1/alarms/{id}/ack", s.authed(auth.CanAckAlarms, s.ackAlarm))
	}
	if s.Invites != nil {
		mux.HandleFunc("POST /api/v1/invites", s.authed(auth.CanCommand, s.createInvite))
		mux.HandleFunc("GET /api/v1/invites", s.authed(auth.CanCommand, s.listInvites))
		mux.HandleFunc("DELETE /api/v1/invites/{id}", s.authed(auth.CanCommand, s.revokeInvite))
		mux.HandleFunc("GET /api/v1/invite", s.inviteSelf) // an invite token only
	}
	if s.Firmware != nil {
		mux.HandleFunc("GET /api/v1/firmware", s.authed(auth.CanView, s.listFirmware))
		mux.HandleFunc("POST /api/v1/firmware", s.authed(auth.IsTechnician, s.uploadFirmware))
		mux.HandleFunc("GET /api/v1/firmware/{id}", s.authed(auth.CanView, s.getFirmware))
		mux.HandleFunc("GET /api/v1/firmware/images/{id}", s.firmwareImage)
		mux.HandleFunc("POST /api/v1/firmware/{id}/rollouts", s.authed(auth.IsTechnician, s.startRollout))
		mux.HandleFunc("GET /api/v1/firmware/rollouts/{id}", s.authed(auth.CanView, s.getRollout))
	}
	// The litigation hall queue (api/queue.go).
	mux.HandleFunc("GET /api/v1/queues", s.authed(auth.CanSeeQueue, s.listQueues))
	mux.HandleFunc("GET /api/v1/queues/{site}/{room}", s.authed(auth.CanSeeQueue, s.liveQueue))
	mux.HandleFunc("GET /api/v1/queues/{site}/{room}/stats", s.authed(auth.CanView, s.queueStats))
	mux.HandleFunc("POST /api/v1/queues/{site}/{room}/tickets", s.authed(auth.CanIssueTicket, s.issueTicket))
	mux.HandleFunc("GET /api/v1/queues/{site}/{room}/tickets/{number}", s.authed(auth.CanSeeQueue, s.getTicket))
	mux.HandleFunc("POST /api/v1/queues/{site}/{room}/windows/{window}/call-next", s.authed(auth.CanOperateQueue, s.windowAction("call-next")))
	mux.HandleFunc("POST /api/v1/queues/{site}/{room}/windows/{window}/recall", s.authed(auth.CanOperateQueue, s.windowAction("recall")))
	mux.HandleFunc("POST /api/v1/queues/{site}/{room}/windows/{window}/no-show", s.authed(auth.CanOperateQueue, s.windowAction("no-show")))
	mux.HandleFunc("POST /api/v1/queues/{site}/{room}/windows/{window}/transfer", s.authed(auth.CanOperateQueue, s.windowAction("transfer")))
	mux.HandleFunc("POST /api/v1/queues/{site}/{room}/windows/{window}/complete", s.authed(auth.CanOperateQueue, s.windowAction("complete")))
	if s.Programs != nil {
		mux.HandleFunc("GET /api/v1/rooms/{site}/{room}/program", s.authed(auth.CanCommand, s.getProgram))
		mux.HandleFunc("PUT /api/v1/rooms/{site}/{room}/program", s.authed(auth.CanCommand, s.putProgram))
	}
	mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "not_found", fmt.Sprintf("no API route %s %s", r.Method, r.URL.Path))
	})
	return mux
}

type errorBody struct {
	Error wire.Error `json:"error"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, errorBody{Error: wire.Error{Code: code, Message: msg}})
}

// statusOf maps a contract error code to an HTTP status.
func statusOf(code string) int {
	switch code {
	case wire.CodeBadArgs:
		return http.StatusBadRequest
	case wire.CodeUnsupported:
		return http.StatusUnprocessableEntity
	case wire.CodeForbidden:
		return http.StatusForbidden
	case wire.CodeBusy:
		return http.StatusConflict
	case wire.CodeUnreachable, wire.CodeDeviceError:
		return http.StatusBadGateway
	case wire.CodeTimeout, wire.CodeExpired:
		return http.StatusGatewayTimeout
	}
	return http.StatusInternalServerError
}

// decodeBody reads a JSON object body strictly into v, answering the error itself.
func decodeBody(w http.ResponseWriter, r *http.Request, v any) bool {
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(ct, "application/json") {
		writeError(w, http.StatusUnsupportedMediaType, "bad_request", "the body must be application/json, not "+ct)
		return false
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBody))
	if err != nil {
		writeError(w, http.StatusRequestEntityTooLarge, "bad_request", fmt.Sprintf("the body is larger than %d bytes", MaxBody))
		return false
	}
	if err := decodeJSON(body, v); err != nil {
		writeError(w, http.StatusBadRequest, "bad_request", err.Error())
		return false
	}
	return true
}

// decodeJSON decodes one JSON value strictly: no unknown fields, nothing after it.
func decodeJSON(body []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(body))
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		return errors.New("bad JSON body: " + err.Error())
	}
	if d.More() {
		return errors.New("bad JSON body: trailing data after the object")
	}
	return nil
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	checks := map[string]string{"http": "ok"}
	status := http.StatusOK
	if s.Health != nil {
		for name, err := range s.Health(ctx) {
			if err != nil {
				checks[name] = err.Error()
				status = http.StatusServiceUnavailable
			} else {
				checks[name] = "ok"
			}
		}
	}
	state := "ok"
	if status != http.StatusOK {
		state = "unhealthy"
	}
	writeJSON(w, status, map[string]any{"status": state, "checks": checks})
}

type loginRequest struct {
	User     string `json:"user"`
	Password string `json:"password"`
}

type loginResponse struct {
	Token   string    `json:"token"`
	Role    string    `json:"role"`
	Expires time.Time `json:"expires"`
}

func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	var req loginRequest
	if !decodeBody(w, r, &req) {
		return
	}
	if req.User == "" || req.Password == "" {
		writeError(w, http.StatusBadRequest, "bad_request", `"user" and "password" are required`)
		return
	}
	if s.loginLimited(w, r, req.User) {
		return
	}
	u, err := s.Store.User(r.Context(), req.User)
	if err == nil {
		err = auth.CheckPassword(u.Hash, req.Password)
	} else if errors.Is(err, store.ErrNotFound) {
		// Spend the same time as a real check, so a wrong name and a wrong password look alike.
		auth.CheckPassword(dummyHash, req.Password)
		err = auth.ErrMismatch
	}
	if err != nil {
		if !errors.Is(err, auth.ErrMismatch) {
			s.Log.Error("login", "user", req.User, "error", err)
		}
		s.Log.Warn("login refused", "user", req.User)
		s.loginFailed(r, req.User)
		s.Audit.Record(r.Context(), store.AuditEntry{User: req.User, Action: audit.Login, Target: req.User, Result: audit.Refused, Detail: remoteAddr(r)})
		w.Header().Set("WWW-Authenticate", `Bearer realm="bailiff"`)
		writeError(w, http.StatusUnauthorized, "unauthorized", "wrong user name or password")
		return
	}
	s.loginReset(r, req.User)
	token := auth.NewSecret()
	exp := time.Now().Add(s.SessionTTL).UTC().Truncate(time.Second)
	if err := s.Store.PutSession(r.Context(), store.Session{TokenHash: auth.HashSecret(token), User: u.Name, Role: u.Role, Expires: exp}); err != nil {
		s.Log.Error("login: store session", "user", u.Name, "error", err)
		writeError(w, http.StatusInternalServerError, "internal", "could not store the session")
		return
	}
	s.Audit.Record(r.Context(), store.AuditEntry{User: u.Name, Role: u.Role, Action: audit.Login, Target: u.Name, Result: audit.OK, Detail: remoteAddr(r)})
	writeJSON(w, http.StatusOK, loginResponse{Token: token, Role: u.Role, Expires: exp})
}

var dummyHash, _ = auth.HashPassword("not a password anyone has")

type ctxKey struct{}

// Caller is the authenticated user of a request.
type Caller struct {
	User, Role, TokenHash string
}

func callerOf(r *http.Request) Caller { c, _ := r.Context().Value(ctxKey{}).(Caller); return c }

// tokenInQuery lets a route take the token as the access_token query parameter: a browser's
// EventSource cannot set headers.
const tokenInQuery = true

// bearer returns the token of an "Authorization: Bearer …" header (scheme case-insensitive).
func bearer(r *http.Request) string {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(token)
}

// authed wraps h: a valid bearer token whose role passes allow.
func (s *Server) authed(allow func(role string) bool, h http.HandlerFunc, query ...bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		token := bearer(r)
		if token == "" && len(query) > 0 && query[0] {
			token = r.URL.Query().Get("access_token")
		}
		if token == "" {
			w.Header().Set("WWW-Authenticate", `Bearer realm="bailiff"`)
			writeError(w, http.StatusUnauthorized, "unauthorized", "a bearer token is required: POST /api/v1/login")
			return
		}
		th := auth.HashSecret(strings.TrimSpace(token))
		se, err := s.session(r.Context(), th)
		if err != nil {
			if !errors.Is(err, store.ErrNotFound) {
				s.Log.Error("session lookup", "error", err)
				writeError(w, http.StatusInternalServerError, "internal", "could not check the session")
				return
			}
			w.Header().Set("WWW-Authenticate", `Bearer realm="bailiff", error="invalid_token"`)
			writeError(w, http.StatusUnauthorized, "unauthorized", "the token is unknown or has expired: log in again")
			return
		}
		if !allow(se.Role) {
			writeError(w, http.StatusForbidden, wire.CodeForbidden, fmt.Sprintf("the %s role may not do this", se.Role))
			return
		}
		h(w, r.WithContext(context.WithValue(r.Context(), ctxKey{}, Caller{User: se.User, Role: se.Role, TokenHash: th})))
	}
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	s.sessions.drop(callerOf(r).TokenHash)
	if err := s.Store.DeleteSession(r.Context(), callerOf(r).TokenHash); err != nil {
		writeError(w, http.StatusInternalServerError, "internal", "could not end the session")
		return
	}
	c := callerOf(r)
	s.Audit.Record(r.Context(), store.AuditEntry{User: c.User, Role: c.Role, Action: audit.Logout, Target: c.User})
	w.WriteHeader(http.StatusNoContent)
}

type recordingRequest struct {
	Site string `json:"site"`
	Room string `json:"room"`
}

func (s *Server) serviceError(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, ErrNotFound), errors.Is(err, hearings.ErrNotFound), errors.Is(err, scenes.ErrNoRoom), errors.Is(err, scenes.ErrNoScene):
		writeError(w, http.StatusNotFound, "not_found", err.Error())
	case errors.Is(err, ErrConflict), errors.Is(err, hearings.ErrConflict):
		writeError(w, http.StatusConflict, "conflict", err.Error())
	case errors.Is(err, scenes.ErrBusy):
		writeError(w, http.StatusConflict, wire.CodeBusy, err.Error())
	case errors.Is(err, hearings.ErrForbidden):
		writeError(w, http.StatusForbidden, wire.CodeForbidden, err.Error())
	case errors.Is(err, hearings.ErrInvalid), errors.Is(err, ErrBadRequest):
		writeError(w, http.StatusBadRequest, "bad_request", err.Error())
	default:
		s.Log.Error("service", "error", err)
		writeError(w, http.StatusInternalServerError, "internal", err.Error())
	}
}

func (s *Server) listRecordings(w http.ResponseWriter, r *http.Request) {
	var visible func(string) bool
	if s.Hearings != nil {
		c := hearingCaller(r)
		visible = func(id string) bool {
			ok, err := s.Hearings.RecordingVisible(r.Context(), c, id)
			return err == nil && ok
		}
	}
	writeJSON(w, http.StatusOK, s.Recordings.List(r.Context(), visible))
}

// recordingAllowed answers 403 itself when the caller may not reach the recording (it belongs
// to a hearing whose access level keeps them out).
func (s *Server) recordingAllowed(w http.ResponseWriter, r *http.Request, id string) bool {
	if s.Hearings == nil {
		return true
	}
	ok, err := s.Hearings.RecordingVisible(r.Context(), hearingCaller(r), id)
	if err != nil {
		s.serviceError(w, err)
		return false
	}
	if !ok {
		writeError(w, http.StatusForbidden, wire.CodeForbidden, fmt.Sprintf("recording %s belongs to a hearing the %s role may not see", id, callerOf(r).Role))
		return false
	}
	return true
}

func (s *Server) startRecording(w http.ResponseWriter, r *http.Request) {
	var req recordingRequest
	if !decodeBody(w, r, &req) {
		return
	}
	if !bodyIDs(w, req.Site, req.Room) {
		return
	}
	if _, ok := s.Registry.Room(req.Site, req.Room); !ok {
		writeError(w, http.StatusNotFound, "not_found", fmt.Sprintf("no room %s/%s", req.Site, req.Room))
		return
	}
	v, err := s.Recordings.Start(r.Context(), req.Site, req.Room)
	c := callerOf(r)
	if err != nil {
		s.Audit.Record(r.Context(), store.AuditEntry{User: c.User, Role: c.Role, Action: audit.RecordingStart, Target: req.Site + "/" + req.Room, Result: "error", Detail: err.Error()})
		s.serviceError(w, err)
		return
	}
	s.Audit.Record(r.Context(), store.AuditEntry{User: c.User, Role: c.Role, Action: audit.RecordingStart, Target: req.Site + "/" + req.Room, Detail: audit.Detail(v)})
	writeJSON(w, http.StatusCreated, v)
}

func (s *Server) recordingID(w http.ResponseWriter, r *http.Request) (string, bool) {
	id := r.PathValue("id")
	valid := id != "" && len(id) <= 200
	for _, c := range id {
		valid = valid && (c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-')
	}
	if !valid {
		writeError(w, http.StatusBadRequest, "bad_request", fmt.Sprintf("invalid recording ID %q", id))
		return "", false
	}
	return id, true
}

func (s *Server) getRecording(w http.ResponseWriter, r *http.Request) {
	id, ok := s.recordingID(w, r)
	if !ok || !s.recordingAllowed(w, r, id) {
		return
	}
	v, err := s.Recordings.Get(r.Context(), id)
	if err != nil {
		s.serviceError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

func (s *Server) stopRecording(w http.ResponseWriter, r *http.Request) {
	id, ok := s.recordingID(w, r)
	if !ok || !s.recordingAllowed(w, r, id) {
		return
	}
	v, err := s.Recordings.Stop(r.Context(), id)
	if err != nil {
		s.serviceError(w, err)
		return
	}
	c := callerOf(r)
	s.Audit.Record(r.Context(), store.AuditEntry{User: c.User, Role: c.Role, Action: audit.RecordingStop, Target: id})
	writeJSON(w, http.StatusOK, v)
}

func (s *Server) streams(w http.ResponseWriter, r *http.Request) {
	if s.Streams == nil {
		writeJSON(w, http.StatusOK, []any{})
		return
	}
	writeJSON(w, http.StatusOK, s.Streams())
}

func (s *Server) rooms(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.Registry.Rooms())
}

// pathIDs reads and checks the named path IDs, answering the error itself.
func pathIDs(w http.ResponseWriter, r *http.Request, names ...string) ([]string, bool) {
	out := make([]string, len(names))
	for i, n := range names {
		v := r.PathValue(n)
		if err := wire.CheckID(n, v); err != nil {
			writeError(w, http.StatusBadRequest, "bad_request", err.Error())
			return nil, false
		}
		out[i] = v
	}
	return out, true
}

func (s *Server) room(w http.ResponseWriter, r *http.Request) {
	ids, ok := pathIDs(w, r, "site", "room")
	if !ok {
		return
	}
	rm, ok := s.Registry.Room(ids[0], ids[1])
	if !ok {
		writeError(w, http.StatusNotFound, "not_found", fmt.Sprintf("no room %s/%s", ids[0], ids[1]))
		return
	}
	if s.Privacy != nil {
		writeJSON(w, http.StatusOK, roomWithPrivacy{rm, s.Privacy(ids[0], ids[1])})
		return
	}
	writeJSON(w, http.StatusOK, rm)
}

// roomWithPrivacy is one room as GET /api/v1/rooms/{site}/{room} shows it: with its privacy
// flag (a bench conference), for a panel opened during one.
type roomWithPrivacy struct {
	registry.RoomView
	Privacy bool `json:"privacy"`
}

type commandRequest struct {
	Action string          `json:"action"`
	Args   json.RawMessage `json:"args"`
}

type commandResponse struct {
	OK    bool           `json:"ok"`
	ID    string         `json:"id,omitempty"`
	State map[string]any `json:"state,omitempty"`
}

func (s *Server) command(w http.ResponseWriter, r *http.Request) {
	ids, ok := pathIDs(w, r, "site", "room", "device")
	if !ok {
		return
	}
	var req commandRequest
	if !decodeBody(w, r, &req) {
		return
	}
	if req.Action == "" {
		writeError(w, http.StatusBadRequest, wire.CodeBadArgs, `"action" is required`)
		return
	}
	roomKnown, devKnown := s.Registry.HasDevice(ids[0], ids[1], ids[2])
	if !roomKnown {
		writeError(w, http.StatusNotFound, "not_found", fmt.Sprintf("no room %s/%s", ids[0], ids[1]))
		return
	}
	if !devKnown {
		writeError(w, http.StatusNotFound, "not_found", fmt.Sprintf("no device %q in room %s/%s", ids[2], ids[0], ids[1]))
		return
	}
	if _, err := wire.ParseArgs(req.Action, req.Args); err != nil {
		s.commandError(w, err)
		return
	}
	c := callerOf(r)
	if !s.Registry.Online(ids[0], ids[1]) {
		// Fail fast: nobody would answer before the timeout. Not sent, but asked for: the
		// audit log has it, with its outcome, like every command.
		s.Audit.Record(r.Context(), store.AuditEntry{User: c.User, Role: c.Role, Action: audit.Command, Target: strings.Join(ids, "/"),
			Result: wire.CodeUnreachable, Detail: audit.Detail(map[string]any{"action": req.Action, "args": req.Args, "sent": false})})
		writeError(w, http.StatusBadGateway, wire.CodeUnreachable, fmt.Sprintf("the agent of room %s/%s is offline", ids[0], ids[1]))
		return
	}
	ack, err := s.Commands.Send(r.Context(), ids[0], ids[1], ids[2], req.Action, req.Args, c.User)
	result := audit.OK
	switch {
	case err != nil:
		result = wire.CodeOf(err)
	case !ack.OK:
		result = ack.Error.Code
	}
	s.Audit.Record(r.Context(), store.AuditEntry{User: c.User, Role: c.Role, Action: audit.Command, Target: strings.Join(ids, "/"),
		Result: result, Detail: audit.Detail(map[string]any{"action": req.Action, "args": req.Args, "id": ack.ID})})
	if err != nil {
		s.commandError(w, err)
		return
	}
	if !ack.OK {
		writeJSON(w, statusOf(ack.Error.Code), errorBody{Error: *ack.Error})
		return
	}
	writeJSON(w, http.StatusOK, commandResponse{OK: true, ID: ack.ID, State: ack.State})
}

// commandError answers a command that ended without an ack.
func (s *Server) commandError(w http.ResponseWriter, err error) {
	code := wire.CodeOf(err)
	msg := err.Error()
	var we *wire.Error
	if errors.As(err, &we) {
		msg = we.Message
	}
	writeError(w, statusOf(code), code, msg)
}

// events streams registry changes as server-sent events until the client goes or the hub
// stops. Each event is "id: N", "event: TYPE", "data: JSON".
func (s *Server) events(w http.ResponseWriter, r *http.Request) {
	fl, ok := w.(http.Flusher)
	if !ok {
		writeError(w, http.StatusInternalServerError, "internal", "streaming is not supported here")
		return
	}
	ch, stop := s.Feed.Subscribe()
	defer stop()
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	fmt.Fprintf(w, "retry: 2000\n: bailiff events\n\n")
	fl.Flush()
	tick := time.NewTicker(s.Heartbeat)
	defer tick.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-tick.C:
			fmt.Fprintf(w, ": keep-alive\n\n")
			fl.Flush()
		case ev, ok := <-ch:
			if !ok {
				return // fell behind: the client reconnects
			}
			b, _ := json.Marshal(ev)
			fmt.Fprintf(w, "id: %d\nevent: %s\ndata: %s\n\n", ev.ID, ev.Type, b)
			fl.Flush()
		}
	}
}
