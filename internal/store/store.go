// Package store keeps what the hub must remember across restarts: users, agent credentials, API
// sessions and MQTT users. It is embedded SQLite (modernc.org/sqlite, pure Go) or, for several
// hubs sharing one database, PostgreSQL (pgx), with numbered schema migrations and one set of
// SQL (dialect.go). Secrets are stored only as hashes, made by the caller.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	_ "modernc.org/sqlite" // the "sqlite" database/sql driver
)

// ErrNotFound is returned when a looked-up row does not exist.
var ErrNotFound = errors.New("store: not found")

// Store is the hub's database. It is safe for concurrent use.
type Store struct {
	db *db
	// wmu queues this process's writers of multi-statement transactions (the broker's
	// persistence, chained appends). Without it they meet SQLite's lock and wait in its busy
	// handler, which sleeps 1, 2, 5, 10 … 100ms between tries instead of waking when the lock
	// is free; under load that made the slowest API commands ten times slower. Other
	// processes (admin commands) still wait through busy_timeout. SQLite only: PostgreSQL
	// locks rows and chains itself (dialect.go).
	wmu sync.Mutex

	ckStop, ckDone chan struct{} // the checkpointer (checkpoint.go); nil in memory
}

// migrations are applied in order; the schema version is their count (PRAGMA user_version, or
// bailiff_schema in PostgreSQL). They are written for SQLite; pgMigration translates them for
// PostgreSQL, to the same tables, columns, keys, indexes and triggers (schema_test.go checks).
// Never edit a migration that has shipped: add a new one.
var migrations = []string{
	// 1: users, agents, sessions, MQTT users.
	`CREATE TABLE users (
		name     TEXT PRIMARY KEY,
		role     TEXT NOT NULL,
		hash     TEXT NOT NULL,
		created  INTEGER NOT NULL
	);
	CREATE TABLE agents (
		site     TEXT NOT NULL,
		room     TEXT NOT NULL,
		hash     TEXT NOT NULL,
		created  INTEGER NOT NULL,
		PRIMARY KEY (site, room)
	);
	CREATE TABLE sessions (
		token_hash TEXT PRIMARY KEY,
		user       TEXT NOT NULL REFERENCES users(name) ON DELETE CASCADE,
		role       TEXT NOT NULL,
		expires    INTEGER NOT NULL
	);
	CREATE INDEX sessions_expires ON sessions(expires);
	CREATE TABLE mqtt_users (
		name     TEXT PRIMARY KEY,
		access   TEXT NOT NULL,
		hash     TEXT NOT NULL,
		created  INTEGER NOT NULL
	);`,
	// 2: the embedded broker's sessions, subscriptions, retained and in-flight messages.
	`CREATE TABLE broker_kv (
		bucket TEXT NOT NULL,
		key    TEXT NOT NULL,
		value  BLOB NOT NULL,
		PRIMARY KEY (bucket, key)
	) WITHOUT ROWID;`,
	// 3: recordings.
	`CREATE TABLE recordings (
		id      TEXT PRIMARY KEY,
		site    TEXT NOT NULL,
		room    TEXT NOT NULL,
		dir     TEXT NOT NULL,
		state   TEXT NOT NULL,
		started INTEGER NOT NULL,
		stopped INTEGER,
		head    TEXT NOT NULL DEFAULT '',
		error   TEXT NOT NULL DEFAULT ''
	);
	CREATE INDEX recordings_room ON recordings(site, room, started);`,
	// 4: hearings, their recordings and notes; the audit log. Notes and the audit log are
	// append-only (triggers) and hash-chained (see audit.go).
	`CREATE TABLE hearings (
		id         TEXT PRIMARY KEY,
		case_no    TEXT NOT NULL,
		title      TEXT NOT NULL DEFAULT '',
		site       TEXT NOT NULL,
		room       TEXT NOT NULL,
		judge      TEXT NOT NULL,
		parties    TEXT NOT NULL DEFAULT '[]',
		access     TEXT NOT NULL,
		state      TEXT NOT NULL,
		scheduled  INTEGER,
		started    INTEGER,
		ended      INTEGER,
		created_by TEXT NOT NULL,
		created    INTEGER NOT NULL
	);
	CREATE INDEX hearings_room ON hearings(site, room, created);
	CREATE INDEX hearings_case ON hearings(case_no);
	CREATE TABLE hearing_recordings (
		hearing_id   TEXT NOT NULL REFERENCES hearings(id),
		recording_id TEXT NOT NULL UNIQUE,
		added        INTEGER NOT NULL,
		PRIMARY KEY (hearing_id, recording_id)
	);
	CREATE TABLE hearing_notes (
		hearing_id TEXT NOT NULL REFERENCES hearings(id),
		seq        INTEGER NOT NULL,
		at         INTEGER NOT NULL,
		user       TEXT NOT NULL,
		role       TEXT NOT NULL,
		text       TEXT NOT NULL,
		recording  TEXT NOT NULL DEFAULT '',
		offset_ms  INTEGER NOT NULL DEFAULT 0,
		prev       TEXT NOT NULL,
		hash       TEXT NOT NULL,
		PRIMARY KEY (hearing_id, seq),
		UNIQUE (hearing_id, prev)
	);
	CREATE TRIGGER hearing_notes_no_update BEFORE UPDATE ON hearing_notes
		BEGIN SELECT RAISE(ABORT, 'hearing notes are append-only'); END;
	CREATE TRIGGER hearing_notes_no_delete BEFORE DELETE ON hearing_notes
		BEGIN SELECT RAISE(ABORT, 'hearing notes are append-only'); END;
	CREATE TABLE audit (
		seq    INTEGER PRIMARY KEY,
		at     INTEGER NOT NULL,
		user   TEXT NOT NULL,
		role   TEXT NOT NULL,
		action TEXT NOT NULL,
		target TEXT NOT NULL,
		result TEXT NOT NULL,
		detail TEXT NOT NULL DEFAULT '',
		prev   TEXT NOT NULL UNIQUE,
		hash   TEXT NOT NULL
	);
	CREATE INDEX audit_at ON audit(at);
	CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
		BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
	CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
		BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;`,
	// 5: provisioning: room config revisions, agent enrollment tokens, alarms.
	`CREATE TABLE room_configs (
		site     TEXT NOT NULL,
		room     TEXT NOT NULL,
		revision INTEGER NOT NULL,
		yaml     TEXT NOT NULL,
		source   TEXT NOT NULL,
		author   TEXT NOT NULL DEFAULT '',
		created  INTEGER NOT NULL,
		PRIMARY KEY (site, room, revision)
	);
	CREATE TABLE enrollments (
		token_hash TEXT PRIMARY KEY,
		site       TEXT NOT NULL,
		room       TEXT NOT NULL,
		author     TEXT NOT NULL DEFAULT '',
		created    INTEGER NOT NULL,
		expires    INTEGER NOT NULL,
		used       INTEGER
	);
	CREATE TABLE alarms (
		id       INTEGER PRIMARY KEY AUTOINCREMENT,
		site     TEXT NOT NULL,
		room     TEXT NOT NULL,
		device   TEXT NOT NULL DEFAULT '',
		kind     TEXT NOT NULL,
		message  TEXT NOT NULL DEFAULT '',
		raised   INTEGER NOT NULL,
		cleared  INTEGER,
		acked    INTEGER,
		acked_by TEXT NOT NULL DEFAULT ''
	);
	CREATE INDEX alarms_active ON alarms(cleared, site, room, device, kind);`,
	// 6: firmware images (the image bytes are files in the data directory) and their rollouts.
	`CREATE TABLE firmware_images (
		id          TEXT PRIMARY KEY,
		device_type TEXT NOT NULL,
		version     TEXT NOT NULL,
		manifest    TEXT NOT NULL,
		file        TEXT NOT NULL,
		uploaded_by TEXT NOT NULL,
		created     INTEGER NOT NULL,
		UNIQUE (device_type, version)
	);
	CREATE TABLE firmware_rollouts (
		id       TEXT PRIMARY KEY,
		image_id TEXT NOT NULL REFERENCES firmware_images(id),
		body     TEXT NOT NULL,
		created  INTEGER NOT NULL
	);`,
	// 7: visitor invites and their revocations.
	`CREATE TABLE invites (
		id         TEXT PRIMARY KEY,
		site       TEXT NOT NULL,
		room       TEXT NOT NULL,
		hearing    TEXT NOT NULL,
		name       TEXT NOT NULL,
		created_by TEXT NOT NULL,
		created    INTEGER NOT NULL,
		expires    INTEGER NOT NULL,
		revoked    INTEGER
	);
	CREATE INDEX invites_room ON invites(site, room, created);`,
	// 8: the litigation hall queue's tickets (store/queue.go).
	`CREATE TABLE queue_tickets (
		site         TEXT NOT NULL,
		room         TEXT NOT NULL,
		day          TEXT NOT NULL,
		number       TEXT NOT NULL,
		seq          INTEGER NOT NULL,
		origin       TEXT NOT NULL,
		service      TEXT NOT NULL,
		priority     INTEGER NOT NULL,
		state        TEXT NOT NULL,
		source       TEXT NOT NULL DEFAULT '',
		win          TEXT NOT NULL DEFAULT '',
		issued       INTEGER NOT NULL,
		first_called INTEGER NOT NULL DEFAULT 0,
		called       INTEGER NOT NULL DEFAULT 0,
		finished     INTEGER NOT NULL DEFAULT 0,
		transferred  INTEGER NOT NULL DEFAULT 0,
		from_service TEXT NOT NULL DEFAULT '',
		calls        INTEGER NOT NULL DEFAULT 0,
		call_seq     INTEGER NOT NULL DEFAULT 0,
		PRIMARY KEY (site, room, day, number)
	) WITHOUT ROWID;
	CREATE INDEX queue_tickets_issued ON queue_tickets(site, room, issued);`,
	// 9: agent client certificates issued by the hub's CA, and their revocation.
	`CREATE TABLE agent_certs (
		serial  TEXT PRIMARY KEY,
		site    TEXT NOT NULL,
		room    TEXT NOT NULL,
		issued  INTEGER NOT NULL,
		revoked INTEGER
	);
	CREATE INDEX agent_certs_room ON agent_certs(site, room);`,
	// 10: a room's bench-conference privacy (a row while it is on) and its program's
	// voice following and camera, so both survive a restart (privacy.go).
	`CREATE TABLE room_privacy (
		site  TEXT NOT NULL,
		room  TEXT NOT NULL,
		since INTEGER NOT NULL,
		by    TEXT NOT NULL,
		PRIMARY KEY (site, room)
	) WITHOUT ROWID;
	CREATE TABLE room_program (
		site   TEXT NOT NULL,
		room   TEXT NOT NULL,
		follow INTEGER NOT NULL,
		camera TEXT NOT NULL,
		PRIMARY KEY (site, room)
	) WITHOUT ROWID;`,
	// 11: failed logins, counted across the hubs of a share group (logins.go).
	`CREATE TABLE login_failures (
		subject TEXT NOT NULL,
		at      INTEGER NOT NULL
	);
	CREATE INDEX login_failures_subject ON login_failures(subject, at);`,
}

