package alarms

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/bailiff/bailiff/internal/config"
	"github.com/bailiff/bailiff/internal/hub/registry"
	"github.com/bailiff/bailiff/internal/store"
)

type world struct {
	t    *testing.T
	st   *store.Store
	feed *registry.Feed
	reg  *registry.Registry
	s    *Service
	evs  <-chan registry.Event
	stop func()
}

func newWorld(t *testing.T, path string) *world {
	t.Helper()
	st, err := store.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	w := &world{t: t, st: st, feed: registry.NewFeed(256)}
	w.reg = registry.New(w.feed, nil)
	w.reg.SetRooms([]*config.Room{{Site: "s", Room: "r", Devices: []config.Device{{ID: "proj", Driver: "pjlink"}, {ID: "printer", Driver: "escpos"}}}})
	if w.s, err = New(Config{Store: st, Rooms: w.reg, Feed: w.feed, LampHours: 2000, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}); err != nil {
		t.Fatal(err)
	}
	w.evs, w.stop = w.feed.Subscribe()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); w.s.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done; w.stop(); st.Close() })
	return w
}

var tick = time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC)

func (w *world) agent(online bool) {
	tick = tick.Add(time.Second)
	w.reg.Handle("bailiff/v1/s/r/agent", []byte(`{"online":`+map[bool]string{true: "true", false: "false"}[online]+`,"agent":"a","version":"1","seq":1,"at":"`+tick.Format(time.RFC3339Nano)+`"}`))
}

func (w *world) state(dev, body string) {
	tick = tick.Add(time.Second)
	w.reg.Handle("bailiff/v1/s/r/d/"+dev+"/state", []byte(body[:len(body)-1]+`,"at":"`+tick.Format(time.RFC3339Nano)+`"}`))
}

// next waits for the next alarm event and returns its data.
func (w *world) next(kind, state string) map[string]any {
	w.t.Helper()
	timeout := time.After(5 * time.Second)
	for {
		select {
		case ev := <-w.evs:
			if ev.Type != "alarm" {
				continue
			}
			var d map[string]any
			json.Unmarshal(ev.Data, &d)
			if d["kind"] != kind || d["state"] != state {
				w.t.Fatalf("alarm event %v, want %s %s", d, kind, state)
			}
			return d
		case <-timeout:
			w.t.Fatalf("no alarm event %s %s", kind, state)
		}
	}
}

func TestConditionAlarms(t *testing.T) {
	w := newWorld(t, filepath.Join(t.TempDir(), "hub.db"))
	w.agent(true)
	w.state("proj", `{"reachable":true,"state":{"power":"on","lamps":[{"hours":1999,"on":true}]}}`)
	w.state("proj", `{"reachable":true,"state":{"power":"on","lamps":[{"hours":2001,"on":true}]}}`)
	if d := w.next(LampHours, "raised"); d["device"] != "proj" {
		t.Fatalf("lamp alarm %v", d)
	}
	w.state("proj", `{"reachable":true,"state":{"errors":{"lamp":"error"}},"error":"pjlink: projector reports errors in lamp (ERST 002000)"}`)
	w.next(DeviceError, "raised")
	w.next(LampHours, "cleared") // the fault's state has no lamp hours
	w.state("printer", `{"reachable":true,"state":{"paper":"out"},"error":"escpos: paper out"}`)
	if d := w.next(DeviceError, "raised"); d["device"] != "printer" || d["message"] != "escpos: paper out" {
		t.Fatalf("printer alarm %v", d)
	}
	w.state("printer", `{"reachable":false,"state":{"paper":"out"},"error":"dial: refused"}`)
	w.next(DeviceUnreachable, "raised") // the paper-out alarm stays: its state is stale now
	if n := w.s.Active(); n != 3 {
		t.Fatalf("%d active, want 3", n)
	}
	w.agent(false)
	w.next(AgentOffline, "raised")
	w.agent(true)
	w.next(AgentOffline, "cleared")
	w.state("printer", `{"reachable":true,"state":{"paper":"ok"}}`)
	w.next(DeviceUnreachable, "cleared")
	w.next(DeviceError, "cleared")

	// A restart of the hub finds the active alarms in the store.
	s2, err := New(Config{Store: w.st, Rooms: w.reg, Feed: registry.NewFeed(1)})
	if err != nil || s2.Active() != 1 {
		t.Fatalf("after restart: %d active, %v; want 1 (the projector's fault)", s2.Active(), err)
	}
}

func TestEventAlarmClearsOnAck(t *testing.T) {
	w := newWorld(t, filepath.Join(t.TempDir(), "hub.db"))
	w.s.Raise(RecordingFailed, "s", "r", "", "recording x stopped: no space left on device")
	d := w.next(RecordingFailed, "raised")
	w.s.Raise(RecordingFailed, "s", "r", "", "again")
	if w.s.Active() != 1 {
		t.Fatal("an active event alarm was raised twice")
	}
	v, err := w.s.Ack(context.Background(), int64(d["id"].(float64)), "tech")
	if err != nil {
		t.Fatal(err)
	}
	if av := v.(View); av.Active || av.AckedBy != "tech" || av.Cleared == nil {
		t.Fatalf("acked %+v", av)
	}
	w.next(RecordingFailed, "cleared")
	w.next(RecordingFailed, "acked")
	if _, err := w.s.Ack(context.Background(), 999, "tech"); err == nil {
		t.Fatal("ack of an unknown alarm")
	}
	list, _ := w.s.List(context.Background(), true)
	if len(list.([]View)) != 0 {
		t.Fatalf("active: %v", list)
	}
}

func TestLampHoursOf(t *testing.T) {
	for _, tc := range []struct {
		state string
		want  int
	}{
		{`{"lamps":[{"hours":12,"on":true},{"hours":3001,"on":false}]}`, 3001},
		{`{"lamps":[]}`, 0},
		{`{"lamps":"many"}`, 0},
		{`{"lamps":[{"hours":"x"}]}`, 0},
		{`{"lamps":[{"hours":1e300}]}`, 0},
		{`{}`, 0},
	} {
		var m map[string]any
		json.Unmarshal([]byte(tc.state), &m)
		if got := LampHoursOf(m); got != tc.want {
			t.Errorf("LampHoursOf(%s) = %d, want %d", tc.state, got, tc.want)
		}
	}
}
