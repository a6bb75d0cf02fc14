package integration

import (
	"bufio"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/bailiff/bailiff/internal/testutil"
	"github.com/bailiff/bailiff/internal/wire"
)

// A compromised agent of room r1 tries every topic of room r2 (each kind of contract v1, and
// the wildcards that would cover them): nothing it publishes there reaches anyone, and none of
// r2's traffic (retained or live) reaches its subscriptions. Both brokers: the embedded one
// and mosquitto with the ACL `hub mosquitto-acl` writes. Once revoked, its password no longer
// logs in.
func TestAgentCannotReachAnotherRoom(t *testing.T) {
	brokers(t, func(t *testing.T, external bool) {
		e := newEnv(t, 2, external)
		url := "tcp://" + e.mqttAddr
		judge := e.login("judge")
		testutil.Eventually(t, 5*time.Second, "rooms online", func() bool { return e.roomOnline(judge, "r1") && e.roomOnline(judge, "r2") })
		e.stopAgent("r1") // its credentials now play the attacker
		c := e.creds["r1"]
		const marker = "forged-by-r1"
		obs := testutil.MustDial(t, url, "observer", "pw-observer", "obs-cross")
		r2Traffic := testutil.MustSubscribe(t, obs, wire.Prefix+"/"+site+"/r2/#", 1)

		var topics []string
		for _, k := range []wire.Kind{wire.KindAgent, wire.KindConfig, wire.KindMeter} {
			topics = append(topics, wire.RoomTopic(site, "r2", k))
		}
		for _, k := range []wire.Kind{wire.KindState, wire.KindCmd, wire.KindAck, wire.KindEvent} {
			for _, dev := range []string{"display", "projector", "new-device"} {
				topics = append(topics, wire.Prefix+"/"+site+"/r2/d/"+dev+"/"+string(k))
			}
		}
		filters := append(append([]string{}, topics...),
			wire.Prefix+"/"+site+"/r2/#", wire.Prefix+"/"+site+"/+/#", wire.Prefix+"/+/r2/d/+/cmd", wire.Prefix+"/#", "#")

		dial := func() paho.Client {
			a, err := testutil.Dial(url, c.Username, c.Password, c.Username)
			if err != nil {
				t.Fatalf("r1's login: %v", err)
			}
			return a
		}
		// Reading: one connection subscribes to every filter (a refused subscription leaves it
		// up); r2's retained messages and its live traffic (a command, its ack and state) must
		// not reach it.
		a := dial()
		var subs []*testutil.Collector
		refused := 0
		for _, f := range filters {
			col, err := testutil.Subscribe(a, f, 1)
			if err != nil {
				refused++
				continue
			}
			subs = append(subs, col)
		}
		if !external && refused < len(topics) {
			t.Errorf("the embedded broker refused %d of %d subscriptions to r2's topics", refused, len(filters))
		}
		if st, body := e.command(judge, "r2", "display", "refresh", nil); st != 200 {
			t.Fatalf("r2 refresh: %d %v", st, body)
		}
		r2Traffic.Wait(t, 5*time.Second, "r2's ack", func(m testutil.Msg) bool { return strings.HasSuffix(m.Topic, "/ack") })
		time.Sleep(300 * time.Millisecond)
		if !a.IsConnected() {
			t.Error("r1's reading connection was dropped: its subscriptions were not all tried")
		}
		for _, s := range subs {
			for _, m := range s.Messages() {
				if strings.Contains(m.Topic, "/r2/") {
					t.Errorf("r1 read r2's %s", m.Topic)
				}
			}
		}
		a.Disconnect(0)

		// Writing: every topic, retained and not, on a connection that is up (a broker may
		// drop the connection of a client that publishes where it may not).
		drops := 0
		a = dial()
		for _, topic := range topics {
			for _, retained := range []bool{false, true} {
				if !a.IsConnected() {
					drops++
					a = dial()
				}
				tok := a.Publish(topic, 1, retained, `{"`+marker+`":true,"reachable":true,"online":true,"at":"2026-01-01T00:00:00Z"}`)
				tok.WaitTimeout(2 * time.Second)
			}
		}
		a.Disconnect(0)
		t.Logf("%d forgeries on %d topics; the broker dropped the connection %d times", 2*len(topics), len(topics), drops)
		// A later observer sees no forged retained message either.
		late := testutil.MustSubscribe(t, testutil.MustDial(t, url, "observer", "pw-observer", "obs-late"), wire.Prefix+"/"+site+"/r2/#", 1)
		if st, body := e.command(judge, "r2", "display", "refresh", nil); st != 200 {
			t.Fatalf("r2 refresh: %d %v", st, body)
		}
		late.Wait(t, 5*time.Second, "r2's ack", func(m testutil.Msg) bool { return strings.HasSuffix(m.Topic, "/ack") })
		time.Sleep(300 * time.Millisecond)
		for _, m := range append(r2Traffic.Messages(), late.Messages()...) {
			if strings.Contains(string(m.Payload), marker) {
				t.Errorf("r1's forged message reached r2's topic %s", m.Topic)
			}
		}
		if d := e.device(judge, "r2", "display"); d == nil || d["reachable"] != true {
			t.Errorf("r2's display after r1's forgeries: %v", d)
		}
		if external {
			return // mosquitto's password file is the test's own: revocation there is docs/SECURITY.md's
		}

		// Revoked: the agent's password no longer logs in.
		if st, body := e.call("DELETE", "/api/v1/agents/"+site+"/r1", e.login("tech"), nil); st != 204 {
			t.Fatalf("revoke r1: %d %v", st, body)
		}
		if a, err := testutil.Dial(url, c.Username, c.Password, c.Username); err == nil {
			a.Disconnect(0)
			t.Error("a revoked agent logged in again")
		}
	})
}

