package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// QueueTicket is one ticket of a litigation hall queue as stored. Times are zero when the
// step has not happened. Day is the queue's business day (the local date its daily reset
// starts); a number is unique within a room and day.
type QueueTicket struct {
	Site, Room  string
	Day         string
	Number      string
	Seq         int    // the number's sequence within Origin and Day
	Origin      string // the service that issued the number
	Service     string // the service it waits for or was served in (changes on transfer)
	Priority    bool
	State       string
	Source      string // what issued it: api, kiosk, button:<device>
	Window      string // the window that called it last
	Issued      time.Time
	FirstCalled time.Time
	Called      time.Time
	Finished    time.Time // served, no-show or expired
	Transferred time.Time
	FromService string // the service it was transferred from
	Calls       int    // how many times it was called (recalls included)
	CallSeq     int64  // the room's call sequence number at its last call
}

func unixMS(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

func fromMS(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}

// queueDB is what the queue's statements run on: the database, or a QueueTx's transaction.
type queueDB interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// QueueTx is one transaction on a room's queue tickets, holding the room's queue lock: in
// PostgreSQL a transaction-level advisory lock, so that the hubs sharing the database change
// one room's queue one at a time and each change starts from the one before it. End it with
// Commit or Rollback.
type QueueTx struct {
	x  queueDB
	tx *tx
}

// BeginQueue begins a transaction on site/room's queue, holding its lock.
func (s *Store) BeginQueue(ctx context.Context, site, room string) (*QueueTx, error) {
	t, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("store: queue %s/%s: %w", site, room, err)
	}
	if err := t.lock(ctx, "queue/"+site+"/"+room); err != nil {
		t.Rollback()
		return nil, fmt.Errorf("store: queue %s/%s: %w", site, room, err)
	}
	return &QueueTx{x: t, tx: t}, nil
}

// Commit commits the transaction, releasing the queue's lock.
func (q *QueueTx) Commit() error {
	if err := q.tx.Commit(); err != nil {
		return fmt.Errorf("store: queue: commit: %w", err)
	}
	return nil
}

// Rollback undoes the transaction, releasing the queue's lock.
func (q *QueueTx) Rollback() error { return q.tx.Rollback() }

// PutQueueTicket creates or replaces a ticket.
func (s *Store) PutQueueTicket(ctx context.Context, t QueueTicket) error {
	return putQueueTicket(ctx, s.db, t)
}

// PutQueueTicket creates or replaces a ticket within the transaction.
func (q *QueueTx) PutQueueTicket(ctx context.Context, t QueueTicket) error {
	return putQueueTicket(ctx, q.x, t)
}

func putQueueTicket(ctx context.Context, x queueDB, t QueueTicket) error {
	_, err := x.ExecContext(ctx, `INSERT INTO queue_tickets(site, room, day, number, seq, origin,
		service, priority, state, source, win, issued, first_called, called, finished, transferred, from_service,
		calls, call_seq) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)
		ON CONFLICT(site, room, day, number) DO UPDATE SET seq=excluded.seq, origin=excluded.origin,
		service=excluded.service, priority=excluded.priority, state=excluded.state, source=excluded.source,
		win=excluded.win, issued=excluded.issued, first_called=excluded.first_called, called=excluded.called,
		finished=excluded.finished, transferred=excluded.transferred, from_service=excluded.from_service,
		calls=excluded.calls, call_seq=excluded.call_seq`,
		t.Site, t.Room, t.Day, t.Number, t.Seq, t.Origin, t.Service, t.Priority, t.State, t.Source, t.Window,
		unixMS(t.Issued), unixMS(t.FirstCalled), unixMS(t.Called), unixMS(t.Finished), unixMS(t.Transferred),
		t.FromService, t.Calls, t.CallSeq)
	if err != nil {
		return fmt.Errorf("store: put queue ticket %s/%s %s %s: %w", t.Site, t.Room, t.Day, t.Number, err)
	}
	return nil
}

// CloseQueueTickets sets every ticket of site/room of another day than day that is not in one
// of the final states to state, finished at. The daily reset uses it for the tickets left over.
func (s *Store) CloseQueueTickets(ctx context.Context, site, room, day, state string, at time.Time, final []string) error {
	return closeQueueTickets(ctx, s.db, site, room, day, state, at, final)
}

// CloseQueueTickets is Store.CloseQueueTickets within the transaction.
func (q *QueueTx) CloseQueueTickets(ctx context.Context, site, room, day, state string, at time.Time, final []string) error {
	return closeQueueTickets(ctx, q.x, site, room, day, state, at, final)
}

func closeQueueTickets(ctx context.Context, x queueDB, site, room, day, state string, at time.Time, final []string) error {
	q := `UPDATE queue_tickets SET state=?, finished=? WHERE site=? AND room=? AND day<>?`
	args := []any{state, unixMS(at), site, room, day}
	for _, f := range final {
		q += ` AND state<>?`
		args = append(args, f)
	}
	if _, err := x.ExecContext(ctx, q, args...); err != nil {
		return fmt.Errorf("store: close queue tickets %s/%s %s: %w", site, room, day, err)
	}
	return nil
}

const queueColumns = `site, room, day, number, seq, origin, service, priority, state, source, win, issued,
	first_called, called, finished, transferred, from_service, calls, call_seq`

// QueueTickets returns the tickets of site/room of one day, in issue order.
func (s *Store) QueueTickets(ctx context.Context, site, room, day string) ([]QueueTicket, error) {
	return queueTicketsOfDay(ctx, s.db, site, room, day)
}

// QueueTickets is Store.QueueTickets within the transaction.
func (q *QueueTx) QueueTickets(ctx context.Context, site, room, day string) ([]QueueTicket, error) {
	return queueTicketsOfDay(ctx, q.x, site, room, day)
}

func queueTicketsOfDay(ctx context.Context, x queueDB, site, room, day string) ([]QueueTicket, error) {
	return queueTickets(ctx, x, `SELECT `+queueColumns+` FROM queue_tickets WHERE site=? AND room=? AND day=?
		ORDER BY issued, number`, site, room, day)
}

// QueueTicketsIssued returns the tickets of site/room issued in [from, to), in issue order.
func (s *Store) QueueTicketsIssued(ctx context.Context, site, room string, from, to time.Time) ([]QueueTicket, error) {
	return queueTickets(ctx, s.db, `SELECT `+queueColumns+` FROM queue_tickets WHERE site=? AND room=? AND issued>=?
		AND issued<? ORDER BY issued, number`, site, room, from.UnixMilli(), to.UnixMilli())
}

func queueTickets(ctx context.Context, x queueDB, query string, args ...any) ([]QueueTicket, error) {
	rows, err := x.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("store: queue tickets: %w", err)
	}
	defer rows.Close()
	var out []QueueTicket
	for rows.Next() {
		var t QueueTicket
		var issued, first, called, finished, transferred int64
		if err := rows.Scan(&t.Site, &t.Room, &t.Day, &t.Number, &t.Seq, &t.Origin, &t.Service, &t.Priority,
			&t.State, &t.Source, &t.Window, &issued, &first, &called, &finished, &transferred, &t.FromService,
			&t.Calls, &t.CallSeq); err != nil {
			return nil, fmt.Errorf("store: queue tickets: %w", err)
		}
		t.Issued, t.FirstCalled, t.Called, t.Finished, t.Transferred = fromMS(issued), fromMS(first), fromMS(called), fromMS(finished), fromMS(transferred)
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: queue tickets: %w", err)
	}
	return out, nil
}
