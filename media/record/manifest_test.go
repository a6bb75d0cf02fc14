package record

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite testdata/golden from the code")

const goldenDir = "testdata/golden"

// goldenFiles are the stand-in segment files of the golden recording.
var goldenFiles = []string{"cam1-000000.webm", "mic1-000000.webm", "cam1-000001.webm", "mic1-000001.webm"}

func goldenContent(name string) []byte {
	return bytes.Repeat([]byte("bytes of "+name+"\n"), 40)
}

// writeGolden writes the golden recording into dir: a manifest made
// through the same writer the recorder uses, at fixed times, with the
// fixed test key, and four small files standing in for segments.
func writeGolden(t *testing.T, dir string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, name := range goldenFiles {
		if err := os.WriteFile(filepath.Join(dir, name), goldenContent(name), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	f, err := os.Create(filepath.Join(dir, ManifestName))
	if err != nil {
		t.Fatal(err)
	}
	key := testKey()
	pub := key.Public().(ed25519.PublicKey)
	m := &manifestWriter{f: f, key: key}
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	seg := func(s int, track, kind string, index int) *Entry {
		name := fmt.Sprintf("%s-%06d.webm", track, index)
		sum, n, err := hashFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		return &Entry{Type: EntrySegment, At: at(s), Track: track, Kind: kind, Index: index, File: name,
			Start: at(60 * index), End: at(60 * (index + 1)), DurationMS: 60000, Frames: 1800,
			Bytes: n, SHA256: sum}
	}
	entries := []*Entry{
		{Type: EntryHeader, At: at(0), Recording: "golden-1", Site: "main", Room: "court-1",
			Key: fmt.Sprintf("%x", []byte(pub)), KeyID: Fingerprint(pub), SegmentMS: 60000},
		{Type: EntryTrack, At: at(0), Track: "cam1", Kind: "video", Codec: MimeTypeVP8, ClockRate: 90000},
		{Type: EntryTrack, At: at(0), Track: "mic1", Kind: "audio", Codec: MimeTypeOpus, ClockRate: 48000, Channels: 2},
		{Type: EntryOpen, At: at(0), Track: "cam1", Kind: "video", Index: 0, File: "cam1-000000.webm"},
		{Type: EntryOpen, At: at(0), Track: "mic1", Kind: "audio", Index: 0, File: "mic1-000000.webm"},
		{Type: EntryMarker, At: at(5), Marker: "note", Text: "hearing opened <court 1> & \"quoted\""},
		{Type: EntryOpen, At: at(60), Track: "cam1", Kind: "video", Index: 1, File: "cam1-000001.webm"},
		seg(60, "cam1", "video", 0),
		{Type: EntryOpen, At: at(60), Track: "mic1", Kind: "audio", Index: 1, File: "mic1-000001.webm"},
		seg(60, "mic1", "audio", 0),
		{Type: EntryMarker, At: at(70), Marker: "privacy-start", Text: "sealed testimony"},
		{Type: EntryMarker, At: at(90), Marker: "privacy-end"},
		seg(120, "cam1", "video", 1),
		seg(120, "mic1", "audio", 1),
		{Type: EntryEnd, At: at(120)},
	}
	for _, e := range entries {
		if err := m.append(e); err != nil {
			t.Fatal(err)
		}
	}
	if err := m.close(); err != nil {
		t.Fatal(err)
	}
}

func TestGoldenManifest(t *testing.T) {
	dir := t.TempDir()
	writeGolden(t, dir)
	if *update {
		os.RemoveAll(goldenDir)
		writeGolden(t, goldenDir)
	}
	got, err := os.ReadFile(filepath.Join(dir, ManifestName))
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile(filepath.Join(goldenDir, ManifestName))
	if err != nil {
		t.Fatalf("%v (run go test -run TestGoldenManifest -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("the manifest writer's output changed; if that is meant, run with -update and review the diff\ngot:\n%s\nwant:\n%s", got, want)
	}

	rep, err := Verify(goldenDir, testKey().Public().(ed25519.PublicKey))
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() || !rep.Closed || rep.Tampered() || rep.Crashed() {
		t.Fatalf("golden recording does not verify:\n%s", rep)
	}
	if rep.Recording != "golden-1" || rep.Room != "court-1" || rep.Entries != 15 || len(rep.Segments) != 4 {
		t.Errorf("report: %+v", rep)
	}
	var kinds []string
	for _, m := range rep.Markers {
		kinds = append(kinds, m.Kind)
	}
	if !slices.Equal(kinds, []string{"note", "privacy-start", "privacy-end"}) {
		t.Errorf("markers: %v", kinds)
	}
	if rep.Head == "" || rep.Head != lineHash(bytes.Split(bytes.TrimSpace(want), []byte("\n"))[14]) {
		t.Errorf("head %q is not the hash of the last line", rep.Head)
	}
}

// copyDir copies a recording directory.
func copyDir(t *testing.T, from string) string {
	t.Helper()
	to := t.TempDir()
	ents, err := os.ReadDir(from)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(from, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(to, e.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return to
}

// editManifest rewrites a manifest's lines.
func editManifest(t *testing.T, dir string, edit func(lines [][]byte) [][]byte) {
	t.Helper()
	path := filepath.Join(dir, ManifestName)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := bytes.Split(bytes.TrimSuffix(b, []byte("\n")), []byte("\n"))
	lines = edit(lines)
	out := append(bytes.Join(lines, []byte("\n")), '\n')
	if err := os.WriteFile(path, out, 0o644); err != nil {
		t.Fatal(err)
	}
}

func flipByte(t *testing.T, path string, at int) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if at < 0 {
		at += len(b)
	}
	b[at] ^= 0x01
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// tamperCase changes a recording; want lists "kind file" (or "kind") of
// every problem Verify must report, and nothing else.
type tamperCase struct {
	name     string
	tamper   func(t *testing.T, dir string, segs []string)
	want     func(segs []string) []string
	tampered bool
}

// tamperCases work on any recording with two sealed segments of each of
// its first two tracks (segs lists files in manifest order).
var tamperCases = []tamperCase{
	{
		name:     "flipped byte",
		tamper:   func(t *testing.T, dir string, s []string) { flipByte(t, filepath.Join(dir, s[2]), 200) },
		want:     func(s []string) []string { return []string{"changed " + s[2]} },
		tampered: true,
	},
	{
		name:     "last byte flipped",
		tamper:   func(t *testing.T, dir string, s []string) { flipByte(t, filepath.Join(dir, s[1]), -1) },
		want:     func(s []string) []string { return []string{"changed " + s[1]} },
		tampered: true,
	},
	{
		name: "removed segment",
		tamper: func(t *testing.T, dir string, s []string) {
			if err := os.Remove(filepath.Join(dir, s[1])); err != nil {
				t.Fatal(err)
			}
		},
		want:     func(s []string) []string { return []string{"missing " + s[1]} },
		tampered: true,
	},
	{
		name: "swapped segments",
		tamper: func(t *testing.T, dir string, s []string) {
			a, b := filepath.Join(dir, s[0]), filepath.Join(dir, s[2])
			tmp := filepath.Join(dir, "tmp")
			for _, mv := range [][2]string{{a, tmp}, {b, a}, {tmp, b}} {
				if err := os.Rename(mv[0], mv[1]); err != nil {
					t.Fatal(err)
				}
			}
		},
		want:     func(s []string) []string { return []string{"reordered " + s[0], "reordered " + s[2]} },
		tampered: true,
	},
	{
		name: "truncated segment",
		tamper: func(t *testing.T, dir string, s []string) {
			if err := os.Truncate(filepath.Join(dir, s[0]), 100); err != nil {
				t.Fatal(err)
			}
		},
		want:     func(s []string) []string { return []string{"changed " + s[0]} },
		tampered: true,
	},
	{
		name: "extra file",
		tamper: func(t *testing.T, dir string, s []string) {
			if err := os.WriteFile(filepath.Join(dir, "cam1-000009.webm"), []byte("x"), 0o644); err != nil {
				t.Fatal(err)
			}
		},
		want:     func(s []string) []string { return []string{"extra cam1-000009.webm"} },
		tampered: true,
	},
	{
		name: "segment entry removed from the manifest",
		tamper: func(t *testing.T, dir string, s []string) {
			editManifest(t, dir, func(l [][]byte) [][]byte {
				i := lineOf(t, l, `"type":"segment"`, s[0])
				return slices.Delete(l, i, i+1)
			})
		},
		// the chain breaks where the line was, and the file is no longer sealed
		want:     func(s []string) []string { return []string{"chain", "unsealed " + s[0]} },
		tampered: true,
	},
	{
		name: "manifest lines swapped",
		tamper: func(t *testing.T, dir string, s []string) {
			editManifest(t, dir, func(l [][]byte) [][]byte {
				i := lineOf(t, l, `"type":"segment"`, s[0])
				l[i], l[i+1] = l[i+1], l[i]
				return l
			})
		},
		want:     func(s []string) []string { return []string{"chain", "chain", "chain"} },
		tampered: true,
	},
	{
		name: "hash in the manifest changed to match a changed file",
		tamper: func(t *testing.T, dir string, s []string) {
			path := filepath.Join(dir, s[0])
			flipByte(t, path, 300)
			sum, _, err := hashFile(path)
			if err != nil {
				t.Fatal(err)
			}
			editManifest(t, dir, func(l [][]byte) [][]byte {
				i := lineOf(t, l, `"type":"segment"`, s[0])
				e, _ := parseLine(l[i])
				l[i] = bytes.Replace(l[i], []byte(e.entry.SHA256), []byte(sum), 1)
				return l
			})
		},
		// the next line's link no longer matches either
		want:     func(s []string) []string { return []string{"signature " + s[0], "chain"} },
		tampered: true,
	},
	{
		name: "manifest re-signed with another key",
		tamper: func(t *testing.T, dir string, s []string) {
			_, other, _ := ed25519.GenerateKey(nil)
			resign(t, dir, other)
		},
		want:     func(s []string) []string { return []string{"key", "signature"} },
		tampered: true,
	},
	{
		name: "end entry cut off (looks like a crash)",
		tamper: func(t *testing.T, dir string, s []string) {
			editManifest(t, dir, func(l [][]byte) [][]byte { return l[:len(l)-1] })
		},
		want: func(s []string) []string { return []string{"not-closed"} },
	},
	{
		name: "manifest ends in half a line (crash while appending)",
		tamper: func(t *testing.T, dir string, s []string) {
			path := filepath.Join(dir, ManifestName)
			b, _ := os.ReadFile(path)
			if err := os.WriteFile(path, b[:len(b)-20], 0o644); err != nil {
				t.Fatal(err)
			}
		},
		want: func(s []string) []string { return []string{"torn", "not-closed"} },
	},
}

// lineOf finds the manifest line holding both strings.
func lineOf(t *testing.T, lines [][]byte, a, b string) int {
	t.Helper()
	for i, l := range lines {
		if bytes.Contains(l, []byte(a)) && bytes.Contains(l, []byte(`"file":"`+b+`"`)) {
			return i
		}
	}
	t.Fatalf("no manifest line with %s and %s", a, b)
	return -1
}

// resign rewrites a manifest as if made with another key: a forger who
// has the files but not the hub's key.
func resign(t *testing.T, dir string, key ed25519.PrivateKey) {
	t.Helper()
	path := filepath.Join(dir, ManifestName)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines, _ := splitLines(b)
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	m := &manifestWriter{f: f, key: key}
	pub := key.Public().(ed25519.PublicKey)
	for _, l := range lines {
		p, err := parseLine(l)
		if err != nil {
			t.Fatal(err)
		}
		if p.entry.Type == EntryHeader {
			p.entry.Key, p.entry.KeyID = fmt.Sprintf("%x", []byte(pub)), Fingerprint(pub)
		}
		if err := m.append(&p.entry); err != nil {
			t.Fatal(err)
		}
	}
	m.close()
}

// checkTamper runs every tamper case on copies of a recording.
func checkTamper(t *testing.T, src string) {
	pub := testKey().Public().(ed25519.PublicKey)
	rep, err := Verify(src, pub)
	if err != nil || !rep.OK() {
		t.Fatalf("the untouched recording does not verify: %v\n%s", err, rep)
	}
	var segs []string
	for _, s := range rep.Segments {
		segs = append(segs, s.File)
	}
	for _, tc := range tamperCases {
		t.Run(tc.name, func(t *testing.T) {
			dir := copyDir(t, src)
			tc.tamper(t, dir, segs)
			rep, err := Verify(dir, pub)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, p := range rep.Problems {
				got = append(got, strings.TrimSpace(string(p.Kind)+" "+p.File))
			}
			want := tc.want(segs)
			slices.Sort(got)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("problems %q, want %q\n%s", got, want, rep)
			}
			if rep.OK() || rep.Tampered() != tc.tampered {
				t.Errorf("OK %v, tampered %v; want tampered %v", rep.OK(), rep.Tampered(), tc.tampered)
			}
			if !strings.Contains(rep.String(), "FAILED") && tc.tampered {
				t.Errorf("the report does not say FAILED:\n%s", rep)
			}
			t.Logf("report:\n%s", rep)
			rrep, err := Recover(dir, testKey())
			if tc.tampered {
				if !errors.Is(err, ErrTampered) && !errors.Is(err, ErrKeyMismatch) {
					t.Errorf("Recover of a tampered recording: %v", err)
				}
				return
			}
			if err != nil || !rrep.OK() {
				t.Errorf("Recover: %v\n%s", err, rrep)
			}
		})
	}
}

func TestTamperGolden(t *testing.T) { checkTamper(t, goldenDir) }

func TestVerifyWrongKey(t *testing.T) {
	_, other, _ := ed25519.GenerateKey(nil)
	rep, err := Verify(goldenDir, other.Public().(ed25519.PublicKey))
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Tampered() || rep.Problems[0].Kind != ProblemKey {
		t.Fatalf("want a key problem first:\n%s", rep)
	}
	// One summary line for the signatures, not one per entry.
	n := 0
	for _, p := range rep.Problems {
		if p.Kind == ProblemSignature {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d signature problems, want 1 summary:\n%s", n, rep)
	}
	if _, err := Recover(copyDir(t, goldenDir), other); !errors.Is(err, ErrKeyMismatch) {
		t.Errorf("Recover with another key: %v", err)
	}
}

func TestVerifyNoManifest(t *testing.T) {
	if _, err := Verify(t.TempDir(), testKey().Public().(ed25519.PublicKey)); !errors.Is(err, ErrNoManifest) {
		t.Errorf("got %v, want ErrNoManifest", err)
	}
}

func TestParseLine(t *testing.T) {
	good, _ := os.ReadFile(filepath.Join(goldenDir, ManifestName))
	first := good[:bytes.IndexByte(good, '\n')]
	for _, tc := range []struct {
		name string
		line string
		ok   bool
	}{
		{"golden header", string(first), true},
		{"empty", "", false},
		{"no signature", `{"v":1,"seq":0,"type":"header"}`, false},
		{"short signature", `{"v":1,"type":"x","sig":"abcd"}`, false},
		{"signature not hex", `{"v":1,"type":"x","sig":"` + strings.Repeat("zz", 64) + `"}`, false},
		{"no type", `{"v":1,"sig":"` + strings.Repeat("00", 64) + `"}`, false},
		{"not an object", `[1,"sig":"` + strings.Repeat("00", 64) + `"}`, false},
		{"signature inside a string", `{"type":"x","text":"\",\"sig\":\"` + strings.Repeat("00", 64) + `"}`, false},
	} {
		_, err := parseLine([]byte(tc.line))
		if (err == nil) != tc.ok {
			t.Errorf("%s: err %v", tc.name, err)
		}
	}
}

// A manifest append that fails part way leaves no half line behind, and
// the writer then refuses more.
func TestManifestTornAppend(t *testing.T) {
	dir := t.TempDir()
	disk := &fullDisk{left: 900}
	f, err := disk.open(filepath.Join(dir, ManifestName), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	m := &manifestWriter{f: f, key: testKey()}
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	pub := testKey().Public().(ed25519.PublicKey)
	var errAt int
	for i := range 10 {
		e := &Entry{Type: EntryMarker, At: at, Marker: "note", Text: strings.Repeat("x", 100)}
		if i == 0 {
			e = &Entry{Type: EntryHeader, At: at, Key: fmt.Sprintf("%x", []byte(pub)), KeyID: Fingerprint(pub)}
		}
		if err = m.append(e); err != nil {
			errAt = i
			break
		}
	}
	if err == nil || !isNoSpace(err) {
		t.Fatalf("want a no-space error, got %v", err)
	}
	if err := m.append(&Entry{Type: EntryMarker, At: at, Marker: "note"}); err == nil {
		t.Errorf("append after a failed append succeeded")
	}
	m.close()
	b, _ := os.ReadFile(filepath.Join(dir, ManifestName))
	if len(b) == 0 || b[len(b)-1] != '\n' || bytes.Count(b, []byte("\n")) != errAt {
		t.Errorf("manifest of %d bytes, %d lines after the failure at entry %d", len(b), bytes.Count(b, []byte("\n")), errAt)
	}
	rep, err := Verify(dir, pub)
	if err != nil || rep.Tampered() {
		t.Errorf("verify: %v\n%s", err, rep)
	}
}
