package hubcli

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/pem"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bailiff/bailiff/internal/pki"
	"github.com/bailiff/bailiff/internal/store"
)

// TestCAAndCRL: `hub ca` prints the CA (made once) and its fingerprint; `hub agents remove`
// revokes the agent's certificates, which `hub agents crl` then lists, signed by the CA.
func TestCAAndCRL(t *testing.T) {
	dir := t.TempDir()
	run := func(args ...string) (int, string, string) {
		var out, errb bytes.Buffer
		code := Main(args, strings.NewReader(""), &out, &errb)
		return code, out.String(), errb.String()
	}
	code, caPEM, stderr := run("ca", "--data", dir)
	if code != 0 {
		t.Fatalf("hub ca: %d %s", code, stderr)
	}
	certs, err := pki.ParseCertificates([]byte(caPEM))
	if err != nil || !strings.Contains(stderr, pki.Fingerprint(certs[0])) {
		t.Fatalf("hub ca printed %q / %q: %v", caPEM, stderr, err)
	}
	if _, again, _ := run("ca", "--data", dir); again != caPEM {
		t.Fatal("a second hub ca made another CA")
	}

	// An agent with a certificate, then removed.
	st, err := store.Open(filepath.Join(dir, "hub.db"))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := st.PutAgentCert(ctx, "abc123", "court", "r1", time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := st.PutAgentCert(ctx, "def456", "court", "r2", time.Now()); err != nil {
		t.Fatal(err)
	}
	st.Close()
	if code, _, stderr := run("agents", "remove", "court/r1", "--data", dir); code != 0 {
		t.Fatalf("agents remove: %d %s", code, stderr)
	}
	code, crlPEM, stderr := run("agents", "crl", "--data", dir)
	if code != 0 {
		t.Fatalf("agents crl: %d %s", code, stderr)
	}
	b, _ := pem.Decode([]byte(crlPEM))
	if b == nil || b.Type != "X509 CRL" {
		t.Fatalf("not a PEM CRL: %q", crlPEM)
	}
	rl, err := x509.ParseRevocationList(b.Bytes)
	if err != nil || rl.CheckSignatureFrom(certs[0]) != nil {
		t.Fatalf("CRL: %v", err)
	}
	if len(rl.RevokedCertificateEntries) != 1 || pki.SerialString(rl.RevokedCertificateEntries[0].SerialNumber) != "abc123" {
		t.Fatalf("CRL lists %v, want only abc123", rl.RevokedCertificateEntries)
	}
	if code, _, _ := run("agents", "remove", "court/r1", "--data", dir); code != 1 {
		t.Fatalf("removing again: %d, want 1", code)
	}
}
