package pki

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
)

// cipherSuites are the TLS 1.2 suites Bailiff offers: forward-secret AEAD only. TLS 1.3's
// suites are not configurable and all good.
var cipherSuites = []uint16{
	tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
	tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
	tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
	tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
	tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
	tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
}

// ServerConfig is the TLS configuration of a hub listener: TLS 1.2 or newer, forward-secret
// AEAD suites. With clientCAs, a client may present a certificate, which must then chain to
// them (the MQTT listener: agents with certificates, other logins with passwords).
func ServerConfig(cert tls.Certificate, clientCAs *x509.CertPool) *tls.Config {
	c := &tls.Config{
		MinVersion:   tls.VersionTLS12,
		CipherSuites: cipherSuites,
		Certificates: []tls.Certificate{cert},
	}
	if clientCAs != nil {
		c.ClientCAs = clientCAs
		c.ClientAuth = tls.VerifyClientCertIfGiven
	}
	return c
}

// ClientConfig is the TLS configuration of a client of the hub (the agent, the hub's own
// MQTT client): it trusts roots only (the system's when nil), TLS 1.2 or newer, and presents
// cert when it is not nil.
func ClientConfig(roots *x509.CertPool, cert *tls.Certificate) *tls.Config {
	c := &tls.Config{
		MinVersion:   tls.VersionTLS12,
		CipherSuites: cipherSuites,
		RootCAs:      roots,
	}
	if cert != nil {
		c.Certificates = []tls.Certificate{*cert}
	}
	return c
}

// PinnedConfig is a client TLS configuration for a first contact: it trusts a server whose
// chain includes a CA certificate with the given SHA-256 fingerprint (and verifies the server
// certificate against that CA). It is how `agent enroll` reaches an HTTPS hub before it has
// the hub's CA.
func PinnedConfig(fingerprint string) (*tls.Config, error) {
	fp, err := NormalizeFingerprint(fingerprint)
	if err != nil {
		return nil, err
	}
	c := ClientConfig(nil, nil)
	c.InsecureSkipVerify = true // verified below, against the pinned CA only
	c.VerifyConnection = func(cs tls.ConnectionState) error {
		return verifyPinned(cs, fp)
	}
	return c, nil
}

func verifyPinned(cs tls.ConnectionState, fp string) error {
	if len(cs.PeerCertificates) == 0 {
		return errors.New("pki: the server sent no certificate")
	}
	for _, c := range cs.PeerCertificates[1:] {
		if Fingerprint(c) != fp || !c.IsCA {
			continue
		}
		roots := x509.NewCertPool()
		roots.AddCert(c)
		_, err := cs.PeerCertificates[0].Verify(x509.VerifyOptions{
			Roots: roots, DNSName: cs.ServerName, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		})
		if err != nil {
			return fmt.Errorf("pki: server certificate against the pinned CA: %w", err)
		}
		return nil
	}
	return fmt.Errorf("pki: the server's chain has no CA with fingerprint %s", fp)
}
