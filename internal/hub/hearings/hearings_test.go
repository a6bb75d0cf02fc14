package hearings

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bailiff/bailiff/internal/hub/audit"
	"github.com/bailiff/bailiff/internal/hub/scenes"
	"github.com/bailiff/bailiff/internal/store"
	"github.com/bailiff/bailiff/internal/wire"
)

// fakeScenes records the scenes run; the room has start-hearing and end-hearing only.
type fakeScenes struct {
	mu   sync.Mutex
	ran  []string
	fail bool
	busy bool
}

func (f *fakeScenes) Has(site, room, scene string) bool {
	return scene == SceneStart || scene == SceneEnd
}

func (f *fakeScenes) Run(_ context.Context, site, room, scene, by string) (scenes.Run, error) {
	if f.busy {
		return scenes.Run{}, scenes.ErrBusy
	}
	f.mu.Lock()
	f.ran = append(f.ran, scene)
	f.mu.Unlock()
	run := scenes.Run{Scene: scene, Site: site, Room: room, By: by, OK: !f.fail,
		Steps: []scenes.StepResult{{At: "steps[0]", Device: "projector", Action: "power", OK: !f.fail}}}
	if f.fail {
		run.Steps[0].Error = wire.Errorf(wire.CodeUnreachable, "connection refused")
	}
	return run, nil
}

type fakeRecorder struct {
	mu     sync.Mutex
	n      int
	active map[string]string
	err    error
}

func (f *fakeRecorder) Start(_ context.Context, site, room string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return "", f.err
	}
	if id, ok := f.active[site+"/"+room]; ok {
		return id, nil
	}
	f.n++
	id := "rec" + string(rune('0'+f.n))
	f.active[site+"/"+room] = id
	return id, nil
}

func (f *fakeRecorder) Stop(_ context.Context, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for k, v := range f.active {
		if v == id {
			delete(f.active, k)
		}
	}
	return nil
}

func (f *fakeRecorder) Active(site, room string) (string, time.Time, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	id, ok := f.active[site+"/"+room]
	return id, time.Now().Add(-2 * time.Second), ok
}

func newService(t *testing.T) (*Service, *store.Store, *fakeScenes, *fakeRecorder, *[]string) {
	st, err := store.Open(":memory:")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	ctx := context.Background()
	for _, u := range []store.User{{Name: "judge", Role: "judge", Hash: "x"}, {Name: "judge2", Role: "judge", Hash: "x"}, {Name: "clerk", Role: "clerk", Hash: "x"}} {
		st.PutUser(ctx, u)
	}
	sc, rec := &fakeScenes{}, &fakeRecorder{active: map[string]string{}}
	var events []string
	var mu sync.Mutex
	s := &Service{Store: st, Scenes: sc, Recorder: rec, Audit: &audit.Log{Store: st},
		RoomKnown: func(site, room string) bool { return site == "court" && room != "nowhere" },
		Publish: func(typ string, data any) {
			mu.Lock()
			events = append(events, typ+":"+data.(map[string]any)["state"].(string))
			mu.Unlock()
		}}
	return s, st, sc, rec, &events
}

var (
	judge  = Caller{User: "judge", Role: "judge"}
	judge2 = Caller{User: "judge2", Role: "judge"}
	clerk  = Caller{User: "clerk", Role: "clerk"}
	tech   = Caller{User: "tech", Role: "technician"}
	mon    = Caller{User: "mon", Role: "monitor"}
	vis    = Caller{User: "v", Role: "visitor"}
)

func TestVisible(t *testing.T) {
	for _, tc := range []struct {
		access string
		c      Caller
		want   bool
	}{
		{Public, mon, true}, {Public, clerk, true}, {Public, vis, false},
		{Confidential, mon, false}, {Confidential, clerk, true}, {Confidential, judge2, true}, {Confidential, tech, true}, {Confidential, vis, false},
		{Sealed, judge, true}, {Sealed, judge2, false}, {Sealed, clerk, false}, {Sealed, tech, true}, {Sealed, mon, false},
		{Sealed, Caller{User: "judge", Role: "clerk"}, false}, // the judge's name with another role
	} {
		if got := Visible(tc.access, "judge", tc.c); got != tc.want {
			t.Errorf("%s as %+v: %v, want %v", tc.access, tc.c, got, tc.want)
		}
	}
}

