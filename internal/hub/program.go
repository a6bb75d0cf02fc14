package hub

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/bailiff/bailiff/internal/config"
	"github.com/bailiff/bailiff/internal/hub/api"
	"github.com/bailiff/bailiff/internal/hub/follow"
	"github.com/bailiff/bailiff/internal/hub/registry"
	"github.com/bailiff/bailiff/internal/store"
	"github.com/bailiff/bailiff/media/sfu"
)

// programs runs each room's program stream (media.program), its voice following, and the
// rooms' bench-conference privacy.
type programs struct {
	h *Hub

	mu      sync.Mutex
	rooms   map[string]*roomProgram  // site/room
	privacy map[string]store.Privacy // site/room → since when it is on
	cancel  func()                   // the feed subscription now
	stopped bool
	done    chan struct{} // nil when nothing follows the feed
}

// roomProgram is one room's program.
type roomProgram struct {
	ps         *programs
	site, room string
	key        string // what it was made from (programKey)
	prog       *sfu.Program
	f          *follow.Follower
	devices    map[string]string // camera stream → the device that steers it
	cameras    []string

	mu     sync.Mutex // the setting
	follow bool
	camera string // asked for: by hand, or the last seat followed

	cutMu sync.Mutex // orders cuts (preset recall, then the switch)
}

// ProgramView is a room's program as the API shows it.
type ProgramView struct {
	Site    string   `json:"site"`
	Room    string   `json:"room"`
	Follow  bool     `json:"follow"`
	Camera  string   `json:"camera"`  // asked for
	Showing string   `json:"showing"` // cut to (after the camera's keyframe); "" before
	Cameras []string `json:"cameras"`
	Privacy bool     `json:"privacy"`
}

// startPrograms makes the program of every room that has media.program, restores what the
// panels set and the rooms' privacy, and follows the rooms' meters.
func (h *Hub) startPrograms(ctx context.Context, rooms []*config.Room) error {
	ps := &programs{h: h, rooms: map[string]*roomProgram{}, privacy: map[string]store.Privacy{}}
	h.programs = ps
	on, err := h.store.PrivacyOn(ctx)
	if err != nil {
		return fmt.Errorf("hub: %w", err)
	}
	for _, p := range on {
		ps.privacy[p.Site+"/"+p.Room] = p
	}
	for _, r := range rooms {
		if r.Media.Program != nil && h.mediaOrigin(r.Site, r.Room) == "" { // a replica pulls the origin's
			if err := ps.add(ctx, r); err != nil {
				return err
			}
		}
		if _, ok := ps.privacy[r.Site+"/"+r.Room]; ok {
			h.sfu.SetMuted(r.Site, r.Room, mutedStreams(r))
		}
	}
	if len(ps.rooms) > 0 {
		ps.done = make(chan struct{})
		go ps.run()
	}
	return nil
}

// add makes a room's program.
func (ps *programs) add(ctx context.Context, r *config.Room) error {
	g := r.Media.Program
	rp := &roomProgram{ps: ps, site: r.Site, room: r.Room, key: programKey(r), devices: map[string]string{}, follow: g.FollowOn()}
	var audio []string
	for _, s := range r.Media.Streams {
		switch {
		case s.Camera != nil:
			rp.devices[s.Name] = s.Camera.Device
			rp.cameras = append(rp.cameras, s.Name)
			if len(g.Audio) == 0 && s.Camera.Audio != "off" {
				audio = append(audio, s.Name)
			}
		case s.Clip != nil:
			if s.Clip.Video != "none" {
				rp.cameras = append(rp.cameras, s.Name)
			}
			if len(g.Audio) == 0 && s.Clip.Audio != "none" {
				audio = append(audio, s.Name)
			}
		case s.Microphone != nil && len(g.Audio) == 0:
			audio = slices.Insert(audio, 0, s.Name) // microphones before cameras' own sound
		}
	}
	if len(g.Audio) > 0 {
		audio = g.Audio
	}
	opts := follow.Options{MinLevel: float64(g.MinLevelDB), Attack: g.Attack.D(), Hold: g.Hold.D(), Release: g.Release.D()}
	for _, s := range g.Seats {
		opts.Seats = append(opts.Seats, follow.Seat{Channel: s.Mic, Device: rp.devices[s.Camera], Preset: s.Preset,
			Stream: s.Camera, Judge: s.Judge()})
	}
	rp.f = follow.New(opts)
	rp.camera = g.Camera
	if rp.camera == "" && len(g.Seats) > 0 {
		rp.camera = g.Seats[0].Camera
	}
	if st, ok, err := ps.h.store.ProgramStateOf(ctx, r.Site, r.Room); err != nil {
		return fmt.Errorf("hub: %w", err)
	} else if ok && slices.Contains(rp.cameras, st.Camera) {
		rp.follow, rp.camera = st.Follow, st.Camera
	}
	prog, err := ps.h.sfu.NewProgram(r.Site, r.Room, sfu.ProgramOptions{Cameras: rp.cameras, Audio: audio, Camera: rp.camera})
	if err != nil {
		return fmt.Errorf("hub: program of %s/%s: %w", r.Site, r.Room, err)
	}
	rp.prog = prog
	ps.mu.Lock()
	ps.rooms[r.Site+"/"+r.Room] = rp
	ps.mu.Unlock()
	return nil
}

