package pki

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bailiff/bailiff/internal/testutil/fuzzseed"
)

func newCA(t *testing.T) (*CA, string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "keys")
	ca, err := LoadOrCreateCA(dir, "test CA")
	if err != nil {
		t.Fatal(err)
	}
	return ca, dir
}

func TestCAMadeOnceKeptSecret(t *testing.T) {
	ca, dir := newCA(t)
	fi, err := os.Stat(filepath.Join(dir, CAKeyFile))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("CA key mode: %v %v", fi, err)
	}
	k, ok := ca.Key.(*ecdsa.PrivateKey)
	if !ok || k.Curve != elliptic.P256() || !ca.Cert.IsCA {
		t.Fatalf("CA key %T, IsCA %v", ca.Key, ca.Cert.IsCA)
	}
	again, err := LoadOrCreateCA(dir, "test CA")
	if err != nil || !again.Cert.Equal(ca.Cert) || again.Fingerprint() != ca.Fingerprint() {
		t.Fatalf("second start made another CA: %v", err)
	}
	// A key that is not the certificate's is refused.
	_, odir := newCA(t)
	if _, err := LoadCA(filepath.Join(dir, CACertFile), filepath.Join(odir, CAKeyFile)); err == nil || !strings.Contains(err.Error(), "does not belong") {
		t.Fatalf("mismatched CA key: %v", err)
	}
}

func TestServerAndAgentCertificates(t *testing.T) {
	ca, _ := newCA(t)
	srv, err := ca.IssueServer([]string{"hub.court.example", "127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"hub.court.example", "127.0.0.1"} {
		if _, err := srv.Leaf.Verify(x509.VerifyOptions{Roots: ca.Pool(), DNSName: name}); err != nil {
			t.Fatalf("server certificate for %s: %v", name, err)
		}
	}
	if _, err := srv.Leaf.Verify(x509.VerifyOptions{Roots: ca.Pool(), DNSName: "evil.example"}); err == nil {
		t.Fatal("the server certificate verified for a name it does not hold")
	}

	keyPEM, csrPEM, err := NewAgentKey()
	if err != nil {
		t.Fatal(err)
	}
	certPEM, serial, err := ca.SignAgent(csrPEM, "court", "r1")
	if err != nil {
		t.Fatal(err)
	}
	kp, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ := x509.ParseCertificate(kp.Certificate[0])
	if s, r, ok := AgentIdentity(leaf); !ok || s != "court" || r != "r1" || leaf.Subject.CommonName != "agent/court/r1" || SerialString(leaf.SerialNumber) != serial {
		t.Fatalf("agent certificate names %s/%s (%v), CN %q, serial %s/%s", s, r, ok, leaf.Subject.CommonName, SerialString(leaf.SerialNumber), serial)
	}
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: ca.Pool(), KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		t.Fatal(err)
	}
	if _, _, ok := AgentIdentity(srv.Leaf); ok {
		t.Fatal("the server certificate has an agent identity")
	}

	// An RSA request, a tampered request and garbage are refused.
	rk, _ := rsa.GenerateKey(rand.Reader, 2048)
	der, _ := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{}, rk)
	for name, bad := range map[string][]byte{
		"rsa":      pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}),
		"tampered": tamper(csrPEM),
		"garbage":  []byte("hello"),
	} {
		if _, _, err := ca.SignAgent(bad, "court", "r1"); err == nil {
			t.Errorf("%s request signed", name)
		}
	}

	crl, err := ca.CRL([]string{serial}, 1)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := pem.Decode(crl)
	rl, err := x509.ParseRevocationList(b.Bytes)
	if err != nil || rl.CheckSignatureFrom(ca.Cert) != nil || len(rl.RevokedCertificateEntries) != 1 || SerialString(rl.RevokedCertificateEntries[0].SerialNumber) != serial {
		t.Fatalf("CRL: %v", err)
	}
}

// tamper flips a byte of the request's signed body.
func tamper(csrPEM []byte) []byte {
	b, _ := pem.Decode(csrPEM)
	der := append([]byte(nil), b.Bytes...)
	der[len(der)/3] ^= 0x01
	return pem.EncodeToMemory(&pem.Block{Type: b.Type, Bytes: der})
}

