// Package relay is the hub's embedded TURN server (RFC 8656, pion/turn): it relays the media
// of clients that cannot reach the hub directly (a remote party behind a NAT or a firewall
// that lets only TCP out). It listens on one address over UDP and TCP and relays over UDP;
// with Config.TLSListen it also takes TURN over TLS (turns:, RFC 8656 §3.1) on a port of its
// own, with the hub's server certificate.
//
// Credentials are short-lived and need no state (the "TURN REST" scheme of
// draft-uberti-behave-turn-rest, which coturn calls use-auth-secret): the user name is
// "{expiry}:{identity}" with expiry in Unix seconds, and the password is the base64 of
// HMAC-SHA1(secret, user name). The hub mints one per WHIP/WHEP session and sends it in the
// Link headers (RFC 9725 §4.6); the server recomputes the password from the user name and
// refuses an expired or altered one.
//
// A relay reaches only the peers AllowPeer accepts (the hub's own media addresses): an invited
// party's credentials never open a path into the court network.
package relay

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1" //nolint:gosec // RFC 8489 long-term credentials and the TURN REST scheme use HMAC-SHA1
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bailiff/bailiff/media/sfu"
	"github.com/pion/turn/v5"
	"github.com/pion/webrtc/v4"
)

// Defaults of Config.
const (
	DefaultRealm = "bailiff"
	DefaultTTL   = time.Hour
	// DefaultMaxAllocations bounds the relays one identity holds at once (a browser
	// takes one or two per peer connection).
	DefaultMaxAllocations = 32
	// SecretSize is the length in bytes of a secret made by LoadOrCreateSecret.
	SecretSize = 32
)

// Config configures a Server.
type Config struct {
	// Listen is host:port, on UDP and TCP. Required.
	Listen string
	// TLSListen, when set, is host:port of TURN over TLS (turns:); TLS is then required.
	TLSListen string
	// TLS is the server configuration of TLSListen (the hub's certificate).
	TLS *tls.Config
	// PublicIP is the address clients reach the server at and the relayed address it
	// advertises; default: the host of Listen.
	PublicIP net.IP
	// RelayAddress is the local address relayed sockets bind to; default: the host of Listen.
	RelayAddress string
	// RelayPortMin and RelayPortMax bound the relayed ports (default 49152-65535).
	RelayPortMin, RelayPortMax uint16
	// Realm of the credentials; DefaultRealm when empty.
	Realm string
	// Secret keys the credentials' HMAC. Required, at least 16 bytes.
	Secret []byte
	// TTL is how long a minted credential is valid; DefaultTTL when zero. The server also
	// refuses a user name whose expiry lies further ahead than this (plus a minute of clock
	// slack): nobody holding the secret can mint an everlasting credential by mistake.
	TTL time.Duration
	// MaxAllocations bounds the live relays of one identity (the part of the user
	// name after the expiry): a leaked credential cannot take every relay port.
	// DefaultMaxAllocations when zero.
	MaxAllocations int
	// AllowPeer says which peer addresses a relay may send to; nil refuses every peer.
	AllowPeer func(net.IP) bool
	// Logger; slog.Default() when nil.
	Logger *slog.Logger
}

// Server is a running TURN server.
type Server struct {
	c       Config
	srv     *turn.Server
	udp     net.PacketConn
	tcp     net.Listener
	tls     net.Listener // nil without TLSListen
	log     *slog.Logger
	refused atomic.Int64

	mu     sync.Mutex
	allocs map[string]int // live allocations per identity
}

// ErrBadCredential is what a refused user name's check reports.
var ErrBadCredential = errors.New("relay: bad credential")

