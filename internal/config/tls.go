package config

import (
	"crypto/tls"
	"fmt"
	"net"
	"os"

	"strings"

	"github.com/bailiff/bailiff/internal/pki"
)

// TLS modes (tls.mode).
const (
	TLSOff   = "off"   // plain HTTP and MQTT
	TLSSelf  = "self"  // the hub's own CA (made on first start) issues its server certificate
	TLSFiles = "files" // the operator's certificate, key and CA files
)

// TLSModes are the values of tls.mode.
var TLSModes = []string{TLSOff, TLSSelf, TLSFiles}

// DefaultTLSMQTTListen is the embedded broker's TLS listener when TLS is on.
const DefaultTLSMQTTListen = "127.0.0.1:8883"

// DefaultTLSNames are the names of the hub's own server certificate when tls.names is empty.
var DefaultTLSNames = []string{"localhost", "127.0.0.1", "::1"}

// TLS turns on HTTPS for the API and pages and MQTT over TLS on the embedded broker.
type TLS struct {
	Mode string `yaml:"mode" json:"mode"` // off (default), self or files
	// MQTTListen is the embedded broker's TLS listener (host:port); default 127.0.0.1:8883.
	// With TLS on the broker listens on it only: mqtt.listen is not opened.
	MQTTListen string `yaml:"mqtt_listen" json:"mqtt_listen"`
	// Names are the DNS names and IP addresses of the hub's own server certificate (mode
	// self); default localhost, 127.0.0.1, ::1.
	Names []string `yaml:"names" json:"names"`
	// Mode files: the server certificate (chain, PEM) and its key, and the CA that issued it,
	// which agents are given. CAKeyFile, when given, lets the hub issue agent certificates.
	CertFile  string `yaml:"cert_file" json:"cert_file"`
	KeyFile   string `yaml:"key_file" json:"key_file"`
	CAFile    string `yaml:"ca_file" json:"ca_file"`
	CAKeyFile string `yaml:"ca_key_file" json:"ca_key_file"`
}

// On reports whether TLS is on.
func (t TLS) On() bool { return t.Mode == TLSSelf || t.Mode == TLSFiles }

// problems adds what is wrong with the tls keys. In mode files it reads the files, so a
// certificate that does not load fails here, named by its key.
func (h *Hub) tlsProblems(p *problems) {
	t := h.TLS
	p.oneOf("tls.mode", "mode", t.Mode, TLSModes)
	if !t.On() {
		return
	}
	if msg := checkListen(t.MQTTListen); msg != "" {
		p.add("tls.mqtt_listen", "%s", msg)
	}
	for i, n := range t.Names {
		if msg := checkCertName(n); msg != "" {
			p.add(fmt.Sprintf("tls.names[%d]", i), "%s", msg)
		}
	}
	files := [][2]string{{"cert_file", t.CertFile}, {"key_file", t.KeyFile}, {"ca_file", t.CAFile}, {"ca_key_file", t.CAKeyFile}}
	if t.Mode == TLSSelf {
		for _, f := range files {
			if f[1] != "" {
				p.add("tls."+f[0], "only with mode files (mode self makes the CA and certificate itself)")
			}
		}
		return
	}
	if len(t.Names) > 0 {
		p.add("tls.names", "only with mode self (with mode files the certificate names the hub)")
	}
	for _, f := range files[:3] {
		if f[1] == "" {
			p.add("tls."+f[0], "required with mode files (a PEM file)")
		}
	}
	if t.CertFile == "" || t.KeyFile == "" || t.CAFile == "" {
		return
	}
	for _, f := range files {
		if f[1] == "" {
			continue
		}
		if msg := checkPEMFile(h.resolve(f[1])); msg != "" {
			p.add("tls."+f[0], "%s", msg)
			return
		}
	}
	if _, err := tls.LoadX509KeyPair(h.resolve(t.CertFile), h.resolve(t.KeyFile)); err != nil {
		p.add("tls.cert_file", "%s and key_file do not load as a key pair: %s", t.CertFile, err)
	}
	caKey := ""
	if t.CAKeyFile != "" {
		caKey = h.resolve(t.CAKeyFile)
	}
	if _, err := pki.LoadCA(h.resolve(t.CAFile), caKey); err != nil {
		p.add("tls.ca_file", "%s", strings.TrimPrefix(err.Error(), "pki: "))
	}
}

// TLSNames are the names of the hub's own server certificate: tls.names or the defaults.
func (t TLS) TLSNames() []string {
	if len(t.Names) == 0 {
		return DefaultTLSNames
	}
	return t.Names
}

// checkCertName checks a DNS name or IP address for a certificate.
func checkCertName(n string) string {
	if net.ParseIP(n) != nil {
		return ""
	}
	if n == "" || len(n) > 253 || strings.HasPrefix(n, ".") || strings.HasSuffix(n, ".") {
		return quote(n) + ": not a DNS name or IP address"
	}
	for _, label := range strings.Split(n, ".") {
		if label == "" || len(label) > 63 || strings.HasPrefix(label, "-") || strings.HasSuffix(label, "-") {
			return quote(n) + ": not a DNS name or IP address"
		}
		for i, r := range label {
			ok := r == '-' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || (r == '*' && i == 0 && label == "*")
			if !ok {
				return quote(n) + ": not a DNS name or IP address"
			}
		}
	}
	return ""
}

// maxPEMFile bounds a certificate or key file (a chain of a few certificates is a few KiB).
const maxPEMFile = 1 << 20

// checkPEMFile refuses what is not a regular file of at most maxPEMFile bytes before it is
// read (a device or a pipe named by mistake would block or never end).
func checkPEMFile(path string) string {
	fi, err := os.Stat(path)
	switch {
	case err != nil:
		return err.Error()
	case !fi.Mode().IsRegular():
		return path + ": not a regular file"
	case fi.Size() > maxPEMFile:
		return fmt.Sprintf("%s: %d bytes; a PEM certificate or key file is at most %d", path, fi.Size(), maxPEMFile)
	}
	return ""
}