// Open opens (creating if needed) the SQLite database at path and migrates it to the current
// schema. path ":memory:" gives a private in-memory database (tests).
func Open(path string) (*Store, error) {
	dsn := "file:" + path + "?_pragma=busy_timeout(5000)&_pragma=foreign_keys(1)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)" +
		"&_pragma=wal_autocheckpoint(" + fmt.Sprint(autoCheckpointPages) + ")" // see checkpoint.go
	if path == ":memory:" {
		dsn = "file::memory:?_pragma=foreign_keys(1)"
	}
	sdb, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	if path == ":memory:" {
		sdb.SetMaxOpenConns(1) // every connection would be a new empty database
	}
	s := &Store{db: &db{DB: sdb, dialect: sqliteDialect}}
	if err := s.migrate(context.Background()); err != nil {
		sdb.Close()
		return nil, fmt.Errorf("store: %s: %w", path, err)
	}
	if path != ":memory:" {
		s.startCheckpoints(checkpointEvery)
	}
	return s, nil
}

// OpenPostgres connects to the PostgreSQL database of dsn (a URL, postgres://user@host/db, or
// key=value pairs, as libpq takes them) and migrates it to the current schema. Several hubs
// may share it. Errors never repeat the DSN, which may hold a password.
func OpenPostgres(ctx context.Context, dsn string) (*Store, error) {
	sdb, err := sql.Open("pgx", dsn)
	if err != nil {
		return nil, fmt.Errorf("store: postgres: %w", err)
	}
	sdb.SetMaxOpenConns(16)
	sdb.SetMaxIdleConns(8)
	s := &Store{db: &db{DB: sdb, dialect: postgresDialect}}
	if err := s.Ping(ctx); err != nil {
		sdb.Close()
		return nil, fmt.Errorf("store: postgres: %w", err)
	}
	if err := s.migrate(ctx); err != nil {
		sdb.Close()
		return nil, fmt.Errorf("store: postgres: %w", err)
	}
	return s, nil
}

