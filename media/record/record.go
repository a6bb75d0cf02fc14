package record

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults for Options.
const (
	DefaultSegmentDuration = 10 * time.Minute
	DefaultQueueSize       = 1024 // packets per track: ~4 s of a 2.5 Mbps video track
	DefaultFlushInterval   = 500 * time.Millisecond
)

// Options configure a recording.
type Options struct {
	// Dir is the recording's directory. It must be empty or not exist yet.
	Dir string
	// Key signs the manifest (see LoadOrCreateKey).
	Key ed25519.PrivateKey
	// ID names the recording in its manifest; random when empty.
	ID string
	// Site and Room go into the manifest's header.
	Site, Room string
	// Previous is the ID of a recording this one continues (after a crash,
	// say); it goes into the header.
	Previous string
	// SegmentDuration: a segment is cut at the first keyframe (any frame, for
	// audio) this long after its start. Default 10 minutes.
	SegmentDuration time.Duration
	// QueueSize bounds each track's packet queue; packets that find it full
	// are dropped and counted. Default 1024.
	QueueSize int
	// FlushInterval: how often each open segment is fsynced. Default 500 ms.
	// Data reaches the kernel at once, so a kill -9 loses only what is still
	// queued; the fsync bounds what a power cut loses.
	FlushInterval time.Duration
	// Clock gives the wall-clock time for the manifest; time.Now when nil.
	Clock func() time.Time
	// Logger; slog.Default() when nil.
	Logger *slog.Logger
	// OnError is called once, on a goroutine of its own, when a write error
	// (full disk, failing disk) stops the recording. The hub raises an alarm.
	OnError func(error)
	// Written, when set, counts every byte the recording writes to its segment files (the
	// hub's bailiff_recording_bytes_total); one counter may serve many recordings.
	Written *atomic.Int64

	// Tests: files that fail like a full disk, or live in memory.
	open    openFunc
	syncDir func(dir string) error
}

