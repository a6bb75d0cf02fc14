package hub

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/bailiff/bailiff/internal/hub/alarms"
	"github.com/bailiff/bailiff/internal/hub/api"
	"github.com/bailiff/bailiff/internal/store"
	"github.com/bailiff/bailiff/media/record"
	"github.com/bailiff/bailiff/media/sfu"
)

// ErrNoRecording: no recording with that ID. ErrRecordingActive: the room is already being
// recorded.
var (
	ErrNoRecording     = fmt.Errorf("no such recording: %w", api.ErrNotFound)
	ErrRecordingActive = fmt.Errorf("the room is already being recorded: %w", api.ErrConflict)
)

// The API's view of the recordings service.
func (rs *recordings) Start(ctx context.Context, site, room string) (any, error) {
	return rs.start(ctx, site, room)
}
func (rs *recordings) Stop(ctx context.Context, id string) (any, error) { return rs.stop(ctx, id) }
func (rs *recordings) Get(ctx context.Context, id string) (any, error)  { return rs.get(ctx, id) }
func (rs *recordings) List(ctx context.Context, visible func(id string) bool) any {
	all := rs.list(ctx)
	out := make([]RecordingView, 0, len(all))
	for _, r := range all {
		if visible == nil || visible(r.ID) {
			out = append(out, r)
		}
	}
	return out
}

// stopAll seals every running recording (the hub is stopping).
func (rs *recordings) stopAll() {
	rs.mu.Lock()
	ids := make([]string, 0, len(rs.active))
	for id := range rs.active {
		ids = append(ids, id)
	}
	rs.mu.Unlock()
	for _, id := range ids {
		if _, err := rs.stop(context.Background(), id); err != nil {
			rs.h.log.Error("stop recording", "recording", id, "error", err)
		}
	}
}

// recordings records every stream of a room: each of its streams, published now or later, is
// one more downstream of the SFU into the room's recorder.
type recordings struct {
	h *Hub

	mu     sync.Mutex
	active map[string]*activeRecording // by recording ID
}

type activeRecording struct {
	row    store.Recording
	rec    *record.Recorder
	cancel func() // stops watching for new streams

	mu      sync.Mutex
	detach  []func()
	trackNo map[string]int // track IDs used, so a republished stream gets new files
}

// RecordingView is a recording as the API shows it.
type RecordingView struct {
	ID       string              `json:"id"`
	Site     string              `json:"site"`
	Room     string              `json:"room"`
	Dir      string              `json:"dir"` // relative to the data directory
	State    string              `json:"state"`
	Started  time.Time           `json:"started"`
	Stopped  *time.Time          `json:"stopped,omitempty"`
	Error    string              `json:"error,omitempty"`
	Tracks   []record.TrackStats `json:"tracks,omitempty"`   // while recording
	Segments []record.Segment    `json:"segments,omitempty"` // once stopped, from verification
	Verified *bool               `json:"verified,omitempty"`
	Problems []string            `json:"problems,omitempty"`
}

