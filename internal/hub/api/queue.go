package api

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/bailiff/bailiff/internal/config"
	"github.com/bailiff/bailiff/internal/hub/auth"
	"github.com/bailiff/bailiff/internal/hub/queue"
	"github.com/bailiff/bailiff/internal/wire"
)

// Queues is the litigation halls' ticket queues the queue routes drive.
type Queues interface {
	Queue(site, room string) (*queue.Queue, error)
	IssueAndPrint(ctx context.Context, site, room, service string, priority bool, source, printer string) (queue.Ticket, error)
	List() []queue.Summary
}

type issueRequest struct {
	Service  string `json:"service"`
	Priority bool   `json:"priority"`
	Printer  string `json:"printer"` // an escpos device of the queue's printers; "": none
}

type recallRequest struct {
	Number string `json:"number"` // a no-show to call back; "": announce the current ticket again
}

type transferRequest struct {
	Service string `json:"service"`
}

// queueError answers an error of the queue service.
func (s *Server) queueError(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, queue.ErrNotFound):
		writeError(w, http.StatusNotFound, "not_found", strings.TrimPrefix(err.Error(), "queue: not found: "))
	case errors.Is(err, queue.ErrConflict):
		writeError(w, http.StatusConflict, "conflict", strings.TrimPrefix(err.Error(), "queue: conflict: "))
	case errors.Is(err, queue.ErrBadArgs):
		writeError(w, http.StatusBadRequest, "bad_request", strings.TrimPrefix(err.Error(), "queue: bad request: "))
	default:
		s.Log.Error("queue", "error", err)
		writeError(w, http.StatusInternalServerError, "internal", "the queue could not be changed: "+err.Error())
	}
}

// queueOf finds the queue of the request's site and room, answering the error itself.
func (s *Server) queueOf(w http.ResponseWriter, r *http.Request, more ...string) (*queue.Queue, []string, bool) {
	ids, ok := pathIDs(w, r, append([]string{"site", "room"}, more...)...)
	if !ok {
		return nil, nil, false
	}
	if s.Queues == nil {
		writeError(w, http.StatusNotFound, "not_found", fmt.Sprintf("room %s/%s has no queue", ids[0], ids[1]))
		return nil, nil, false
	}
	q, err := s.Queues.Queue(ids[0], ids[1])
	if err != nil {
		s.queueError(w, err)
		return nil, nil, false
	}
	return q, ids, true
}

// decodeOptionalBody is decodeBody for a body that may be left out (or empty).
func decodeOptionalBody(w http.ResponseWriter, r *http.Request, v any) bool {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBody))
	if err != nil {
		writeError(w, http.StatusRequestEntityTooLarge, "bad_request", fmt.Sprintf("the body is larger than %d bytes", MaxBody))
		return false
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return true
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	return decodeBody(w, r, v)
}

func (s *Server) listQueues(w http.ResponseWriter, r *http.Request) {
	if s.Queues == nil {
		writeJSON(w, http.StatusOK, []queue.Summary{})
		return
	}
	writeJSON(w, http.StatusOK, s.Queues.List())
}

func (s *Server) liveQueue(w http.ResponseWriter, r *http.Request) {
	q, _, ok := s.queueOf(w, r)
	if !ok {
		return
	}
	l, err := q.Live(r.Context())
	if err != nil {
		s.queueError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, l)
}

func (s *Server) issueTicket(w http.ResponseWriter, r *http.Request) {
	_, ids, ok := s.queueOf(w, r)
	if !ok {
		return
	}
	var req issueRequest
	if !decodeBody(w, r, &req) {
		return
	}
	if msg := config.CheckServiceID(req.Service); msg != "" {
		writeError(w, http.StatusBadRequest, "bad_request", `"service": `+msg)
		return
	}
	if req.Printer != "" {
		if err := wire.CheckID("printer", req.Printer); err != nil {
			writeError(w, http.StatusBadRequest, "bad_request", err.Error())
			return
		}
	}
	c := callerOf(r)
	if req.Priority && !auth.CanOperateQueue(c.Role) {
		writeError(w, http.StatusForbidden, wire.CodeForbidden, fmt.Sprintf("the %s role may not issue priority tickets: window staff do", c.Role))
		return
	}
	t, err := s.Queues.IssueAndPrint(r.Context(), ids[0], ids[1], req.Service, req.Priority, c.Role+":"+c.User, req.Printer)
	if err != nil {
		s.queueError(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, t)
}

func (s *Server) getTicket(w http.ResponseWriter, r *http.Request) {
	q, _, ok := s.queueOf(w, r)
	if !ok {
		return
	}
	n := r.PathValue("number")
	if n == "" || len(n) > 16 || strings.ContainsFunc(n, func(c rune) bool { return !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') }) {
		writeError(w, http.StatusBadRequest, "bad_request", fmt.Sprintf("invalid ticket number %q: want capital letters and digits such as A001", n))
		return
	}
	t, err := q.Ticket(r.Context(), n)
	if err != nil {
		s.queueError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, t)
}

// windowAction serves the routes of a window: call-next, recall, no-show, transfer, complete.
func (s *Server) windowAction(action string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		q, ids, ok := s.queueOf(w, r, "window")
		if !ok {
			return
		}
		win := ids[2]
		var (
			t   queue.Ticket
			err error
		)
		switch action {
		case "call-next", "no-show", "complete":
			var none struct{}
			if !decodeOptionalBody(w, r, &none) {
				return
			}
			switch action {
			case "call-next":
				t, err = q.CallNext(r.Context(), win)
			case "no-show":
				t, err = q.NoShow(r.Context(), win)
			default:
				t, err = q.Complete(r.Context(), win)
			}
		case "recall":
			var req recallRequest
			if !decodeOptionalBody(w, r, &req) {
				return
			}
			if len(req.Number) > 16 {
				writeError(w, http.StatusBadRequest, "bad_request", `"number" is longer than 16 characters`)
				return
			}
			t, err = q.Recall(r.Context(), win, req.Number)
		case "transfer":
			var req transferRequest
			if !decodeBody(w, r, &req) {
				return
			}
			if msg := config.CheckServiceID(req.Service); msg != "" {
				writeError(w, http.StatusBadRequest, "bad_request", `"service": `+msg)
				return
			}
			t, err = q.Transfer(r.Context(), win, req.Service)
		}
		if err != nil {
			s.queueError(w, err)
			return
		}
		writeJSON(w, http.StatusOK, t)
	}
}

// queueStats serves the statistics; from and to are RFC 3339 times or dates (YYYY-MM-DD, in
// the queue's time zone; a date "to" counts its whole day); default the last 7 days.
func (s *Server) queueStats(w http.ResponseWriter, r *http.Request) {
	q, _, ok := s.queueOf(w, r)
	if !ok {
		return
	}
	now := time.Now()
	from, to := now.Add(-7*24*time.Hour), now
	for _, p := range []struct {
		name string
		dst  *time.Time
	}{{"from", &from}, {"to", &to}} {
		v := r.URL.Query().Get(p.name)
		if v == "" {
			continue
		}
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			if t, err = time.ParseInLocation(time.DateOnly, v, q.Location()); err == nil && p.name == "to" {
				t = t.AddDate(0, 0, 1)
			}
		}
		if err != nil {
			writeError(w, http.StatusBadRequest, "bad_request", fmt.Sprintf("%q: want an RFC 3339 time (2026-11-29T09:00:00+08:00) or a date (2026-11-29), got %q", p.name, v))
			return
		}
		*p.dst = t
	}
	st, err := q.Stats(r.Context(), from, to)
	if err != nil {
		s.queueError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, st)
}
