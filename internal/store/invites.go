package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Invite is a visitor invite: who may join which room's media for which hearing, until when.
// The token itself is signed by the hub and never stored; a row is what makes it valid (a
// signed token whose row is gone or revoked is refused).
type Invite struct {
	ID, Site, Room, Hearing, Name string
	CreatedBy                     string
	Created, Expires              time.Time
	Revoked                       time.Time // zero while valid
}

// PutInvite stores a new invite.
func (s *Store) PutInvite(ctx context.Context, in Invite) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO invites(id, site, room, hearing, name, created_by, created, expires) VALUES(?,?,?,?,?,?,?,?)`,
		in.ID, in.Site, in.Room, in.Hearing, in.Name, in.CreatedBy, in.Created.UnixMilli(), in.Expires.UnixMilli())
	if err != nil {
		return fmt.Errorf("store: put invite %s: %w", in.ID, err)
	}
	return nil
}

const inviteColumns = `id, site, room, hearing, name, created_by, created, expires, revoked`

func scanInvite(sc interface{ Scan(...any) error }) (Invite, error) {
	var in Invite
	var created, expires int64
	var revoked sql.NullInt64
	if err := sc.Scan(&in.ID, &in.Site, &in.Room, &in.Hearing, &in.Name, &in.CreatedBy, &created, &expires, &revoked); err != nil {
		return in, err
	}
	in.Created, in.Expires = time.UnixMilli(created).UTC(), time.UnixMilli(expires).UTC()
	if revoked.Valid {
		in.Revoked = time.UnixMilli(revoked.Int64).UTC()
	}
	return in, nil
}

// Invite returns one invite, revoked or not; ErrNotFound when there is none.
func (s *Store) Invite(ctx context.Context, id string) (Invite, error) {
	in, err := scanInvite(s.db.QueryRowContext(ctx, `SELECT `+inviteColumns+` FROM invites WHERE id=?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return in, ErrNotFound
	}
	if err != nil {
		return in, fmt.Errorf("store: invite %s: %w", id, err)
	}
	return in, nil
}

// Invites lists the invites of a site ("" for all) and room ("" for all), newest first.
func (s *Store) Invites(ctx context.Context, site, room string) ([]Invite, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+inviteColumns+` FROM invites
		WHERE (?='' OR site=?) AND (?='' OR room=?) ORDER BY created DESC, id`, site, site, room, room)
	if err != nil {
		return nil, fmt.Errorf("store: invites: %w", err)
	}
	defer rows.Close()
	var out []Invite
	for rows.Next() {
		in, err := scanInvite(rows)
		if err != nil {
			return nil, fmt.Errorf("store: invites: %w", err)
		}
		out = append(out, in)
	}
	return out, rows.Err()
}

// RevokeInvite marks an invite revoked at now (once: a second call keeps the first time). It
// returns the invite as it now is; ErrNotFound when there is none.
func (s *Store) RevokeInvite(ctx context.Context, id string, now time.Time) (Invite, error) {
	if _, err := s.db.ExecContext(ctx, `UPDATE invites SET revoked=? WHERE id=? AND revoked IS NULL`, now.UnixMilli(), id); err != nil {
		return Invite{}, fmt.Errorf("store: revoke invite %s: %w", id, err)
	}
	return s.Invite(ctx, id)
}
