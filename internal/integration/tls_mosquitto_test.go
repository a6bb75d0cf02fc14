package integration

import (
	"context"
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

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/bailiff/bailiff/internal/agent"
	"github.com/bailiff/bailiff/internal/config"
	"github.com/bailiff/bailiff/internal/hub"
	"github.com/bailiff/bailiff/internal/hub/auth"
	"github.com/bailiff/bailiff/internal/hub/broker"
	"github.com/bailiff/bailiff/internal/pki"
	"github.com/bailiff/bailiff/internal/store"
	"github.com/bailiff/bailiff/internal/testutil"
	"github.com/bailiff/bailiff/internal/wire"
)

// TestTLSExternalMosquitto follows docs/OPERATIONS.md ("An external mosquitto with agent
// certificates") with Debian's mosquitto: agents log in on one listener by the certificate
// the hub's CA issued at enrollment (use_identity_as_username), the hub on another by
// password; the ACL follows the certificate's room; a revoked certificate, once the CRL is
// written and mosquitto restarted, is refused.
func TestTLSExternalMosquitto(t *testing.T) {
	bin, err := exec.LookPath("mosquitto")
	if err != nil {
		bin = "/usr/sbin/mosquitto"
		if _, err := os.Stat(bin); err != nil {
			t.Fatal("mosquitto is not installed (apt-get install mosquitto mosquitto-clients)")
		}
	}
	dir := t.TempDir()
	dataDir := filepath.Join(dir, "data")
	// The hub's CA, made before the hub starts, as `hub ca` would.
	ca, err := pki.LoadOrCreateCA(filepath.Join(dataDir, "keys"), "Bailiff hub CA")
	if err != nil {
		t.Fatal(err)
	}
	caFile := filepath.Join(dir, "ca.pem")
	os.WriteFile(caFile, ca.PEM, 0o600)
	srv, err := ca.IssueServer([]string{"127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	keyDER, _ := x509.MarshalPKCS8PrivateKey(srv.PrivateKey)
	certFile, keyFile, crlFile := filepath.Join(dir, "broker.pem"), filepath.Join(dir, "broker.key"), filepath.Join(dir, "bailiff.crl")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate[0]}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600)
	writeCRL := func(st *store.Store, n int64) {
		var serials []string
		if st != nil {
			if serials, err = st.RevokedAgentCerts(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
		crl, err := ca.CRL(serials, n)
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(crlFile, crl, 0o600)
	}
	writeCRL(nil, 1)

	pwFile, aclFile := filepath.Join(dir, "passwd"), filepath.Join(dir, "acl")
	os.WriteFile(pwFile, nil, 0o600)
	for u, p := range map[string]string{"hub": "hub-pw", "observer": "pw-observer"} {
		if out, err := exec.Command("mosquitto_passwd", "-b", pwFile, u, p).CombinedOutput(); err != nil {
			t.Fatalf("mosquitto_passwd: %v: %s", err, out)
		}
	}
	os.WriteFile(aclFile, []byte(broker.MosquittoACL("hub", []string{"observer"}, [][2]string{{site, "r1"}, {site, "r2"}})), 0o600)
	agentAddr, hubAddr := testutil.FreePort(t), testutil.FreePort(t)
	_, agentPort, _ := net.SplitHostPort(agentAddr)
	_, hubPort, _ := net.SplitHostPort(hubAddr)
	me, _ := user.Current()
	m := &mosquitto{t: t, addr: hubAddr, conf: filepath.Join(dir, "mosquitto.conf")}
	os.WriteFile(m.conf, []byte(fmt.Sprintf(`user %[1]s
per_listener_settings true
log_dest stderr

listener %[2]s 127.0.0.1
cafile %[4]s
certfile %[5]s
keyfile %[6]s
tls_version tlsv1.2
require_certificate true
use_identity_as_username true
crlfile %[7]s
allow_anonymous false
acl_file %[8]s

listener %[3]s 127.0.0.1
cafile %[4]s
certfile %[5]s
keyfile %[6]s
tls_version tlsv1.2
allow_anonymous false
password_file %[9]s
acl_file %[8]s
`, me.Username, agentPort, hubPort, caFile, certFile, keyFile, crlFile, aclFile, pwFile)), 0o600)
	m.start(bin)
	t.Cleanup(m.stop)

	rooms := []*config.Room{}
	for _, r := range []string{"r1", "r2"} {
		rooms = append(rooms, &config.Room{Site: site, Room: r, Kind: config.KindTechCourtroom, Name: r,
			Poll: config.Duration(time.Second), Timeout: config.Duration(time.Second)})
	}
	httpAddr := testutil.FreePort(t)
	h, err := hub.New(hub.Options{HTTPListen: httpAddr, DataDir: dataDir, Rooms: rooms, Logger: testLogger(t),
		External:       &hub.ExternalBroker{URL: "ssl://" + hubAddr, Username: "hub", Password: "hub-pw"},
		AgentBrokerURL: "ssl://" + agentAddr,
		TLS:            &hub.TLSOptions{MQTTListen: "127.0.0.1:0", Names: []string{"127.0.0.1"}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.Close)
	if h.CA().Fingerprint() != ca.Fingerprint() {
		t.Fatal("the hub made another CA")
	}

	// Enroll r1 with a certificate.
	ctx := context.Background()
	now := time.Now()
	if err := h.Store().PutEnrollment(ctx, store.Enrollment{TokenHash: auth.HashSecret("tok-r1"), Site: site, Room: "r1",
		Created: now, Expires: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	en, err := agent.EnrollWith(ctx, agent.EnrollOptions{HubURL: "https://" + httpAddr, Token: "tok-r1", CAFingerprint: ca.Fingerprint()})
	if err != nil {
		t.Fatal(err)
	}
	tc, err := en.Credentials.TLSConfig("")
	if err != nil || en.Credentials.Broker != "ssl://"+agentAddr {
		t.Fatalf("credentials: %v %v", en.Credentials, err)
	}
	a, err := agent.New(agent.Options{Room: rooms[0], Broker: en.Credentials.Broker, Username: en.Credentials.Username,
		Version: "test", Logger: testLogger(t), MaxBackoff: 500 * time.Millisecond, TLS: tc})
	if err != nil {
		t.Fatal(err)
	}
	actx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); a.Run(actx) }()
	t.Cleanup(func() { stop(); <-done })
	testutil.Eventually(t, 10*time.Second, "r1 online through mosquitto by certificate", func() bool { return h.Registry().Online(site, "r1") })

	// The certificate's CN is the user name: r1's certificate cannot publish as r2.
	watch, err := mqttConnect(t, "ssl://"+hubAddr, "watch", "observer", "pw-observer", pki.ClientConfig(ca.Pool(), nil))
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan string, 4)
	r2Topic := wire.RoomTopic(site, "r2", wire.KindAgent)
	watch.Subscribe(r2Topic, 1, func(_ paho.Client, msg paho.Message) { got <- string(msg.Payload()) }).WaitTimeout(3 * time.Second)
	forger, err := mqttConnect(t, "ssl://"+agentAddr, wire.AgentUser(site, "r2"), wire.AgentUser(site, "r2"), "", tc)
	if err != nil {
		t.Fatalf("r1's certificate on the agents' listener: %v", err)
	}
	forger.Publish(r2Topic, 1, false, `{"online":true}`).WaitTimeout(3 * time.Second)
	select {
	case p := <-got:
		t.Fatalf("r1's certificate published as r2: %s", p)
	case <-time.After(700 * time.Millisecond):
	}
	// No certificate: refused on the agents' listener.
	if _, err := mqttConnect(t, "ssl://"+agentAddr, "nocert", "observer", "pw-observer", pki.ClientConfig(ca.Pool(), nil)); err == nil {
		t.Fatal("a client without a certificate logged in on the agents' listener")
	}

	// Revoke r1, write the CRL, restart mosquitto: the certificate is refused.
	if err := h.Store().RevokeAgent(ctx, site, "r1", time.Now()); err != nil {
		t.Fatal(err)
	}
	writeCRL(h.Store(), 2)
	m.restart()
	if _, err := mqttConnect(t, "ssl://"+agentAddr, wire.AgentUser(site, "r1"), "", "", tc); err == nil {
		t.Fatal("a revoked certificate logged in to mosquitto")
	}
}
