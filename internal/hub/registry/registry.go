// Package registry keeps the hub's picture of every room: the rooms it is configured with, and
// what their agents publish (retained agent status and device states, events, meters). Every
// change is published on a Feed for the API's server-sent events.
package registry

import (
	"encoding/json"
	"log/slog"
	"reflect"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bailiff/bailiff/internal/config"
	"github.com/bailiff/bailiff/internal/wire"
)

type key struct{ site, room string }

type room struct {
	site, room, kind, name string
	configured             bool
	agent                  *wire.AgentStatus
	agentRaw               []byte // the payload of agent, as the agent published it
	devices                map[string]*device
}

type device struct {
	id, driver, name string
	configured       bool
	state            *wire.DeviceState
}

// Registry is safe for concurrent use.
type Registry struct {
	log  *slog.Logger
	feed *Feed

	mu    sync.RWMutex
	rooms map[key]*room

	bad atomic.Int64 // messages that failed to decode

	// Restore, when set, is called with a room's agent topic and the newest status the hub
	// knows when an older connection's will arrives after it: the broker has just retained
	// the stale will, and the hub puts the newer status back.
	Restore func(topic string, payload []byte)
}

// New returns an empty registry publishing changes on feed.
func New(feed *Feed, log *slog.Logger) *Registry {
	if log == nil {
		log = slog.Default()
	}
	return &Registry{log: log, feed: feed, rooms: map[key]*room{}}
}

// BadMessages counts the messages that could not be decoded.
func (r *Registry) BadMessages() int64 { return r.bad.Load() }

// SetRooms declares the configured rooms and their devices. Rooms that only agents told of
// stay; configured rooms no longer in cfgs become unconfigured.
func (r *Registry) SetRooms(cfgs []*config.Room) {
	r.mu.Lock()
	defer r.mu.Unlock()
	seen := map[key]bool{}
	for _, c := range cfgs {
		k := key{c.Site, c.Room}
		seen[k] = true
		rm := r.roomLocked(k)
		rm.kind, rm.name, rm.configured = c.Kind, c.Name, true
		devSeen := map[string]bool{}
		for _, d := range c.Devices {
			devSeen[d.ID] = true
			dv := rm.deviceLocked(d.ID)
			dv.driver, dv.name, dv.configured = d.Driver, d.Name, true
		}
		for id, dv := range rm.devices {
			if !devSeen[id] {
				dv.configured = false
			}
		}
	}
	for k, rm := range r.rooms {
		if !seen[k] {
			rm.configured = false
		}
	}
}

func (r *Registry) roomLocked(k key) *room {
	rm := r.rooms[k]
	if rm == nil {
		rm = &room{site: k.site, room: k.room, devices: map[string]*device{}}
		r.rooms[k] = rm
	}
	return rm
}

func (rm *room) deviceLocked(id string) *device {
	d := rm.devices[id]
	if d == nil {
		d = &device{id: id}
		rm.devices[id] = d
	}
	return d
}

// Handle takes one MQTT message from an agent topic. Bad topics and payloads are counted and
// logged; nothing stored is changed by them.
func (r *Registry) Handle(topic string, payload []byte) {
	t, err := wire.ParseTopic(topic)
	if err != nil {
		r.badMessage(topic, err)
		return
	}
	switch t.Kind {
	case wire.KindAgent:
		r.handleAgent(t, payload)
	case wire.KindState:
		r.handleState(t, payload)
	case wire.KindEvent:
		ev, err := wire.DecodeEvent(payload)
		if err != nil {
			r.badMessage(topic, err)
			return
		}
		r.feed.Publish("device-event", map[string]any{"site": t.Site, "room": t.Room, "device": t.Device, "event": ev})
	case wire.KindMeter:
		m, err := wire.DecodeMeter(payload)
		if err != nil {
			r.badMessage(topic, err)
			return
		}
		r.feed.Publish("meter", map[string]any{"site": t.Site, "room": t.Room, "levels": m.Levels, "at": m.At})
	}
}

func (r *Registry) badMessage(topic string, err error) {
	r.bad.Add(1)
	r.log.Warn("bad mqtt message", "topic", topic, "error", err)
}

func (r *Registry) handleAgent(t wire.Topic, payload []byte) {
	k := key{t.Site, t.Room}
	if len(payload) == 0 { // retained status cleared
		r.mu.Lock()
		if rm := r.rooms[k]; rm != nil {
			rm.agent = nil
		}
		r.mu.Unlock()
		return
	}
	a, err := wire.DecodeAgentStatus(payload)
	if err != nil {
		r.badMessage(t.String(), err)
		return
	}
	r.mu.Lock()
	rm := r.roomLocked(k)
	if rm.agent != nil && a.Seq < rm.agent.Seq {
		// From an older connection (its will, arriving after a newer birth): stale.
		current := rm.agentRaw
		r.mu.Unlock()
		if r.Restore != nil && current != nil {
			r.Restore(t.String(), current)
		}
		return
	}
	if rm.agent != nil && a.Seq == rm.agent.Seq && a.Online && rm.agent.Online && a.At.Before(rm.agent.At) {
		// An older birth of the same connection (an agent publishes its birth again when its
		// config changes; messages are handled concurrently): the newer one stands.
		r.mu.Unlock()
		return
	}
	changed := rm.agent == nil || rm.agent.Online != a.Online || rm.agent.Seq != a.Seq ||
		!reflect.DeepEqual(rm.agent.Config, a.Config)
	rm.agent = &a
	rm.agentRaw = append([]byte(nil), payload...)
	r.mu.Unlock()
	if changed {
		ev := map[string]any{"site": t.Site, "room": t.Room, "online": a.Online, "agent": a.Agent, "version": a.Version, "seq": a.Seq, "at": a.At}
		if a.Config != nil {
			ev["config"] = a.Config
		}
		r.feed.Publish("agent", ev)
	}
}

