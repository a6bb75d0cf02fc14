package integration

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/bailiff/bailiff/internal/hub"
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
