package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"database/sql/driver"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// GenesisHash is the "previous hash" of the first entry of a chain (the audit log, a
// hearing's notes).
const GenesisHash = "0000000000000000000000000000000000000000000000000000000000000000"

// ChainHash is the hash of one entry of a hash chain: SHA-256 over the previous entry's hash
// and the entry's fields, each length-prefixed so that no two different entries encode alike.
// Hex.
func ChainHash(prev string, fields ...string) string {
	h := sha256.New()
	var n [8]byte
	for _, f := range append([]string{prev}, fields...) {
		binary.BigEndian.PutUint64(n[:], uint64(len(f)))
		h.Write(n[:])
		h.Write([]byte(f))
	}
	return hex.EncodeToString(h.Sum(nil))
}

// AuditEntry is one line of the audit log.
type AuditEntry struct {
	Seq    int64     `json:"seq"`
	At     time.Time `json:"at"`
	User   string    `json:"user"`
	Role   string    `json:"role,omitempty"`
	Action string    `json:"action"` // login, command, scene, recording-start, hearing-start, note, user-add, …
	Target string    `json:"target"` // what it acted on: a user, site/room/device, a hearing ID, …
	Result string    `json:"result"` // ok, or an error code
	Detail string    `json:"detail,omitempty"`
	Prev   string    `json:"prev"`
	Hash   string    `json:"hash"`
}

func (e AuditEntry) hash() string {
	return ChainHash(e.Prev, strconv.FormatInt(e.Seq, 10), strconv.FormatInt(e.At.UnixMilli(), 10),
		e.User, e.Role, e.Action, e.Target, e.Result, e.Detail)
}

// AppendAudit appends an entry to the audit log, chaining it to the last one; it fills in
// Seq, At (when zero), Prev and Hash. Writers in other processes (the admin commands) append
// to the same chain: a fork is refused by the unique prev and the append retried.
func (s *Store) AppendAudit(ctx context.Context, e AuditEntry) (AuditEntry, error) {
	if e.At.IsZero() {
		e.At = time.Now()
	}
	e.At = e.At.UTC().Truncate(time.Millisecond)
	err := s.appendChained(ctx, "audit", `SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1`, nil, func(tx execer, seq int64, prev string) error {
		e.Seq, e.Prev = seq, prev
		e.Hash = e.hash()
		_, err := tx.ExecContext(ctx, `INSERT INTO audit(seq, at, "user", role, action, target, result, detail, prev, hash) VALUES(?,?,?,?,?,?,?,?,?,?)`,
			e.Seq, e.At.UnixMilli(), e.User, e.Role, e.Action, e.Target, e.Result, e.Detail, e.Prev, e.Hash)
		return err
	})
	if err != nil {
		return e, fmt.Errorf("store: audit: %w", err)
	}
	return e, nil
}

// appendChained appends one entry to the hash chain named chain: last selects the chain's
// last (seq, hash) and insert writes the entry that follows it, both inside one transaction
// that holds the chain's write lock, so another writer — in this process or another, an admin
// command or a second hub — waits for it instead of reading the same head and forking the
// chain. In SQLite the lock is the database's (BEGIN IMMEDIATE, waiting through
// busy_timeout); in PostgreSQL it is a transaction-level advisory lock on the chain, taken
// before the head is read (see dialect.go). Should a fork be attempted all the same, the
// unique seq and prev refuse it and the append is retried.
func (s *Store) appendChained(ctx context.Context, chain, last string, args []any, insert func(x execer, seq int64, prev string) error) error {
	var err error
	for range 20 {
		if s.db.dialect == postgresDialect {
			err = s.appendLocked(ctx, chain, last, args, insert)
		} else {
			err = s.appendOnce(ctx, last, args, insert)
		}
		if err == nil || !isConflict(err) {
			return err
		}
	}
	return err
}

// execer is what an append writes through.
type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// rowQuerier is what an append reads the chain's head through.
type rowQuerier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// chainHead returns the seq and prev of the entry that follows the chain's head.
func chainHead(ctx context.Context, q rowQuerier, last string, args []any) (int64, string, error) {
	var n int64
	var h string
	switch err := q.QueryRowContext(ctx, last, args...).Scan(&n, &h); {
	case err == nil:
		return n + 1, h, nil
	case errors.Is(err, sql.ErrNoRows):
		return 1, GenesisHash, nil
	default:
		return 0, "", err
	}
}

// appendOnce is one SQLite append.
func (s *Store) appendOnce(ctx context.Context, last string, args []any, insert func(x execer, seq int64, prev string) error) (err error) {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		return err
	}
	defer func() {
		if err != nil {
			if _, rerr := conn.ExecContext(context.WithoutCancel(ctx), "ROLLBACK"); rerr != nil && !strings.Contains(rerr.Error(), "no transaction") {
				// Never hand a connection still inside a transaction back to the pool.
				conn.Raw(func(any) error { return driver.ErrBadConn })
			}
		}
	}()
	seq, prev, err := chainHead(ctx, conn, last, args)
	if err != nil {
		return err
	}
	if err := insert(conn, seq, prev); err != nil {
		return err
	}
	_, err = conn.ExecContext(ctx, "COMMIT")
	return err
}

