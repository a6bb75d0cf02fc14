// Package invite makes and checks visitor invite tokens: a remote party's whole credential,
// scoped to one room, one hearing and the visitor role, with an expiry, signed with the hub's
// ed25519 invite key (kept in the data directory).
//
// A token is "invite." + base64url(claims JSON) + "." + base64url(signature), where the
// signature is ed25519 over "bailiff-invite-v1." followed by the claims part as sent. A valid
// signature is not enough: the hub also keeps every invite it issued in its store, and refuses
// a token whose invite is revoked or unknown.
package invite

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/bailiff/bailiff/internal/wire"
)

// Prefix starts every invite token.
const Prefix = "invite."

// StreamPrefix starts the names of every stream a visitor publishes.
const StreamPrefix = "visitor-"

// Limits.
const (
	MaxTokenLen   = 2048
	MaxHearingLen = 200 // characters
	MaxNameLen    = 200 // characters
	MinLifetime   = time.Minute
	MaxLifetime   = 30 * 24 * time.Hour
)

// sigContext separates invite signatures from anything else the key could sign.
const sigContext = "bailiff-invite-v1."

// ErrInvalid is wrapped by every error of Parse.
var ErrInvalid = errors.New("invite: invalid token")

// Claims are what an invite grants.
type Claims struct {
	ID      string    // 16 hex digits
	Site    string    // the room the visitor may join
	Room    string    //
	Hearing string    // the hearing it is for (opaque to this package)
	Name    string    // the visitor's name as shown to the court
	Expires time.Time // whole seconds
}

// wireClaims is the JSON of the claims part.
type wireClaims struct {
	V       int    `json:"v"`
	ID      string `json:"id"`
	Site    string `json:"site"`
	Room    string `json:"room"`
	Hearing string `json:"hearing"`
	Name    string `json:"name"`
	Exp     int64  `json:"exp"`
}

// NewID returns a random invite ID.
func NewID() string {
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		panic("invite: crypto/rand failed: " + err.Error())
	}
	return hex.EncodeToString(b)
}