// A plain-text client on a TLS-only port gets a prompt, clear refusal, not a hang: MQTT's
// CONNECT is answered by the connection being closed at once; plain HTTP to the HTTPS
// listener gets 400 with a message saying so. (A client offering only TLS 1.0 or 1.1 is
// refused on both: TestTLSLinks.)
func TestPlainTextToTLSPorts(t *testing.T) {
	e := newTLSEnv(t, 1)
	mqttAddr := strings.TrimPrefix(e.hub.BrokerURL(), "ssl://")
	const bound = 5 * time.Second // a refusal comes long before; a hang would reach it

	// Raw MQTT CONNECT (3.1.1, client "plain") on the TLS port.
	conn, err := net.DialTimeout("tcp", mqttAddr, bound)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(bound))
	connect := []byte{0x10, 17, 0, 4, 'M', 'Q', 'T', 'T', 4, 2, 0, 30, 0, 5, 'p', 'l', 'a', 'i', 'n'}
	if _, err := conn.Write(connect); err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(conn)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("plain MQTT on the TLS port: no answer within %s (a hang)", bound)
	}
	if len(b) >= 2 && b[0] == 0x20 {
		t.Fatalf("plain MQTT on the TLS port got a CONNACK: % x", b)
	}
	// paho says why at once.
	start := time.Now()
	_, err = mqttConnect(t, "tcp://"+mqttAddr, "plain-paho", "observer", "pw-observer", nil)
	if err == nil || strings.Contains(err.Error(), "timed out") || time.Since(start) > bound {
		t.Errorf("paho in plain text on the TLS port: %v after %s", err, time.Since(start))
	}

	// Plain HTTP to the HTTPS listener.
	hc, err := net.DialTimeout("tcp", e.httpAddr, bound)
	if err != nil {
		t.Fatal(err)
	}
	defer hc.Close()
	hc.SetDeadline(time.Now().Add(bound))
	io.WriteString(hc, "GET /healthz HTTP/1.1\r\nHost: hub\r\n\r\n")
	status, err := bufio.NewReader(hc).ReadString('\n')
	if err != nil || !strings.Contains(status, " 400 ") {
		t.Fatalf("plain HTTP to the HTTPS port: %q %v", status, err)
	}
	if st, body := rawCall(t, "GET", "http://"+e.httpAddr+"/healthz", "", ""); st != 400 || !strings.Contains(body, "HTTPS") {
		t.Errorf("plain HTTP to the HTTPS port: %d %q, want 400 saying HTTPS", st, body)
	}
}