// OpenDriver opens the store of driver (DriverSQLite: the file at path; DriverPostgres: dsn).
func OpenDriver(ctx context.Context, driver, path, dsn string) (*Store, error) {
	switch driver {
	case "", DriverSQLite:
		return Open(path)
	case DriverPostgres:
		return OpenPostgres(ctx, dsn)
	}
	return nil, fmt.Errorf("store: unknown driver %q (want one of %s)", driver, strings.Join(Drivers, ", "))
}

// Close closes the database.
func (s *Store) Close() error {
	s.stopCheckpoints()
	return s.db.Close()
}

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	var one int
	return s.db.QueryRowContext(ctx, "SELECT 1").Scan(&one)
}

// Version returns the schema version.
func (s *Store) Version(ctx context.Context) (int, error) {
	return s.db.schemaVersion(ctx, s.db)
}

// migrate applies the migrations the database lacks, each in a transaction with its version.
// In PostgreSQL the whole run holds an advisory lock, so hubs starting together migrate once.
func (s *Store) migrate(ctx context.Context) error {
	if s.db.dialect == postgresDialect {
		if _, err := s.db.ExecContext(ctx, pgPrelude); err != nil {
			return fmt.Errorf("schema prelude: %w", err)
		}
	}
	for {
		done, err := s.migrateOne(ctx)
		if err != nil || done {
			return err
		}
	}
}

