package hub

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"time"

	"github.com/bailiff/bailiff/internal/hub/api"
	"github.com/bailiff/bailiff/internal/hub/audit"
	"github.com/bailiff/bailiff/internal/pki"
	"github.com/bailiff/bailiff/internal/store"
)

// Agent certificate renewal (POST /api/v1/renew). An agent with a client certificate asks
// the hub, at start and then twice a day, whether it needs a new one: it sends its current
// certificate, a request for a new key, and a signature of both with its current key
// (pki.SignRenewal), which only the holder of the certificate can make. No login and no
// enrollment token: the certificate is the credential, checked as the broker checks it
// (issued by a CA the hub trusts, for client authentication, unexpired, issued by this hub to
// that room and not revoked). The hub answers with every CA it trusts (an agent keeps its
// trust up to date through a CA rotation) and, when the certificate has less than a third of
// its life left or another CA than the issuing one made it, a new certificate for the new key.
// The old certificate stays valid until it expires (or is revoked with the agent).

// renewClockSkew bounds how far the proof's time may be from the hub's clock.
const renewClockSkew = 5 * time.Minute

// RenewView is the answer to a renewal check.
type RenewView struct {
	Renewed     bool      `json:"renewed"`
	Certificate string    `json:"certificate,omitempty"` // PEM, when renewed
	CA          string    `json:"ca"`                    // every CA the hub trusts, PEM, the issuing one first
	NotAfter    time.Time `json:"not_after"`             // of the certificate the agent should use now
}

// RenewAgent checks an agent's renewal request and renews its certificate when due.
func (p *provisioning) RenewAgent(ctx context.Context, req api.RenewRequest) (any, error) {
	h := p.h
	unauthorized := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", api.ErrUnauthorized, fmt.Sprintf(format, args...))
	}
	certs, err := pki.ParseCertificates([]byte(req.Certificate))
	if err != nil {
		return nil, fmt.Errorf("%w: certificate: %v", api.ErrBadRequest, err)
	}
	cert := certs[0]
	now := time.Now()
	if _, err := cert.Verify(x509.VerifyOptions{Roots: h.trust.Pool(), CurrentTime: now,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		return nil, unauthorized("the certificate does not verify (%v): enroll the agent again", err)
	}
	site, room, ok := pki.AgentIdentity(cert)
	if !ok {
		return nil, unauthorized("not an agent certificate")
	}
	serial := pki.SerialString(cert.SerialNumber)
	switch err := h.store.AgentCertValid(ctx, serial, site, room); {
	case errors.Is(err, store.ErrRevoked), errors.Is(err, store.ErrNotFound):
		return nil, unauthorized("the certificate of %s/%s is revoked or was not issued by this hub", site, room)
	case err != nil:
		return nil, err
	}
	if d := now.Sub(req.At); d > renewClockSkew || d < -renewClockSkew {
		return nil, unauthorized("the proof's time %s is more than %s from the hub's clock", req.At.UTC().Format(time.RFC3339), renewClockSkew)
	}
	if err := pki.VerifyRenewal(cert, []byte(req.CSR), req.At, req.Sig); err != nil {
		return nil, unauthorized("%v", err)
	}
	v := RenewView{CA: string(h.trust.PEM()), NotAfter: cert.NotAfter}
	life := min(cert.NotAfter.Sub(cert.NotBefore), h.agentValidity())
	byOther := cert.CheckSignatureFrom(h.ca.Cert) != nil
	if cert.NotAfter.Sub(now) > life/3 && !byOther {
		return v, nil
	}
	certPEM, err := h.issueAgentCert(ctx, req.CSR, site, room)
	if err != nil {
		return nil, err
	}
	leaf, err := pki.ParseCertificates([]byte(certPEM))
	if err != nil {
		return nil, err
	}
	v.Renewed, v.Certificate, v.NotAfter = true, certPEM, leaf[0].NotAfter
	reason := "expiring"
	if byOther {
		reason = "issued by a previous CA"
	}
	h.audit.Record(ctx, store.AuditEntry{User: "agent/" + site + "/" + room, Action: audit.AgentRenew, Target: site + "/" + room,
		Result: audit.OK, Detail: "certificate " + serial + " renewed (" + reason + "): " + pki.SerialString(leaf[0].SerialNumber)})
	h.log.Info("agent certificate renewed", "site", site, "room", room, "old_serial", serial, "reason", reason)
	return v, nil
}

// agentValidity is the lifetime of the agent certificates the hub issues.
func (h *Hub) agentValidity() time.Duration {
	if h.opts.TLS != nil && h.opts.TLS.AgentValidity > 0 {
		return h.opts.TLS.AgentValidity
	}
	return pki.AgentValidity
}
