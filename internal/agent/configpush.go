package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/bailiff/bailiff/internal/config"
	"github.com/bailiff/bailiff/internal/wire"
)

// configPush applies the room configs the hub publishes on the room's retained config topic.
//
// A config is checked as `hub validate` checks a file (config.ParseRoomJSON), must be for this
// agent's site and room, and every device must be one this agent can make (its driver and
// options). A config that fails is refused: the agent keeps running what it ran and reports
// the refusal, with its reason, in its status. A good one is applied by difference: a device
// whose config is unchanged (its entry, its effective poll and the room's command timeout)
// keeps its goroutine and its connection; only devices that are new, gone or changed are
// stopped and made again. The applied config is then written to Options.ConfigCache, so the
// agent runs it after a restart even before it reaches the broker.
type configPush struct {
	a *Agent

	in chan []byte // the newest payload waiting to be applied (1 deep: a newer one replaces it)

	mu      sync.Mutex
	body    []byte // the running config's message as received (nil for the local file)
	current wire.ConfigStatus
}

func (p *configPush) init(a *Agent, r *config.Room, body []byte) {
	p.a = a
	p.in = make(chan []byte, 1)
	p.body = body
	p.current.Revision = r.Revision
}

// status is the config part of the agent's status.
func (p *configPush) status() *wire.ConfigStatus {
	p.mu.Lock()
	defer p.mu.Unlock()
	c := p.current
	return &c
}

// onConfig takes a payload from the config topic (in paho's router goroutine: it never
// waits). A newer payload replaces one that has not been applied yet.
func (a *Agent) onConfig(payload []byte) {
	if len(payload) == 0 {
		a.log.Info("room config cleared by the hub; keeping the running config")
		return
	}
	b := append([]byte(nil), payload...)
	for {
		select {
		case a.push.in <- b:
			return
		default:
		}
		select {
		case <-a.push.in: // drop the older one
		default:
		}
	}
}

// run applies configs until ctx is done; the returned channel closes when it has stopped.
// devCtx is the context the devices it starts run under.
func (p *configPush) run(ctx, devCtx context.Context) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-ctx.Done():
				return
			case b := <-p.in:
				p.apply(devCtx, b)
			}
		}
	}()
	return done
}

