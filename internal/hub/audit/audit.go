// Package audit is the hub's audit log: every login (ok or refused), command, scene run,
// recording, hearing event and note, and config change, with who, when, what and the result.
// The log lives in the store, append-only and hash-chained: each entry's SHA-256 covers the
// previous entry's hash, so a changed, removed or inserted entry breaks the chain at that
// entry (`hub verify-audit`, GET /api/v1/audit/verify).
package audit

import (
	"context"
	"encoding/json"
	"log/slog"
	"unicode/utf8"

	"github.com/bailiff/bailiff/internal/store"
)

// Actions written to the log.
const (
	Login          = "login"
	Logout         = "logout"
	Command        = "command"
	Scene          = "scene"
	RecordingStart = "recording-start"
	RecordingStop  = "recording-stop"
	HearingCreate  = "hearing-create"
	HearingStart   = "hearing-start"
	HearingPause   = "hearing-pause"
	HearingResume  = "hearing-resume"
	HearingEnd     = "hearing-end"
	Note           = "note"
	UserAdd        = "user-add"
	AgentAdd       = "agent-add"
	AgentRemove    = "agent-remove"
	ObserverAdd    = "observer-add"
	ConfigChange   = "config-change" // a room config created, edited or pushed to its agent
	Enroll         = "enroll"        // an agent enrolled with a one-time token
	AgentRenew     = "agent-renew"   // an agent's certificate renewed (POST /api/v1/renew)
	KeyRotate      = "key-rotate"    // a signing key retired for a new one (hub keys rotate)
	CARotate       = "ca-rotate"     // a CA rotation step (hub ca rotate, promote, retire)
)

// Results other than a contract error code.
const (
	OK      = "ok"
	Refused = "refused" // a login with a wrong name or password
	Failed  = "failed"  // a scene run with a failed step
	Aborted = "aborted" // a scene run that a failed step stopped
)

// Store is what the log needs of the store.
type Store interface {
	AppendAudit(ctx context.Context, e store.AuditEntry) (store.AuditEntry, error)
}

// Log writes audit entries. A nil *Log writes nothing (tests of other parts).
type Log struct {
	Store Store
	Log   *slog.Logger
}

// maxDetail bounds an entry's detail (a command's args, a scene's failed steps); maxName its
// user and target.
const (
	maxDetail = 4096
	maxName   = 256
)

// clip cuts s to at most max bytes on a character boundary, marking the cut with "…".
func clip(s string, max int) string {
	if len(s) <= max {
		return s
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// Record appends an entry. The action it records has already happened, so a failure to
// write is logged loudly rather than undoing it.
func (l *Log) Record(ctx context.Context, e store.AuditEntry) {
	if l == nil || l.Store == nil {
		return
	}
	// A refused login's user name is whatever the client sent: bound every field.
	e.User, e.Target = clip(e.User, maxName), clip(e.Target, maxName)
	e.Detail = clip(e.Detail, maxDetail)
	if e.Result == "" {
		e.Result = OK
	}
	// Written even when the request that caused it has gone away.
	if _, err := l.Store.AppendAudit(context.WithoutCancel(ctx), e); err != nil && l.Log != nil {
		l.Log.Error("audit log: could not write an entry", "action", e.Action, "user", e.User, "target", e.Target, "error", err)
	}
}

// Detail renders v as a compact JSON detail.
func Detail(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return ""
	}
	return string(b)
}
