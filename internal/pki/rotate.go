package pki

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// CA rotation (mode self), in three steps with an overlap, so that no agent loses the hub:
//
//  1. Stage (hub ca rotate): a new CA is made beside the current one (ca-next.pem, .key). The
//     hub still issues with the current CA, but trusts agent certificates of both and gives
//     agents both to trust (at enrollment and at every renewal check).
//  2. Promote (hub ca promote): the new CA becomes the current one; the old CA goes to
//     ca-previous.pem and .key (still trusted, still given to agents, its key kept only to sign
//     revocation lists for an external broker). The hub's server certificate now comes from
//     the new CA, which the agents trust since step 1; an agent whose certificate the old CA
//     issued gets a new one at its next renewal check.
//  3. Retire (hub ca retire): the old CA is trusted no more (ca-previous.* go to retired/).
//     Agents that did not renew since step 2 must enroll again.
//
// One rotation at a time: a new one starts after the previous CA is retired.
//
// The hub reads the files at start: restart it after each step.

// File names of the rotation in the CA's directory.
const (
	CANextCertFile    = "ca-next.pem"
	CANextKeyFile     = "ca-next.key"
	CAPreviousFile    = "ca-previous.pem"
	CAPreviousKeyFile = "ca-previous.key"
	retiredDir        = "retired"
)

// Trust is a hub's CAs during a rotation: the one that issues, a staged next one, and old
// ones still trusted.
type Trust struct {
	Issuer   *CA
	Next     *CA                 // nil unless a rotation is staged
	Previous []*x509.Certificate // old CAs still trusted
	// PreviousCA is the previous CA with its key, when it is kept (to sign revocation lists).
	PreviousCA *CA
}

// LoadTrust loads the CA of dir (made on first use, as LoadOrCreateCA), and the staged and
// previous CAs when their files exist.
func LoadTrust(dir, name string) (*Trust, error) {
	ca, err := LoadOrCreateCA(dir, name)
	if err != nil {
		return nil, err
	}
	t := &Trust{Issuer: ca}
	if _, err := os.Stat(filepath.Join(dir, CANextKeyFile)); err == nil {
		if t.Next, err = LoadCA(filepath.Join(dir, CANextCertFile), filepath.Join(dir, CANextKeyFile)); err != nil {
			return nil, err
		}
	}
	data, err := os.ReadFile(filepath.Join(dir, CAPreviousFile))
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		return nil, fmt.Errorf("pki: previous CAs: %w", err)
	default:
		if t.Previous, err = ParseCertificates(data); err != nil {
			return nil, fmt.Errorf("pki: previous CAs %s: %w", filepath.Join(dir, CAPreviousFile), err)
		}
		if _, err := os.Stat(filepath.Join(dir, CAPreviousKeyFile)); err == nil {
			if t.PreviousCA, err = LoadCA(filepath.Join(dir, CAPreviousFile), filepath.Join(dir, CAPreviousKeyFile)); err != nil {
				return nil, err
			}
		}
	}
	return t, nil
}

// CRLs is a revocation list of serials from each CA whose key is at hand (the issuer, the
// staged next one, the previous one), PEM, one after the other: an external broker checking
// CRLs (mosquitto's crlfile) needs one from every CA it trusts.
func (t *Trust) CRLs(serials []string, number int64) ([]byte, error) {
	var out []byte
	for _, ca := range []*CA{t.Issuer, t.Next, t.PreviousCA} {
		if ca == nil || ca.Key == nil {
			continue
		}
		crl, err := ca.CRL(serials, number)
		if err != nil {
			return nil, err
		}
		out = append(out, crl...)
	}
	if out == nil {
		return nil, errors.New("pki: no CA key at hand to sign a revocation list")
	}
	return out, nil
}

// Certificates are every CA trusted: the issuer first, then the next, then the previous.
func (t *Trust) Certificates() []*x509.Certificate {
	out := []*x509.Certificate{t.Issuer.Cert}
	if t.Next != nil {
		out = append(out, t.Next.Cert)
	}
	return append(out, t.Previous...)
}

// Pool is a pool of every CA trusted.
func (t *Trust) Pool() *x509.CertPool {
	p := x509.NewCertPool()
	for _, c := range t.Certificates() {
		p.AddCert(c)
	}
	return p
}

