package agent

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/bailiff/bailiff/internal/pki"
	"github.com/bailiff/bailiff/internal/testutil/fuzzseed"
)

func renewAnswer(renewed bool, ca, cert string) []byte {
	b, _ := json.Marshal(map[string]any{"renewed": renewed, "ca": ca, "certificate": cert, "not_after": "2031-01-01T00:00:00Z"})
	return b
}

// renewFixtures are credentials of court/r1 (the pki fixtures) and a new key; the fixture
// certificate stands for the one the hub issued for it.
func renewFixtures(t testing.TB) (Credentials, []byte, []byte, []byte) {
	caPEM, keyPEM, certPEM := tlsFixtures(t)
	c := Credentials{Broker: "ssl://127.0.0.1:8883", Username: "agent/court/r1", CA: string(caPEM), Certificate: "old", Key: "old-key", Hub: "https://hub:8443"}
	return c, caPEM, keyPEM, certPEM
}

// The agent takes from a renewal answer the CAs and, when renewed, a certificate only if it is
// from the first CA given, for the new key, and names its own room; an error answer is
// reported with the hub's message.
func TestRenewAnswer(t *testing.T) {
	c, caPEM, keyPEM, certPEM := renewFixtures(t)
	other, _, _ := pki.NewAgentKey()
	for _, tc := range []struct {
		name    string
		raw     []byte
		key     []byte
		ok      bool
		changed bool
	}{
		{"CA only", renewAnswer(false, string(caPEM), ""), keyPEM, true, false},
		{"renewed", renewAnswer(true, string(caPEM), string(certPEM)), keyPEM, true, true},
		{"for another key", renewAnswer(true, string(caPEM), string(certPEM)), other, false, false},
		{"certificate as CA", renewAnswer(false, string(certPEM), ""), keyPEM, false, false},
		{"no CA", renewAnswer(false, "", ""), keyPEM, false, false},
		{"garbage", []byte("{"), keyPEM, false, false},
	} {
		got, changed, err := parseRenewAnswer(200, "200 OK", tc.raw, c, tc.key)
		if (err == nil) != tc.ok || changed != tc.changed {
			t.Errorf("%s: changed %v, %v", tc.name, changed, err)
		}
		if err == nil && changed && (got.Key != string(tc.key) || got.Hub != c.Hub) {
			t.Errorf("%s: kept %v", tc.name, got)
		}
	}
	_, _, err := parseRenewAnswer(401, "401 Unauthorized", []byte(`{"error":{"code":"unauthorized","message":"the certificate of court/r1 is revoked"}}`), c, keyPEM)
	if err == nil || !strings.Contains(err.Error(), "revoked") {
		t.Errorf("a refusal: %v", err)
	}
}

// FuzzRenewAnswer: whatever a hub answers, the agent keeps a certificate only if it is from the
// first CA given, for its new key, and names its room, and what it keeps makes a TLS
// configuration.
func FuzzRenewAnswer(f *testing.F) {
	c, _, keyPEM, _ := renewFixtures(f)
	f.Fuzz(func(t *testing.T, raw []byte) {
		got, changed, err := parseRenewAnswer(200, "200 OK", raw, c, keyPEM)
		if err != nil || !changed || got.Certificate == c.Certificate {
			return
		}
		if _, err := got.TLSConfig(""); err != nil {
			t.Fatalf("kept credentials that make no TLS configuration: %v", err)
		}
		cas, _ := pki.ParseCertificates([]byte(got.CA))
		cs, err := pki.ParseCertificates([]byte(got.Certificate))
		if err != nil || len(cas) == 0 {
			t.Fatal(err)
		}
		if s, r, ok := pki.AgentIdentity(cs[0]); !ok || s != "court" || r != "r1" || cs[0].CheckSignatureFrom(cas[0]) != nil {
			t.Fatalf("kept a certificate for %s/%s not from the CA", s, r)
		}
	})
}

// TestRenewSeedCorpus checks (or, with -update-corpus, writes) the committed seeds of
// FuzzRenewAnswer, made from the pki fixtures.
func TestRenewSeedCorpus(t *testing.T) {
	_, caPEM, _, certPEM := renewFixtures(t)
	c := fuzzseed.Corpus{}
	c.Add("FuzzRenewAnswer", "renewed", renewAnswer(true, string(caPEM), string(certPEM)))
	c.Add("FuzzRenewAnswer", "ca only", renewAnswer(false, string(caPEM), ""))
	c.Add("FuzzRenewAnswer", "two cas", renewAnswer(false, string(caPEM)+string(caPEM), ""))
	c.Add("FuzzRenewAnswer", "swapped", renewAnswer(true, string(certPEM), string(caPEM)))
	fuzzseed.Check(t, c)
}
