package broker

import (
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
)

func persistentDial(t *testing.T, url, user, pw string) paho.Client {
	return persistentDialWith(t, url, user, pw, nil)
}

func persistentDialWith(t *testing.T, url, user, pw string, h func(string, []byte)) paho.Client {
	t.Helper()
	o := paho.NewClientOptions().AddBroker(url).SetClientID(user).SetUsername(user).SetPassword(pw).
		SetProtocolVersion(4).SetCleanSession(false).SetAutoReconnect(false)
	if h != nil {
		o.SetDefaultPublishHandler(func(_ paho.Client, m paho.Message) { h(m.Topic(), m.Payload()) })
	}
	c := paho.NewClient(o)
	if tok := c.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("persistent dial: %v", tok.Error())
	}
	t.Cleanup(func() { c.Disconnect(50) })
	return c
}
