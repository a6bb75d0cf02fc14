package hubcli

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"time"

	"github.com/bailiff/bailiff/internal/config"
	"github.com/bailiff/bailiff/internal/pki"
	"github.com/bailiff/bailiff/internal/store"
)

// caCommand is `hub ca` (print the CA certificate and its fingerprint) and `hub agents crl`
// (print the revocation list of agent certificates, signed by the CA).
func caCommand(ctx context.Context, cfg *config.Hub, dataDir string, st *store.Store, printCA bool, stdout, stderr io.Writer) int {
	var ca *pki.CA
	var err error
	switch cfg.TLS.Mode {
	case config.TLSFiles:
		key := ""
		if cfg.TLS.CAKeyFile != "" {
			key = cfg.Resolve(cfg.TLS.CAKeyFile)
		}
		ca, err = pki.LoadCA(cfg.Resolve(cfg.TLS.CAFile), key)
	default:
		ca, err = pki.LoadOrCreateCA(filepath.Join(dataDir, "keys"), "Bailiff hub CA")
	}
	if err != nil {
		fmt.Fprintln(stderr, "hub:", err)
		return 1
	}
	if printCA {
		fmt.Fprintf(stderr, "CA fingerprint (SHA-256): %s\n", ca.Fingerprint())
		stdout.Write(ca.PEM)
		return 0
	}
	serials, err := st.RevokedAgentCerts(ctx)
	if err != nil {
		fmt.Fprintln(stderr, "hub:", err)
		return 1
	}
	crl, err := ca.CRL(serials, time.Now().Unix())
	if err != nil {
		fmt.Fprintln(stderr, "hub:", err)
		return 1
	}
	stdout.Write(crl)
	return 0
}
