package hub

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/bailiff/bailiff/firmware-bridge/ota"
	"github.com/bailiff/bailiff/internal/hub/api"
	"github.com/bailiff/bailiff/internal/store"
	"github.com/bailiff/bailiff/internal/wire"
)

// Rollout states and device steps (besides the devices' own: downloading, verifying,
// rebooting, confirmed, rolled_back, failed).
const (
	RolloutRunning = "running"
	RolloutDone    = "done"   // every device confirmed
	RolloutFailed  = "failed" // the first device did not confirm, or some of the rest did not

	StepQueued    = "queued"    // waiting for its turn
	StepSent      = "sent"      // the agent took the command; no step reported yet
	StepCancelled = "cancelled" // not sent: the first device did not confirm
)

// RolloutDeviceTimeout bounds how long a rollout waits for one device to end its update.
var RolloutDeviceTimeout = 30 * time.Minute

// RolloutResumeWait bounds how long a resumed rollout waits for its rooms' agents to come
// back before it sends to the devices still queued (one whose agent is away then fails).
var RolloutResumeWait = time.Minute

// RolloutRequest is the body of POST /api/v1/firmware/{id}/rollouts: a site, optionally a room,
// and either one device of it or all devices of the image's type in the room (or site).
type RolloutRequest struct {
	Site   string `json:"site"`
	Room   string `json:"room,omitempty"`
	Device string `json:"device,omitempty"`
	All    bool   `json:"all,omitempty"`
	Force  bool   `json:"force,omitempty"`
}

// RolloutView is a rollout as the API shows it.
type RolloutView struct {
	ID         string          `json:"id"`
	Image      string          `json:"image"`
	DeviceType string          `json:"device_type"`
	Version    string          `json:"version"`
	Request    RolloutRequest  `json:"request"`
	State      string          `json:"state"`
	Error      string          `json:"error,omitempty"`
	By         string          `json:"by"`
	Created    time.Time       `json:"created"`
	Updated    time.Time       `json:"updated"`
	Devices    []RolloutDevice `json:"devices"`
}

// RolloutDevice is one device's progress; the first one goes alone, the rest once it confirmed.
type RolloutDevice struct {
	Site    string    `json:"site"`
	Room    string    `json:"room"`
	Device  string    `json:"device"`
	From    string    `json:"from,omitempty"` // the firmware it ran when the rollout started
	Step    string    `json:"step"`
	Percent int       `json:"percent"`
	Reason  string    `json:"reason,omitempty"`
	Updated time.Time `json:"updated"`
}

func terminal(step string) bool {
	return step == "confirmed" || step == "failed" || step == "rolled_back" || step == StepCancelled
}

// rollouts runs and remembers rollouts; part of firmware.
type rollouts struct {
	mu      sync.Mutex
	active  map[string]*RolloutView
	changed chan struct{} // closed and replaced at every device step
}

func (f *firmware) rolloutState() *rollouts {
	f.once.Do(func() { f.ro = &rollouts{active: map[string]*RolloutView{}, changed: make(chan struct{})} })
	return f.ro
}

// parseRolloutRequest decodes a rollout request strictly and checks it.
func parseRolloutRequest(body []byte) (RolloutRequest, error) {
	var req RolloutRequest
	d := json.NewDecoder(bytes.NewReader(body))
	d.DisallowUnknownFields()
	if err := d.Decode(&req); err != nil {
		return req, fmt.Errorf("%w: rollout: %w", api.ErrBadRequest, err)
	}
	if d.More() {
		return req, fmt.Errorf("%w: rollout: trailing data after the JSON object", api.ErrBadRequest)
	}
	if err := wire.CheckID("site", req.Site); err != nil {
		return req, fmt.Errorf("%w: %w", api.ErrBadRequest, err)
	}
	if req.Room != "" {
		if err := wire.CheckID("room", req.Room); err != nil {
			return req, fmt.Errorf("%w: %w", api.ErrBadRequest, err)
		}
	}
	if req.Device != "" {
		if err := wire.CheckID("device", req.Device); err != nil {
			return req, fmt.Errorf("%w: %w", api.ErrBadRequest, err)
		}
	}
	switch {
	case req.Device != "" && req.All:
		return req, fmt.Errorf("%w: want \"device\" or \"all\", not both", api.ErrBadRequest)
	case req.Device == "" && !req.All:
		return req, fmt.Errorf("%w: want \"device\" (with \"room\") or \"all\": true", api.ErrBadRequest)
	case req.Device != "" && req.Room == "":
		return req, fmt.Errorf("%w: \"device\" needs its \"room\"", api.ErrBadRequest)
	}
	return req, nil
}

