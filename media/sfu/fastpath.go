package sfu

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/pion/dtls/v3"
	"github.com/pion/dtls/v3/pkg/crypto/prf"
	"github.com/pion/dtls/v3/pkg/protocol/extension"
	"github.com/pion/dtls/v3/pkg/protocol/handshake"
	"github.com/pion/rtp"
	"github.com/pion/srtp/v3"
	"github.com/pion/webrtc/v4"
)

// The viewers' fast path. A packet sent to a viewer through pion goes
// down its interceptors, its SRTP session, the DTLS mux, the ICE
// connection and the UDP mux before reaching the socket: a few µs per
// viewer and packet, which at hundreds of viewers is most of what the hub
// does besides the kernel's own work. On the shared UDP port a viewer's
// RTP takes a shorter way: the hub keeps the viewer's SRTP keys (derived
// from its DTLS handshake as the DTLS-SRTP exporter does, RFC 5764 §4.2),
// encrypts each packet in place into the port's send queue and addresses
// it to the viewer's selected ICE candidate. Everything else (ICE, DTLS,
// RTCP both ways) stays with pion; NACKs are answered and sender reports
// sent by the viewer itself (viewer.go), on either path.

// keyTap notes the DTLS secrets of one viewer's peer connection as its
// handshake makes them (in memory only, for the life of the session, as
// pion's own SRTP session holds the keys they make): the key log pion writes for it (NSS format: the
// client random and the master secret), and the Server Hello the hub
// sends (its random and the SRTP profile it chose). The hub answers
// viewers as the DTLS server, so that it sends that Server Hello, and
// offers one cipher suite, TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256
// (every browser has it; the hub's certificate is ECDSA), whose PRF hash
// is SHA-256.
type keyTap struct {
	mu           sync.Mutex
	master       []byte
	clientRandom []byte
	serverRandom []byte
	profile      dtls.SRTPProtectionProfile
}

// Write takes a key log line: "CLIENT_RANDOM <client random> <master secret>", in hex.
func (t *keyTap) Write(b []byte) (int, error) {
	f := strings.Fields(string(b))
	if len(f) != 3 || f[0] != "CLIENT_RANDOM" {
		return len(b), nil
	}
	cr, err1 := hex.DecodeString(f[1])
	ms, err2 := hex.DecodeString(f[2])
	if err1 != nil || err2 != nil {
		return len(b), nil
	}
	t.mu.Lock()
	t.clientRandom, t.master = cr, ms
	t.mu.Unlock()
	return len(b), nil
}

// serverHello notes the hub's random and the SRTP profile it chose.
func (t *keyTap) serverHello(m handshake.MessageServerHello) handshake.Message {
	r := m.Random.MarshalFixed()
	t.mu.Lock()
	t.serverRandom = r[:]
	for _, e := range m.Extensions {
		if u, ok := e.(*extension.UseSRTP); ok && len(u.ProtectionProfiles) > 0 {
			t.profile = u.ProtectionProfiles[0]
		}
	}
	t.mu.Unlock()
	return &m
}

// tune sets a viewer's setting engine to note its secrets.
func (t *keyTap) tune(se *webrtc.SettingEngine) error {
	se.SetDTLSCipherSuites(dtls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256)
	se.SetDTLSKeyLogWriter(t)
	se.SetDTLSServerHelloMessageHook(t.serverHello)
	return se.SetAnsweringDTLSRole(webrtc.DTLSRoleServer)
}

// errNoSecrets: the handshake's secrets were not all noted.
var errNoSecrets = errors.New("sfu: the viewer's DTLS secrets were not noted")

// srtpKeys are the hub's SRTP master key and salt, as the DTLS server:
// the keying material exported with the label "EXTRACTOR-dtls_srtp"
// (RFC 5705, the TLS 1.2 PRF with SHA-256) is the client's key, the
// server's key, the client's salt, the server's salt (RFC 5764 §4.2).
func (t *keyTap) srtpKeys() (key, salt []byte, profile srtp.ProtectionProfile, err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.master == nil || t.serverRandom == nil || t.profile == 0 {
		return nil, nil, 0, errNoSecrets
	}
	profile = srtp.ProtectionProfile(t.profile)
	keyLen, err := profile.KeyLen()
	if err != nil {
		return nil, nil, 0, err
	}
	saltLen, err := profile.SaltLen()
	if err != nil {
		return nil, nil, 0, err
	}
	seed := append([]byte("EXTRACTOR-dtls_srtp"), t.clientRandom...)
	seed = append(seed, t.serverRandom...)
	km, err := prf.PHash(t.master, seed, 2*(keyLen+saltLen), sha256.New)
	if err != nil {
		return nil, nil, 0, err
	}
	return km[keyLen : 2*keyLen], km[2*keyLen+saltLen:], profile, nil
}