// Start listens and serves until Close.
func Start(c Config) (*Server, error) {
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Realm == "" {
		c.Realm = DefaultRealm
	}
	if c.TTL <= 0 {
		c.TTL = DefaultTTL
	}
	if c.MaxAllocations <= 0 {
		c.MaxAllocations = DefaultMaxAllocations
	}
	if len(c.Secret) < 16 {
		return nil, errors.New("relay: a secret of at least 16 bytes is required")
	}
	if c.RelayPortMin == 0 && c.RelayPortMax == 0 {
		c.RelayPortMin, c.RelayPortMax = 49152, 65535
	}
	if c.RelayPortMin == 0 || c.RelayPortMin > c.RelayPortMax {
		return nil, fmt.Errorf("relay: bad relay port range %d-%d", c.RelayPortMin, c.RelayPortMax)
	}
	host, _, err := net.SplitHostPort(c.Listen)
	if err != nil {
		return nil, fmt.Errorf("relay: listen address %q: %w", c.Listen, err)
	}
	if c.PublicIP == nil {
		c.PublicIP = net.ParseIP(host)
		if c.PublicIP == nil || c.PublicIP.IsUnspecified() {
			return nil, fmt.Errorf("relay: a public IP is required when listening on %q", c.Listen)
		}
	}
	if c.RelayAddress == "" {
		c.RelayAddress = host
		if c.RelayAddress == "" {
			c.RelayAddress = "0.0.0.0"
		}
	}
	s := &Server{c: c, log: c.Logger, allocs: map[string]int{}}
	// TCP on the same port as UDP (a port 0 in Listen gets the UDP socket's port; when that
	// port is taken on TCP, another one is tried).
	_, port, _ := net.SplitHostPort(c.Listen)
	for attempt := 1; ; attempt++ {
		if s.udp, err = net.ListenPacket("udp4", c.Listen); err != nil {
			return nil, fmt.Errorf("relay: listen on UDP %s: %w", c.Listen, err)
		}
		tcpAddr := net.JoinHostPort(host, strconv.Itoa(s.udp.LocalAddr().(*net.UDPAddr).Port))
		if s.tcp, err = net.Listen("tcp4", tcpAddr); err == nil {
			break
		}
		s.udp.Close()
		if port != "0" || attempt == 10 {
			return nil, fmt.Errorf("relay: listen on TCP %s: %w", tcpAddr, err)
		}
	}
	listeners := []net.Listener{s.tcp}
	if c.TLSListen != "" {
		if c.TLS == nil {
			s.udp.Close()
			s.tcp.Close()
			return nil, errors.New("relay: TURN over TLS needs a TLS configuration (a certificate)")
		}
		ln, err := net.Listen("tcp4", c.TLSListen)
		if err != nil {
			s.udp.Close()
			s.tcp.Close()
			return nil, fmt.Errorf("relay: listen on TLS %s: %w", c.TLSListen, err)
		}
		s.tls = tls.NewListener(ln, c.TLS)
		listeners = append(listeners, s.tls)
	}
	gen := func() turn.RelayAddressGenerator {
		return &turn.RelayAddressGeneratorPortRange{
			RelayAddress: c.PublicIP, Address: c.RelayAddress,
			MinPort: c.RelayPortMin, MaxPort: c.RelayPortMax,
		}
	}
	perm := func(client net.Addr, peer net.IP) bool {
		ok := c.AllowPeer != nil && c.AllowPeer(peer)
		if !ok {
			s.log.Warn("relay: peer refused", "client", client.String(), "peer", peer.String())
		}
		return ok
	}
	s.srv, err = turn.NewServer(turn.ServerConfig{
		Realm:        c.Realm,
		AuthHandler:  s.authenticate,
		QuotaHandler: s.quota,
		EventHandler: turn.EventHandler{
			OnAllocationCreated: func(_, _ net.Addr, _, userID, _ string, _ net.Addr, _ int) { s.count(userID, 1) },
			OnAllocationDeleted: func(_, _ net.Addr, _, userID, _ string) { s.count(userID, -1) },
		},
		LoggerFactory:     sfu.LoggerFactory(s.log),
		PacketConnConfigs: []turn.PacketConnConfig{{PacketConn: s.udp, RelayAddressGenerator: gen(), PermissionHandler: perm}},
		ListenerConfigs:   listenerConfigs(listeners, gen, perm),
	})
	if err != nil {
		s.udp.Close()
		for _, ln := range listeners {
			ln.Close()
		}
		return nil, fmt.Errorf("relay: %w", err)
	}
	tlsAddr := ""
	if s.tls != nil {
		tlsAddr = s.tls.Addr().String()
	}
	s.log.Info("relay: TURN server listening", "udp", s.udp.LocalAddr().String(), "tcp", s.tcp.Addr().String(), "tls", tlsAddr,
		"public_ip", c.PublicIP.String(), "relay_ports", fmt.Sprintf("%d-%d", c.RelayPortMin, c.RelayPortMax))
	return s, nil
}

func listenerConfigs(lns []net.Listener, gen func() turn.RelayAddressGenerator,
	perm func(net.Addr, net.IP) bool) []turn.ListenerConfig {
	var out []turn.ListenerConfig
	for _, ln := range lns {
		out = append(out, turn.ListenerConfig{Listener: ln, RelayAddressGenerator: gen(), PermissionHandler: perm})
	}
	return out
}

// Close stops the server and ends every allocation.
func (s *Server) Close() error { return s.srv.Close() }

// Port is the port the server listens on (UDP and TCP).
func (s *Server) Port() int { return s.udp.LocalAddr().(*net.UDPAddr).Port }

// TLSPort is the port of TURN over TLS; 0 when it is off.
func (s *Server) TLSPort() int {
	if s.tls == nil {
		return 0
	}
	return s.tls.Addr().(*net.TCPAddr).Port
}

// Allocations counts the live relay allocations.
func (s *Server) Allocations() int { return s.srv.AllocationCount() }

// Refused counts the credentials the server refused.
func (s *Server) Refused() int64 { return s.refused.Load() }

