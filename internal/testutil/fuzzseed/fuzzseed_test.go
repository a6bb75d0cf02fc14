package fuzzseed

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestFile(t *testing.T) {
	got := string(File([]byte("a\x00"), "s\"", byte('x'), true, 7, uint16(9), -1.5, int64(-2)))
	want := "go test fuzz v1\n[]byte(\"a\\x00\")\nstring(\"s\\\"\")\nbyte('x')\nbool(true)\nint(7)\nuint16(9)\nfloat64(-1.5)\nint64(-2)\n"
	if got != want {
		t.Fatalf("File = %q\nwant %q", got, want)
	}
	if err := parse([]byte(got)); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if recover() == nil {
			t.Fatal("a map accepted")
		}
	}()
	File(map[string]int{})
}

func TestParse(t *testing.T) {
	for _, bad := range []string{"", "go test fuzz v2\n", "go test fuzz v1\nhello\n", "go test fuzz v1\nmap(1)\n"} {
		if parse([]byte(bad)) == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// recorder is a testing.TB that keeps the errors it is given.
type recorder struct {
	testing.TB
	errs []string
}

func (r *recorder) Helper()                   {}
func (r *recorder) Name() string              { return "TestSeedCorpus" }
func (r *recorder) Errorf(f string, a ...any) { r.errs = append(r.errs, f) }
func (r *recorder) Fatal(a ...any)            { r.errs = append(r.errs, "fatal") }

func TestCheck(t *testing.T) {
	dir := t.TempDir()
	wd, _ := os.Getwd()
	if err := os.Chdir(dir); err != nil {
		t.Fatal(err)
	}
	defer os.Chdir(wd)
	c := Corpus{}
	c.Add("FuzzA", "one seed", []byte("1"))
	c.Add("FuzzA", "two", []byte("2"))

	r := &recorder{TB: t}
	Check(r, c)
	if len(r.errs) != 3 { // two missing, no corpus
		t.Fatalf("empty directory: %v", r.errs)
	}

	*update = true
	os.MkdirAll(filepath.Join(Dir, "FuzzA"), 0o755)
	os.WriteFile(filepath.Join(Dir, "FuzzA", "stale"), []byte("x"), 0o644)
	os.WriteFile(filepath.Join(Dir, "FuzzA", "0123456789abcdef"), File([]byte("found")), 0o644)
	os.MkdirAll(filepath.Join(Dir, "FuzzOther"), 0o755)
	os.WriteFile(filepath.Join(Dir, "FuzzOther", "hand-made"), File("h"), 0o644)
	Check(t, c)
	*update = false
	if _, err := os.Stat(filepath.Join(Dir, "FuzzA", "stale")); err == nil {
		t.Fatal("-update-corpus left a stale seed")
	}
	if b, _ := os.ReadFile(filepath.Join(Dir, "FuzzA", "one-seed")); string(b) != string(File([]byte("1"))) {
		t.Fatalf("seed %q", b)
	}
	Check(t, c) // written, the fuzzer's find and another target's file kept: clean

	os.WriteFile(filepath.Join(Dir, "FuzzA", "two"), File([]byte("changed")), 0o644)
	os.WriteFile(filepath.Join(Dir, "FuzzA", "old"), File([]byte("x")), 0o644)
	os.WriteFile(filepath.Join(Dir, "FuzzOther", "broken"), []byte("not a seed"), 0o644)
	r = &recorder{TB: t}
	Check(r, c)
	if len(r.errs) != 3 || !strings.Contains(strings.Join(r.errs, " "), "stale") {
		t.Fatalf("drift: %v", r.errs)
	}
}
