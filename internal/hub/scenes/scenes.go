// Package scenes runs a room's scenes: the ordered steps and parallel groups of its config,
// each device step a real command through the command router (so an MQTT command to the
// room's agent), each hub step an action of the hub (recording, privacy). Every step ends
// with a result; a failed step stops the scene or not, as its on_error says.
package scenes

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/bailiff/bailiff/internal/config"
	"github.com/bailiff/bailiff/internal/wire"
)

// Commander sends one device command and waits for its ack (the command router).
type Commander interface {
	SendWithin(ctx context.Context, timeout time.Duration, site, room, device, action string, args json.RawMessage, by string) (wire.Ack, error)
}

// HubActions does the hub's own scene steps (config.HubActions). Detail says what it did.
type HubActions interface {
	Do(ctx context.Context, site, room, action, by string) (detail string, err error)
}

// Errors of Run. ErrNoScene and ErrNoRoom: nothing to run; ErrBusy: the room runs a scene.
var (
	ErrNoRoom  = errors.New("scenes: no such room")
	ErrNoScene = errors.New("scenes: no such scene")
	ErrBusy    = errors.New("scenes: the room is running another scene")
)

// Runner runs scenes. Set the exported fields before the first Run; it is safe for concurrent
// use, and runs one scene at a time per room.
type Runner struct {
	Commands Commander
	Hub      HubActions
	// Room returns a room's config (its scenes and devices).
	Room func(site, room string) (*config.Room, bool)
	// Online reports whether a room's agent is connected; nil: always. A device step of an
	// offline room fails at once with unreachable instead of waiting for its timeout.
	Online func(site, room string) bool
	// Timeout is a step's timeout when it sets none (the hub's commands.timeout).
	Timeout time.Duration
	// Report is told of every finished run (the event stream, the audit log); may be nil.
	Report func(Run)
	// Exclusive, when set, keeps a room's runs one at a time across hubs sharing a store: it
	// takes the room's lock for the run (release it after) and reports false when another
	// hub holds it. Nil: this process's own bookkeeping is enough (one hub).
	Exclusive func(ctx context.Context, site, room string) (release func(), ok bool, err error)
	Log       *slog.Logger

	mu      sync.Mutex
	running map[string]string // site/room → scene
}

// Run is a scene's run as the API and the event stream show it.
type Run struct {
	Scene    string       `json:"scene"`
	Site     string       `json:"site"`
	Room     string       `json:"room"`
	By       string       `json:"by"`
	OK       bool         `json:"ok"`
	Aborted  bool         `json:"aborted,omitempty"` // a failed step skipped the rest
	Started  time.Time    `json:"started"`
	Finished time.Time    `json:"finished"`
	Steps    []StepResult `json:"steps"`
}

// StepResult is one step's outcome. At names the step as the config does
// ("steps[1].parallel[0]").
type StepResult struct {
	At      string         `json:"at"`
	Device  string         `json:"device,omitempty"`
	Action  string         `json:"action,omitempty"`
	Hub     string         `json:"hub,omitempty"`
	OK      bool           `json:"ok"`
	Skipped bool           `json:"skipped,omitempty"`
	Error   *wire.Error    `json:"error,omitempty"`
	State   map[string]any `json:"state,omitempty"`
	Detail  string         `json:"detail,omitempty"`
	MS      int64          `json:"ms"`
}

// Failed lists the steps that ran and failed.
func (r Run) Failed() []StepResult {
	var out []StepResult
	for _, s := range r.Steps {
		if !s.OK && !s.Skipped {
			out = append(out, s)
		}
	}
	return out
}

// Config returns a room's config (its scenes and devices).
func (rn *Runner) Config(site, room string) (*config.Room, bool) { return rn.Room(site, room) }

// Has reports whether site/room has the scene.
func (rn *Runner) Has(site, room, scene string) bool {
	r, ok := rn.Room(site, room)
	if !ok {
		return false
	}
	_, ok = r.Scene(scene)
	return ok
}

