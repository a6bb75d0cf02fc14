package record

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"
)

// ManifestName is the name of the manifest file in a recording directory.
const ManifestName = "manifest.jsonl"

// manifestVersion is the "v" of every entry this package writes.
const manifestVersion = 1

// sigDomain is prefixed to an entry's body before signing, so a manifest
// signature can never be mistaken for a signature over anything else.
const sigDomain = "bailiff-record-manifest-v1\x00"

// sigField introduces the signature, always the last member of a line.
var sigField = []byte(`,"sig":"`)

// Entry types.
const (
	EntryHeader  = "header"  // first line: the recording and its key
	EntryTrack   = "track"   // a track was added
	EntryOpen    = "open"    // a segment file is about to be written
	EntrySegment = "segment" // a segment file is finished: its size and SHA-256 (it is sealed)
	EntryMarker  = "marker"  // a marker (log note, privacy start/end, …)
	EntryEnd     = "end"     // the recording ended (closed, stopped by an error, or recovered)
)

// Entry is one line of the manifest. Which fields are set depends on Type.
//
// On disk an entry is the JSON of this struct (fields in this order, empty
// ones left out) followed by the signature, always the last member:
//
//	{"v":1,"seq":3,"type":"segment",…,"prev":"<hex>","sig":"<hex>"}
//
// "prev" is the hex SHA-256 of the whole previous line (without its newline),
// so the lines form a hash chain; "sig" is the hex ed25519 signature of
// sigDomain followed by the line as it stands without the signature member
// (that is, the bytes up to `,"sig":"` and a closing brace).
type Entry struct {
	V    int       `json:"v"`
	Seq  uint64    `json:"seq"`
	Type string    `json:"type"`
	At   time.Time `json:"at"`

	// header
	Recording string `json:"recording,omitempty"`
	Site      string `json:"site,omitempty"`
	Room      string `json:"room,omitempty"`
	Previous  string `json:"previous,omitempty"` // a recording this one continues
	Key       string `json:"key,omitempty"`      // hex ed25519 public key
	KeyID     string `json:"key_id,omitempty"`   // Fingerprint of Key
	SegmentMS int64  `json:"segment_ms,omitempty"`

	// track, open, segment
	Track     string `json:"track,omitempty"`
	Kind      string `json:"kind,omitempty"`
	Codec     string `json:"codec,omitempty"`
	ClockRate uint32 `json:"clock_rate,omitempty"`
	Channels  uint16 `json:"channels,omitempty"`
	Index     int    `json:"index,omitempty"`
	File      string `json:"file,omitempty"`

	// segment
	Start      time.Time `json:"start,omitzero"`
	End        time.Time `json:"end,omitzero"`
	DurationMS int64     `json:"duration_ms,omitempty"`
	Frames     int64     `json:"frames,omitempty"`
	Bytes      int64     `json:"bytes,omitempty"`
	SHA256     string    `json:"sha256,omitempty"`
	Recovered  bool      `json:"recovered,omitempty"` // sealed by Recover after a crash
	Absent     bool      `json:"absent,omitempty"`    // recovered, but the file was never created
	Error      string    `json:"error,omitempty"`     // segment cut short by this error; or why the recording ended

	// marker
	Marker string `json:"marker,omitempty"`
	Text   string `json:"text,omitempty"`

	Prev string `json:"prev,omitempty"` // hex SHA-256 of the previous line; empty on the header
}

// encodeEntry returns the signed line for e, without its newline.
func encodeEntry(e *Entry, key ed25519.PrivateKey) ([]byte, error) {
	body, err := json.Marshal(e)
	if err != nil {
		return nil, fmt.Errorf("record: encode manifest entry: %w", err)
	}
	msg := make([]byte, 0, len(sigDomain)+len(body))
	msg = append(msg, sigDomain...)
	msg = append(msg, body...)
	sig := ed25519.Sign(key, msg)
	line := make([]byte, 0, len(body)+len(sigField)+2*len(sig)+2)
	line = append(line, body[:len(body)-1]...)
	line = append(line, sigField...)
	line = hex.AppendEncode(line, sig)
	line = append(line, '"', '}')
	return line, nil
}

