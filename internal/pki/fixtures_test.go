package pki

import (
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var writeFixtures = flag.Bool("fixtures", false, "write testdata's CA, key, request and certificate anew")

// TestWriteFixtures writes (test-only keys: nothing trusts this CA) the committed fixtures when asked (-fixtures); otherwise it checks
// that they still fit together.
func TestWriteFixtures(t *testing.T) {
	if *writeFixtures {
		dir := t.TempDir()
		ca, err := LoadOrCreateCA(dir, "fixture CA")
		if err != nil {
			t.Fatal(err)
		}
		agentKey, csr, err := NewAgentKey()
		if err != nil {
			t.Fatal(err)
		}
		cert, _, err := ca.SignAgent(csr, "court", "r1")
		if err != nil {
			t.Fatal(err)
		}
		key, _ := os.ReadFile(filepath.Join(dir, CAKeyFile))
		for name, b := range map[string][]byte{"ca.pem": ca.PEM, "ca.key": key, "agent.csr": csr, "agent.pem": cert, "agent.key": agentKey} {
			if err := os.WriteFile(filepath.Join("testdata", name), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	ca, err := LoadCA(filepath.Join("testdata", "ca.pem"), filepath.Join("testdata", "ca.key"))
	if err != nil {
		t.Fatal(err)
	}
	certs, err := ParseCertificates(fixture(t, "agent.pem"))
	if err != nil || certs[0].CheckSignatureFrom(ca.Cert) != nil {
		t.Fatalf("fixture agent certificate: %v", err)
	}
	if _, err := ParseCSR(fixture(t, "agent.csr")); err != nil {
		t.Fatal(err)
	}
}
