package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// loginFailuresKept is how long a failed login is kept: longer than any login limit's window.
const loginFailuresKept = time.Hour

// LoginFailed records a failed login against subject (a user name or a client address, as
// the caller names them), and forgets those older than an hour.
func (s *Store) LoginFailed(ctx context.Context, subject string, at time.Time) error {
	if _, err := s.db.ExecContext(ctx, `INSERT INTO login_failures(subject, at) VALUES(?,?)`, subject, at.UnixMilli()); err != nil {
		return fmt.Errorf("store: login failure: %w", err)
	}
	if _, err := s.db.ExecContext(ctx, `DELETE FROM login_failures WHERE at < ?`, at.Add(-loginFailuresKept).UnixMilli()); err != nil {
		return fmt.Errorf("store: login failures: %w", err)
	}
	return nil
}

// LoginFailures counts subject's failed logins since since, and gives the earliest of them.
func (s *Store) LoginFailures(ctx context.Context, subject string, since time.Time) (int, time.Time, error) {
	var n int
	var first sql.NullInt64
	err := s.db.QueryRowContext(ctx, `SELECT COUNT(*), MIN(at) FROM login_failures WHERE subject = ? AND at >= ?`,
		subject, since.UnixMilli()).Scan(&n, &first)
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("store: login failures: %w", err)
	}
	if !first.Valid {
		return n, time.Time{}, nil
	}
	return n, time.UnixMilli(first.Int64), nil
}

// LoginReset forgets subject's failed logins (a successful login).
func (s *Store) LoginReset(ctx context.Context, subject string) error {
	if _, err := s.db.ExecContext(ctx, `DELETE FROM login_failures WHERE subject = ?`, subject); err != nil {
		return fmt.Errorf("store: login failures: %w", err)
	}
	return nil
}
