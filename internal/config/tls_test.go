package config_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bailiff/bailiff/internal/config"
)

// TestHubTLS: the tls section's keys, each mistake named by file, line and key; in mode files
// the certificate files are read and checked when the config loads.
func TestHubTLS(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "hub.yaml")
	fixture := func(name string) string {
		b, err := os.ReadFile(filepath.Join("..", "pki", "testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	for _, name := range []string{"ca.pem", "ca.key", "agent.key"} {
		fixture(name)
	}
	agentPEM := fixture("agent.pem")
	tests := []struct {
		name, yaml string
		want       []string
		check      func(*testing.T, *config.Hub)
	}{
		{name: "off by default", yaml: "log: {level: info}\n", check: func(t *testing.T, h *config.Hub) {
			if h.TLS.On() || h.TLS.MQTTListen != config.DefaultTLSMQTTListen {
				t.Errorf("tls %+v", h.TLS)
			}
		}},
		{name: "self", yaml: "tls:\n  mode: self\n  names: [hub.court.example, 10.0.0.5]\n", check: func(t *testing.T, h *config.Hub) {
			if !h.TLS.On() || len(h.TLS.TLSNames()) != 2 {
				t.Errorf("tls %+v", h.TLS)
			}
		}},
		{name: "self default names", yaml: "tls: {mode: self}\n", check: func(t *testing.T, h *config.Hub) {
			if strings.Join(h.TLS.TLSNames(), ",") != "localhost,127.0.0.1,::1" {
				t.Errorf("names %v", h.TLS.TLSNames())
			}
		}},
		{name: "files", yaml: "tls:\n  mode: files\n  cert_file: agent.pem\n  key_file: agent.key\n  ca_file: ca.pem\n  ca_key_file: ca.key\n"},
		{name: "bad mode", yaml: "tls:\n  mode: on\n", want: []string{f + `:2: tls.mode: unknown mode "on"; want one of off, self, files`}},
		{name: "bad name and listen", yaml: "tls:\n  mode: self\n  mqtt_listen: nowhere\n  names: [\"bad name\", -x.example]\n", want: []string{
			f + `:3: tls.mqtt_listen: "nowhere": missing port (want host:port, e.g. 127.0.0.1:8080)`,
			f + `:4: tls.names[0]: "bad name": not a DNS name or IP address`,
			f + `:4: tls.names[1]: "-x.example": not a DNS name or IP address`,
		}},
		{name: "files in self", yaml: "tls:\n  mode: self\n  cert_file: x.pem\n", want: []string{
			f + `:3: tls.cert_file: only with mode files (mode self makes the CA and certificate itself)`,
		}},
		{name: "files missing", yaml: "tls:\n  mode: files\n  names: [a.example]\n", want: []string{
			f + `:1: tls.cert_file: required with mode files (a PEM file)`,
			f + `:1: tls.key_file: required with mode files (a PEM file)`,
			f + `:1: tls.ca_file: required with mode files (a PEM file)`,
			f + `:3: tls.names: only with mode self (with mode files the certificate names the hub)`,
		}},
		{name: "key of another certificate", yaml: "tls:\n  mode: files\n  cert_file: agent.pem\n  key_file: ca.key\n  ca_file: ca.pem\n", want: []string{
			f + `:3: tls.cert_file: agent.pem and key_file do not load as a key pair: tls: private key does not match public key`,
		}},
		{name: "ca not a CA", yaml: "tls:\n  mode: files\n  cert_file: agent.pem\n  key_file: agent.key\n  ca_file: agent.pem\n", want: []string{
			f + `:5: tls.ca_file: CA certificate ` + agentPEM + `: not a CA certificate (basic constraints)`,
		}},
		{name: "missing file", yaml: "tls:\n  mode: files\n  cert_file: agent.pem\n  key_file: agent.key\n  ca_file: nope.pem\n", want: []string{
			f + `:5: tls.ca_file: stat ` + filepath.Join(dir, "nope.pem") + `: no such file or directory`,
		}},
		{name: "device", yaml: "tls:\n  mode: files\n  cert_file: /dev/zero\n  key_file: agent.key\n  ca_file: ca.pem\n", want: []string{
			f + `:3: tls.cert_file: /dev/zero: not a regular file`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, err := config.ParseHub(f, []byte(tt.yaml), nil)
			if tt.want == nil {
				if err != nil {
					t.Fatalf("unexpected error:\n%v", err)
				}
				if tt.check != nil {
					tt.check(t, h)
				}
				return
			}
			checkErr(t, err, tt.want)
		})
	}
}
