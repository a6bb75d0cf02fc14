package integration

import (
	"bytes"
	"context"
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bailiff/bailiff/internal/agent"
	"github.com/bailiff/bailiff/internal/hub"
	"github.com/bailiff/bailiff/internal/hubcli"
	"github.com/bailiff/bailiff/internal/pki"
	"github.com/bailiff/bailiff/internal/testutil"
)

// servedCert is the serial of the certificate a TLS handshake with addr gets.
func servedCert(t *testing.T, addr string, roots *x509.CertPool) *x509.Certificate {
	t.Helper()
	c, err := tls.Dial("tcp", addr, pki.ClientConfig(roots, nil))
	if err != nil {
		t.Fatalf("TLS to %s: %v", addr, err)
	}
	defer c.Close()
	return c.ConnectionState().PeerCertificates[0]
}

// In mode self the hub renews its server certificate while it runs, before it expires: new
// HTTPS and MQTT connections get the new one, and keep working after the first one's expiry;
// the agent that was online stays online.
func TestServerCertRenewal(t *testing.T) {
	mqttTLS := testutil.FreePort(t)
	const validity = 4 * time.Second
	e := newEnvWith(t, 1, false, func(o *hub.Options) {
		o.TLS = &hub.TLSOptions{MQTTListen: mqttTLS, Names: []string{"localhost", "127.0.0.1"},
			ServerValidity: validity, CheckEvery: 100 * time.Millisecond}
	})
	testutil.Eventually(t, 10*time.Second, "room online over TLS", func() bool { return e.hub.Registry().Online(site, "r1") })
	roots := e.hub.CA().Pool()
	first := servedCert(t, e.httpAddr, roots)
	if first.NotAfter.After(time.Now().Add(validity + time.Second)) {
		t.Fatalf("first certificate valid until %s", first.NotAfter)
	}
	testutil.Eventually(t, 2*validity, "a renewed certificate on HTTPS", func() bool {
		return servedCert(t, e.httpAddr, roots).SerialNumber.Cmp(first.SerialNumber) != 0
	})
	for time.Now().Before(first.NotAfter.Add(200 * time.Millisecond)) {
		time.Sleep(100 * time.Millisecond)
	}
	if got := servedCert(t, mqttTLS, roots); !got.NotAfter.After(time.Now()) {
		t.Fatalf("MQTT serves an expired certificate (until %s)", got.NotAfter)
	}
	if _, err := mqttConnect(t, e.hub.BrokerURL(), "watch-renewed", "observer", "pw-observer", e.agentTLS); err != nil {
		t.Fatalf("MQTT after the first certificate expired: %v", err)
	}
	e.https.CloseIdleConnections()
	if st, _ := e.call("GET", "/healthz", "", nil); st != 200 {
		t.Fatalf("HTTPS after the first certificate expired: %d", st)
	}
	if !e.hub.Registry().Online(site, "r1") {
		t.Fatal("the agent went offline with the renewal")
	}
}

// In mode files the hub takes the operator's renewed certificate when its files change, and
// keeps the current one when the new files do not load or are not of its CA.
func TestServerCertReload(t *testing.T) {
	dir := t.TempDir()
	ca, err := pki.LoadOrCreateCA(filepath.Join(dir, "pki"), "court PKI")
	if err != nil {
		t.Fatal(err)
	}
	cf, kf := filepath.Join(dir, "hub.pem"), filepath.Join(dir, "hub.key")
	write := func(ca *pki.CA) *x509.Certificate {
		srv, err := ca.IssueServer([]string{"127.0.0.1"})
		if err != nil {
			t.Fatal(err)
		}
		keyDER, _ := x509.MarshalPKCS8PrivateKey(srv.PrivateKey)
		os.WriteFile(kf, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600)
		os.WriteFile(cf, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate[0]}), 0o600)
		return srv.Leaf
	}
	first := write(ca)
	caFile := filepath.Join(dir, "pki", pki.CACertFile)
	mqttTLS := testutil.FreePort(t)
	e := newEnvWith(t, 1, false, func(o *hub.Options) {
		o.TLS = &hub.TLSOptions{MQTTListen: mqttTLS, CertFile: cf, KeyFile: kf, CAFile: caFile, CheckEvery: 100 * time.Millisecond}
	})
	roots := ca.Pool()
	if got := servedCert(t, e.httpAddr, roots); got.SerialNumber.Cmp(first.SerialNumber) != 0 {
		t.Fatal("the hub does not serve the given certificate")
	}
	second := write(ca)
	testutil.Eventually(t, 5*time.Second, "the renewed file served", func() bool {
		return servedCert(t, e.httpAddr, roots).SerialNumber.Cmp(second.SerialNumber) == 0
	})
	other, err := pki.LoadOrCreateCA(filepath.Join(dir, "other"), "other")
	if err != nil {
		t.Fatal(err)
	}
	write(other)
	time.Sleep(500 * time.Millisecond)
	if got := servedCert(t, mqttTLS, roots); got.SerialNumber.Cmp(second.SerialNumber) != 0 {
		t.Fatal("a certificate of another CA replaced the hub's")
	}
}

