package relay_test

import (
	"crypto/tls"

	"errors"
	"io"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bailiff/bailiff/internal/pki"
	"github.com/bailiff/bailiff/media/relay"
	"github.com/pion/turn/v5"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func start(t *testing.T, allow func(net.IP) bool) *relay.Server {
	t.Helper()
	s, err := relay.Start(relay.Config{Listen: "127.0.0.1:0", Secret: []byte("0123456789abcdef0123"),
		RelayPortMin: 40000, RelayPortMax: 44999, TTL: time.Minute, AllowPeer: allow, MaxAllocations: 2, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// client allocates a UDP relay on s with the given credential.
func client(t *testing.T, s *relay.Server, user, pass string) (*turn.Client, net.PacketConn, error) {
	t.Helper()
	conn, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	addr := net.JoinHostPort("127.0.0.1", itoa(s.Port()))
	c := listenClient(t, conn, addr, user, pass)
	rc, err := c.Allocate()
	if err == nil {
		t.Cleanup(func() { rc.Close() })
	}
	return c, rc, err
}

func itoa(n int) string { return strconv.Itoa(n) }

// A minted credential allocates a relay that carries datagrams to an allowed peer and back;
// a wrong password, an expired user name and one that outlives the TTL are refused, and a
// peer outside AllowPeer is unreachable.
func TestRelay(t *testing.T) {
	peer, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer peer.Close()
	peerPort := peer.LocalAddr().(*net.UDPAddr).Port
	s := start(t, func(ip net.IP) bool { return ip.IsLoopback() })

	user, pass, exp := s.Credential("invite:abc", time.Now())
	if !strings.HasSuffix(user, ":invite-abc") || time.Until(exp) > time.Minute {
		t.Fatalf("credential %q expires %s", user, exp)
	}
	_, rc, err := client(t, s, user, pass)
	if err != nil {
		t.Fatalf("allocate with a good credential: %v", err)
	}
	if _, err := rc.WriteTo([]byte("ping"), peer.LocalAddr()); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64)
	peer.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, from, err := peer.ReadFrom(buf)
	if err != nil || string(buf[:n]) != "ping" {
		t.Fatalf("peer got %q, %v", buf[:n], err)
	}
	if _, err := peer.WriteTo([]byte("pong"), from); err != nil {
		t.Fatal(err)
	}
	rc.SetReadDeadline(time.Now().Add(5 * time.Second))
	if n, _, err := rc.ReadFrom(buf); err != nil || string(buf[:n]) != "pong" {
		t.Fatalf("client got %q, %v", buf[:n], err)
	}
	if s.Allocations() != 1 {
		t.Errorf("allocations: %d", s.Allocations())
	}

	for _, tc := range []struct{ name, user, pass string }{
		{"wrong password", user, relay.Password([]byte("another secret 123456"), user)},
		{"expired", "1000:someone", relay.Password([]byte("0123456789abcdef0123"), "1000:someone")},
		{"beyond the TTL", itoa(int(time.Now().Add(48*time.Hour).Unix())) + ":x", ""},
		{"not a REST user name", "alice", "alice"},
	} {
		if tc.pass == "" {
			tc.pass = relay.Password([]byte("0123456789abcdef0123"), tc.user)
		}
		if _, _, err := client(t, s, tc.user, tc.pass); err == nil {
			t.Errorf("%s: allocation accepted", tc.name)
		}
	}

	// A peer that is not allowed: the permission is refused.
	s2 := start(t, func(net.IP) bool { return false })
	u2, p2, _ := s2.Credential("x", time.Now())
	c2, _, err := client(t, s2, u2, p2)
	if err != nil {
		t.Fatal(err)
	}
	if err := c2.CreatePermission(&net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: peerPort}); err == nil {
		t.Error("permission to a refused peer granted")
	}
}

// One identity holds at most MaxAllocations relays; another identity is not held back.
func TestAllocationQuota(t *testing.T) {
	s := start(t, func(net.IP) bool { return true })
	user, pass, _ := s.Credential("invite-1", time.Now())
	for i := range 2 {
		if _, _, err := client(t, s, user, pass); err != nil {
			t.Fatalf("allocation %d: %v", i+1, err)
		}
	}
	if _, _, err := client(t, s, user, pass); err == nil {
		t.Error("a third allocation for one identity")
	}
	u2, p2, _ := s.Credential("invite-2", time.Now())
	if _, _, err := client(t, s, u2, p2); err != nil {
		t.Errorf("another identity: %v", err)
	}
	if n := s.Allocations(); n != 3 {
		t.Errorf("allocations: %d", n)
	}
}

func TestCheckUsername(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	for _, tc := range []struct {
		user string
		ok   bool
	}{
		{"1800000600:invite-1", true},
		{"1800000000:x", false}, // expires now
		{"1800003661:x", false}, // further than TTL + 1m
		{"1800000600:", false},
		{"+1800000600:x", false},
		{"abc:x", false},
		{"1800000600", false},
	} {
		err := relay.CheckUsername(tc.user, now, time.Hour)
		if (err == nil) != tc.ok || (err != nil && !errors.Is(err, relay.ErrBadCredential)) {
			t.Errorf("%q: %v", tc.user, err)
		}
	}
}

func TestLoadOrCreateSecret(t *testing.T) {
	p := t.TempDir() + "/keys/turn.secret"
	a, err := relay.LoadOrCreateSecret(p)
	if err != nil || len(a) < 32 {
		t.Fatalf("%q %v", a, err)
	}
	b, err := relay.LoadOrCreateSecret(p)
	if err != nil || string(a) != string(b) {
		t.Fatalf("second load: %q %v", b, err)
	}
}

// TURN over TLS (turns:): a client that trusts the server's CA allocates a relay over TLS that
// carries datagrams; the Link URLs name turns:; a client that does not trust the CA, and one
// that offers only TLS 1.1, get no handshake; plain TURN on the TLS port gets no answer.
func TestRelayTLS(t *testing.T) {
	ca, err := pki.LoadOrCreateCA(t.TempDir(), "test CA")
	if err != nil {
		t.Fatal(err)
	}
	cert, err := ca.IssueServer([]string{"127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	secret := []byte("0123456789abcdef0123")
	s, err := relay.Start(relay.Config{Listen: "127.0.0.1:0", TLSListen: "127.0.0.1:0", TLS: pki.ServerConfig(cert, nil),
		Secret: secret, RelayPortMin: 40000, RelayPortMax: 44999, TTL: time.Minute,
		AllowPeer: func(ip net.IP) bool { return ip.IsLoopback() }, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.TLSPort() == 0 || s.TLSPort() == s.Port() {
		t.Fatalf("TLS port %d (plain %d)", s.TLSPort(), s.Port())
	}
	urls := s.ICEServers("x")[0].URLs
	want := "turns:127.0.0.1:" + itoa(s.TLSPort()) + "?transport=tcp"
	if len(urls) != 3 || urls[2] != want {
		t.Fatalf("ICE server URLs %v, want %s last", urls, want)
	}
	if _, err := relay.Start(relay.Config{Listen: "127.0.0.1:0", TLSListen: "127.0.0.1:0", Secret: secret}); err == nil {
		t.Error("TURN over TLS started without a certificate")
	}

	addr := net.JoinHostPort("127.0.0.1", itoa(s.TLSPort()))
	dial := func(c *tls.Config) (*tls.Conn, error) {
		return tls.DialWithDialer(&net.Dialer{Timeout: 3 * time.Second}, "tcp", addr, c)
	}
	if c, err := dial(pki.ClientConfig(nil, nil)); err == nil {
		c.Close()
		t.Error("a client that does not trust the CA completed the handshake")
	}
	if c, err := dial(&tls.Config{RootCAs: ca.Pool(), MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS11}); err == nil {
		c.Close()
		t.Error("a TLS 1.1 handshake succeeded")
	}

	peer, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer peer.Close()
	conn, err := dial(pki.ClientConfig(ca.Pool(), nil))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	user, pass, _ := s.Credential("invite-tls", time.Now())
	rc, err := streamClient(t, conn, addr, user, pass).Allocate()
	if err != nil {
		t.Fatalf("allocate over TLS: %v", err)
	}
	defer rc.Close()
	if _, err := rc.WriteTo([]byte("over tls"), peer.LocalAddr()); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64)
	peer.SetReadDeadline(time.Now().Add(5 * time.Second))
	if n, _, err := peer.ReadFrom(buf); err != nil || string(buf[:n]) != "over tls" {
		t.Fatalf("peer got %q, %v", buf[:n], err)
	}

	// Plain TURN over TCP to the TLS port: the handshake fails and the server closes the
	// connection at once (it does not hang).
	raw, err := net.DialTimeout("tcp", addr, 3*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if _, err := streamClient(t, raw, addr, user, pass).Allocate(); err == nil {
		t.Error("plain TURN allocated on the TLS port")
	}
}

// streamClient is a TURN client over a stream connection (TCP or TLS) to addr.
func streamClient(t *testing.T, conn net.Conn, addr, user, pass string) *turn.Client {
	t.Helper()
	return listenClient(t, turn.NewSTUNConn(conn), addr, user, pass)
}

// listenClient is a listening TURN client of the server at addr over conn.
func listenClient(t *testing.T, conn net.PacketConn, addr, user, pass string) *turn.Client {
	t.Helper()
	c, err := turn.NewClient(&turn.ClientConfig{STUNServerAddr: addr, TURNServerAddr: addr, Conn: conn,
		Username: user, Password: pass, Realm: relay.DefaultRealm, RTO: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	if err := c.Listen(); err != nil {
		t.Fatal(err)
	}
	return c
}
