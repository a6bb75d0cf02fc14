package agent

import (
	"bytes"
	"context"
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/bailiff/bailiff/internal/pki"
	"github.com/bailiff/bailiff/internal/wire"
)

// Certificate renewal: an agent with a client certificate asks the hub (POST /api/v1/renew)
// at start and every RenewEvery whether it needs a new certificate, proving with its current
// key that it holds the certificate. The hub answers with the CAs to trust (which change during
// a CA rotation) and, when due, a certificate for a new key. The agent writes both to its
// credentials file and uses them from the next connection on, without a restart (LiveTLS).

// DefaultRenewEvery is how often an agent checks its certificate with the hub.
const DefaultRenewEvery = 12 * time.Hour

// LiveTLS is a client TLS configuration whose trusted CAs and client certificate may change
// while it is in use: each new connection takes the current ones.
type LiveTLS struct {
	roots atomic.Pointer[x509.CertPool]
	cert  atomic.Pointer[tls.Certificate]
}

// NewLiveTLS makes a LiveTLS from credentials holding a CA and a certificate.
func NewLiveTLS(c Credentials) (*LiveTLS, error) {
	l := &LiveTLS{}
	return l, l.Update(c)
}

// Update makes new connections trust c's CAs and present c's certificate.
func (l *LiveTLS) Update(c Credentials) error {
	tc, err := c.TLSConfig("")
	if err != nil {
		return err
	}
	if tc == nil || tc.RootCAs == nil || len(tc.Certificates) != 1 {
		return errors.New("agent: certificate renewal needs credentials with a CA, a certificate and its key")
	}
	l.roots.Store(tc.RootCAs)
	l.cert.Store(&tc.Certificates[0])
	return nil
}

// Certificate is the client certificate presented now.
func (l *LiveTLS) Certificate() *tls.Certificate { return l.cert.Load() }

// Config is the TLS configuration to connect with (the broker's, the hub's HTTPS).
func (l *LiveTLS) Config() *tls.Config {
	c := pki.ClientConfig(nil, nil)
	// The server is verified below, against the CAs trusted at the moment of the handshake.
	c.InsecureSkipVerify = true
	c.VerifyConnection = func(cs tls.ConnectionState) error {
		if len(cs.PeerCertificates) == 0 {
			return errors.New("agent: the server sent no certificate")
		}
		inter := x509.NewCertPool()
		for _, ic := range cs.PeerCertificates[1:] {
			inter.AddCert(ic)
		}
		_, err := cs.PeerCertificates[0].Verify(x509.VerifyOptions{Roots: l.roots.Load(), Intermediates: inter,
			DNSName: cs.ServerName, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}})
		return err
	}
	c.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return l.cert.Load(), nil }
	return c
}

// RenewResult is the hub's answer to a renewal check.
type RenewResult struct {
	Renewed     bool      `json:"renewed"`
	Certificate string    `json:"certificate"`
	CA          string    `json:"ca"`
	NotAfter    time.Time `json:"not_after"`
}

// RenewCheck asks the hub at hubURL whether c's certificate needs renewing and returns the
// credentials to use from now on (c with the CAs the hub trusts and, when renewed, the new
// certificate and key) and whether they changed. client carries c's trust (nil: one made from c).
func RenewCheck(ctx context.Context, hubURL string, c Credentials, client *http.Client, now time.Time) (Credentials, bool, error) {
	u, err := url.Parse(strings.TrimRight(hubURL, "/"))
	if err != nil || u.Scheme != "https" || u.Host == "" {
		return c, false, fmt.Errorf("agent: renew: hub URL %q: want https://host:port", hubURL)
	}
	kp, err := tls.X509KeyPair([]byte(c.Certificate), []byte(c.Key))
	if err != nil {
		return c, false, fmt.Errorf("agent: renew: credentials certificate and key: %w", err)
	}
	keyPEM, csrPEM, err := pki.NewAgentKey()
	if err != nil {
		return c, false, fmt.Errorf("agent: renew: %w", err)
	}
	signer, ok := kp.PrivateKey.(crypto.Signer)
	if !ok {
		return c, false, errors.New("agent: renew: the credentials key cannot sign")
	}
	at := now.UTC().Truncate(time.Second)
	sig, err := pki.SignRenewal(signer, csrPEM, at)
	if err != nil {
		return c, false, fmt.Errorf("agent: renew: %w", err)
	}
	body, _ := json.Marshal(map[string]string{"certificate": c.Certificate, "csr": string(csrPEM),
		"time": at.Format(time.RFC3339), "signature": base64.StdEncoding.EncodeToString(sig)})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String()+"/api/v1/renew", bytes.NewReader(body))
	if err != nil {
		return c, false, fmt.Errorf("agent: renew: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	if client == nil {
		l, err := NewLiveTLS(c)
		if err != nil {
			return c, false, err
		}
		client = &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: l.Config(), Proxy: http.ProxyFromEnvironment}}
	}
	resp, err := client.Do(req)
	if err != nil {
		return c, false, fmt.Errorf("agent: renew at %s: %w", u.Redacted(), err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return c, false, fmt.Errorf("agent: renew at %s: %w", u.Redacted(), err)
	}
	return parseRenewAnswer(resp.StatusCode, resp.Status, raw, c, keyPEM)
}