// StartRollout plans a rollout of image id and starts it; body is a RolloutRequest.
func (f *firmware) StartRollout(ctx context.Context, id string, body json.RawMessage, by string) (any, error) {
	req, err := parseRolloutRequest(body)
	if err != nil {
		return nil, err
	}
	row, err := f.row(ctx, id)
	if err != nil {
		return nil, err
	}
	var m ota.Manifest
	if err := json.Unmarshal([]byte(row.Manifest), &m); err != nil {
		return nil, fmt.Errorf("firmware %s: stored manifest: %w", id, err)
	}
	targets := f.targets(m, req)
	if len(targets) == 0 {
		return nil, fmt.Errorf("%w: no reachable fwbridge device of type %s (firmware at least %s) in %s", api.ErrConflict,
			m.DeviceType, minText(m), scopeText(req))
	}
	now := time.Now().UTC()
	ro := &RolloutView{ID: "ro-" + newImageID()[3:], Image: id, DeviceType: m.DeviceType, Version: m.Version.String(),
		Request: req, State: RolloutRunning, By: by, Created: now, Updated: now, Devices: targets}
	// The rollout's lock, held while this hub runs it, keeps the group's leader from
	// resuming it as one that no hub runs.
	lk, err := f.h.store.TryLock(ctx, rolloutLock(ro.ID))
	if err != nil {
		return nil, fmt.Errorf("rollout %s: %w", ro.ID, err)
	}
	if lk == nil { // a new random ID: only a clash would get here
		return nil, fmt.Errorf("%w: rollout %s is run by another hub", api.ErrConflict, ro.ID)
	}
	rs := f.rolloutState()
	rs.mu.Lock()
	rs.active[ro.ID] = ro
	view := f.snapshotLocked(ro)
	rs.mu.Unlock()
	f.save(ro.ID)
	f.h.log.Info("firmware rollout started", "rollout", ro.ID, "firmware", id, "devices", len(targets), "by", by)
	go func() {
		defer lk.Release()
		f.run(ro.ID, m, row, req.Force, by)
	}()
	return view, nil
}

func minText(m ota.Manifest) string {
	if m.MinVersion == nil {
		return "any"
	}
	return m.MinVersion.String()
}

func scopeText(r RolloutRequest) string {
	switch {
	case r.Device != "":
		return r.Site + "/" + r.Room + "/" + r.Device
	case r.Room != "":
		return r.Site + "/" + r.Room
	}
	return "site " + r.Site
}

// targets are the reachable fwbridge devices of the image's type in the request's scope,
// sorted, at or above the image's minimum version.
func (f *firmware) targets(m ota.Manifest, req RolloutRequest) []RolloutDevice {
	var out []RolloutDevice
	now := time.Now().UTC()
	for _, rm := range f.h.reg.Rooms() {
		if rm.Site != req.Site || (req.Room != "" && rm.Room != req.Room) {
			continue
		}
		for _, d := range rm.Devices {
			if req.Device != "" && d.ID != req.Device {
				continue
			}
			if d.Driver != "fwbridge" || !d.Reachable || d.State["device_type"] != m.DeviceType ||
				!slices.Contains(d.Actions, wire.ActFirmwareUpdate) {
				continue
			}
			from, _ := d.State["firmware"].(string)
			if m.MinVersion != nil {
				v, err := ota.ParseVersion(from)
				if err != nil || v.Compare(*m.MinVersion) < 0 {
					continue
				}
			}
			out = append(out, RolloutDevice{Site: rm.Site, Room: rm.Room, Device: d.ID, From: from, Step: StepQueued, Updated: now})
		}
	}
	return out
}

