package integration

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/bailiff/bailiff/internal/agent"
	"github.com/bailiff/bailiff/internal/hub"
	"github.com/bailiff/bailiff/internal/pki"
	"github.com/bailiff/bailiff/internal/testutil"
	"github.com/bailiff/bailiff/internal/wire"
)

// trustHubCA sets the API client and the agents' TLS to trust the hub's CA when TLS is on.
func (e *env) trustHubCA() {
	ca := e.hub.CA()
	if ca == nil {
		return
	}
	e.agentTLS = pki.ClientConfig(ca.Pool(), nil)
	e.https = &http.Client{Timeout: 10 * time.Second,
		Transport: &http.Transport{TLSClientConfig: pki.ClientConfig(ca.Pool(), nil)}}
}

// newTLSEnv is newEnv with TLS on: the hub's own CA, HTTPS and MQTT over TLS only.
func newTLSEnv(t *testing.T, rooms int) *env {
	mqttTLS := testutil.FreePort(t)
	return newEnvWith(t, rooms, false, func(o *hub.Options) {
		o.TLS = &hub.TLSOptions{MQTTListen: mqttTLS, Names: []string{"localhost", "127.0.0.1"}}
	})
}

// mqttConnect connects an MQTT client to the hub's broker with tc, returning the connect
// error (nil: connected; the client is then disconnected at the end of the test).
func mqttConnect(t *testing.T, broker, clientID, user, password string, tc *tls.Config) (paho.Client, error) {
	o := paho.NewClientOptions().AddBroker(broker).SetClientID(clientID).SetUsername(user).SetPassword(password).
		SetConnectTimeout(3 * time.Second).SetAutoReconnect(false).SetProtocolVersion(4)
	if tc != nil {
		o.SetTLSConfig(tc)
	}
	c := paho.NewClient(o)
	tok := c.Connect()
	if !tok.WaitTimeout(5 * time.Second) {
		return nil, errors.New("connect timed out")
	}
	if err := tok.Error(); err != nil {
		return nil, err
	}
	t.Cleanup(func() { c.Disconnect(100) })
	return c, nil
}

