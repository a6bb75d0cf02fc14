package pki

import (
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// The three steps of a CA rotation and what each trusts; the steps out of order fail.
func TestCARotationSteps(t *testing.T) {
	dir := t.TempDir()
	if _, err := StageCA(dir, "next"); err == nil {
		t.Fatal("staged a rotation without a CA")
	}
	old, err := LoadOrCreateCA(dir, "old")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := PromoteCA(dir); err == nil {
		t.Fatal("promoted without a staged CA")
	}
	next, err := StageCA(dir, "next")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := StageCA(dir, "again"); err == nil {
		t.Fatal("staged twice")
	}
	tr, err := LoadTrust(dir, "x")
	if err != nil || !tr.Issuer.Cert.Equal(old.Cert) || tr.Next == nil || !tr.Next.Cert.Equal(next.Cert) || len(tr.Certificates()) != 2 {
		t.Fatalf("staged trust: %+v %v", tr, err)
	}
	certs, err := ParseCertificates(tr.PEM())
	if err != nil || len(certs) != 2 || !certs[0].Equal(old.Cert) {
		t.Fatalf("trust PEM: %v %v", certs, err)
	}
	if fp, err := PromoteCA(dir); err != nil || fp != old.Fingerprint() {
		t.Fatalf("promote: %s %v", fp, err)
	}
	if fi, err := os.Stat(filepath.Join(dir, CAPreviousKeyFile)); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("previous key: %v %v", fi, err)
	}
	tr, err = LoadTrust(dir, "x")
	if err != nil || !tr.Issuer.Cert.Equal(next.Cert) || tr.Issuer.Key == nil || tr.Next != nil || len(tr.Previous) != 1 ||
		!tr.Previous[0].Equal(old.Cert) || tr.PreviousCA == nil || tr.PreviousCA.Key == nil {
		t.Fatalf("promoted trust: %+v %v", tr, err)
	}
	if _, err := StageCA(dir, "too soon"); err == nil {
		t.Fatal("staged a rotation while the previous CA is trusted")
	}
	crls, err := tr.CRLs([]string{"abc"}, 1)
	if err != nil {
		t.Fatal(err)
	}
	for i, ca := range []*CA{tr.Issuer, tr.PreviousCA} {
		b, rest := pem.Decode(crls)
		crls = rest
		l, err := x509.ParseRevocationList(b.Bytes)
		if err != nil || l.CheckSignatureFrom(ca.Cert) != nil || len(l.RevokedCertificateEntries) != 1 {
			t.Fatalf("CRL %d: %v", i, err)
		}
	}
	retired, err := RetirePreviousCAs(dir, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(retired); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("retired key %s: %v %v", retired, fi, err)
	}
	if r, err := RetirePreviousCAs(dir, time.Now()); r != "" || err != nil {
		t.Fatalf("retiring again: %q %v", r, err)
	}
	tr, err = LoadTrust(dir, "x")
	if err != nil || len(tr.Certificates()) != 1 || !tr.Issuer.Cert.Equal(next.Cert) {
		t.Fatalf("after retire: %+v %v", tr, err)
	}
	if m, _ := filepath.Glob(filepath.Join(dir, "retired", "*")); len(m) != 2 {
		t.Errorf("retired files: %v", m)
	}
}

// A renewal proof verifies with the certificate's key only, for that request and time.
func TestRenewalProof(t *testing.T) {
	ca, err := LoadOrCreateCA(t.TempDir(), "ca")
	if err != nil {
		t.Fatal(err)
	}
	keyPEM, csrPEM, _ := NewAgentKey()
	certPEM, _, err := ca.SignAgent(csrPEM, "court", "r1")
	if err != nil {
		t.Fatal(err)
	}
	certs, _ := ParseCertificates(certPEM)
	key, _ := ParsePrivateKey(keyPEM)
	_, newCSR, _ := NewAgentKey()
	at := time.Date(2026, 11, 29, 15, 0, 0, 0, time.UTC)
	sig, err := SignRenewal(key, newCSR, at)
	if err != nil {
		t.Fatal(err)
	}
	if err := VerifyRenewal(certs[0], newCSR, at, sig); err != nil {
		t.Fatal(err)
	}
	otherKey, _, _ := NewAgentKey()
	ok2, _ := ParsePrivateKey(otherKey)
	bad, _ := SignRenewal(ok2, newCSR, at)
	for name, f := range map[string]func() error{
		"another time":    func() error { return VerifyRenewal(certs[0], newCSR, at.Add(time.Second), sig) },
		"another request": func() error { return VerifyRenewal(certs[0], csrPEM, at, sig) },
		"another key":     func() error { return VerifyRenewal(certs[0], newCSR, at, bad) },
		"not ECDSA":       func() error { return VerifyRenewal(&x509.Certificate{PublicKey: "x"}, newCSR, at, sig) },
	} {
		if f() == nil {
			t.Errorf("%s verified", name)
		}
	}
}
