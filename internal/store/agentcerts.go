package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// ErrRevoked is returned for an agent certificate that has been revoked.
var ErrRevoked = errors.New("store: revoked")

// PutAgentCert records an agent certificate the hub's CA issued to site/room.
func (s *Store) PutAgentCert(ctx context.Context, serial, site, room string, issued time.Time) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO agent_certs(serial, site, room, issued) VALUES(?,?,?,?)`,
		serial, site, room, issued.Unix())
	if err != nil {
		return fmt.Errorf("store: put agent certificate %s/%s: %w", site, room, err)
	}
	return nil
}

// AgentCertValid returns nil when the certificate with serial was issued to site/room and is
// not revoked, ErrRevoked when it was revoked, ErrNotFound when this hub never issued it to
// that room.
func (s *Store) AgentCertValid(ctx context.Context, serial, site, room string) error {
	var revoked sql.NullInt64
	err := s.db.QueryRowContext(ctx, `SELECT revoked FROM agent_certs WHERE serial=? AND site=? AND room=?`,
		serial, site, room).Scan(&revoked)
	if errors.Is(err, sql.ErrNoRows) {
		return ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("store: agent certificate %s/%s: %w", site, room, err)
	}
	if revoked.Valid {
		return ErrRevoked
	}
	return nil
}

// RevokeAgent revokes every certificate of the agent of site/room and deletes its password,
// in one transaction. It reports ErrNotFound when the agent had neither.
func (s *Store) RevokeAgent(ctx context.Context, site, room string, at time.Time) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: revoke agent %s/%s: %w", site, room, err)
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `DELETE FROM agents WHERE site=? AND room=?`, site, room)
	if err != nil {
		return fmt.Errorf("store: revoke agent %s/%s: %w", site, room, err)
	}
	n, _ := res.RowsAffected()
	res, err = tx.ExecContext(ctx, `UPDATE agent_certs SET revoked=? WHERE site=? AND room=? AND revoked IS NULL`,
		at.Unix(), site, room)
	if err != nil {
		return fmt.Errorf("store: revoke agent %s/%s: %w", site, room, err)
	}
	m, _ := res.RowsAffected()
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: revoke agent %s/%s: %w", site, room, err)
	}
	if n == 0 && m == 0 {
		return ErrNotFound
	}
	return nil
}

// RevokedAgentCerts lists the serials of every revoked agent certificate (for a CRL).
func (s *Store) RevokedAgentCerts(ctx context.Context) ([]string, error) {
	out, err := s.db.strings(ctx, `SELECT serial FROM agent_certs WHERE revoked IS NOT NULL ORDER BY revoked, serial`)
	if err != nil {
		return nil, fmt.Errorf("store: revoked agent certificates: %w", err)
	}
	return out, nil
}
