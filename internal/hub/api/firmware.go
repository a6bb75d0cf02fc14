package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/bailiff/bailiff/internal/hub/auth"
	"github.com/bailiff/bailiff/internal/wire"
)

// MaxFirmware is the largest firmware image an upload may carry.
const MaxFirmware = 16 << 20

func isTechnician(role string) bool { return role == auth.RoleTechnician }

// uploadFirmware stores the request body as an image: POST /api/v1/firmware?device_type=…&version=…
// [&min_version=…], Content-Type application/octet-stream.
func (s *Server) uploadFirmware(w http.ResponseWriter, r *http.Request) {
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(ct, "application/octet-stream") {
		writeError(w, http.StatusUnsupportedMediaType, "bad_request", fmt.Sprintf("Content-Type %q: send the image as application/octet-stream", ct))
		return
	}
	q := r.URL.Query()
	if q.Get("device_type") == "" || q.Get("version") == "" {
		writeError(w, http.StatusBadRequest, "bad_request", "want the query parameters device_type and version")
		return
	}
	body := http.MaxBytesReader(w, r.Body, MaxFirmware)
	v, err := s.Firmware.Upload(r.Context(), q.Get("device_type"), q.Get("version"), q.Get("min_version"), body, callerOf(r).User)
	if err != nil {
		if strings.Contains(err.Error(), "http: request body too large") {
			writeError(w, http.StatusRequestEntityTooLarge, "bad_request", fmt.Sprintf("image larger than %d bytes", MaxFirmware))
			return
		}
		s.serviceError(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, v)
}

func (s *Server) listFirmware(w http.ResponseWriter, r *http.Request) {
	v, err := s.Firmware.List(r.Context())
	if err != nil {
		s.serviceError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

func (s *Server) getFirmware(w http.ResponseWriter, r *http.Request) {
	id, ok := s.recordingID(w, r)
	if !ok {
		return
	}
	v, err := s.Firmware.Get(r.Context(), id)
	if err != nil {
		s.serviceError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

// firmwareImage serves an image's bytes to a technician's session or to an agent presenting
// its credentials as "Authorization: Bearer agent.{site}.{room}.{secret}".
func (s *Server) firmwareImage(w http.ResponseWriter, r *http.Request) {
	if tok := bearer(r); strings.HasPrefix(tok, "agent.") {
		parts := strings.SplitN(strings.TrimPrefix(tok, "agent."), ".", 3)
		if len(parts) != 3 || !wire.ValidID(parts[0]) || !wire.ValidID(parts[1]) || s.AgentAuth == nil ||
			s.AgentAuth(r.Context(), parts[0], parts[1], parts[2]) != nil {
			w.Header().Set("WWW-Authenticate", `Bearer realm="bailiff", error="invalid_token"`)
			writeError(w, http.StatusUnauthorized, "unauthorized", "agent credentials not accepted")
			return
		}
		s.serveFirmware(w, r)
		return
	}
	s.authed(isTechnician, s.serveFirmware)(w, r)
}

func (s *Server) serveFirmware(w http.ResponseWriter, r *http.Request) {
	id, ok := s.recordingID(w, r)
	if !ok {
		return
	}
	f, _, err := s.Firmware.Open(r.Context(), id)
	if err != nil {
		s.serviceError(w, err)
		return
	}
	defer f.Close()
	w.Header().Set("Content-Type", "application/octet-stream")
	http.ServeContent(w, r, id+".bin", time.Time{}, f)
}

// startRollout: POST /api/v1/firmware/{id}/rollouts {"site","room","device"|"all","force"}.
func (s *Server) startRollout(w http.ResponseWriter, r *http.Request) {
	id, ok := s.recordingID(w, r)
	if !ok {
		return
	}
	var req json.RawMessage
	if !decodeBody(w, r, &req) {
		return
	}
	v, err := s.Firmware.StartRollout(r.Context(), id, req, callerOf(r).User)
	if err != nil {
		s.serviceError(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, v)
}

func (s *Server) getRollout(w http.ResponseWriter, r *http.Request) {
	id, ok := s.recordingID(w, r)
	if !ok {
		return
	}
	v, err := s.Firmware.GetRollout(r.Context(), id)
	if err != nil {
		s.serviceError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}
