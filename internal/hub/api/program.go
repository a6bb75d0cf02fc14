package api

import (
	"context"
	"errors"
	"io"
	"net/http"

	"github.com/bailiff/bailiff/internal/wire"
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
	if err := req.Check(); err != nil {
		writeError(w, http.StatusBadRequest, "bad_request", err.Error())
		return
	}
	v, err := s.Programs.SetProgram(r.Context(), ids[0], ids[1], req, callerOf(r).User)
	if err != nil {
		s.serviceError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

// Check says what is wrong with a request: it needs "follow" or "camera", and a camera is a
// stream name.
func (r ProgramRequest) Check() error {
	if r.Follow == nil && r.Camera == "" {
		return errors.New(`want "follow", "camera" or both`)
	}
	if r.Camera != "" {
		return wire.CheckID(`"camera"`, r.Camera)
	}
	return nil
}

// ParseProgramRequest decodes and checks a PUT …/program body, as the route does.
func ParseProgramRequest(body io.Reader) (ProgramRequest, error) {
	b, err := io.ReadAll(io.LimitReader(body, MaxBody+1))
	if err != nil {
		return ProgramRequest{}, err
	}
	var req ProgramRequest
	if err := decodeJSON(b, &req); err != nil {
		return req, err
	}
	return req, req.Check()
}