var (
	trackIDPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)
	markerPattern  = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]{0,63}$`)
)

// MaxMarkerText is the longest marker text Mark accepts, in bytes.
const MaxMarkerText = 4096

// Recorder writes one recording: every track in its own WebM segments,
// and a signed, hash-chained manifest.
type Recorder struct {
	opts Options
	log  *slog.Logger
	man  *manifestWriter

	mu        sync.Mutex
	closed    bool
	tracks    map[string]*TrackWriter
	nextIndex map[string]int

	stop     chan struct{} // closed when a write error stops the recording
	failOnce sync.Once
	failErr  atomic.Pointer[error]

	sealq      chan *segmentWriter
	sealerDone chan struct{}
}

// Start creates the recording directory and its manifest, and returns the
// recorder, ready for AddTrack.
func Start(opts Options) (*Recorder, error) {
	if opts.Dir == "" {
		return nil, errors.New("record: Options.Dir is empty")
	}
	if len(opts.Key) != ed25519.PrivateKeySize {
		return nil, errors.New("record: Options.Key is not an ed25519 private key")
	}
	if opts.SegmentDuration <= 0 {
		opts.SegmentDuration = DefaultSegmentDuration
	}
	if opts.QueueSize <= 0 {
		opts.QueueSize = DefaultQueueSize
	}
	if opts.FlushInterval <= 0 {
		opts.FlushInterval = DefaultFlushInterval
	}
	if opts.Clock == nil {
		opts.Clock = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.open == nil {
		opts.open = osOpen
	}
	if opts.Written != nil {
		opts.open = countingOpen(opts.open, opts.Written)
	}
	if opts.syncDir == nil {
		opts.syncDir = syncDir
	}
	if opts.ID == "" {
		var b [8]byte
		if _, err := io.ReadFull(rand.Reader, b[:]); err != nil {
			return nil, fmt.Errorf("record: make recording id: %w", err)
		}
		opts.ID = opts.Clock().UTC().Format("20060102T150405Z") + "-" + hex.EncodeToString(b[:])
	}
	if err := os.MkdirAll(opts.Dir, 0o750); err != nil {
		return nil, fmt.Errorf("record: create %s: %w", opts.Dir, err)
	}
	ents, err := os.ReadDir(opts.Dir)
	if err != nil {
		return nil, fmt.Errorf("record: read %s: %w", opts.Dir, err)
	}
	if len(ents) > 0 {
		return nil, fmt.Errorf("%w: %s is not empty", ErrExists, opts.Dir)
	}
	f, err := opts.open(filepath.Join(opts.Dir, ManifestName), os.O_WRONLY|os.O_CREATE|os.O_EXCL|os.O_APPEND, 0o640)
	if err != nil {
		if errors.Is(err, fs.ErrExist) {
			return nil, fmt.Errorf("%w: %s", ErrExists, opts.Dir)
		}
		return nil, fmt.Errorf("record: create manifest: %w", err)
	}
	r := &Recorder{
		opts:       opts,
		log:        opts.Logger.With("recording", opts.ID),
		man:        &manifestWriter{f: f, key: opts.Key},
		tracks:     map[string]*TrackWriter{},
		nextIndex:  map[string]int{},
		stop:       make(chan struct{}),
		sealq:      make(chan *segmentWriter, 64),
		sealerDone: make(chan struct{}),
	}
	pub := opts.Key.Public().(ed25519.PublicKey)
	err = r.man.append(&Entry{
		Type:      EntryHeader,
		At:        opts.Clock().UTC(),
		Recording: opts.ID,
		Site:      opts.Site,
		Room:      opts.Room,
		Previous:  opts.Previous,
		Key:       hex.EncodeToString(pub),
		KeyID:     Fingerprint(pub),
		SegmentMS: opts.SegmentDuration.Milliseconds(),
	})
	if err == nil {
		err = opts.syncDir(opts.Dir)
	}
	if err != nil {
		r.man.close()
		return nil, err
	}
	go r.sealer()
	r.log.Info("record: recording started", "dir", opts.Dir, "site", opts.Site, "room", opts.Room)
	return r, nil
}

// ID returns the recording's ID.
func (r *Recorder) ID() string { return r.opts.ID }

// Dir returns the recording's directory.
func (r *Recorder) Dir() string { return r.opts.Dir }

// Err returns the error that stopped the recording, or nil.
func (r *Recorder) Err() error {
	if p := r.failErr.Load(); p != nil {
		return *p
	}
	return nil
}

// fail stops the recording on a write error: OnError is told once, every
// track closes its segment (sealing it if the manifest can still be
// written) and drops what comes after.
func (r *Recorder) fail(err error) {
	r.failOnce.Do(func() {
		werr := fmt.Errorf("%w: %w", ErrStopped, err)
		r.failErr.Store(&werr)
		close(r.stop)
		r.log.Error("record: recording stopped", "error", err)
		if r.opts.OnError != nil {
			go r.opts.OnError(werr)
		}
	})
}

func (r *Recorder) now() time.Time { return r.opts.Clock().UTC() }

// AddTrack starts recording a track. Its segments are named
// "<ID>-<index>.webm"; a track closed and added again with the same ID
// continues the numbering.
func (r *Recorder) AddTrack(t Track) (*TrackWriter, error) {
	if !trackIDPattern.MatchString(t.ID) {
		return nil, fmt.Errorf("%w: track ID %q (want %s)", ErrBadID, t.ID, trackIDPattern)
	}
	c, err := newCodec(t)
	if err != nil {
		return nil, err
	}
	kind := Audio
	if c.video() {
		kind = Video
	}
	if t.Kind != "" && t.Kind != kind {
		return nil, fmt.Errorf("%w: %s track with MimeType %s", ErrUnsupportedCodec, t.Kind, t.MimeType)
	}
	t.Kind = kind
	if t.ClockRate == 0 {
		t.ClockRate = 90000
		if kind == Audio {
			t.ClockRate = 48000
		}
	}
	if kind == Audio && t.Channels == 0 {
		t.Channels = 2
	}

	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil, ErrClosed
	}
	if err := r.Err(); err != nil {
		return nil, err
	}
	if _, ok := r.tracks[t.ID]; ok {
		return nil, fmt.Errorf("%w: %s", ErrDuplicateTrack, t.ID)
	}
	err = r.man.append(&Entry{
		Type: EntryTrack, At: r.now(), Track: t.ID, Kind: string(t.Kind),
		Codec: t.MimeType, ClockRate: t.ClockRate, Channels: t.Channels,
	})
	if err != nil {
		r.fail(err)
		return nil, r.Err()
	}
	tw := newTrackWriter(r, t, c)
	r.tracks[t.ID] = tw
	go tw.run()
	return tw, nil
}

// takeIndex returns the next segment index of a track.
func (r *Recorder) takeIndex(id string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	i := r.nextIndex[id]
	r.nextIndex[id] = i + 1
	return i
}

func (r *Recorder) removeTrack(tw *TrackWriter) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.tracks[tw.t.ID] == tw {
		delete(r.tracks, tw.t.ID)
	}
}

// Mark adds a marker to the manifest: kind is a short lower-case word
// ("note", "privacy-start", "privacy-end", …), text free UTF-8 of at most
// MaxMarkerText bytes. The marker carries the time of the call.
func (r *Recorder) Mark(kind, text string) error {
	if !markerPattern.MatchString(kind) {
		return fmt.Errorf("%w: marker kind %q (want %s)", ErrBadID, kind, markerPattern)
	}
	if len(text) > MaxMarkerText {
		return fmt.Errorf("record: marker text of %d bytes (at most %d)", len(text), MaxMarkerText)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return ErrClosed
	}
	if err := r.Err(); err != nil {
		return err
	}
	if err := r.man.append(&Entry{Type: EntryMarker, At: r.now(), Marker: kind, Text: text}); err != nil {
		r.fail(err)
		return r.Err()
	}
	return nil
}

// appendOpen writes the entry announcing a segment file.
func (r *Recorder) appendOpen(t Track, index int, name string) error {
	return r.man.append(&Entry{
		Type: EntryOpen, At: r.now(), Track: t.ID, Kind: string(t.Kind), Index: index, File: name,
	})
}

// sealer hashes finished segments and writes their manifest entries, one
// after the other, off the tracks' goroutines.
func (r *Recorder) sealer() {
	defer close(r.sealerDone)
	for w := range r.sealq {
		if err := r.seal(w); err != nil {
			r.fail(err)
		}
	}
}

func (r *Recorder) seal(w *segmentWriter) error {
	sum, size, err := hashFile(w.path)
	if err != nil {
		return fmt.Errorf("record: hash %s: %w", w.name, err)
	}
	e := &Entry{
		Type:       EntrySegment,
		At:         r.now(),
		Track:      w.track.ID,
		Kind:       string(w.track.Kind),
		Index:      w.index,
		File:       w.name,
		Start:      w.startWall.UTC(),
		End:        w.startWall.Add(time.Duration(w.durationMS()) * time.Millisecond).UTC(),
		DurationMS: w.durationMS(),
		Frames:     w.frames,
		Bytes:      size,
		SHA256:     sum,
	}
	if w.err != nil {
		e.Error = w.err.Error()
	}
	if err := r.man.append(e); err != nil {
		return err
	}
	r.log.Debug("record: segment sealed", "file", w.name, "bytes", size, "sha256", sum)
	return nil
}

// hashFile returns the hex SHA-256 and the size of a file.
func hashFile(path string) (string, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return "", 0, err
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

// Close ends the recording: every track's last frames are written, its
// segment closed and sealed, and the manifest ends with an "end" entry.
// It returns the error that stopped the recording, if one did (wrapping
// ErrStopped), and ErrClosed when called again.
func (r *Recorder) Close() error {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return ErrClosed
	}
	r.closed = true
	var tracks []*TrackWriter
	for _, tw := range r.tracks {
		tracks = append(tracks, tw)
	}
	r.mu.Unlock()

	for _, tw := range tracks {
		tw.shutdown()
	}
	for _, tw := range tracks {
		<-tw.done
	}
	close(r.sealq)
	<-r.sealerDone

	end := &Entry{Type: EntryEnd, At: r.now()}
	stopErr := r.Err()
	if stopErr != nil {
		end.Error = stopErr.Error()
	}
	err := r.man.append(end)
	if cerr := r.man.close(); err == nil {
		err = cerr
	}
	if stopErr != nil {
		return stopErr
	}
	if err != nil {
		return err
	}
	r.log.Info("record: recording closed")
	return nil
}

// Head returns the hash of the manifest's last line (after Close, of its
// end entry). The hub keeps it in its audit log: a manifest whose tail was
// cut off still has a whole chain, but no longer this head.
func (r *Recorder) Head() string { return r.man.head() }

// Stats returns every open track's counters.
func (r *Recorder) Stats() []TrackStats {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []TrackStats
	for _, tw := range r.tracks {
		out = append(out, tw.Stats())
	}
	return out
}
