package hub

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/bailiff/bailiff/media/record"
)

// The hub's recording key is made once, kept, and in the keyring that verification uses; a
// recording it signs verifies, and one whose manifest is changed does not.
func TestRecordingKeyAndVerify(t *testing.T) {
	data := t.TempDir()
	k1, err := RecordingKey(data)
	if err != nil {
		t.Fatal(err)
	}
	k2, err := RecordingKey(data)
	if err != nil || !k1.Equal(k2) {
		t.Fatalf("second start: a different key (%v)", err)
	}
	if fi, err := os.Stat(filepath.Join(data, recordingKeyFile)); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v %v", fi, err)
	}
	dir := filepath.Join(data, "recordings", "r1")
	rec, err := record.Start(record.Options{Dir: dir, Key: k1, Site: "court", Room: "r1"})
	if err != nil {
		t.Fatal(err)
	}
	rec.Mark("note", "hearing opened")
	if err := rec.Close(); err != nil {
		t.Fatal(err)
	}
	rep, err := VerifyRecording(data, dir)
	if err != nil || !rep.OK() {
		t.Fatalf("verify: %v %v", rep, err)
	}
	// Rotate the key: old recordings still verify through the keyring.
	os.Rename(filepath.Join(data, recordingKeyFile), filepath.Join(data, recordingKeyFile+".old"))
	if k3, err := RecordingKey(data); err != nil || k3.Equal(k1) {
		t.Fatalf("rotation: %v", err)
	}
	if rep, err := VerifyRecording(data, dir); err != nil || !rep.OK() {
		t.Fatalf("verify after rotation: %v %v", rep, err)
	}
	m := filepath.Join(dir, "manifest.jsonl")
	b, _ := os.ReadFile(m)
	b[len(b)/2] ^= 1
	os.WriteFile(m, b, 0o644)
	if rep, err := VerifyRecording(data, dir); err == nil && rep.OK() {
		t.Fatal("a changed manifest verified")
	}
}