// Run runs a scene of a room to its end and returns every step's result. It fails only when
// there is nothing to run (ErrNoRoom, ErrNoScene) or the room already runs one (ErrBusy); a
// run whose steps failed returns with OK false.
func (rn *Runner) Run(ctx context.Context, site, room, scene, by string) (Run, error) {
	r, ok := rn.Room(site, room)
	if !ok {
		return Run{}, fmt.Errorf("%w: %s/%s", ErrNoRoom, site, room)
	}
	sc, ok := r.Scene(scene)
	if !ok {
		return Run{}, fmt.Errorf("%w: %s in room %s/%s", ErrNoScene, scene, site, room)
	}
	key := site + "/" + room
	rn.mu.Lock()
	if rn.running == nil {
		rn.running = map[string]string{}
	}
	if other, busy := rn.running[key]; busy {
		rn.mu.Unlock()
		return Run{}, fmt.Errorf("%w: %s is running in %s", ErrBusy, other, key)
	}
	rn.running[key] = scene
	rn.mu.Unlock()
	defer func() {
		rn.mu.Lock()
		delete(rn.running, key)
		rn.mu.Unlock()
	}()
	if rn.Exclusive != nil {
		release, ok, err := rn.Exclusive(ctx, site, room)
		switch {
		case err != nil:
			return Run{}, fmt.Errorf("scenes: %s: %w", key, err)
		case !ok:
			return Run{}, fmt.Errorf("%w: another hub runs a scene in %s", ErrBusy, key)
		}
		defer release()
	}

	run := Run{Scene: scene, Site: site, Room: room, By: by, OK: true, Started: time.Now().UTC()}
	for i, st := range sc.Steps {
		at := fmt.Sprintf("steps[%d]", i)
		if run.Aborted {
			run.Steps = append(run.Steps, skipped(at, st)...)
			continue
		}
		if len(st.Parallel) == 0 {
			res := rn.step(ctx, site, room, at, st, by)
			run.Steps = append(run.Steps, res)
			if !res.OK {
				run.OK = false
				run.Aborted = sc.StepOnError(st) == config.OnErrorAbort
			}
			continue
		}
		results := make([]StepResult, len(st.Parallel))
		var wg sync.WaitGroup
		for j, sub := range st.Parallel {
			wg.Add(1)
			go func() {
				defer wg.Done()
				results[j] = rn.step(ctx, site, room, fmt.Sprintf("%s.parallel[%d]", at, j), sub, by)
			}()
		}
		wg.Wait()
		for j, res := range results {
			if !res.OK {
				run.OK = false
				if sc.StepOnError(st.Parallel[j]) == config.OnErrorAbort {
					run.Aborted = true
				}
			}
		}
		run.Steps = append(run.Steps, results...)
	}
	run.Finished = time.Now().UTC()
	if rn.Report != nil {
		rn.Report(run)
	}
	return run, nil
}

// skipped are the results of a step (or group) that an abort skipped.
func skipped(at string, st config.Step) []StepResult {
	if len(st.Parallel) == 0 {
		return []StepResult{{At: at, Device: st.Device, Action: st.Action, Hub: st.Hub, Skipped: true}}
	}
	var out []StepResult
	for j, sub := range st.Parallel {
		out = append(out, skipped(fmt.Sprintf("%s.parallel[%d]", at, j), sub)...)
	}
	return out
}

// step runs one device command or hub action.
func (rn *Runner) step(ctx context.Context, site, room, at string, st config.Step, by string) (res StepResult) {
	res = StepResult{At: at, Device: st.Device, Action: st.Action, Hub: st.Hub}
	start := time.Now()
	defer func() { res.MS = time.Since(start).Milliseconds() }()
	timeout := st.Timeout.D()
	if timeout <= 0 {
		timeout = rn.Timeout
	}
	if st.Hub != "" {
		sctx := ctx
		if timeout > 0 {
			var cancel context.CancelFunc
			sctx, cancel = context.WithTimeout(ctx, timeout)
			defer cancel()
		}
		detail, err := rn.Hub.Do(sctx, site, room, st.Hub, by)
		res.Detail = detail
		if err != nil {
			res.Error = asWireError(err)
			return res
		}
		res.OK = true
		return res
	}
	if rn.Online != nil && !rn.Online(site, room) {
		res.Error = wire.Errorf(wire.CodeUnreachable, "the agent of room %s/%s is offline", site, room)
		return res
	}
	ack, err := rn.Commands.SendWithin(ctx, timeout, site, room, st.Device, st.Action, json.RawMessage(st.Args), by)
	switch {
	case err != nil:
		res.Error = asWireError(err)
	case !ack.OK:
		res.Error = ack.Error
		if res.Error == nil {
			res.Error = wire.Errorf(wire.CodeDeviceError, "the agent refused the command without saying why")
		}
	default:
		res.OK, res.State = true, ack.State
	}
	if res.Error != nil && rn.Log != nil {
		rn.Log.Warn("scene step failed", "site", site, "room", room, "at", at, "device", st.Device, "error", res.Error)
	}
	return res
}

// asWireError keeps a contract error as it is and makes any other one a device_error.
func asWireError(err error) *wire.Error {
	var we *wire.Error
	if errors.As(err, &we) {
		return we
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return wire.Errorf(wire.CodeTimeout, "%v", err)
	}
	return wire.Errorf(wire.CodeDeviceError, "%v", err)
}
