package api

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/bailiff/bailiff/internal/config"
	"github.com/bailiff/bailiff/internal/hub/hearings"
	"github.com/bailiff/bailiff/internal/hub/scenes"
	"github.com/bailiff/bailiff/internal/store"
)

// Scenes runs the rooms' scenes (the scene runner).
type Scenes interface {
	Config(site, room string) (*config.Room, bool)
	Run(ctx context.Context, site, room, scene, by string) (scenes.Run, error)
}

// AuditLog reads and checks the audit log (the store).
type AuditLog interface {
	Audit(ctx context.Context, f store.AuditFilter) ([]store.AuditEntry, error)
	VerifyAudit(ctx context.Context) (store.AuditReport, error)
}

func hearingCaller(r *http.Request) hearings.Caller {
	c := callerOf(r)
	return hearings.Caller{User: c.User, Role: c.Role}
}

// remoteAddr is the client's IP address, for the audit log of logins.
func remoteAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return "from " + host
}

// SceneView is a scene as GET …/scenes lists it.
type SceneView struct {
	Name  string        `json:"name"`
	Title string        `json:"title"`
	Steps []config.Step `json:"steps"`
}

func (s *Server) listScenes(w http.ResponseWriter, r *http.Request) {
	ids, ok := pathIDs(w, r, "site", "room")
	if !ok {
		return
	}
	rm, ok := s.Scenes.Config(ids[0], ids[1])
	if !ok {
		writeError(w, http.StatusNotFound, "not_found", fmt.Sprintf("no room %s/%s", ids[0], ids[1]))
		return
	}
	out := make([]SceneView, 0, len(rm.Scenes))
	for _, sc := range rm.Scenes {
		t := sc.Title
		if t == "" {
			t = sc.Name
		}
		out = append(out, SceneView{Name: sc.Name, Title: t, Steps: sc.Steps})
	}
	writeJSON(w, http.StatusOK, out)
}

// sceneRequest is the optional body of a scene run: start-hearing and end-hearing may name
// the hearing they start or end.
type sceneRequest struct {
	Hearing string `json:"hearing,omitempty"`
}

// SceneResponse is a scene's run; when the scene started or ended a hearing, the hearing too.
type SceneResponse struct {
	scenes.Run
	Hearing  *hearings.Hearing `json:"hearing,omitempty"`
	Warnings []string          `json:"warnings,omitempty"`
}

func (s *Server) runScene(w http.ResponseWriter, r *http.Request) {
	ids, ok := pathIDs(w, r, "site", "room", "scene")
	if !ok {
		return
	}
	var req sceneRequest
	if r.ContentLength != 0 && !decodeBody(w, r, &req) {
		return
	}
	site, room, scene := ids[0], ids[1], ids[2]
	rm, ok := s.Scenes.Config(site, room)
	if !ok {
		writeError(w, http.StatusNotFound, "not_found", fmt.Sprintf("no room %s/%s", site, room))
		return
	}
	if _, ok := rm.Scene(scene); !ok {
		writeError(w, http.StatusNotFound, "not_found", fmt.Sprintf("room %s/%s has no scene %q", site, room, scene))
		return
	}
	if req.Hearing != "" && scene != hearings.SceneStart && scene != hearings.SceneEnd {
		writeError(w, http.StatusBadRequest, "bad_request", `"hearing" goes only with start-hearing and end-hearing`)
		return
	}
	c := callerOf(r)
	// start-hearing and end-hearing are the Start/End buttons of the judge's panel: with a
	// hearing to start (the named one, else the room's next scheduled one today) or to end
	// (the room's current one), they start or end it, which runs the scene.
	if s.Hearings != nil && (scene == hearings.SceneStart || scene == hearings.SceneEnd) {
		id, err := s.sceneHearing(r.Context(), site, room, scene, req.Hearing)
		if err != nil {
			s.serviceError(w, err)
			return
		}
		if id != "" {
			var t hearings.Transition
			if scene == hearings.SceneStart {
				t, err = s.Hearings.Start(r.Context(), hearingCaller(r), id)
			} else {
				t, err = s.Hearings.End(r.Context(), hearingCaller(r), id)
			}
			if err != nil {
				s.serviceError(w, err)
				return
			}
			resp := SceneResponse{Hearing: &t.Hearing, Warnings: t.Warnings}
			if t.Scene != nil {
				resp.Run = *t.Scene
			}
			writeJSON(w, http.StatusOK, resp)
			return
		}
	}
	run, err := s.Scenes.Run(r.Context(), site, room, scene, c.User)
	if err != nil {
		s.serviceError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, SceneResponse{Run: run})
}

// sceneHearing picks the hearing a start-hearing or end-hearing run acts on; "" for none.
func (s *Server) sceneHearing(ctx context.Context, site, room, scene, named string) (string, error) {
	if named != "" {
		h, err := s.Hearings.Hearing(ctx, named)
		if err != nil {
			return "", err
		}
		if h.Site != site || h.Room != room {
			return "", fmt.Errorf("%w: hearing %s is in room %s/%s, not %s/%s", hearings.ErrInvalid, named, h.Site, h.Room, site, room)
		}
		return named, nil
	}
	var h store.Hearing
	var ok bool
	var err error
	if scene == hearings.SceneStart {
		h, ok, err = s.Hearings.Next(ctx, site, room)
	} else {
		h, ok, err = s.Hearings.Current(ctx, site, room)
	}
	if err != nil || !ok {
		return "", err
	}
	return h.ID, nil
}

