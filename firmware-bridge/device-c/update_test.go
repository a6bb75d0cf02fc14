package devicec

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bailiff/bailiff/firmware-bridge/frame"
	"github.com/bailiff/bailiff/firmware-bridge/ota"
)

// TestCUpdate runs the C update state machine's unit tests (plain, then with AddressSanitizer
// and UBSan), and checks the C SHA-256 and the C manifest bytes (what the signature covers)
// against Go's on random inputs.
func TestCUpdate(t *testing.T) {
	t.Run("plain", func(t *testing.T) { testCUpdate(t, build(t, false, "test_update")) })
	t.Run("sanitizers", func(t *testing.T) { testCUpdate(t, build(t, true, "test_update")) })
}

func testCUpdate(t *testing.T, bin string) {
	r := rand.New(rand.NewPCG(7, 11))
	var in bytes.Buffer
	var want []string
	for i := 0; i < 200; i++ {
		b := make([]byte, r.IntN(300))
		for j := range b {
			b[j] = byte(r.Uint32())
		}
		h := hex.EncodeToString(b)
		if h == "" {
			h = "-"
		}
		fmt.Fprintf(&in, "sha %s\n", h)
		sum := sha256.Sum256(b)
		want = append(want, hex.EncodeToString(sum[:]))
	}
	for i := 0; i < 50; i++ {
		typ := []string{"tally-light", "call-button", "a", strings.Repeat("z", 32)}[i%4]
		m := ota.Manifest{DeviceType: typ, Version: frame.Version{Major: uint16(r.Uint32()), Minor: uint16(r.Uint32()), Patch: uint16(r.Uint32())},
			Size: r.Uint32()}
		for j := range m.SHA256 {
			m.SHA256[j] = byte(r.Uint32())
		}
		fmt.Fprintf(&in, "manifest %s %d %d %d %d %s\n", typ, m.Version.Major, m.Version.Minor, m.Version.Patch, m.Size, hex.EncodeToString(m.SHA256[:]))
		want = append(want, hex.EncodeToString(m.SignedBytes()))
	}
	path := filepath.Join(t.TempDir(), "cross.txt")
	if err := os.WriteFile(path, in.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, path)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s: %v\n%s", bin, err, stderr.String())
	}
	got := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(got) != len(want) {
		t.Fatalf("%d lines from C, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("line %d: C %s, Go %s", i, got[i], want[i])
		}
	}
}