// run sends the update to the first device, waits for it to confirm, then to the rest at once.
// It goes on from where a rollout stands: a device already sent to is waited for, not sent to
// again, so a rollout the hub resumes after a restart (resumeRollouts) picks up its course.
// When the hub closes, run stops without recording anything: the rollout stays running in
// the store for the next start to resume.
func (f *firmware) run(id string, m ota.Manifest, row store.FirmwareImage, force bool, by string) {
	ctx := f.ctx
	mj, _ := json.Marshal(m)
	args, _ := json.Marshal(wire.FirmwareUpdateArgs{Image: row.ID, URL: f.imageURL(row.ID), Manifest: mj, Force: force, Rollout: id})
	send := func(i int) {
		d := f.device(id, i)
		if d.Step != StepQueued {
			return // sent before the hub restarted: its steps come as events and states
		}
		ack, err := f.h.router.Send(ctx, d.Site, d.Room, d.Device, wire.ActFirmwareUpdate, args, by)
		switch {
		case ctx.Err() != nil:
			return // the hub is closing: whether it went out is for the next start to learn
		case err != nil:
			f.setStep(id, d.Site, d.Room, d.Device, "failed", 0, "not started: "+err.Error())
		case !ack.OK && ack.Error != nil:
			f.setStep(id, d.Site, d.Room, d.Device, "failed", 0, "not started: "+ack.Error.Code+": "+ack.Error.Message)
		case !ack.OK:
			f.setStep(id, d.Site, d.Room, d.Device, "failed", 0, "not started")
		default:
			f.setStep(id, d.Site, d.Room, d.Device, StepSent, 0, "")
		}
	}
	send(0)
	f.wait(ctx, id, []int{0})
	if ctx.Err() != nil {
		return
	}
	n := f.count(id)
	if first := f.device(id, 0); first.Step != "confirmed" {
		for i := 1; i < n; i++ {
			d := f.device(id, i)
			f.setStep(id, d.Site, d.Room, d.Device, StepCancelled, 0, "the first device did not confirm")
		}
		f.finish(id, RolloutFailed, fmt.Sprintf("%s/%s/%s: %s %s", first.Site, first.Room, first.Device, first.Step, first.Reason))
		return
	}
	var rest []int
	for i := 1; i < n; i++ {
		send(i)
		rest = append(rest, i)
	}
	f.wait(ctx, id, rest)
	if ctx.Err() != nil {
		return
	}
	failed := 0
	for i := 0; i < n; i++ {
		if f.device(id, i).Step != "confirmed" {
			failed++
		}
	}
	if failed > 0 {
		f.finish(id, RolloutFailed, fmt.Sprintf("%d of %d devices did not confirm", failed, n))
		return
	}
	f.finish(id, RolloutDone, "")
}

// resumeRollouts takes up the rollouts the store holds as running: the hub stopped during
// them. Each goes on from where it stood (run); one whose image is gone ends failed. It
// returns how many it resumed.
func (f *firmware) resumeRollouts(ctx context.Context) (int, error) {
	rows, err := f.h.store.FirmwareRollouts(ctx, "")
	if err != nil {
		return 0, err
	}
	n := 0
	rs := f.rolloutState()
	for _, r := range rows {
		var v RolloutView
		if err := json.Unmarshal([]byte(r.Body), &v); err != nil || v.State != RolloutRunning || len(v.Devices) == 0 {
			continue
		}
		rs.mu.Lock()
		_, running := rs.active[v.ID]
		rs.mu.Unlock()
		if running {
			continue
		}
		// Another hub of the group may be running it: it holds the rollout's lock.
		lk, err := f.h.store.TryLock(ctx, rolloutLock(v.ID))
		if err != nil || lk == nil {
			continue
		}
		rs.mu.Lock()
		if _, running = rs.active[v.ID]; !running {
			rs.active[v.ID] = &v
		}
		rs.mu.Unlock()
		if running {
			lk.Release()
			continue
		}
		row, err := f.row(ctx, v.Image)
		var m ota.Manifest
		if err == nil {
			err = json.Unmarshal([]byte(row.Manifest), &m)
		}
		if err != nil {
			f.finish(v.ID, RolloutFailed, "not resumed after the hub restarted: firmware "+v.Image+": "+err.Error())
			lk.Release()
			continue
		}
		f.h.log.Info("firmware rollout resumed after the hub restarted", "rollout", v.ID, "firmware", v.Image, "devices", len(v.Devices))
		devs := slices.Clone(v.Devices)
		go func() {
			defer lk.Release()
			f.awaitRooms(ctx, devs, RolloutResumeWait)
			f.run(v.ID, m, row, v.Request.Force, v.By)
		}()
		n++
	}
	return n, nil
}

