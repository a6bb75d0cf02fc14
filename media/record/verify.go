package record

import (
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// ProblemKind names what Verify found wrong.
type ProblemKind string

// Problem kinds. Only ProblemUnsealed, ProblemNotClosed and ProblemTorn can
// come of a crash (Recover mends them); every other kind means the
// recording was changed after it was written.
const (
	ProblemChanged   ProblemKind = "changed"    // a sealed segment's bytes differ from its hash
	ProblemMissing   ProblemKind = "missing"    // a sealed segment's file is gone
	ProblemExtra     ProblemKind = "extra"      // a file the manifest does not name
	ProblemReordered ProblemKind = "reordered"  // a segment's file holds another segment's bytes
	ProblemChain     ProblemKind = "chain"      // a manifest line does not follow from the one before (removed, inserted or moved lines)
	ProblemSignature ProblemKind = "signature"  // a manifest line's signature is wrong
	ProblemMalformed ProblemKind = "malformed"  // a manifest line cannot be read, or makes no sense where it is
	ProblemKey       ProblemKind = "key"        // the manifest is not signed with the expected key
	ProblemUnsealed  ProblemKind = "unsealed"   // a segment was being written when the recording stopped (crash)
	ProblemNotClosed ProblemKind = "not-closed" // the manifest has no end entry (crash between segments)
	ProblemTorn      ProblemKind = "torn"       // the manifest ends in half a line (crash while appending)
)

// Problem is one thing Verify found.
type Problem struct {
	Kind   ProblemKind
	File   string // the segment file concerned, if any
	Line   int    // the manifest line concerned (1-based), if any
	Detail string
}

func (p Problem) String() string {
	var b strings.Builder
	b.WriteString(strings.ToUpper(string(p.Kind)))
	if p.File != "" {
		b.WriteString(" " + p.File)
	}
	if p.Line > 0 {
		fmt.Fprintf(&b, " (manifest line %d)", p.Line)
	}
	if p.Detail != "" {
		b.WriteString(": " + p.Detail)
	}
	return b.String()
}

// Segment is a segment as the manifest describes it.
type Segment struct {
	Track      string
	Kind       string
	Index      int
	File       string
	Sealed     bool // its hash is in the manifest
	Recovered  bool // sealed by Recover after a crash
	Start, End time.Time
	DurationMS int64
	Frames     int64
	Bytes      int64
	SHA256     string
	Error      string // what cut it short, if anything
}

// Marker is a marker as the manifest holds it.
type Marker struct {
	At   time.Time
	Kind string
	Text string
}

// Report is what Verify found.
type Report struct {
	Dir       string
	Recording string
	Site      string
	Room      string
	Previous  string
	Start     time.Time
	KeyID     string // fingerprint of the key the manifest names
	Entries   int
	// Head is the hash of the manifest's last complete line. Cutting lines
	// off the end of a manifest leaves a chain that holds: to notice, keep
	// the head a recording closed with (Recorder.Head) elsewhere, such as the
	// hub's audit log, and compare.
	Head     string
	Closed   bool // the manifest ends with an end entry
	EndError string
	Segments []Segment
	Markers  []Marker
	Problems []Problem
}

// OK reports whether the recording is whole and unchanged.
func (r *Report) OK() bool { return len(r.Problems) == 0 }

// Tampered reports whether any problem is more than a crash leaves.
func (r *Report) Tampered() bool {
	for _, p := range r.Problems {
		switch p.Kind {
		case ProblemUnsealed, ProblemNotClosed, ProblemTorn:
		default:
			return true
		}
	}
	return false
}

// Crashed reports whether the recording was cut by a crash (and not
// tampered with): Recover can seal it.
func (r *Report) Crashed() bool { return !r.OK() && !r.Tampered() }

// String is a report for people: a summary, then one line per problem.
func (r *Report) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "recording %s (site %q, room %q) in %s\n", r.Recording, r.Site, r.Room, r.Dir)
	fmt.Fprintf(&b, "started %s, key %s, %d manifest entries, %d segments, %d markers\n",
		r.Start.Format(time.RFC3339), r.KeyID, r.Entries, len(r.Segments), len(r.Markers))
	switch {
	case r.OK():
		b.WriteString("OK: every segment is present and unchanged, the manifest's chain and signatures hold\n")
	case r.Crashed():
		b.WriteString("CRASHED: the recording was cut short; nothing is changed; `Recover` seals what is there\n")
	default:
		b.WriteString("FAILED: the recording was changed after it was written\n")
	}
	for _, p := range r.Problems {
		b.WriteString(p.String() + "\n")
	}
	return b.String()
}

func (r *Report) add(kind ProblemKind, file string, line int, format string, args ...any) {
	r.Problems = append(r.Problems, Problem{Kind: kind, File: file, Line: line, Detail: fmt.Sprintf(format, args...)})
}

