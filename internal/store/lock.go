package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"sync"
	"time"
)

// HeldLock is a lock held by this process until Release, or until it is lost: in PostgreSQL a
// session-level advisory lock, held by a database connection of its own, which PostgreSQL
// releases when that connection ends — when the process holding it dies or is cut off from
// the database — so that another hub takes it over. In SQLite (one hub per file) it is always
// granted and never lost.
type HeldLock struct {
	name string
	conn *sql.Conn // nil in SQLite
	lost chan struct{}
	stop chan struct{}
	done chan struct{}
	once sync.Once
}

// lockCheck is how often a held lock's connection is checked.
const lockCheck = time.Second

// lockScope keys a session lock to the schema the store works in, so that hubs of different
// schemas of one database (and tests, a schema each) never take one another's locks.
func (s *Store) lockScope(ctx context.Context, c *sql.Conn) (string, error) {
	var schema string
	err := c.QueryRowContext(ctx, `SELECT current_schema()`).Scan(&schema)
	return schema, err
}

// TryLock takes the lock of name if no other process holds it: nil (and no error) when
// another does.
func (s *Store) TryLock(ctx context.Context, name string) (*HeldLock, error) {
	l := &HeldLock{name: name, lost: make(chan struct{}), stop: make(chan struct{}), done: make(chan struct{})}
	if s.db.dialect != postgresDialect {
		close(l.done)
		return l, nil
	}
	c, err := s.db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("store: lock %s: %w", name, err)
	}
	scope, err := s.lockScope(ctx, c)
	var ok bool
	if err == nil {
		// A holder whose host vanishes sends nothing more; the server finds its connection
		// dead by TCP keepalives (ignored on a Unix socket), so the lock is free again within
		// about 25s rather than the system's default two hours.
		_, err = c.ExecContext(ctx, `SET tcp_keepalives_idle = 10; SET tcp_keepalives_interval = 5; SET tcp_keepalives_count = 3`)
	}
	if err == nil {
		err = c.QueryRowContext(ctx, `SELECT pg_try_advisory_lock($1)`, lockKey(scope+"/"+name)).Scan(&ok)
	}
	if err != nil || !ok {
		c.Close()
		if err != nil {
			return nil, fmt.Errorf("store: lock %s: %w", name, err)
		}
		return nil, nil
	}
	l.conn = c
	go l.watch()
	return l, nil
}

// watch checks the lock's connection until Release; when it fails, the lock is lost.
func (l *HeldLock) watch() {
	defer close(l.done)
	t := time.NewTicker(lockCheck)
	defer t.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err := l.conn.PingContext(ctx)
		if err == nil {
			var one int
			err = l.conn.QueryRowContext(ctx, `SELECT 1`).Scan(&one)
		}
		cancel()
		if err != nil {
			close(l.lost)
			l.conn.Raw(func(any) error { return driverBad }) // never reuse this connection
			l.conn.Close()
			return
		}
	}
}

// driverBad makes database/sql discard a connection rather than return it to the pool.
var driverBad = driver.ErrBadConn

// Lost is closed when the lock is lost (its connection failed): another process may hold it
// now.
func (l *HeldLock) Lost() <-chan struct{} { return l.lost }

// Release gives the lock up.
func (l *HeldLock) Release() {
	l.once.Do(func() {
		close(l.stop)
		<-l.done
		if l.conn == nil {
			return
		}
		select {
		case <-l.lost: // the connection is gone, and the lock with it
			return
		default:
		}
		// Closing the session releases its advisory locks; the connection is not pooled again.
		l.conn.Raw(func(any) error { return driverBad })
		l.conn.Close()
	})
}

// LockHolder returns the PostgreSQL backend process ID of the session holding the lock of
// name, or 0 when none holds it (always 0 in SQLite).
func (s *Store) LockHolder(ctx context.Context, name string) (int, error) {
	if s.db.dialect != postgresDialect {
		return 0, nil
	}
	c, err := s.db.Conn(ctx)
	if err != nil {
		return 0, err
	}
	defer c.Close()
	scope, err := s.lockScope(ctx, c)
	if err != nil {
		return 0, err
	}
	k := uint64(lockKey(scope + "/" + name))
	var pid int
	err = c.QueryRowContext(ctx, `SELECT pid FROM pg_locks WHERE locktype='advisory' AND granted AND objsubid=1
		AND classid=$1 AND objid=$2`, int64(k>>32), int64(k&0xffffffff)).Scan(&pid)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return pid, err
}
