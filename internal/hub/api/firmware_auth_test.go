package api

import (
	"context"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"testing"

	"github.com/bailiff/bailiff/internal/hub/auth"
	"github.com/bailiff/bailiff/internal/store"
)

// An agent fetching an image: wrong or unknown credentials are a 401 (the agent gives up); credentials
// the hub could not check (stopping, store away) are a 503 with Retry-After (the agent tries
// again), never a 401.
func TestFirmwareImageAgentAuth(t *testing.T) {
	for _, c := range []struct {
		err  error
		want int
	}{
		{auth.ErrMismatch, 401},
		{store.ErrNotFound, 401},
		{fmt.Errorf("store: agent court/r1: %w", context.Canceled), 503},
	} {
		s := &Server{Log: slog.New(slog.DiscardHandler), AgentAuth: func(context.Context, string, string, string) error { return c.err }}
		w := httptest.NewRecorder()
		r := httptest.NewRequest("GET", "/api/v1/firmware/images/fw-1", nil)
		r.Header.Set("Authorization", "Bearer agent.court.r1.secret")
		s.firmwareImage(w, r)
		if w.Code != c.want || (c.want == 503) != (w.Header().Get("Retry-After") != "") {
			t.Errorf("%v: %d (Retry-After %q), want %d", c.err, w.Code, w.Header().Get("Retry-After"), c.want)
		}
	}
	s := &Server{Log: slog.New(slog.DiscardHandler)}
	for _, tok := range []string{"agent.court", "agent.Bad!.r1.x"} {
		w := httptest.NewRecorder()
		r := httptest.NewRequest("GET", "/api/v1/firmware/images/fw-1", nil)
		r.Header.Set("Authorization", "Bearer "+tok)
		s.firmwareImage(w, r)
		if w.Code != 401 {
			t.Errorf("%s: %d, want 401", tok, w.Code)
		}
	}
}
