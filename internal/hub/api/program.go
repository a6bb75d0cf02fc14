package api

import (
	"context"
	"net/http"
)

// Programs shows and sets rooms' program streams: voice following on or off, the camera
// picked by hand. Errors wrap ErrNotFound (no such room or no program) or ErrBadRequest.
type Programs interface {
	Program(ctx context.Context, site, room string) (any, error)
	SetProgram(ctx context.Context, site, room string, req ProgramRequest, by string) (any, error)
}

// ProgramRequest is the body of PUT /api/v1/rooms/{site}/{room}/program.
type ProgramRequest struct {
	Follow *bool  `json:"follow"`
	Camera string `json:"camera"`
}

func (s *Server) getProgram(w http.ResponseWriter, r *http.Request) {
	ids, ok := pathIDs(w, r, "site", "room")
	if !ok {
		return
	}
	v, err := s.Programs.Program(r.Context(), ids[0], ids[1])
	if err != nil {
		s.serviceError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

func (s *Server) putProgram(w http.ResponseWriter, r *http.Request) {
	ids, ok := pathIDs(w, r, "site", "room")
	if !ok {
		return
	}
	var req ProgramRequest
	if !decodeBody(w, r, &req) {
		return
	}
	v, err := s.Programs.SetProgram(r.Context(), ids[0], ids[1], req, callerOf(r).User)
	if err != nil {
		s.serviceError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}