func (s *Server) createHearing(w http.ResponseWriter, r *http.Request) {
	var req hearings.CreateRequest
	if !decodeBody(w, r, &req) {
		return
	}
	h, err := s.Hearings.Create(r.Context(), hearingCaller(r), req)
	if err != nil {
		s.serviceError(w, err)
		return
	}
	w.Header().Set("Location", "/api/v1/hearings/"+h.ID)
	writeJSON(w, http.StatusCreated, h)
}

func (s *Server) listHearings(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	for k := range q {
		switch k {
		case "site", "room", "date", "case", "state", "access_token":
		default:
			writeError(w, http.StatusBadRequest, "bad_request", fmt.Sprintf("unknown query parameter %q: want site, room, date, case or state", k))
			return
		}
	}
	list, err := s.Hearings.List(r.Context(), hearingCaller(r), hearings.Filter{
		Site: q.Get("site"), Room: q.Get("room"), Date: q.Get("date"), Case: q.Get("case"), State: q.Get("state")})
	if err != nil {
		s.serviceError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, list)
}

func (s *Server) getHearing(w http.ResponseWriter, r *http.Request) {
	h, err := s.Hearings.Get(r.Context(), hearingCaller(r), r.PathValue("id"))
	if err != nil {
		s.serviceError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, h)
}

func (s *Server) hearingTransition(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	var (
		t   hearings.Transition
		err error
	)
	switch verb := r.URL.Path[strings.LastIndexByte(r.URL.Path, '/')+1:]; verb {
	case "start":
		t, err = s.Hearings.Start(r.Context(), hearingCaller(r), id)
	case "pause":
		t, err = s.Hearings.Pause(r.Context(), hearingCaller(r), id)
	case "resume":
		t, err = s.Hearings.Resume(r.Context(), hearingCaller(r), id)
	default:
		t, err = s.Hearings.End(r.Context(), hearingCaller(r), id)
	}
	if err != nil {
		s.serviceError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, t)
}

// NoteRequest is the body of POST /api/v1/hearings/{id}/notes.
type NoteRequest struct {
	Text string `json:"text"`
}

func (s *Server) addNote(w http.ResponseWriter, r *http.Request) {
	var req NoteRequest
	if !decodeBody(w, r, &req) {
		return
	}
	n, err := s.Hearings.AddNote(r.Context(), hearingCaller(r), r.PathValue("id"), req.Text)
	if err != nil {
		s.serviceError(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, n)
}

func (s *Server) notes(w http.ResponseWriter, r *http.Request) {
	v, err := s.Hearings.Notes(r.Context(), hearingCaller(r), r.PathValue("id"))
	if err != nil {
		s.serviceError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

// AuditPage is a page of the audit log, newest first; Next is the "before" of the next page.
type AuditPage struct {
	Entries []store.AuditEntry `json:"entries"`
	Next    int64              `json:"next,omitempty"`
}

func (s *Server) auditList(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := store.AuditFilter{User: q.Get("user"), Action: q.Get("action"), Target: q.Get("target"), Limit: 100}
	for k := range q {
		switch k {
		case "user", "action", "target", "from", "to", "before", "limit", "access_token":
		default:
			writeError(w, http.StatusBadRequest, "bad_request", fmt.Sprintf("unknown query parameter %q: want user, action, target, from, to, before or limit", k))
			return
		}
	}
	for _, t := range []struct {
		name string
		into *time.Time
	}{{"from", &f.From}, {"to", &f.To}} {
		if v := q.Get(t.name); v != "" {
			tm, err := time.Parse(time.RFC3339, v)
			if err != nil {
				writeError(w, http.StatusBadRequest, "bad_request", fmt.Sprintf("%s %q: want an RFC 3339 time such as 2026-11-29T09:00:00Z", t.name, v))
				return
			}
			*t.into = tm
		}
	}
	for _, n := range []struct {
		name   string
		lo, hi int64
		into   func(int64)
	}{{"before", 1, 1 << 62, func(v int64) { f.Before = v }}, {"limit", 1, 1000, func(v int64) { f.Limit = int(v) }}} {
		if v := q.Get(n.name); v != "" {
			x, err := strconv.ParseInt(v, 10, 64)
			if err != nil || x < n.lo || x > n.hi {
				writeError(w, http.StatusBadRequest, "bad_request", fmt.Sprintf("%s %q: want a number from %d to %d", n.name, v, n.lo, n.hi))
				return
			}
			n.into(x)
		}
	}
	entries, err := s.AuditLog.Audit(r.Context(), f)
	if err != nil {
		s.serviceError(w, err)
		return
	}
	page := AuditPage{Entries: entries}
	if page.Entries == nil {
		page.Entries = []store.AuditEntry{}
	}
	if len(entries) == f.Limit && entries[len(entries)-1].Seq > 1 {
		page.Next = entries[len(entries)-1].Seq
	}
	writeJSON(w, http.StatusOK, page)
}

// AuditVerification is the answer of GET /api/v1/audit/verify.
type AuditVerification struct {
	OK      bool   `json:"ok"`
	Entries int64  `json:"entries"`
	Head    string `json:"head"`
	BadSeq  int64  `json:"bad_seq,omitempty"`
	Problem string `json:"problem,omitempty"`
}

func (s *Server) auditVerify(w http.ResponseWriter, r *http.Request) {
	rep, err := s.AuditLog.VerifyAudit(r.Context())
	v := AuditVerification{OK: err == nil, Entries: rep.Entries, Head: rep.Head}
	if ce, ok := err.(*store.ChainError); ok {
		v.BadSeq, v.Problem = ce.Seq, ce.Error()
	} else if err != nil {
		s.serviceError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}
