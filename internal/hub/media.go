package hub

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/bailiff/bailiff/internal/config"
	"github.com/bailiff/bailiff/internal/hub/auth"
	"github.com/bailiff/bailiff/internal/hub/invite"
	"github.com/bailiff/bailiff/internal/store"
	"github.com/bailiff/bailiff/media/relay"
	"github.com/bailiff/bailiff/media/sfu"
	"github.com/bailiff/bailiff/media/whip"
	"github.com/pion/webrtc/v4"
)

// TURNOptions configure the hub's embedded TURN server (see package relay).
type TURNOptions struct {
	Listen       string // host:port, UDP and TCP
	TLSListen    string // host:port of TURN over TLS (turns:); "": off. Needs TLS on.
	PublicIP     string // "": the host of Listen
	RelayAddress string // "": the host of Listen
	RelayPortMin uint16
	RelayPortMax uint16
	Realm        string
	TTL          time.Duration
	SecretFile   string // "": keys/turn.secret in the data directory
}

// turnSecretFile is the default TURN secret path in the data directory.
const turnSecretFile = "keys/turn.secret"

// MediaFrom maps hub.yaml's media keys onto the SFU's network, the ICE servers to advertise
// and the TURN server. Media that listens on loopback only also talks to loopback only.
func MediaFrom(c *config.Hub) (sfu.Network, []webrtc.ICEServer, *TURNOptions, error) {
	m := c.Media
	n := sfu.Network{
		UDPAddr:    m.UDP,
		Interfaces: slices.Clone(m.Interfaces),
		Addresses:  slices.Clone(m.Addresses),
		NAT1To1IPs: slices.Clone(m.NAT1To1),
	}
	if m.UDP == "" {
		lo, hi, msg := config.ParsePortRange(m.UDPPorts)
		if msg != "" {
			return n, nil, nil, fmt.Errorf("hub: media.udp_ports: %s", msg)
		}
		n.PortMin, n.PortMax = lo, hi
	}
	if loopbackOnly(m) {
		n.Loopback = true
		n.RemoteIPFilter = func(ip net.IP) bool { return ip.IsLoopback() }
	}
	for _, a := range append(slices.Clone(m.Addresses), m.NAT1To1...) {
		if ip := net.ParseIP(a); ip != nil && ip.To4() == nil {
			n.IPv6 = true
		}
	}
	var servers []webrtc.ICEServer
	for _, s := range m.ICEServers {
		is := webrtc.ICEServer{URLs: slices.Clone(s.URLs), Username: s.Username}
		if s.Credential != "" {
			is.Credential = s.Credential
		}
		servers = append(servers, is)
	}
	var turn *TURNOptions
	if t := m.TURN; t.Listen != "" {
		lo, hi, msg := config.ParsePortRange(t.RelayPorts)
		if msg != "" {
			return n, nil, nil, fmt.Errorf("hub: media.turn.relay_ports: %s", msg)
		}
		turn = &TURNOptions{Listen: t.Listen, TLSListen: t.TLSListen, PublicIP: t.PublicIP, RelayAddress: t.RelayAddress,
			RelayPortMin: lo, RelayPortMax: hi, Realm: t.Realm, TTL: t.CredentialTTL.D()}
		if t.SecretFile != "" {
			turn.SecretFile = c.Resolve(t.SecretFile)
		}
	}
	return n, servers, turn, nil
}

// loopbackOnly reports whether the media keys keep every packet on loopback: the shared UDP
// port, or every allowed address, is a loopback one.
func loopbackOnly(m config.Media) bool {
	if m.UDP != "" {
		host, _, err := net.SplitHostPort(m.UDP)
		if ip := net.ParseIP(host); err == nil && ip != nil && ip.IsLoopback() {
			return true
		}
	}
	if len(m.Addresses) == 0 {
		return false
	}
	for _, a := range m.Addresses {
		if ip := net.ParseIP(a); ip == nil || !ip.IsLoopback() {
			return false
		}
	}
	return true
}

