// Package hearings keeps the hearings of the courts: case, room, judge, parties, access level,
// state (scheduled → in-session ⇄ paused → ended), the recordings each made and its log notes.
// Starting, pausing, resuming and ending a hearing runs the room's scenes and drives the
// recordings service; every event goes to the audit log and the event stream.
package hearings

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/bailiff/bailiff/internal/hub/audit"
	"github.com/bailiff/bailiff/internal/hub/auth"
	"github.com/bailiff/bailiff/internal/hub/scenes"
	"github.com/bailiff/bailiff/internal/store"
	"github.com/bailiff/bailiff/internal/wire"
)

// States of a hearing.
const (
	Scheduled = "scheduled"
	InSession = "in-session"
	Paused    = "paused"
	Ended     = "ended"
)

// Access levels of a hearing: who may see it, its recordings and its notes.
const (
	Public       = "public"       // every viewing role (technician, judge, clerk, monitor)
	Confidential = "confidential" // technicians, judges and clerks
	Sealed       = "sealed"       // technicians and the hearing's own judge
)

// AccessLevels lists the access levels.
var AccessLevels = []string{Public, Confidential, Sealed}

// Scenes a hearing runs in its room, when the room has them.
const (
	SceneStart  = "start-hearing"
	ScenePause  = "pause-hearing"
	SceneResume = "resume-hearing"
	SceneEnd    = "end-hearing"
)

// Errors; the API answers them with 404, 409, 403 and 400.
var (
	ErrNotFound  = errors.New("no such hearing")
	ErrConflict  = errors.New("conflict")
	ErrForbidden = errors.New("forbidden")
	ErrInvalid   = errors.New("invalid")
)

// Caller is who asks.
type Caller struct{ User, Role string }

// Store is what the service needs of the store.
type Store interface {
	PutHearing(ctx context.Context, h store.Hearing) error
	Hearing(ctx context.Context, id string) (store.Hearing, error)
	Hearings(ctx context.Context, f store.HearingFilter) ([]store.Hearing, error)
	AddHearingRecording(ctx context.Context, hearingID, recordingID string) error
	RecordingHearing(ctx context.Context, recordingID string) (store.Hearing, error)
	AddNote(ctx context.Context, n store.Note) (store.Note, error)
	Notes(ctx context.Context, hearingID string) ([]store.Note, string, error)
	User(ctx context.Context, name string) (store.User, error)
}

// Scenes runs a room's scenes.
type Scenes interface {
	Has(site, room, scene string) bool
	Run(ctx context.Context, site, room, scene, by string) (scenes.Run, error)
}

// Recorder is the recordings service.
type Recorder interface {
	// Start records the room; when it already records, it returns that recording.
	Start(ctx context.Context, site, room string) (id string, err error)
	Stop(ctx context.Context, id string) error
	// Active is the room's running recording and when it started.
	Active(site, room string) (id string, started time.Time, ok bool)
}

// Service is the hearings service. Set the exported fields before use.
type Service struct {
	Store    Store
	Scenes   Scenes
	Recorder Recorder
	Audit    *audit.Log
	// RoomKnown reports whether a room exists.
	RoomKnown func(site, room string) bool
	// Publish sends an event to the event stream; may be nil.
	Publish func(typ string, data any)
	// Ended is called when a hearing has ended (after it is stored); may be nil.
	Ended func(ctx context.Context, h store.Hearing)
	Log   *slog.Logger
	Now   func() time.Time

	mu    sync.Mutex
	rooms map[string]*sync.Mutex // site/room → serialises that room's transitions
}

// Hearing is a hearing as the API shows it.
type Hearing struct {
	ID         string        `json:"id"`
	Case       string        `json:"case"`
	Title      string        `json:"title,omitempty"`
	Site       string        `json:"site"`
	Room       string        `json:"room"`
	Judge      string        `json:"judge"`
	Parties    []store.Party `json:"parties"`
	Access     string        `json:"access"`
	State      string        `json:"state"`
	Scheduled  *time.Time    `json:"scheduled,omitempty"`
	Started    *time.Time    `json:"started,omitempty"`
	Ended      *time.Time    `json:"ended,omitempty"`
	Recordings []string      `json:"recordings"`
	CreatedBy  string        `json:"created_by"`
	Created    time.Time     `json:"created"`
}