// appendLocked is one PostgreSQL append, under the chain's advisory lock.
func (s *Store) appendLocked(ctx context.Context, chain, last string, args []any, insert func(x execer, seq int64, prev string) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := tx.lock(ctx, chain); err != nil {
		return err
	}
	seq, prev, err := chainHead(ctx, tx, last, args)
	if err != nil {
		return err
	}
	if err := insert(tx, seq, prev); err != nil {
		return err
	}
	return tx.Commit()
}

// isConflict tells an error another writer caused (a taken seq or prev, a locked database).
func isConflict(err error) bool {
	s := err.Error()
	return isUnique(err) || strings.Contains(s, "SQLITE_BUSY") || strings.Contains(s, "database is locked")
}

// AuditFilter selects audit entries. Zero fields select everything.
type AuditFilter struct {
	User, Action, Target string    // exact match; Target also matches its prefix followed by "/"
	From, To             time.Time // From <= at < To
	Before               int64     // seq < Before (paging, newest first)
	Limit                int       // default 100, at most 1000
}

// Audit lists audit entries, newest first.
func (s *Store) Audit(ctx context.Context, f AuditFilter) ([]AuditEntry, error) {
	if f.Limit <= 0 || f.Limit > 1000 {
		f.Limit = 100
	}
	q := `SELECT seq, at, "user", role, action, target, result, detail, prev, hash FROM audit WHERE 1=1`
	var args []any
	if f.User != "" {
		q += ` AND "user"=?`
		args = append(args, f.User)
	}
	if f.Action != "" {
		q += ` AND action=?`
		args = append(args, f.Action)
	}
	if f.Target != "" {
		q += ` AND (target=? OR substr(target, 1, ?)=?)`
		args = append(args, f.Target, len(f.Target)+1, f.Target+"/")
	}
	if !f.From.IsZero() {
		q += ` AND at>=?`
		args = append(args, f.From.UnixMilli())
	}
	if !f.To.IsZero() {
		q += ` AND at<?`
		args = append(args, f.To.UnixMilli())
	}
	if f.Before > 0 {
		q += ` AND seq<?`
		args = append(args, f.Before)
	}
	q += ` ORDER BY seq DESC LIMIT ?`
	args = append(args, f.Limit)
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("store: audit: %w", err)
	}
	defer rows.Close()
	var out []AuditEntry
	for rows.Next() {
		e, err := scanAudit(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

func scanAudit(rows *sql.Rows) (AuditEntry, error) {
	var e AuditEntry
	var at int64
	if err := rows.Scan(&e.Seq, &at, &e.User, &e.Role, &e.Action, &e.Target, &e.Result, &e.Detail, &e.Prev, &e.Hash); err != nil {
		return e, fmt.Errorf("store: audit: %w", err)
	}
	e.At = time.UnixMilli(at).UTC()
	return e, nil
}

// ChainError is the first entry at which a hash chain does not hold.
type ChainError struct {
	Seq    int64
	Reason string
}

func (e *ChainError) Error() string { return fmt.Sprintf("entry %d: %s", e.Seq, e.Reason) }

// AuditReport is the outcome of checking the audit log's chain.
type AuditReport struct {
	Entries int64  `json:"entries"`
	Head    string `json:"head"` // hash of the last entry (GenesisHash when empty)
}

// VerifyAudit walks the whole audit log in order and checks every entry's hash and link. It
// returns a *ChainError naming the first entry that was changed, removed or inserted.
func (s *Store) VerifyAudit(ctx context.Context) (AuditReport, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT seq, at, "user", role, action, target, result, detail, prev, hash FROM audit ORDER BY seq`)
	if err != nil {
		return AuditReport{}, fmt.Errorf("store: audit: %w", err)
	}
	defer rows.Close()
	rep := AuditReport{Head: GenesisHash}
	for rows.Next() {
		e, err := scanAudit(rows)
		if err != nil {
			return rep, err
		}
		if e.Seq != rep.Entries+1 {
			return rep, &ChainError{Seq: rep.Entries + 1, Reason: fmt.Sprintf("missing: the next entry is %d", e.Seq)}
		}
		if e.Prev != rep.Head {
			return rep, &ChainError{Seq: e.Seq, Reason: "does not link to the entry before it (an entry was removed, inserted or changed)"}
		}
		if e.hash() != e.Hash {
			return rep, &ChainError{Seq: e.Seq, Reason: "its hash does not match its content (the entry was changed)"}
		}
		rep.Entries, rep.Head = e.Seq, e.Hash
	}
	return rep, rows.Err()
}