// startMedia starts the SFU, the TURN server when configured, and the WHIP/WHEP endpoints.
func (h *Hub) startMedia() error {
	up, err := h.startPull()
	if err != nil {
		return err
	}
	s, err := sfu.New(sfu.Options{Network: h.opts.Media, Logger: h.log.With("component", "sfu"),
		Upstream: up, PullLinger: h.opts.Pull.Linger})
	if err != nil {
		return fmt.Errorf("hub: media: %w", err)
	}
	h.sfu = s
	if t := h.opts.TURN; t != nil {
		if err := h.startTURN(t); err != nil {
			return err
		}
	}
	w, err := whip.New(whip.Options{
		SFU: s, Authorizer: whip.AuthorizerFunc(h.authorizeMedia), Logger: h.log.With("component", "whip"),
		ICEServers: h.opts.ICEServers, ICEServersFor: h.iceServersFor, Owner: h.mediaOwner,
	})
	if err != nil {
		return fmt.Errorf("hub: media: %w", err)
	}
	h.whip = w
	return nil
}

func (h *Hub) startTURN(t *TURNOptions) error {
	path := t.SecretFile
	if path == "" {
		path = filepath.Join(h.opts.DataDir, turnSecretFile)
	}
	secret, err := relay.LoadOrCreateSecret(path)
	if err != nil {
		return fmt.Errorf("hub: %w", err)
	}
	var public net.IP
	if t.PublicIP != "" {
		if public = net.ParseIP(t.PublicIP); public == nil {
			return fmt.Errorf("hub: TURN public IP %q is not an IP address", t.PublicIP)
		}
	}
	var tc *tls.Config
	if t.TLSListen != "" {
		if h.tlsCert == nil {
			return errors.New("hub: TURN over TLS (media.turn.tls_listen) needs TLS on (tls.mode self or files)")
		}
		tc = h.serverTLS(nil)
	}
	h.turn, err = relay.Start(relay.Config{
		Listen: t.Listen, TLSListen: t.TLSListen, TLS: tc, PublicIP: public, RelayAddress: t.RelayAddress,
		RelayPortMin: t.RelayPortMin, RelayPortMax: t.RelayPortMax, Realm: t.Realm, TTL: t.TTL,
		Secret: secret, AllowPeer: h.mediaPeers(), Logger: h.log.With("component", "turn"),
	})
	if err != nil {
		return fmt.Errorf("hub: %w", err)
	}
	return nil
}

// mediaPeers says which addresses the TURN server may relay to: the hub's own media
// addresses (its shared UDP port's, its allowed addresses, its NAT addresses), or, when those
// name none, the addresses of the interfaces media may use. Nothing else on the network is
// reachable through the relay.
func (h *Hub) mediaPeers() func(net.IP) bool {
	n := h.opts.Media
	var ips []net.IP
	for _, a := range h.sfu.UDPAddrs() {
		if ua, ok := a.(*net.UDPAddr); ok && !ua.IP.IsUnspecified() {
			ips = append(ips, ua.IP)
		}
	}
	for _, a := range append(slices.Clone(n.Addresses), n.NAT1To1IPs...) {
		if ip := net.ParseIP(a); ip != nil {
			ips = append(ips, ip)
		}
	}
	if len(ips) == 0 {
		ifaces, _ := net.Interfaces()
		for _, ifc := range ifaces {
			if len(n.Interfaces) > 0 && !slices.Contains(n.Interfaces, ifc.Name) {
				continue
			}
			addrs, _ := ifc.Addrs()
			for _, a := range addrs {
				if ipn, ok := a.(*net.IPNet); ok && (n.Loopback || !ipn.IP.IsLoopback()) {
					ips = append(ips, ipn.IP)
				}
			}
		}
	}
	h.log.Info("turn: relays may reach", "peers", fmt.Sprint(ips))
	return func(ip net.IP) bool { return slices.ContainsFunc(ips, ip.Equal) }
}