// enrollWithCert enrolls room's agent with a client certificate over HTTPS (its live agent
// stopped first) and returns its credentials.
func (e *env) enrollWithCert(t *testing.T, room string) agent.Credentials {
	t.Helper()
	e.stopAgent(room)
	st, body := e.call("POST", "/api/v1/enrollments", e.login("tech"), map[string]string{"site": site, "room": room})
	if st != 201 {
		t.Fatalf("enrollment: %d %v", st, body)
	}
	en, err := agent.EnrollWith(context.Background(), agent.EnrollOptions{HubURL: "https://" + e.httpAddr,
		Token: body["token"].(string), CAFingerprint: body["ca_fingerprint"].(string)})
	if err != nil {
		t.Fatal(err)
	}
	if en.Credentials.Certificate == "" || en.Credentials.Hub != "https://"+e.httpAddr {
		t.Fatalf("enrolled without a certificate or the hub's URL: %v %q", en.Credentials, en.Credentials.Hub)
	}
	return en.Credentials
}

// startLiveAgent runs room's agent by certificate with live TLS and its renewal loop checking
// every `every`, keeping the credentials in file.
func (e *env) startLiveAgent(t *testing.T, room string, c agent.Credentials, file string, every time.Duration) *agent.LiveTLS {
	t.Helper()
	if err := agent.WriteCredentials(file, agent.Enrolled{Site: site, Room: room, Credentials: c}); err != nil {
		t.Fatal(err)
	}
	live, err := agent.NewLiveTLS(c)
	if err != nil {
		t.Fatal(err)
	}
	e.creds[room] = hub.Credentials{Broker: c.Broker, Username: c.Username}
	saved := e.agentTLS
	e.agentTLS = live.Config()
	e.startAgent(room)
	e.agentTLS = saved
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	go agent.RunRenewal(ctx, c, agent.RenewOptions{HubURL: c.Hub, CredentialsFile: file, Every: every, TLS: live, Logger: testLogger(t)})
	return live
}