func TestCreateChecks(t *testing.T) {
	s, _, _, _, _ := newService(t)
	ctx := context.Background()
	for _, tc := range []struct {
		c    Caller
		req  CreateRequest
		want string // "" ok; else part of the error
	}{
		{judge, CreateRequest{Case: "CR-1", Site: "court", Room: "r1"}, ""},
		{clerk, CreateRequest{Case: "CR-1", Site: "court", Room: "r1"}, `"judge": required`},
		{clerk, CreateRequest{Case: "CR-1", Site: "court", Room: "r1", Judge: "clerk"}, "is not a judge"},
		{clerk, CreateRequest{Case: "CR-1", Site: "court", Room: "r1", Judge: "nobody"}, "is not a judge"},
		{clerk, CreateRequest{Case: "CR-1", Site: "court", Room: "nowhere", Judge: "judge"}, "no room court/nowhere"},
		{clerk, CreateRequest{Case: "", Site: "Court", Room: "r1", Access: "secret", Parties: []store.Party{{Name: ""}}}, `"case": required; "site": invalid site ID`},
		{clerk, CreateRequest{Case: "a\nb", Site: "court", Room: "r1", Judge: "judge"}, "control characters"},
		{clerk, CreateRequest{Case: strings.Repeat("x", 65), Site: "court", Room: "r1", Judge: "judge"}, "65 characters, at most 64"},
	} {
		h, err := s.Create(ctx, tc.c, tc.req)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%+v: %v", tc.req, err)
		case tc.want != "" && (err == nil || !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%+v: %v, want %q", tc.req, err, tc.want)
		case tc.want == "" && (h.Judge != "judge" || h.Access != Public || h.State != Scheduled || !ValidID(h.ID)):
			t.Errorf("created %+v", h)
		}
	}
}

