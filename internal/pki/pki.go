package pki

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/bailiff/bailiff/internal/wire"
)

// File names of the CA in its directory (the hub's data directory's keys/).
const (
	CACertFile = "ca.pem"
	CAKeyFile  = "ca.key"
)

// Lifetimes of what the CA issues.
const (
	CAValidity     = 20 * 365 * 24 * time.Hour
	ServerValidity = 2 * 365 * 24 * time.Hour
	AgentValidity  = 5 * 365 * 24 * time.Hour
)

// URIScheme is the scheme of an agent certificate's identity URI, bailiff:agent/{site}/{room}.
const URIScheme = "bailiff"

// CA is a certificate authority: its certificate and, when the hub made it, its key.
type CA struct {
	Cert *x509.Certificate
	Key  crypto.Signer // nil: the CA was given without its key; it issues nothing
	PEM  []byte        // the certificate, PEM
}

// Pool is a certificate pool holding only the CA.
func (ca *CA) Pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(ca.Cert)
	return p
}

// Fingerprint is the SHA-256 of the CA certificate, lower-case hex: what an agent pins on its
// first contact with the hub.
func (ca *CA) Fingerprint() string { return Fingerprint(ca.Cert) }

// Fingerprint is the SHA-256 of a certificate's DER bytes, lower-case hex.
func Fingerprint(c *x509.Certificate) string {
	s := sha256.Sum256(c.Raw)
	return hex.EncodeToString(s[:])
}

// NormalizeFingerprint accepts a fingerprint as hex with or without colons, upper or lower
// case, with or without a "sha256:" prefix, and returns it as Fingerprint gives it.
func NormalizeFingerprint(s string) (string, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	s = strings.TrimPrefix(s, "sha256:")
	s = strings.ReplaceAll(s, ":", "")
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != sha256.Size {
		return "", errors.New("pki: a CA fingerprint is 64 hex digits (SHA-256), colons allowed")
	}
	return s, nil
}

// LoadOrCreateCA loads the CA in dir (ca.pem, ca.key), making one on first use: an ECDSA
// P-256 key, written 0600, and a self-signed certificate named after name.
func LoadOrCreateCA(dir, name string) (*CA, error) {
	return loadOrCreateCA(filepath.Join(dir, CACertFile), filepath.Join(dir, CAKeyFile), name)
}