// parseRenewAnswer reads the hub's answer to POST /api/v1/renew for credentials c, whose new
// key (PEM) the request was for.
func parseRenewAnswer(code int, status string, raw []byte, c Credentials, keyPEM []byte) (Credentials, bool, error) {
	if code != http.StatusOK {
		var e struct {
			Error wire.Error `json:"error"`
		}
		if json.Unmarshal(raw, &e) == nil && e.Error.Message != "" {
			return c, false, fmt.Errorf("agent: renew refused by the hub (%s): %s", status, oneLine(e.Error.Message))
		}
		return c, false, fmt.Errorf("agent: renew refused by the hub: %s", status)
	}
	var res RenewResult
	if err := json.Unmarshal(raw, &res); err != nil {
		return c, false, fmt.Errorf("agent: renew: the hub's answer does not decode: %w", err)
	}
	return applyRenewal(c, res, keyPEM)
}

// applyRenewal checks the hub's answer (over an https connection verified with c's CAs) and
// returns the credentials it makes.
func applyRenewal(c Credentials, res RenewResult, keyPEM []byte) (Credentials, bool, error) {
	if res.CA == "" {
		return c, false, errors.New("agent: renew: the hub's answer has no CA")
	}
	site, room, ok := wire.ParseAgentUser(c.Username)
	if !ok {
		return c, false, fmt.Errorf("agent: renew: user name %q is not an agent's", c.Username)
	}
	ca, err := checkAnswerCA(res.CA, answerCheck{verified: true})
	if err != nil {
		return c, false, fmt.Errorf("agent: renew: %w", err)
	}
	out := c
	out.CA = res.CA
	if res.Renewed {
		if err := checkAgentCert(res.Certificate, ca, site, room, keyPEM); err != nil {
			return c, false, fmt.Errorf("agent: renew: %w", err)
		}
		out.Certificate, out.Key = res.Certificate, string(keyPEM)
	}
	return out, out != c, nil
}

// RenewOptions configure RunRenewal.
type RenewOptions struct {
	HubURL          string        // the hub's https base URL
	CredentialsFile string        // rewritten when the credentials change
	Every           time.Duration // DefaultRenewEvery when zero
	TLS             *LiveTLS      // updated when the credentials change
	Logger          *slog.Logger
}

// RunRenewal checks c's certificate with the hub now and every o.Every until ctx ends,
// writing changed credentials to the file and into o.TLS. A failed check is logged and tried
// again at the next one (or in a minute, the first time).
func RunRenewal(ctx context.Context, c Credentials, o RenewOptions) {
	if o.Every <= 0 {
		o.Every = DefaultRenewEvery
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: o.TLS.Config(), Proxy: http.ProxyFromEnvironment}}
	site, room, _ := wire.ParseAgentUser(c.Username)
	wait := time.Duration(0)
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		wait = o.Every
		next, changed, err := RenewCheck(ctx, o.HubURL, c, client, time.Now())
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			o.Logger.Warn("certificate renewal check failed", "error", err)
			if o.Every > time.Minute {
				wait = time.Minute
			}
			continue
		}
		if !changed {
			continue
		}
		if o.CredentialsFile != "" {
			// Only the TLS material changes in the file: what the environment or flags gave
			// (a password, another broker) is not written into it.
			saved, err := LoadCredentials(o.CredentialsFile)
			if err == nil {
				saved.CA, saved.Certificate, saved.Key = next.CA, next.Certificate, next.Key
				err = WriteCredentials(o.CredentialsFile, Enrolled{Site: site, Room: room, Credentials: saved})
			}
			if err != nil {
				o.Logger.Error("certificate renewed but not saved; keeping the old one", "error", err)
				continue
			}
		}
		if err := o.TLS.Update(next); err != nil {
			o.Logger.Error("renewed credentials not usable", "error", err)
			continue
		}
		o.Logger.Info("credentials updated", "renewed", next.Certificate != c.Certificate, "cas", strings.Count(next.CA, "BEGIN CERTIFICATE"))
		c = next
	}
}
