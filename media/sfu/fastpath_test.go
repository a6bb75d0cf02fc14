package sfu

import (
	"bytes"
	"context"
	"crypto/tls"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/bailiff/bailiff/media/sfu/sfutest"
	"github.com/pion/dtls/v3"
	"github.com/pion/dtls/v3/pkg/crypto/selfsign"
	"github.com/pion/rtp"
	"github.com/pion/srtp/v3"
	"github.com/pion/webrtc/v4"
)

// The keys the hub derives from what its key tap noted are those DTLS's
// own exporter gives both ends, and a packet the hub's context encrypts
// is decrypted by the client's.
func TestKeyTapMatchesExporter(t *testing.T) {
	for _, profile := range []dtls.SRTPProtectionProfile{dtls.SRTP_AEAD_AES_128_GCM, dtls.SRTP_AES128_CM_HMAC_SHA1_80} {
		t.Run(srtp.ProtectionProfile(profile).String(), func(t *testing.T) {
			cert, err := selfsign.GenerateSelfSigned()
			if err != nil {
				t.Fatal(err)
			}
			sc, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
			if err != nil {
				t.Fatal(err)
			}
			cc, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
			if err != nil {
				t.Fatal(err)
			}
			tap := &keyTap{}
			suites := []dtls.CipherSuiteID{dtls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256}
			profiles := []dtls.SRTPProtectionProfile{profile}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			var server *dtls.Conn
			var serr error
			var wg sync.WaitGroup
			wg.Add(1)
			go func() {
				defer wg.Done()
				server, serr = dtls.Server(sc, cc.LocalAddr(), &dtls.Config{Certificates: []tls.Certificate{cert},
					CipherSuites: suites, SRTPProtectionProfiles: profiles, KeyLogWriter: tap,
					ServerHelloMessageHook: tap.serverHello, ExtendedMasterSecret: dtls.RequireExtendedMasterSecret})
				if serr == nil {
					serr = server.HandshakeContext(ctx)
				}
			}()
			client, err := dtls.Client(cc, sc.LocalAddr(), &dtls.Config{Certificates: []tls.Certificate{cert},
				InsecureSkipVerify: true, CipherSuites: suites, SRTPProtectionProfiles: profiles,
				ExtendedMasterSecret: dtls.RequireExtendedMasterSecret})
			if err != nil {
				t.Fatal(err)
			}
			if err := client.HandshakeContext(ctx); err != nil {
				t.Fatal(err)
			}
			wg.Wait()
			if serr != nil {
				t.Fatal(serr)
			}
			defer client.Close()
			defer server.Close()

			key, salt, got, err := tap.srtpKeys()
			if err != nil {
				t.Fatal(err)
			}
			if got != srtp.ProtectionProfile(profile) {
				t.Fatalf("profile %v, want %v", got, profile)
			}
			keyLen, _ := got.KeyLen()
			saltLen, _ := got.SaltLen()
			state, ok := client.ConnectionState()
			if !ok {
				t.Fatal("no client state")
			}
			km, err := state.ExportKeyingMaterial("EXTRACTOR-dtls_srtp", nil, 2*(keyLen+saltLen))
			if err != nil {
				t.Fatal(err)
			}
			wantKey, wantSalt := km[keyLen:2*keyLen], km[2*keyLen+saltLen:]
			if !bytes.Equal(key, wantKey) || !bytes.Equal(salt, wantSalt) {
				t.Fatalf("server key %x salt %x, the exporter says %x %x", key, salt, wantKey, wantSalt)
			}

			enc, err := tap.srtpContext()
			if err != nil {
				t.Fatal(err)
			}
			dec, err := srtp.CreateContext(wantKey, wantSalt, got)
			if err != nil {
				t.Fatal(err)
			}
			p := &rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 96, SequenceNumber: 7, Timestamp: 9, SSRC: 0x1234},
				Payload: []byte("a frame's worth of bytes")}
			raw, _ := p.Marshal()
			sealed, err := enc.EncryptRTP(nil, raw, nil)
			if err != nil {
				t.Fatal(err)
			}
			opened, err := dec.DecryptRTP(nil, sealed, nil)
			if err != nil || !bytes.Equal(opened, raw) {
				t.Fatalf("decrypted %x (%v), want %x", opened, err, raw)
			}
		})
	}
}

// A viewer on the shared UDP port is sent its RTP on the fast path and
// decodes it; on per-session ports it is sent through pion's stack.
func TestViewerFastPath(t *testing.T) {
	clips := sfutest.Load(t, sfutest.Small)
	perSession := testOptions()
	perSession.Network.UDPAddr = ""
	every := testOptions()
	every.Network.UDPAddr = "0.0.0.0:0"
	for _, c := range []struct {
		name string
		o    Options
		fast bool
	}{{"shared port", testOptions(), true}, {"every address", every, true}, {"per-session ports", perSession, false}} {
		t.Run(c.name, func(t *testing.T) {
			s := newTestSFU(t, c.o)
			if c.o.Network.UDPAddr == "0.0.0.0:0" {
				addrs := s.UDPAddrs()
				for _, a := range addrs {
					if a.(*net.UDPAddr).Port != addrs[0].(*net.UDPAddr).Port || a.(*net.UDPAddr).IP.IsUnspecified() {
						t.Fatalf("the shared port listens on %v: one port on each address wanted", addrs)
					}
				}
				t.Logf("listening on %v", addrs)
			}
			api := clientAPI(t, true)
			publish(t, s, api, testKey, webrtc.MimeTypeVP8, clips)
			v, vs := view(t, s, api, testKey, sfutest.ViewerOptions{})
			if !sfutest.WaitFor(10*time.Second, func() bool {
				return v.Frames() > 30 && v.Packets("audio") > 50 && v.SenderReports() > 0
			}) {
				t.Fatalf("viewer got %d frames, %d audio packets, %d sender reports", v.Frames(), v.Packets("audio"), v.SenderReports())
			}
			if got := vs.viewer.fast.Load() != nil; got != c.fast {
				t.Errorf("fast path %v, want %v", got, c.fast)
			}
			if st := vs.Stats(); st.Errors != 0 {
				t.Errorf("viewer stats %+v", st)
			}
		})
	}
}