// maxManifest bounds what Verify reads of a manifest.
const maxManifest = 256 << 20

// Verify checks a recording directory against the public key it must be
// signed with: the manifest's hash chain and every signature, every sealed
// segment's size and SHA-256, and that no file was added or removed. The
// error is for a directory or manifest that cannot be read at all;
// everything else is in the Report.
func Verify(dir string, pub ed25519.PublicKey) (*Report, error) {
	rep, _, err := verify(dir, pub)
	return rep, err
}

// VerifyWithKeyring verifies with the key of the keyring that the
// manifest's header names. A header naming a key that is not in the
// keyring is a ProblemKey.
func VerifyWithKeyring(dir string, ring Keyring) (*Report, error) {
	h, err := ReadHeader(dir)
	if err != nil {
		return nil, err
	}
	pub, ok := ring.Lookup(h.KeyID)
	if !ok {
		rep, err := Verify(dir, nil)
		if rep != nil {
			rep.Problems = append([]Problem{{Kind: ProblemKey, Line: 1, Detail: fmt.Sprintf(
				"the manifest names key %s, which is not in the keyring (%s)", h.KeyID, strings.Join(ring.fingerprints(), ", "))}},
				rep.Problems...)
		}
		return rep, err
	}
	return Verify(dir, pub)
}

// ReadHeader returns the header entry of a recording's manifest, unverified.
func ReadHeader(dir string) (*Entry, error) {
	f, err := os.Open(filepath.Join(dir, ManifestName))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%w in %s", ErrNoManifest, dir)
		}
		return nil, fmt.Errorf("record: %w", err)
	}
	defer f.Close()
	buf := make([]byte, 64<<10)
	n, _ := f.Read(buf)
	lines, torn := splitLines(buf[:n])
	if len(lines) == 0 {
		lines = [][]byte{torn}
	}
	p, err := parseLine(lines[0])
	if err != nil || p.entry.Type != EntryHeader {
		return nil, fmt.Errorf("record: %s: manifest has no header", dir)
	}
	return &p.entry, nil
}

// verifyState is what Recover needs beyond the report.
type verifyState struct {
	unsealed  []*Entry // open entries with no segment entry, in order
	tornBytes int      // length of a torn last line
	lines     int
	lastHash  string
	header    *Entry
}

