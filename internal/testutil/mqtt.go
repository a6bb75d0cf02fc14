// Package testutil holds helpers for the project's tests: real MQTT clients on loopback, free
// ports, waiting with deadlines. Nothing here fakes a protocol.
package testutil

import (
	"fmt"
	"net"
	"sync"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
)

// FreePort returns a loopback host:port that was free a moment ago.
func FreePort(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// Dial connects an MQTT 3.1.1 client (clean session, no reconnect) and returns it, or the
// broker's refusal.
func Dial(url, user, password, clientID string) (paho.Client, error) {
	o := paho.NewClientOptions().AddBroker(url).SetClientID(clientID).SetUsername(user).SetPassword(password).
		SetProtocolVersion(4).SetCleanSession(true).SetAutoReconnect(false).SetConnectTimeout(3 * time.Second).
		SetOrderMatters(true)
	c := paho.NewClient(o)
	t := c.Connect()
	if !t.WaitTimeout(5 * time.Second) {
		return nil, fmt.Errorf("connect %s: timeout", url)
	}
	if err := t.Error(); err != nil {
		return nil, err
	}
	return c, nil
}

// MustDial is Dial that fails the test, and disconnects at its end.
func MustDial(t testing.TB, url, user, password, clientID string) paho.Client {
	t.Helper()
	c, err := Dial(url, user, password, clientID)
	if err != nil {
		t.Fatalf("mqtt dial %s as %s: %v", url, user, err)
	}
	t.Cleanup(func() { c.Disconnect(100) })
	return c
}

// Msg is one received message.
type Msg struct {
	Topic    string
	Payload  []byte
	Retained bool
}

// Collector gathers the messages of subscriptions.
type Collector struct {
	mu   sync.Mutex
	msgs []Msg
	ch   chan struct{}
}

// Subscribe subscribes c to filter and collects into a new Collector. It returns the SUBACK
// error: a refused subscription is an error.
func Subscribe(c paho.Client, filter string, qos byte) (*Collector, error) {
	col := &Collector{ch: make(chan struct{}, 1)}
	tok := c.Subscribe(filter, qos, func(_ paho.Client, m paho.Message) {
		col.mu.Lock()
		col.msgs = append(col.msgs, Msg{m.Topic(), append([]byte(nil), m.Payload()...), m.Retained()})
		col.mu.Unlock()
		select {
		case col.ch <- struct{}{}:
		default:
		}
	})
	if !tok.WaitTimeout(5 * time.Second) {
		return nil, fmt.Errorf("subscribe %s: timeout", filter)
	}
	if err := tok.Error(); err != nil {
		return nil, err
	}
	if st, ok := tok.(*paho.SubscribeToken); ok {
		for _, code := range st.Result() {
			if code >= 0x80 {
				return nil, fmt.Errorf("subscribe %s: refused (0x%02x)", filter, code)
			}
		}
	}
	return col, nil
}

// MustSubscribe is Subscribe that fails the test.
func MustSubscribe(t testing.TB, c paho.Client, filter string, qos byte) *Collector {
	t.Helper()
	col, err := Subscribe(c, filter, qos)
	if err != nil {
		t.Fatal(err)
	}
	return col
}

// Messages returns a copy of what was received so far.
func (c *Collector) Messages() []Msg {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Msg(nil), c.msgs...)
}

// Wait waits until a message matches, and returns it.
func (c *Collector) Wait(t testing.TB, d time.Duration, what string, match func(Msg) bool) Msg {
	t.Helper()
	deadline := time.After(d)
	for {
		for _, m := range c.Messages() {
			if match(m) {
				return m
			}
		}
		select {
		case <-c.ch:
		case <-time.After(20 * time.Millisecond):
		case <-deadline:
			t.Fatalf("no message %s within %s; got %d messages", what, d, len(c.Messages()))
		}
	}
}

// Eventually polls cond every 20ms until it holds or d passes.
func Eventually(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not within %s: %s", d, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Publish publishes and waits for the broker (QoS 1) or the write (QoS 0).
func Publish(t testing.TB, c paho.Client, topic string, qos byte, retained bool, payload string) {
	t.Helper()
	tok := c.Publish(topic, qos, retained, payload)
	if !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("publish %s: %v", topic, tok.Error())
	}
}