// migrateOne applies the next migration; done is true when there was none.
func (s *Store) migrateOne(ctx context.Context) (done bool, err error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return false, err
	}
	defer tx.Rollback()
	if err := tx.lock(ctx, "migrate"); err != nil {
		return false, err
	}
	v, err := s.db.schemaVersion(ctx, tx)
	if err != nil {
		return false, fmt.Errorf("read schema version: %w", err)
	}
	if v > len(migrations) {
		return false, fmt.Errorf("schema version %d is newer than this hub knows (%d): refusing to touch it", v, len(migrations))
	}
	if v == len(migrations) {
		return true, nil
	}
	m := migrations[v]
	if s.db.dialect == postgresDialect {
		m = pgMigration(m)
	}
	if _, err := tx.ExecContext(ctx, m); err != nil {
		return false, fmt.Errorf("migration %d: %w", v+1, err)
	}
	if err := tx.setVersion(ctx, v+1); err != nil {
		return false, fmt.Errorf("migration %d: %w", v+1, err)
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("migration %d: %w", v+1, err)
	}
	return false, nil
}

// User is a person who logs in to the API.
type User struct {
	Name string
	Role string
	Hash string // password hash (argon2id PHC string)
}

// PutUser creates or replaces a user.
func (s *Store) PutUser(ctx context.Context, u User) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO users(name, role, hash, created) VALUES(?,?,?,?)
		ON CONFLICT(name) DO UPDATE SET role=excluded.role, hash=excluded.hash`,
		u.Name, u.Role, u.Hash, time.Now().Unix())
	if err != nil {
		return fmt.Errorf("store: put user %q: %w", u.Name, err)
	}
	return nil
}

// User returns a user by name, or ErrNotFound.
func (s *Store) User(ctx context.Context, name string) (User, error) {
	u := User{Name: name}
	err := s.db.QueryRowContext(ctx, `SELECT role, hash FROM users WHERE name=?`, name).Scan(&u.Role, &u.Hash)
	if errors.Is(err, sql.ErrNoRows) {
		return User{}, ErrNotFound
	}
	if err != nil {
		return User{}, fmt.Errorf("store: user %q: %w", name, err)
	}
	return u, nil
}

// Users lists every user, by name.
func (s *Store) Users(ctx context.Context) ([]User, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT name, role, hash FROM users ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("store: users: %w", err)
	}
	defer rows.Close()
	var out []User
	for rows.Next() {
		var u User
		if err := rows.Scan(&u.Name, &u.Role, &u.Hash); err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

// PutAgent creates or replaces the credential hash of the agent of site/room.
func (s *Store) PutAgent(ctx context.Context, site, room, hash string) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO agents(site, room, hash, created) VALUES(?,?,?,?)
		ON CONFLICT(site, room) DO UPDATE SET hash=excluded.hash, created=excluded.created`,
		site, room, hash, time.Now().Unix())
	if err != nil {
		return fmt.Errorf("store: put agent %s/%s: %w", site, room, err)
	}
	return nil
}

