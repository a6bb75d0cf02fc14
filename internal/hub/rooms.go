package hub

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/bailiff/bailiff/internal/config"
	"github.com/bailiff/bailiff/internal/hub/audit"
	"github.com/bailiff/bailiff/internal/hub/hearings"
	"github.com/bailiff/bailiff/internal/hub/scenes"
	"github.com/bailiff/bailiff/internal/store"
)

// hubActions does the hub's own scene steps: the room's recording and its privacy flag.
type hubActions struct {
	h *Hub
}

func (a *hubActions) Do(ctx context.Context, site, room, action, by string) (string, error) {
	switch action {
	case config.HubStartRecording:
		if id, _, ok := a.h.recs.activeFor(site, room); ok {
			return "already recording: " + id, nil
		}
		v, err := a.h.recs.start(ctx, site, room)
		if errors.Is(err, ErrRecordingActive) {
			return "already recording", nil
		}
		if err != nil {
			return "", err
		}
		a.h.audit.Record(ctx, store.AuditEntry{User: by, Action: audit.RecordingStart, Target: v.ID, Detail: "scene step"})
		return "recording " + v.ID, nil
	case config.HubStopRecording:
		id, _, ok := a.h.recs.activeFor(site, room)
		if !ok {
			return "not recording", nil
		}
		if _, err := a.h.recs.stop(ctx, id); err != nil {
			return "", err
		}
		a.h.audit.Record(ctx, store.AuditEntry{User: by, Action: audit.RecordingStop, Target: id, Detail: "scene step"})
		return "stopped " + id, nil
	case config.HubPrivacyOn, config.HubPrivacyOff:
		on := action == config.HubPrivacyOn
		if err := a.h.programs.setPrivacy(ctx, site, room, on, by); err != nil {
			return "", err
		}
		a.h.feed.Publish("privacy", map[string]any{"site": site, "room": room, "on": on, "by": by})
		return fmt.Sprintf("privacy %v", on), nil
	}
	return "", fmt.Errorf("unknown hub action %q", action)
}

// Privacy reports whether a room's privacy flag is raised (a bench conference).
func (h *Hub) Privacy(site, room string) bool {
	return h.programs.privacyOn(site, room)
}

// recorder is the recordings service as hearings use it.
type recorder struct{ rs *recordings }

func (r recorder) Start(ctx context.Context, site, room string) (string, error) {
	if id, _, ok := r.rs.activeFor(site, room); ok {
		return id, nil
	}
	v, err := r.rs.start(ctx, site, room)
	if errors.Is(err, ErrRecordingActive) {
		if id, _, ok := r.rs.activeFor(site, room); ok {
			return id, nil
		}
	}
	return v.ID, err
}

func (r recorder) Stop(ctx context.Context, id string) error {
	_, err := r.rs.stop(ctx, id)
	return err
}

func (r recorder) Active(site, room string) (string, time.Time, bool) {
	return r.rs.activeFor(site, room)
}

// sceneReport puts a finished scene run on the event stream and in the audit log.
func (h *Hub) sceneReport(run scenes.Run) {
	h.feed.Publish("scene", run)
	result := audit.OK
	switch {
	case run.Aborted:
		result = audit.Aborted
	case !run.OK:
		result = audit.Failed
	}
	type failed struct{ At, Code, Message string }
	var fs []failed
	for _, f := range run.Failed() {
		fs = append(fs, failed{f.At, f.Error.Code, f.Error.Message})
	}
	h.audit.Record(context.Background(), store.AuditEntry{User: run.By, Action: audit.Scene, Target: run.Site + "/" + run.Room + "/" + run.Scene,
		Result: result, Detail: audit.Detail(map[string]any{"steps": len(run.Steps), "failed": fs})})
}

// Hearing looks a hearing up by its opaque ID, without access checks (for invites).
func (h *Hub) Hearing(ctx context.Context, id string) (hearings.Hearing, error) {
	return h.hearings.Hearing(ctx, id)
}

// Hearings is the hearings service.
func (h *Hub) Hearings() *hearings.Service { return h.hearings }

// Scenes is the scene runner.
func (h *Hub) Scenes() *scenes.Runner { return h.scenes }

// Audit is the audit log, for the hub's other parts (config push, enrollment) to record what
// they do.
func (h *Hub) Audit() *audit.Log { return h.audit }
