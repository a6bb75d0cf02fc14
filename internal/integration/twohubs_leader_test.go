package integration

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"github.com/bailiff/bailiff/internal/testutil"
)

// leaders is the number of hubs that say they lead.
func leaders(hs ...*env) float64 {
	n := 0.0
	for _, h := range hs {
		n += h.scrape()["bailiff_leader"]
	}
	return n
}

// One hub of a share group leads the periodic jobs. When its database connection dies, the
// lead is taken again; when the leading hub is gone, the other takes it over and raises the
// alarms from then on.
func TestTwoHubsLeaderTakenOver(t *testing.T) {
	dsn := postgresDSN(t)
	a := newEnvWith(t, 1, true, shareGroup(dsn))
	b := secondHub(a)
	testutil.Eventually(t, 5*time.Second, "one leader", func() bool { return leaders(a, b) == 1 })
	time.Sleep(2500 * time.Millisecond) // longer than a hub waits between tries (2s): the other has tried
	if n := leaders(a, b); n != 1 {
		t.Fatalf("%v leaders", n)
	}

	// The leader's database session ends, as when its host is cut off or killed: the lock is
	// the database's to give again, and one hub leads again.
	ctx := context.Background()
	pid, err := a.hub.Store().LockHolder(ctx, "leader")
	if err != nil || pid == 0 {
		t.Fatalf("the leader lock's holder: %d %v", pid, err)
	}
	admin, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	var ok bool
	if err := admin.QueryRowContext(ctx, `SELECT pg_terminate_backend($1)`, pid).Scan(&ok); err != nil || !ok {
		t.Fatalf("terminate the leader's session: %v %v", ok, err)
	}
	testutil.Eventually(t, 10*time.Second, "a new leader session", func() bool {
		p, err := a.hub.Store().LockHolder(ctx, "leader")
		return err == nil && p != 0 && p != pid && leaders(a, b) == 1
	})

	// The leading hub goes; the other takes the lead and raises the alarms.
	leader, other := a, b
	if b.hub.Leading() {
		leader, other = b, a
	}
	leader.hub.Close()
	testutil.Eventually(t, 10*time.Second, "the other hub leads", func() bool { return other.hub.Leading() })
	tech := other.login("tech")
	ev := other.openEvents(tech)
	a.stopAgent("r1")
	ev.wait(t, 10*time.Second, "agent-offline raised by the new leader", func(typ string, d map[string]any) bool {
		return typ == "alarm" && d["kind"] == "agent-offline" && d["room"] == "r1" && d["state"] == "raised"
	})
}
