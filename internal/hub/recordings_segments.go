package hub

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/bailiff/bailiff/internal/hub/api"
)

// OpenSegment opens segment n (from 0) of a stopped recording's track, as the recorder named
// it ("<track>-<n>.webm", media/record). The file is opened inside the recording's directory
// only (os.OpenInRoot): no name can reach another file.
func (rs *recordings) OpenSegment(ctx context.Context, id, track string, n int) (api.SegmentFile, error) {
	rs.mu.Lock()
	_, running := rs.active[id]
	rs.mu.Unlock()
	if running {
		return api.SegmentFile{}, fmt.Errorf("recording %s is still being written: its segments can be played once it stops: %w", id, api.ErrConflict)
	}
	rows, err := rs.h.store.Recordings(ctx, "")
	if err != nil {
		return api.SegmentFile{}, err
	}
	dir := ""
	for _, r := range rows {
		if r.ID == id {
			dir = r.Dir
		}
	}
	if dir == "" {
		return api.SegmentFile{}, ErrNoRecording
	}
	name := fmt.Sprintf("%s-%06d.webm", track, n)
	f, err := os.OpenInRoot(filepath.Join(rs.h.opts.DataDir, dir), name)
	if errors.Is(err, fs.ErrNotExist) {
		return api.SegmentFile{}, fmt.Errorf("recording %s has no segment %d of track %q: %w", id, n, track, api.ErrNotFound)
	}
	if err != nil {
		// A link out of the directory, or a name that is not a file: nothing to serve.
		return api.SegmentFile{}, fmt.Errorf("recording %s: segment %s cannot be opened: %v: %w", id, name, err, api.ErrNotFound)
	}
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		f.Close()
		return api.SegmentFile{}, fmt.Errorf("recording %s: segment %s is not a file: %w", id, name, api.ErrNotFound)
	}
	return api.SegmentFile{File: f, Name: name, ModTime: fi.ModTime()}, nil
}
