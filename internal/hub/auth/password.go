// Package auth hashes and checks the hub's secrets: people's passwords (argon2id), agents'
// and API tokens (random, high-entropy, stored as SHA-256), and the roles of API users.
package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/argon2"
)

// argon2id parameters (RFC 9106 second recommended option, memory reduced for a hub that
// also checks MQTT observer logins): 19 MiB, 2 passes, 1 lane.
const (
	argonTime    = 2
	argonMemory  = 19 * 1024
	argonThreads = 1
	argonKeyLen  = 32
)

// ErrMismatch is returned when a password does not match its hash.
var ErrMismatch = errors.New("auth: password does not match")

// HashPassword returns the argon2id PHC string of password with a fresh salt.
func HashPassword(password string) (string, error) {
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("auth: salt: %w", err)
	}
	key := argon2.IDKey([]byte(password), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads,
		b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// CheckPassword reports nil when password matches the PHC string hash, ErrMismatch when it
// does not, and another error when hash is malformed.
func CheckPassword(hash, password string) error {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return errors.New("auth: not an argon2id hash")
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return errors.New("auth: unsupported argon2 version")
	}
	var m uint32
	var t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil || m == 0 || m > 1<<16 || t == 0 || t > 16 || p == 0 {
		return errors.New("auth: bad argon2 parameters")
	}
	b64 := base64.RawStdEncoding
	salt, err := b64.DecodeString(parts[4])
	if err != nil {
		return errors.New("auth: bad salt")
	}
	want, err := b64.DecodeString(parts[5])
	if err != nil || len(want) == 0 || len(want) > 64 {
		return errors.New("auth: bad key")
	}
	got := argon2.IDKey([]byte(password), salt, t, m, p, uint32(len(want)))
	if subtle.ConstantTimeCompare(got, want) != 1 {
		return ErrMismatch
	}
	return nil
}

// NewSecret returns a random secret of 32 bytes, URL-safe base64 (43 characters): agent
// passwords and API tokens.
func NewSecret() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic("auth: crypto/rand failed: " + err.Error())
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// HashSecret hashes a high-entropy secret (from NewSecret) for storage. A fast hash is right
// here: 256 random bits cannot be guessed, and a broker checks one per connect.
func HashSecret(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return "sha256:" + hex.EncodeToString(sum[:])
}

// CheckSecret reports whether secret matches hash (from HashSecret), in constant time.
func CheckSecret(hash, secret string) bool {
	return subtle.ConstantTimeCompare([]byte(hash), []byte(HashSecret(secret))) == 1
}

// Roles of API users.
const (
	RoleTechnician = "technician"
	RoleJudge      = "judge"
	RoleClerk      = "clerk"
	RoleMonitor    = "monitor"
	RoleVisitor    = "visitor"
	// RoleKiosk is a ticket kiosk's login: it may issue queue tickets and read the live
	// queue, and nothing else.
	RoleKiosk = "kiosk"
)

// ValidRole reports whether r is a role.
func ValidRole(r string) bool {
	switch r {
	case RoleTechnician, RoleJudge, RoleClerk, RoleMonitor, RoleVisitor, RoleKiosk:
		return true
	}
	return false
}

// CanCommand reports whether a role may send device commands and run scenes.
func CanCommand(role string) bool {
	switch role {
	case RoleTechnician, RoleJudge, RoleClerk:
		return true
	}
	return false
}

// CanView reports whether a role may read rooms, devices and events.
func CanView(role string) bool {
	return role != RoleVisitor && role != RoleKiosk && ValidRole(role)
}

// CanIssueTicket reports whether a role may issue queue tickets: kiosks and window staff.
func CanIssueTicket(role string) bool {
	return role == RoleKiosk || CanOperateQueue(role)
}

// CanOperateQueue reports whether a role may work a queue's windows (call, recall, no-show,
// transfer, complete).
func CanOperateQueue(role string) bool {
	return role == RoleClerk || role == RoleTechnician
}

// CanSeeQueue reports whether a role may read a live queue: every role that views rooms, and
// kiosks (which show the services and how many wait).
func CanSeeQueue(role string) bool {
	return role == RoleKiosk || CanView(role)
}
