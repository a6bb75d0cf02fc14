package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestAuditChain(t *testing.T) { eachBackend(t, testAuditChain) }

func testAuditChain(t *testing.T, b backend) {
	ctx := context.Background()
	s := b.store(t)
	if rep, err := s.VerifyAudit(ctx); err != nil || rep.Entries != 0 || rep.Head != GenesisHash {
		t.Fatalf("empty log: %+v %v", rep, err)
	}
	// Concurrent writers still make one chain.
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := s.AppendAudit(ctx, AuditEntry{User: "judge", Role: "judge", Action: "command", Target: fmt.Sprintf("court/r1/d%d", i), Result: "ok"}); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	rep, err := s.VerifyAudit(ctx)
	if err != nil || rep.Entries != 20 {
		t.Fatalf("after 20 appends: %+v %v", rep, err)
	}
	// Filters and paging.
	page, err := s.Audit(ctx, AuditFilter{Limit: 5})
	if err != nil || len(page) != 5 || page[0].Seq != 20 || page[4].Seq != 16 {
		t.Fatalf("first page: %+v %v", page, err)
	}
	page, _ = s.Audit(ctx, AuditFilter{Limit: 5, Before: 16})
	if len(page) != 5 || page[0].Seq != 15 {
		t.Fatalf("second page: %+v", page)
	}
	if got, _ := s.Audit(ctx, AuditFilter{Target: "court/r1/d3"}); len(got) != 1 {
		t.Errorf("by target: %+v", got)
	}
	if got, _ := s.Audit(ctx, AuditFilter{Target: "court/r1"}); len(got) != 20 {
		t.Errorf("by target prefix: %d", len(got))
	}
	if got, _ := s.Audit(ctx, AuditFilter{User: "clerk"}); len(got) != 0 {
		t.Errorf("by user: %+v", got)
	}
	if got, _ := s.Audit(ctx, AuditFilter{From: time.Now().Add(time.Minute)}); len(got) != 0 {
		t.Errorf("from the future: %+v", got)
	}

	// Append-only: the store refuses to change or remove an entry.
	if _, err := s.db.Exec(`UPDATE audit SET result='forbidden' WHERE seq=7`); err == nil || !strings.Contains(err.Error(), "append-only") {
		t.Fatalf("update: %v", err)
	}
	if _, err := s.db.Exec(`DELETE FROM audit WHERE seq=7`); err == nil {
		t.Fatal("delete went through")
	}
	// Someone with the file drops the guard and edits: verification names the entry.
	dropTrigger(t, s, "audit_no_update", "audit")
	if _, err := s.db.Exec(`UPDATE audit SET result='forbidden' WHERE seq=7`); err != nil {
		t.Fatal(err)
	}
	_, err = s.VerifyAudit(ctx)
	var ce *ChainError
	if !errors.As(err, &ce) || ce.Seq != 7 || !strings.Contains(ce.Reason, "changed") {
		t.Fatalf("after an edit: %v", err)
	}
}

func TestAuditChainRemoval(t *testing.T) { eachBackend(t, testAuditChainRemoval) }

func testAuditChainRemoval(t *testing.T, b backend) {
	ctx := context.Background()
	s := b.store(t)
	for i := range 5 {
		s.AppendAudit(ctx, AuditEntry{User: "u", Action: "login", Target: "u", Result: fmt.Sprint(i)})
	}
	dropTrigger(t, s, "audit_no_delete", "audit")
	if _, err := s.db.Exec(`DELETE FROM audit WHERE seq=3`); err != nil {
		t.Fatal(err)
	}
	var ce *ChainError
	if _, err := s.VerifyAudit(ctx); !errors.As(err, &ce) || ce.Seq != 3 {
		t.Fatalf("after a removal: %v", err)
	}
}

func TestHearingsAndNotes(t *testing.T) { eachBackend(t, testHearingsAndNotes) }

