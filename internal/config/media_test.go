package config_test

import (
	"reflect"
	"testing"
	"time"

	"github.com/bailiff/bailiff/internal/config"
)

func TestMediaConfig(t *testing.T) {
	const f = "hub.yaml"
	tests := []struct {
		name, yaml string
		env        []string
		want       []string
		check      func(*testing.T, config.Media)
	}{
		{name: "defaults", yaml: "log: {level: info}\n", check: func(t *testing.T, m config.Media) {
			if m.UDP != "127.0.0.1:8189" || m.UDPPorts != "" || m.TURN.Listen != "" || m.TURN.Realm != "bailiff" ||
				m.TURN.RelayPorts != "49152-65535" || m.TURN.CredentialTTL.D() != time.Hour {
				t.Errorf("defaults: %+v", m)
			}
		}},
		{name: "full", yaml: `
media:
  udp: ""
  udp_ports: 50000-50999
  interfaces: [eth1]
  addresses: [192.0.2.10]
  nat_1to1: [203.0.113.7]
  ice_servers:
    - urls: ["stun:stun.court.example:3478"]
    - urls: ["turn:turn.court.example:3478?transport=tcp", "turns:turn.court.example:5349"]
      username: court
      credential: s3cret
  turn:
    listen: 0.0.0.0:3478
    public_ip: 203.0.113.7
    relay_ports: 40000-40999
    credential_ttl: 30m
`, check: func(t *testing.T, m config.Media) {
			want := config.Media{UDPPorts: "50000-50999", Interfaces: []string{"eth1"}, Addresses: []string{"192.0.2.10"},
				NAT1To1: []string{"203.0.113.7"}, ICEServers: []config.ICEServer{
					{URLs: []string{"stun:stun.court.example:3478"}},
					{URLs: []string{"turn:turn.court.example:3478?transport=tcp", "turns:turn.court.example:5349"}, Username: "court", Credential: "s3cret"},
				},
				TURN: config.TURN{Listen: "0.0.0.0:3478", PublicIP: "203.0.113.7", Realm: "bailiff", RelayPorts: "40000-40999",
					CredentialTTL: config.Duration(30 * time.Minute)}, PullLinger: config.Duration(config.DefaultPullLinger)}
			if !reflect.DeepEqual(m, want) {
				t.Errorf("got  %+v\nwant %+v", m, want)
			}
		}},
		{name: "env", env: []string{"BAILIFF_MEDIA_UDP=", "BAILIFF_MEDIA_UDP_PORTS=40000-40100", "BAILIFF_MEDIA_NAT_1TO1=203.0.113.7, 203.0.113.8",
			"BAILIFF_MEDIA_TURN_LISTEN=127.0.0.1:3478"},
			check: func(t *testing.T, m config.Media) {
				if m.UDP != "" || m.UDPPorts != "40000-40100" || !reflect.DeepEqual(m.NAT1To1, []string{"203.0.113.7", "203.0.113.8"}) || m.TURN.Listen != "127.0.0.1:3478" {
					t.Errorf("got %+v", m)
				}
			}},
		{name: "bad", yaml: `
media:
  udp: 127.0.0.1
  udp_ports: 9-1
  addresses: [eth0]
  nat_1to1: [127.0.0.1, nope]
  ice_servers:
    - urls: []
    - urls: ["http://stun.example"]
    - urls: ["turn:t.example:3478"]
    - urls: ["stun:s.example?transport=udp"]
      username: u
  turn:
    listen: 0.0.0.0:0
    relay_ports: 70000-70001
    realm: ""
    credential_ttl: 30s
`, want: []string{
			f + `:4: media.udp_ports: use media.udp (one shared port) or media.udp_ports (a port per session), not both; set udp to "" to use the range`,
			f + `:5: media.addresses[0]: "eth0": not an IP address`,
			f + `:6: media.nat_1to1[0]: "127.0.0.1": want the public address clients reach, not a loopback or unspecified one`,
			f + `:6: media.nat_1to1[1]: "nope": not an IP address`,
			f + `:8: media.ice_servers[0].urls: required: at least one stun:, stuns:, turn: or turns: URL`,
			f + `:9: media.ice_servers[1].urls[0]: "http://stun.example": scheme "http" not supported; want stun, stuns, turn or turns`,
			f + `:10: media.ice_servers[2]: a TURN server needs a username and a credential`,
			f + `:11: media.ice_servers[3].urls[0]: "stun:s.example?transport=udp": a STUN URL takes no query`,
			f + `:11: media.ice_servers[3]: username and credential are for TURN servers only`,
			f + `:13: media.turn.public_ip: required when media.turn.listen has no specific IP address: the address clients reach the TURN server at`,
			f + `:14: media.turn.listen: "0.0.0.0:0": a TURN server needs a fixed port (clients are told it)`,
			f + `:15: media.turn.relay_ports: "70000-70001": port 70000 out of range 1-65535`,
			f + `:16: media.turn.realm: want 1 to 100 visible ASCII characters, no quotes`,
			f + `:17: media.turn.credential_ttl: must be between 1m and 24h, got 30s`,
		}},
		{name: "TURN on IPv6", yaml: "media:\n  turn:\n    listen: \"[::1]:3478\"\n    public_ip: 2001:db8::1\n", want: []string{
			f + `:3: media.turn.listen: "[::1]:3478": the TURN server listens on IPv4 only`,
			f + `:4: media.turn.public_ip: "2001:db8::1": want the IPv4 address clients reach the TURN server at`,
		}},
		{name: "TURN over TLS without TLS", yaml: "media:\n  turn:\n    listen: 127.0.0.1:3478\n    tls_listen: 127.0.0.1:5349\n", want: []string{
			f + `:4: media.turn.tls_listen: needs tls.mode self or files (the hub's certificate)`,
		}},
		{name: "bad TURN over TLS", yaml: "media:\n  turn:\n    listen: 127.0.0.1:3478\n    tls_listen: 127.0.0.1:3478\ntls:\n  mode: self\n", want: []string{
			f + `:4: media.turn.tls_listen: "127.0.0.1:3478": must differ from media.turn.listen (TCP is taken there)`,
		}},
		{name: "TURN over TLS port 0", yaml: "media:\n  turn:\n    listen: 127.0.0.1:3478\n    tls_listen: \"[::1]:0\"\ntls:\n  mode: self\n", want: []string{
			f + `:4: media.turn.tls_listen: "[::1]:0": TURN over TLS needs a fixed port (clients are told it)`,
		}},
		{name: "TURN over TLS", yaml: "media:\n  turn:\n    listen: 127.0.0.1:3478\n    tls_listen: 127.0.0.1:5349\ntls:\n  mode: self\n",
			check: func(t *testing.T, m config.Media) {
				if m.TURN.TLSListen != "127.0.0.1:5349" {
					t.Errorf("tls_listen %q", m.TURN.TLSListen)
				}
			}},
		{name: "neither port", yaml: "media:\n  udp: \"\"\n", want: []string{
			f + `:2: media.udp: required: one shared UDP port (host:port, e.g. 0.0.0.0:8189), or set media.udp_ports to a range (e.g. 50000-50999)`,
		}},
		{name: "bad range", yaml: "media:\n  udp: \"\"\n  udp_ports: 6000-5000\n", want: []string{
			f + `:3: media.udp_ports: "6000-5000": the first port is above the last`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, err := config.ParseHub(f, []byte(tt.yaml), tt.env)
			checkErr(t, err, tt.want)
			if err == nil && tt.check != nil {
				tt.check(t, h.Media)
			}
		})
	}
}
