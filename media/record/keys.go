package record

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"time"
)

// Fingerprint names a public key: the hex of the first 16 bytes of the
// SHA-256 of its 32 raw bytes. A manifest's header carries it as "key_id".
func Fingerprint(pub ed25519.PublicKey) string {
	h := sha256.Sum256(pub)
	return hex.EncodeToString(h[:16])
}

// LoadOrCreateKey reads the hub's ed25519 signing key from path (PEM,
// "PRIVATE KEY", PKCS #8 — what `openssl genpkey -algorithm ed25519` writes),
// or, when there is no such file, creates one with mode 0600 (and its
// directory with mode 0700). A key file that group or others may read is
// refused, as ssh refuses one.
func LoadOrCreateKey(path string) (ed25519.PrivateKey, error) {
	key, err := loadKey(path)
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		return key, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("record: create key directory: %w", err)
	}
	_, key, err = ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("record: generate key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("record: encode key: %w", err)
	}
	data := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	// Write a temporary file and link it into place, so two hubs starting
	// at once cannot both create a key, and a crash leaves no half key.
	tmp, err := os.CreateTemp(filepath.Dir(path), ".key-*")
	if err != nil {
		return nil, fmt.Errorf("record: create key: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return nil, fmt.Errorf("record: create key: %w", err)
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return nil, fmt.Errorf("record: write key: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return nil, fmt.Errorf("record: write key: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return nil, fmt.Errorf("record: write key: %w", err)
	}
	if err := os.Link(tmp.Name(), path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return loadKey(path) // another process won the race
		}
		return nil, fmt.Errorf("record: create key: %w", err)
	}
	if err := syncDir(filepath.Dir(path)); err != nil {
		return nil, fmt.Errorf("record: create key: %w", err)
	}
	return key, nil
}

func loadKey(path string) (ed25519.PrivateKey, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("%w %s: %w", ErrKeyFile, path, err)
	}
	if st.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("%w %s: mode %#o lets others read it; chmod 600 it", ErrKeyFile, path, st.Mode().Perm())
	}
	data, err := io.ReadAll(io.LimitReader(f, 64<<10))
	if err != nil {
		return nil, fmt.Errorf("%w %s: %w", ErrKeyFile, path, err)
	}
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "PRIVATE KEY" {
		return nil, fmt.Errorf("%w %s: no PEM \"PRIVATE KEY\" block", ErrKeyFile, path)
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%w %s: %w", ErrKeyFile, path, err)
	}
	key, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("%w %s: not an ed25519 key", ErrKeyFile, path)
	}
	return key, nil
}

// Keyring holds the public keys recordings may be verified with, by
// Fingerprint. After a key rotation it keeps the old public keys, so old
// recordings still verify.
type Keyring map[string]ed25519.PublicKey

// Lookup returns the key with the given fingerprint.
func (k Keyring) Lookup(fingerprint string) (ed25519.PublicKey, bool) {
	pub, ok := k[fingerprint]
	return pub, ok
}

// LoadKeyring reads a keyring file: PEM "PUBLIC KEY" blocks (PKIX, what
// `openssl pkey -pubout` writes), one per key, in any number. A missing file
// is an empty keyring.
func LoadKeyring(path string) (Keyring, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return Keyring{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("record: read keyring: %w", err)
	}
	return parseKeyring(data)
}

func parseKeyring(data []byte) (Keyring, error) {
	ring := Keyring{}
	for {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			break
		}
		if block.Type != "PUBLIC KEY" {
			continue
		}
		k, err := x509.ParsePKIXPublicKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("record: keyring: %w", err)
		}
		pub, ok := k.(ed25519.PublicKey)
		if !ok {
			return nil, errors.New("record: keyring: a key is not ed25519")
		}
		ring[Fingerprint(pub)] = pub
	}
	if len(bytes.TrimSpace(data)) != 0 {
		return nil, errors.New("record: keyring: trailing data that is not PEM")
	}
	return ring, nil
}

// AddToKeyring appends pub to the keyring file at path (creating it, mode
// 0644) unless it is there already. The hub calls it with its key's public
// half at every start, so the keyring always has every key it ever used.
func AddToKeyring(path string, pub ed25519.PublicKey) error {
	ring, err := LoadKeyring(path)
	if err != nil {
		return err
	}
	if _, ok := ring[Fingerprint(pub)]; ok {
		return nil
	}
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return fmt.Errorf("record: keyring: %w", err)
	}
	block := &pem.Block{Type: "PUBLIC KEY", Headers: map[string]string{
		"Fingerprint": Fingerprint(pub),
		"Added":       time.Now().UTC().Format(time.RFC3339),
	}, Bytes: der}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("record: keyring: %w", err)
	}
	if _, err := f.Write(pem.EncodeToMemory(block)); err != nil {
		f.Close()
		return fmt.Errorf("record: keyring: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("record: keyring: %w", err)
	}
	return f.Close()
}

// fingerprints lists a keyring's fingerprints in order, for messages.
func (k Keyring) fingerprints() []string {
	var fps []string
	for fp := range k {
		fps = append(fps, fp)
	}
	sort.Strings(fps)
	return fps
}