func verify(dir string, pub ed25519.PublicKey) (*Report, *verifyState, error) {
	data, err := readManifest(dir)
	if err != nil {
		return nil, nil, err
	}
	rep := &Report{Dir: dir}
	st := &verifyState{}
	lines, torn := splitLines(data)
	if torn != nil {
		st.tornBytes = len(torn)
		rep.add(ProblemTorn, "", len(lines)+1, "the manifest ends in %d bytes without a newline", len(torn))
	}
	st.lines = len(lines)
	rep.Entries = len(lines)

	type segState struct {
		open   *Entry
		sealed *Entry
		line   int
	}
	segs := map[string]*segState{}
	var order []string
	tracks := map[string]bool{}
	prevHash := ""
	wantSeq := uint64(0)
	keyOK := true
	badSigs := 0
	for i, line := range lines {
		n := i + 1
		linkHash := prevHash
		prevHash = lineHash(line)
		p, err := parseLine(line)
		if err != nil {
			rep.add(ProblemMalformed, "", n, "%v", err)
			continue
		}
		e := &p.entry
		switch {
		case i > 0 && e.Prev != linkHash && e.Seq != wantSeq:
			rep.add(ProblemChain, "", n, "entry %d follows entry %d, and its link does not match line %d", e.Seq, wantSeq-1, n-1)
		case i > 0 && e.Prev != linkHash:
			rep.add(ProblemChain, "", n, "its link (%s) does not match line %d (which hashes to %s)", short(e.Prev), n-1, short(linkHash))
		case e.Seq != wantSeq:
			rep.add(ProblemChain, "", n, "entry %d follows entry %d", e.Seq, wantSeq-1)
		}
		wantSeq = e.Seq + 1
		if i == 0 {
			if e.Type != EntryHeader || e.Prev != "" {
				rep.add(ProblemMalformed, "", n, "the first entry is not a header")
			} else {
				st.header = e
				rep.Recording, rep.Site, rep.Room, rep.Previous = e.Recording, e.Site, e.Room, e.Previous
				rep.Start, rep.KeyID = e.At, e.KeyID
				hk, err := hex.DecodeString(e.Key)
				switch {
				case err != nil || len(hk) != ed25519.PublicKeySize:
					rep.add(ProblemMalformed, "", n, "the header's key is not an ed25519 public key")
				case Fingerprint(hk) != e.KeyID:
					rep.add(ProblemMalformed, "", n, "the header's key_id is not its key's fingerprint")
				}
				if pub != nil && e.KeyID != Fingerprint(pub) {
					keyOK = false
					rep.add(ProblemKey, "", n, "signed with key %s, verifying with key %s", e.KeyID, Fingerprint(pub))
				}
			}
		} else if e.Type == EntryHeader {
			rep.add(ProblemMalformed, "", n, "a second header")
		}
		if pub != nil && !p.verifySig(pub) {
			badSigs++
			if keyOK {
				rep.add(ProblemSignature, e.File, n, "bad signature on the %s entry", e.Type)
			}
		}
		if pub == nil {
			keyOK = false
		}
		if rep.Closed && e.Type != EntryEnd && !e.Recovered {
			rep.add(ProblemMalformed, e.File, n, "a %s entry after the end", e.Type)
		}

		switch e.Type {
		case EntryTrack:
			tracks[e.Track] = true
		case EntryOpen, EntrySegment:
			if !validSegmentName(e.File) {
				rep.add(ProblemMalformed, e.File, n, "bad segment file name")
				continue
			}
			s := segs[e.File]
			if s == nil {
				s = &segState{line: n}
				segs[e.File] = s
				order = append(order, e.File)
			}
			if e.Type == EntryOpen {
				if s.open != nil {
					rep.add(ProblemMalformed, e.File, n, "opened twice")
				}
				s.open = e
			} else {
				if s.sealed != nil {
					rep.add(ProblemMalformed, e.File, n, "sealed twice")
				}
				if s.open == nil {
					rep.add(ProblemMalformed, e.File, n, "sealed but never opened")
				}
				s.sealed = e
			}
			if !tracks[e.Track] {
				rep.add(ProblemMalformed, e.File, n, "segment of track %q, which was never added", e.Track)
			}
		case EntryMarker:
			rep.Markers = append(rep.Markers, Marker{At: e.At, Kind: e.Marker, Text: e.Text})
		case EntryEnd:
			rep.Closed = true
			rep.EndError = e.Error
		case EntryHeader:
		default:
			rep.add(ProblemMalformed, "", n, "unknown entry type %q", e.Type)
		}
	}
	st.lastHash = prevHash
	rep.Head = prevHash
	if badSigs > 0 && !keyOK && pub != nil {
		rep.add(ProblemSignature, "", 0, "%d of %d entries do not verify with the given key", badSigs, len(lines))
	}

	// The files.
	files := map[string]bool{}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, nil, fmt.Errorf("record: read %s: %w", dir, err)
	}
	for _, de := range ents {
		if de.Name() == ManifestName {
			continue
		}
		files[de.Name()] = true
		if _, known := segs[de.Name()]; !known {
			rep.add(ProblemExtra, de.Name(), 0, "not named in the manifest")
		}
	}
	// Hashes of sealed segments, to tell a swapped file from a changed one.
	byHash := map[string]string{}
	for _, name := range order {
		if s := segs[name]; s.sealed != nil && !s.sealed.Absent {
			byHash[s.sealed.SHA256] = name
		}
	}
	for _, name := range order {
		s := segs[name]
		e := s.open
		if s.sealed != nil {
			e = s.sealed
		}
		seg := Segment{Track: e.Track, Kind: e.Kind, Index: e.Index, File: name}
		if s.sealed != nil {
			seg.Sealed, seg.Recovered = true, s.sealed.Recovered
			seg.Start, seg.End, seg.DurationMS = s.sealed.Start, s.sealed.End, s.sealed.DurationMS
			seg.Frames, seg.Bytes, seg.SHA256, seg.Error = s.sealed.Frames, s.sealed.Bytes, s.sealed.SHA256, s.sealed.Error
		}
		rep.Segments = append(rep.Segments, seg)
		path := filepath.Join(dir, name)
		switch {
		case s.sealed == nil:
			if files[name] {
				rep.add(ProblemUnsealed, name, s.line, "no entry seals it: it was being written when the recording stopped (or its entry was removed)")
			} else {
				rep.add(ProblemUnsealed, name, s.line, "opened when the recording stopped, but never created")
			}
			if s.open != nil {
				st.unsealed = append(st.unsealed, s.open)
			}
		case s.sealed.Absent:
			if files[name] {
				rep.add(ProblemExtra, name, s.line, "recorded as never created, but it exists")
			}
		case !files[name]:
			rep.add(ProblemMissing, name, s.line, "sealed with %d bytes, sha256 %s; the file is gone", s.sealed.Bytes, short(s.sealed.SHA256))
		default:
			sum, size, err := hashFile(path)
			if err != nil {
				rep.add(ProblemChanged, name, s.line, "cannot be read: %v", err)
				continue
			}
			if sum == s.sealed.SHA256 && size == s.sealed.Bytes {
				continue
			}
			if other, ok := byHash[sum]; ok && other != name {
				rep.add(ProblemReordered, name, s.line, "holds the bytes sealed as %s", other)
				continue
			}
			rep.add(ProblemChanged, name, s.line, "sealed with %d bytes, sha256 %s; now %d bytes, sha256 %s",
				s.sealed.Bytes, short(s.sealed.SHA256), size, short(sum))
		}
	}
	if !rep.Closed && len(st.unsealed) == 0 && len(lines) > 0 {
		rep.add(ProblemNotClosed, "", len(lines), "the manifest has no end entry")
	}
	sort.SliceStable(rep.Problems, func(i, j int) bool {
		return problemOrder(rep.Problems[i].Kind) < problemOrder(rep.Problems[j].Kind)
	})
	return rep, st, nil
}

