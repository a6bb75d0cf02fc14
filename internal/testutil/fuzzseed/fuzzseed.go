// Package fuzzseed writes and checks the seed corpora committed under testdata/fuzz, for the
// tests of every package with fuzz targets.
//
// A package makes its seeds from its golden tables and checks them in one test:
//
//	func TestSeedCorpus(t *testing.T) {
//		c := fuzzseed.Corpus{}
//		for _, fr := range golden.Frames {
//			c.Add("FuzzParseReply", fr.Name, []byte(fr.Reply), fr.Cmd)
//		}
//		fuzzseed.Check(t, c)
//	}
//
// and writes them with go test ./that/package -run TestSeedCorpus -update-corpus.
//
// The files are in the format of go test's own corpus ("go test fuzz v1", then one value a
// line), so go test runs every seed as a test case of its target.
package fuzzseed

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

var update = flag.Bool("update-corpus", false, "write the seed corpus under testdata/fuzz from the golden tables")

// Update reports whether the test runs with -update-corpus: write the seeds, do not check them.
func Update() bool { return *update }

// Dir is where go test looks for a package's seed corpus.
const Dir = "testdata/fuzz"

const header = "go test fuzz v1"

// File returns a seed file holding values, one argument of the fuzz target each, in order.
// It panics on a type go test cannot take as a fuzz argument (a programming error).
func File(values ...any) []byte {
	var b bytes.Buffer
	b.WriteString(header + "\n")
	for _, v := range values {
		switch v := v.(type) {
		case []byte:
			fmt.Fprintf(&b, "[]byte(%q)\n", v)
		case string:
			fmt.Fprintf(&b, "string(%q)\n", v)
		case byte:
			fmt.Fprintf(&b, "byte(%q)\n", v)
		case bool:
			fmt.Fprintf(&b, "bool(%v)\n", v)
		case int, int8, int16, int32, int64, uint, uint16, uint32, uint64:
			fmt.Fprintf(&b, "%T(%d)\n", v, v)
		case float32, float64:
			fmt.Fprintf(&b, "%T(%v)\n", v, v)
		default:
			panic(fmt.Sprintf("fuzzseed: a fuzz target cannot take a %T", v))
		}
	}
	return b.Bytes()
}

// Name makes a seed file name from a golden table row's name: spaces become dashes.
func Name(name string) string { return strings.ReplaceAll(name, " ", "-") }

// Corpus is the seeds a package's golden tables make: file contents by "Target/name".
type Corpus map[string][]byte

// Add adds the seed name (made a file name by Name) of the fuzz target target.
func (c Corpus) Add(target, name string, values ...any) {
	c[target+"/"+Name(name)] = File(values...)
}

// kept matches the files that may sit beside the seeds: the inputs go test -fuzz finds (16
// hex digits) and the regression inputs written by hand ("regression-…").
var kept = regexp.MustCompile(`^([0-9a-f]{16}|regression-.+)$`)

// Check compares the corpus with the files under testdata/fuzz: each seed must be there and
// unchanged, and no other file may sit in a target's directory unless the fuzzer found it
// (16 hex digits) or it is a regression input ("regression-…"); every file there must be
// in go test's format. With -update-corpus it
// writes the seeds instead and removes the stale ones.
func Check(t testing.TB, c Corpus) {
	t.Helper()
	targets := map[string]bool{}
	for _, name := range sorted(c) {
		targets[filepath.Dir(name)] = true
		path := filepath.Join(Dir, filepath.FromSlash(name))
		if *update {
			write(t, path, c[name])
			continue
		}
		got, err := os.ReadFile(path)
		if err != nil || !bytes.Equal(got, c[name]) {
			t.Errorf("%s is missing or stale (go test -run %s -update-corpus writes it): %v", path, t.Name(), err)
		}
	}
	files, _ := filepath.Glob(filepath.Join(Dir, "*", "*"))
	for _, f := range files {
		target, base := filepath.Base(filepath.Dir(f)), filepath.Base(f)
		if _, ok := c[target+"/"+base]; ok || !targets[target] || kept.MatchString(base) {
			continue
		}
		if *update {
			os.Remove(f)
			continue
		}
		t.Errorf("%s is not a seed of the golden tables any more (-update-corpus removes it)", f)
	}
	if !*update {
		CheckFormat(t)
	}
}

// CheckFormat checks that there is a seed corpus and that every file in it is in go test's
// format: the header, then one typed value a line.
func CheckFormat(t testing.TB) {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(Dir, "*", "*"))
	if len(files) == 0 {
		t.Fatal("no seed corpus under " + Dir)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := parse(b); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
}

var value = regexp.MustCompile(`^(\[\]byte|string|byte|rune|bool|u?int(8|16|32|64)?|float(32|64))\(.*\)$`)

func parse(b []byte) error {
	s := bufio.NewScanner(bytes.NewReader(b))
	s.Buffer(nil, len(b)+1)
	if !s.Scan() || s.Text() != header {
		return errors.New("does not start with " + header)
	}
	for n := 2; s.Scan(); n++ {
		if line := strings.TrimSpace(s.Text()); line != "" && !value.MatchString(line) {
			return fmt.Errorf("line %d is not a typed value: %.40q", n, line)
		}
	}
	return s.Err()
}

// Write writes one seed of target now, for corpora made from what changes from run to run
// (a WebRTC offer, encoded media) and so cannot be checked against the code.
func Write(t testing.TB, target, name string, values ...any) {
	t.Helper()
	write(t, filepath.Join(Dir, target, Name(name)), File(values...))
}

func write(t testing.TB, path string, content []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, content, 0o644); err != nil {
		t.Fatal(err)
	}
}

func sorted(c Corpus) []string {
	out := make([]string, 0, len(c))
	for k := range c {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
