package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"
)

// Party is one party to a hearing.
type Party struct {
	Name string `json:"name"`
	Role string `json:"role,omitempty"` // e.g. prosecution, defence, witness
}

// Hearing is a hearing's row.
type Hearing struct {
	ID, Case, Title string
	Site, Room      string
	Judge           string // the judge's user name
	Parties         []Party
	Access          string // public, confidential, sealed
	State           string // scheduled, in-session, paused, ended
	Scheduled       time.Time
	Started, Ended  time.Time // zero until then
	CreatedBy       string
	Created         time.Time
	Recordings      []string // IDs, oldest first (filled in by Hearing and Hearings)
}

func msOrNil(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixMilli()
}

func timeOf(v sql.NullInt64) time.Time {
	if !v.Valid {
		return time.Time{}
	}
	return time.UnixMilli(v.Int64).UTC()
}

// PutHearing creates or updates a hearing (its recordings are added with AddHearingRecording).
func (s *Store) PutHearing(ctx context.Context, h Hearing) error {
	parties, err := json.Marshal(h.Parties)
	if err != nil {
		return fmt.Errorf("store: put hearing %s: %w", h.ID, err)
	}
	if h.Parties == nil {
		parties = []byte("[]")
	}
	_, err = s.db.ExecContext(ctx, `INSERT INTO hearings(id, case_no, title, site, room, judge, parties, access, state, scheduled, started, ended, created_by, created)
		VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?)
		ON CONFLICT(id) DO UPDATE SET case_no=excluded.case_no, title=excluded.title, judge=excluded.judge, parties=excluded.parties,
			access=excluded.access, state=excluded.state, scheduled=excluded.scheduled, started=excluded.started, ended=excluded.ended`,
		h.ID, h.Case, h.Title, h.Site, h.Room, h.Judge, string(parties), h.Access, h.State,
		msOrNil(h.Scheduled), msOrNil(h.Started), msOrNil(h.Ended), h.CreatedBy, h.Created.UnixMilli())
	if err != nil {
		return fmt.Errorf("store: put hearing %s: %w", h.ID, err)
	}
	return nil
}

const hearingCols = `id, case_no, title, site, room, judge, parties, access, state, scheduled, started, ended, created_by, created`

func scanHearing(row interface{ Scan(...any) error }) (Hearing, error) {
	var h Hearing
	var parties string
	var sched, started, ended sql.NullInt64
	var created int64
	if err := row.Scan(&h.ID, &h.Case, &h.Title, &h.Site, &h.Room, &h.Judge, &parties, &h.Access, &h.State,
		&sched, &started, &ended, &h.CreatedBy, &created); err != nil {
		return h, err
	}
	if err := json.Unmarshal([]byte(parties), &h.Parties); err != nil {
		return h, fmt.Errorf("hearing %s: parties: %w", h.ID, err)
	}
	h.Scheduled, h.Started, h.Ended = timeOf(sched), timeOf(started), timeOf(ended)
	h.Created = time.UnixMilli(created).UTC()
	return h, nil
}

// Hearing returns a hearing with its recordings, or ErrNotFound.
func (s *Store) Hearing(ctx context.Context, id string) (Hearing, error) {
	h, err := scanHearing(s.db.QueryRowContext(ctx, `SELECT `+hearingCols+` FROM hearings WHERE id=?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Hearing{}, ErrNotFound
	}
	if err != nil {
		return Hearing{}, fmt.Errorf("store: hearing %s: %w", id, err)
	}
	if h.Recordings, err = s.hearingRecordings(ctx, id); err != nil {
		return Hearing{}, err
	}
	return h, nil
}

func (s *Store) hearingRecordings(ctx context.Context, id string) ([]string, error) {
	out, err := s.db.strings(ctx, `SELECT recording_id FROM hearing_recordings WHERE hearing_id=? ORDER BY added, recording_id`, id)
	if err != nil {
		return nil, fmt.Errorf("store: hearing %s recordings: %w", id, err)
	}
	return out, nil
}

// HearingFilter selects hearings; zero fields select everything.
type HearingFilter struct {
	Site, Room, Case string
	State            string
	// From <= the hearing's day < To, where its day is when it was scheduled for, else
	// started, else created.
	From, To time.Time
	Limit    int // default 200, at most 1000
}

// Hearings lists hearings, the latest first, with their recordings.
func (s *Store) Hearings(ctx context.Context, f HearingFilter) ([]Hearing, error) {
	if f.Limit <= 0 || f.Limit > 1000 {
		f.Limit = 200
	}
	q := `SELECT ` + hearingCols + ` FROM hearings WHERE 1=1`
	var args []any
	for _, c := range []struct{ col, v string }{{"site", f.Site}, {"room", f.Room}, {"case_no", f.Case}, {"state", f.State}} {
		if c.v != "" {
			q += ` AND ` + c.col + `=?`
			args = append(args, c.v)
		}
	}
	if !f.From.IsZero() {
		q += ` AND COALESCE(scheduled, started, created)>=?`
		args = append(args, f.From.UnixMilli())
	}
	if !f.To.IsZero() {
		q += ` AND COALESCE(scheduled, started, created)<?`
		args = append(args, f.To.UnixMilli())
	}
	q += ` ORDER BY COALESCE(scheduled, started, created) DESC, id LIMIT ` + strconv.Itoa(f.Limit)
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("store: hearings: %w", err)
	}
	var out []Hearing
	for rows.Next() {
		h, err := scanHearing(rows)
		if err != nil {
			rows.Close()
			return nil, fmt.Errorf("store: hearings: %w", err)
		}
		out = append(out, h)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for i := range out {
		if out[i].Recordings, err = s.hearingRecordings(ctx, out[i].ID); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// AddHearingRecording ties a recording to a hearing (once; again is no change).
func (s *Store) AddHearingRecording(ctx context.Context, hearingID, recordingID string) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO hearing_recordings(hearing_id, recording_id, added) VALUES(?,?,?)
		ON CONFLICT DO NOTHING`, hearingID, recordingID, time.Now().UnixNano())
	if err != nil {
		return fmt.Errorf("store: hearing %s recording %s: %w", hearingID, recordingID, err)
	}
	return nil
}

// RecordingHearing returns the hearing a recording belongs to, or ErrNotFound.
func (s *Store) RecordingHearing(ctx context.Context, recordingID string) (Hearing, error) {
	var id string
	err := s.db.QueryRowContext(ctx, `SELECT hearing_id FROM hearing_recordings WHERE recording_id=?`, recordingID).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return Hearing{}, ErrNotFound
	}
	if err != nil {
		return Hearing{}, fmt.Errorf("store: recording %s: %w", recordingID, err)
	}
	return s.Hearing(ctx, id)
}

