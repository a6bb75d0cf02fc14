package record

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/pion/rtp"
)

func opusTestPacket(seq uint16) *rtp.Packet {
	return &rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: seq, Timestamp: uint32(seq) * 960, SSRC: 1},
		Payload: []byte{0xf8, 0xff, 0xfe}}
}

func TestLoadOrCreateKey(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys", "recording.key")
	k1, err := LoadOrCreateKey(path)
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %#o, want 0600", st.Mode().Perm())
	}
	if st, _ := os.Stat(filepath.Dir(path)); st.Mode().Perm() != 0o700 {
		t.Errorf("key directory mode %#o, want 0700", st.Mode().Perm())
	}
	k2, err := LoadOrCreateKey(path)
	if err != nil {
		t.Fatal(err)
	}
	if !k1.Equal(k2) {
		t.Errorf("the key changed when loaded again")
	}
	pem, _ := os.ReadFile(path)
	if !bytes.HasPrefix(pem, []byte("-----BEGIN PRIVATE KEY-----")) {
		t.Errorf("not a PEM private key:\n%s", pem)
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadOrCreateKey(path); !errors.Is(err, ErrKeyFile) {
		t.Errorf("a world-readable key was accepted: %v", err)
	}
	bad := filepath.Join(t.TempDir(), "bad.key")
	os.WriteFile(bad, []byte("not a key"), 0o600)
	if _, err := LoadOrCreateKey(bad); !errors.Is(err, ErrKeyFile) {
		t.Errorf("garbage accepted as a key: %v", err)
	}
}

// Key rotation: recordings signed with an old key verify through the
// keyring after the hub has moved on to a new key.
func TestKeyRotation(t *testing.T) {
	dir := t.TempDir()
	keyPath, ring := filepath.Join(dir, "recording.key"), filepath.Join(dir, "keyring.pem")
	old, err := LoadOrCreateKey(keyPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := AddToKeyring(ring, old.Public().(ed25519.PublicKey)); err != nil {
		t.Fatal(err)
	}
	rec1 := filepath.Join(dir, "rec1")
	r, err := Start(Options{Dir: rec1, Key: old, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	r.Mark("note", "signed with the old key")
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}

	// Rotate: the old key file goes, a new one is made.
	if err := os.Rename(keyPath, keyPath+".retired"); err != nil {
		t.Fatal(err)
	}
	cur, err := LoadOrCreateKey(keyPath)
	if err != nil {
		t.Fatal(err)
	}
	if cur.Equal(old) {
		t.Fatal("no new key")
	}
	for range 2 { // adding twice keeps one copy
		if err := AddToKeyring(ring, cur.Public().(ed25519.PublicKey)); err != nil {
			t.Fatal(err)
		}
	}
	rec2 := filepath.Join(dir, "rec2")
	r, err = Start(Options{Dir: rec2, Key: cur, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}

	keys, err := LoadKeyring(ring)
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 2 {
		t.Fatalf("keyring has %d keys, want 2", len(keys))
	}
	for _, d := range []string{rec1, rec2} {
		rep, err := VerifyWithKeyring(d, keys)
		if err != nil || !rep.OK() {
			t.Errorf("%s: %v\n%s", d, err, rep)
		}
	}
	// Without the old key in the keyring, the old recording fails clearly.
	delete(keys, Fingerprint(old.Public().(ed25519.PublicKey)))
	rep, err := VerifyWithKeyring(rec1, keys)
	if err != nil {
		t.Fatal(err)
	}
	if rep.OK() || rep.Problems[0].Kind != ProblemKey {
		t.Errorf("want a key problem:\n%s", rep)
	}
}

func TestStartRefusesUsedDir(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "x"), nil, 0o644)
	if _, err := Start(Options{Dir: dir, Key: testKey(), Logger: quietLogger()}); !errors.Is(err, ErrExists) {
		t.Errorf("got %v, want ErrExists", err)
	}
}

func TestAddTrackErrors(t *testing.T) {
	r, err := Start(Options{Dir: filepath.Join(t.TempDir(), "r"), Key: testKey(), Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		tr   Track
		want error
	}{
		{Track{ID: "../x", MimeType: MimeTypeOpus}, ErrBadID},
		{Track{ID: "", MimeType: MimeTypeOpus}, ErrBadID},
		{Track{ID: "a", MimeType: "video/AV1"}, ErrUnsupportedCodec},
		{Track{ID: "a", Kind: Audio, MimeType: MimeTypeVP8}, ErrUnsupportedCodec},
	} {
		if _, err := r.AddTrack(tc.tr); !errors.Is(err, tc.want) {
			t.Errorf("%+v: got %v, want %v", tc.tr, err, tc.want)
		}
	}
	tw, err := r.AddTrack(Track{ID: "a", MimeType: "AUDIO/OPUS"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.AddTrack(Track{ID: "a", MimeType: MimeTypeOpus}); !errors.Is(err, ErrDuplicateTrack) {
		t.Errorf("duplicate: %v", err)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := tw.WriteRTP(opusTestPacket(1)); !errors.Is(err, ErrClosed) {
		t.Errorf("WriteRTP after Close: %v", err)
	}
	if _, err := r.AddTrack(Track{ID: "a", MimeType: MimeTypeOpus}); err != nil {
		t.Errorf("add again after close: %v", err)
	}
	if err := r.Mark("Bad Kind", ""); !errors.Is(err, ErrBadID) {
		t.Errorf("bad marker kind: %v", err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); !errors.Is(err, ErrClosed) {
		t.Errorf("second Close: %v", err)
	}
	if err := r.Mark("note", "late"); !errors.Is(err, ErrClosed) {
		t.Errorf("Mark after Close: %v", err)
	}
}
