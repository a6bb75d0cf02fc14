package record

import "errors"

// Named errors. Every error this package returns starts with "record: " and,
// where it stands for one of these, wraps it (test with errors.Is).
var (
	// ErrExists: Start was pointed at a directory that already holds a recording.
	ErrExists = errors.New("record: directory already holds a recording")
	// ErrClosed: the recorder or track was closed.
	ErrClosed = errors.New("record: closed")
	// ErrStopped: the recording stopped on a write error (full disk, I/O
	// error); the error that stopped it is wrapped alongside.
	ErrStopped = errors.New("record: recording stopped")
	// ErrDuplicateTrack: AddTrack was given the ID of a track that is still open.
	ErrDuplicateTrack = errors.New("record: track already open")
	// ErrUnsupportedCodec: the track's MimeType is not Opus, VP8 or H.264.
	ErrUnsupportedCodec = errors.New("record: unsupported codec")
	// ErrBadID: a track ID or marker kind does not match the allowed pattern.
	ErrBadID = errors.New("record: bad identifier")
	// ErrNoManifest: the directory has no manifest.
	ErrNoManifest = errors.New("record: no manifest")
	// ErrTampered: Recover refused to seal a recording whose verification
	// found more than a crash (changed, missing, extra or reordered segments,
	// a broken chain or a bad signature).
	ErrTampered = errors.New("record: recording fails verification")
	// ErrKeyMismatch: a key does not match the one a recording was signed with.
	ErrKeyMismatch = errors.New("record: key does not match the recording's key")
	// ErrKeyFile: a key file is unreadable, malformed or too widely readable.
	ErrKeyFile = errors.New("record: bad key file")
)
