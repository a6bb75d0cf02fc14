package hub

import (
	"testing"

	"github.com/bailiff/bailiff/media/sfu"
)

// A two-network hub names the listeners that would answer on the outside too.
func TestWildcards(t *testing.T) {
	o := Options{HTTPListen: ":8080", MQTTListen: "0.0.0.0:1883", Media: sfu.Network{UDPAddr: "10.0.0.5:8189"}}
	if got := wildcards(o); len(got) != 2 || got[0] != "http.listen" || got[1] != "mqtt.listen" {
		t.Errorf("wildcards: %v", got)
	}
	o = Options{HTTPListen: "10.0.0.5:8080", MQTTListen: ":1883", TLS: &TLSOptions{MQTTListen: "[::]:8883"}, Media: sfu.Network{UDPAddr: ":8189"}}
	if got := wildcards(o); len(got) != 2 || got[0] != "media.udp" || got[1] != "tls.mqtt_listen" {
		t.Errorf("wildcards with TLS: %v", got)
	}
	if got := wildcards(Options{HTTPListen: "10.0.0.5:8080", External: &ExternalBroker{}, MQTTListen: ":1883"}); len(got) != 0 {
		t.Errorf("wildcards with an external broker: %v", got)
	}
}