// ValidID reports whether id is an invite ID: 16 lower-case hex digits.
func ValidID(id string) bool {
	if len(id) != 16 {
		return false
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// Check says what is wrong with claims, or nil.
func (c Claims) Check() error {
	if !ValidID(c.ID) {
		return fmt.Errorf("id %q: want 16 hex digits", c.ID)
	}
	if err := wire.CheckID("site", c.Site); err != nil {
		return err
	}
	if err := wire.CheckID("room", c.Room); err != nil {
		return err
	}
	if err := CheckText("hearing", c.Hearing, MaxHearingLen); err != nil {
		return err
	}
	if err := CheckText("name", c.Name, MaxNameLen); err != nil {
		return err
	}
	if c.Expires.IsZero() {
		return errors.New("no expiry")
	}
	return nil
}

// CheckText checks a required one-line text of at most max characters.
func CheckText(what, s string, max int) error {
	switch {
	case strings.TrimSpace(s) == "":
		return fmt.Errorf("%s is required", what)
	case !utf8.ValidString(s):
		return fmt.Errorf("%s is not valid UTF-8", what)
	case utf8.RuneCountInString(s) > max:
		return fmt.Errorf("%s is longer than %d characters", what, max)
	case strings.ContainsFunc(s, unicode.IsControl):
		return fmt.Errorf("%s must not contain control characters such as line breaks", what)
	}
	return nil
}

// Sign makes the token of claims.
func Sign(key ed25519.PrivateKey, c Claims) (string, error) {
	if err := c.Check(); err != nil {
		return "", fmt.Errorf("invite: %w", err)
	}
	b, err := json.Marshal(wireClaims{V: 1, ID: c.ID, Site: c.Site, Room: c.Room, Hearing: c.Hearing, Name: c.Name, Exp: c.Expires.Unix()})
	if err != nil {
		return "", fmt.Errorf("invite: %w", err)
	}
	body := base64.RawURLEncoding.EncodeToString(b)
	sig := ed25519.Sign(key, []byte(sigContext+body))
	tok := Prefix + body + "." + base64.RawURLEncoding.EncodeToString(sig)
	if len(tok) > MaxTokenLen {
		return "", errors.New("invite: the token would be too long: shorten the hearing or the name")
	}
	return tok, nil
}

// Unverified reads the claims of a token without checking its signature or expiry: only for
// a token already checked with Parse.
func Unverified(token string) (Claims, error) {
	return parse(nil, token, time.Time{})
}

// Parse checks a token's form and signature and that it has not expired at now, and returns
// its claims. Every error wraps ErrInvalid. Revocation is the caller's to check.
func Parse(pub ed25519.PublicKey, token string, now time.Time) (Claims, error) {
	if len(pub) != ed25519.PublicKeySize {
		return Claims{}, fmt.Errorf("%w: no key to check it with", ErrInvalid)
	}
	return parse(pub, token, now)
}

// ParseKeyring is Parse for a token signed with any of keys: the hub's current invite key
// and those it used before a rotation, so invites issued before it stay valid.
func ParseKeyring(keys []ed25519.PublicKey, token string, now time.Time) (Claims, error) {
	if len(keys) == 0 {
		return Claims{}, fmt.Errorf("%w: no key to check it with", ErrInvalid)
	}
	var c Claims
	var err error
	for _, k := range keys {
		if len(k) != ed25519.PublicKeySize {
			continue
		}
		if c, err = parse(k, token, now); !errors.Is(err, errBadSignature) {
			return c, err
		}
	}
	return c, err
}

// errBadSignature is the error of a signature that does not verify with the key.
var errBadSignature = fmt.Errorf("%w: bad signature", ErrInvalid)

// parse is Parse; a nil pub skips the signature and a zero now the expiry.
func parse(pub ed25519.PublicKey, token string, now time.Time) (Claims, error) {
	bad := func(format string, args ...any) (Claims, error) {
		return Claims{}, fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
	}
	if len(token) > MaxTokenLen {
		return bad("longer than %d bytes", MaxTokenLen)
	}
	rest, ok := strings.CutPrefix(token, Prefix)
	if !ok {
		return bad("not an invite token")
	}
	// Only the base64url alphabet: Go's decoder skips line breaks, which would let one
	// invite be written many ways.
	for i := 0; i < len(rest); i++ {
		if c := rest[i]; !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return bad("a character outside base64url at byte %d", len(Prefix)+i)
		}
	}
	body, sigPart, ok := strings.Cut(rest, ".")
	if !ok || body == "" || strings.Contains(sigPart, ".") {
		return bad("want invite.CLAIMS.SIGNATURE")
	}
	sig, err := base64.RawURLEncoding.Strict().DecodeString(sigPart)
	if err != nil || len(sig) != ed25519.SignatureSize {
		return bad("bad signature encoding")
	}
	if pub != nil && !ed25519.Verify(pub, []byte(sigContext+body), sig) {
		return Claims{}, errBadSignature
	}
	raw, err := base64.RawURLEncoding.Strict().DecodeString(body)
	if err != nil {
		return bad("bad claims encoding")
	}
	var w wireClaims
	d := json.NewDecoder(bytes.NewReader(raw))
	d.DisallowUnknownFields()
	if err := d.Decode(&w); err != nil || d.More() {
		return bad("bad claims")
	}
	if w.V != 1 {
		return bad("unknown version %d", w.V)
	}
	c := Claims{ID: w.ID, Site: w.Site, Room: w.Room, Hearing: w.Hearing, Name: w.Name, Expires: time.Unix(w.Exp, 0).UTC()}
	if err := c.Check(); err != nil {
		return bad("%v", err)
	}
	if !now.IsZero() && !now.Before(c.Expires) {
		return bad("expired at %s", c.Expires.Format(time.RFC3339))
	}
	return c, nil
}

// Stream is the name of the stream an invite's visitor publishes; it may also publish names
// that add "-" and a suffix to it (a second camera, a shared screen).
func Stream(id string) string { return StreamPrefix + id }

// MayPublish reports whether the visitor of c may publish stream in site/room: only in the
// invite's room, only under its own stream name.
func (c Claims) MayPublish(site, room, stream string) bool {
	own := Stream(c.ID)
	return c.MayView(site, room) && (stream == own || strings.HasPrefix(stream, own+"-"))
}

// MayView reports whether the visitor of c may watch a stream of site/room: any stream of the
// invite's room, nothing else.
func (c Claims) MayView(site, room string) bool { return site == c.Site && room == c.Room }
