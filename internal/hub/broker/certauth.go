package broker

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"time"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/packets"

	"github.com/bailiff/bailiff/internal/pki"
	"github.com/bailiff/bailiff/internal/wire"
)

// peerCertificate returns the verified client certificate of a TLS connection, nil when the
// client presented none (or the connection is not TLS). The listener verifies the chain
// against the hub's CA (tls.VerifyClientCertIfGiven) before the CONNECT packet is read.
func peerCertificate(cl *mqtt.Client) *x509.Certificate {
	c, ok := cl.Net.Conn.(*tls.Conn)
	if !ok {
		return nil
	}
	st := c.ConnectionState()
	if len(st.VerifiedChains) == 0 || len(st.PeerCertificates) == 0 {
		return nil
	}
	return st.PeerCertificates[0]
}

// certLogin logs in a client that presented a certificate; done is false when it presented
// none (the password login applies). The certificate alone decides who the client is: it
// must be an agent certificate (bailiff:agent/{site}/{room}), known to the hub and not
// revoked; the user name must be that agent's or empty (it is then set to the agent's, which
// the ACL reads), and the client ID must be the agent's. So a certificate of room A cannot
// act as room B, whatever user name or client ID it sends.
func (h *aclHook) certLogin(cl *mqtt.Client, user string) (done, ok bool) {
	cert := peerCertificate(cl)
	if cert == nil {
		return false, false
	}
	refuse := func(msg string) (bool, bool) {
		h.log.Warn("mqtt login refused", "user", user, "client", cl.ID, "certificate", cert.Subject.CommonName, "error", msg)
		return true, false
	}
	site, room, found := pki.AgentIdentity(cert)
	if !found {
		return refuse("the client certificate is not an agent certificate")
	}
	agent := wire.AgentUser(site, room)
	if user != "" && user != agent {
		return refuse("the user name is not the certificate's agent " + agent)
	}
	if cl.ID != agent {
		return refuse("the client ID is not the certificate's agent " + agent)
	}
	if h.certs == nil {
		return refuse("this broker does not take certificate logins")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := h.certs.CheckAgentCert(ctx, pki.SerialString(cert.SerialNumber), site, room); err != nil {
		return refuse("certificate " + pki.SerialString(cert.SerialNumber) + ": " + err.Error())
	}
	cl.Properties.Username = []byte(agent)
	return true, true
}

// Sweep ends the session of every connected agent for which keep returns false; cert is the
// agent's client certificate, nil for a password login. It returns how many it ended.
func (e *Embedded) Sweep(keep func(site, room string, cert *x509.Certificate) bool) int {
	n := 0
	for _, cl := range e.srv.Clients.GetAll() {
		if cl.Closed() || cl.Net.Inline {
			continue
		}
		site, room, ok := wire.ParseAgentUser(string(cl.Properties.Username))
		if !ok {
			continue
		}
		if !keep(site, room, peerCertificate(cl)) {
			e.log.Warn("agent session ended: credentials revoked", "site", site, "room", room, "client", cl.ID)
			e.srv.DisconnectClient(cl, packets.ErrNotAuthorized)
			n++
		}
	}
	return n
}