// programKey is what a room's program is made from: its media.program and its streams.
func programKey(r *config.Room) string {
	if r.Media.Program == nil {
		return ""
	}
	b, _ := json.Marshal([]any{r.Media.Program, r.Media.Streams})
	return string(b)
}

// reconfigure takes a room's pushed config: the program is made anew when media.program or
// the streams changed (made when it is new, ended when it is gone; a viewer of the old one
// sees it end and views again), and a room in privacy mutes the new config's streams.
func (ps *programs) reconfigure(ctx context.Context, r *config.Room) error {
	key := r.Site + "/" + r.Room
	ps.mu.Lock()
	old := ps.rooms[key]
	_, private := ps.privacy[key]
	same := old != nil && old.key == programKey(r) || old == nil && r.Media.Program == nil
	if !same {
		delete(ps.rooms, key)
	}
	ps.mu.Unlock()
	if private {
		ps.h.sfu.SetMuted(r.Site, r.Room, mutedStreams(r))
	}
	if same {
		return nil
	}
	if old != nil {
		old.prog.Close()
		ps.h.log.Info("program ended by a pushed config", "site", r.Site, "room", r.Room)
	}
	if r.Media.Program == nil || ps.h.mediaOrigin(r.Site, r.Room) != "" { // a replica pulls the origin's
		return nil
	}
	if err := ps.add(ctx, r); err != nil {
		return err
	}
	ps.h.log.Info("program made from a pushed config", "site", r.Site, "room", r.Room)
	ps.mu.Lock()
	defer ps.mu.Unlock()
	if ps.done == nil && !ps.stopped {
		ps.done = make(chan struct{})
		go ps.run()
	}
	return nil
}

// close ends the programs (their viewers see the streams end).
func (ps *programs) close() {
	ps.mu.Lock()
	ps.stopped = true
	if ps.cancel != nil {
		ps.cancel()
	}
	ps.mu.Unlock()
	if ps.done != nil {
		<-ps.done
	}
	ps.mu.Lock()
	defer ps.mu.Unlock()
	for _, rp := range ps.rooms {
		rp.prog.Close()
	}
}

// run reads the event feed (meters drive voice following) until close; the feed drops a
// subscriber that falls behind, so a dropped subscription is taken up again.
func (ps *programs) run() {
	defer close(ps.done)
	for {
		ps.mu.Lock()
		if ps.stopped {
			ps.mu.Unlock()
			return
		}
		events, cancel := ps.h.feed.Subscribe()
		ps.cancel = cancel
		ps.mu.Unlock()
		ps.follow(events)
		ps.mu.Lock()
		stopped := ps.stopped
		ps.mu.Unlock()
		if !stopped {
			ps.h.log.Warn("voice following fell behind the event feed; following again")
		}
	}
}

// follow feeds the meters of events to the rooms' followers until the channel closes.
func (ps *programs) follow(events <-chan registry.Event) {
	for ev := range events {
		if ev.Type != "meter" {
			continue
		}
		var m struct {
			Site   string             `json:"site"`
			Room   string             `json:"room"`
			Levels map[string]float64 `json:"levels"`
		}
		if json.Unmarshal(ev.Data, &m) != nil {
			continue
		}
		if rp := ps.room(m.Site, m.Room); rp != nil {
			rp.levels(m.Levels, time.Now())
		}
	}
}

func (ps *programs) room(site, room string) *roomProgram {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	return ps.rooms[site+"/"+room]
}

// levels feeds a meter reading to the follower; a new pick is cut to.
func (rp *roomProgram) levels(levels map[string]float64, now time.Time) {
	seat, ok := rp.f.Levels(levels, now)
	if !ok {
		return
	}
	rp.mu.Lock()
	on := rp.follow
	if on {
		rp.camera = seat.Stream
	}
	rp.mu.Unlock()
	if on {
		go rp.cut(seat, "follow")
	}
}

// cut recalls the seat's preset on its camera (when it has a device) and switches the
// program to the camera.
func (rp *roomProgram) cut(seat follow.Seat, by string) {
	rp.cutMu.Lock()
	defer rp.cutMu.Unlock()
	h := rp.ps.h
	if seat.Device != "" {
		args, _ := json.Marshal(map[string]int{"recall": seat.Preset})
		ctx, cancel := context.WithTimeout(context.Background(), h.opts.CommandTimeout+time.Second)
		ack, err := h.router.Send(ctx, rp.site, rp.room, seat.Device, "preset", args, by)
		cancel()
		if err != nil || !ack.OK {
			h.log.Warn("voice following: preset recall failed", "site", rp.site, "room", rp.room,
				"device", seat.Device, "preset", seat.Preset, "error", err, "ack", ack.Error)
		}
	}
	rp.mu.Lock()
	still := !rp.follow || rp.camera == seat.Stream // a hand pick since wins
	rp.mu.Unlock()
	if by == "follow" && !still {
		return
	}
	if err := rp.prog.Switch(seat.Stream); err != nil {
		h.log.Warn("program switch", "site", rp.site, "room", rp.room, "camera", seat.Stream, "error", err)
		return
	}
	rp.publish(by, seat.Channel)
}

