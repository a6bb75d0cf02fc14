package ota

import (
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/bailiff/bailiff/firmware-bridge/frame"
)

func key(seed byte) ed25519.PrivateKey {
	s := make([]byte, ed25519.SeedSize)
	s[0] = seed
	return ed25519.NewKeyFromSeed(s)
}

func TestSignVerify(t *testing.T) {
	k := key(1)
	pub := k.Public().(ed25519.PublicKey)
	img := []byte("firmware image bytes")
	m, err := New("tally-light", frame.Version{Major: 1, Minor: 2, Patch: 3}, img, k)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Verify(pub); err != nil {
		t.Fatal(err)
	}
	if err := m.CheckImage(img); err != nil {
		t.Fatal(err)
	}
	if err := m.Verify(key(2).Public().(ed25519.PublicKey)); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("other key: %v", err)
	}
	if err := m.CheckImage(img[:5]); !errors.Is(err, ErrSize) {
		t.Fatalf("truncated: %v", err)
	}
	bad := append([]byte(nil), img...)
	bad[0] ^= 1
	if err := m.CheckImage(bad); !errors.Is(err, ErrBadHash) {
		t.Fatalf("corrupted: %v", err)
	}
	// Every signed member matters.
	for name, mut := range map[string]func(*Manifest){
		"type":    func(m *Manifest) { m.DeviceType = "sign" },
		"version": func(m *Manifest) { m.Version.Patch++ },
		"size":    func(m *Manifest) { m.Size++ },
		"hash":    func(m *Manifest) { m.SHA256[3] ^= 1 },
	} {
		c := m
		mut(&c)
		if err := c.Verify(pub); !errors.Is(err, ErrBadSignature) {
			t.Errorf("%s changed: %v", name, err)
		}
	}
	// The manifest travels in an update-begin unchanged.
	if got := FromBegin(m.Begin(256, false)); got.Verify(pub) != nil || string(got.SignedBytes()) != string(m.SignedBytes()) {
		t.Fatal("begin round trip")
	}
	// Accept: type, downgrade, force.
	run := frame.Version{Major: 1, Minor: 2, Patch: 3}
	if err := m.Accept("tally-light", run, false, pub); !errors.Is(err, ErrDowngrade) {
		t.Fatalf("same version: %v", err)
	}
	if err := m.Accept("tally-light", run, true, pub); err != nil {
		t.Fatalf("forced: %v", err)
	}
	if err := m.Accept("sign", frame.Version{}, false, pub); !errors.Is(err, ErrWrongType) {
		t.Fatalf("wrong type: %v", err)
	}
}

func TestJSON(t *testing.T) {
	m, _ := New("tally-light", frame.Version{Major: 2}, []byte("x"), key(1))
	mv := frame.Version{Major: 1, Minor: 5}
	m.MinVersion = &mv
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	var back Manifest
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back.Verify(key(1).Public().(ed25519.PublicKey)) != nil || *back.MinVersion != mv {
		t.Fatalf("round trip %s", b)
	}
	for _, bad := range []string{
		`{"device_type":"Tally","version":"1.0.0","size":1,"sha256":"` + strings.Repeat("0", 64) + `"}`,
		`{"device_type":"t","version":"1.0","size":1,"sha256":"` + strings.Repeat("0", 64) + `"}`,
		`{"device_type":"t","version":"1.0.0","size":0,"sha256":"` + strings.Repeat("0", 64) + `"}`,
		`{"device_type":"t","version":"1.0.0","size":1,"sha256":"00"}`,
		`{"device_type":"t","version":"1.0.0","size":1,"sha256":"` + strings.Repeat("0", 64) + `","signature":"zz"}`,
		`[]`,
	} {
		if err := json.Unmarshal([]byte(bad), &back); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: %v", bad, err)
		}
	}
}

func TestParseVersion(t *testing.T) {
	for in, ok := range map[string]bool{"1.2.3": true, "0.0.0": true, "65535.0.1": true, "65536.0.0": false,
		"1.2": false, "1.2.3.4": false, "01.2.3": false, "a.b.c": false, "": false, "1..3": false, "-1.0.0": false} {
		if _, err := ParseVersion(in); (err == nil) != ok {
			t.Errorf("%q: %v", in, err)
		}
	}
}

// FuzzManifestJSON: decoding any bytes never panics, and what decodes encodes back to the same.
func FuzzManifestJSON(f *testing.F) {
	m, _ := New("tally-light", frame.Version{Major: 1, Minor: 1}, []byte("image"), key(1))
	b, _ := json.Marshal(m)
	f.Add(b)
	f.Add([]byte(`{"device_type":"t","version":"1.0.0","size":1,"sha256":"00"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var m Manifest
		if err := json.Unmarshal(b, &m); err != nil {
			return
		}
		out, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		var again Manifest
		if err := json.Unmarshal(out, &again); err != nil || string(again.SignedBytes()) != string(m.SignedBytes()) {
			t.Fatalf("round trip of %s: %v", out, err)
		}
	})
}