func TestLifecycle(t *testing.T) {
	s, st, sc, rec, events := newService(t)
	ctx := context.Background()
	h, err := s.Create(ctx, clerk, CreateRequest{Case: "CR-7", Site: "court", Room: "r1", Judge: "judge"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddNote(ctx, clerk, h.ID, "too early"); !errors.Is(err, ErrConflict) {
		t.Errorf("note while scheduled: %v", err)
	}
	if _, err := s.Pause(ctx, judge, h.ID); !errors.Is(err, ErrConflict) {
		t.Errorf("pause while scheduled: %v", err)
	}
	// A failing scene step does not stop the hearing: it is a warning.
	sc.fail = true
	tr, err := s.Start(ctx, judge, h.ID)
	if err != nil || tr.Hearing.State != InSession || tr.Hearing.Started == nil || len(tr.Warnings) != 1 || tr.Scene == nil {
		t.Fatalf("start: %+v %v", tr, err)
	}
	if !strings.Contains(tr.Warnings[0], "steps[0]: unreachable") || len(tr.Hearing.Recordings) != 1 {
		t.Errorf("start: %+v", tr)
	}
	// Another hearing in the same room cannot start meanwhile.
	other, _ := s.Create(ctx, judge, CreateRequest{Case: "CR-8", Site: "court", Room: "r1"})
	if _, err := s.Start(ctx, judge, other.ID); !errors.Is(err, ErrConflict) || !strings.Contains(err.Error(), h.ID) {
		t.Errorf("second hearing in the room: %v", err)
	}
	n, err := s.AddNote(ctx, clerk, h.ID, "Witness sworn in")
	if err != nil || n.Recording != "rec1" || n.OffsetMS < 1000 || n.Seq != 1 {
		t.Fatalf("note: %+v %v", n, err)
	}
	if _, err := s.AddNote(ctx, clerk, h.ID, "\x00"); !errors.Is(err, ErrInvalid) {
		t.Errorf("note with a NUL: %v", err)
	}
	if _, err := s.Pause(ctx, judge, h.ID); err != nil {
		t.Fatal(err)
	}
	if _, _, ok := rec.Active("court", "r1"); ok {
		t.Error("still recording while paused")
	}
	n, _ = s.AddNote(ctx, judge, h.ID, "Recess")
	if n.Recording != "" {
		t.Errorf("a note while paused names recording %q", n.Recording)
	}
	tr, err = s.Resume(ctx, judge, h.ID)
	if err != nil || len(tr.Hearing.Recordings) != 2 {
		t.Fatalf("resume: %+v %v", tr, err)
	}
	sc.busy = true
	if _, err := s.End(ctx, judge, h.ID); !errors.Is(err, ErrConflict) {
		t.Errorf("end while the room runs a scene: %v", err)
	}
	sc.busy, sc.fail = false, false
	tr, err = s.End(ctx, judge, h.ID)
	if err != nil || tr.Hearing.State != Ended || tr.Hearing.Ended == nil || len(tr.Warnings) != 0 {
		t.Fatalf("end: %+v %v", tr, err)
	}
	if _, _, ok := rec.Active("court", "r1"); ok {
		t.Error("still recording after the end")
	}
	if strings.Join(sc.ran, ",") != "start-hearing,end-hearing" {
		t.Errorf("scenes run: %v (the room has no pause/resume scenes)", sc.ran)
	}
	if want := "hearing:scheduled,hearing:in-session,hearing:scheduled,hearing:paused,hearing:in-session,hearing:ended"; strings.Join(*events, ",") != want {
		t.Errorf("events %v", *events)
	}
	nv, err := s.Notes(ctx, mon, h.ID)
	if err != nil || !nv.Verified || len(nv.Notes) != 2 {
		t.Errorf("notes: %+v %v", nv, err)
	}
	// The audit log has every event, and holds.
	entries, _ := st.Audit(ctx, store.AuditFilter{Target: h.ID})
	var actions []string
	for i := len(entries) - 1; i >= 0; i-- {
		actions = append(actions, entries[i].Action)
	}
	if want := "hearing-create,hearing-start,note,hearing-pause,note,hearing-resume,hearing-end"; strings.Join(actions, ",") != want {
		t.Errorf("audit: %v", actions)
	}
	if entries[len(entries)-2].Result != "warnings" {
		t.Errorf("the start's audit result: %+v", entries[len(entries)-2])
	}
	if _, err := st.VerifyAudit(ctx); err != nil {
		t.Error(err)
	}
	// The recordings belong to the hearing now.
	for _, r := range []string{"rec1", "rec2"} {
		if ok, _ := s.RecordingVisible(ctx, mon, r); !ok {
			t.Errorf("%s not visible to a monitor of a public hearing", r)
		}
	}
}

func TestSealedAndLists(t *testing.T) {
	s, _, _, _, _ := newService(t)
	ctx := context.Background()
	day := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	pub, _ := s.Create(ctx, clerk, CreateRequest{Case: "P-1", Site: "court", Room: "r1", Judge: "judge", Scheduled: &day})
	sealed, _ := s.Create(ctx, clerk, CreateRequest{Case: "S-1", Site: "court", Room: "r2", Judge: "judge", Access: Sealed})
	if _, err := s.Get(ctx, clerk, sealed.ID); !errors.Is(err, ErrForbidden) {
		t.Errorf("clerk gets sealed: %v", err)
	}
	if _, err := s.Start(ctx, judge2, sealed.ID); !errors.Is(err, ErrForbidden) {
		t.Errorf("another judge starts it: %v", err)
	}
	if _, err := s.Start(ctx, judge, sealed.ID); err != nil {
		t.Fatal(err)
	}
	if ok, _ := s.RecordingVisible(ctx, clerk, "rec1"); ok {
		t.Error("the clerk may reach the sealed hearing's recording")
	}
	if ok, _ := s.RecordingVisible(ctx, tech, "rec1"); !ok {
		t.Error("the technician may not reach it")
	}
	if ok, _ := s.RecordingVisible(ctx, mon, "other"); !ok {
		t.Error("a recording of no hearing is hidden from a monitor")
	}
	if ok, _ := s.RecordingVisible(ctx, vis, "other"); ok {
		t.Error("a visitor reaches a recording")
	}
	if l, _ := s.List(ctx, clerk, Filter{}); len(l) != 1 || l[0].ID != pub.ID {
		t.Errorf("clerk's list: %+v", l)
	}
	if l, _ := s.List(ctx, judge, Filter{}); len(l) != 2 {
		t.Errorf("judge's list: %+v", l)
	}
	if l, _ := s.List(ctx, judge, Filter{Date: "2026-11-30"}); len(l) != 1 || l[0].ID != pub.ID {
		t.Errorf("by date: %+v", l)
	}
	if l, _ := s.List(ctx, judge, Filter{Case: "S-1", State: InSession}); len(l) != 1 || l[0].ID != sealed.ID {
		t.Errorf("by case and state: %+v", l)
	}
	for _, f := range []Filter{{Date: "30/11/2026"}, {State: "open"}, {Site: "Court"}} {
		if _, err := s.List(ctx, judge, f); !errors.Is(err, ErrInvalid) {
			t.Errorf("%+v: %v", f, err)
		}
	}
	if _, err := s.Get(ctx, judge, "not-an-id"); !errors.Is(err, ErrInvalid) {
		t.Errorf("bad ID: %v", err)
	}
	if _, err := s.Get(ctx, judge, NewID()); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown ID: %v", err)
	}
	// Next: the room's earliest scheduled hearing up to today; tomorrow's is not next yet.
	s.Now = func() time.Time { return day.Add(-24 * time.Hour) }
	if _, ok, _ := s.Next(ctx, "court", "r1"); ok {
		t.Error("tomorrow's hearing is next today")
	}
	s.Now = func() time.Time { return day }
	if h, ok, _ := s.Next(ctx, "court", "r1"); !ok || h.ID != pub.ID {
		t.Errorf("next: %+v %v", h, ok)
	}
	if h, ok, _ := s.Current(ctx, "court", "r2"); !ok || h.ID != sealed.ID {
		t.Errorf("current: %+v %v", h, ok)
	}
	// The lookup for other parts of the hub ignores access levels.
	if h, err := s.Hearing(ctx, sealed.ID); err != nil || h.Case != "S-1" {
		t.Errorf("Hearing: %+v %v", h, err)
	}
}
