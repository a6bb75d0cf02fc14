// Package ota is the firmware image format of the firmware bridge, shared by the hub (which
// signs images), the agent (which checks and sends them) and devices (which verify them):
// a Manifest names the device type, version, size and SHA-256 of an image and carries an
// ed25519 signature over its canonical bytes (docs/FIRMWARE-PROTOCOL.md §3.6, update-begin).
package ota

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/bailiff/bailiff/firmware-bridge/frame"
)

// Domain starts the signed bytes of every manifest.
const Domain = "bailiff-fw-v1"

// MaxImage is the largest image accepted (16 MiB: far more than a microcontroller's flash).
const MaxImage = 16 << 20

// Errors of verification; each refusal wraps one.
var (
	ErrBadSignature = errors.New("ota: bad signature")
	ErrBadHash      = errors.New("ota: image does not match the manifest's SHA-256")
	ErrSize         = errors.New("ota: image size does not match the manifest")
	ErrWrongType    = errors.New("ota: image is for another device type")
	ErrDowngrade    = errors.New("ota: image is not newer than the running firmware")
	ErrInvalid      = errors.New("ota: invalid manifest")
)

// Manifest describes one firmware image.
type Manifest struct {
	DeviceType string        `json:"device_type"`
	Version    frame.Version `json:"-"`
	Size       uint32        `json:"size"`
	SHA256     [32]byte      `json:"-"`
	Signature  []byte        `json:"-"`
	// MinVersion, when set, is the oldest running firmware that may take this image (not
	// signed: the hub enforces it when it plans a rollout).
	MinVersion *frame.Version `json:"-"`
}

// manifestJSON is a Manifest as JSON: versions as "1.2.3", hashes and signatures in hex.
type manifestJSON struct {
	DeviceType string `json:"device_type"`
	Version    string `json:"version"`
	Size       uint32 `json:"size"`
	SHA256     string `json:"sha256"`
	Signature  string `json:"signature,omitempty"`
	MinVersion string `json:"min_version,omitempty"`
}

// MarshalJSON writes the manifest with hex hashes and "1.2.3" versions.
func (m Manifest) MarshalJSON() ([]byte, error) {
	j := manifestJSON{DeviceType: m.DeviceType, Version: m.Version.String(), Size: m.Size,
		SHA256: hex.EncodeToString(m.SHA256[:]), Signature: hex.EncodeToString(m.Signature)}
	if m.MinVersion != nil {
		j.MinVersion = m.MinVersion.String()
	}
	return json.Marshal(j)
}

// UnmarshalJSON reads what MarshalJSON writes, checking every member.
func (m *Manifest) UnmarshalJSON(b []byte) error {
	var j manifestJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	v, err := ParseVersion(j.Version)
	if err != nil {
		return err
	}
	h, err := hex.DecodeString(j.SHA256)
	if err != nil || len(h) != 32 {
		return fmt.Errorf("%w: sha256 %q: want 64 hex digits", ErrInvalid, j.SHA256)
	}
	sig, err := hex.DecodeString(j.Signature)
	if err != nil || (len(sig) != 0 && len(sig) != ed25519.SignatureSize) {
		return fmt.Errorf("%w: signature: want %d bytes in hex", ErrInvalid, ed25519.SignatureSize)
	}
	out := Manifest{DeviceType: j.DeviceType, Version: v, Size: j.Size, Signature: sig}
	copy(out.SHA256[:], h)
	if j.MinVersion != "" {
		mv, err := ParseVersion(j.MinVersion)
		if err != nil {
			return err
		}
		out.MinVersion = &mv
	}
	if err := out.Check(); err != nil {
		return err
	}
	*m = out
	return nil
}

// ParseVersion reads "major.minor.patch", each 0…65535.
func ParseVersion(s string) (frame.Version, error) {
	parts := strings.Split(s, ".")
	if len(parts) != 3 {
		return frame.Version{}, fmt.Errorf("%w: version %q: want major.minor.patch", ErrInvalid, s)
	}
	var n [3]uint16
	for i, p := range parts {
		v, err := strconv.ParseUint(p, 10, 16)
		if err != nil || p == "" || (len(p) > 1 && p[0] == '0') {
			return frame.Version{}, fmt.Errorf("%w: version %q: %q is not a number 0…65535", ErrInvalid, s, p)
		}
		n[i] = uint16(v)
	}
	return frame.Version{Major: n[0], Minor: n[1], Patch: n[2]}, nil
}

// Check reports a manifest that no device could take: a device type out of the protocol's
// alphabet, an empty or too large image.
func (m Manifest) Check() error {
	if m.DeviceType == "" || len(m.DeviceType) > frame.MaxString {
		return fmt.Errorf("%w: device type %q: want 1…%d characters", ErrInvalid, m.DeviceType, frame.MaxString)
	}
	for _, c := range []byte(m.DeviceType) {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return fmt.Errorf("%w: device type %q: only a-z, 0-9 and -", ErrInvalid, m.DeviceType)
		}
	}
	if m.Size == 0 || m.Size > MaxImage {
		return fmt.Errorf("%w: size %d: want 1…%d bytes", ErrInvalid, m.Size, MaxImage)
	}
	return nil
}

