package api

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/bailiff/bailiff/internal/hub/registry"
	"github.com/bailiff/bailiff/internal/store"
	"github.com/bailiff/bailiff/internal/testutil/fuzzseed"
)

// goodRenewal is the one request oaRenewer accepts.
const goodRenewal = `{"certificate":"-----BEGIN CERTIFICATE-----\nok\n-----END CERTIFICATE-----\n","csr":"csr","time":"2026-11-29T15:00:00Z","signature":"c2ln"}`

// oaRenewer accepts only the certificate "ok" with the signature "sig"; it refuses the rest as
// the hub's does.
type oaRenewer struct{}

func (oaRenewer) RenewAgent(_ context.Context, r RenewRequest) (any, error) {
	if strings.Contains(r.Certificate, "\nok\n") && string(r.Sig) == "sig" && r.At.Equal(time.Date(2026, 11, 29, 15, 0, 0, 0, time.UTC)) {
		return map[string]any{"renewed": false, "ca": "ca"}, nil
	}
	return nil, fmt.Errorf("%w: the proof does not verify", ErrUnauthorized)
}

func newRenewServer() http.Handler {
	srv := &Server{Store: &fuzzStore{sessions: map[string]store.Session{}}, Registry: registry.New(registry.NewFeed(4), nil),
		Feed: registry.NewFeed(4), Provisioning: newOAProvisioning(), Renewer: oaRenewer{}}
	return srv.Handler()
}

// renewSeeds are FuzzRenewRequest's seeds (and the cases of TestRenewRequest).
var renewSeeds = []struct {
	name, body string
	want       int
}{
	{"good", goodRenewal, 200},
	{"bad proof", strings.Replace(goodRenewal, "c2ln", "eA==", 1), 401},
	{"no certificate", `{"csr":"x","time":"2026-11-29T15:00:00Z","signature":"c2ln"}`, 400},
	{"no csr", `{"certificate":"x","time":"2026-11-29T15:00:00Z","signature":"c2ln"}`, 400},
	{"bad time", strings.Replace(goodRenewal, "2026-11-29T15:00:00Z", "yesterday", 1), 400},
	{"bad base64", strings.Replace(goodRenewal, "c2ln", "!!", 1), 400},
	{"unknown field", strings.Replace(goodRenewal, `{"cert`, `{"x":1,"cert`, 1), 400},
	{"not json", `certificate`, 400},
	{"long certificate", `{"certificate":"` + strings.Repeat("A", 9000) + `","csr":"x","time":"2026-11-29T15:00:00Z","signature":"c2ln"}`, 400},
}

// POST /api/v1/renew: the proof decides (401 when refused), a malformed request is 400 with
// a message naming the field, and a well-formed one reaches the renewer.
func TestRenewRequest(t *testing.T) {
	h := newRenewServer()
	for i, c := range renewSeeds {
		req := httptest.NewRequest("POST", "/api/v1/renew", strings.NewReader(c.body))
		req.RemoteAddr = fmt.Sprintf("192.0.2.%d:1234", i+1)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		checkAnswer(t, c.body, w)
		if w.Code != c.want {
			t.Errorf("%s: %d %s, want %d", c.name, w.Code, w.Body, c.want)
		}
	}
	// Failed attempts from one address are limited like failed enrollments.
	var last int
	for range 8 {
		req := httptest.NewRequest("POST", "/api/v1/renew", strings.NewReader(renewSeeds[1].body))
		req.RemoteAddr = "198.51.100.7:1"
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		last = w.Code
	}
	if last != http.StatusTooManyRequests {
		t.Errorf("after 8 refused renewals from one address: %d, want 429", last)
	}
}

// FuzzRenewRequest: any body gets a clear answer, and only the one good proof a 200.
func FuzzRenewRequest(f *testing.F) {
	for _, s := range renewSeeds {
		f.Add(s.body)
	}
	var h http.Handler
	f.Fuzz(func(t *testing.T, body string) {
		if h == nil {
			h = newRenewServer()
		}
		req := httptest.NewRequest("POST", "/api/v1/renew", strings.NewReader(body))
		req.RemoteAddr = fmt.Sprintf("192.0.2.%d:1234", len(body)%250)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		checkAnswer(t, body, w)
		if w.Code == 200 && !strings.Contains(body, "ok") {
			t.Fatalf("%q renewed without the good proof", body)
		}
	})
}

// TestRenewSeedCorpus checks the seeds of FuzzRenewRequest under testdata/fuzz; run
// go test ./internal/hub/api -run TestRenewSeedCorpus -update-corpus to write them.
func TestRenewSeedCorpus(t *testing.T) {
	c := fuzzseed.Corpus{}
	for _, s := range renewSeeds {
		c.Add("FuzzRenewRequest", s.name, s.body)
	}
	fuzzseed.Check(t, c)
}
