package api

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/bailiff/bailiff/internal/hub/audit"
	"github.com/bailiff/bailiff/internal/hub/auth"
	"github.com/bailiff/bailiff/internal/store"
	"github.com/bailiff/bailiff/internal/wire"
)

// A command to a room whose agent is offline ends at once, unsent, and the audit log has it
// with that outcome, like every command (it used to leave no trace).
func TestCommandToOfflineRoomAudited(t *testing.T) {
	f := newOAFixture(t)
	now := time.Now().UTC().Format(time.RFC3339Nano)
	f.reg.Handle(wire.RoomTopic(oaSite, oaRoom, wire.KindAgent),
		[]byte(`{"online":false,"agent":"agent/demo-court/courtroom-1","version":"test","seq":8,"at":"`+now+`"}`))
	tech := f.tokens[auth.RoleTechnician]
	w := f.do("POST", "/api/v1/rooms/"+oaSite+"/"+oaRoom+"/devices/"+oaDevice+"/commands", tech, "application/json", `{"action":"power","args":{"on":true}}`)
	if w.Code != 502 || !strings.Contains(w.Body.String(), `"unreachable"`) {
		t.Fatalf("command to an offline room: %d %s", w.Code, w.Body)
	}
	entries, err := f.store.Audit(context.Background(), store.AuditFilter{Action: audit.Command, Target: oaSite + "/" + oaRoom})
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Result != wire.CodeUnreachable || entries[0].Target != oaSite+"/"+oaRoom+"/"+oaDevice ||
		entries[0].User != auth.RoleTechnician || !strings.Contains(entries[0].Detail, `"sent":false`) {
		t.Fatalf("audit entries %+v, want the one command, unreachable and not sent", entries)
	}
}
