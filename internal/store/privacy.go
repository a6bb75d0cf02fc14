package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Privacy is a room's bench-conference privacy while it is on.
type Privacy struct {
	Site, Room string
	Since      time.Time
	By         string
}

// SetPrivacy raises (on) or lowers a room's privacy flag. Raising it again keeps the first
// Since.
func (s *Store) SetPrivacy(ctx context.Context, site, room string, on bool, since time.Time, by string) error {
	var err error
	if on {
		_, err = s.db.ExecContext(ctx, `INSERT INTO room_privacy(site, room, since, by) VALUES(?,?,?,?)
			ON CONFLICT(site, room) DO NOTHING`, site, room, since.UnixMilli(), by)
	} else {
		_, err = s.db.ExecContext(ctx, `DELETE FROM room_privacy WHERE site = ? AND room = ?`, site, room)
	}
	if err != nil {
		return fmt.Errorf("store: privacy %s/%s: %w", site, room, err)
	}
	return nil
}

// PrivacyOn lists the rooms whose privacy flag is raised.
func (s *Store) PrivacyOn(ctx context.Context) ([]Privacy, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT site, room, since, by FROM room_privacy ORDER BY site, room`)
	if err != nil {
		return nil, fmt.Errorf("store: privacy: %w", err)
	}
	defer rows.Close()
	var out []Privacy
	for rows.Next() {
		var p Privacy
		var since int64
		if err := rows.Scan(&p.Site, &p.Room, &since, &p.By); err != nil {
			return nil, fmt.Errorf("store: privacy: %w", err)
		}
		p.Since = time.UnixMilli(since).UTC()
		out = append(out, p)
	}
	return out, rows.Err()
}

// ProgramState is what the judge's panel set for a room's program.
type ProgramState struct {
	Follow bool
	Camera string
}

// PutProgramState keeps a room's program setting.
func (s *Store) PutProgramState(ctx context.Context, site, room string, st ProgramState) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO room_program(site, room, follow, camera) VALUES(?,?,?,?)
		ON CONFLICT(site, room) DO UPDATE SET follow = excluded.follow, camera = excluded.camera`,
		site, room, st.Follow, st.Camera)
	if err != nil {
		return fmt.Errorf("store: program %s/%s: %w", site, room, err)
	}
	return nil
}

// ProgramStateOf returns a room's program setting; ok is false when none was kept.
func (s *Store) ProgramStateOf(ctx context.Context, site, room string) (st ProgramState, ok bool, err error) {
	err = s.db.QueryRowContext(ctx, `SELECT follow, camera FROM room_program WHERE site = ? AND room = ?`, site, room).
		Scan(&st.Follow, &st.Camera)
	if errors.Is(err, sql.ErrNoRows) {
		return st, false, nil
	}
	if err != nil {
		return st, false, fmt.Errorf("store: program %s/%s: %w", site, room, err)
	}
	return st, true, nil
}