// TestTLSLinks: with TLS on, the API answers over HTTPS only, to clients trusting the hub's
// CA, with TLS 1.2 or newer; the broker takes MQTT over TLS only; an agent with a password
// brings its room online over TLS; Debian's mosquitto_sub, given the CA file, reads the
// agents' status as an observer and is refused without it.
func TestTLSLinks(t *testing.T) {
	e := newTLSEnv(t, 1)
	if !strings.HasPrefix(e.hub.BrokerURL(), "ssl://") {
		t.Fatalf("broker URL %s: want ssl://", e.hub.BrokerURL())
	}
	testutil.Eventually(t, 10*time.Second, "room online over TLS", func() bool { return e.hub.Registry().Online(site, "r1") })
	tech := e.login("tech")
	if st, body := e.call("GET", "/api/v1/rooms", tech, nil); st != 200 {
		t.Fatalf("rooms over HTTPS: %d %v", st, body)
	}

	// A client that does not trust the CA, plain HTTP, and TLS 1.1 are refused.
	if _, err := (&http.Client{Timeout: 5 * time.Second}).Get("https://" + e.httpAddr + "/healthz"); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("a client without the CA: %v", err)
	}
	if resp, err := http.Get("http://" + e.httpAddr + "/healthz"); err == nil {
		resp.Body.Close()
		if resp.StatusCode == 200 {
			t.Fatal("plain HTTP answered 200 on the HTTPS port")
		}
	}
	old := &tls.Config{RootCAs: e.hub.CA().Pool(), MaxVersion: tls.VersionTLS11, MinVersion: tls.VersionTLS10}
	if c, err := tls.Dial("tcp", e.httpAddr, old); err == nil {
		c.Close()
		t.Fatal("a TLS 1.1 handshake succeeded")
	}

	// MQTT: TLS only; the CA must be trusted.
	if _, err := mqttConnect(t, "tcp://"+strings.TrimPrefix(e.hub.BrokerURL(), "ssl://"), "watch-plain", "observer", "pw-observer", nil); err == nil {
		t.Fatal("a plain-text MQTT connection to the TLS port was accepted")
	}
	if _, err := mqttConnect(t, e.hub.BrokerURL(), "watch-tls11", "observer", "pw-observer", old); err == nil {
		t.Fatal("a TLS 1.1 MQTT connection was accepted")
	}
	if _, err := mqttConnect(t, e.hub.BrokerURL(), "watch-untrusting", "observer", "pw-observer", pki.ClientConfig(nil, nil)); err == nil {
		t.Fatal("an MQTT client that does not trust the CA connected")
	}
	if _, err := mqttConnect(t, e.hub.BrokerURL(), "watch", "observer", "pw-observer", e.agentTLS); err != nil {
		t.Fatalf("observer over TLS: %v", err)
	}

	// Debian's mosquitto_sub as a third-party client.
	if _, err := exec.LookPath("mosquitto_sub"); err != nil {
		t.Fatal("mosquitto_sub is not installed (apt-get install mosquitto-clients)")
	}
	caFile := filepath.Join(e.dir, "ca.pem")
	if err := os.WriteFile(caFile, e.hub.CA().PEM, 0o644); err != nil {
		t.Fatal(err)
	}
	host, port, _ := net.SplitHostPort(strings.TrimPrefix(e.hub.BrokerURL(), "ssl://"))
	topic := wire.RoomTopic(site, "r1", wire.KindAgent)
	sub := func(extra ...string) (string, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		args := append([]string{"-h", host, "-p", port, "-i", "mosq-sub", "-u", "observer", "-P", "pw-observer", "-t", topic, "-C", "1", "-W", "5"}, extra...)
		out, err := exec.CommandContext(ctx, "mosquitto_sub", args...).CombinedOutput()
		return string(out), err
	}
	out, err := sub("--cafile", caFile)
	if err != nil || !strings.Contains(out, `"online":true`) {
		t.Fatalf("mosquitto_sub --cafile: %v %s", err, out)
	}
	otherCA, err := pki.LoadOrCreateCA(filepath.Join(e.dir, "other"), "other")
	if err != nil {
		t.Fatal(err)
	}
	if out, err := sub("--cafile", filepath.Join(e.dir, "other", pki.CACertFile)); err == nil {
		t.Fatalf("mosquitto_sub trusting another CA (%s) connected: %s", otherCA.Fingerprint(), out)
	}
}

