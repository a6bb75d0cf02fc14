package auth

import (
	"errors"
	"strings"
	"testing"
)

func TestPassword(t *testing.T) {
	h, err := HashPassword("demo")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$") {
		t.Fatalf("hash %q", h)
	}
	if err := CheckPassword(h, "demo"); err != nil {
		t.Errorf("right password: %v", err)
	}
	if err := CheckPassword(h, "Demo"); !errors.Is(err, ErrMismatch) {
		t.Errorf("wrong password: %v", err)
	}
	h2, _ := HashPassword("demo")
	if h2 == h {
		t.Error("two hashes of one password are equal: salt not random")
	}
	for _, bad := range []string{"", "$argon2id$", "$argon2i$v=19$m=1,t=1,p=1$AA$AA", "$argon2id$v=19$m=99999999,t=1,p=1$AA$AA", "$argon2id$v=19$m=8,t=1,p=1$!!$AA"} {
		if err := CheckPassword(bad, "demo"); err == nil || errors.Is(err, ErrMismatch) {
			t.Errorf("CheckPassword(%q) = %v, want a malformed-hash error", bad, err)
		}
	}
}

func TestSecret(t *testing.T) {
	s := NewSecret()
	if len(s) != 43 || NewSecret() == s {
		t.Fatalf("secret %q", s)
	}
	h := HashSecret(s)
	if !CheckSecret(h, s) || CheckSecret(h, s+"x") || CheckSecret("", s) {
		t.Error("CheckSecret")
	}
}

func FuzzCheckPassword(f *testing.F) {
	h, _ := HashPassword("x")
	f.Add(h, "x")
	f.Add("$argon2id$v=19$m=8,t=1,p=1$AAAA$AAAA", "")
	f.Fuzz(func(t *testing.T, hash, pw string) {
		CheckPassword(hash, pw)
	})
}