func (rs *recordings) start(ctx context.Context, site, room string) (RecordingView, error) {
	if o := rs.h.mediaOrigin(site, room); o != "" {
		return RecordingView{}, fmt.Errorf("%w: %s/%s is recorded by its media origin %s", ErrMediaElsewhere, site, room, o)
	}
	rs.mu.Lock()
	defer rs.mu.Unlock()
	for _, a := range rs.active {
		if a.row.Site == site && a.row.Room == room {
			return RecordingView{}, fmt.Errorf("%w: recording %s", ErrRecordingActive, a.row.ID)
		}
	}
	now := time.Now().UTC()
	id := now.Format("20060102T150405Z") + "-" + site + "-" + room
	rel := filepath.Join("recordings", site, room, id)
	// A second recording of the room within the same second (a hearing paused and resumed
	// at once) gets a suffix.
	for n := 2; ; n++ {
		if _, err := os.Stat(filepath.Join(rs.h.opts.DataDir, rel)); err != nil {
			break // not there, or cannot be there (record.Start says why)
		}
		id = fmt.Sprintf("%s-%s-%s-%d", now.Format("20060102T150405Z"), site, room, n)
		rel = filepath.Join("recordings", site, room, id)
	}
	a := &activeRecording{trackNo: map[string]int{}}
	a.row = store.Recording{ID: id, Site: site, Room: room, Dir: rel, State: store.RecordingActive, Started: now}
	rec, err := record.Start(record.Options{
		Dir: filepath.Join(rs.h.opts.DataDir, rel), Key: rs.h.recKey, ID: id, Site: site, Room: room,
		Logger:  rs.h.log.With("site", site, "room", room, "recording", id),
		OnError: func(err error) { rs.failed(id, err) },
		Written: &rs.h.metrics.recBytes,
	})
	if err != nil {
		rs.h.metrics.recErrors.Inc()
		return RecordingView{}, fmt.Errorf("start recording: %w", err)
	}
	a.rec = rec
	if err := rs.h.store.PutRecording(ctx, a.row); err != nil {
		rec.Close()
		return RecordingView{}, err
	}
	rs.active[id] = a
	if rs.h.programs != nil && rs.h.programs.privacyOn(site, room) {
		// A recording that starts in a bench conference says so first.
		if err := rec.Mark(markPrivacyStart, "on when the recording started"); err != nil {
			rs.h.log.Warn("recording: privacy marker", "recording", id, "error", err)
		}
	}
	a.cancel = rs.h.sfu.Watch(func(st *sfu.Stream) {
		if st.Key().Site != site || st.Key().Room != room {
			return
		}
		detach, err := st.Attach(sfu.DownstreamFunc(func(t *sfu.Track) (sfu.Sink, error) {
			i := t.Info()
			return rec.AddTrack(record.Track{ID: a.trackID(st.Key().Name + "-" + i.ID), MimeType: i.MimeType,
				ClockRate: i.ClockRate, Channels: i.Channels, RequestKeyframe: t.RequestKeyframe})
		}))
		if err == nil {
			a.mu.Lock()
			a.detach = append(a.detach, detach)
			a.mu.Unlock()
		}
	})
	rs.h.feed.Publish("recording", map[string]any{"site": site, "room": room, "id": id, "state": a.row.State})
	return rs.view(a.row, a), nil
}

// mark writes a marker into the room's running recording, if any.
func (rs *recordings) mark(site, room, kind, text string) {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	for id, a := range rs.active {
		if a.row.Site == site && a.row.Room == room {
			if err := a.rec.Mark(kind, text); err != nil {
				rs.h.log.Warn("recording: marker", "recording", id, "marker", kind, "error", err)
			}
		}
	}
}

// activeFor is the room's running recording, if any, and when it started.
func (rs *recordings) activeFor(site, room string) (string, time.Time, bool) {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	for id, a := range rs.active {
		if a.row.Site == site && a.row.Room == room {
			return id, a.row.Started, true
		}
	}
	return "", time.Time{}, false
}

// trackID is base, or base-2, base-3… when a stream was published again under the same name.
func (a *activeRecording) trackID(base string) string {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.trackNo[base]++
	if n := a.trackNo[base]; n > 1 {
		return fmt.Sprintf("%s-%d", base, n)
	}
	return base
}

// stop ends a recording: no new streams, every track sealed, the manifest closed.
func (rs *recordings) stop(ctx context.Context, id string) (RecordingView, error) {
	return rs.stopWith(ctx, id, nil)
}

// stopWith is stop; a recording that stops because of cause (not nil) is stored failed with
// it, whatever closing it says.
func (rs *recordings) stopWith(ctx context.Context, id string, cause error) (RecordingView, error) {
	rs.mu.Lock()
	a, ok := rs.active[id]
	delete(rs.active, id)
	rs.mu.Unlock()
	if !ok {
		for _, r := range rs.list(ctx) {
			if r.ID == id {
				return r, nil // already stopped
			}
		}
		return RecordingView{}, ErrNoRecording
	}
	a.cancel()
	a.mu.Lock()
	for _, d := range a.detach {
		d()
	}
	a.mu.Unlock()
	err := a.rec.Close()
	if cause != nil {
		err = cause
	}
	a.mu.Lock() // the recorder's OnError (failed) may read the row at the same time
	a.row.Stopped = time.Now().UTC()
	a.row.Head = a.rec.Head()
	a.row.State = store.RecordingStopped
	if err != nil {
		a.row.State, a.row.Error = store.RecordingFailed, err.Error()
	}
	row := a.row
	a.mu.Unlock()
	if perr := rs.h.store.PutRecording(ctx, row); perr != nil {
		return RecordingView{}, perr
	}
	rs.h.feed.Publish("recording", map[string]any{"site": row.Site, "room": row.Room, "id": id, "state": row.State})
	return rs.view(row, nil), nil
}

