package integration

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"testing"
	"time"

	"github.com/bailiff/bailiff/internal/pki"
	"github.com/bailiff/bailiff/internal/testutil"
	"github.com/bailiff/bailiff/internal/wire"
)

// An external mosquitto through a CA rotation (docs/SECURITY.md), after `hub ca promote`: with
// every CA the hub trusts in its cafile (`hub ca`) and the lists `hub agents crl` writes (one
// per CA) in its crlfile, agent certificates of the old CA and of the new one log in, and a
// revoked one of either does not. With the new CA's list missing, mosquitto (OpenSSL's CRL
// check) refuses the new CA's certificates: a list from each CA is needed.
func TestMosquittoCARotation(t *testing.T) {
	dir := t.TempDir()
	keys := filepath.Join(dir, "keys")
	oldCA, err := pki.LoadOrCreateCA(keys, "Bailiff hub CA")
	if err != nil {
		t.Fatal(err)
	}
	newCA, err := pki.StageCA(keys, "Bailiff hub CA next")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pki.PromoteCA(keys); err != nil {
		t.Fatal(err)
	}
	trust, err := pki.LoadTrust(keys, "Bailiff hub CA")
	if err != nil || !trust.Issuer.Cert.Equal(newCA.Cert) || trust.PreviousCA == nil {
		t.Fatalf("trust after promote: %+v %v", trust, err)
	}
	agentCert := func(ca *pki.CA, room string) (tls.Certificate, string) {
		keyPEM, csrPEM, _ := pki.NewAgentKey()
		certPEM, serial, err := ca.SignAgent(csrPEM, site, room)
		if err != nil {
			t.Fatal(err)
		}
		kp, err := tls.X509KeyPair(certPEM, keyPEM)
		if err != nil {
			t.Fatal(err)
		}
		return kp, serial
	}
	oldR1, _ := agentCert(oldCA, "r1")
	newR1, _ := agentCert(newCA, "r1")
	oldR2, oldR2Serial := agentCert(oldCA, "r2")
	newR2, newR2Serial := agentCert(newCA, "r2")

	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	caFile := write("cas.pem", trust.PEM())
	srv, err := newCA.IssueServer([]string{"127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	keyDER, _ := x509.MarshalPKCS8PrivateKey(srv.PrivateKey)
	certFile := write("broker.pem", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate[0]}))
	keyFile := write("broker.key", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}))
	crl := func(ca *pki.CA, serials ...string) []byte {
		b, err := ca.CRL(serials, time.Now().Unix())
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	crls, err := trust.CRLs([]string{oldR2Serial, newR2Serial}, 1)
	if err != nil {
		t.Fatal(err)
	}
	crlFile := write("bailiff.crl", crls)
	aclFile := write("acl", []byte("pattern readwrite bailiff/v1/%u/#\n"))
	addr := testutil.FreePort(t)
	_, port, _ := net.SplitHostPort(addr)
	me, _ := user.Current()
	m := &mosquitto{t: t, addr: addr, conf: filepath.Join(dir, "mosquitto.conf")}
	write("mosquitto.conf", []byte(fmt.Sprintf(`user %s
log_dest stderr
listener %s 127.0.0.1
cafile %s
certfile %s
keyfile %s
tls_version tlsv1.2
require_certificate true
use_identity_as_username true
crlfile %s
allow_anonymous false
acl_file %s
`, me.Username, port, caFile, certFile, keyFile, crlFile, aclFile)))
	m.start(mosquittoBin(t))
	t.Cleanup(m.stop)

	login := func(cert tls.Certificate, room string) error {
		_, err := mqttConnect(t, "ssl://"+addr, wire.AgentUser(site, room), "", "", pki.ClientConfig(trust.Pool(), &cert))
		return err
	}
	for name, c := range map[string]struct {
		cert tls.Certificate
		room string
		ok   bool
	}{
		"old CA": {oldR1, "r1", true}, "new CA": {newR1, "r1", true},
		"old CA, revoked": {oldR2, "r2", false}, "new CA, revoked": {newR2, "r2", false},
	} {
		if err := login(c.cert, c.room); (err == nil) != c.ok {
			t.Errorf("%s: %v, want ok %v", name, err, c.ok)
		}
	}

	// Without the new CA's list, its certificates are refused.
	write("bailiff.crl", crl(oldCA, oldR2Serial, newR2Serial))
	m.restart()
	if err := login(newR1, "r1"); err == nil {
		t.Error("a certificate of a CA without a CRL logged in")
	}
	if err := login(oldR1, "r1"); err != nil {
		t.Errorf("the old CA's certificate with its CRL: %v", err)
	}
}

// mosquittoBin finds Debian's mosquitto (in /usr/sbin, often not on a user's PATH).
func mosquittoBin(t *testing.T) string {
	t.Helper()
	if bin, err := exec.LookPath("mosquitto"); err == nil {
		return bin
	}
	if _, err := os.Stat("/usr/sbin/mosquitto"); err == nil {
		return "/usr/sbin/mosquitto"
	}
	t.Fatal("mosquitto is not installed (apt-get install mosquitto mosquitto-clients)")
	return ""
}