// iceServersFor gives a WHIP/WHEP client the configured ICE servers and, with the embedded
// TURN server on, a fresh credential for it.
func (h *Hub) iceServersFor(r *http.Request) []webrtc.ICEServer {
	out := slices.Clone(h.opts.ICEServers)
	if h.turn != nil {
		out = append(out, h.turn.ICEServers(mediaIdentity(bearerToken(r)))...)
	}
	return out
}

// mediaIdentity is the label a TURN credential carries: whose session it is for, without the
// secret.
func mediaIdentity(token string) string {
	if site, room, _, ok := parseAgentToken(token); ok {
		return "agent-" + site + "-" + room
	}
	if strings.HasPrefix(token, whip.ReplicaTokenPrefix) {
		return "replica"
	}
	if strings.HasPrefix(token, invite.Prefix) {
		if c, err := invite.Unverified(token); err == nil {
			return "invite-" + c.ID
		}
		return "invite"
	}
	sum := sha256.Sum256([]byte(token))
	return "user-" + hex.EncodeToString(sum[:4])
}

// mediaOwner names the credential of an authorised WHIP/WHEP POST, so that revoking an
// invite closes its sessions, and gives the invite's expiry.
func (h *Hub) mediaOwner(r *http.Request) (string, time.Time) {
	tok := bearerToken(r)
	if !strings.HasPrefix(tok, invite.Prefix) {
		return "", time.Time{}
	}
	c, err := invite.Unverified(tok)
	if err != nil {
		return "", time.Time{}
	}
	return "invite:" + c.ID, c.Expires
}

// bearerToken is the token of an "Authorization: Bearer …" header, "" without one.
func bearerToken(r *http.Request) string {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(token)
}

// authorizeMedia decides a WHIP publish or a WHEP view from the request's bearer token:
//   - an agent's token (agent.{site}.{room}.{secret}): publish and view in its own room;
//   - a visitor's invite: publish under its own stream name and view, in its room only;
//   - a replica hub's token (media.replicas): view the rooms this hub carries;
//   - an API session: people who may view rooms may watch; technicians may also publish.
func (h *Hub) authorizeMedia(r *http.Request, site, room, stream string, publish bool) error {
	token := bearerToken(r)
	switch {
	case token == "":
		return whip.ErrUnauthorized
	case checkPublicMedia(r, token) != nil:
		return checkPublicMedia(r, token)
	case strings.HasPrefix(token, agentTokenPrefix):
		return h.authorizeAgentMedia(r, site, room, stream, publish)
	case strings.HasPrefix(token, invite.Prefix):
		return h.authorizeInviteMedia(r.Context(), token, site, room, stream, publish)
	case strings.HasPrefix(token, whip.ReplicaTokenPrefix):
		return h.authorizeReplicaMedia(r, site, room, publish)
	}
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	se, err := h.store.Session(ctx, auth.HashSecret(token), time.Now())
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("the token is unknown or has expired: %w", whip.ErrUnauthorized)
	}
	if err != nil {
		return fmt.Errorf("could not check the session: %w", err)
	}
	if publish && se.Role != auth.RoleTechnician {
		return fmt.Errorf("the %s role may not publish to %s/%s", se.Role, site, room)
	}
	if !publish && !auth.CanView(se.Role) {
		return fmt.Errorf("the %s role may not watch %s/%s", se.Role, site, room)
	}
	return nil
}

// StreamView is a live stream as GET /api/v1/streams lists it.
type StreamView struct {
	sfu.StreamInfo
	WHEP string `json:"whep"`
}

func (h *Hub) streams() any {
	list := h.sfu.Streams()
	out := make([]StreamView, 0, len(list))
	for _, st := range list {
		out = append(out, StreamView{StreamInfo: st, WHEP: whip.WHEPPath(sfu.Key{Site: st.Site, Room: st.Room, Name: st.Name})})
	}
	return out
}

// SFU is the hub's media forwarder.
func (h *Hub) SFU() *sfu.SFU { return h.sfu }

// TURN is the hub's embedded TURN server, nil when it is off.
func (h *Hub) TURN() *relay.Server { return h.turn }
