package store

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestMigrateAndReopen(t *testing.T) { eachBackend(t, testMigrateAndReopen) }

func testMigrateAndReopen(t *testing.T, b backend) {
	ctx := context.Background()
	path := b.place(t)
	s, err := b.open(path)
	if err != nil {
		t.Fatal(err)
	}
	if v, err := s.Version(ctx); err != nil || v != len(migrations) {
		t.Fatalf("version = %d, %v; want %d", v, err, len(migrations))
	}
	if err := s.PutUser(ctx, User{Name: "judge", Role: "judge", Hash: "h1"}); err != nil {
		t.Fatal(err)
	}
	if err := s.PutAgent(ctx, "s", "r", "ah"); err != nil {
		t.Fatal(err)
	}
	exp := time.Now().Add(time.Hour)
	if err := s.PutSession(ctx, Session{TokenHash: "t1", User: "judge", Role: "judge", Expires: exp}); err != nil {
		t.Fatal(err)
	}
	s.Close()

	s, err = b.open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	u, err := s.User(ctx, "judge")
	if err != nil || u.Role != "judge" || u.Hash != "h1" {
		t.Fatalf("user after reopen = %+v, %v", u, err)
	}
	if h, err := s.AgentHash(ctx, "s", "r"); err != nil || h != "ah" {
		t.Fatalf("agent after reopen = %q, %v", h, err)
	}
	se, err := s.Session(ctx, "t1", time.Now())
	if err != nil || se.User != "judge" {
		t.Fatalf("session after reopen = %+v, %v", se, err)
	}
	if _, err := s.Session(ctx, "t1", exp.Add(time.Second)); !errors.Is(err, ErrNotFound) {
		t.Fatalf("expired session: err = %v, want ErrNotFound", err)
	}
	if n, err := s.PruneSessions(ctx, exp.Add(time.Second)); err != nil || n != 1 {
		t.Fatalf("prune = %d, %v", n, err)
	}
}

func TestNotFoundAndDelete(t *testing.T) { eachBackend(t, testNotFoundAndDelete) }

func testNotFoundAndDelete(t *testing.T, b backend) {
	ctx := context.Background()
	s := b.store(t)
	if _, err := s.User(ctx, "nobody"); !errors.Is(err, ErrNotFound) {
		t.Errorf("User: %v", err)
	}
	if _, err := s.AgentHash(ctx, "a", "b"); !errors.Is(err, ErrNotFound) {
		t.Errorf("AgentHash: %v", err)
	}
	if _, err := s.MQTTUser(ctx, "x"); !errors.Is(err, ErrNotFound) {
		t.Errorf("MQTTUser: %v", err)
	}
	if err := s.DeleteAgent(ctx, "a", "b"); !errors.Is(err, ErrNotFound) {
		t.Errorf("DeleteAgent: %v", err)
	}
	s.PutAgent(ctx, "a", "b", "h")
	if err := s.DeleteAgent(ctx, "a", "b"); err != nil {
		t.Errorf("DeleteAgent: %v", err)
	}
	if err := s.PutMQTTUser(ctx, MQTTUser{Name: "observer", Access: AccessRead, Hash: "h"}); err != nil {
		t.Fatal(err)
	}
	if u, err := s.MQTTUser(ctx, "observer"); err != nil || u.Access != AccessRead {
		t.Errorf("MQTTUser = %+v, %v", u, err)
	}
}

func TestNewerSchemaRefused(t *testing.T) { eachBackend(t, testNewerSchemaRefused) }

func testNewerSchemaRefused(t *testing.T, b backend) {
	path := b.place(t)
	s, err := b.open(path)
	if err != nil {
		t.Fatal(err)
	}
	tx, err := s.db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	if err := tx.setVersion(context.Background(), 99); err != nil {
		t.Fatal(err)
	}
	tx.Commit()
	s.Close()
	if _, err := b.open(path); err == nil {
		t.Fatal("opened a database with a newer schema")
	}
}

func TestKV(t *testing.T) { eachBackend(t, testKV) }

