package agent

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/bailiff/bailiff/internal/config"
	"github.com/bailiff/bailiff/internal/pki"
	"github.com/bailiff/bailiff/internal/wire"
)

// Enrolled is what the hub gives an agent for an enrollment token.
type Enrolled struct {
	Site, Room  string
	Credentials Credentials
}

// enrollTimeout bounds the whole exchange with the hub.
const enrollTimeout = 30 * time.Second

// Enroll exchanges a one-time enrollment token (from POST /api/v1/enrollments, made by a
// technician) for the room agent's MQTT credentials at the hub's POST /api/v1/enroll. hubURL
// is the hub's HTTP base URL, e.g. https://hub.court.example:8443. client nil uses a client
// with a 30s timeout. The token is spent, whatever happens next. See EnrollWith for TLS.
func Enroll(ctx context.Context, hubURL, token string, client *http.Client) (Enrolled, error) {
	return EnrollWith(ctx, EnrollOptions{HubURL: hubURL, Token: token, Client: client})
}

// EnrollOptions are how an agent enrolls.
type EnrollOptions struct {
	HubURL, Token string
	// How the first contact with a hub that has TLS on is trusted (docs/OPERATIONS.md):
	// CAFingerprint, the SHA-256 of the hub's CA certificate that POST /api/v1/enrollments
	// gave the technician with the token, or CAFile, the hub's CA certificate. Over https
	// the hub's certificate must chain to that CA; over http the CA in the answer must match
	// the fingerprint. Without either, an https hub must have a certificate the system
	// trusts, and an http hub's CA is refused.
	CAFingerprint string
	CAFile        string
	// Client is the HTTP client (nil: one with a 30s timeout and the trust above). A given
	// client's TLS settings are used as they are.
	Client *http.Client
}