// apply checks one payload and applies it, or refuses it.
func (p *configPush) apply(devCtx context.Context, b []byte) {
	a := p.a
	msg, r, err := a.checkConfig(b)
	if msg.Revision == 0 { // the envelope did not decode: nothing to name it by
		a.log.Warn("room config from the hub refused", "error", err)
		p.refuse(0, err)
		return
	}
	log := a.log.With("revision", msg.Revision)
	p.mu.Lock()
	same := p.current.Revision == msg.Revision && string(p.body) == string(msg.Body)
	p.mu.Unlock()
	if same {
		log.Debug("room config already running")
		return
	}
	if err != nil {
		log.Warn("room config from the hub refused; keeping the running config", "error", err)
		p.refuse(msg.Revision, err)
		return
	}

	// Make the new and changed devices first: a driver that refuses its config refuses the
	// whole config, and nothing has changed yet.
	a.mu.RLock()
	old := slices.Clone(a.devices)
	a.mu.RUnlock()
	oldByID := map[string]*device{}
	for _, d := range old {
		oldByID[d.id] = d
	}
	var (
		next    []*device
		made    []*device
		stopped []*device
	)
	keep := map[string]bool{}
	// refuse undoes what was made and refuses the config: nothing has changed yet.
	refuse := func(err error) {
		for _, m := range made {
			_ = m.dev.Close()
		}
		log.Warn("room config from the hub refused; keeping the running config", "error", err)
		p.refuse(msg.Revision, err)
	}
	for i := range r.Devices {
		dc := &r.Devices[i]
		if d := oldByID[dc.ID]; d != nil && d.key == deviceKey(r, dc) {
			next = append(next, d)
			keep[d.id] = true
			continue
		}
		d, err := a.newDevice(r, dc)
		if err != nil {
			refuse(err)
			return
		}
		made = append(made, d)
		next = append(next, d)
	}
	for _, d := range old {
		if !keep[d.id] {
			stopped = append(stopped, d)
		}
	}
	// The media sources likewise: a stream or speaker whose config (or hub) changed is made
	// anew, the others run on untouched.
	a.mediaMu.Lock()
	defer a.mediaMu.Unlock()
	oldMedia := a.media
	nextMedia, err := a.newMedia(r, oldMedia)
	if err != nil {
		refuse(err)
		return
	}

	// Swap: from here commands go to the new devices (they queue until those start).
	byID := make(map[string]*device, len(next))
	for _, d := range next {
		byID[d.id] = d
	}
	a.mu.Lock()
	a.devices, a.byID = next, byID
	a.mu.Unlock()

	// Stop the old devices (a running command finishes and is acked), then start the new
	// ones, so two goroutines never drive one device at once.
	for _, d := range stopped {
		d.cancel()
	}
	for _, d := range stopped {
		<-d.done
		d.drainWith("device %s is being reconfigured; send the command again", d.id)
		if err := d.dev.Close(); err != nil {
			d.log.Warn("closing device", "error", err)
		}
		if _, still := byID[d.id]; !still {
			// Gone from the room: clear its retained state.
			a.publish(wire.DeviceTopic(a.site, a.room, d.id, wire.KindState), 1, true, nil)
		}
	}
	for _, d := range made {
		d.start(devCtx)
	}
	mediaStopped := stopMedia(oldMedia, nextMedia)
	a.media = nextMedia
	mediaStarted := []string{}
	for _, m := range nextMedia {
		if m.done == nil {
			mediaStarted = append(mediaStarted, m.name)
		}
	}
	a.startMedia(devCtx, nextMedia)

	p.mu.Lock()
	p.body = msg.Body
	p.current.Revision = msg.Revision
	if p.current.Rejected <= msg.Revision {
		p.current.Rejected, p.current.Error = 0, ""
	}
	p.mu.Unlock()
	if err := a.saveConfig(msg.Body); err != nil {
		log.Warn("cannot keep the applied room config for the next start", "error", err)
	}
	restarted := make([]string, 0, len(made))
	for _, d := range made {
		restarted = append(restarted, d.id)
	}
	removed := []string{}
	for _, d := range stopped {
		if _, still := byID[d.id]; !still {
			removed = append(removed, d.id)
		}
	}
	log.Info("room config applied", "started", strings.Join(restarted, ","), "removed", strings.Join(removed, ","),
		"unchanged", len(keep), "media_started", strings.Join(mediaStarted, ","), "media_stopped", strings.Join(mediaStopped, ","))
	a.republishStatus()
}

// refuse records that revision rev was refused (0: a payload without a usable revision).
func (p *configPush) refuse(rev int64, err error) {
	p.mu.Lock()
	p.current.Rejected, p.current.Error = rev, oneLine(err.Error())
	p.mu.Unlock()
	p.a.republishStatus()
}

// oneLine joins the lines of a (config) error message with "; " and bounds its length.
func oneLine(s string) string {
	s = strings.Join(strings.Fields(strings.ReplaceAll(s, "\n", " ; ")), " ")
	if len(s) > 2000 {
		s = s[:2000] + "…"
	}
	return s
}

// checkConfig decodes and checks a config payload. msg.Revision is 0 when the envelope
// itself did not decode.
func (a *Agent) checkConfig(b []byte) (wire.RoomConfig, *config.Room, error) {
	msg, err := wire.DecodeRoomConfig(b)
	if err != nil {
		return wire.RoomConfig{}, nil, err
	}
	if msg.Site != a.site || msg.Room != a.room {
		return msg, nil, fmt.Errorf("the config is for room %s/%s, this agent runs %s/%s", msg.Site, msg.Room, a.site, a.room)
	}
	r, err := config.ParseRoomJSON(fmt.Sprintf("revision %d", msg.Revision), msg.Body)
	if err != nil {
		return msg, nil, err
	}
	return msg, r, nil
}

