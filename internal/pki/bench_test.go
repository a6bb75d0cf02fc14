package pki

import (
	"crypto/tls"
	"crypto/x509"
	"net"
	"path/filepath"
	"testing"
	"time"
)

// BenchmarkHandshake is one TLS handshake on loopback TCP with the hub's settings: an ECDSA
// P-256 server certificate from the hub's CA, and (mtls) an agent's client certificate, as
// each HTTPS connection and each agent (re)connect to the broker costs.
func BenchmarkHandshake(b *testing.B) {
	for _, mtls := range []bool{false, true} {
		name := "server-only"
		if mtls {
			name = "mutual"
		}
		b.Run(name, func(b *testing.B) {
			ca, err := LoadOrCreateCA(filepath.Join(b.TempDir(), "keys"), "bench CA")
			if err != nil {
				b.Fatal(err)
			}
			srv, err := ca.IssueServer([]string{"127.0.0.1"})
			if err != nil {
				b.Fatal(err)
			}
			sc := ServerConfig(srv, nil)
			var cert *tls.Certificate
			if mtls {
				sc = ServerConfig(srv, ca.Pool())
				key, csr, _ := NewAgentKey()
				pemCert, _, err := ca.SignAgent(csr, "court", "r1")
				if err != nil {
					b.Fatal(err)
				}
				kp, err := tls.X509KeyPair(pemCert, key)
				if err != nil {
					b.Fatal(err)
				}
				cert = &kp
			}
			ln, err := tls.Listen("tcp", "127.0.0.1:0", sc)
			if err != nil {
				b.Fatal(err)
			}
			defer ln.Close()
			go func() {
				for {
					c, err := ln.Accept()
					if err != nil {
						return
					}
					go func(c net.Conn) {
						c.(*tls.Conn).Handshake()
						c.Close()
					}(c)
				}
			}()
			cc := ClientConfig(ca.Pool(), cert)
			cc.ClientSessionCache = nil // a full handshake each time, as a new agent process
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				c, err := tls.Dial("tcp", ln.Addr().String(), cc)
				if err != nil {
					b.Fatal(err)
				}
				c.Close()
			}
		})
	}
}

// BenchmarkRenewal is the cryptography of one certificate renewal: the agent makes a key and a
// request and signs the proof (agent); the hub parses and verifies the certificate and the
// proof and signs a new certificate (hub; its store look-up and audit entry are not counted).
func BenchmarkRenewal(b *testing.B) {
	ca, err := LoadOrCreateCA(filepath.Join(b.TempDir(), "keys"), "bench CA")
	if err != nil {
		b.Fatal(err)
	}
	keyPEM, csrPEM, _ := NewAgentKey()
	certPEM, _, err := ca.SignAgent(csrPEM, "court", "r1")
	if err != nil {
		b.Fatal(err)
	}
	key, _ := ParsePrivateKey(keyPEM)
	at := time.Now()
	b.Run("agent", func(b *testing.B) {
		for b.Loop() {
			_, csr, err := NewAgentKey()
			if err != nil {
				b.Fatal(err)
			}
			if _, err := SignRenewal(key, csr, at); err != nil {
				b.Fatal(err)
			}
		}
	})
	_, newCSR, _ := NewAgentKey()
	sig, _ := SignRenewal(key, newCSR, at)
	pool := ca.Pool()
	b.Run("hub", func(b *testing.B) {
		for b.Loop() {
			certs, err := ParseCertificates(certPEM)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := certs[0].Verify(x509.VerifyOptions{Roots: pool, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
				b.Fatal(err)
			}
			if err := VerifyRenewal(certs[0], newCSR, at, sig); err != nil {
				b.Fatal(err)
			}
			if _, _, err := ca.SignAgent(newCSR, "court", "r1"); err != nil {
				b.Fatal(err)
			}
		}
	})
}
