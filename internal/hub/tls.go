package hub

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"time"

	"github.com/bailiff/bailiff/internal/config"
	"github.com/bailiff/bailiff/internal/hub/api"
	"github.com/bailiff/bailiff/internal/hub/audit"
	"github.com/bailiff/bailiff/internal/hub/broker"
	"github.com/bailiff/bailiff/internal/pki"
	"github.com/bailiff/bailiff/internal/store"
	"github.com/bailiff/bailiff/internal/wire"
)

// TLSOptions turn on TLS for the API and pages and for the embedded broker.
type TLSOptions struct {
	// MQTTListen is the embedded broker's TLS listener (host:port); it replaces
	// Options.MQTTListen: the broker takes no plain-text connections.
	MQTTListen string
	// Names are the DNS names and IP addresses of the hub's own server certificate, issued by
	// the hub's own CA (made on first start in the data directory's keys/). Used when
	// CertFile is "".
	Names []string
	// CertFile and KeyFile are a given server certificate (chain, PEM) and key; CAFile is the
	// CA that issued it (given to agents); CAKeyFile, when set, lets the hub issue agent
	// certificates from that CA.
	CertFile, KeyFile, CAFile, CAKeyFile string
	// ServerValidity is the lifetime of the server certificates the hub issues itself (Names);
	// pki.ServerValidity when zero. A certificate is renewed when less than a third of it is
	// left (tlsrenew.go).
	ServerValidity time.Duration
	// AgentValidity is the lifetime of the agent certificates the hub issues;
	// pki.AgentValidity when zero. An agent's renewal check gets it a new one when less than
	// a third of it is left (renew.go).
	AgentValidity time.Duration
	// CheckEvery is how often the hub checks its server certificate: renewal of its own,
	// reload of changed CertFile/KeyFile; an hour when zero.
	CheckEvery time.Duration
}

// TLSFrom makes TLS options from the hub config's tls section; nil when it is off.
func TLSFrom(c *config.Hub) *TLSOptions {
	t := c.TLS
	if !t.On() {
		return nil
	}
	o := &TLSOptions{MQTTListen: t.MQTTListen}
	if t.Mode == config.TLSSelf {
		o.Names = t.TLSNames()
		return o
	}
	o.CertFile, o.KeyFile, o.CAFile = c.Resolve(t.CertFile), c.Resolve(t.KeyFile), c.Resolve(t.CAFile)
	if t.CAKeyFile != "" {
		o.CAKeyFile = c.Resolve(t.CAKeyFile)
	}
	return o
}

// caDir is where the hub keeps its own CA in the data directory.
const caDir = "keys"

// setupTLS loads or makes the CA and the server certificate when TLS is on.
func (h *Hub) setupTLS() error {
	t := h.opts.TLS
	if t == nil {
		return nil
	}
	if t.CertFile == "" {
		trust, err := pki.LoadTrust(filepath.Join(h.opts.DataDir, caDir), "Bailiff hub CA")
		if err != nil {
			return fmt.Errorf("hub: %w", err)
		}
		h.trust = trust
		ca := trust.Issuer
		cert, err := ca.IssueServerFor(t.Names, t.serverValidity())
		if err != nil {
			return fmt.Errorf("hub: %w", err)
		}
		h.ca, h.tlsCert = ca, &cert
	} else {
		ca, err := pki.LoadCA(t.CAFile, t.CAKeyFile)
		if err != nil {
			return fmt.Errorf("hub: %w", err)
		}
		cert, err := loadServerCert(t, ca)
		if err != nil {
			return err
		}
		h.ca, h.tlsCert = ca, cert
		h.trust = &pki.Trust{Issuer: ca}
	}
	h.cert.Store(h.tlsCert)
	h.log.Info("TLS on", "ca_fingerprint", h.ca.Fingerprint(), "issues_agent_certificates", h.ca.Key != nil,
		"ca_rotation_staged", h.trust.Next != nil, "previous_cas", len(h.trust.Previous))
	return nil
}

// brokerTLS makes the embedded broker TLS only, on the TLS listener, taking agent
// certificates from the hub's CA when the hub can issue them.
func (h *Hub) brokerTLS(bc *broker.EmbeddedConfig) {
	if h.tlsCert == nil {
		return
	}
	bc.Listen = h.opts.TLS.MQTTListen
	var clientCAs *x509.CertPool
	if h.ca.Key != nil {
		clientCAs = h.trust.Pool() // during a CA rotation, agent certificates of every CA trusted
		bc.Certs = storeAuth{h.store}
	}
	bc.TLS = h.serverTLS(clientCAs)
}

// busTLS is the TLS configuration of the hub's own MQTT client: with the embedded broker
// over TLS, it trusts the hub's CA and checks the server certificate's first name; with an
// external broker and TLS on, it trusts the system's roots and the hub's CA (a broker with a
// certificate from the hub's CA, docs/OPERATIONS.md).
func (h *Hub) busTLS() *tls.Config {
	if h.tlsCert == nil {
		return nil
	}
	if h.embedded == nil {
		roots, err := x509.SystemCertPool()
		if err != nil {
			roots = x509.NewCertPool()
		}
		for _, c := range h.trust.Certificates() { // every CA trusted, through a CA rotation
			roots.AddCert(c)
		}
		return pki.ClientConfig(roots, nil)
	}
	c := pki.ClientConfig(h.trust.Pool(), nil)
	if leaf := h.tlsCert.Leaf; leaf != nil {
		switch {
		case len(leaf.DNSNames) > 0:
			c.ServerName = leaf.DNSNames[0]
		case len(leaf.IPAddresses) > 0:
			c.ServerName = leaf.IPAddresses[0].String()
		}
	}
	return c
}

