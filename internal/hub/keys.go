package hub

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/bailiff/bailiff/media/record"
)

// Rotation of the hub's ed25519 signing keys (hub keys rotate). The key file is moved to
// keys/retired/ (to be kept offline or destroyed) and a new key made in its place; the public
// half of every key stays in its keyring, so what the old key signed still verifies:
// recordings (whose manifests name their key's fingerprint) through keys/keyring.pem, invites
// (valid until they expire) through keys/invite-keyring.pem. A running hub keeps signing with
// the key it loaded until it restarts.

// RotatableKeys names the keys `hub keys rotate` rotates, and their files.
var RotatableKeys = map[string]struct{ File, Ring string }{
	"recording": {recordingKeyFile, keyringFile},
	"invite":    {inviteKeyFile, inviteKeyringFile},
}

// KeyRotation says what a rotation did.
type KeyRotation struct {
	Old, New string // the keys' fingerprints
	Retired  string // where the old key file went
}

// RotateKey rotates the signing key which ("recording" or "invite") of the data directory.
func RotateKey(dataDir, which string, now time.Time) (KeyRotation, error) {
	k, ok := RotatableKeys[which]
	if !ok {
		return KeyRotation{}, fmt.Errorf("no key %q to rotate: want recording or invite", which)
	}
	old, err := keyWithRing(dataDir, k.File, k.Ring) // made now if there was none; its half in the ring
	if err != nil {
		return KeyRotation{}, err
	}
	r := KeyRotation{Old: record.Fingerprint(old.Public().(ed25519.PublicKey))}
	dir := filepath.Join(dataDir, "keys", "retired")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return r, err
	}
	r.Retired = filepath.Join(dir, fmt.Sprintf("%s-%s-%s.key", which, now.UTC().Format("20060102T150405Z"), r.Old[:16]))
	if _, err := os.Stat(r.Retired); !errors.Is(err, os.ErrNotExist) {
		return r, fmt.Errorf("%s exists already", r.Retired)
	}
	if err := os.Rename(filepath.Join(dataDir, k.File), r.Retired); err != nil {
		return r, err
	}
	key, err := keyWithRing(dataDir, k.File, k.Ring)
	if err != nil {
		return r, err
	}
	r.New = record.Fingerprint(key.Public().(ed25519.PublicKey))
	return r, nil
}