func tp(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func view(h store.Hearing) Hearing {
	v := Hearing{ID: h.ID, Case: h.Case, Title: h.Title, Site: h.Site, Room: h.Room, Judge: h.Judge, Parties: h.Parties,
		Access: h.Access, State: h.State, Scheduled: tp(h.Scheduled), Started: tp(h.Started), Ended: tp(h.Ended),
		Recordings: h.Recordings, CreatedBy: h.CreatedBy, Created: h.Created}
	if v.Parties == nil {
		v.Parties = []store.Party{}
	}
	if v.Recordings == nil {
		v.Recordings = []string{}
	}
	return v
}

// Visible reports whether c may see a hearing of this access level and judge, its recordings
// and its notes.
func Visible(access, judge string, c Caller) bool {
	switch access {
	case Sealed:
		return c.Role == auth.RoleTechnician || (c.Role == auth.RoleJudge && c.User == judge)
	case Confidential:
		return c.Role == auth.RoleTechnician || c.Role == auth.RoleJudge || c.Role == auth.RoleClerk
	}
	return auth.CanView(c.Role)
}

func (s *Service) logger() *slog.Logger {
	if s.Log == nil {
		return slog.Default()
	}
	return s.Log
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

func (s *Service) roomLock(site, room string) *sync.Mutex {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.rooms == nil {
		s.rooms = map[string]*sync.Mutex{}
	}
	k := site + "/" + room
	if s.rooms[k] == nil {
		s.rooms[k] = &sync.Mutex{}
	}
	return s.rooms[k]
}

// Hearing returns a hearing by its ID without any access check, for other parts of the hub
// (an invite carries a hearing's opaque ID). ErrNotFound when there is none.
func (s *Service) Hearing(ctx context.Context, id string) (Hearing, error) {
	h, err := s.Store.Hearing(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return Hearing{}, fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	if err != nil {
		return Hearing{}, err
	}
	return view(h), nil
}

// load returns a hearing c may see.
func (s *Service) load(ctx context.Context, c Caller, id string) (store.Hearing, error) {
	if !ValidID(id) {
		return store.Hearing{}, fmt.Errorf("%w: hearing ID %q: want 24 characters of 0-9 and a-f", ErrInvalid, short(id))
	}
	h, err := s.Store.Hearing(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return h, fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	if err != nil {
		return h, err
	}
	if !Visible(h.Access, h.Judge, c) {
		return h, fmt.Errorf("%w: hearing %s is %s: the %s role may not see it", ErrForbidden, id, h.Access, c.Role)
	}
	return h, nil
}

// Get returns a hearing c may see.
func (s *Service) Get(ctx context.Context, c Caller, id string) (Hearing, error) {
	h, err := s.load(ctx, c, id)
	if err != nil {
		return Hearing{}, err
	}
	return view(h), nil
}

// Filter selects hearings for List.
type Filter struct {
	Site, Room, Case, State string
	Date                    string // YYYY-MM-DD (UTC): hearings scheduled, else started, else created that day
}

// List returns the hearings c may see, latest first.
func (s *Service) List(ctx context.Context, c Caller, f Filter) ([]Hearing, error) {
	sf := store.HearingFilter{Site: f.Site, Room: f.Room, Case: f.Case, State: f.State}
	for _, x := range []struct{ name, v string }{{"site", f.Site}, {"room", f.Room}} {
		if x.v != "" && !wire.ValidID(x.v) {
			return nil, fmt.Errorf("%w: %s %q is not an ID", ErrInvalid, x.name, short(x.v))
		}
	}
	if f.State != "" && f.State != Scheduled && f.State != InSession && f.State != Paused && f.State != Ended {
		return nil, fmt.Errorf("%w: state %q: want scheduled, in-session, paused or ended", ErrInvalid, short(f.State))
	}
	if f.Date != "" {
		d, err := time.Parse("2006-01-02", f.Date)
		if err != nil {
			return nil, fmt.Errorf("%w: date %q: want YYYY-MM-DD", ErrInvalid, short(f.Date))
		}
		sf.From, sf.To = d, d.AddDate(0, 0, 1)
	}
	rows, err := s.Store.Hearings(ctx, sf)
	if err != nil {
		return nil, err
	}
	out := []Hearing{}
	for _, h := range rows {
		if Visible(h.Access, h.Judge, c) {
			out = append(out, view(h))
		}
	}
	return out, nil
}

// CreateRequest is the body of POST /api/v1/hearings.
type CreateRequest struct {
	Case      string        `json:"case"`
	Title     string        `json:"title,omitempty"`
	Site      string        `json:"site"`
	Room      string        `json:"room"`
	Judge     string        `json:"judge,omitempty"` // default: the caller, if a judge
	Parties   []store.Party `json:"parties,omitempty"`
	Access    string        `json:"access,omitempty"` // default public
	Scheduled *time.Time    `json:"scheduled,omitempty"`
}

// Limits of a hearing's fields.
const (
	maxCase    = 64
	maxText    = 200 // title, party names
	maxParties = 50
	MaxNote    = 4000 // characters of a note
)

// Check checks a request's fields, one error naming every problem (ErrInvalid).
func (r *CreateRequest) Check() error {
	var p []string
	add := func(f string, a ...any) { p = append(p, fmt.Sprintf(f, a...)) }
	if msg := checkText(r.Case, maxCase, true); msg != "" {
		add(`"case": %s`, msg)
	}
	if msg := checkText(r.Title, maxText, false); msg != "" {
		add(`"title": %s`, msg)
	}
	for _, x := range []struct{ name, v string }{{"site", r.Site}, {"room", r.Room}} {
		if err := wire.CheckID(x.name, x.v); err != nil {
			add(`"%s": %v`, x.name, err)
		}
	}
	if r.Judge != "" {
		if msg := checkText(r.Judge, 64, true); msg != "" {
			add(`"judge": %s`, msg)
		}
	}
	if len(r.Parties) > maxParties {
		add(`"parties": %d parties, at most %d`, len(r.Parties), maxParties)
	}
	for i, pt := range r.Parties {
		if msg := checkText(pt.Name, maxText, true); msg != "" {
			add(`"parties[%d].name": %s`, i, msg)
		}
		if msg := checkText(pt.Role, 64, false); msg != "" {
			add(`"parties[%d].role": %s`, i, msg)
		}
	}
	switch r.Access {
	case "", Public, Confidential, Sealed:
	default:
		add(`"access": %q: want public, confidential or sealed`, short(r.Access))
	}
	if r.Scheduled != nil && (r.Scheduled.Year() < 2000 || r.Scheduled.Year() > 2200) {
		add(`"scheduled": %s is not a plausible date`, r.Scheduled.Format(time.RFC3339))
	}
	if len(p) > 0 {
		return fmt.Errorf("%w: %s", ErrInvalid, strings.Join(p, "; "))
	}
	return nil
}

// checkText checks a one-line text field; it returns what is wrong, or "".
func checkText(s string, max int, required bool) string {
	switch {
	case strings.TrimSpace(s) == "":
		if required {
			return "required"
		}
		if s != "" {
			return "blank"
		}
	case !utf8.ValidString(s):
		return "not valid UTF-8"
	case utf8.RuneCountInString(s) > max:
		return fmt.Sprintf("%d characters, at most %d", utf8.RuneCountInString(s), max)
	case strings.ContainsFunc(s, unicode.IsControl):
		return "must not contain control characters such as line breaks"
	}
	return ""
}

func short(s string) string {
	if len(s) > 40 {
		s = s[:40] + "…"
	}
	return strings.ToValidUTF8(s, "�")
}

// NewID makes a hearing's opaque ID: 96 random bits, hex.
func NewID() string {
	b := make([]byte, 12)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// ValidID reports whether s has the form of a hearing ID.
func ValidID(s string) bool {
	if len(s) != 24 {
		return false
	}
	for _, c := range s {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// Create schedules a hearing.
func (s *Service) Create(ctx context.Context, c Caller, r CreateRequest) (Hearing, error) {
	if err := r.Check(); err != nil {
		return Hearing{}, err
	}
	if s.RoomKnown != nil && !s.RoomKnown(r.Site, r.Room) {
		return Hearing{}, fmt.Errorf("%w: no room %s/%s", ErrInvalid, r.Site, r.Room)
	}
	if r.Judge == "" {
		if c.Role != auth.RoleJudge {
			return Hearing{}, fmt.Errorf(`%w: "judge": required (the user name of the hearing's judge)`, ErrInvalid)
		}
		r.Judge = c.User
	}
	u, err := s.Store.User(ctx, r.Judge)
	if errors.Is(err, store.ErrNotFound) || (err == nil && u.Role != auth.RoleJudge) {
		return Hearing{}, fmt.Errorf(`%w: "judge": %q is not a judge's user name`, ErrInvalid, short(r.Judge))
	}
	if err != nil {
		return Hearing{}, err
	}
	if r.Access == "" {
		r.Access = Public
	}
	h := store.Hearing{ID: NewID(), Case: strings.TrimSpace(r.Case), Title: strings.TrimSpace(r.Title), Site: r.Site, Room: r.Room,
		Judge: r.Judge, Parties: r.Parties, Access: r.Access, State: Scheduled, CreatedBy: c.User, Created: s.now().Truncate(time.Millisecond)}
	if r.Scheduled != nil {
		h.Scheduled = r.Scheduled.UTC().Truncate(time.Millisecond)
	}
	if err := s.Store.PutHearing(ctx, h); err != nil {
		return Hearing{}, err
	}
	s.record(ctx, c, audit.HearingCreate, h, audit.OK, audit.Detail(map[string]any{"case": h.Case, "room": h.Site + "/" + h.Room, "access": h.Access}))
	s.publish(h)
	return view(h), nil
}

func (s *Service) record(ctx context.Context, c Caller, action string, h store.Hearing, result, detail string) {
	s.Audit.Record(ctx, store.AuditEntry{User: c.User, Role: c.Role, Action: action, Target: h.ID, Result: result, Detail: detail})
}

// publish tells the event stream of a hearing's state; the case number only for public
// hearings (every viewing role reads the stream).
func (s *Service) publish(h store.Hearing) {
	if s.Publish == nil {
		return
	}
	ev := map[string]any{"id": h.ID, "site": h.Site, "room": h.Room, "state": h.State, "access": h.Access}
	if h.Access == Public {
		ev["case"] = h.Case
	}
	s.Publish("hearing", ev)
}

// Transition is the outcome of start, pause, resume or end: the hearing as it is now, the
// scene that ran (if the room has one for it) and what did not go as it should.
type Transition struct {
	Hearing  Hearing     `json:"hearing"`
	Scene    *scenes.Run `json:"scene,omitempty"`
	Warnings []string    `json:"warnings,omitempty"`
}

// Start opens a scheduled hearing: the room's start-hearing scene, then a recording of the
// room (the scene's own start-recording step, or one started here).
func (s *Service) Start(ctx context.Context, c Caller, id string) (Transition, error) {
	return s.transition(ctx, c, id, audit.HearingStart, []string{Scheduled}, InSession, SceneStart)
}

// Pause stops the recording (a resume starts a new one) and runs pause-hearing if the room
// has it.
func (s *Service) Pause(ctx context.Context, c Caller, id string) (Transition, error) {
	return s.transition(ctx, c, id, audit.HearingPause, []string{InSession}, Paused, ScenePause)
}

// Resume runs resume-hearing if the room has it and records again.
func (s *Service) Resume(ctx context.Context, c Caller, id string) (Transition, error) {
	return s.transition(ctx, c, id, audit.HearingResume, []string{Paused}, InSession, SceneResume)
}

// End runs end-hearing and makes sure the recording is sealed.
func (s *Service) End(ctx context.Context, c Caller, id string) (Transition, error) {
	return s.transition(ctx, c, id, audit.HearingEnd, []string{InSession, Paused}, Ended, SceneEnd)
}

func (s *Service) transition(ctx context.Context, c Caller, id, action string, from []string, to, scene string) (Transition, error) {
	h, err := s.load(ctx, c, id)
	if err != nil {
		return Transition{}, err
	}
	lock := s.roomLock(h.Site, h.Room)
	lock.Lock()
	defer lock.Unlock()
	if h, err = s.load(ctx, c, id); err != nil { // again, under the room's lock
		return Transition{}, err
	}
	ok := false
	for _, f := range from {
		ok = ok || h.State == f
	}
	if !ok {
		return Transition{}, fmt.Errorf("%w: hearing %s is %s; %s needs it %s", ErrConflict, id, h.State, strings.TrimPrefix(action, "hearing-"), strings.Join(from, " or "))
	}
	if to == InSession && h.State == Scheduled {
		open, err := s.Store.Hearings(ctx, store.HearingFilter{Site: h.Site, Room: h.Room, State: InSession})
		if err == nil {
			paused, perr := s.Store.Hearings(ctx, store.HearingFilter{Site: h.Site, Room: h.Room, State: Paused})
			open, err = append(open, paused...), perr
		}
		if err != nil {
			return Transition{}, err
		}
		if len(open) > 0 {
			return Transition{}, fmt.Errorf("%w: room %s/%s already holds hearing %s (%s): end it first", ErrConflict, h.Site, h.Room, open[0].ID, open[0].State)
		}
	}
	var t Transition
	if s.Scenes != nil && s.Scenes.Has(h.Site, h.Room, scene) {
		run, err := s.Scenes.Run(ctx, h.Site, h.Room, scene, c.User)
		if errors.Is(err, scenes.ErrBusy) {
			return Transition{}, fmt.Errorf("%w: %v", ErrConflict, err)
		}
		if err != nil {
			return Transition{}, err
		}
		t.Scene = &run
		for _, f := range run.Failed() {
			t.Warnings = append(t.Warnings, fmt.Sprintf("scene %s: %s: %s", scene, f.At, f.Error.Error()))
		}
	}
	now := s.now().Truncate(time.Millisecond)
	h.State = to
	switch {
	case action == audit.HearingStart:
		h.Started = now
	case to == Ended:
		h.Ended = now
	}
	switch to {
	case InSession:
		// Record: the recording the scene started, or a new one.
		rec, err := s.Recorder.Start(ctx, h.Site, h.Room)
		if err != nil {
			t.Warnings = append(t.Warnings, "the hearing is not being recorded: "+err.Error())
			s.logger().Error("hearing: start recording", "hearing", h.ID, "site", h.Site, "room", h.Room, "error", err)
		} else if err := s.Store.AddHearingRecording(ctx, h.ID, rec); err != nil {
			return Transition{}, err
		}
	default:
		if rec, _, ok := s.Recorder.Active(h.Site, h.Room); ok {
			// The scene did not stop it (or there is none): stop it here. A recording started
			// while the hearing ran belongs to it.
			if err := s.Store.AddHearingRecording(ctx, h.ID, rec); err != nil {
				return Transition{}, err
			}
			if err := s.Recorder.Stop(ctx, rec); err != nil {
				t.Warnings = append(t.Warnings, "could not stop the recording: "+err.Error())
			}
		}
	}
	if err := s.Store.PutHearing(ctx, h); err != nil {
		return Transition{}, err
	}
	if h, err = s.Store.Hearing(ctx, h.ID); err != nil {
		return Transition{}, err
	}
	result := audit.OK
	if len(t.Warnings) > 0 {
		result = "warnings"
	}
	s.record(ctx, c, action, h, result, audit.Detail(map[string]any{"room": h.Site + "/" + h.Room, "state": h.State, "recordings": h.Recordings, "warnings": t.Warnings}))
	s.publish(h)
	if h.State == Ended && s.Ended != nil {
		s.Ended(ctx, h)
	}
	t.Hearing = view(h)
	return t, nil
}

// Resume recording after a restart: the hub sealed the recordings its last run left open, so
// every hearing still in session gets a new recording of its room. It returns how many.
func (s *Service) RestoreRecordings(ctx context.Context) (int, error) {
	open, err := s.Store.Hearings(ctx, store.HearingFilter{State: InSession, Limit: 1000})
	if err != nil {
		return 0, err
	}
	n := 0
	for _, h := range open {
		rec, err := s.Recorder.Start(ctx, h.Site, h.Room)
		if err == nil {
			err = s.Store.AddHearingRecording(ctx, h.ID, rec)
		}
		if err != nil {
			s.logger().Error("hearing: record again after a restart", "hearing", h.ID, "site", h.Site, "room", h.Room, "error", err)
			continue
		}
		s.logger().Warn("hearing in session at the last stop: recording again", "hearing", h.ID, "site", h.Site, "room", h.Room, "recording", rec)
		n++
	}
	return n, nil
}

// Current returns the hearing a room holds now (in session or paused), if any.
func (s *Service) Current(ctx context.Context, site, room string) (store.Hearing, bool, error) {
	for _, st := range []string{InSession, Paused} {
		list, err := s.Store.Hearings(ctx, store.HearingFilter{Site: site, Room: room, State: st, Limit: 1})
		if err != nil {
			return store.Hearing{}, false, err
		}
		if len(list) > 0 {
			return list[0], true, nil
		}
	}
	return store.Hearing{}, false, nil
}

// Next returns the room's next scheduled hearing for today (UTC) or earlier, the earliest
// first, if any.
func (s *Service) Next(ctx context.Context, site, room string) (store.Hearing, bool, error) {
	list, err := s.Store.Hearings(ctx, store.HearingFilter{Site: site, Room: room, State: Scheduled, To: s.now().Truncate(24*time.Hour).AddDate(0, 0, 1), Limit: 1000})
	if err != nil || len(list) == 0 {
		return store.Hearing{}, false, err
	}
	return list[len(list)-1], true, nil // the list is latest first
}

// NotesView is a hearing's notes and whether their chain holds.
type NotesView struct {
	Hearing  string       `json:"hearing"`
	Notes    []store.Note `json:"notes"`
	Head     string       `json:"head"`
	Verified bool         `json:"verified"`
	Problem  string       `json:"problem,omitempty"`
}

// AddNote writes a note into a hearing's record while it is in session or paused, with the
// room's recording and how far into it.
func (s *Service) AddNote(ctx context.Context, c Caller, id, text string) (store.Note, error) {
	if msg := checkNote(text); msg != "" {
		return store.Note{}, fmt.Errorf(`%w: "text": %s`, ErrInvalid, msg)
	}
	h, err := s.load(ctx, c, id)
	if err != nil {
		return store.Note{}, err
	}
	if h.State != InSession && h.State != Paused {
		return store.Note{}, fmt.Errorf("%w: hearing %s is %s: notes are written while it is in session or paused", ErrConflict, id, h.State)
	}
	n := store.Note{Hearing: id, At: s.now(), User: c.User, Role: c.Role, Text: text}
	if rec, started, ok := s.Recorder.Active(h.Site, h.Room); ok && h.State == InSession {
		n.Recording, n.OffsetMS = rec, max(0, n.At.Sub(started).Milliseconds())
	}
	n, err = s.Store.AddNote(ctx, n)
	if err != nil {
		return n, err
	}
	s.record(ctx, c, audit.Note, h, audit.OK, audit.Detail(map[string]any{"seq": n.Seq, "hash": n.Hash}))
	return n, nil
}

func checkNote(s string) string {
	switch {
	case strings.TrimSpace(s) == "":
		return "required"
	case !utf8.ValidString(s):
		return "not valid UTF-8"
	case utf8.RuneCountInString(s) > MaxNote:
		return fmt.Sprintf("%d characters, at most %d", utf8.RuneCountInString(s), MaxNote)
	case strings.ContainsFunc(s, func(r rune) bool { return unicode.IsControl(r) && r != '\n' && r != '\t' }):
		return "must not contain control characters other than line breaks and tabs"
	}
	return ""
}

// Notes returns a hearing's notes and checks their chain.
func (s *Service) Notes(ctx context.Context, c Caller, id string) (NotesView, error) {
	if _, err := s.load(ctx, c, id); err != nil {
		return NotesView{}, err
	}
	notes, head, err := s.Store.Notes(ctx, id)
	v := NotesView{Hearing: id, Notes: notes, Head: head, Verified: err == nil}
	var ce *store.ChainError
	if errors.As(err, &ce) {
		v.Problem = "note " + ce.Error()
	} else if err != nil {
		return NotesView{}, err
	}
	if v.Notes == nil {
		v.Notes = []store.Note{}
	}
	return v, nil
}

// RecordingVisible reports whether c may reach a recording: one that belongs to no hearing
// is for every viewing role; one of a hearing follows the hearing's access level.
func (s *Service) RecordingVisible(ctx context.Context, c Caller, recordingID string) (bool, error) {
	h, err := s.Store.RecordingHearing(ctx, recordingID)
	if errors.Is(err, store.ErrNotFound) {
		return auth.CanView(c.Role), nil
	}
	if err != nil {
		return false, err
	}
	return Visible(h.Access, h.Judge, c), nil
}
