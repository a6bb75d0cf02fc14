package store

import (
	"context"
	"testing"
	"time"
)

func TestPrivacyAndProgramSurviveReopen(t *testing.T) {
	eachBackend(t, testPrivacyAndProgramSurviveReopen)
}

func testPrivacyAndProgramSurviveReopen(t *testing.T, b backend) {
	ctx := context.Background()
	path := b.place(t)
	s, err := b.open(path)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		room string
		on   bool
		at   time.Time
	}{{"court-1", true, t0}, {"court-1", true, t0.Add(time.Minute)}, {"court-2", true, t0}, {"court-2", false, t0}} {
		if err := s.SetPrivacy(ctx, "hq", c.room, c.on, c.at, "judge"); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.PutProgramState(ctx, "hq", "court-1", ProgramState{Follow: false, Camera: "bench-cam"}); err != nil {
		t.Fatal(err)
	}
	if err := s.PutProgramState(ctx, "hq", "court-1", ProgramState{Follow: true, Camera: "wide-cam"}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if s, err = b.open(path); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	on, err := s.PrivacyOn(ctx)
	if err != nil || len(on) != 1 || on[0].Room != "court-1" || !on[0].Since.Equal(t0) || on[0].By != "judge" {
		t.Fatalf("privacy on: %+v %v", on, err)
	}
	st, ok, err := s.ProgramStateOf(ctx, "hq", "court-1")
	if err != nil || !ok || !st.Follow || st.Camera != "wide-cam" {
		t.Fatalf("program: %+v %v %v", st, ok, err)
	}
	if _, ok, err := s.ProgramStateOf(ctx, "hq", "court-9"); ok || err != nil {
		t.Fatalf("program of an unknown room: %v %v", ok, err)
	}
}