// An agent renews its certificate over HTTPS before it expires, proving it holds the current
// one's key: a check too early gets no new certificate; once a third of its life is left the
// agent gets one for a new key, writes it to its credentials file, and reconnects with it after
// the old one expired, without a restart. A revoked certificate, a proof signed with another
// key, a stale proof and a certificate of another CA are refused.
func TestAgentCertRenewal(t *testing.T) {
	mqttTLS := testutil.FreePort(t)
	const validity = 6 * time.Second
	e := newEnvWith(t, 2, false, func(o *hub.Options) {
		o.TLS = &hub.TLSOptions{MQTTListen: mqttTLS, Names: []string{"localhost", "127.0.0.1"}, AgentValidity: validity}
	})
	c := e.enrollWithCert(t, "r1")
	ctx := context.Background()
	first, err := pki.ParseCertificates([]byte(c.Certificate))
	if err != nil || time.Until(first[0].NotAfter) > validity+time.Second {
		t.Fatalf("enrolled certificate: %v %v", first, err)
	}
	same, changed, err := agent.RenewCheck(ctx, c.Hub, c, nil, time.Now())
	if err != nil || changed || same.Certificate != c.Certificate {
		t.Fatalf("an early check: changed %v, %v", changed, err)
	}

	// Refusals, by the API itself.
	keyPEM, csrPEM, _ := pki.NewAgentKey()
	otherKey, _ := pki.ParsePrivateKey(keyPEM)
	now := time.Now().UTC().Truncate(time.Second)
	proof := func(key crypto.Signer, at time.Time) string {
		s, err := pki.SignRenewal(key, csrPEM, at)
		if err != nil {
			t.Fatal(err)
		}
		return base64.StdEncoding.EncodeToString(s)
	}
	ownKey, _ := pki.ParsePrivateKey([]byte(c.Key))
	otherCA, _ := pki.LoadOrCreateCA(filepath.Join(e.dir, "other"), "other")
	strangerPEM, _, _ := otherCA.SignAgent(csrPEM, site, "r1")
	for _, tc := range []struct {
		name, cert, sig string
		at              time.Time
		want            int
	}{
		{"a proof signed with another key", c.Certificate, proof(otherKey, now), now, 401},
		{"a stale proof", c.Certificate, proof(ownKey, now.Add(-time.Hour)), now.Add(-time.Hour), 401},
		{"a certificate of another CA", string(strangerPEM), proof(otherKey, now), now, 401},
		{"no signature", c.Certificate, "", now, 400},
	} {
		st, body := e.call("POST", "/api/v1/renew", "", map[string]string{"certificate": tc.cert, "csr": string(csrPEM),
			"time": tc.at.Format(time.RFC3339), "signature": tc.sig})
		if st != tc.want {
			t.Errorf("%s: %d %v, want %d", tc.name, st, body, tc.want)
		}
	}

	// The agent runs with its renewal loop.
	file := filepath.Join(e.dir, "r1.yaml")
	live := e.startLiveAgent(t, "r1", c, file, 300*time.Millisecond)
	testutil.Eventually(t, 10*time.Second, "r1 online by certificate", func() bool { return e.hub.Registry().Online(site, "r1") })
	testutil.Eventually(t, 2*validity, "a renewed certificate in the credentials file", func() bool {
		got, err := agent.LoadCredentials(file)
		return err == nil && got.Certificate != c.Certificate && got.Key != c.Key
	})
	renewed, _ := agent.LoadCredentials(file)
	leaf, _ := pki.ParseCertificates([]byte(renewed.Certificate))
	if !leaf[0].NotAfter.After(first[0].NotAfter) {
		t.Fatalf("renewed certificate expires %s, the first %s", leaf[0].NotAfter, first[0].NotAfter)
	}
	for time.Now().Before(first[0].NotAfter.Add(200 * time.Millisecond)) {
		time.Sleep(100 * time.Millisecond)
	}
	// The old certificate has expired; the broker ends the session; the agent comes back with
	// whatever certificate its live TLS holds now.
	e.hub.Embedded().Disconnect(c.Username)
	testutil.Eventually(t, 10*time.Second, "r1 back online after its first certificate expired", func() bool {
		return e.hub.Registry().Online(site, "r1")
	})
	if cur := live.Certificate().Leaf; cur != nil && !cur.NotAfter.After(time.Now()) {
		t.Errorf("the agent presents an expired certificate (until %s)", cur.NotAfter)
	}
	if _, err := mqttConnect(t, c.Broker, c.Username+"-x", c.Username, "", pki.ClientConfig(e.hub.CA().Pool(), live.Certificate())); err == nil {
		t.Error("a client ID other than the agent's logged in") // identity still bound
	}

	// Revoked: the renewal check is refused.
	if st, _ := e.call("DELETE", "/api/v1/agents/"+site+"/r1", e.login("tech"), nil); st != 204 {
		t.Fatalf("revoke: %d", st)
	}
	cur, _ := agent.LoadCredentials(file)
	if _, _, err := agent.RenewCheck(ctx, cur.Hub, cur, nil, time.Now()); err == nil || !strings.Contains(err.Error(), "revoked") {
		t.Errorf("a revoked agent's renewal check: %v", err)
	}
}

// hubCLI runs `hub args… --data` on the env's data directory.
func (e *env) hubCLI(t *testing.T, args ...string) string {
	t.Helper()
	var out, errb bytes.Buffer
	if code := hubcli.Main(append(args, "--data", filepath.Join(e.dir, "data")), strings.NewReader(""), &out, &errb); code != 0 {
		t.Fatalf("hub %s: %d %s", strings.Join(args, " "), code, errb.String())
	}
	return out.String()
}