func testHearingsAndNotes(t *testing.T, b backend) {
	ctx := context.Background()
	s := b.store(t)
	day := time.Date(2026, 11, 29, 9, 0, 0, 0, time.UTC)
	for i, c := range []string{"CR-1", "CR-2", "CV-3"} {
		h := Hearing{ID: fmt.Sprintf("h%d", i), Case: c, Site: "court", Room: "r1", Judge: "judge", Access: "public", State: "scheduled",
			Parties: []Party{{Name: "State", Role: "prosecution"}}, Scheduled: day.Add(time.Duration(i) * 24 * time.Hour), CreatedBy: "clerk", Created: day}
		if err := s.PutHearing(ctx, h); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.AddHearingRecording(ctx, "h1", "rec-a"); err != nil {
		t.Fatal(err)
	}
	s.AddHearingRecording(ctx, "h1", "rec-b")
	s.AddHearingRecording(ctx, "h1", "rec-a")
	h, err := s.Hearing(ctx, "h1")
	if err != nil || h.Case != "CR-2" || len(h.Recordings) != 2 || h.Parties[0].Role != "prosecution" || !h.Scheduled.Equal(day.Add(24*time.Hour)) || !h.Started.IsZero() {
		t.Fatalf("h1 = %+v %v", h, err)
	}
	if got, err := s.RecordingHearing(ctx, "rec-b"); err != nil || got.ID != "h1" {
		t.Errorf("recording's hearing: %+v %v", got, err)
	}
	if _, err := s.RecordingHearing(ctx, "rec-z"); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown recording: %v", err)
	}
	if _, err := s.Hearing(ctx, "nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown hearing: %v", err)
	}
	list, _ := s.Hearings(ctx, HearingFilter{From: day.Add(24 * time.Hour), To: day.Add(48 * time.Hour)})
	if len(list) != 1 || list[0].ID != "h1" {
		t.Errorf("by day: %+v", list)
	}
	if list, _ = s.Hearings(ctx, HearingFilter{Case: "CV-3"}); len(list) != 1 || list[0].ID != "h2" {
		t.Errorf("by case: %+v", list)
	}
	if list, _ = s.Hearings(ctx, HearingFilter{Site: "court", Room: "r1"}); len(list) != 3 || list[0].ID != "h2" {
		t.Errorf("by room: %+v", list)
	}

	for _, text := range []string{"Opened", "Witness sworn", "Exhibit 4 shown"} {
		if _, err := s.AddNote(ctx, Note{Hearing: "h1", User: "clerk", Role: "clerk", Text: text, Recording: "rec-b", OffsetMS: 1500}); err != nil {
			t.Fatal(err)
		}
	}
	s.AddNote(ctx, Note{Hearing: "h0", User: "judge", Role: "judge", Text: "other hearing"})
	notes, head, err := s.Notes(ctx, "h1")
	if err != nil || len(notes) != 3 || head != notes[2].Hash || notes[1].Prev != notes[0].Hash || notes[0].Prev != GenesisHash {
		t.Fatalf("notes %+v head %s %v", notes, head, err)
	}
	if _, err := s.db.Exec(`UPDATE hearing_notes SET text='x' WHERE seq=2`); err == nil {
		t.Fatal("a note was changed")
	}
	dropTrigger(t, s, "hearing_notes_no_update", "hearing_notes")
	if _, err := s.db.Exec(`UPDATE hearing_notes SET text='Witness not sworn' WHERE hearing_id='h1' AND seq=2`); err != nil {
		t.Fatal(err)
	}
	var ce *ChainError
	if notes, _, err = s.Notes(ctx, "h1"); !errors.As(err, &ce) || ce.Seq != 2 || len(notes) != 3 {
		t.Fatalf("after an edit: %v", err)
	}
}

// Two processes' worth of writers (the hub and an admin command, or two hubs, each with its
// own connections to the database) append to one chain without forking it.
func TestAuditTwoWriters(t *testing.T) { eachBackend(t, testAuditTwoWriters) }

func testAuditTwoWriters(t *testing.T, be backend) {
	ctx := context.Background()
	path := be.place(t)
	a, err := be.open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := be.open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	var wg sync.WaitGroup
	for i, s := range []*Store{a, b, a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range 25 {
				if _, err := s.AppendAudit(ctx, AuditEntry{User: fmt.Sprint("w", i), Action: "command", Target: fmt.Sprint(j), Result: "ok"}); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	rep, err := b.VerifyAudit(ctx)
	if err != nil || rep.Entries != 100 {
		t.Fatalf("%+v %v", rep, err)
	}
}
