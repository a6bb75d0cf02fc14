package hub

import (
	"context"
	"math"
	"sync"
	"time"
)

// The periodic jobs whose work is the group's, not each hub's, run on one hub only: the
// leader, the hub holding the store's "leader" lock (store.TryLock: in PostgreSQL a
// session-level advisory lock, which the database releases when the leader's connection ends,
// so a killed hub's lead passes to another within leaderRetry; in SQLite, with one hub, it is
// always this hub). The leader's jobs:
//
//   - condition alarms (agent offline, device unreachable or in error, lamp hours): raised
//     and cleared from the registry by the leader alone, so each is raised once and its
//     events go to the other hubs' streams through the hub feed (hubfeed.go). A new leader
//     reads the active alarms from the store first;
//   - the queues' daily reset (its "reset" event);
//   - pruning expired API sessions;
//   - resuming the firmware rollouts that no hub runs (a rollout is run under a lock of its
//     own, so a live hub's rollout is never taken over).
//
// Every hub still does the rest itself: its registry, its recordings and media, its own
// commands and the rollouts it started.

// leaderRetry is how often a hub that does not lead tries to take the lead.
var leaderRetry = 2 * time.Second

// lead takes the lead whenever it can and runs the leader's jobs while it holds it, until
// ctx ends.
func (h *Hub) lead(ctx context.Context) {
	defer close(h.leaderDone)
	for ctx.Err() == nil {
		l, err := h.store.TryLock(ctx, "leader")
		if err != nil && ctx.Err() == nil {
			h.log.Warn("leader lock", "error", err)
		}
		if l == nil {
			select {
			case <-ctx.Done():
				return
			case <-time.After(leaderRetry):
			}
			continue
		}
		if h.sharing() {
			h.log.Info("this hub leads the group's periodic jobs")
		}
		h.leading.Store(true)
		jctx, cancel := context.WithCancel(ctx)
		var wg sync.WaitGroup
		h.leaderJobs(jctx, &wg)
		select {
		case <-ctx.Done():
		case <-l.Lost():
			h.log.Warn("this hub lost the lead (its database connection failed); another hub takes the periodic jobs")
		}
		cancel()
		wg.Wait()
		h.leading.Store(false)
		l.Release()
	}
}

// leaderJobs starts the leader's jobs on wg.
func (h *Hub) leaderJobs(ctx context.Context, wg *sync.WaitGroup) {
	run := func(f func()) {
		wg.Add(1)
		go func() { defer wg.Done(); f() }()
	}
	run(func() {
		if err := h.alarms.Reload(ctx); err != nil && ctx.Err() == nil {
			h.log.Error("alarms of the store", "error", err)
		}
		h.alarms.Run(ctx)
	})
	run(func() { h.housekeeping(ctx) })
	run(func() { h.queues.Run(ctx, 30*time.Second) })
	if h.sharing() { // a lone hub resumed them as it started
		run(func() {
			if n, err := h.fw.resumeRollouts(h.fw.ctx); err != nil {
				h.log.Error("firmware rollouts to resume", "error", err)
			} else if n > 0 {
				h.log.Info("firmware rollouts resumed", "count", n)
			}
		})
	}
}

// Leading reports whether this hub runs the group's periodic jobs now.
func (h *Hub) Leading() bool { return h.leading.Load() }

// activeAlarms is the number of active alarms: the alarm service's own count on a lone hub,
// the store's with several (only the leader's service follows every room).
func (h *Hub) activeAlarms() int {
	if !h.sharing() {
		return h.alarms.Active()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	as, err := h.store.Alarms(ctx, true, math.MaxInt32)
	if err != nil {
		return h.alarms.Active()
	}
	return len(as)
}
