package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Sources of a room config revision.
const (
	SourceFile = "file" // the room's file in the rooms directory
	SourceAPI  = "api"  // pushed or created through the HTTP API
)

// RoomConfig is one revision of a room's config.
type RoomConfig struct {
	Site     string
	Room     string
	Revision int64
	YAML     string // the config as written (empty in lists)
	Source   string // SourceFile or SourceAPI
	Author   string // the API user who pushed it; "" for a file
	Created  time.Time
}

// AddRoomConfig stores c as the room's next revision (one more than its newest, 1 for a new
// room) and returns that revision. c.Revision is ignored.
func (s *Store) AddRoomConfig(ctx context.Context, c RoomConfig) (int64, error) {
	if c.Created.IsZero() {
		c.Created = time.Now()
	}
	// One statement, so the revision is taken and used atomically (a read-then-write
	// transaction could not upgrade its lock while the broker's writer holds it). In
	// PostgreSQL two hubs may take the same revision at once: the primary key refuses the
	// second, which tries again with the next.
	var rev int64
	var err error
	for range 10 {
		err = s.db.QueryRowContext(ctx, `INSERT INTO room_configs(site, room, revision, yaml, source, author, created)
			SELECT ?, ?, COALESCE(MAX(revision), 0) + 1, ?, ?, ?, CAST(? AS BIGINT) FROM room_configs WHERE site=? AND room=?
			RETURNING revision`,
			c.Site, c.Room, c.YAML, c.Source, c.Author, c.Created.UnixMilli(), c.Site, c.Room).Scan(&rev)
		if !isUnique(err) {
			break
		}
	}
	if err != nil {
		return 0, fmt.Errorf("store: add room config %s/%s: %w", c.Site, c.Room, err)
	}
	return rev, nil
}

func scanRoomConfig(sc interface{ Scan(...any) error }) (RoomConfig, error) {
	var c RoomConfig
	var created int64
	if err := sc.Scan(&c.Site, &c.Room, &c.Revision, &c.YAML, &c.Source, &c.Author, &created); err != nil {
		return RoomConfig{}, err
	}
	c.Created = time.UnixMilli(created).UTC()
	return c, nil
}

// RoomConfigRevision returns one revision of a room's config; rev 0 is the newest. It returns
// ErrNotFound when there is none.
func (s *Store) RoomConfigRevision(ctx context.Context, site, room string, rev int64) (RoomConfig, error) {
	c, err := scanRoomConfig(s.db.QueryRowContext(ctx, `SELECT site, room, revision, yaml, source, author, created FROM room_configs
		WHERE site=? AND room=? AND (revision=? OR (?=0 AND revision=(SELECT MAX(revision) FROM room_configs WHERE site=? AND room=?)))`,
		site, room, rev, rev, site, room))
	if errors.Is(err, sql.ErrNoRows) {
		return RoomConfig{}, ErrNotFound
	}
	if err != nil {
		return RoomConfig{}, fmt.Errorf("store: room config %s/%s: %w", site, room, err)
	}
	return c, nil
}

// LatestRoomConfigFrom returns the newest revision of a room's config that came from source,
// or ErrNotFound.
func (s *Store) LatestRoomConfigFrom(ctx context.Context, site, room, source string) (RoomConfig, error) {
	c, err := scanRoomConfig(s.db.QueryRowContext(ctx, `SELECT site, room, revision, yaml, source, author, created FROM room_configs
		WHERE site=? AND room=? AND source=? ORDER BY revision DESC LIMIT 1`, site, room, source))
	if errors.Is(err, sql.ErrNoRows) {
		return RoomConfig{}, ErrNotFound
	}
	if err != nil {
		return RoomConfig{}, fmt.Errorf("store: room config %s/%s: %w", site, room, err)
	}
	return c, nil
}

// RoomConfigRevisions lists a room's revisions, newest first, without their YAML.
func (s *Store) RoomConfigRevisions(ctx context.Context, site, room string) ([]RoomConfig, error) {
	return s.roomConfigs(ctx, `SELECT site, room, revision, '', source, author, created FROM room_configs
		WHERE site=? AND room=? ORDER BY revision DESC`, site, room)
}