// AgentHash returns the credential hash of the agent of site/room, or ErrNotFound.
func (s *Store) AgentHash(ctx context.Context, site, room string) (string, error) {
	var h string
	err := s.db.QueryRowContext(ctx, `SELECT hash FROM agents WHERE site=? AND room=?`, site, room).Scan(&h)
	if errors.Is(err, sql.ErrNoRows) {
		return "", ErrNotFound
	}
	if err != nil {
		return "", fmt.Errorf("store: agent %s/%s: %w", site, room, err)
	}
	return h, nil
}

// DeleteAgent removes an agent's credentials; it reports ErrNotFound if there were none.
func (s *Store) DeleteAgent(ctx context.Context, site, room string) error {
	res, err := s.db.ExecContext(ctx, `DELETE FROM agents WHERE site=? AND room=?`, site, room)
	if err != nil {
		return fmt.Errorf("store: delete agent %s/%s: %w", site, room, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}

// Session is a logged-in API session, found by the hash of its bearer token.
type Session struct {
	TokenHash string
	User      string
	Role      string
	Expires   time.Time
}

// PutSession stores a new session.
func (s *Store) PutSession(ctx context.Context, se Session) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO sessions(token_hash, "user", role, expires) VALUES(?,?,?,?)`,
		se.TokenHash, se.User, se.Role, se.Expires.UnixMilli())
	if err != nil {
		return fmt.Errorf("store: put session for %q: %w", se.User, err)
	}
	return nil
}

// Session returns the unexpired session with this token hash, or ErrNotFound.
func (s *Store) Session(ctx context.Context, tokenHash string, now time.Time) (Session, error) {
	se := Session{TokenHash: tokenHash}
	var exp int64
	err := s.db.QueryRowContext(ctx, `SELECT "user", role, expires FROM sessions WHERE token_hash=? AND expires>?`,
		tokenHash, now.UnixMilli()).Scan(&se.User, &se.Role, &exp)
	if errors.Is(err, sql.ErrNoRows) {
		return Session{}, ErrNotFound
	}
	if err != nil {
		return Session{}, fmt.Errorf("store: session: %w", err)
	}
	se.Expires = time.UnixMilli(exp)
	return se, nil
}

// DeleteSession ends a session (logout).
func (s *Store) DeleteSession(ctx context.Context, tokenHash string) error {
	_, err := s.db.ExecContext(ctx, `DELETE FROM sessions WHERE token_hash=?`, tokenHash)
	return err
}

// PruneSessions deletes expired sessions and returns how many.
func (s *Store) PruneSessions(ctx context.Context, now time.Time) (int64, error) {
	res, err := s.db.ExecContext(ctx, `DELETE FROM sessions WHERE expires<=?`, now.UnixMilli())
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// MQTT user access levels.
const (
	AccessRead = "read" // may subscribe to bailiff/# and publish nothing
)

// MQTTUser is a broker login that is not an agent (e.g. a read-only observer).
type MQTTUser struct {
	Name   string
	Access string
	Hash   string
}

// PutMQTTUser creates or replaces an MQTT user.
func (s *Store) PutMQTTUser(ctx context.Context, u MQTTUser) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO mqtt_users(name, access, hash, created) VALUES(?,?,?,?)
		ON CONFLICT(name) DO UPDATE SET access=excluded.access, hash=excluded.hash`,
		u.Name, u.Access, u.Hash, time.Now().Unix())
	if err != nil {
		return fmt.Errorf("store: put mqtt user %q: %w", u.Name, err)
	}
	return nil
}

// MQTTUser returns an MQTT user by name, or ErrNotFound.
func (s *Store) MQTTUser(ctx context.Context, name string) (MQTTUser, error) {
	u := MQTTUser{Name: name}
	err := s.db.QueryRowContext(ctx, `SELECT access, hash FROM mqtt_users WHERE name=?`, name).Scan(&u.Access, &u.Hash)
	if errors.Is(err, sql.ErrNoRows) {
		return MQTTUser{}, ErrNotFound
	}
	if err != nil {
		return MQTTUser{}, fmt.Errorf("store: mqtt user %q: %w", name, err)
	}
	return u, nil
}

