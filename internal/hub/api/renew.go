package api

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"time"
)

// AgentRenewer renews agent client certificates (POST /api/v1/renew). Its refusals of the
// proof wrap ErrUnauthorized; a bad request ErrBadRequest; a hub that issues no certificates
// ErrNotFound.
type AgentRenewer interface {
	RenewAgent(ctx context.Context, req RenewRequest) (any, error)
}

// RenewRequest is an agent's renewal check: its current certificate, a request for a new
// one, and the proof that it holds the current certificate's key (pki.SignRenewal over Time
// and CSR).
type RenewRequest struct {
	Certificate string `json:"certificate"` // PEM
	CSR         string `json:"csr"`         // PEM
	Time        string `json:"time"`        // RFC 3339, when the proof was signed
	Signature   string `json:"signature"`   // base64 (standard), ECDSA ASN.1

	At  time.Time `json:"-"`
	Sig []byte    `json:"-"`
}

// maxCert bounds an agent certificate (PEM) in a renewal request.
const maxCert = 8 << 10

// Parse checks the request's fields and fills At and Sig.
func (r *RenewRequest) Parse() error {
	switch {
	case r.Certificate == "" || len(r.Certificate) > maxCert:
		return fmt.Errorf(`"certificate" is required (PEM, at most %d bytes)`, maxCert)
	case r.CSR == "" || len(r.CSR) > maxCSR:
		return fmt.Errorf(`"csr" is required (PEM, at most %d bytes)`, maxCSR)
	case len(r.Signature) > 512:
		return errors.New(`"signature" is longer than 512 characters`)
	}
	at, err := time.Parse(time.RFC3339, r.Time)
	if err != nil {
		return fmt.Errorf(`"time" %q: want RFC 3339, e.g. 2026-11-29T15:04:05Z`, r.Time)
	}
	sig, err := base64.StdEncoding.DecodeString(r.Signature)
	if err != nil || len(sig) == 0 {
		return errors.New(`"signature" is required: base64`)
	}
	r.At, r.Sig = at, sig
	return nil
}

// renew is POST /api/v1/renew. It needs no login: the agent's certificate and the proof
// that it holds its key are the credential. Failed attempts count against the client address
// like failed enrollments.
func (s *Server) renew(w http.ResponseWriter, r *http.Request) {
	host, ok := s.enrollAllowed(w, r, "renewal")
	if !ok {
		return
	}
	var req RenewRequest
	if !decodeBody(w, r, &req) {
		s.enrollLimit.fail(host, time.Now())
		return
	}
	if err := req.Parse(); err != nil {
		s.enrollLimit.fail(host, time.Now())
		writeError(w, http.StatusBadRequest, "bad_request", err.Error())
		return
	}
	v, err := s.Renewer.RenewAgent(r.Context(), req)
	switch {
	case errors.Is(err, ErrUnauthorized):
		s.enrollLimit.fail(host, time.Now())
		s.Log.Warn("certificate renewal refused", "client", host, "error", err)
		writeError(w, http.StatusUnauthorized, "unauthorized", err.Error())
	case err != nil:
		s.serviceError(w, err)
	default:
		writeJSON(w, http.StatusOK, v)
	}
}
