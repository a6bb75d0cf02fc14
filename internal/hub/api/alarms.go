package api

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
)

// Alarms lists and acknowledges the hub's alarms. Ack's error wraps ErrNotFound for an
// unknown alarm.
type Alarms interface {
	List(ctx context.Context, activeOnly bool) (any, error)
	Ack(ctx context.Context, id int64, by string) (any, error)
}

func (s *Server) listAlarms(w http.ResponseWriter, r *http.Request) {
	activeOnly := false
	switch q := r.URL.Query().Get("active"); q {
	case "", "0", "false":
	case "1", "true":
		activeOnly = true
	default:
		writeError(w, http.StatusBadRequest, "bad_request", fmt.Sprintf("active=%q: want 1 or 0", q))
		return
	}
	v, err := s.Alarms.List(r.Context(), activeOnly)
	if err != nil {
		s.serviceError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

func (s *Server) ackAlarm(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id < 1 {
		writeError(w, http.StatusBadRequest, "bad_request", fmt.Sprintf("invalid alarm ID %q", r.PathValue("id")))
		return
	}
	v, err := s.Alarms.Ack(r.Context(), id, callerOf(r).User)
	if err != nil {
		s.serviceError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}