func (rp *roomProgram) view() ProgramView {
	rp.mu.Lock()
	defer rp.mu.Unlock()
	return ProgramView{Site: rp.site, Room: rp.room, Follow: rp.follow, Camera: rp.camera,
		Showing: rp.prog.Stats().Camera, Cameras: slices.Clone(rp.cameras), Privacy: rp.ps.privacyOn(rp.site, rp.room)}
}

// publish tells the panels (a "program" event).
func (rp *roomProgram) publish(by, mic string) {
	v := rp.view()
	data := map[string]any{"site": v.Site, "room": v.Room, "follow": v.Follow, "camera": v.Camera, "by": by}
	if mic != "" {
		data["mic"] = mic
	}
	rp.ps.h.feed.Publish("program", data)
}

// Program shows a room's program (GET /api/v1/rooms/{site}/{room}/program).
func (ps *programs) Program(_ context.Context, site, room string) (any, error) {
	rp := ps.room(site, room)
	if rp == nil {
		return nil, fmt.Errorf("%w: room %s/%s has no program", api.ErrNotFound, site, room)
	}
	return rp.view(), nil
}

// SetProgram turns following on or off and picks a camera by hand (PUT …/program). A
// camera without "follow" turns following off.
func (ps *programs) SetProgram(ctx context.Context, site, room string, req api.ProgramRequest, by string) (any, error) {
	rp := ps.room(site, room)
	if rp == nil {
		return nil, fmt.Errorf("%w: room %s/%s has no program", api.ErrNotFound, site, room)
	}
	if req.Camera != "" && !slices.Contains(rp.cameras, req.Camera) {
		return nil, fmt.Errorf("%w: no camera %q in room %s/%s (have %v)", api.ErrBadRequest, req.Camera, site, room, rp.cameras)
	}
	if req.Follow == nil && req.Camera == "" {
		return nil, fmt.Errorf("%w: want \"follow\", \"camera\" or both", api.ErrBadRequest)
	}
	rp.mu.Lock()
	if req.Follow != nil {
		rp.follow = *req.Follow
	} else {
		rp.follow = false
	}
	if req.Camera != "" {
		rp.camera = req.Camera
	}
	st := store.ProgramState{Follow: rp.follow, Camera: rp.camera}
	camera, following := rp.camera, rp.follow
	rp.mu.Unlock()
	if following {
		rp.f.Reset() // the next speaker is shown at once
	}
	if err := ps.h.store.PutProgramState(ctx, site, room, st); err != nil {
		return nil, err
	}
	if err := rp.prog.Switch(camera); err != nil {
		return nil, fmt.Errorf("%w: %v", api.ErrBadRequest, err)
	}
	rp.publish(by, "")
	return rp.view(), nil
}

// mutedStreams are the streams of a room whose sound privacy silences: every stream with
// audio that the room's agent publishes, and the program.
func mutedStreams(r *config.Room) []string {
	out := []string{"program"}
	for _, s := range r.Media.Streams {
		if s.Microphone != nil || (s.Camera != nil && s.Camera.Audio != "off") || (s.Clip != nil && s.Clip.Audio != "none") {
			out = append(out, s.Name)
		}
	}
	return out
}

func (ps *programs) privacyOn(site, room string) bool {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	_, ok := ps.privacy[site+"/"+room]
	return ok
}

// setPrivacy raises or lowers a room's privacy: kept in the store, its microphones silenced
// towards remote parties and the record (or restored), the recording marked.
func (ps *programs) setPrivacy(ctx context.Context, site, room string, on bool, by string) error {
	now := time.Now().UTC()
	if err := ps.h.store.SetPrivacy(ctx, site, room, on, now, by); err != nil {
		return err
	}
	ps.mu.Lock()
	_, was := ps.privacy[site+"/"+room]
	if on && !was {
		ps.privacy[site+"/"+room] = store.Privacy{Site: site, Room: room, Since: now, By: by}
	} else if !on {
		delete(ps.privacy, site+"/"+room)
	}
	ps.mu.Unlock()
	var names []string
	if on {
		if r, ok := ps.h.prov.room(site, room); ok {
			names = mutedStreams(r)
		} else {
			names = []string{"program"}
		}
	}
	ps.h.sfu.SetMuted(site, room, names)
	if on != was {
		kind := markPrivacyEnd
		if on {
			kind = markPrivacyStart
		}
		ps.h.recs.mark(site, room, kind, "by "+by)
	}
	return nil
}

// Recording markers of privacy.
const (
	markPrivacyStart = "privacy-start"
	markPrivacyEnd   = "privacy-end"
)
