// Package alarms raises and clears the hub's alarms — a room's agent offline, a device
// unreachable, a device reporting a fault, a lamp past its hours, a recording that failed —
// keeps them in the store with when they were raised, cleared and acknowledged, and announces
// every change on the event feed as an "alarm" event.
//
// Condition alarms follow the registry: the service reads the registry's feed and, on every
// change of a room, looks at the room again; an alarm is raised when its condition starts and
// cleared when it ends. Event alarms (a failed recording) have no condition to end: they are
// cleared when acknowledged.
package alarms

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/bailiff/bailiff/internal/hub/registry"
	"github.com/bailiff/bailiff/internal/store"
)

// Kinds of alarm.
const (
	AgentOffline      = "agent-offline"      // the room's agent went offline (no device)
	DeviceUnreachable = "device-unreachable" // the agent cannot reach the device
	DeviceError       = "device-error"       // the device answers but reports a fault (PJLink ERST, printer paper out, …)
	LampHours         = "lamp-hours"         // a lamp has run longer than the threshold
	RecordingFailed   = "recording-failed"   // a recording stopped on a write error (a full disk); an event alarm
)

// DefaultLampHours is the lamp-hours threshold when Config sets none.
const DefaultLampHours = 2000

// ErrNotFound is returned by Ack for an unknown alarm.
var ErrNotFound = errors.New("alarms: no such alarm")

// Store is what the service needs of the hub's store.
type Store interface {
	RaiseAlarm(ctx context.Context, a store.Alarm) (int64, error)
	ClearAlarm(ctx context.Context, id int64, t time.Time) error
	AckAlarm(ctx context.Context, id int64, by string, t time.Time) (store.Alarm, error)
	Alarms(ctx context.Context, activeOnly bool, limit int) ([]store.Alarm, error)
}

// Rooms is what the service reads of the registry.
type Rooms interface {
	Rooms() []registry.RoomView
	Room(site, room string) (registry.RoomView, bool)
}

// Config configures a Service.
type Config struct {
	Store     Store
	Rooms     Rooms
	Feed      *registry.Feed // the registry's feed: read for changes, written with alarms
	Logger    *slog.Logger
	LampHours int // lamp-hours threshold; 0: DefaultLampHours
}

type key struct{ site, room, device, kind string }

type active struct {
	id      int64
	message string
	raised  time.Time
}

// Service is safe for concurrent use.
type Service struct {
	c Config

	mu     sync.Mutex
	active map[key]active
}

// New loads the active alarms from the store.
func New(c Config) (*Service, error) {
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.LampHours <= 0 {
		c.LampHours = DefaultLampHours
	}
	s := &Service{c: c, active: map[key]active{}}
	if err := s.Reload(context.Background()); err != nil {
		return nil, err
	}
	return s, nil
}

// Reload reads the active alarms from the store again: several hubs share it, and a hub that
// takes over raising and clearing them (Run) starts from what the one before it left.
func (s *Service) Reload(ctx context.Context) error {
	as, err := s.c.Store.Alarms(ctx, true, math.MaxInt32)
	if err != nil {
		return fmt.Errorf("alarms: %w", err)
	}
	act := make(map[key]active, len(as))
	for _, a := range as {
		act[key{a.Site, a.Room, a.Device, a.Kind}] = active{id: a.ID, message: a.Message, raised: a.Raised}
	}
	s.mu.Lock()
	s.active = act
	s.mu.Unlock()
	return nil
}

// Active is the number of active alarms.
func (s *Service) Active() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.active)
}

// Run follows the registry until ctx is done: it looks at every room at once, then again at
// each room that changes. When it falls behind the feed it starts over.
func (s *Service) Run(ctx context.Context) {
	for ctx.Err() == nil {
		ch, stop := s.c.Feed.Subscribe()
		for _, rv := range s.c.Rooms.Rooms() {
			s.look(rv)
		}
		s.follow(ctx, ch)
		stop()
	}
}