// wait waits until each device of idx is in a terminal step, or failed for want of news.
func (f *firmware) wait(ctx context.Context, id string, idx []int) {
	rs := f.rolloutState()
	deadline := time.NewTimer(RolloutDeviceTimeout)
	defer deadline.Stop()
	// Events can be missed (the feed drops a subscriber that falls behind): the devices'
	// states carry their last step too, looked at every few seconds.
	states := time.NewTicker(2 * time.Second)
	defer states.Stop()
	for {
		rs.mu.Lock()
		ch := rs.changed
		ro := rs.active[id]
		done := true
		for _, i := range idx {
			done = done && terminal(ro.Devices[i].Step)
		}
		rs.mu.Unlock()
		if done {
			return
		}
		select {
		case <-ch:
		case <-states.C:
			f.stepsFromStates(id, idx)
		case <-ctx.Done():
			return
		case <-deadline.C:
			for _, i := range idx {
				d := f.device(id, i)
				if !terminal(d.Step) {
					f.setStep(id, d.Site, d.Room, d.Device, "failed", d.Percent, fmt.Sprintf("no news within %v", RolloutDeviceTimeout))
				}
			}
			return
		}
	}
}

// stepsFromStates takes the last firmware step of each device of idx from its state
// ("firmware_update", set by the fwbridge driver) when it belongs to this rollout.
func (f *firmware) stepsFromStates(id string, idx []int) {
	for _, i := range idx {
		d := f.device(id, i)
		if terminal(d.Step) {
			continue
		}
		rm, ok := f.h.reg.Room(d.Site, d.Room)
		if !ok {
			continue
		}
		for _, dv := range rm.Devices {
			fu, _ := dv.State["firmware_update"].(map[string]any)
			if dv.ID != d.Device || fu == nil || fu["rollout"] != id {
				continue
			}
			step, _ := fu["step"].(string)
			pct, _ := fu["percent"].(float64)
			reason, _ := fu["reason"].(string)
			if step != "" && step != d.Step {
				f.setStep(id, d.Site, d.Room, d.Device, step, int(pct), reason)
			}
		}
	}
}

func (f *firmware) device(id string, i int) RolloutDevice {
	rs := f.rolloutState()
	rs.mu.Lock()
	defer rs.mu.Unlock()
	return rs.active[id].Devices[i]
}

func (f *firmware) count(id string) int {
	rs := f.rolloutState()
	rs.mu.Lock()
	defer rs.mu.Unlock()
	return len(rs.active[id].Devices)
}

// setStep records a device's step (from the rollout itself or a firmware event).
func (f *firmware) setStep(id, site, room, dev, step string, percent int, reason string) {
	rs := f.rolloutState()
	rs.mu.Lock()
	ro := rs.active[id]
	if ro == nil {
		rs.mu.Unlock()
		return
	}
	found := false
	for i := range ro.Devices {
		d := &ro.Devices[i]
		if d.Site == site && d.Room == room && d.Device == dev {
			// Once a device's update has ended, a step of its course (an event, or a state read
			// later that is older than the event that ended it) changes nothing; another end
			// does (a device that confirms after the hub gave up on it for want of news).
			if terminal(d.Step) && (!terminal(step) || d.Step != "failed") {
				break
			}
			d.Step, d.Percent, d.Reason, d.Updated = step, percent, reason, time.Now().UTC()
			ro.Updated = d.Updated
			found = true
		}
	}
	close(rs.changed)
	rs.changed = make(chan struct{})
	var view RolloutView
	if found {
		view = f.snapshotLocked(ro)
	}
	rs.mu.Unlock()
	if found {
		f.h.feed.Publish("firmware-rollout", view)
		f.save(id)
	}
}