// TestTLSAgentCertificate: an agent enrolls over HTTPS pinning the CA by the fingerprint the
// technician got with the token, gets a client certificate for its own key, and runs its room
// by certificate; the certificate of room r1 cannot log in as r2, whatever user name or client
// ID it sends, nor read r2's commands; a technician revokes it (DELETE
// /api/v1/agents/{site}/{room}), which ends its live session at once and keeps it out.
func TestTLSAgentCertificate(t *testing.T) {
	e := newTLSEnv(t, 2)
	tech := e.login("tech")
	e.stopAgent("r1") // r1 re-enrolls with a certificate below
	st, body := e.call("POST", "/api/v1/enrollments", tech, map[string]string{"site": site, "room": "r1"})
	if st != 201 {
		t.Fatalf("enrollment: %d %v", st, body)
	}
	token, fp := body["token"].(string), body["ca_fingerprint"].(string)
	if fp != e.hub.CA().Fingerprint() {
		t.Fatalf("ca_fingerprint %q, want %q", fp, e.hub.CA().Fingerprint())
	}
	hubURL := "https://" + e.httpAddr
	ctx := context.Background()

	// No pin: the hub's own CA is unknown to the system, and the error says what to give.
	if _, err := agent.EnrollWith(ctx, agent.EnrollOptions{HubURL: hubURL, Token: token}); err == nil || !strings.Contains(err.Error(), "--ca-fingerprint") {
		t.Fatalf("enroll without a pin: %v", err)
	}
	// A wrong pin fails before the token is sent (so the token is not spent).
	wrong := strings.Repeat("ab", 32)
	if _, err := agent.EnrollWith(ctx, agent.EnrollOptions{HubURL: hubURL, Token: token, CAFingerprint: wrong}); err == nil || !strings.Contains(err.Error(), "fingerprint") {
		t.Fatalf("enroll with a wrong pin: %v", err)
	}
	// Plain http without a pin is refused too (the https port answers no plain HTTP anyway).
	en, err := agent.EnrollWith(ctx, agent.EnrollOptions{HubURL: hubURL, Token: token, CAFingerprint: fp})
	if err != nil {
		t.Fatal(err)
	}
	c := en.Credentials
	if c.CA == "" || c.Certificate == "" || c.Key == "" || !strings.HasPrefix(c.Broker, "ssl://") {
		t.Fatalf("credentials lack TLS: %v", c)
	}
	credFile := filepath.Join(e.dir, "r1.yaml")
	if err := agent.WriteCredentials(credFile, en); err != nil {
		t.Fatal(err)
	}
	c, err = agent.LoadCredentials(credFile)
	if err != nil {
		t.Fatal(err)
	}
	tc, err := c.TLSConfig("")
	if err != nil || tc == nil || len(tc.Certificates) != 1 {
		t.Fatalf("TLS config from the credentials: %v %v", tc, err)
	}

	// The agent runs by certificate alone: no password.
	e.creds["r1"] = hub.Credentials{Broker: c.Broker, Username: c.Username}
	saved := e.agentTLS
	e.agentTLS = tc
	e.startAgent("r1")
	e.agentTLS = saved
	testutil.Eventually(t, 10*time.Second, "r1 online by certificate", func() bool { return e.hub.Registry().Online(site, "r1") })
	if st, body := e.command(tech, "r1", "display", "power", map[string]any{"on": true}); st != 200 {
		t.Fatalf("command to the room run by certificate: %d %v", st, body)
	}

	// Room r1's certificate cannot act as r2, with a forged user name and/or client ID.
	r2 := wire.AgentUser(site, "r2")
	for _, f := range []struct{ id, user string }{{r2, r2}, {r2, ""}, {wire.AgentUser(site, "r1"), r2}, {"observer-ish", ""}} {
		if _, err := mqttConnect(t, c.Broker, f.id, f.user, "", tc); err == nil {
			t.Fatalf("r1's certificate logged in as client %q user %q", f.id, f.user)
		}
	}
	// …nor with r2's user name and password… a certificate decides: the forged password of
	// r2 with r1's certificate is refused as well.
	if _, err := mqttConnect(t, c.Broker, r2, r2, e.creds["r2"].Password, tc); err == nil {
		t.Fatal("r1's certificate with r2's password logged in as r2")
	}

	// Revocation: a judge may not; a technician may, and the live session ends at once.
	if st, _ := e.call("DELETE", "/api/v1/agents/"+site+"/r1", e.login("judge"), nil); st != 403 {
		t.Fatalf("a judge revoked an agent: %d", st)
	}
	if st, body := e.call("DELETE", "/api/v1/agents/"+site+"/r1", tech, nil); st != 204 {
		t.Fatalf("revoke: %d %v", st, body)
	}
	testutil.Eventually(t, 5*time.Second, "r1 offline after revocation", func() bool { return !e.hub.Registry().Online(site, "r1") })
	if _, err := mqttConnect(t, c.Broker, c.Username, c.Username, "", tc); err == nil {
		t.Fatal("a revoked certificate logged in again")
	}
	time.Sleep(1500 * time.Millisecond) // the agent keeps trying; it stays out
	if e.hub.Registry().Online(site, "r1") {
		t.Fatal("the revoked agent came back online")
	}
	if st, _ := e.call("DELETE", "/api/v1/agents/"+site+"/r1", tech, nil); st != 404 {
		t.Fatalf("revoking again: %d, want 404", st)
	}
	if !e.hub.Registry().Online(site, "r2") {
		t.Fatal("r2 went offline with r1's revocation")
	}

	// `hub agents remove` works on the store beside the running hub, which ends the live
	// session of the removed agent (here r2, logged in by password) within seconds.
	if err := e.hub.Store().RevokeAgent(ctx, site, "r2", time.Now()); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, 10*time.Second, "r2 offline after the store revoked it", func() bool { return !e.hub.Registry().Online(site, "r2") })
}