// failed is the recorder's OnError: a full disk or a write error. The recording has stopped
// itself (nothing sealed is touched); the hub raises an alarm, and closes the recording as
// failed, saying why: it is no longer the room's running recording, so the API shows it
// failed and the room (a hearing in session) can be recorded again once there is space.
func (rs *recordings) failed(id string, err error) {
	rs.mu.Lock()
	a := rs.active[id]
	rs.mu.Unlock()
	if a == nil {
		return
	}
	rs.h.metrics.recErrors.Inc()
	a.mu.Lock()
	row := a.row
	a.mu.Unlock()
	rs.h.log.Error("recording stopped", "recording", id, "error", err)
	rs.h.alarms.Raise(alarms.RecordingFailed, row.Site, row.Room, "", fmt.Sprintf("recording %s stopped: %v", id, err))
	// stop closes what is left (the watch for new streams, the tracks, the manifest, which
	// ends with the error if it can still be written) and stores the recording failed with
	// the recorder's error.
	if _, serr := rs.stopWith(context.Background(), id, err); serr != nil {
		rs.h.log.Error("recording stopped: close", "recording", id, "error", serr)
	}
}

// recoverAll seals the recordings a previous run left open (a crash, a kill -9).
func (rs *recordings) recoverAll(ctx context.Context) {
	open, err := rs.h.store.Recordings(ctx, store.RecordingActive)
	if err != nil {
		rs.h.log.Error("recordings left open", "error", err)
		return
	}
	for _, r := range open {
		if _, err := os.Stat(filepath.Join(rs.h.opts.DataDir, r.Dir)); err != nil && rs.h.sharing() {
			continue // another hub of the share group is recording it, in its own data directory
		}
		rep, err := record.Recover(filepath.Join(rs.h.opts.DataDir, r.Dir), rs.h.recKey)
		r.Stopped = time.Now().UTC()
		r.State = store.RecordingRecovered
		if err != nil {
			r.State, r.Error = store.RecordingFailed, "recovery: "+err.Error()
		} else if rep != nil && !rep.OK() && rep.Tampered() {
			r.State, r.Error = store.RecordingFailed, "recovery: "+rep.String()
		}
		rs.h.log.Warn("recording left open by the last run", "recording", r.ID, "state", r.State, "error", r.Error)
		rs.h.store.PutRecording(ctx, r)
	}
}

func (rs *recordings) list(ctx context.Context) []RecordingView {
	rows, err := rs.h.store.Recordings(ctx, "")
	if err != nil {
		rs.h.log.Error("list recordings", "error", err)
		return nil
	}
	out := make([]RecordingView, 0, len(rows))
	for _, r := range rows {
		out = append(out, RecordingView{ID: r.ID, Site: r.Site, Room: r.Room, Dir: r.Dir, State: r.State, Started: r.Started, Error: r.Error})
	}
	return out
}

func (rs *recordings) get(ctx context.Context, id string) (RecordingView, error) {
	rs.mu.Lock()
	a := rs.active[id]
	rs.mu.Unlock()
	if a != nil {
		a.mu.Lock()
		row := a.row
		a.mu.Unlock()
		return rs.view(row, a), nil
	}
	rows, err := rs.h.store.Recordings(ctx, "")
	if err != nil {
		return RecordingView{}, err
	}
	for _, r := range rows {
		if r.ID == id {
			return rs.view(r, nil), nil
		}
	}
	return RecordingView{}, ErrNoRecording
}

// view shows a recording: live counters while it runs; its segments and the verification of
// its manifest once it has stopped.
func (rs *recordings) view(r store.Recording, a *activeRecording) RecordingView {
	v := RecordingView{ID: r.ID, Site: r.Site, Room: r.Room, Dir: r.Dir, State: r.State, Started: r.Started, Error: r.Error}
	if !r.Stopped.IsZero() {
		t := r.Stopped
		v.Stopped = &t
	}
	if a != nil {
		v.Tracks = a.rec.Stats()
		return v
	}
	dir := filepath.Join(rs.h.opts.DataDir, r.Dir)
	if _, err := os.Stat(dir); err != nil {
		v.Problems = []string{"the recording's directory is missing"}
		f := false
		v.Verified = &f
		return v
	}
	rep, err := VerifyRecording(rs.h.opts.DataDir, dir)
	ok := err == nil && rep.OK() && (r.Head == "" || rep.Head == r.Head)
	v.Verified = &ok
	if err != nil {
		v.Problems = append(v.Problems, err.Error())
		return v
	}
	v.Segments = rep.Segments
	for _, p := range rep.Problems {
		v.Problems = append(v.Problems, p.String())
	}
	if r.Head != "" && rep.Head != r.Head {
		v.Problems = append(v.Problems, "the manifest does not end where it ended when the recording was closed: entries were removed or added")
	}
	return v
}