// LatestRoomConfigs returns the newest revision of every room that has one, by site and room.
func (s *Store) LatestRoomConfigs(ctx context.Context) ([]RoomConfig, error) {
	return s.roomConfigs(ctx, `SELECT c.site, c.room, c.revision, c.yaml, c.source, c.author, c.created FROM room_configs c
		WHERE c.revision = (SELECT MAX(revision) FROM room_configs WHERE site=c.site AND room=c.room)
		ORDER BY c.site, c.room`)
}

func (s *Store) roomConfigs(ctx context.Context, q string, args ...any) ([]RoomConfig, error) {
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("store: room configs: %w", err)
	}
	defer rows.Close()
	out := []RoomConfig{}
	for rows.Next() {
		c, err := scanRoomConfig(rows)
		if err != nil {
			return nil, fmt.Errorf("store: room configs: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// Enrollment is a one-time token that lets one agent fetch its credentials. Only the token's
// hash is stored.
type Enrollment struct {
	TokenHash string
	Site      string
	Room      string
	Author    string
	Created   time.Time
	Expires   time.Time
	Used      time.Time // zero until used
}

// Errors of UseEnrollment.
var (
	ErrEnrollmentUsed    = errors.New("store: the enrollment token has been used")
	ErrEnrollmentExpired = errors.New("store: the enrollment token has expired")
)

// PutEnrollment stores a new enrollment token.
func (s *Store) PutEnrollment(ctx context.Context, e Enrollment) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO enrollments(token_hash, site, room, author, created, expires) VALUES(?,?,?,?,?,?)`,
		e.TokenHash, e.Site, e.Room, e.Author, e.Created.UnixMilli(), e.Expires.UnixMilli())
	if err != nil {
		return fmt.Errorf("store: put enrollment for %s/%s: %w", e.Site, e.Room, err)
	}
	return nil
}

// UseEnrollment marks the token of tokenHash used at now and returns it, once: a token already
// used is ErrEnrollmentUsed, one past its expiry ErrEnrollmentExpired, an unknown one
// ErrNotFound.
func (s *Store) UseEnrollment(ctx context.Context, tokenHash string, now time.Time) (Enrollment, error) {
	e := Enrollment{TokenHash: tokenHash}
	var created, expires int64
	// One statement spends the token, so two attempts at once cannot both have it.
	err := s.db.QueryRowContext(ctx, `UPDATE enrollments SET used=? WHERE token_hash=? AND used IS NULL AND expires>?
		RETURNING site, room, author, created, expires`, now.UnixMilli(), tokenHash, now.UnixMilli()).
		Scan(&e.Site, &e.Room, &e.Author, &created, &expires)
	if err == nil {
		e.Created, e.Expires, e.Used = time.UnixMilli(created).UTC(), time.UnixMilli(expires).UTC(), now.UTC()
		return e, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return Enrollment{}, fmt.Errorf("store: use enrollment: %w", err)
	}
	// Not spent now: say why.
	var used sql.NullInt64
	err = s.db.QueryRowContext(ctx, `SELECT used FROM enrollments WHERE token_hash=?`, tokenHash).Scan(&used)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return Enrollment{}, ErrNotFound
	case err != nil:
		return Enrollment{}, fmt.Errorf("store: use enrollment: %w", err)
	case used.Valid:
		return Enrollment{}, ErrEnrollmentUsed
	}
	return Enrollment{}, ErrEnrollmentExpired
}

// Alarm is a condition that needs a technician: raised, perhaps acknowledged, then cleared.
type Alarm struct {
	ID      int64
	Site    string
	Room    string
	Device  string // "" for a room-level alarm
	Kind    string
	Message string
	Raised  time.Time
	Cleared time.Time // zero while active
	Acked   time.Time // zero until acknowledged
	AckedBy string
}

// RaiseAlarm stores a new active alarm and returns its ID. a.ID, Cleared and Acked are ignored.
// When an alarm of the same site, room, device and kind is already active — another hub
// sharing the database raised it — that alarm's ID is returned and nothing is stored. (In
// PostgreSQL an advisory lock on the alarm's key keeps two hubs from both finding none.)
func (s *Store) RaiseAlarm(ctx context.Context, a Alarm) (int64, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("store: raise alarm: %w", err)
	}
	defer tx.Rollback()
	if err := tx.lock(ctx, "alarm/"+a.Site+"/"+a.Room+"/"+a.Device+"/"+a.Kind); err != nil {
		return 0, fmt.Errorf("store: raise alarm: %w", err)
	}
	var id int64
	err = tx.QueryRowContext(ctx, `INSERT INTO alarms(site, room, device, kind, message, raised)
		SELECT ?, ?, ?, ?, ?, CAST(? AS BIGINT) WHERE NOT EXISTS (SELECT 1 FROM alarms
			WHERE cleared IS NULL AND site=? AND room=? AND device=? AND kind=?)
		RETURNING id`, a.Site, a.Room, a.Device, a.Kind, a.Message, a.Raised.UnixMilli(), a.Site, a.Room, a.Device, a.Kind).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		err = tx.QueryRowContext(ctx, `SELECT id FROM alarms WHERE cleared IS NULL AND site=? AND room=? AND device=? AND kind=?
			ORDER BY id LIMIT 1`, a.Site, a.Room, a.Device, a.Kind).Scan(&id)
	}
	if err == nil {
		err = tx.Commit()
	}
	if err != nil {
		return 0, fmt.Errorf("store: raise alarm: %w", err)
	}
	return id, nil
}

// ClearAlarm marks an active alarm cleared at t. Clearing a cleared alarm changes nothing.
func (s *Store) ClearAlarm(ctx context.Context, id int64, t time.Time) error {
	_, err := s.db.ExecContext(ctx, `UPDATE alarms SET cleared=? WHERE id=? AND cleared IS NULL`, t.UnixMilli(), id)
	if err != nil {
		return fmt.Errorf("store: clear alarm %d: %w", id, err)
	}
	return nil
}

// AckAlarm records that by acknowledged the alarm at t and returns it. The first
// acknowledgement stands; ErrNotFound when there is no such alarm.
func (s *Store) AckAlarm(ctx context.Context, id int64, by string, t time.Time) (Alarm, error) {
	if _, err := s.db.ExecContext(ctx, `UPDATE alarms SET acked=?, acked_by=? WHERE id=? AND acked IS NULL`, t.UnixMilli(), by, id); err != nil {
		return Alarm{}, fmt.Errorf("store: ack alarm %d: %w", id, err)
	}
	as, err := s.alarms(ctx, `WHERE id=?`, id)
	if err != nil {
		return Alarm{}, err
	}
	if len(as) == 0 {
		return Alarm{}, ErrNotFound
	}
	return as[0], nil
}

// Alarms lists alarms, newest first: only active ones, or all (at most limit, the newest).
func (s *Store) Alarms(ctx context.Context, activeOnly bool, limit int) ([]Alarm, error) {
	if activeOnly {
		return s.alarms(ctx, `WHERE cleared IS NULL ORDER BY id DESC LIMIT ?`, limit)
	}
	return s.alarms(ctx, `ORDER BY id DESC LIMIT ?`, limit)
}

func (s *Store) alarms(ctx context.Context, where string, args ...any) ([]Alarm, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, site, room, device, kind, message, raised, cleared, acked, acked_by FROM alarms `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("store: alarms: %w", err)
	}
	defer rows.Close()
	out := []Alarm{}
	for rows.Next() {
		var a Alarm
		var raised int64
		var cleared, acked sql.NullInt64
		if err := rows.Scan(&a.ID, &a.Site, &a.Room, &a.Device, &a.Kind, &a.Message, &raised, &cleared, &acked, &a.AckedBy); err != nil {
			return nil, fmt.Errorf("store: alarms: %w", err)
		}
		a.Raised = time.UnixMilli(raised).UTC()
		if cleared.Valid {
			a.Cleared = time.UnixMilli(cleared.Int64).UTC()
		}
		if acked.Valid {
			a.Acked = time.UnixMilli(acked.Int64).UTC()
		}
		out = append(out, a)
	}
	return out, rows.Err()
}