// TestTLSGivenFiles: with the operator's certificate, key and CA files (tls.mode files) the
// hub serves HTTPS and MQTT over TLS with them and issues agent certificates from that CA; a
// server certificate of another CA stops the hub at start with an error naming the file.
func TestTLSGivenFiles(t *testing.T) {
	dir := t.TempDir()
	ca, err := pki.LoadOrCreateCA(filepath.Join(dir, "pki"), "court PKI")
	if err != nil {
		t.Fatal(err)
	}
	writeServer := func(ca *pki.CA, name string) (string, string) {
		srv, err := ca.IssueServer([]string{"127.0.0.1"})
		if err != nil {
			t.Fatal(err)
		}
		keyDER, _ := x509.MarshalPKCS8PrivateKey(srv.PrivateKey)
		cf, kf := filepath.Join(dir, name+".pem"), filepath.Join(dir, name+".key")
		os.WriteFile(cf, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate[0]}), 0o600)
		os.WriteFile(kf, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600)
		return cf, kf
	}
	cf, kf := writeServer(ca, "hub")
	caFile, caKey := filepath.Join(dir, "pki", pki.CACertFile), filepath.Join(dir, "pki", pki.CAKeyFile)
	mqttTLS := testutil.FreePort(t)
	e := newEnvWith(t, 1, false, func(o *hub.Options) {
		o.TLS = &hub.TLSOptions{MQTTListen: mqttTLS, CertFile: cf, KeyFile: kf, CAFile: caFile, CAKeyFile: caKey}
	})
	if e.hub.CA().Fingerprint() != ca.Fingerprint() {
		t.Fatal("the hub does not use the given CA")
	}
	testutil.Eventually(t, 10*time.Second, "room online over TLS", func() bool { return e.hub.Registry().Online(site, "r1") })
	if st, _ := e.call("GET", "/healthz", "", nil); st != 200 {
		t.Fatalf("healthz over HTTPS with the given certificate: %d", st)
	}
	st, body := e.call("POST", "/api/v1/enrollments", e.login("tech"), map[string]string{"site": site, "room": "r1"})
	if st != 201 || body["ca_fingerprint"] != ca.Fingerprint() {
		t.Fatalf("enrollment: %d %v", st, body)
	}
	en, err := agent.EnrollWith(context.Background(), agent.EnrollOptions{HubURL: "https://" + e.httpAddr, Token: body["token"].(string), CAFile: caFile})
	if err != nil || en.Credentials.Certificate == "" {
		t.Fatalf("enroll with --ca-file: %v %v", en.Credentials, err)
	}

	other, err := pki.LoadOrCreateCA(filepath.Join(dir, "other"), "other")
	if err != nil {
		t.Fatal(err)
	}
	ocf, okf := writeServer(other, "stranger")
	_, err = hub.New(hub.Options{HTTPListen: testutil.FreePort(t), DataDir: filepath.Join(dir, "data2"), Logger: testLogger(t),
		TLS: &hub.TLSOptions{MQTTListen: testutil.FreePort(t), CertFile: ocf, KeyFile: okf, CAFile: caFile}})
	if err == nil || !strings.Contains(err.Error(), "not issued by the CA") || !strings.Contains(err.Error(), ocf) {
		t.Fatalf("a server certificate of another CA: %v", err)
	}
}