func loadOrCreateCA(certPath, keyPath, name string) (*CA, error) {
	if _, err := os.Stat(keyPath); err == nil {
		return LoadCA(certPath, keyPath)
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("pki: CA key: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(keyPath), 0o700); err != nil {
		return nil, fmt.Errorf("pki: %w", err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("pki: CA key: %w", err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          newSerial(),
		Subject:               pkix.Name{CommonName: name, Organization: []string{"Bailiff"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(CAValidity),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("pki: CA certificate: %w", err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("pki: CA key: %w", err)
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	// The certificate first: a key without its certificate would be an unusable CA.
	if err := writeFile(certPath, certPEM, 0o644); err != nil {
		return nil, err
	}
	if err := writeFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		return nil, err
	}
	cert, _ := x509.ParseCertificate(der)
	return &CA{Cert: cert, Key: key, PEM: certPEM}, nil
}

// LoadCA loads a CA certificate and, when keyPath is not "", its key.
func LoadCA(certPath, keyPath string) (*CA, error) {
	data, err := os.ReadFile(certPath)
	if err != nil {
		return nil, fmt.Errorf("pki: CA certificate: %w", err)
	}
	certs, err := ParseCertificates(data)
	if err != nil {
		return nil, fmt.Errorf("pki: CA certificate %s: %w", certPath, err)
	}
	ca := &CA{Cert: certs[0], PEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: certs[0].Raw})}
	if !ca.Cert.IsCA {
		return nil, fmt.Errorf("pki: CA certificate %s: not a CA certificate (basic constraints)", certPath)
	}
	if keyPath == "" {
		return ca, nil
	}
	kdata, err := os.ReadFile(keyPath)
	if err != nil {
		return nil, fmt.Errorf("pki: CA key: %w", err)
	}
	key, err := ParsePrivateKey(kdata)
	if err != nil {
		return nil, fmt.Errorf("pki: CA key %s: %w", keyPath, err)
	}
	if !publicEqual(key.Public(), ca.Cert.PublicKey) {
		return nil, fmt.Errorf("pki: CA key %s does not belong to the certificate %s", keyPath, certPath)
	}
	ca.Key = key
	return ca, nil
}

// ParseCertificates reads every CERTIFICATE block of PEM data; other blocks are skipped. It
// fails when there is none or one does not parse.
func ParseCertificates(data []byte) ([]*x509.Certificate, error) {
	var out []*x509.Certificate
	for n := 1; ; n++ {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			break
		}
		if b.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("PEM block %d: %w", n, err)
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		return nil, errors.New("no PEM CERTIFICATE block in it")
	}
	return out, nil
}

// ParsePrivateKey reads the first private key block of PEM data (PKCS#8, EC or PKCS#1 RSA).
func ParsePrivateKey(data []byte) (crypto.Signer, error) {
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			return nil, errors.New("no PEM private key block in it")
		}
		var k any
		var err error
		switch b.Type {
		case "PRIVATE KEY":
			k, err = x509.ParsePKCS8PrivateKey(b.Bytes)
		case "EC PRIVATE KEY":
			k, err = x509.ParseECPrivateKey(b.Bytes)
		case "RSA PRIVATE KEY":
			k, err = x509.ParsePKCS1PrivateKey(b.Bytes)
		default:
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", b.Type, err)
		}
		s, ok := k.(crypto.Signer)
		if !ok {
			return nil, fmt.Errorf("%s: unsupported key type %T", b.Type, k)
		}
		return s, nil
	}
}

func publicEqual(a, b crypto.PublicKey) bool {
	e, ok := a.(interface{ Equal(crypto.PublicKey) bool })
	return ok && e.Equal(b)
}

// IssueServer issues a server certificate for names (DNS names and IP addresses) with a new
// ECDSA P-256 key, valid ServerValidity.
func (ca *CA) IssueServer(names []string) (tls.Certificate, error) {
	return ca.IssueServerFor(names, ServerValidity)
}

// IssueServerFor is IssueServer with a validity of its own.
func (ca *CA) IssueServerFor(names []string, validity time.Duration) (tls.Certificate, error) {
	if ca.Key == nil {
		return tls.Certificate{}, errors.New("pki: the CA was given without its key; give a server certificate too")
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("pki: server key: %w", err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: newSerial(),
		Subject:      pkix.Name{CommonName: "bailiff hub", Organization: []string{"Bailiff"}},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(validity),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	for _, n := range names {
		if ip := net.ParseIP(n); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else if n != "" {
			tmpl.DNSNames = append(tmpl.DNSNames, n)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, &key.PublicKey, ca.Key)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("pki: server certificate: %w", err)
	}
	leaf, _ := x509.ParseCertificate(der)
	return tls.Certificate{Certificate: [][]byte{der, ca.Cert.Raw}, PrivateKey: key, Leaf: leaf}, nil
}

// AgentURI is the identity URI of the agent of site/room: bailiff:agent/{site}/{room}.
func AgentURI(site, room string) string { return URIScheme + ":" + wire.AgentUser(site, room) }

// SignAgent issues the agent of site/room a client certificate for the public key of a
// certificate signing request (PEM), whose signature must hold. Whatever the request names,
// the certificate names only site/room. It returns the certificate, PEM, and its serial.
func (ca *CA) SignAgent(csrPEM []byte, site, room string) (certPEM []byte, serial string, err error) {
	return ca.SignAgentFor(csrPEM, site, room, AgentValidity)
}

// SignAgentFor is SignAgent with a validity of its own.
func (ca *CA) SignAgentFor(csrPEM []byte, site, room string, validity time.Duration) (certPEM []byte, serial string, err error) {
	if ca.Key == nil {
		return nil, "", errors.New("pki: the CA was given without its key; it cannot issue agent certificates")
	}
	csr, err := ParseCSR(csrPEM)
	if err != nil {
		return nil, "", err
	}
	u, _ := url.Parse(AgentURI(site, room))
	now := time.Now()
	sn := newSerial()
	tmpl := &x509.Certificate{
		SerialNumber: sn,
		Subject:      pkix.Name{CommonName: wire.AgentUser(site, room), Organization: []string{"Bailiff"}},
		URIs:         []*url.URL{u},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(validity),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, csr.PublicKey, ca.Key)
	if err != nil {
		return nil, "", fmt.Errorf("pki: agent certificate: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), SerialString(sn), nil
}

// ParseCSR reads a PEM certificate signing request and checks its signature.
func ParseCSR(data []byte) (*x509.CertificateRequest, error) {
	b, _ := pem.Decode(data)
	if b == nil || b.Type != "CERTIFICATE REQUEST" {
		return nil, errors.New("pki: want a PEM CERTIFICATE REQUEST")
	}
	csr, err := x509.ParseCertificateRequest(b.Bytes)
	if err != nil {
		return nil, fmt.Errorf("pki: certificate request: %w", err)
	}
	if err := csr.CheckSignature(); err != nil {
		return nil, fmt.Errorf("pki: certificate request: %w", err)
	}
	switch k := csr.PublicKey.(type) {
	case *ecdsa.PublicKey:
		if k.Curve != elliptic.P256() && k.Curve != elliptic.P384() {
			return nil, errors.New("pki: certificate request: want an ECDSA P-256 or P-384 key")
		}
	default:
		return nil, fmt.Errorf("pki: certificate request: want an ECDSA key, got %T", k)
	}
	return csr, nil
}

// NewAgentKey makes an agent's ECDSA P-256 key and a certificate signing request for it;
// the key stays with the agent. It returns the key and the request, both PEM.
func NewAgentKey() (keyPEM, csrPEM []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("pki: agent key: %w", err)
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{
		Subject: pkix.Name{CommonName: "bailiff agent"}, // the hub names the room itself
	}, key)
	if err != nil {
		return nil, nil, fmt.Errorf("pki: certificate request: %w", err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, fmt.Errorf("pki: agent key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}),
		pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}), nil
}

// AgentIdentity returns the site and room an agent certificate is bound to: its
// bailiff:agent/{site}/{room} URI. ok is false for any other certificate.
func AgentIdentity(c *x509.Certificate) (site, room string, ok bool) {
	for _, u := range c.URIs {
		if u.Scheme == URIScheme && u.Opaque != "" {
			if s, r, ok := wire.ParseAgentUser(u.Opaque); ok {
				return s, r, true
			}
		}
	}
	return "", "", false
}

// SerialString is a certificate serial as lower-case hex, the form the hub stores.
func SerialString(n *big.Int) string { return n.Text(16) }

// CRL makes a certificate revocation list, PEM, of the given serials (as SerialString gives
// them), valid for a week; number must grow with each list.
func (ca *CA) CRL(serials []string, number int64) ([]byte, error) {
	if ca.Key == nil {
		return nil, errors.New("pki: the CA was given without its key; it cannot sign a CRL")
	}
	now := time.Now()
	var entries []x509.RevocationListEntry
	for _, s := range serials {
		n, ok := new(big.Int).SetString(s, 16)
		if !ok {
			return nil, fmt.Errorf("pki: CRL: serial %q is not hex", s)
		}
		entries = append(entries, x509.RevocationListEntry{SerialNumber: n, RevocationTime: now})
	}
	der, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{
		Number:                    big.NewInt(number),
		ThisUpdate:                now.Add(-time.Minute),
		NextUpdate:                now.Add(7 * 24 * time.Hour),
		RevokedCertificateEntries: entries,
	}, ca.Cert, ca.Key)
	if err != nil {
		return nil, fmt.Errorf("pki: CRL: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: der}), nil
}

func newSerial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		panic(err) // crypto/rand does not fail
	}
	return n.Add(n, big.NewInt(1))
}

func writeFile(path string, data []byte, mode os.FileMode) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, mode); err != nil {
		return fmt.Errorf("pki: %w", err)
	}
	if err := os.Chmod(tmp, mode); err != nil {
		return fmt.Errorf("pki: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("pki: %w", err)
	}
	return nil
}