// EnrollWith is Enroll with TLS: it makes the agent's key, sends a certificate request with
// the token, and keeps the hub's CA and the client certificate the hub answers with.
func EnrollWith(ctx context.Context, o EnrollOptions) (Enrolled, error) {
	u, err := url.Parse(strings.TrimRight(o.HubURL, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return Enrolled{}, fmt.Errorf("agent: enroll: hub URL %q: want http(s)://host:port", o.HubURL)
	}
	token := strings.TrimSpace(o.Token)
	if token == "" {
		return Enrolled{}, errors.New("agent: enroll: no token")
	}
	pin := answerCheck{}
	if o.CAFingerprint != "" {
		if pin.fingerprint, err = pki.NormalizeFingerprint(o.CAFingerprint); err != nil {
			return Enrolled{}, fmt.Errorf("agent: enroll: --ca-fingerprint: %w", err)
		}
	}
	client := o.Client
	if client == nil {
		client = &http.Client{Timeout: enrollTimeout}
		if u.Scheme == "https" {
			tc, err := enrollTLS(o.CAFile, pin.fingerprint)
			if err != nil {
				return Enrolled{}, err
			}
			client.Transport = &http.Transport{TLSClientConfig: tc, Proxy: http.ProxyFromEnvironment}
		}
	}
	// Over https the server was verified (against the pinned or given CA, or the system's
	// roots), so the CA it sends may be trusted.
	pin.verified = u.Scheme == "https"
	if o.CAFile != "" {
		data, err := os.ReadFile(o.CAFile)
		if err != nil {
			return Enrolled{}, fmt.Errorf("agent: enroll: CA file: %w", err)
		}
		pin.caFile = data
	}
	keyPEM, csrPEM, err := pki.NewAgentKey()
	if err != nil {
		return Enrolled{}, fmt.Errorf("agent: enroll: %w", err)
	}
	pin.key = keyPEM
	body, _ := json.Marshal(map[string]string{"token": token, "csr": string(csrPEM)})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String()+"/api/v1/enroll", bytes.NewReader(body))
	if err != nil {
		return Enrolled{}, fmt.Errorf("agent: enroll: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		var unknown x509.UnknownAuthorityError
		if errors.As(err, &unknown) && pin.fingerprint == "" && o.CAFile == "" {
			return Enrolled{}, fmt.Errorf("agent: enroll at %s: %w (give the hub CA's fingerprint with --ca-fingerprint, as the technician got it with the token)", u.Redacted(), err)
		}
		return Enrolled{}, fmt.Errorf("agent: enroll at %s: %w", u.Redacted(), err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return Enrolled{}, fmt.Errorf("agent: enroll at %s: %w", u.Redacted(), err)
	}
	e, err := parseEnrollAnswer(resp.StatusCode, resp.Status, raw, pin)
	if err == nil && e.Credentials.Certificate != "" && u.Scheme == "https" {
		e.Credentials.Hub = u.String()
	}
	return e, err
}

// enrollTLS is the TLS configuration of the first contact with an https hub.
func enrollTLS(caFile, fingerprint string) (*tls.Config, error) {
	switch {
	case caFile != "":
		c, err := (Credentials{Broker: "ssl://x:1"}).TLSConfig(caFile)
		if err != nil {
			return nil, fmt.Errorf("agent: enroll: %w", err)
		}
		return c, nil
	case fingerprint != "":
		return pki.PinnedConfig(fingerprint)
	}
	return pki.ClientConfig(nil, nil), nil
}

// answerCheck is what the agent knows to check the hub's answer with.
type answerCheck struct {
	fingerprint string // the pinned CA's SHA-256 (hex), "" for none
	caFile      []byte // the given CA certificate, nil for none
	verified    bool   // the answer came over https, verified
	key         []byte // the agent's key (PEM) whose certificate it asked for; nil: none asked
}

// parseEnrollAnswer reads the hub's answer to POST /api/v1/enroll.
func parseEnrollAnswer(code int, status string, raw []byte, chk answerCheck) (Enrolled, error) {
	if code != http.StatusOK {
		var e struct {
			Error wire.Error `json:"error"`
		}
		if json.Unmarshal(raw, &e) == nil && e.Error.Message != "" {
			return Enrolled{}, fmt.Errorf("agent: enroll refused by the hub (%s): %s", status, oneLine(e.Error.Message))
		}
		return Enrolled{}, fmt.Errorf("agent: enroll refused by the hub: %s", status)
	}
	var c struct {
		Site, Room, Broker, Username, Password, CA, Certificate string
	}
	if err := json.Unmarshal(raw, &c); err != nil {
		return Enrolled{}, fmt.Errorf("agent: enroll: the hub's answer does not decode: %w", err)
	}
	if s, r, ok := wire.ParseAgentUser(c.Username); !ok || s != c.Site || r != c.Room || c.Password == "" || c.Broker == "" {
		return Enrolled{}, errors.New("agent: enroll: the hub's answer lacks the broker, a valid user name or the password")
	}
	if strings.ContainsAny(c.Broker+c.Password, "\r\n") {
		return Enrolled{}, errors.New("agent: enroll: the hub's answer has a line break in the broker or password")
	}
	if _, err := checkBroker(c.Broker); err != nil {
		return Enrolled{}, fmt.Errorf("agent: enroll: the hub gave %w", err)
	}
	e := Enrolled{Site: c.Site, Room: c.Room, Credentials: Credentials{Broker: c.Broker, Username: c.Username, Password: c.Password}}
	if c.CA == "" {
		if c.Certificate != "" {
			return Enrolled{}, errors.New("agent: enroll: the hub gave a certificate without its CA")
		}
		return e, nil
	}
	ca, err := checkAnswerCA(c.CA, chk)
	if err != nil {
		return Enrolled{}, err
	}
	e.Credentials.CA = c.CA
	if c.Certificate == "" {
		return e, nil
	}
	if err := checkAgentCert(c.Certificate, ca, c.Site, c.Room, chk.key); err != nil {
		return Enrolled{}, err
	}
	e.Credentials.Certificate, e.Credentials.Key = c.Certificate, string(chk.key)
	return e, nil
}

// checkAnswerCA decides whether the CA the hub sent may be trusted (see EnrollOptions).
//
// During a CA rotation (docs/SECURITY.md) the hub gives every CA it trusts, its issuing CA
// first; more than one only over https, where the answer is authenticated as a whole.
func checkAnswerCA(caPEM string, chk answerCheck) (*x509.Certificate, error) {
	certs, err := pki.ParseCertificates([]byte(caPEM))
	if err != nil || len(certs) == 0 || (len(certs) > 1 && !chk.verified) {
		return nil, errors.New("agent: enroll: the hub's CA certificate is not one CA certificate in PEM")
	}
	for _, c := range certs {
		if !c.IsCA {
			return nil, errors.New("agent: enroll: the hub's CA certificates include one that is not a CA")
		}
	}
	ca := certs[0]
	switch {
	case chk.fingerprint != "":
		if got := pki.Fingerprint(ca); got != chk.fingerprint {
			return nil, fmt.Errorf("agent: enroll: the hub's CA has fingerprint %s, not the %s given: refused", got, chk.fingerprint)
		}
	case chk.caFile != nil:
		given, err := pki.ParseCertificates(chk.caFile)
		if err != nil || !given[0].Equal(ca) {
			return nil, errors.New("agent: enroll: the hub's CA is not the one in the CA file: refused")
		}
	case !chk.verified:
		return nil, errors.New("agent: enroll: the hub has TLS on but was reached over http without --ca-fingerprint: its CA cannot be trusted; enroll over https or give the fingerprint")
	}
	return ca, nil
}

// checkAgentCert checks the certificate the hub issued: from the CA, bound to site/room, for
// the agent's own key.
func checkAgentCert(certPEM string, ca *x509.Certificate, site, room string, key []byte) error {
	if key == nil {
		return errors.New("agent: enroll: the hub gave a certificate the agent did not ask for")
	}
	kp, err := tls.X509KeyPair([]byte(certPEM), key)
	if err != nil {
		return fmt.Errorf("agent: enroll: the hub's certificate is not for the agent's key: %w", err)
	}
	leaf, err := x509.ParseCertificate(kp.Certificate[0])
	if err != nil {
		return fmt.Errorf("agent: enroll: the hub's certificate: %w", err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(ca)
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: roots, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		return fmt.Errorf("agent: enroll: the hub's certificate does not verify against its CA: %w", err)
	}
	if s, r, ok := pki.AgentIdentity(leaf); !ok || s != site || r != room {
		return fmt.Errorf("agent: enroll: the hub's certificate is not bound to %s/%s", site, room)
	}
	return nil
}

// WriteCredentials writes e's credentials to path in the form LoadCredentials reads (and `hub
// agents add` prints), readable by the owner only (0600). It replaces the file atomically.
func WriteCredentials(path string, e Enrolled) error {
	values, err := yaml.Marshal(e.Credentials) // quotes what needs quoting
	if err != nil {
		return fmt.Errorf("agent: credentials: %w", err)
	}
	text := fmt.Sprintf("# Bailiff agent credentials for %s/%s. Keep this file secret.\n%s", e.Site, e.Room, values)
	if err := writeFile0600(path, []byte(text)); err != nil {
		return fmt.Errorf("agent: credentials: %w", err)
	}
	return nil
}

// writeFile0600 replaces path with data, mode 0600, through a temporary file and a rename.
func writeFile0600(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// ConfigCacheFor is where an agent whose credentials are in credFile keeps the last config
// the hub pushed: beside it, "NAME.config.json" for "NAME.yaml".
func ConfigCacheFor(credFile string) string {
	if credFile == "" {
		return ""
	}
	return strings.TrimSuffix(credFile, filepath.Ext(credFile)) + ".config.json"
}

// BootstrapRoom is the room an agent starts with when it has credentials but no config file:
// its site and room, from its user name (agent/SITE/ROOM), and no devices. The agent then
// runs the config the hub pushes on the room's retained config topic (or the one it kept from
// a previous run).
func BootstrapRoom(username string) (*config.Room, error) {
	site, room, ok := wire.ParseAgentUser(username)
	if !ok {
		return nil, fmt.Errorf("agent: without --config the credentials must name the room: user name %q is not agent/SITE/ROOM", username)
	}
	r := config.DefaultRoom()
	r.Site, r.Room, r.File = site, room, "(none: waiting for the hub's config)"
	return &r, nil
}
