package integration

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bailiff/bailiff/drivers/pjlink/pjlinksim"
	"github.com/bailiff/bailiff/internal/agent"
	"github.com/bailiff/bailiff/internal/hub/auth"
	"github.com/bailiff/bailiff/internal/store"
	"github.com/bailiff/bailiff/internal/testutil"
)

// TestEnrollAgent: a technician creates a room and issues an enrollment token; the agent
// exchanges it for its credentials (written 0600), and with them brings the room online. The
// token does not work twice; an expired or wrong one is refused, and failed attempts are
// limited.
func TestEnrollAgent(t *testing.T) {
	e := newEnv(t, 1, false)
	tech := e.login("tech")
	hubURL := "http://" + e.httpAddr

	sim := pjlinksim.New(pjlinksim.Config{})
	addr, err := sim.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sim.Close() })
	roomYAML := "site: " + site + "\nroom: r9\nkind: visitor-reception\nname: Reception 9\npoll: 1s\ndevices:\n  - id: screen\n    driver: pjlink\n    address: " + addr + "\n"
	if st, body := e.sendYAML("POST", "/api/v1/rooms", tech, roomYAML); st != 201 {
		t.Fatalf("create room: %d %v", st, body)
	}
	if st, _ := e.call("POST", "/api/v1/enrollments", e.login("judge"), map[string]string{"site": site, "room": "r9"}); st != 403 {
		t.Fatalf("a judge issued an enrollment token: %d", st)
	}
	st, body := e.call("POST", "/api/v1/enrollments", tech, map[string]string{"site": site, "room": "r9", "ttl": "10m"})
	if st != 201 {
		t.Fatalf("enrollment: %d %v", st, body)
	}
	token := body["token"].(string)

	ctx := context.Background()
	en, err := agent.Enroll(ctx, hubURL, token, nil)
	if err != nil {
		t.Fatal(err)
	}
	if en.Site != site || en.Room != "r9" || en.Credentials.Username != "agent/"+site+"/r9" || en.Credentials.Broker != e.hub.BrokerURL() {
		t.Fatalf("enrolled %+v", en)
	}
	credFile := filepath.Join(e.dir, "r9.yaml")
	if err := agent.WriteCredentials(credFile, en); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(credFile); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("credentials file: %v, %v", fi, err)
	}

	// The token is spent.
	if _, err := agent.Enroll(ctx, hubURL, token, nil); err == nil || !strings.Contains(err.Error(), "used") {
		t.Fatalf("second use: %v", err)
	}
	// An expired token.
	now := time.Now()
	if err := e.hub.Store().PutEnrollment(ctx, store.Enrollment{TokenHash: auth.HashSecret("old-token"), Site: site, Room: "r9",
		Created: now.Add(-2 * time.Hour), Expires: now.Add(-time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if _, err := agent.Enroll(ctx, hubURL, "old-token", nil); err == nil || !strings.Contains(err.Error(), "expired") {
		t.Fatalf("expired token: %v", err)
	}
	// Wrong tokens: refused, then the address is held off.
	limited := false
	for i := 0; i < 6 && !limited; i++ {
		_, err := agent.Enroll(ctx, hubURL, "wrong-token", nil)
		if err == nil {
			t.Fatal("a wrong token enrolled")
		}
		limited = strings.Contains(err.Error(), "429")
	}
	if !limited {
		t.Fatal("no rate limit after repeated failed enrollments")
	}

	// The agent runs with the file and without a room config, as `agent --credentials FILE`
	// does: it takes its room from its user name and its devices from the hub's config.
	a := runEnrolledAgent(t, credFile)
	testutil.Eventually(t, 10*time.Second, "the enrolled room online with its device reachable", func() bool {
		d := e.device(tech, "r9", "screen")
		return e.roomOnline(tech, "r9") && d != nil && d["reachable"] == true
	})
	if st, body := e.command(e.login("judge"), "r9", "screen", "power", map[string]any{"on": true}); st != 200 {
		t.Fatalf("command to the enrolled room: %d %v", st, body)
	}
	testutil.Eventually(t, 5*time.Second, "the agent keeps the pushed config", func() bool {
		_, err := os.Stat(agent.ConfigCacheFor(credFile))
		return err == nil && a.ConfigStatus().Revision == 1
	})
}
