package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/bailiff/bailiff/internal/hub/auth"
	"github.com/bailiff/bailiff/internal/store"
	"github.com/bailiff/bailiff/internal/wire"
)

// MaxFirmware is the largest firmware image an upload may carry.
const MaxFirmware = 16 << 20

// uploadFirmware stores an image: either the raw body (application/octet-stream) with
// device_type, version and min_version in the query, or a multipart/form-data form with those
// fields and the image as the file "image".
func (s *Server) uploadFirmware(w http.ResponseWriter, r *http.Request) {
	ct := r.Header.Get("Content-Type")
	mt, _, _ := mime.ParseMediaType(ct)
	q := r.URL.Query()
	var body io.Reader
	switch mt {
	case "", "application/octet-stream":
		body = http.MaxBytesReader(w, r.Body, MaxFirmware)
	case "multipart/form-data":
		r.Body = http.MaxBytesReader(w, r.Body, MaxFirmware+64<<10)
		if err := r.ParseMultipartForm(1 << 20); err != nil {
			if strings.Contains(err.Error(), "request body too large") {
				writeError(w, http.StatusRequestEntityTooLarge, "bad_request", fmt.Sprintf("image larger than %d bytes", MaxFirmware))
				return
			}
			writeError(w, http.StatusBadRequest, "bad_request", "multipart form: "+err.Error())
			return
		}
		defer r.MultipartForm.RemoveAll()
		for _, k := range []string{"device_type", "version", "min_version"} {
			if v := r.MultipartForm.Value[k]; len(v) > 0 {
				q.Set(k, v[0])
			}
		}
		f, _, err := r.FormFile("image")
		if err != nil {
			writeError(w, http.StatusBadRequest, "bad_request", "multipart form: want the image as the file \"image\"")
			return
		}
		defer f.Close()
		body = f
	default:
		writeError(w, http.StatusUnsupportedMediaType, "bad_request",
			fmt.Sprintf("Content-Type %q: send the image as application/octet-stream or multipart/form-data", ct))
		return
	}
	if q.Get("device_type") == "" || q.Get("version") == "" {
		writeError(w, http.StatusBadRequest, "bad_request", "want device_type and version (query parameters or form fields)")
		return
	}
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
		var err error = auth.ErrMismatch
		if len(parts) == 3 && wire.ValidID(parts[0]) && wire.ValidID(parts[1]) && s.AgentAuth != nil {
			err = s.AgentAuth(r.Context(), parts[0], parts[1], parts[2])
		}
		switch {
		case err == nil:
			s.serveFirmware(w, r)
		case errors.Is(err, auth.ErrMismatch) || errors.Is(err, store.ErrNotFound):
			w.Header().Set("WWW-Authenticate", `Bearer realm="bailiff", error="invalid_token"`)
			writeError(w, http.StatusUnauthorized, "unauthorized", "agent credentials not accepted")
		default:
			// The credentials could not be checked (the hub is stopping, the store is away):
			// the agent tries again, as it does for any 5xx.
			s.Log.Warn("firmware image: agent credentials not checked", "site", parts[0], "error", err)
			w.Header().Set("Retry-After", "2")
			writeError(w, http.StatusServiceUnavailable, "unavailable", "the agent's credentials cannot be checked now; try again")
		}
		return
	}
	s.authed(auth.IsTechnician, s.serveFirmware)(w, r)
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