// SignedBytes are the bytes the signature covers: Domain ‖ str8 device type ‖ u16 major, minor,
// patch ‖ u32 size ‖ sha256, little-endian.
func (m Manifest) SignedBytes() []byte {
	b := make([]byte, 0, len(Domain)+1+len(m.DeviceType)+6+4+32)
	b = append(b, Domain...)
	b = append(append(b, byte(len(m.DeviceType))), m.DeviceType...)
	b = binary.LittleEndian.AppendUint16(b, m.Version.Major)
	b = binary.LittleEndian.AppendUint16(b, m.Version.Minor)
	b = binary.LittleEndian.AppendUint16(b, m.Version.Patch)
	b = binary.LittleEndian.AppendUint32(b, m.Size)
	return append(b, m.SHA256[:]...)
}

// New describes image as version v for deviceType and signs it with key.
func New(deviceType string, v frame.Version, image []byte, key ed25519.PrivateKey) (Manifest, error) {
	if len(image) > MaxImage {
		return Manifest{}, fmt.Errorf("%w: image of %d bytes: at most %d", ErrInvalid, len(image), MaxImage)
	}
	m := Manifest{DeviceType: deviceType, Version: v, Size: uint32(len(image)), SHA256: sha256.Sum256(image)}
	if err := m.Check(); err != nil {
		return Manifest{}, err
	}
	m.Signature = ed25519.Sign(key, m.SignedBytes())
	return m, nil
}

// Verify checks the manifest's signature against any of keys.
func (m Manifest) Verify(keys ...ed25519.PublicKey) error {
	if len(m.Signature) != ed25519.SignatureSize {
		return fmt.Errorf("%w: no signature", ErrBadSignature)
	}
	msg := m.SignedBytes()
	for _, k := range keys {
		if len(k) == ed25519.PublicKeySize && ed25519.Verify(k, msg, m.Signature) {
			return nil
		}
	}
	return fmt.Errorf("%w: %s %s not signed by a trusted key", ErrBadSignature, m.DeviceType, m.Version)
}

// CheckImage checks image against the manifest's size and hash.
func (m Manifest) CheckImage(image []byte) error {
	if uint32(len(image)) != m.Size || len(image) > MaxImage {
		return fmt.Errorf("%w: %d bytes, manifest says %d", ErrSize, len(image), m.Size)
	}
	if sha256.Sum256(image) != m.SHA256 {
		return ErrBadHash
	}
	return nil
}

// Accept is what a device decides on an update-begin: the manifest must be signed by a
// trusted key, be for its device type, and be newer than running unless forced.
func (m Manifest) Accept(deviceType string, running frame.Version, force bool, keys ...ed25519.PublicKey) error {
	if m.DeviceType != deviceType {
		return fmt.Errorf("%w: %s, not %s", ErrWrongType, m.DeviceType, deviceType)
	}
	if !force && m.Version.Compare(running) <= 0 {
		return fmt.Errorf("%w: %s, running %s", ErrDowngrade, m.Version, running)
	}
	return m.Verify(keys...)
}

// Begin is the update-begin frame of the manifest.
func (m Manifest) Begin(chunk uint16, force bool) *frame.UpdateBegin {
	b := &frame.UpdateBegin{Size: m.Size, Version: m.Version, ChunkSize: chunk, SHA256: m.SHA256, DeviceType: m.DeviceType}
	copy(b.Signature[:], m.Signature)
	if force {
		b.Flags |= frame.UpdateForce
	}
	return b
}

// FromBegin is the manifest an update-begin frame carries.
func FromBegin(b *frame.UpdateBegin) Manifest {
	return Manifest{DeviceType: b.DeviceType, Version: b.Version, Size: b.Size, SHA256: b.SHA256,
		Signature: append([]byte(nil), b.Signature[:]...)}
}

// ParsePublicKey reads an ed25519 public key in hex.
func ParsePublicKey(s string) (ed25519.PublicKey, error) {
	b, err := hex.DecodeString(strings.TrimSpace(s))
	if err != nil || len(b) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("ota: public key: want %d bytes in hex", ed25519.PublicKeySize)
	}
	return ed25519.PublicKey(b), nil
}

// Reason is the protocol's reason for a verification error (frame.ReasonNone for nil).
func Reason(err error) frame.Reason {
	switch {
	case err == nil:
		return frame.ReasonNone
	case errors.Is(err, ErrBadSignature):
		return frame.ReasonBadSignature
	case errors.Is(err, ErrWrongType):
		return frame.ReasonWrongType
	case errors.Is(err, ErrDowngrade):
		return frame.ReasonDowngrade
	case errors.Is(err, ErrBadHash), errors.Is(err, ErrSize):
		return frame.ReasonBadHash
	}
	return frame.ReasonAborted
}

// ReasonText names a protocol reason as progress reports show it.
func ReasonText(r frame.Reason) string {
	if s, ok := reasonText[r]; ok {
		return s
	}
	return fmt.Sprintf("reason %d", r)
}

var reasonText = map[frame.Reason]string{
	frame.ReasonNone: "", frame.ReasonBadSignature: "bad signature", frame.ReasonWrongType: "wrong device type",
	frame.ReasonDowngrade: "downgrade refused", frame.ReasonBadHash: "bad hash (truncated or corrupted image)",
	frame.ReasonTooLarge: "image too large", frame.ReasonFlashError: "flash write error",
	frame.ReasonAborted: "aborted", frame.ReasonSelfTest: "self-test failed",
	frame.ReasonTimeout: "not confirmed in time", frame.ReasonBusy: "another update in progress",
}
