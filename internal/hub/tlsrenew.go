package hub

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/bailiff/bailiff/internal/pki"
)

// Server certificate renewal while the hub runs. In mode self the hub issues itself a new
// server certificate when less than a third of the current one's validity is left (and at
// every start); in mode files it reloads the certificate and key when either file changes (the
// operator's renewal), checking that the CA issued it; a file that does not load or verify is
// logged and the current certificate kept. New connections get the new certificate; open ones
// keep the one they started with.

// defaultCheckEvery is how often the certificate is checked when TLSOptions.CheckEvery is 0.
const defaultCheckEvery = time.Hour

func (t *TLSOptions) serverValidity() time.Duration {
	if t.ServerValidity > 0 {
		return t.ServerValidity
	}
	return pki.ServerValidity
}

// renewServerCert checks the server certificate every CheckEvery until ctx ends.
func (h *Hub) renewServerCert(ctx context.Context) {
	t := h.opts.TLS
	if t == nil || h.tlsCert == nil {
		return
	}
	every := t.CheckEvery
	if every <= 0 {
		every = defaultCheckEvery
	}
	stamp := fileStamp(t.CertFile, t.KeyFile)
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		cur := h.cert.Load()
		if t.CertFile == "" {
			if time.Until(cur.Leaf.NotAfter) > t.serverValidity()/3 {
				continue
			}
			cert, err := h.ca.IssueServerFor(t.Names, t.serverValidity())
			if err != nil {
				h.log.Error("TLS: renew the server certificate", "error", err)
				continue
			}
			h.cert.Store(&cert)
			h.log.Info("TLS: server certificate renewed", "serial", pki.SerialString(cert.Leaf.SerialNumber),
				"not_after", cert.Leaf.NotAfter.UTC().Format(time.RFC3339))
			continue
		}
		if s := fileStamp(t.CertFile, t.KeyFile); s != stamp {
			cert, err := loadServerCert(t, h.ca)
			if err != nil {
				h.log.Error("TLS: the changed server certificate is not taken; the current one stays", "error", err)
				continue
			}
			stamp = s
			h.cert.Store(cert)
			h.log.Info("TLS: server certificate reloaded", "file", t.CertFile, "serial", pki.SerialString(cert.Leaf.SerialNumber),
				"not_after", cert.Leaf.NotAfter.UTC().Format(time.RFC3339))
		}
	}
}

// fileStamp is the modification times and sizes of files, to notice a change.
func fileStamp(files ...string) string {
	out := ""
	for _, f := range files {
		if f == "" {
			continue
		}
		if fi, err := os.Stat(f); err == nil {
			out += fmt.Sprintf("%s:%d:%d;", f, fi.ModTime().UnixNano(), fi.Size())
		}
	}
	return out
}
