package invite

import (
	"crypto/ed25519"
	"errors"
	"strings"
	"testing"
	"time"
)

var testKey = ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize))

func claims() Claims {
	return Claims{ID: "0123456789abcdef", Site: "court", Room: "r1", Hearing: "2026-cv-17", Name: "A. Witness",
		Expires: time.Unix(1_800_000_000, 0).UTC()}
}

func TestSignParse(t *testing.T) {
	c := claims()
	tok, err := Sign(testKey, c)
	if err != nil {
		t.Fatal(err)
	}
	pub := testKey.Public().(ed25519.PublicKey)
	got, err := Parse(pub, tok, c.Expires.Add(-time.Second))
	if err != nil || got != c {
		t.Fatalf("Parse = %+v, %v", got, err)
	}
	if _, err := Parse(pub, tok, c.Expires); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "expired") {
		t.Errorf("expired: %v", err)
	}
	other := ed25519.NewKeyFromSeed([]byte(strings.Repeat("k", ed25519.SeedSize))).Public().(ed25519.PublicKey)
	if _, err := Parse(other, tok, c.Expires.Add(-time.Hour)); !errors.Is(err, ErrInvalid) {
		t.Errorf("another hub's key: %v", err)
	}
	// A changed claim (another room) under the old signature fails.
	forged := claims()
	forged.Room = "r2"
	ftok, _ := Sign(testKey, forged)
	mixed := tok[:strings.LastIndexByte(tok, '.')]
	mixed = Prefix + ftok[len(Prefix):strings.LastIndexByte(ftok, '.')] + tok[len(mixed):]
	if _, err := Parse(pub, mixed, c.Expires.Add(-time.Hour)); !errors.Is(err, ErrInvalid) {
		t.Errorf("claims swapped under a signature: %v", err)
	}
	for _, bad := range []string{"", "invite.", "invite..", "invite.a.b.c", "agent.a.b.c", tok + "x", tok[:len(tok)-2]} {
		if _, err := Parse(pub, bad, c.Expires.Add(-time.Hour)); !errors.Is(err, ErrInvalid) {
			t.Errorf("%q: %v", bad, err)
		}
	}
	if u, err := Unverified(tok); err != nil || u.ID != c.ID {
		t.Errorf("Unverified: %+v %v", u, err)
	}
}

func TestScope(t *testing.T) {
	c := claims()
	for _, tc := range []struct {
		site, room, stream string
		pub, view          bool
	}{
		{"court", "r1", "visitor-0123456789abcdef", true, true},
		{"court", "r1", "visitor-0123456789abcdef-screen", true, true},
		{"court", "r1", "visitor-0123456789abcdefx", false, true},
		{"court", "r1", "visitor-fedcba9876543210", false, true},
		{"court", "r1", "program", false, true},
		{"court", "r2", "visitor-0123456789abcdef", false, false},
		{"other", "r1", "visitor-0123456789abcdef", false, false},
	} {
		if got := c.MayPublish(tc.site, tc.room, tc.stream); got != tc.pub {
			t.Errorf("MayPublish(%s/%s/%s) = %v", tc.site, tc.room, tc.stream, got)
		}
		if got := c.MayView(tc.site, tc.room); got != tc.view {
			t.Errorf("MayView(%s/%s) = %v", tc.site, tc.room, got)
		}
	}
}

// FuzzParse: any token is refused or gives claims that pass Check, that the hub's key signed,
// and that sign back to the same token.
func FuzzParse(f *testing.F) {
	tok, _ := Sign(testKey, claims())
	f.Add(tok)
	f.Add("invite.e30.AAAA")
	f.Add("agent.court.r1.secret")
	pub := testKey.Public().(ed25519.PublicKey)
	now := time.Unix(1_700_000_000, 0)
	f.Fuzz(func(t *testing.T, s string) {
		c, err := Parse(pub, s, now)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error does not wrap ErrInvalid: %v", err)
			}
			return
		}
		if err := c.Check(); err != nil || !now.Before(c.Expires) {
			t.Fatalf("accepted bad claims %+v: %v", c, err)
		}
		if again, err := Sign(testKey, c); err != nil || again != s {
			t.Fatalf("accepted a token the hub would not have made: %q (re-signed %q, %v)", s, again, err)
		}
	})
}
