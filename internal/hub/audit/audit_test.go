package audit

import (
	"context"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/bailiff/bailiff/internal/store"
)

type fakeStore struct {
	got []store.AuditEntry
	err error
}

func (f *fakeStore) AppendAudit(ctx context.Context, e store.AuditEntry) (store.AuditEntry, error) {
	if ctx.Err() != nil {
		return e, ctx.Err()
	}
	f.got = append(f.got, e)
	return e, f.err
}

func TestRecord(t *testing.T) {
	var nilLog *Log
	nilLog.Record(context.Background(), store.AuditEntry{}) // a nil log records nothing, and does not crash

	f := &fakeStore{}
	l := &Log{Store: f}
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // the request that caused it is gone: the entry is written all the same
	l.Record(ctx, store.AuditEntry{User: strings.Repeat("u", 10000), Action: Command, Target: "s/r/d", Detail: strings.Repeat("é", 3000)})
	if len(f.got) != 1 {
		t.Fatalf("entries %v", f.got)
	}
	e := f.got[0]
	if len(e.User) > maxName+len("…") || e.Target != "s/r/d" {
		t.Errorf("user %d bytes, target %q", len(e.User), e.Target)
	}
	if e.Result != OK || len(e.Detail) > maxDetail+len("…") || !utf8.ValidString(e.Detail) || !strings.HasSuffix(e.Detail, "…") {
		t.Errorf("entry %q (%d bytes) result %q", e.Detail[:20], len(e.Detail), e.Result)
	}
	f.err = errors.New("disk full")
	l.Record(context.Background(), store.AuditEntry{User: "x", Action: Login}) // logged, not returned
	if Detail(map[string]int{"a": 1}) != `{"a":1}` || Detail(func() {}) != "" {
		t.Error("Detail")
	}
}
