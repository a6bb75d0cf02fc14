package store

import (
	"context"
	"fmt"
	"testing"
)

// eachBackendB runs f as a sub-benchmark per backend, on a new, empty database.
func eachBackendB(b *testing.B, f func(b *testing.B, s *Store)) {
	for _, be := range backends {
		b.Run("store="+be.name, func(b *testing.B) { f(b, be.store(b)) })
	}
}

// BenchmarkAppendAudit appends entries to the hash-chained audit log, as the hub does for
// every login, command and hearing event: in a SQLite file (WAL) and in PostgreSQL.
func BenchmarkAppendAudit(b *testing.B) { eachBackendB(b, benchAppendAudit) }

func benchAppendAudit(b *testing.B, s *Store) {
	ctx := context.Background()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if _, err := s.AppendAudit(ctx, AuditEntry{User: "judge", Role: "judge", Action: "command", Target: "court/r1/projector", Result: "ok", Detail: `{"action":"power","args":{"on":true}}`}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyAudit checks the whole chain of a log of 10,000 entries.
func BenchmarkVerifyAudit(b *testing.B) { eachBackendB(b, benchVerifyAudit) }

func benchVerifyAudit(b *testing.B, s *Store) {
	ctx := context.Background()
	const n = 10000
	for i := range n {
		if _, err := s.AppendAudit(ctx, AuditEntry{User: "judge", Action: "command", Target: fmt.Sprintf("court/r%d/projector", i%50), Result: "ok"}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		rep, err := s.VerifyAudit(ctx)
		if err != nil || rep.Entries != n {
			b.Fatal(rep, err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/entry")
}

// BenchmarkAddNote appends a note to a hearing's chain.
func BenchmarkAddNote(b *testing.B) { eachBackendB(b, benchAddNote) }

func benchAddNote(b *testing.B, s *Store) {
	ctx := context.Background()
	if err := s.PutHearing(ctx, Hearing{ID: "h1", Case: "C", Site: "court", Room: "r1", Judge: "judge", Access: "public", State: "in-session", CreatedBy: "judge"}); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.AddNote(ctx, Note{Hearing: "h1", User: "clerk", Role: "clerk", Text: "Witness sworn in", Recording: "rec", OffsetMS: 1000}); err != nil {
			b.Fatal(err)
		}
	}
}