// lossyConn loses the first copy of every video packet whose sequence
// number is a multiple of 16 on its way to a viewer.
type lossyConn struct {
	*net.UDPConn
	mu   sync.Mutex
	seen map[uint16]bool
	lost map[uint16]bool
}

func (l *lossyConn) ReadFrom(b []byte) (int, net.Addr, error) {
	for {
		n, addr, err := l.UDPConn.ReadFrom(b)
		if err != nil || n < 12 || b[0]>>6 != 2 || b[1] >= 192 && b[1] <= 223 || b[1]&0x7f == 111 {
			return n, addr, err // not video RTP (Opus is payload type 111 here)
		}
		seq := uint16(b[2])<<8 | uint16(b[3])
		l.mu.Lock()
		drop := seq%16 == 0 && !l.seen[seq]
		l.seen[seq] = true
		if drop {
			l.lost[seq] = true
		}
		l.mu.Unlock()
		if !drop {
			return n, addr, nil
		}
	}
}

// A viewer that loses packets NACKs them and is sent them again, on the
// fast path, from the hub's history of what it sent.
func TestViewerNACK(t *testing.T) {
	clips := sfutest.Load(t, sfutest.Small)
	s := newTestSFU(t, testOptions())
	api := clientAPI(t, true)
	publish(t, s, api, testKey, webrtc.MimeTypeVP8, clips)

	uc, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	lc := &lossyConn{UDPConn: uc, seen: map[uint16]bool{}, lost: map[uint16]bool{}}
	lossy := apiOver(t, lc, true)
	var mu sync.Mutex
	got := map[uint16]bool{}
	_, vs := view(t, s, lossy, testKey, sfutest.ViewerOptions{OnPacket: func(kind string, p *rtp.Packet) {
		if kind == "video" {
			mu.Lock()
			got[p.SequenceNumber] = true
			mu.Unlock()
		}
	}})
	if !sfutest.WaitFor(10*time.Second, func() bool {
		lc.mu.Lock()
		defer lc.mu.Unlock()
		return len(lc.lost) >= 10
	}) {
		t.Fatal("the viewer lost too few packets to test")
	}
	time.Sleep(time.Second) // NACKs and their answers
	if vs.viewer.fast.Load() == nil {
		t.Error("the viewer is not on the fast path")
	}
	lc.mu.Lock()
	lost := make([]uint16, 0, len(lc.lost))
	for seq := range lc.lost {
		lost = append(lost, seq)
	}
	lc.mu.Unlock()
	mu.Lock()
	defer mu.Unlock()
	recovered := 0
	for _, seq := range lost {
		if got[seq] {
			recovered++
		}
	}
	t.Logf("%d of %d lost packets came again", recovered, len(lost))
	// The latest losses may still be on their way.
	if recovered < len(lost)*8/10 {
		t.Errorf("only %d of %d lost packets came again", recovered, len(lost))
	}
}

// The fast path's datagrams decrypt at the viewer, whether they go through a worker's batch,
// the port's queue, or (too large for the queue) straight out, and the context's rollover
// counter carries across all three.
func TestFastSenderSizes(t *testing.T) {
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	port := newBatchConn(c, 8, 1)
	defer port.Close()
	d, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	key, salt := bytes.Repeat([]byte{7}, 16), bytes.Repeat([]byte{9}, 12)
	enc, err := srtp.CreateContext(key, salt, srtp.ProtectionProfileAeadAes128Gcm)
	if err != nil {
		t.Fatal(err)
	}
	dec, err := srtp.CreateContext(key, salt, srtp.ProtectionProfileAeadAes128Gcm)
	if err != nil {
		t.Fatal(err)
	}
	f := &fastSender{ports: []*batchConn{port}, ctx: enc}
	f.route.Store(&fastRoute{dst: d.LocalAddr().(*net.UDPAddr).AddrPort()})
	out := []*outBatch{port.newBatch()}
	buf := make([]byte, 2048)
	for i, c := range []struct {
		size int
		outs []*outBatch
	}{{1100, out}, {1100, nil}, {maxPacket - 20, out}, {maxPacket + 100, nil}, {200, out}} {
		seq := uint16(65534 + i) // across a rollover
		h := &rtp.Header{Version: 2, PayloadType: 96, SequenceNumber: seq, Timestamp: 1, SSRC: 5}
		payload := bytes.Repeat([]byte{byte(i + 1)}, c.size)
		if err := f.send(h, payload, c.outs); err != nil {
			t.Fatalf("packet %d (%d bytes): %v", i, c.size, err)
		}
		out[0].flush()
		_ = d.SetReadDeadline(time.Now().Add(2 * time.Second))
		n, err := d.Read(buf)
		if err != nil {
			t.Fatalf("packet %d (%d bytes): %v", i, c.size, err)
		}
		var got rtp.Header
		plain, err := dec.DecryptRTP(nil, buf[:n], &got)
		if err != nil {
			t.Fatalf("packet %d (%d bytes): %v", i, c.size, err)
		}
		if got.SequenceNumber != seq || !bytes.Equal(plain[len(plain)-c.size:], payload) {
			t.Fatalf("packet %d: seq %d, %d bytes", i, got.SequenceNumber, len(plain))
		}
	}
}
