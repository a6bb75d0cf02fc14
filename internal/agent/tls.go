package agent

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"

	"github.com/bailiff/bailiff/internal/pki"
)

// tlsSchemes are the broker URL schemes that speak TLS.
var tlsSchemes = map[string]bool{"ssl": true, "tls": true, "mqtts": true, "wss": true}

// TLSConfig is the TLS configuration for c's broker (and for HTTPS to the hub): it trusts the
// CA in the credentials (pinned at enrollment) and the certificates of caFile ("" for none),
// or the system's roots when there are neither, and presents the agent's client certificate
// when the credentials hold one. It is nil for a plain-text broker with no TLS material.
func (c Credentials) TLSConfig(caFile string) (*tls.Config, error) {
	u, err := url.Parse(c.Broker)
	secure := err == nil && tlsSchemes[strings.ToLower(u.Scheme)]
	if !secure && c.CA == "" && caFile == "" && c.Certificate == "" {
		return nil, nil
	}
	var roots *x509.CertPool
	add := func(what string, data []byte) error {
		certs, err := pki.ParseCertificates(data)
		if err != nil {
			return fmt.Errorf("agent: %s: %w", what, err)
		}
		if roots == nil {
			roots = x509.NewCertPool()
		}
		for _, ct := range certs {
			roots.AddCert(ct)
		}
		return nil
	}
	if c.CA != "" {
		if err := add("credentials ca", []byte(c.CA)); err != nil {
			return nil, err
		}
	}
	if caFile != "" {
		data, err := os.ReadFile(caFile)
		if err != nil {
			return nil, fmt.Errorf("agent: CA file: %w", err)
		}
		if err := add("CA file "+caFile, data); err != nil {
			return nil, err
		}
	}
	var cert *tls.Certificate
	switch {
	case c.Certificate != "" && c.Key != "":
		kp, err := tls.X509KeyPair([]byte(c.Certificate), []byte(c.Key))
		if err != nil {
			return nil, fmt.Errorf("agent: credentials certificate and key: %w", err)
		}
		cert = &kp
	case c.Certificate != "" || c.Key != "":
		return nil, errors.New("agent: credentials: a certificate needs its key and a key its certificate")
	}
	return pki.ClientConfig(roots, cert), nil
}