// republishStatus publishes the agent's birth again, with the config status it has now.
func (a *Agent) republishStatus() {
	if !a.beginHandler() {
		return
	}
	defer a.handlers.Done()
	a.connMu.Lock() // ordered with the on-connect handler's birth
	defer a.connMu.Unlock()
	if a.connected() {
		a.publish(a.statusTopic, 1, true, a.status(true, a.seq.last()))
	}
}

// beginHandler counts a handler that may publish the agent's status in a.handlers, unless
// the agent is closing (then it returns false: no birth may follow the offline status).
func (a *Agent) beginHandler() bool {
	a.hmu.Lock()
	defer a.hmu.Unlock()
	if a.closing {
		return false
	}
	a.handlers.Add(1)
	return true
}

// deviceList returns the devices running now.
func (a *Agent) deviceList() []*device {
	a.mu.RLock()
	defer a.mu.RUnlock()
	return slices.Clone(a.devices)
}

// ConfigStatus returns the revision of the room config the agent runs (0: its local file), and
// the newest revision it refused with the reason.
func (a *Agent) ConfigStatus() wire.ConfigStatus { return *a.push.status() }

// roomTimeout is the per-command device deadline of room r.
func roomTimeout(r *config.Room) time.Duration {
	if t := r.Timeout.D(); t > 0 {
		return t
	}
	return defaultTimeout
}

// deviceKey is what of the room config a device runs with; when it changes, the device is
// made again.
func deviceKey(r *config.Room, dc *config.Device) string {
	b, _ := json.Marshal(struct {
		D       config.Device
		Poll    time.Duration
		Timeout time.Duration
	}{*dc, r.DevicePoll(*dc), roomTimeout(r)})
	return string(b)
}

// drainWith acks busy every command still queued, with the given reason.
func (d *device) drainWith(format string, args ...any) {
	for {
		select {
		case q := <-d.queue:
			d.ack(d.log.With("id", q.cmd.ID, "action", q.cmd.Action), q.cmd.ID, nil, wire.Errorf(wire.CodeBusy, format, args...))
		default:
			return
		}
	}
}

// saveConfig writes the applied config message to Options.ConfigCache (0600, atomically).
func (a *Agent) saveConfig(body []byte) error {
	if a.o.ConfigCache == "" {
		return nil
	}
	return writeFile0600(a.o.ConfigCache, body)
}

// loadCachedConfig returns the config kept in o.ConfigCache, and its message, when it is good
// and for the same room as local; else local (and a missing file is no news).
func loadCachedConfig(o Options, local *config.Room) (*config.Room, []byte) {
	b, err := os.ReadFile(o.ConfigCache)
	if errors.Is(err, os.ErrNotExist) {
		return local, nil
	}
	log := o.Logger.With("site", local.Site, "room", local.Room, "file", o.ConfigCache)
	if err != nil {
		log.Warn("cannot read the kept room config; running the local config", "error", err)
		return local, nil
	}
	msg, err := wire.DecodeRoomConfig(b)
	var r *config.Room
	if err == nil {
		r, err = config.ParseRoomJSON(o.ConfigCache, msg.Body)
	}
	if err == nil && (r.Site != local.Site || r.Room != local.Room) {
		err = fmt.Errorf("it is for room %s/%s", r.Site, r.Room)
	}
	if err != nil {
		log.Warn("kept room config unusable; running the local config", "error", oneLine(err.Error()))
		return local, nil
	}
	log.Info("running the room config the hub pushed last", "revision", msg.Revision)
	r.Revision = msg.Revision
	return r, msg.Body
}