// A CA rotation with its overlap, while an agent with a certificate keeps running: after
// `hub ca rotate` the hub trusts both CAs and the agent's renewal check fetches both; after
// `hub ca promote` the hub's certificate comes from the new CA, which the agent already
// trusts (a client that trusts only the old CA is refused), its old certificate still logs
// in, and its next check gets it one from the new CA; after `hub ca retire` a certificate
// of the old CA no longer logs in, and the agent, renewed, stays online. The hub restarts
// after each step.
func TestCARotation(t *testing.T) {
	mqttTLS := testutil.FreePort(t)
	e := newEnvWith(t, 2, false, func(o *hub.Options) {
		o.TLS = &hub.TLSOptions{MQTTListen: mqttTLS, Names: []string{"localhost", "127.0.0.1"}}
	})
	c := e.enrollWithCert(t, "r1")
	oldCA := e.hub.CA()
	file := filepath.Join(e.dir, "r1.yaml")
	e.startLiveAgent(t, "r1", c, file, 200*time.Millisecond)
	online := func(what string) {
		t.Helper()
		testutil.Eventually(t, 15*time.Second, what, func() bool {
			return e.hub.Registry().Online(site, "r1") && e.hub.Registry().Online(site, "r2")
		})
	}
	online("both rooms online")
	restart := func(step string) {
		t.Helper()
		e.hub.Close()
		e.hubCLI(t, "ca", step)
		saved := e.agentTLS
		e.startHub()
		e.agentTLS = saved // the agents keep what they were given
	}
	cas := func() []*x509.Certificate {
		got, err := agent.LoadCredentials(file)
		if err != nil {
			t.Fatal(err)
		}
		certs, _ := pki.ParseCertificates([]byte(got.CA))
		return certs
	}

	// 1. Stage: both CAs trusted; the agent learns both.
	restart("rotate")
	if e.hub.CA().Fingerprint() != oldCA.Fingerprint() {
		t.Fatal("staging changed the issuing CA")
	}
	testutil.Eventually(t, 10*time.Second, "the agent trusts both CAs", func() bool { return len(cas()) == 2 })
	newCA := cas()[1]
	online("both rooms online after staging")
	// The room that logs in by password runs no renewal check: its operator gives it what
	// `hub ca` prints now (both CAs), as for any CA file.
	bundle, err := pki.ParseCertificates([]byte(e.hubCLI(t, "ca")))
	if err != nil || len(bundle) != 2 {
		t.Fatalf("hub ca during the overlap: %d CAs, %v", len(bundle), err)
	}
	pool := x509.NewCertPool()
	for _, b := range bundle {
		pool.AddCert(b)
	}
	e.stopAgent("r2")
	e.agentTLS = pki.ClientConfig(pool, nil)
	e.startAgent("r2")

	// 2. Promote: the new CA issues; the agent's old certificate still logs in; it renews.
	restart("promote")
	if e.hub.CA().Fingerprint() != pki.Fingerprint(newCA) {
		t.Fatal("the staged CA does not issue after promote")
	}
	if _, err := mqttConnect(t, e.hub.BrokerURL(), "watch-old", "observer", "pw-observer", pki.ClientConfig(oldCA.Pool(), nil)); err == nil {
		t.Error("a client trusting only the old CA accepted the hub's new certificate")
	}
	oldCert, _ := tls.X509KeyPair([]byte(c.Certificate), []byte(c.Key))
	if _, err := mqttConnect(t, c.Broker, c.Username, c.Username, "", pki.ClientConfig(e.hub.CA().Pool(), &oldCert)); err != nil {
		t.Errorf("the old CA's agent certificate during the overlap: %v", err)
	}
	testutil.Eventually(t, 10*time.Second, "a certificate from the new CA", func() bool {
		got, _ := agent.LoadCredentials(file)
		leaf, err := pki.ParseCertificates([]byte(got.Certificate))
		return err == nil && leaf[0].CheckSignatureFrom(newCA) == nil
	})
	online("both rooms online after promote")

	// 3. Retire: the old CA is trusted no more.
	restart("retire")
	if _, err := mqttConnect(t, c.Broker, c.Username, c.Username, "", pki.ClientConfig(e.hub.CA().Pool(), &oldCert)); err == nil {
		t.Error("a certificate of the retired CA logged in")
	}
	testutil.Eventually(t, 10*time.Second, "the agent trusts the new CA only", func() bool { return len(cas()) == 1 })
	if got := cas()[0]; !got.Equal(newCA) {
		t.Error("the agent trusts a CA other than the new one")
	}
	online("both rooms online after retire")
	e.hubCLI(t, "verify-audit") // the steps are in the audit log, its chain intact
	st, body := e.call("GET", "/api/v1/audit?action=ca-rotate", e.login("tech"), nil)
	if st != 200 || strings.Count(fmt.Sprint(body), "ca-rotate") < 3 {
		t.Errorf("the audit log lacks the three CA rotation steps: %d %v", st, body)
	}
}