// problemOrder puts tampering first.
func problemOrder(k ProblemKind) int {
	switch k {
	case ProblemUnsealed, ProblemNotClosed, ProblemTorn:
		return 1
	}
	return 0
}

func readManifest(dir string) ([]byte, error) {
	path := filepath.Join(dir, ManifestName)
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%w in %s", ErrNoManifest, dir)
		}
		return nil, fmt.Errorf("record: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("record: %w", err)
	}
	if st.Size() > maxManifest {
		return nil, fmt.Errorf("record: %s: manifest of %d bytes is too large", dir, st.Size())
	}
	data := make([]byte, st.Size())
	if _, err := f.ReadAt(data, 0); err != nil && st.Size() > 0 {
		return nil, fmt.Errorf("record: read manifest: %w", err)
	}
	return data, nil
}

// validSegmentName: a plain file name, as the recorder makes them.
func validSegmentName(name string) bool {
	return strings.HasSuffix(name, ".webm") && trackIDPattern.MatchString(strings.TrimSuffix(name, ".webm")) &&
		name != ManifestName
}

func short(h string) string {
	if len(h) > 16 {
		return h[:16] + "…"
	}
	return h
}

// Recover seals a recording cut by a crash, so that it verifies: a torn
// last manifest line is cut off; every segment that was being written is
// hashed as it stands and sealed with "recovered": true (or marked absent
// when its file was never created); an end entry closes the manifest. It
// refuses (ErrTampered) a recording whose verification finds anything a
// crash does not explain, and ErrKeyMismatch for a key that did not sign
// the recording. It returns the report of verifying the result.
func Recover(dir string, key ed25519.PrivateKey) (*Report, error) {
	if len(key) != ed25519.PrivateKeySize {
		return nil, errors.New("record: Recover: not an ed25519 private key")
	}
	pub := key.Public().(ed25519.PublicKey)
	rep, st, err := verify(dir, pub)
	if err != nil {
		return nil, err
	}
	if st.header == nil || st.header.KeyID != Fingerprint(pub) {
		return rep, fmt.Errorf("%w: %s", ErrKeyMismatch, dir)
	}
	if rep.Tampered() {
		return rep, fmt.Errorf("%w: %s; not sealing it", ErrTampered, dir)
	}
	if rep.OK() {
		return rep, nil
	}
	path := filepath.Join(dir, ManifestName)
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return nil, fmt.Errorf("record: recover: %w", err)
	}
	size, err := f.Seek(0, 2)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("record: recover: %w", err)
	}
	if st.tornBytes > 0 {
		size -= int64(st.tornBytes)
		if err := f.Truncate(size); err != nil {
			f.Close()
			return nil, fmt.Errorf("record: recover: cut the torn line: %w", err)
		}
		if _, err := f.Seek(size, 0); err != nil {
			f.Close()
			return nil, fmt.Errorf("record: recover: %w", err)
		}
	}
	m := &manifestWriter{f: f, key: key, size: size, seq: uint64(st.lines), prev: st.lastHash}
	now := time.Now().UTC()
	for _, o := range st.unsealed {
		e := &Entry{
			Type: EntrySegment, At: now, Track: o.Track, Kind: o.Kind, Index: o.Index, File: o.File,
			Start: o.At, Recovered: true,
		}
		sum, n, err := hashFile(filepath.Join(dir, o.File))
		switch {
		case errors.Is(err, fs.ErrNotExist):
			e.Absent = true
		case err != nil:
			m.close()
			return nil, fmt.Errorf("record: recover: hash %s: %w", o.File, err)
		default:
			e.SHA256, e.Bytes = sum, n
		}
		if err := m.append(e); err != nil {
			m.close()
			return nil, err
		}
	}
	if !rep.Closed {
		if err := m.append(&Entry{Type: EntryEnd, At: now, Recovered: true, Error: "recovered after a crash"}); err != nil {
			m.close()
			return nil, err
		}
	}
	if err := m.close(); err != nil {
		return nil, fmt.Errorf("record: recover: %w", err)
	}
	return Verify(dir, pub)
}