// TestPinnedConfig: a client pinning the CA's fingerprint reaches a server of that CA, and not
// one of another CA; TLS 1.1 is never spoken.
func TestPinnedConfig(t *testing.T) {
	ca, _ := newCA(t)
	other, _ := newCA(t)
	for _, tc := range []struct {
		name   string
		server *CA
		pin    string
		ok     bool
	}{
		{"right pin", ca, ca.Fingerprint(), true},
		{"right pin, colons and case", ca, strings.ToUpper(colons(ca.Fingerprint())), true},
		{"wrong CA", other, ca.Fingerprint(), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cert, err := tc.server.IssueServer([]string{"127.0.0.1"})
			if err != nil {
				t.Fatal(err)
			}
			ln, err := tls.Listen("tcp", "127.0.0.1:0", ServerConfig(cert, nil))
			if err != nil {
				t.Fatal(err)
			}
			defer ln.Close()
			go func() {
				c, err := ln.Accept()
				if err == nil {
					c.(*tls.Conn).Handshake()
					io.Copy(io.Discard, c)
					c.Close()
				}
			}()
			cfg, err := PinnedConfig(tc.pin)
			if err != nil {
				t.Fatal(err)
			}
			c, err := tls.Dial("tcp", ln.Addr().String(), cfg)
			if (err == nil) != tc.ok {
				t.Fatalf("dial: %v, want ok %v", err, tc.ok)
			}
			if err == nil {
				if c.ConnectionState().Version < tls.VersionTLS12 {
					t.Fatal("below TLS 1.2")
				}
				c.Close()
			}
		})
	}
	if _, err := PinnedConfig("abc"); err == nil {
		t.Fatal("a short fingerprint was taken")
	}
}

func colons(hex string) string {
	var b strings.Builder
	for i := 0; i < len(hex); i += 2 {
		if i > 0 {
			b.WriteByte(':')
		}
		b.WriteString(hex[i : i+2])
	}
	return b.String()
}

// The committed fixtures: a CA, its key, an agent's request and certificate (made once by
// TestSeedCorpus -update-corpus -fixtures; they never expire in a test, which checks no dates).
func fixture(t testing.TB, name string) []byte {
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// FuzzParseCertificates: whatever bytes a config's certificate file holds, the parser returns
// certificates or an error, and never panics.
func FuzzParseCertificates(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		certs, err := ParseCertificates(data)
		if err == nil && len(certs) == 0 {
			t.Fatal("no error and no certificate")
		}
	})
}

// FuzzParsePrivateKey: any bytes as a key file.
func FuzzParsePrivateKey(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		k, err := ParsePrivateKey(data)
		if err == nil && k == nil {
			t.Fatal("no error and no key")
		}
	})
}

// FuzzSignAgent: any certificate request an enrolling agent sends is signed only when it
// parses and verifies, and the certificate then names exactly the token's room.
func FuzzSignAgent(f *testing.F) {
	dir := f.TempDir()
	ca, err := LoadOrCreateCA(dir, "fuzz CA")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, csr []byte) {
		certPEM, _, err := ca.SignAgent(csr, "court", "r1")
		if err != nil {
			return
		}
		certs, err := ParseCertificates(certPEM)
		if err != nil {
			t.Fatal(err)
		}
		if s, r, ok := AgentIdentity(certs[0]); !ok || s != "court" || r != "r1" {
			t.Fatalf("signed certificate names %s/%s", s, r)
		}
	})
}

func TestSeedCorpus(t *testing.T) {
	c := fuzzseed.Corpus{}
	caPEM, keyPEM, csrPEM, certPEM := fixture(t, "ca.pem"), fixture(t, "ca.key"), fixture(t, "agent.csr"), fixture(t, "agent.pem")
	c.Add("FuzzParseCertificates", "ca", caPEM)
	c.Add("FuzzParseCertificates", "chain", append(append([]byte(nil), certPEM...), caPEM...))
	c.Add("FuzzParseCertificates", "key only", keyPEM)
	c.Add("FuzzParseCertificates", "truncated", caPEM[:len(caPEM)/2])
	c.Add("FuzzParseCertificates", "empty", []byte{})
	c.Add("FuzzParsePrivateKey", "pkcs8", keyPEM)
	c.Add("FuzzParsePrivateKey", "cert only", caPEM)
	c.Add("FuzzParsePrivateKey", "ec header", []byte("-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----\n"))
	c.Add("FuzzSignAgent", "request", csrPEM)
	c.Add("FuzzSignAgent", "tampered", tamper(csrPEM))
	c.Add("FuzzSignAgent", "certificate", certPEM)
	fuzzseed.Check(t, c)
	fuzzseed.CheckFormat(t)
}