// Credential mints a user name and password valid for the TTL, for identity (a short label
// of who it is for: "user-judge", "invite-…"; a ':' in it becomes '-').
func (s *Server) Credential(identity string, now time.Time) (username, password string, expires time.Time) {
	expires = now.Add(s.c.TTL).Truncate(time.Second)
	username = strconv.FormatInt(expires.Unix(), 10) + ":" + strings.ReplaceAll(identity, ":", "-")
	return username, Password(s.c.Secret, username), expires
}

// ICEServers gives the server's URLs (UDP and TCP, and TLS when it is on) with a fresh
// credential for identity. The turns: URL names the public IP: the hub's certificate must
// name it too (tls.names).
func (s *Server) ICEServers(identity string) []webrtc.ICEServer {
	user, pass, _ := s.Credential(identity, time.Now())
	hp := net.JoinHostPort(s.c.PublicIP.String(), strconv.Itoa(s.Port()))
	urls := []string{"turn:" + hp + "?transport=udp", "turn:" + hp + "?transport=tcp"}
	if p := s.TLSPort(); p != 0 {
		urls = append(urls, "turns:"+net.JoinHostPort(s.c.PublicIP.String(), strconv.Itoa(p))+"?transport=tcp")
	}
	return []webrtc.ICEServer{{URLs: urls, Username: user, Credential: pass}}
}

// Password is the password of a TURN REST user name: base64(HMAC-SHA1(secret, username)).
func Password(secret []byte, username string) string {
	m := hmac.New(sha1.New, secret)
	m.Write([]byte(username))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// CheckUsername checks a TURN REST user name: "{expiry}:{identity}" with an expiry after now
// and at most ttl (plus a minute) ahead.
func CheckUsername(username string, now time.Time, ttl time.Duration) error {
	exp, id, ok := strings.Cut(username, ":")
	if !ok || id == "" || len(username) > 256 {
		return fmt.Errorf("%w: want expiry:identity", ErrBadCredential)
	}
	n, err := strconv.ParseInt(exp, 10, 64)
	if err != nil || exp[0] == '+' || exp[0] == '-' {
		return fmt.Errorf("%w: bad expiry %q", ErrBadCredential, exp)
	}
	switch t := time.Unix(n, 0); {
	case !t.After(now):
		return fmt.Errorf("%w: expired at %s", ErrBadCredential, t.UTC().Format(time.RFC3339))
	case t.After(now.Add(ttl + time.Minute)):
		return fmt.Errorf("%w: expiry %s is further ahead than the credential lifetime", ErrBadCredential, t.UTC().Format(time.RFC3339))
	}
	return nil
}

// quota refuses a new allocation to an identity that holds MaxAllocations. pion gives it
// the user ID authenticate returned: the identity.
func (s *Server) quota(id, _ string, src net.Addr) bool {
	s.mu.Lock()
	n := s.allocs[id]
	s.mu.Unlock()
	if n >= s.c.MaxAllocations {
		s.log.Warn("relay: allocation quota reached", "identity", id, "client", addrString(src), "allocations", n)
		return false
	}
	return true
}

func (s *Server) count(id string, d int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.allocs[id] += d; s.allocs[id] <= 0 {
		delete(s.allocs, id)
	}
}

// authenticate is the TURN server's AuthHandler: it gives the long-term key of a valid user
// name (pion then checks the request's MESSAGE-INTEGRITY with it, so a wrong password fails).
func (s *Server) authenticate(ra *turn.RequestAttributes) (string, []byte, bool) {
	if err := CheckUsername(ra.Username, time.Now(), s.c.TTL); err != nil {
		s.refused.Add(1)
		s.log.Warn("relay: credential refused", "client", addrString(ra.SrcAddr), "error", err)
		return "", nil, false
	}
	_, id, _ := strings.Cut(ra.Username, ":")
	return id, turn.GenerateAuthKey(ra.Username, ra.Realm, Password(s.c.Secret, ra.Username)), true
}

func addrString(a net.Addr) string {
	if a == nil {
		return ""
	}
	return a.String()
}

// LoadOrCreateSecret reads the secret at path, making a random one (mode 0600) when the file
// does not exist.
func LoadOrCreateSecret(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err == nil {
		s := strings.TrimSpace(string(b))
		if len(s) < 16 {
			return nil, fmt.Errorf("relay: secret %s: shorter than 16 characters", path)
		}
		return []byte(s), nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("relay: secret: %w", err)
	}
	raw := make([]byte, SecretSize)
	if _, err := rand.Read(raw); err != nil {
		return nil, fmt.Errorf("relay: secret: %w", err)
	}
	s := base64.RawURLEncoding.EncodeToString(raw)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("relay: secret: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		if errors.Is(err, os.ErrExist) { // made meanwhile by another process
			return LoadOrCreateSecret(path)
		}
		return nil, fmt.Errorf("relay: secret: %w", err)
	}
	if _, err := f.WriteString(s + "\n"); err != nil {
		f.Close()
		return nil, fmt.Errorf("relay: secret: %w", err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("relay: secret: %w", err)
	}
	return []byte(s), nil
}
