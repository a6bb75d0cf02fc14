package hub

import (
	"net"
	"testing"
	"time"

	"github.com/bailiff/bailiff/internal/config"
)

func TestMediaFrom(t *testing.T) {
	// The defaults: one shared port on loopback, loopback peers only, no TURN.
	def := config.DefaultHub()
	n, servers, turn, err := MediaFrom(&def)
	if err != nil {
		t.Fatal(err)
	}
	if n.UDPAddr != "127.0.0.1:8189" || !n.Loopback || n.RemoteIPFilter == nil || len(servers) != 0 || turn != nil {
		t.Fatalf("defaults: %+v %v %+v", n, servers, turn)
	}
	if n.RemoteIPFilter(net.ParseIP("192.0.2.9")) || !n.RemoteIPFilter(net.ParseIP("127.0.0.1")) {
		t.Error("loopback media accepts a remote peer")
	}

	h, err := config.ParseHub("/etc/bailiff/hub.yaml", []byte(`
media:
  udp: ""
  udp_ports: 50000-50100
  interfaces: [eth1]
  addresses: [192.0.2.10]
  nat_1to1: [203.0.113.7]
  ice_servers:
    - urls: ["stun:stun.example:3478"]
  turn:
    listen: 192.0.2.10:3478
    relay_ports: 40000-40999
    credential_ttl: 20m
    secret_file: secrets/turn
`), nil)
	if err != nil {
		t.Fatal(err)
	}
	n, servers, turn, err = MediaFrom(h)
	if err != nil {
		t.Fatal(err)
	}
	if n.UDPAddr != "" || n.PortMin != 50000 || n.PortMax != 50100 || n.Loopback || n.RemoteIPFilter != nil ||
		n.Interfaces[0] != "eth1" || n.Addresses[0] != "192.0.2.10" || n.NAT1To1IPs[0] != "203.0.113.7" {
		t.Errorf("network: %+v", n)
	}
	if len(servers) != 1 || servers[0].URLs[0] != "stun:stun.example:3478" {
		t.Errorf("ICE servers: %+v", servers)
	}
	want := TURNOptions{Listen: "192.0.2.10:3478", RelayPortMin: 40000, RelayPortMax: 40999, Realm: "bailiff",
		TTL: 20 * time.Minute, SecretFile: "/etc/bailiff/secrets/turn"}
	if turn == nil || *turn != want {
		t.Errorf("TURN: %+v, want %+v", turn, want)
	}
}
