package hubcli

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"time"

	"github.com/bailiff/bailiff/internal/config"
	"github.com/bailiff/bailiff/internal/hub/audit"
	"github.com/bailiff/bailiff/internal/pki"
	"github.com/bailiff/bailiff/internal/store"
)

// caCommand is `hub ca` (print the CA certificate and its fingerprint) and `hub agents crl`
// (print the revocation list of agent certificates, signed by the CA).
func caCommand(ctx context.Context, cfg *config.Hub, dataDir string, st *store.Store, printCA bool, stdout, stderr io.Writer) int {
	var ca *pki.CA
	var trust *pki.Trust
	var err error
	switch cfg.TLS.Mode {
	case config.TLSFiles:
		key := ""
		if cfg.TLS.CAKeyFile != "" {
			key = cfg.Resolve(cfg.TLS.CAKeyFile)
		}
		ca, err = pki.LoadCA(cfg.Resolve(cfg.TLS.CAFile), key)
	default:
		if trust, err = pki.LoadTrust(filepath.Join(dataDir, "keys"), "Bailiff hub CA"); err == nil {
			ca = trust.Issuer
		}
	}
	if err != nil {
		fmt.Fprintln(stderr, "hub:", err)
		return 1
	}
	if printCA {
		fmt.Fprintf(stderr, "CA fingerprint (SHA-256): %s\n", ca.Fingerprint())
		if trust != nil && len(trust.Certificates()) > 1 {
			// During a CA rotation: every CA the hub trusts, the issuing one first.
			fmt.Fprintf(stderr, "a CA rotation is under way: %d CAs follow, the issuing one first; give agents all of them\n", len(trust.Certificates()))
			stdout.Write(trust.PEM())
			return 0
		}
		stdout.Write(ca.PEM)
		return 0
	}
	serials, err := st.RevokedAgentCerts(ctx)
	if err != nil {
		fmt.Fprintln(stderr, "hub:", err)
		return 1
	}
	if trust == nil {
		trust = &pki.Trust{Issuer: ca}
	}
	// During a CA rotation, a list from each CA: a broker checking CRLs needs one per CA.
	crl, err := trust.CRLs(serials, time.Now().Unix())
	if err != nil {
		fmt.Fprintln(stderr, "hub:", err)
		return 1
	}
	stdout.Write(crl)
	return 0
}

// caRotation is `hub ca rotate|promote|retire` (pki/rotate.go).
func caRotation(cfg *config.Hub, dataDir, step string, record func(action, target, result, detail string), stdout, stderr io.Writer) int {
	if cfg.TLS.Mode == config.TLSFiles {
		fmt.Fprintln(stderr, "hub: ca "+step+": with tls.mode files the CA is the operator's: rotate it in its PKI and give the hub the new files (docs/SECURITY.md)")
		return 1
	}
	dir := filepath.Join(dataDir, "keys")
	now := time.Now()
	var msg string
	switch step {
	case "rotate":
		ca, err := pki.StageCA(dir, "Bailiff hub CA "+now.UTC().Format("2006-01-02"))
		if err != nil {
			fmt.Fprintln(stderr, "hub: ca rotate:", err)
			return 1
		}
		msg = "next CA " + ca.Fingerprint() + " staged: restart the hub; it trusts both CAs and gives both to agents at enrollment and at their renewal checks. When every agent has checked (12 hours), run hub ca promote"
	case "promote":
		old, err := pki.PromoteCA(dir)
		if err != nil {
			fmt.Fprintln(stderr, "hub: ca promote:", err)
			return 1
		}
		ca, err := pki.LoadCA(filepath.Join(dir, pki.CACertFile), "")
		if err != nil {
			fmt.Fprintln(stderr, "hub: ca promote:", err)
			return 1
		}
		msg = "CA " + ca.Fingerprint() + " now issues; the old CA " + old + " is still trusted (ca-previous.pem; its key is kept, for revocation lists, until retire). Restart the hub; agents get new certificates at their next check. When they all have, run hub ca retire"
	case "retire":
		retired, err := pki.RetirePreviousCAs(dir, now)
		if err != nil {
			fmt.Fprintln(stderr, "hub: ca retire:", err)
			return 1
		}
		if retired == "" {
			fmt.Fprintln(stderr, "hub: ca retire: no previous CA is trusted")
			return 1
		}
		msg = "the previous CA is no longer trusted; its certificate and key moved to " + retired + " (keep the key offline or destroy it); restart the hub"
	default:
		fmt.Fprintln(stderr, "hub ca rotate|promote|retire")
		return 2
	}
	record(audit.CARotate, step, audit.OK, msg)
	fmt.Fprintln(stdout, msg)
	return 0
}
