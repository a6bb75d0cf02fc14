package api

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// SegmentFile is one WebM segment of a recording, open for reading.
type SegmentFile struct {
	File    io.ReadSeekCloser
	Name    string // the file's name, e.g. cam-video-000003.webm
	ModTime time.Time
}

// RecordingSegments opens a stopped recording's segment: index n (0 is the first, as the
// recording's segments list shows it) of track. Its
// errors wrap ErrNotFound (no such recording, track or segment) or ErrConflict (the recording
// is still being written). The Recordings service implements it when it can serve its files.
type RecordingSegments interface {
	OpenSegment(ctx context.Context, id, track string, n int) (SegmentFile, error)
}

// segmentTrack is a recorder's track ID (media/record names its segments after it).
var segmentTrack = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)

// recordingSegment serves one segment of a recording to whoever may see the recording (its
// hearing's access level decides, as for GET /api/v1/recordings/{id}), with Range support so
// a <video> element can seek. The token may be the access_token query parameter: a <video>
// element cannot send headers.
func (s *Server) recordingSegment(w http.ResponseWriter, r *http.Request) {
	id, ok := s.recordingID(w, r)
	if !ok {
		return
	}
	track, ns := r.PathValue("track"), r.PathValue("n")
	if !segmentTrack.MatchString(track) {
		writeError(w, http.StatusBadRequest, "bad_request", fmt.Sprintf("invalid track %q: want %s", track, segmentTrack))
		return
	}
	n, err := strconv.Atoi(ns)
	if err != nil || n < 0 || n > 999999 || strings.Trim(ns, "0123456789") != "" {
		writeError(w, http.StatusBadRequest, "bad_request", fmt.Sprintf("invalid segment number %q: want 0 to 999999", ns))
		return
	}
	if !s.recordingAllowed(w, r, id) {
		return
	}
	rs, ok := s.Recordings.(RecordingSegments)
	if !ok {
		writeError(w, http.StatusNotFound, "not_found", "this hub does not serve recording files")
		return
	}
	f, err := rs.OpenSegment(r.Context(), id, track, n)
	if err != nil {
		s.serviceError(w, err)
		return
	}
	defer f.File.Close()
	h := w.Header()
	h.Set("Content-Type", "video/webm")
	if strings.Contains(track, "audio") {
		h.Set("Content-Type", "audio/webm")
	}
	h.Set("Cache-Control", "private, no-cache")
	h.Set("Content-Disposition", `inline; filename="`+f.Name+`"`)
	http.ServeContent(w, r, f.Name, f.ModTime, f.File)
}