// srtpContext makes the SRTP context the hub encrypts the viewer's RTP with.
func (t *keyTap) srtpContext() (*srtp.Context, error) {
	key, salt, profile, err := t.srtpKeys()
	if err != nil {
		return nil, err
	}
	return srtp.CreateContext(key, salt, profile)
}

// fastSender sends one viewer's RTP on the shared UDP port.
type fastSender struct {
	ports []*batchConn // the port's sockets, one per local address
	route atomic.Pointer[fastRoute]

	mu  sync.Mutex // the context is the viewer's, written from its goroutines
	ctx *srtp.Context
	hdr rtp.Header // scratch for the context
}

// fastRoute is where the viewer's datagrams go: the remote candidate of
// the selected pair, from the socket of its local candidate.
type fastRoute struct {
	dst   netip.AddrPort
	index int // among the port's sockets
}

// newFastSender makes the fast path of a connected viewer, or says why
// it cannot have one.
func newFastSender(tap *keyTap, ports []*batchConn, ice *webrtc.ICETransport) (*fastSender, error) {
	ctx, err := tap.srtpContext()
	if err != nil {
		return nil, err
	}
	pair, err := ice.GetSelectedCandidatePair()
	if err != nil || pair == nil {
		return nil, fmt.Errorf("sfu: no selected candidate pair: %w", err)
	}
	f := &fastSender{ports: ports, ctx: ctx}
	r, err := f.routeOf(pair)
	if err != nil {
		return nil, err
	}
	f.route.Store(r)
	ice.OnSelectedCandidatePairChange(func(p *webrtc.ICECandidatePair) {
		if r, err := f.routeOf(p); err == nil {
			f.route.Store(r)
		}
	})
	return f, nil
}

// routeOf is the route of a candidate pair.
func (f *fastSender) routeOf(p *webrtc.ICECandidatePair) (*fastRoute, error) {
	if p == nil || p.Local == nil || p.Remote == nil || p.Remote.Protocol != webrtc.ICEProtocolUDP {
		return nil, errors.New("sfu: the selected candidate pair is not UDP")
	}
	a, err := netip.ParseAddr(p.Remote.Address)
	if err != nil {
		return nil, fmt.Errorf("sfu: remote candidate %q: %w", p.Remote.Address, err)
	}
	r := &fastRoute{dst: netip.AddrPortFrom(a.Unmap(), p.Remote.Port), index: -1}
	if len(f.ports) == 1 {
		r.index = 0
	} else if ip := net.ParseIP(p.Local.Address); ip != nil {
		for i, port := range f.ports {
			if la, ok := port.LocalAddr().(*net.UDPAddr); ok && la.IP.Equal(ip) {
				r.index = i
			}
		}
	}
	if r.index < 0 {
		// An address rewritten for a 1:1 NAT names no socket here.
		return nil, fmt.Errorf("sfu: no socket of the shared port has the local candidate's address %s", p.Local.Address)
	}
	return r, nil
}

// send encrypts one packet into its socket's batch among outs, or into
// the socket's queue without.
func (f *fastSender) send(h *rtp.Header, payload []byte, outs []*outBatch) error {
	r := f.route.Load()
	port := f.ports[r.index]
	if h.MarshalSize()+len(payload)+srtpOverhead > maxPacket {
		// Too large for the queue (a publisher near the Ethernet MTU):
		// sealed with the same context in a buffer of its own, sent at once.
		enc, err := f.seal(h, payload, make([]byte, h.MarshalSize()+len(payload)+srtpOverhead))
		if err != nil {
			return err
		}
		_, err = port.WriteToAddrPort(enc, r.dst)
		return err
	}
	o := port.pool.Get().(*outPacket)
	enc, err := f.seal(h, payload, o.buf[:])
	if err != nil {
		port.pool.Put(o)
		return err
	}
	if &enc[0] != &o.buf[0] { // the context made a buffer of its own
		copy(o.buf[:], enc)
	}
	o.n = len(enc)
	o.addr = r.dst
	if outs != nil {
		outs[r.index].add(o)
		return nil
	}
	return port.queue(o)
}

// seal writes h and payload into buf, which has room for them and the
// auth tag, and encrypts them there.
func (f *fastSender) seal(h *rtp.Header, payload, buf []byte) ([]byte, error) {
	n, err := h.MarshalTo(buf)
	if err != nil {
		return nil, err
	}
	n += copy(buf[n:], payload)
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.ctx.EncryptRTP(buf[:0], buf[:n], &f.hdr)
}

// srtpOverhead is the most SRTP adds to a packet (an auth tag).
const srtpOverhead = 16