// PEM is every CA trusted, PEM, the issuer first: what agents are given to trust.
func (t *Trust) PEM() []byte {
	var b bytes.Buffer
	for _, c := range t.Certificates() {
		pem.Encode(&b, &pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
	}
	return b.Bytes()
}

// StageCA is step 1: it makes the next CA in dir. It fails when one is staged already.
func StageCA(dir, name string) (*CA, error) {
	if _, err := os.Stat(filepath.Join(dir, CANextKeyFile)); err == nil {
		return nil, errors.New("pki: a CA rotation is staged already (ca-next.key): promote it first")
	}
	if _, err := os.Stat(filepath.Join(dir, CAPreviousFile)); err == nil {
		return nil, errors.New("pki: the previous CA is still trusted (ca-previous.pem): retire it first")
	}
	if _, err := os.Stat(filepath.Join(dir, CAKeyFile)); err != nil {
		return nil, fmt.Errorf("pki: no current CA to rotate in %s: %w", dir, err)
	}
	return loadOrCreateCA(filepath.Join(dir, CANextCertFile), filepath.Join(dir, CANextKeyFile), name)
}

// PromoteCA is step 2: the staged CA becomes the current one and the current one the previous
// one (ca-previous.pem and .key). It returns the previous CA's fingerprint.
func PromoteCA(dir string) (string, error) {
	cur, err := LoadCA(filepath.Join(dir, CACertFile), filepath.Join(dir, CAKeyFile))
	if err != nil {
		return "", err
	}
	if _, err := LoadCA(filepath.Join(dir, CANextCertFile), filepath.Join(dir, CANextKeyFile)); err != nil {
		return "", fmt.Errorf("pki: no staged CA to promote (hub ca rotate first): %w", err)
	}
	// The previous CA complete (certificate, then key) before the current one is replaced;
	// at no moment is a key without its certificate.
	if err := writeFile(filepath.Join(dir, CAPreviousFile), cur.PEM, 0o644); err != nil {
		return "", err
	}
	if err := os.Rename(filepath.Join(dir, CAKeyFile), filepath.Join(dir, CAPreviousKeyFile)); err != nil {
		return "", fmt.Errorf("pki: %w", err)
	}
	if err := os.Rename(filepath.Join(dir, CANextCertFile), filepath.Join(dir, CACertFile)); err != nil {
		return "", fmt.Errorf("pki: %w", err)
	}
	if err := os.Rename(filepath.Join(dir, CANextKeyFile), filepath.Join(dir, CAKeyFile)); err != nil {
		return "", fmt.Errorf("pki: %w", err)
	}
	return cur.Fingerprint(), nil
}

// RetirePreviousCAs is step 3: the previous CA is trusted no more; its certificate and key go
// to retired/. It returns where the key went ("" when there was no previous CA).
func RetirePreviousCAs(dir string, now time.Time) (string, error) {
	if _, err := os.Stat(filepath.Join(dir, CAPreviousFile)); errors.Is(err, os.ErrNotExist) {
		return "", nil
	}
	label := "ca-previous"
	if prev, err := LoadCA(filepath.Join(dir, CAPreviousFile), ""); err == nil {
		label = "ca-" + prev.Fingerprint()[:16]
	}
	if _, err := retire(dir, CAPreviousFile, label, now); err != nil {
		return "", err
	}
	if _, err := os.Stat(filepath.Join(dir, CAPreviousKeyFile)); errors.Is(err, os.ErrNotExist) {
		return filepath.Join(dir, retiredDir), nil
	}
	return retire(dir, CAPreviousKeyFile, label, now)
}

// retire moves dir/file into dir/retired/, named after label and now.
func retire(dir, file, label string, now time.Time) (string, error) {
	rd := filepath.Join(dir, retiredDir)
	if err := os.MkdirAll(rd, 0o700); err != nil {
		return "", fmt.Errorf("pki: %w", err)
	}
	to := filepath.Join(rd, label+"-"+now.UTC().Format("20060102T150405Z")+"-"+file)
	if err := os.Rename(filepath.Join(dir, file), to); err != nil {
		return "", fmt.Errorf("pki: %w", err)
	}
	return to, nil
}

// renewalContext separates renewal proofs from anything else an agent key signs.
const renewalContext = "bailiff-renew-v1\n"

// renewalDigest is the SHA-256 of what an agent signs to renew: the context, the time and the
// SHA-256 of its certificate request.
func renewalDigest(csrPEM []byte, at time.Time) []byte {
	h := sha256.Sum256(csrPEM)
	d := sha256.Sum256([]byte(renewalContext + at.UTC().Format(time.RFC3339) + "\n" + hex.EncodeToString(h[:])))
	return d[:]
}

// SignRenewal is an agent's proof that it holds the key of its current certificate: an ECDSA
// signature over the time and its new certificate request.
func SignRenewal(key crypto.Signer, csrPEM []byte, at time.Time) ([]byte, error) {
	ek, ok := key.(*ecdsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("pki: renewal: want an ECDSA key, got %T", key)
	}
	return ecdsa.SignASN1(rand.Reader, ek, renewalDigest(csrPEM, at))
}

// VerifyRenewal checks SignRenewal's proof with the public key of cert.
func VerifyRenewal(cert *x509.Certificate, csrPEM []byte, at time.Time, sig []byte) error {
	pub, ok := cert.PublicKey.(*ecdsa.PublicKey)
	if !ok {
		return errors.New("pki: renewal: the certificate's key is not ECDSA")
	}
	if !ecdsa.VerifyASN1(pub, renewalDigest(csrPEM, at), sig) {
		return errors.New("pki: renewal: the proof does not verify with the certificate's key")
	}
	return nil
}
