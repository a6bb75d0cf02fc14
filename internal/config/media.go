package config

import (
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// problems adds what is wrong with the media keys.
func (m *Media) problems(p *problems) {
	switch {
	case m.UDP != "" && m.UDPPorts != "":
		p.add("media.udp_ports", "use media.udp (one shared port) or media.udp_ports (a port per session), not both; set udp to \"\" to use the range")
	case m.UDP != "":
		if msg := checkListen(m.UDP); msg != "" {
			p.add("media.udp", "%s", msg)
		}
	case m.UDPPorts != "":
		if _, _, msg := ParsePortRange(m.UDPPorts); msg != "" {
			p.add("media.udp_ports", "%s", msg)
		}
	default:
		p.add("media.udp", "required: one shared UDP port (host:port, e.g. 0.0.0.0:8189), or set media.udp_ports to a range (e.g. 50000-50999)")
	}
	for i, name := range m.Interfaces {
		if strings.TrimSpace(name) == "" || len(name) > 64 || strings.ContainsAny(name, " \t\r\n/") {
			p.add(fmt.Sprintf("media.interfaces[%d]", i), "%s: not an interface name", quote(name))
		}
	}
	for i, a := range m.Addresses {
		if _, err := netip.ParseAddr(a); err != nil {
			p.add(fmt.Sprintf("media.addresses[%d]", i), "%s: not an IP address", quote(a))
		}
	}
	for i, a := range m.NAT1To1 {
		ip, err := netip.ParseAddr(a)
		switch {
		case err != nil:
			p.add(fmt.Sprintf("media.nat_1to1[%d]", i), "%s: not an IP address", quote(a))
		case ip.IsUnspecified() || ip.IsLoopback():
			p.add(fmt.Sprintf("media.nat_1to1[%d]", i), "%s: want the public address clients reach, not a loopback or unspecified one", quote(a))
		}
	}
	for i, s := range m.ICEServers {
		key := fmt.Sprintf("media.ice_servers[%d]", i)
		if len(s.URLs) == 0 {
			p.add(key+".urls", "required: at least one stun:, stuns:, turn: or turns: URL")
		}
		turn := false
		for j, u := range s.URLs {
			msg := checkICEURL(u)
			if msg != "" {
				p.add(fmt.Sprintf("%s.urls[%d]", key, j), "%s", msg)
			}
			turn = turn || strings.HasPrefix(u, "turn:") || strings.HasPrefix(u, "turns:")
		}
		switch {
		case turn && (s.Username == "" || s.Credential == ""):
			p.add(key, "a TURN server needs a username and a credential")
		case !turn && (s.Username != "" || s.Credential != ""):
			p.add(key, "username and credential are for TURN servers only")
		}
		for _, f := range [][2]string{{"username", s.Username}, {"credential", s.Credential}} {
			if strings.ContainsFunc(f[1], func(r rune) bool { return r < 0x20 || r > 0x7e }) {
				p.add(key+"."+f[0], "only visible ASCII characters (it goes into an HTTP header)")
			}
		}
	}
	m.TURN.problems(p)
	m.pullProblems(p)
}

// problems adds what is wrong with the TURN keys; nothing when the server is off.
func (t *TURN) problems(p *problems) {
	if t.Listen == "" {
		return
	}
	if msg := checkListen(t.Listen); msg != "" {
		p.add("media.turn.listen", "%s", msg)
		return
	}
	host, port, _ := net.SplitHostPort(t.Listen)
	if port == "0" {
		p.add("media.turn.listen", "%s: a TURN server needs a fixed port (clients are told it)", quote(t.Listen))
	}
	hostIP, hostErr := netip.ParseAddr(host)
	if hostErr == nil && !hostIP.Is4() {
		p.add("media.turn.listen", "%s: the TURN server listens on IPv4 only", quote(t.Listen))
	}
	if t.TLSListen != "" {
		th, tp, _ := net.SplitHostPort(t.TLSListen)
		ip, ipErr := netip.ParseAddr(th)
		switch msg := checkListen(t.TLSListen); {
		case msg != "":
			p.add("media.turn.tls_listen", "%s", msg)
		case tp == "0":
			p.add("media.turn.tls_listen", "%s: TURN over TLS needs a fixed port (clients are told it)", quote(t.TLSListen))
		case ipErr == nil && !ip.Is4():
			p.add("media.turn.tls_listen", "%s: the TURN server listens on IPv4 only", quote(t.TLSListen))
		case tp == port && th == host:
			p.add("media.turn.tls_listen", "%s: must differ from media.turn.listen (TCP is taken there)", quote(t.TLSListen))
		}
	}
	switch {
	case t.PublicIP != "":
		ip, err := netip.ParseAddr(t.PublicIP)
		if err != nil || ip.IsUnspecified() || !ip.Is4() {
			p.add("media.turn.public_ip", "%s: want the IPv4 address clients reach the TURN server at", quote(t.PublicIP))
		}
	case hostErr != nil || hostIP.IsUnspecified():
		p.add("media.turn.public_ip", "required when media.turn.listen has no specific IP address: the address clients reach the TURN server at")
	}
	if t.RelayAddress != "" {
		if _, err := netip.ParseAddr(t.RelayAddress); err != nil {
			p.add("media.turn.relay_address", "%s: not an IP address", quote(t.RelayAddress))
		}
	}
	if _, _, msg := ParsePortRange(t.RelayPorts); msg != "" {
		p.add("media.turn.relay_ports", "%s", msg)
	}
	if strings.TrimSpace(t.Realm) == "" || len(t.Realm) > 100 || strings.ContainsFunc(t.Realm, func(r rune) bool { return r < 0x20 || r > 0x7e || r == '"' }) {
		p.add("media.turn.realm", "want 1 to 100 visible ASCII characters, no quotes")
	}
	p.between("media.turn.credential_ttl", t.CredentialTTL, time.Minute, 24*time.Hour)
}

// ParsePortRange parses "min-max" (or one port "n") of ports 1-65535; msg says what is wrong.
func ParsePortRange(s string) (lo, hi uint16, msg string) {
	if s == "" {
		return 0, 0, `required: a port range "min-max", e.g. 50000-50999`
	}
	a, b, ok := strings.Cut(s, "-")
	if !ok {
		b = a
	}
	if m := checkPort(strings.TrimSpace(a), 1); m != "" {
		return 0, 0, quote(s) + ": " + m
	}
	if m := checkPort(strings.TrimSpace(b), 1); m != "" {
		return 0, 0, quote(s) + ": " + m
	}
	x, _ := strconv.Atoi(strings.TrimSpace(a))
	y, _ := strconv.Atoi(strings.TrimSpace(b))
	if x > y {
		return 0, 0, fmt.Sprintf("%s: the first port is above the last", quote(s))
	}
	return uint16(x), uint16(y), ""
}

// checkICEURL checks a STUN or TURN URL (RFC 7064, RFC 7065): scheme:host[:port][?transport=udp|tcp].
func checkICEURL(u string) string {
	scheme, rest, ok := strings.Cut(u, ":")
	switch {
	case !ok:
		return quote(u) + ": want stun:, stuns:, turn: or turns: then host[:port]"
	case scheme != "stun" && scheme != "stuns" && scheme != "turn" && scheme != "turns":
		return fmt.Sprintf("%s: scheme %s not supported; want stun, stuns, turn or turns", quote(u), quote(scheme))
	case len(u) > 512 || strings.ContainsAny(u, "<>\"\r\n ,;\\"):
		return quote(u) + ": has characters a URL may not (spaces, quotes, commas, semicolons, angle brackets)"
	}
	hostport, query, hasQuery := strings.Cut(rest, "?")
	if hasQuery {
		if scheme == "stun" || scheme == "stuns" {
			return quote(u) + ": a STUN URL takes no query"
		}
		if query != "transport=udp" && query != "transport=tcp" {
			return quote(u) + ": the only query is ?transport=udp or ?transport=tcp"
		}
	}
	if msg := checkHostPort(hostport, 3478); msg != "" {
		return msg
	}
	return ""
}