func testKV(t *testing.T, b backend) {
	s := b.store(t)
	err := s.KVApply([]KVOp{
		{Bucket: "b", Key: "c1|a", Value: []byte("1")},
		{Bucket: "b", Key: "c1|b", Value: []byte("2")},
		{Bucket: "b", Key: "c2|a", Value: []byte("3")},
		{Bucket: "o", Key: "c1|a", Value: []byte("4")},
		{Bucket: "b", Key: "c2|a", Value: []byte("5")},
		{Bucket: "b", Key: "c1|", Prefix: true},
		{Bucket: "o", Key: "gone"},
	})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, b := range []string{"b", "o"} {
		s.KVAll(b, func(k string, v []byte) error { got[b+"/"+k] = string(v); return nil })
	}
	want := map[string]string{"b/c2|a": "5", "o/c1|a": "4"}
	if len(got) != len(want) || got["b/c2|a"] != "5" || got["o/c1|a"] != "4" {
		t.Fatalf("kv = %q, want %q", got, want)
	}
}

func TestInvites(t *testing.T) { eachBackend(t, testInvites) }

func testInvites(t *testing.T, b backend) {
	s := b.store(t)
	ctx := context.Background()
	now := time.Unix(1_800_000_000, 0).UTC()
	for i, in := range []Invite{
		{ID: "a", Site: "court", Room: "r1", Hearing: "h1", Name: "A", CreatedBy: "judge", Created: now, Expires: now.Add(time.Hour)},
		{ID: "b", Site: "court", Room: "r2", Hearing: "h2", Name: "B", CreatedBy: "clerk", Created: now.Add(time.Second), Expires: now.Add(time.Hour)},
	} {
		if err := s.PutInvite(ctx, in); err != nil {
			t.Fatal(i, err)
		}
	}
	if err := s.PutInvite(ctx, Invite{ID: "a", Created: now, Expires: now}); err == nil {
		t.Error("a second invite with the same ID")
	}
	list, err := s.Invites(ctx, "court", "r1")
	if err != nil || len(list) != 1 || list[0].ID != "a" || list[0].Name != "A" || !list[0].Expires.Equal(now.Add(time.Hour)) || !list[0].Revoked.IsZero() {
		t.Fatalf("invites of r1: %+v %v", list, err)
	}
	if all, _ := s.Invites(ctx, "", ""); len(all) != 2 || all[0].ID != "b" {
		t.Errorf("all invites, newest first: %+v", all)
	}
	in, err := s.RevokeInvite(ctx, "a", now.Add(time.Minute))
	if err != nil || !in.Revoked.Equal(now.Add(time.Minute)) {
		t.Fatalf("revoke: %+v %v", in, err)
	}
	if in, _ := s.RevokeInvite(ctx, "a", now.Add(time.Hour)); !in.Revoked.Equal(now.Add(time.Minute)) {
		t.Errorf("a second revocation changed the time: %v", in.Revoked)
	}
	if _, err := s.RevokeInvite(ctx, "zz", now); !errors.Is(err, ErrNotFound) {
		t.Errorf("revoke unknown: %v", err)
	}
	if _, err := s.Invite(ctx, "zz"); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown invite: %v", err)
	}
}

func TestQueueTickets(t *testing.T) { eachBackend(t, testQueueTickets) }

func testQueueTickets(t *testing.T, be backend) {
	s := be.store(t)
	ctx := context.Background()
	at := time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC)
	a := QueueTicket{Site: "s", Room: "r", Day: "2026-03-02", Number: "A001", Seq: 1, Origin: "A", Service: "A", State: "waiting", Issued: at}
	b := a
	b.Number, b.Seq, b.Issued, b.State, b.Called, b.Window, b.Calls, b.CallSeq = "A002", 2, at.Add(time.Minute), "called", at.Add(2*time.Minute), "w1", 1, 1
	old := a
	old.Day, old.Issued = "2026-03-01", at.Add(-24*time.Hour)
	for _, q := range []QueueTicket{a, b, old} {
		if err := s.PutQueueTicket(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.QueueTickets(ctx, "s", "r", "2026-03-02")
	if err != nil || len(got) != 2 || got[0] != a || got[1] != b {
		t.Fatalf("day's tickets: %+v %v", got, err)
	}
	if err := s.CloseQueueTickets(ctx, "s", "r", "2026-03-02", "expired", at, []string{"served"}); err != nil {
		t.Fatal(err)
	}
	got, _ = s.QueueTicketsIssued(ctx, "s", "r", at.Add(-48*time.Hour), at)
	if len(got) != 1 || got[0].State != "expired" || !got[0].Finished.Equal(at) {
		t.Errorf("yesterday's ticket after closing: %+v", got)
	}
	if got, _ := s.QueueTickets(ctx, "s", "r", "2026-03-02"); got[0].State != "waiting" {
		t.Errorf("today's ticket was closed: %+v", got[0])
	}
}