// Note is a timestamped annotation in a hearing's record. The notes of a hearing form a hash
// chain like the audit log.
type Note struct {
	Hearing   string    `json:"hearing"`
	Seq       int64     `json:"seq"`
	At        time.Time `json:"at"`
	User      string    `json:"user"`
	Role      string    `json:"role"`
	Text      string    `json:"text"`
	Recording string    `json:"recording,omitempty"` // the recording running when it was written
	OffsetMS  int64     `json:"offset_ms"`           // how far into that recording
	Prev      string    `json:"prev"`
	Hash      string    `json:"hash"`
}

func (n Note) hash() string {
	return ChainHash(n.Prev, n.Hearing, strconv.FormatInt(n.Seq, 10), strconv.FormatInt(n.At.UnixMilli(), 10),
		n.User, n.Role, n.Text, n.Recording, strconv.FormatInt(n.OffsetMS, 10))
}

// AddNote appends a note to its hearing's chain, filling in Seq, At (when zero), Prev and Hash.
func (s *Store) AddNote(ctx context.Context, n Note) (Note, error) {
	if n.At.IsZero() {
		n.At = time.Now()
	}
	n.At = n.At.UTC().Truncate(time.Millisecond)
	err := s.appendChained(ctx, "notes/"+n.Hearing, `SELECT seq, hash FROM hearing_notes WHERE hearing_id=? ORDER BY seq DESC LIMIT 1`, []any{n.Hearing},
		func(tx execer, seq int64, prev string) error {
			n.Seq, n.Prev = seq, prev
			n.Hash = n.hash()
			_, err := tx.ExecContext(ctx, `INSERT INTO hearing_notes(hearing_id, seq, at, "user", role, text, recording, offset_ms, prev, hash) VALUES(?,?,?,?,?,?,?,?,?,?)`,
				n.Hearing, n.Seq, n.At.UnixMilli(), n.User, n.Role, n.Text, n.Recording, n.OffsetMS, n.Prev, n.Hash)
			return err
		})
	if err != nil {
		return n, fmt.Errorf("store: note for hearing %s: %w", n.Hearing, err)
	}
	return n, nil
}

// Notes returns a hearing's notes in order, and checks their chain: a *ChainError names the
// first note that was changed, removed or inserted (the notes are returned all the same).
func (s *Store) Notes(ctx context.Context, hearingID string) ([]Note, string, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT seq, at, "user", role, text, recording, offset_ms, prev, hash FROM hearing_notes WHERE hearing_id=? ORDER BY seq`, hearingID)
	if err != nil {
		return nil, "", fmt.Errorf("store: notes: %w", err)
	}
	defer rows.Close()
	var out []Note
	head := GenesisHash
	var bad *ChainError
	for rows.Next() {
		n := Note{Hearing: hearingID}
		var at int64
		if err := rows.Scan(&n.Seq, &at, &n.User, &n.Role, &n.Text, &n.Recording, &n.OffsetMS, &n.Prev, &n.Hash); err != nil {
			return nil, "", fmt.Errorf("store: notes: %w", err)
		}
		n.At = time.UnixMilli(at).UTC()
		if bad == nil {
			switch {
			case n.Seq != int64(len(out))+1:
				bad = &ChainError{Seq: int64(len(out)) + 1, Reason: fmt.Sprintf("missing: the next note is %d", n.Seq)}
			case n.Prev != head:
				bad = &ChainError{Seq: n.Seq, Reason: "does not link to the note before it"}
			case n.hash() != n.Hash:
				bad = &ChainError{Seq: n.Seq, Reason: "its hash does not match its content (the note was changed)"}
			}
		}
		head = n.Hash
		out = append(out, n)
	}
	if err := rows.Err(); err != nil {
		return nil, "", err
	}
	if bad != nil {
		return out, head, bad
	}
	return out, head, nil
}
