package store

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

func TestRoomConfigRevisions(t *testing.T) { eachBackend(t, testRoomConfigRevisions) }

func testRoomConfigRevisions(t *testing.T, b backend) {
	s := b.store(t)
	ctx := context.Background()
	if _, err := s.RoomConfigRevision(ctx, "s", "r", 0); !errors.Is(err, ErrNotFound) {
		t.Fatalf("no config: %v", err)
	}
	for i, y := range []string{"a: 1\n", "a: 2\n", "a: 3\n"} {
		src := SourceAPI
		if i == 0 {
			src = SourceFile
		}
		rev, err := s.AddRoomConfig(ctx, RoomConfig{Site: "s", Room: "r", YAML: y, Source: src, Author: "tech"})
		if err != nil || rev != int64(i+1) {
			t.Fatalf("add %d: rev %d, %v", i, rev, err)
		}
	}
	if _, err := s.AddRoomConfig(ctx, RoomConfig{Site: "s", Room: "other", YAML: "x: 1\n", Source: SourceFile}); err != nil {
		t.Fatal(err)
	}
	c, err := s.RoomConfigRevision(ctx, "s", "r", 0)
	if err != nil || c.Revision != 3 || c.YAML != "a: 3\n" || c.Author != "tech" {
		t.Fatalf("latest = %+v, %v", c, err)
	}
	c, err = s.RoomConfigRevision(ctx, "s", "r", 2)
	if err != nil || c.YAML != "a: 2\n" {
		t.Fatalf("rev 2 = %+v, %v", c, err)
	}
	if _, err := s.RoomConfigRevision(ctx, "s", "r", 9); !errors.Is(err, ErrNotFound) {
		t.Fatalf("rev 9: %v", err)
	}
	f, err := s.LatestRoomConfigFrom(ctx, "s", "r", SourceFile)
	if err != nil || f.Revision != 1 {
		t.Fatalf("latest from file = %+v, %v", f, err)
	}
	revs, err := s.RoomConfigRevisions(ctx, "s", "r")
	if err != nil || len(revs) != 3 || revs[0].Revision != 3 || revs[0].YAML != "" {
		t.Fatalf("revisions = %+v, %v", revs, err)
	}
	all, err := s.LatestRoomConfigs(ctx)
	if err != nil || len(all) != 2 || all[0].Room != "other" || all[1].Revision != 3 {
		t.Fatalf("latest of all = %+v, %v", all, err)
	}
}

func TestEnrollmentOnce(t *testing.T) { eachBackend(t, testEnrollmentOnce) }

func testEnrollmentOnce(t *testing.T, b backend) {
	s := b.store(t)
	ctx := context.Background()
	now := time.Now()
	if err := s.PutEnrollment(ctx, Enrollment{TokenHash: "h1", Site: "s", Room: "r", Created: now, Expires: now.Add(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	if err := s.PutEnrollment(ctx, Enrollment{TokenHash: "h2", Site: "s", Room: "r", Created: now, Expires: now.Add(time.Second)}); err != nil {
		t.Fatal(err)
	}
	e, err := s.UseEnrollment(ctx, "h1", now)
	if err != nil || e.Site != "s" || e.Room != "r" || e.Used.IsZero() {
		t.Fatalf("first use = %+v, %v", e, err)
	}
	if _, err := s.UseEnrollment(ctx, "h1", now); !errors.Is(err, ErrEnrollmentUsed) {
		t.Fatalf("second use: %v", err)
	}
	if _, err := s.UseEnrollment(ctx, "h2", now.Add(2*time.Second)); !errors.Is(err, ErrEnrollmentExpired) {
		t.Fatalf("expired: %v", err)
	}
	if _, err := s.UseEnrollment(ctx, "nope", now); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown: %v", err)
	}
}

func TestAlarms(t *testing.T) { eachBackend(t, testAlarms) }

func testAlarms(t *testing.T, b backend) {
	s := b.store(t)
	ctx := context.Background()
	now := time.Now()
	id1, err := s.RaiseAlarm(ctx, Alarm{Site: "s", Room: "r", Kind: "agent-offline", Raised: now})
	if err != nil {
		t.Fatal(err)
	}
	id2, err := s.RaiseAlarm(ctx, Alarm{Site: "s", Room: "r", Device: "p", Kind: "device-error", Message: "lamp", Raised: now})
	if err != nil {
		t.Fatal(err)
	}
	// Raised again while active (by a second hub sharing the database): the same alarm.
	if again, err := s.RaiseAlarm(ctx, Alarm{Site: "s", Room: "r", Kind: "agent-offline", Raised: now.Add(time.Millisecond)}); err != nil || again != id1 {
		t.Fatalf("raised again: %d %v, want %d", again, err, id1)
	}
	if err := s.ClearAlarm(ctx, id1, now.Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	a, err := s.AckAlarm(ctx, id2, "tech", now.Add(2*time.Second))
	if err != nil || a.AckedBy != "tech" || a.Acked.IsZero() || !a.Cleared.IsZero() {
		t.Fatalf("ack = %+v, %v", a, err)
	}
	if a, _ := s.AckAlarm(ctx, id2, "other", now.Add(3*time.Second)); a.AckedBy != "tech" {
		t.Fatalf("second ack replaced the first: %+v", a)
	}
	if _, err := s.AckAlarm(ctx, 99, "tech", now); !errors.Is(err, ErrNotFound) {
		t.Fatalf("ack unknown: %v", err)
	}
	active, err := s.Alarms(ctx, true, 100)
	if err != nil || len(active) != 1 || active[0].ID != id2 {
		t.Fatalf("active = %+v, %v", active, err)
	}
	all, err := s.Alarms(ctx, false, 100)
	if err != nil || len(all) != 2 || all[1].Cleared.IsZero() {
		t.Fatalf("all = %+v, %v", all, err)
	}
	// Cleared, it is raised anew.
	if id3, err := s.RaiseAlarm(ctx, Alarm{Site: "s", Room: "r", Kind: "agent-offline", Raised: now.Add(4 * time.Second)}); err != nil || id3 == id1 || id3 == id2 {
		t.Fatalf("raised after clearing: %d %v", id3, err)
	}
}

// Hubs sharing a database raise the same alarm at once: one alarm is stored, and every hub
// gets its ID.
func TestAlarmRaisedByManyAtOnce(t *testing.T) { eachBackend(t, testAlarmRaisedByManyAtOnce) }

func testAlarmRaisedByManyAtOnce(t *testing.T, b backend) {
	place := b.place(t)
	var stores []*Store
	for range 2 {
		s, err := b.open(place)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		stores = append(stores, s)
	}
	ctx := context.Background()
	ids := make(chan int64, 16)
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id, err := stores[i%2].RaiseAlarm(ctx, Alarm{Site: "s", Room: "r", Kind: "agent-offline", Raised: time.Now()})
			if err != nil {
				t.Error(err)
			}
			ids <- id
		}()
	}
	wg.Wait()
	close(ids)
	first := int64(-1)
	for id := range ids {
		if first == -1 {
			first = id
		}
		if id != first {
			t.Errorf("two alarms raised: %d and %d", first, id)
		}
	}
	if all, err := stores[0].Alarms(ctx, false, 100); err != nil || len(all) != 1 {
		t.Fatalf("alarms stored: %+v %v", all, err)
	}
}