func (s *Service) follow(ctx context.Context, ch <-chan registry.Event) {
	for {
		select {
		case <-ctx.Done():
			return
		case ev, ok := <-ch:
			if !ok {
				s.c.Logger.Warn("alarms fell behind the event feed; looking at every room again")
				return
			}
			if ev.Type != "state" && ev.Type != "agent" {
				continue
			}
			site, room := roomOf(ev)
			if rv, ok := s.c.Rooms.Room(site, room); ok {
				s.look(rv)
			}
		}
	}
}

// roomOf reads site and room from an event's data without decoding all of it.
func roomOf(ev registry.Event) (site, room string) {
	var d struct{ Site, Room string }
	_ = json.Unmarshal(ev.Data, &d)
	return d.Site, d.Room
}

// look raises and clears the condition alarms of one room.
func (s *Service) look(rv registry.RoomView) {
	if rv.Agent == nil {
		return // no agent has ever spoken for this room: nothing known
	}
	s.set(key{rv.Site, rv.Room, "", AgentOffline}, !rv.Online, "the room's agent is offline")
	if !rv.Online {
		return // what the devices do is unknown now; their alarms stay as they are
	}
	for _, d := range rv.Devices {
		if d.At == nil {
			continue // never reported
		}
		s.set(key{rv.Site, rv.Room, d.ID, DeviceUnreachable}, !d.Reachable, d.Error)
		if !d.Reachable {
			continue // its last fault and lamp hours are stale
		}
		s.set(key{rv.Site, rv.Room, d.ID, DeviceError}, d.Error != "", d.Error)
		hours := LampHoursOf(d.State)
		s.set(key{rv.Site, rv.Room, d.ID, LampHours}, hours > s.c.LampHours,
			fmt.Sprintf("lamp at %d hours (threshold %d)", hours, s.c.LampHours))
	}
}

// LampHoursOf returns the most hours of any lamp in a device state: PJLink's
// "lamps":[{"hours":N,"on":bool},…] (0 when the state has none).
func LampHoursOf(state map[string]any) int {
	lamps, _ := state["lamps"].([]any)
	most := 0
	for _, l := range lamps {
		m, _ := l.(map[string]any)
		if h, ok := m["hours"].(float64); ok && h > float64(most) && h < math.MaxInt32 {
			most = int(h)
		}
	}
	return most
}

// set raises (on) or clears (!on) the alarm of k.
func (s *Service) set(k key, on bool, message string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, isActive := s.active[k]
	switch {
	case on && !isActive:
		s.raiseLocked(k, message)
	case !on && isActive:
		s.clearLocked(k, cur)
	}
}

func (s *Service) raiseLocked(k key, message string) {
	now := time.Now().UTC()
	a := store.Alarm{Site: k.site, Room: k.room, Device: k.device, Kind: k.kind, Message: bound(message), Raised: now}
	id, err := s.c.Store.RaiseAlarm(context.Background(), a)
	if err != nil {
		s.c.Logger.Error("cannot store an alarm", "site", k.site, "room", k.room, "device", k.device, "alarm", k.kind, "error", err)
		return
	}
	a.ID = id
	s.active[k] = active{id: id, message: a.Message, raised: now}
	s.c.Logger.Warn("alarm raised", "site", k.site, "room", k.room, "device", k.device, "alarm", k.kind, "message", a.Message)
	s.c.Feed.Publish("alarm", eventOf(viewOf(a), "raised"))
}

