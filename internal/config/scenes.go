package config

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/bailiff/bailiff/internal/wire"
)

// Scene limits.
const (
	maxScenes     = 64
	maxSceneSteps = 64 // steps of a scene, and steps of one parallel group
	minStepTime   = 100 * time.Millisecond
	maxStepTime   = 5 * time.Minute
)

// scenes checks the room's scenes against its devices.
func (p *problems) scenes(r *Room) {
	if len(r.Scenes) > maxScenes {
		p.add("scenes", "%d scenes: at most %d", len(r.Scenes), maxScenes)
	}
	seen := map[string]int{}
	for i, sc := range r.Scenes {
		k := fmt.Sprintf("scenes[%d]", i)
		p.uniqueID(k+".name", "scene", "scene", "scenes", sc.Name, i, seen)
		p.name(k+".title", sc.Title, false)
		p.onError(k+".on_error", sc.OnError)
		if len(sc.Steps) == 0 {
			p.add(k+".steps", "required: a scene has at least one step")
		}
		if len(sc.Steps) > maxSceneSteps {
			p.add(k+".steps", "%d steps: at most %d", len(sc.Steps), maxSceneSteps)
		}
		for j, st := range sc.Steps {
			p.step(r, fmt.Sprintf("%s.steps[%d]", k, j), st, true)
		}
	}
}

// step checks one step; a top-level step may be a parallel group.
func (p *problems) step(r *Room, k string, st Step, top bool) {
	kinds := 0
	for _, set := range []bool{st.Device != "" || st.Action != "" || len(st.Args) > 0, st.Hub != "", len(st.Parallel) > 0} {
		if set {
			kinds++
		}
	}
	switch {
	case kinds == 0:
		p.add(k, "empty step: want device and action, hub, or parallel")
		return
	case kinds > 1:
		p.add(k, "a step is one of: device and action, hub, or parallel; this one mixes them")
		return
	}
	p.onError(k+".on_error", st.OnError)
	if st.Timeout != 0 && (st.Timeout.D() < minStepTime || st.Timeout.D() > maxStepTime) {
		p.add(k+".timeout", "must be 0 (the hub's commands.timeout) or between %s and %s, got %s", Duration(minStepTime), Duration(maxStepTime), st.Timeout)
	}
	switch {
	case len(st.Parallel) > 0:
		if !top {
			p.add(k+".parallel", "parallel groups do not nest")
			return
		}
		if st.Timeout != 0 {
			p.add(k+".timeout", "a parallel group has no timeout of its own: set it on its steps")
		}
		if len(st.Parallel) > maxSceneSteps {
			p.add(k+".parallel", "%d steps: at most %d", len(st.Parallel), maxSceneSteps)
		}
		devs := map[string]int{}
		for i, sub := range st.Parallel {
			sk := fmt.Sprintf("%s.parallel[%d]", k, i)
			p.step(r, sk, sub, false)
			if sub.Device == "" {
				continue
			}
			if j, dup := devs[sub.Device]; dup {
				p.add(sk+".device", "device %q is already in this group (parallel[%d]): a device runs one command at a time, so put them in sequence", sub.Device, j)
			}
			devs[sub.Device] = i
		}
	case st.Hub != "":
		if !slices.Contains(HubActions, st.Hub) {
			p.oneOf(k+".hub", "hub action", st.Hub, HubActions)
		}
	default:
		if st.Device == "" {
			p.add(k+".device", "required with action")
		} else if _, ok := r.Device(st.Device); !ok {
			ids := make([]string, len(r.Devices))
			for i, d := range r.Devices {
				ids[i] = d.ID
			}
			msg := fmt.Sprintf("no device %s in this room", quote(st.Device))
			if s := suggest(st.Device, ids); s != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", s)
			}
			p.add(k+".device", "%s", msg)
		}
		switch {
		case st.Action == "":
			p.add(k+".action", "required; one of %s", strings.Join(wire.ActionNames(), ", "))
		case !wire.KnownAction(st.Action):
			p.oneOf(k+".action", "action", st.Action, wire.ActionNames())
		default:
			if _, err := wire.ParseArgs(st.Action, []byte(st.Args)); err != nil {
				msg := err.Error()
				if we, ok := err.(*wire.Error); ok {
					msg = we.Message
				}
				p.add(k+".args", "%s", msg)
			}
		}
	}
}

func (p *problems) onError(k, v string) {
	if v != "" {
		p.oneOf(k, "on_error", v, []string{OnErrorAbort, OnErrorContinue})
	}
}

// StepOnError is the error policy of a step of sc: its own, else the scene's, else abort.
func (sc *Scene) StepOnError(st Step) string {
	switch {
	case st.OnError != "":
		return st.OnError
	case sc.OnError != "":
		return sc.OnError
	}
	return OnErrorAbort
}