// httpsListener wraps the API listener in TLS when TLS is on.
func (h *Hub) httpsListener(ln net.Listener) net.Listener {
	if h.tlsCert == nil {
		return ln
	}
	c := h.serverTLS(nil)
	c.NextProtos = []string{"h2", "http/1.1"}
	return tls.NewListener(ln, c)
}

// loadServerCert loads the given server certificate and key (mode files) and checks that the
// CA issued it.
func loadServerCert(t *TLSOptions, ca *pki.CA) (*tls.Certificate, error) {
	cert, err := tls.LoadX509KeyPair(t.CertFile, t.KeyFile)
	if err != nil {
		return nil, fmt.Errorf("hub: server certificate %s: %w", t.CertFile, err)
	}
	leaf, err := x509.ParseCertificate(cert.Certificate[0])
	if err != nil {
		return nil, fmt.Errorf("hub: server certificate %s: %w", t.CertFile, err)
	}
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: ca.Pool(), KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}); err != nil {
		return nil, fmt.Errorf("hub: server certificate %s is not issued by the CA %s: %w", t.CertFile, t.CAFile, err)
	}
	cert.Leaf = leaf
	return &cert, nil
}

// serverTLS is the TLS configuration of the hub's listeners (HTTPS, MQTT, TURN over TLS):
// the hub's current server certificate (renewed while it runs), and with clientCAs the client
// certificates they issued.
func (h *Hub) serverTLS(clientCAs *x509.CertPool) *tls.Config {
	c := pki.ServerConfig(*h.tlsCert, clientCAs)
	c.Certificates = nil
	c.GetCertificate = func(*tls.ClientHelloInfo) (*tls.Certificate, error) { return h.cert.Load(), nil }
	return c
}

// ServerCert is the server certificate the hub presents now; nil without TLS.
func (h *Hub) ServerCert() *tls.Certificate { return h.cert.Load() }

// CA is the hub's certificate authority; nil without TLS.
func (h *Hub) CA() *pki.CA { return h.ca }

// CheckAgentCert lets an agent certificate in when this hub issued it to that room and has
// not revoked it.
func (a storeAuth) CheckAgentCert(ctx context.Context, serial, site, room string) error {
	err := a.st.AgentCertValid(ctx, serial, site, room)
	switch {
	case errors.Is(err, store.ErrRevoked):
		return errors.New("revoked")
	case errors.Is(err, store.ErrNotFound):
		return errors.New("not issued by this hub to this room")
	}
	return err
}

// issueAgentCert signs an agent's certificate request for site/room and records it. It
// returns "" when TLS is off or the CA cannot issue (the agent then logs in by password).
func (h *Hub) issueAgentCert(ctx context.Context, csr, site, room string) (string, error) {
	if csr == "" || h.ca == nil || h.ca.Key == nil {
		return "", nil
	}
	certPEM, serial, err := h.ca.SignAgentFor([]byte(csr), site, room, h.agentValidity())
	if err != nil {
		return "", fmt.Errorf("%w: %v", api.ErrBadRequest, err)
	}
	if err := h.store.PutAgentCert(ctx, serial, site, room, time.Now()); err != nil {
		return "", err
	}
	h.log.Info("agent certificate issued", "site", site, "room", room, "serial", serial)
	return string(certPEM), nil
}

// RevokeAgent revokes the agent of site/room (its password and every certificate), ends its
// live MQTT session at once and records it in the audit log.
func (p *provisioning) RevokeAgent(ctx context.Context, site, room, by string) error {
	h := p.h
	err := h.store.RevokeAgent(ctx, site, room, time.Now())
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("%w: no agent credentials for %s/%s", api.ErrNotFound, site, room)
	}
	if err != nil {
		return err
	}
	disconnected := false
	if h.embedded != nil {
		disconnected = h.embedded.Disconnect(wire.AgentUser(site, room))
	}
	h.audit.Record(ctx, store.AuditEntry{User: by, Action: audit.AgentRemove, Target: site + "/" + room, Result: audit.OK})
	h.log.Info("agent revoked", "site", site, "room", room, "by", by, "disconnected", disconnected)
	return nil
}

// sweepEvery is how often the hub ends live sessions of agents revoked outside it (by `hub
// agents remove` on the same store).
const sweepEvery = 2 * time.Second

// sweepRevoked ends, every sweepEvery until ctx ends, the embedded broker's agent sessions
// whose credentials are gone: a certificate revoked, or a password login whose agent was
// removed.
func (h *Hub) sweepRevoked(ctx context.Context) {
	if h.embedded == nil {
		return
	}
	t := time.NewTicker(sweepEvery)
	defer t.Stop()
	a := storeAuth{h.store}
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		h.embedded.Sweep(func(site, room string, cert *x509.Certificate) bool {
			if cert != nil {
				err := a.CheckAgentCert(ctx, pki.SerialString(cert.SerialNumber), site, room)
				return err == nil || ctx.Err() != nil
			}
			_, err := h.store.AgentHash(ctx, site, room)
			return !errors.Is(err, store.ErrNotFound)
		})
	}
}