// KVOp is one change to the broker's key-value state: a put, a delete (Value nil), or a
// delete of every key starting with Key (Prefix true).
type KVOp struct {
	Bucket, Key string
	Value       []byte
	Prefix      bool
}

// KVApply applies ops in order, in one transaction.
func (s *Store) KVApply(ops []KVOp) error {
	if s.db.dialect == sqliteDialect {
		s.wmu.Lock()
		defer s.wmu.Unlock()
	}
	tx, err := s.db.Begin()
	if err != nil {
		return fmt.Errorf("store: kv apply: %w", err)
	}
	defer tx.Rollback()
	for _, op := range ops {
		switch {
		case op.Prefix:
			_, err = tx.Exec(`DELETE FROM broker_kv WHERE bucket=? AND substr(key, 1, ?)=?`, op.Bucket, len(op.Key), op.Key)
		case op.Value == nil:
			_, err = tx.Exec(`DELETE FROM broker_kv WHERE bucket=? AND key=?`, op.Bucket, op.Key)
		default:
			_, err = tx.Exec(`INSERT INTO broker_kv(bucket, key, value) VALUES(?,?,?)
				ON CONFLICT(bucket, key) DO UPDATE SET value=excluded.value`, op.Bucket, op.Key, op.Value)
		}
		if err != nil {
			return fmt.Errorf("store: kv apply %s/%q: %w", op.Bucket, op.Key, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: kv apply: %w", err)
	}
	return nil
}

// KVAll calls fn for every key of bucket, in key order.
func (s *Store) KVAll(bucket string, fn func(key string, value []byte) error) error {
	rows, err := s.db.Query(`SELECT key, value FROM broker_kv WHERE bucket=? ORDER BY key`, bucket)
	if err != nil {
		return fmt.Errorf("store: kv list %s: %w", bucket, err)
	}
	defer rows.Close()
	for rows.Next() {
		var k string
		var v []byte
		if err := rows.Scan(&k, &v); err != nil {
			return err
		}
		if err := fn(k, v); err != nil {
			return err
		}
	}
	return rows.Err()
}

// Recording states.
const (
	RecordingActive    = "recording"
	RecordingStopped   = "stopped"
	RecordingFailed    = "failed"
	RecordingRecovered = "recovered" // sealed after the hub stopped without closing it
)

// Recording is a recording's row: where it is and how it ended.
type Recording struct {
	ID, Site, Room string
	Dir            string // relative to the data directory
	State          string
	Started        time.Time
	Stopped        time.Time // zero while recording
	Head           string    // hash of the manifest's last entry when it was closed
	Error          string
}

// PutRecording creates or updates a recording's row.
func (s *Store) PutRecording(ctx context.Context, r Recording) error {
	var stopped any
	if !r.Stopped.IsZero() {
		stopped = r.Stopped.UnixMilli()
	}
	_, err := s.db.ExecContext(ctx, `INSERT INTO recordings(id, site, room, dir, state, started, stopped, head, error) VALUES(?,?,?,?,?,?,?,?,?)
		ON CONFLICT(id) DO UPDATE SET state=excluded.state, stopped=excluded.stopped, head=excluded.head, error=excluded.error`,
		r.ID, r.Site, r.Room, r.Dir, r.State, r.Started.UnixMilli(), stopped, r.Head, r.Error)
	if err != nil {
		return fmt.Errorf("store: put recording %s: %w", r.ID, err)
	}
	return nil
}

// Recordings lists recordings, newest first; state "" lists all.
func (s *Store) Recordings(ctx context.Context, state string) ([]Recording, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, site, room, dir, state, started, stopped, head, error FROM recordings
		WHERE ?='' OR state=? ORDER BY started DESC`, state, state)
	if err != nil {
		return nil, fmt.Errorf("store: recordings: %w", err)
	}
	defer rows.Close()
	var out []Recording
	for rows.Next() {
		var r Recording
		var started int64
		var stopped sql.NullInt64
		if err := rows.Scan(&r.ID, &r.Site, &r.Room, &r.Dir, &r.State, &started, &stopped, &r.Head, &r.Error); err != nil {
			return nil, err
		}
		r.Started = time.UnixMilli(started).UTC()
		if stopped.Valid {
			r.Stopped = time.UnixMilli(stopped.Int64).UTC()
		}
		out = append(out, r)
	}
	return out, rows.Err()
}
