package integration

import (
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bailiff/bailiff/drivers/pjlink/pjlinksim"
	"github.com/bailiff/bailiff/internal/testutil"
)

// activeAlarm returns the active alarm of kind for the device ("" for the room), or nil.
func (e *env) activeAlarm(token, room, device, kind string) map[string]any {
	e.t.Helper()
	st, body := e.call("GET", "/api/v1/alarms?active=1", token, nil)
	if st != 200 {
		e.t.Fatalf("alarms: %d %v", st, body)
	}
	list, _ := body["list"].([]any)
	for _, a := range list {
		m := a.(map[string]any)
		dev, _ := m["device"].(string)
		if m["room"] == room && dev == device && m["kind"] == kind {
			return m
		}
	}
	return nil
}

func (e *env) metric(name string) string {
	resp, err := http.Get(e.url("/metrics"))
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, name+" "); ok {
			return v
		}
	}
	return ""
}

// TestAlarms: a projector reports a lamp fault (PJLink ERST), another device disappears, the
// room's agent stops: each raises an alarm the API, the event stream and the metrics show, a
// monitor acknowledges one, and each clears when its condition ends.
func TestAlarms(t *testing.T) {
	e := newEnv(t, 1, false)
	mon := e.login("monitor")
	events := e.openEvents(mon)
	testutil.Eventually(t, 10*time.Second, "room online", func() bool { return e.roomOnline(mon, "r1") })

	proj, disp := e.sims["r1/projector"], e.sims["r1/display"]
	if err := proj.SetERST("020000"); err != nil {
		t.Fatal(err)
	}
	var fault map[string]any
	testutil.Eventually(t, 10*time.Second, "device-error alarm for the projector", func() bool {
		fault = e.activeAlarm(mon, "r1", "projector", "device-error")
		return fault != nil
	})
	if !strings.Contains(fault["message"].(string), "ERST") {
		t.Errorf("alarm message %q does not name the fault", fault["message"])
	}
	events.wait(t, 5*time.Second, "alarm event", func(typ string, d map[string]any) bool {
		return typ == "alarm" && d["kind"] == "device-error" && d["state"] == "raised" && d["device"] == "projector"
	})
	id := strconv.FormatInt(int64(fault["id"].(float64)), 10)
	if st, body := e.call("POST", "/api/v1/alarms/"+id+"/ack", e.login("judge"), nil); st != 403 {
		t.Fatalf("judge ack: %d %v", st, body)
	}
	if st, body := e.call("POST", "/api/v1/alarms/"+id+"/ack", mon, nil); st != 200 || body["acked_by"] != "monitor" {
		t.Fatalf("monitor ack: %d %v", st, body)
	}

	disp.Close()
	testutil.Eventually(t, 10*time.Second, "device-unreachable alarm for the display", func() bool {
		return e.activeAlarm(mon, "r1", "display", "device-unreachable") != nil
	})
	if g := e.metric("bailiff_alarms_active"); g != "2" {
		t.Errorf("bailiff_alarms_active = %q, want 2", g)
	}

	if err := proj.SetERST("000000"); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, 10*time.Second, "the projector's alarm clears", func() bool {
		return e.activeAlarm(mon, "r1", "projector", "device-error") == nil
	})
	e.stopAgent("r1")
	testutil.Eventually(t, 10*time.Second, "agent-offline alarm", func() bool {
		return e.activeAlarm(mon, "r1", "", "agent-offline") != nil
	})
	e.startAgent("r1")
	testutil.Eventually(t, 10*time.Second, "agent-offline clears", func() bool {
		return e.activeAlarm(mon, "r1", "", "agent-offline") == nil
	})
	// A projector with an old lamp, added by a config push: a lamp-hours alarm (the
	// threshold is hub.yaml's alarms.lamp_hours, 2000 by default).
	old := pjlinksim.New(pjlinksim.Config{LampHours: 2600})
	oldAddr, err := old.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { old.Close() })
	tech := e.login("tech")
	_, cfg := e.call("GET", "/api/v1/rooms/"+site+"/r1/config", tech, nil)
	// The new device goes first in the devices list, wherever that list stands in the file.
	text := strings.Replace(cfg["yaml"].(string), "devices:\n",
		"devices:\n  - id: old-projector\n    driver: pjlink\n    address: "+oldAddr+"\n", 1)
	if st, body := e.sendYAML("PUT", "/api/v1/rooms/"+site+"/r1/config", tech, text); st != 200 {
		t.Fatalf("push: %d %v", st, body)
	}
	testutil.Eventually(t, 10*time.Second, "lamp-hours alarm for the old projector", func() bool {
		a := e.activeAlarm(mon, "r1", "old-projector", "lamp-hours")
		return a != nil && strings.Contains(a["message"].(string), "2600")
	})

	// The history keeps the cleared alarm with its acknowledgement.
	st, body := e.call("GET", "/api/v1/alarms", mon, nil)
	found := false
	for _, a := range body["list"].([]any) {
		m := a.(map[string]any)
		if strconv.FormatInt(int64(m["id"].(float64)), 10) == id {
			found = m["active"] == false && m["cleared"] != nil && m["acked_by"] == "monitor"
		}
	}
	if st != 200 || !found {
		t.Fatalf("alarm %s not in the history as cleared and acknowledged: %v", id, body)
	}
}