// parsedLine is one manifest line taken apart.
type parsedLine struct {
	entry Entry
	body  []byte // the signed bytes (without sigDomain)
	sig   []byte
}

var (
	errNoSig     = errors.New("no signature member at the end of the line")
	errBadSigHex = errors.New("signature is not 64 bytes of hex")
)

// parseLine takes apart one manifest line (without its newline). It checks
// the form only; signature and chain are checked by the caller.
func parseLine(line []byte) (*parsedLine, error) {
	if !bytes.HasSuffix(line, []byte(`"}`)) {
		return nil, errNoSig
	}
	i := bytes.LastIndex(line, sigField)
	if i < 0 || i+len(sigField) > len(line)-2 {
		return nil, errNoSig
	}
	sigHex := line[i+len(sigField) : len(line)-2]
	if len(sigHex) != 2*ed25519.SignatureSize {
		return nil, errBadSigHex
	}
	sig := make([]byte, ed25519.SignatureSize)
	if _, err := hex.Decode(sig, sigHex); err != nil {
		return nil, errBadSigHex
	}
	body := make([]byte, 0, i+1)
	body = append(body, line[:i]...)
	body = append(body, '}')
	p := &parsedLine{body: body, sig: sig}
	if err := json.Unmarshal(body, &p.entry); err != nil {
		return nil, fmt.Errorf("bad JSON: %w", err)
	}
	if p.entry.Type == "" {
		return nil, errors.New(`no "type"`)
	}
	return p, nil
}

// verifySig reports whether p carries pub's signature.
func (p *parsedLine) verifySig(pub ed25519.PublicKey) bool {
	if len(pub) != ed25519.PublicKeySize {
		return false
	}
	msg := make([]byte, 0, len(sigDomain)+len(p.body))
	msg = append(msg, sigDomain...)
	msg = append(msg, p.body...)
	return ed25519.Verify(pub, msg, p.sig)
}

// lineHash is the chain link of a line: hex SHA-256 of its bytes.
func lineHash(line []byte) string {
	h := sha256.Sum256(line)
	return hex.EncodeToString(h[:])
}

// splitLines splits a manifest into lines. A last line without a newline is
// returned as torn: it was cut while being written, or the file was cut.
func splitLines(data []byte) (lines [][]byte, torn []byte) {
	for len(data) > 0 {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			return lines, data
		}
		lines = append(lines, data[:i])
		data = data[i+1:]
	}
	return lines, nil
}

// manifestWriter appends signed, chained entries to a manifest file, one
// write and one fsync per entry. An append that fails is cut off again, so
// the file never holds half an entry; the writer then refuses further entries.
type manifestWriter struct {
	mu     sync.Mutex
	f      file
	key    ed25519.PrivateKey
	size   int64
	seq    uint64
	prev   string
	broken error
}

func (m *manifestWriter) append(e *Entry) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.broken != nil {
		return m.broken
	}
	e.V = manifestVersion
	e.Seq = m.seq
	e.Prev = m.prev
	if e.At.IsZero() {
		return errors.New("record: manifest entry without time")
	}
	line, err := encodeEntry(e, m.key)
	if err != nil {
		return err
	}
	line = append(line, '\n')
	n, err := m.f.Write(line)
	if err == nil && n != len(line) {
		err = fmt.Errorf("short write (%d of %d bytes)", n, len(line))
	}
	if err == nil {
		err = m.f.Sync()
	}
	if err != nil {
		// Cut the torn entry off again; a truncate needs no free space.
		if terr := m.f.Truncate(m.size); terr != nil {
			err = errors.Join(err, fmt.Errorf("truncate: %w", terr))
		}
		m.broken = fmt.Errorf("record: append to manifest: %w", err)
		return m.broken
	}
	m.size += int64(n)
	m.seq++
	m.prev = lineHash(line[:len(line)-1])
	return nil
}

// head returns the hash of the last line written.
func (m *manifestWriter) head() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.prev
}

func (m *manifestWriter) close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.f == nil {
		return nil
	}
	err := m.f.Close()
	m.f = nil
	if m.broken == nil {
		m.broken = ErrClosed
	}
	return err
}