// clearLocked clears the active alarm of k and returns when (zero if the store failed).
func (s *Service) clearLocked(k key, cur active) time.Time {
	now := time.Now().UTC()
	if err := s.c.Store.ClearAlarm(context.Background(), cur.id, now); err != nil {
		s.c.Logger.Error("cannot clear an alarm", "id", cur.id, "error", err)
		return time.Time{}
	}
	if c, ok := s.active[k]; ok && c.id == cur.id {
		delete(s.active, k)
	}
	s.c.Logger.Info("alarm cleared", "site", k.site, "room", k.room, "device", k.device, "alarm", k.kind)
	v := viewOf(store.Alarm{ID: cur.id, Site: k.site, Room: k.room, Device: k.device, Kind: k.kind, Message: cur.message, Raised: cur.raised, Cleared: now})
	s.c.Feed.Publish("alarm", eventOf(v, "cleared"))
	return now
}

// Raise raises an event alarm (e.g. RecordingFailed): it stays active until acknowledged. An
// active alarm of the same kind for the same room and device is not raised again.
func (s *Service) Raise(kind, site, room, device, message string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := key{site, room, device, kind}
	if _, ok := s.active[k]; !ok {
		s.raiseLocked(k, message)
	}
}

// eventAlarm reports whether kind is cleared by acknowledgement rather than by a condition.
func eventAlarm(kind string) bool { return kind == RecordingFailed }

// Ack records that by acknowledged alarm id, and clears it if it is an event alarm.
func (s *Service) Ack(ctx context.Context, id int64, by string) (any, error) {
	a, err := s.c.Store.AckAlarm(ctx, id, by, time.Now().UTC())
	if errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("%w: %d", ErrNotFound, id)
	}
	if err != nil {
		return nil, err
	}
	if a.Cleared.IsZero() && eventAlarm(a.Kind) {
		s.mu.Lock()
		k := key{a.Site, a.Room, a.Device, a.Kind}
		cur, ok := s.active[k]
		if !ok || cur.id != a.ID {
			// Raised by another hub sharing the store: cleared here all the same.
			cur = active{id: a.ID, message: a.Message, raised: a.Raised}
		}
		a.Cleared = s.clearLocked(k, cur)
		s.mu.Unlock()
	}
	v := viewOf(a)
	s.c.Feed.Publish("alarm", eventOf(v, "acked"))
	return v, nil
}

// List returns the alarms, newest first: the active ones, or the last 1000.
func (s *Service) List(ctx context.Context, activeOnly bool) (any, error) {
	as, err := s.c.Store.Alarms(ctx, activeOnly, 1000)
	if err != nil {
		return nil, err
	}
	out := make([]View, len(as))
	for i, a := range as {
		out[i] = viewOf(a)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].ID > out[j].ID })
	return out, nil
}

// View is an alarm as the API shows it.
type View struct {
	ID      int64      `json:"id"`
	Site    string     `json:"site"`
	Room    string     `json:"room"`
	Device  string     `json:"device,omitempty"`
	Kind    string     `json:"kind"`
	Message string     `json:"message"`
	Active  bool       `json:"active"`
	Raised  time.Time  `json:"raised"`
	Cleared *time.Time `json:"cleared,omitempty"`
	Acked   *time.Time `json:"acked,omitempty"`
	AckedBy string     `json:"acked_by,omitempty"`
}

func viewOf(a store.Alarm) View {
	v := View{ID: a.ID, Site: a.Site, Room: a.Room, Device: a.Device, Kind: a.Kind, Message: a.Message,
		Active: a.Cleared.IsZero(), Raised: a.Raised, AckedBy: a.AckedBy}
	if !a.Cleared.IsZero() {
		t := a.Cleared
		v.Cleared = &t
	}
	if !a.Acked.IsZero() {
		t := a.Acked
		v.Acked = &t
	}
	return v
}

// event is an "alarm" event of the feed: the alarm, what happened to it, and "alarm" (its
// kind) as the event stream has always carried it.
type event struct {
	View
	Alarm string `json:"alarm"`
	State string `json:"state"` // raised, cleared or acked
}

func eventOf(v View, state string) event { return event{View: v, Alarm: v.Kind, State: state} }

func bound(s string) string {
	s = strings.TrimSpace(s)
	if len(s) > 1000 {
		s = s[:1000] + "…"
	}
	return s
}