func (f *firmware) finish(id, state, msg string) {
	rs := f.rolloutState()
	rs.mu.Lock()
	ro := rs.active[id]
	ro.State, ro.Error, ro.Updated = state, msg, time.Now().UTC()
	view := f.snapshotLocked(ro)
	rs.mu.Unlock()
	f.h.log.Info("firmware rollout ended", "rollout", id, "state", state, "error", msg)
	f.h.feed.Publish("firmware-rollout", view)
	f.save(id)
}

func (f *firmware) snapshotLocked(ro *RolloutView) RolloutView {
	v := *ro
	v.Devices = slices.Clone(ro.Devices)
	return v
}

// save writes a rollout's record to the store.
func (f *firmware) save(id string) {
	rs := f.rolloutState()
	rs.mu.Lock()
	v := f.snapshotLocked(rs.active[id])
	rs.mu.Unlock()
	body, _ := json.Marshal(v)
	if err := f.h.store.PutFirmwareRollout(context.Background(), store.FirmwareRollout{ID: id, ImageID: v.Image, Body: string(body), Created: v.Created}); err != nil {
		f.h.log.Error("save firmware rollout", "rollout", id, "error", err)
	}
}

// GetRollout shows a rollout: live while it runs, else as stored.
func (f *firmware) GetRollout(ctx context.Context, id string) (any, error) {
	rs := f.rolloutState()
	rs.mu.Lock()
	if ro := rs.active[id]; ro != nil {
		v := f.snapshotLocked(ro)
		rs.mu.Unlock()
		return v, nil
	}
	rs.mu.Unlock()
	rows, err := f.h.store.FirmwareRollouts(ctx, id)
	if err != nil {
		return nil, err
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("no such rollout %s: %w", id, api.ErrNotFound)
	}
	var v RolloutView
	if err := json.Unmarshal([]byte(rows[0].Body), &v); err != nil {
		return nil, fmt.Errorf("rollout %s: stored record: %w", id, err)
	}
	if v.State == RolloutRunning {
		v.State, v.Error = RolloutFailed, "the hub stopped during the rollout and did not resume it"
	}
	return v, nil
}

// imageURL is where agents fetch an image: the hub's own HTTP address.
func (f *firmware) imageURL(id string) string {
	return "http://" + f.h.HTTPAddr() + "/api/v1/firmware/images/" + id
}

// watch passes the devices' firmware events to the rollouts they name, until ctx ends.
func (f *firmware) watch(ctx context.Context) {
	for ctx.Err() == nil {
		ch, stop := f.h.feed.Subscribe()
		f.watchFeed(ctx, ch)
		stop()
	}
}

func (f *firmware) watchFeed(ctx context.Context, ch <-chan registryEvent) {
	for {
		select {
		case <-ctx.Done():
			return
		case ev, ok := <-ch:
			if !ok {
				return // dropped for falling behind: subscribe again
			}
			if ev.Type != "device-event" {
				continue
			}
			var de struct {
				Site, Room, Device string
				Event              struct {
					Type    string `json:"type"`
					Rollout string `json:"rollout"`
					Step    string `json:"step"`
					Percent int    `json:"percent"`
					Reason  string `json:"reason"`
				}
			}
			if err := json.Unmarshal(ev.Data, &de); err != nil || de.Event.Type != "firmware" || de.Event.Rollout == "" || de.Event.Step == "" {
				continue
			}
			f.setStep(de.Event.Rollout, de.Site, de.Room, de.Device, de.Event.Step, de.Event.Percent, de.Event.Reason)
		}
	}
}

// awaitRooms waits until the agent of every room with a device still queued is online, for
// at most d.
func (f *firmware) awaitRooms(ctx context.Context, devs []RolloutDevice, d time.Duration) {
	deadline := time.Now().Add(d)
	for ctx.Err() == nil && time.Now().Before(deadline) {
		online := true
		for _, dv := range devs {
			if dv.Step != StepQueued {
				continue
			}
			rv, ok := f.h.reg.Room(dv.Site, dv.Room)
			online = online && ok && rv.Online
		}
		if online {
			return
		}
		select {
		case <-ctx.Done():
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// rolloutLock names the store lock a hub holds while it runs a rollout.
func rolloutLock(id string) string { return "rollout/" + id }