func (r *Registry) handleState(t wire.Topic, payload []byte) {
	k := key{t.Site, t.Room}
	if len(payload) == 0 {
		r.mu.Lock()
		if rm := r.rooms[k]; rm != nil {
			if d := rm.devices[t.Device]; d != nil {
				d.state = nil
			}
		}
		r.mu.Unlock()
		return
	}
	s, err := wire.DecodeDeviceState(payload)
	if err != nil {
		r.badMessage(t.String(), err)
		return
	}
	r.mu.Lock()
	rm := r.roomLocked(k)
	d := rm.deviceLocked(t.Device)
	if d.state != nil && s.At.Before(d.state.At) {
		// Messages are handled concurrently; an older state must not undo a newer one.
		r.mu.Unlock()
		return
	}
	changed := d.state == nil || d.state.Reachable != s.Reachable || d.state.Error != s.Error || !reflect.DeepEqual(d.state.State, s.State)
	if d.driver == "" {
		d.driver = s.Driver
	}
	d.state = &s
	r.mu.Unlock()
	if changed {
		r.feed.Publish("state", map[string]any{"site": t.Site, "room": t.Room, "device": t.Device,
			"reachable": s.Reachable, "state": s.State, "error": s.Error, "at": s.At})
	}
}

// DeviceView is a device as the API shows it.
type DeviceView struct {
	ID        string         `json:"id"`
	Driver    string         `json:"driver"`
	Name      string         `json:"name,omitempty"`
	Reachable bool           `json:"reachable"`
	State     map[string]any `json:"state"`
	Error     string         `json:"error,omitempty"`
	Actions   []string       `json:"actions,omitempty"`
	At        *time.Time     `json:"at,omitempty"`
}

// RoomView is a room as the API shows it.
type RoomView struct {
	Site       string            `json:"site"`
	Room       string            `json:"room"`
	Kind       string            `json:"kind"`
	Name       string            `json:"name"`
	Online     bool              `json:"online"`
	Configured bool              `json:"configured"`
	Agent      *wire.AgentStatus `json:"agent,omitempty"`
	Devices    []DeviceView      `json:"devices"`
}

func (rm *room) view() RoomView {
	v := RoomView{Site: rm.site, Room: rm.room, Kind: rm.kind, Name: rm.name, Configured: rm.configured, Devices: []DeviceView{}}
	if rm.agent != nil {
		a := *rm.agent
		v.Agent = &a
		v.Online = a.Online
	}
	for _, d := range rm.devices {
		if !d.configured && d.state == nil {
			continue
		}
		dv := DeviceView{ID: d.id, Driver: d.driver, Name: d.name, State: map[string]any{}}
		if d.state != nil {
			dv.Reachable = d.state.Reachable && v.Online
			dv.State = copyMap(d.state.State)
			dv.Error = d.state.Error
			dv.Actions = append([]string(nil), d.state.Actions...)
			at := d.state.At
			dv.At = &at
			if !v.Online && dv.Error == "" {
				dv.Error = "agent offline"
			}
		}
		v.Devices = append(v.Devices, dv)
	}
	sort.Slice(v.Devices, func(i, j int) bool { return v.Devices[i].ID < v.Devices[j].ID })
	return v
}

func copyMap(m map[string]any) map[string]any {
	// States are small JSON values; a JSON round trip is a deep copy that needs no type cases.
	b, _ := json.Marshal(m)
	out := map[string]any{}
	json.Unmarshal(b, &out)
	return out
}

// Rooms returns every room, sorted by site and room.
func (r *Registry) Rooms() []RoomView {
	r.mu.RLock()
	out := make([]RoomView, 0, len(r.rooms))
	for _, rm := range r.rooms {
		out = append(out, rm.view())
	}
	r.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool {
		if out[i].Site != out[j].Site {
			return out[i].Site < out[j].Site
		}
		return out[i].Room < out[j].Room
	})
	return out
}

// Room returns one room.
func (r *Registry) Room(site, roomID string) (RoomView, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	rm, ok := r.rooms[key{site, roomID}]
	if !ok {
		return RoomView{}, false
	}
	return rm.view(), true
}

// HasDevice reports whether the room is known and has the device (configured, or reported by
// its agent).
func (r *Registry) HasDevice(site, roomID, dev string) (roomKnown, devKnown bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	rm, ok := r.rooms[key{site, roomID}]
	if !ok {
		return false, false
	}
	d, ok := rm.devices[dev]
	return true, ok && (d.configured || d.state != nil)
}

// Counts returns agents online and devices unreachable (for metrics).
func (r *Registry) Counts() (agentsOnline, devicesUnreachable int) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	for _, rm := range r.rooms {
		online := rm.agent != nil && rm.agent.Online
		if online {
			agentsOnline++
		}
		for _, d := range rm.devices {
			if d.configured && (!online || d.state == nil || !d.state.Reachable) {
				devicesUnreachable++
			}
		}
	}
	return
}

// Online reports whether the room's agent is online.
func (r *Registry) Online(site, roomID string) bool {
	r.mu.RLock()
	defer r.mu.RUnlock()
	rm, ok := r.rooms[key{site, roomID}]
	return ok && rm.agent != nil && rm.agent.Online
}
