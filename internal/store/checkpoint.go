package store

import "time"

// SQLite in WAL mode copies the log back into the database file (a checkpoint, with an fsync
// of each) inside whichever commit makes the log pass wal_autocheckpoint pages: that commit,
// an API command's audit entry say, then waits for the disk, and every writer behind it with
// it. The hub's writes reach the default 1,000 pages about once a second under load, and on a
// busy disk one fsync can take hundreds of milliseconds. So the store checkpoints on a
// goroutine of its own every checkpointEvery (PASSIVE: it copies what no reader still needs
// and never blocks a writer), and the automatic checkpoint is only a backstop at a much larger
// log, should this goroutine fall behind.
const (
	checkpointEvery     = time.Second
	autoCheckpointPages = 20000 // 80 MB of log at 4 KiB pages
)

func (s *Store) startCheckpoints(every time.Duration) {
	s.ckStop, s.ckDone = make(chan struct{}), make(chan struct{})
	go func() {
		defer close(s.ckDone)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-s.ckStop:
				return
			case <-t.C:
			}
			// An error (the database closing, a reader's snapshot) is retried next time; the
			// automatic checkpoint backs it up.
			s.db.Exec("PRAGMA wal_checkpoint(PASSIVE)")
		}
	}()
}

func (s *Store) stopCheckpoints() {
	if s.ckStop == nil {
		return
	}
	select {
	case <-s.ckDone:
	default:
		close(s.ckStop)
		<-s.ckDone
	}
}
