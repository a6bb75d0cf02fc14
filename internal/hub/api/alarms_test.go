package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bailiff/bailiff/internal/hub/alarms"
	"github.com/bailiff/bailiff/internal/hub/auth"
	"github.com/bailiff/bailiff/internal/hub/registry"
	"github.com/bailiff/bailiff/internal/store"
	"github.com/bailiff/bailiff/internal/wire"
)

// oaAlarms is the real alarm service over a real store, following the fixture's registry.
type oaAlarms struct{ s *alarms.Service }

func newOAAlarms(t testing.TB, reg *registry.Registry, feed *registry.Feed) oaAlarms {
	t.Helper()
	st, err := store.Open(filepath.Join(t.TempDir(), "hub.db"))
	if err != nil {
		t.Fatal(err)
	}
	s, err := alarms.New(alarms.Config{Store: st, Rooms: reg, Feed: feed, LampHours: 2000})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); s.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done; st.Close() })
	return oaAlarms{s}
}

func (a oaAlarms) List(ctx context.Context, activeOnly bool) (any, error) {
	return a.s.List(ctx, activeOnly)
}

func (a oaAlarms) Ack(ctx context.Context, id int64, by string) (any, error) {
	v, err := a.s.Ack(ctx, id, by)
	if errors.Is(err, alarms.ErrNotFound) {
		return nil, fmt.Errorf("%w: %v", ErrNotFound, err)
	}
	return v, err
}

// TestOpenAPIAlarms: a device's lamp passes the threshold; the alarm shows in the list, is
// acknowledged by a monitor (not a visitor), and the answers fit the spec.
func TestOpenAPIAlarms(t *testing.T) {
	f := newOAFixture(t)
	now := time.Now().UTC().Format(time.RFC3339Nano)
	f.reg.Handle(wire.DeviceTopic(oaSite, oaRoom, oaDevice, wire.KindState),
		[]byte(`{"reachable":true,"state":{"power":"on","lamps":[{"hours":2150,"on":true}]},"at":"`+now+`"}`))
	var id float64
	deadline := time.Now().Add(5 * time.Second)
	for id == 0 {
		w := f.do("GET", "/api/v1/alarms?active=1", f.tokens[auth.RoleMonitor], "", "")
		list, _ := f.checkResponse(t, "GET", "/api/v1/alarms", w).([]any)
		for _, a := range list {
			if m := a.(map[string]any); m["kind"] == alarms.LampHours && m["device"] == oaDevice {
				id = m["id"].(float64)
				if !strings.Contains(m["message"].(string), "2150") {
					t.Errorf("message %q", m["message"])
				}
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no lamp-hours alarm: %v", list)
		}
		time.Sleep(10 * time.Millisecond)
	}
	ack := "/api/v1/alarms/" + strconv.FormatInt(int64(id), 10) + "/ack"
	if w := f.do("POST", ack, f.tokens[auth.RoleVisitor], "", ""); w.Code != http.StatusForbidden {
		t.Fatalf("visitor ack: %d", w.Code)
	}
	w := f.do("POST", ack, f.tokens[auth.RoleMonitor], "", "")
	if w.Code != 200 {
		t.Fatalf("ack: %d %s", w.Code, w.Body)
	}
	body := f.checkResponse(t, "POST", "/api/v1/alarms/{id}/ack", w).(map[string]any)
	if body["acked_by"] != auth.RoleMonitor || body["active"] != true {
		t.Fatalf("acked: %v", body)
	}
	for path, want := range map[string]int{"/api/v1/alarms/99/ack": 404, "/api/v1/alarms/x/ack": 400} {
		w := f.do("POST", path, f.tokens[auth.RoleTechnician], "", "")
		if w.Code != want {
			t.Fatalf("%s: %d, want %d", path, w.Code, want)
		}
		f.checkResponse(t, "POST", "/api/v1/alarms/{id}/ack", w)
	}
	if w := f.do("GET", "/api/v1/alarms?active=maybe", f.tokens[auth.RoleTechnician], "", ""); w.Code != 400 {
		t.Fatalf("active=maybe: %d", w.Code)
	}
	// The lamp is replaced: the alarm clears by itself.
	f.reg.Handle(wire.DeviceTopic(oaSite, oaRoom, oaDevice, wire.KindState),
		[]byte(`{"reachable":true,"state":{"power":"on","lamps":[{"hours":3,"on":true}]},"at":"`+time.Now().UTC().Format(time.RFC3339Nano)+`"}`))
	deadline = time.Now().Add(5 * time.Second)
	for {
		w := f.do("GET", "/api/v1/alarms?active=1", f.tokens[auth.RoleTechnician], "", "")
		if !strings.Contains(w.Body.String(), alarms.LampHours) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("lamp-hours alarm still active: %s", w.Body)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
