package registry

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/bailiff/bailiff/internal/config"
)

func drain(ch <-chan Event) []Event {
	var out []Event
	for {
		select {
		case ev, ok := <-ch:
			if !ok {
				return out
			}
			out = append(out, ev)
		default:
			return out
		}
	}
}

func TestRegistry(t *testing.T) {
	feed := NewFeed(64)
	r := New(feed, nil)
	r.SetRooms([]*config.Room{{Site: "s", Room: "r", Kind: "tech-courtroom", Name: "R",
		Devices: []config.Device{{ID: "proj", Driver: "pjlink"}, {ID: "disp", Driver: "pjlink"}}}})
	ch, stop := feed.Subscribe()
	defer stop()

	if known, dev := r.HasDevice("s", "r", "proj"); !known || !dev {
		t.Fatal("configured device unknown")
	}
	if _, dev := r.HasDevice("s", "r", "coffee"); dev {
		t.Fatal("unknown device known")
	}
	if online, unreachable := r.Counts(); online != 0 || unreachable != 2 {
		t.Fatalf("counts = %d, %d", online, unreachable)
	}

	r.Handle("bailiff/v1/s/r/agent", []byte(`{"online":true,"agent":"a","version":"1","seq":5,"at":"2026-11-29T10:00:00Z"}`))
	r.Handle("bailiff/v1/s/r/d/proj/state", []byte(`{"reachable":true,"state":{"power":"on"},"at":"2026-11-29T10:00:00Z"}`))
	// Garbage changes nothing.
	r.Handle("bailiff/v1/s/r/d/proj/state", []byte(`{"reachable":false`))
	r.Handle("bailiff/v1/s/r/d/proj/bogus", []byte(`{}`))
	r.Handle("bailiff/v1/s/r/d/proj/event", []byte(`{"no":"type"}`))
	if r.BadMessages() != 3 {
		t.Errorf("bad messages = %d", r.BadMessages())
	}
	v, ok := r.Room("s", "r")
	if !ok || !v.Online || v.Devices[1].ID != "proj" || !v.Devices[1].Reachable || v.Devices[1].State["power"] != "on" {
		t.Fatalf("room = %+v", v)
	}
	if online, unreachable := r.Counts(); online != 1 || unreachable != 1 {
		t.Fatalf("counts = %d, %d", online, unreachable)
	}
	// A will of an older connection after a newer birth is stale: ignored, and the newer
	// status is put back as the retained one.
	var restored string
	r.Restore = func(topic string, p []byte) { restored = topic + " " + string(p) }
	r.Handle("bailiff/v1/s/r/agent", []byte(`{"online":false,"agent":"a","version":"1","seq":4,"at":"2026-11-29T10:00:00Z"}`))
	if v, _ := r.Room("s", "r"); !v.Online {
		t.Fatal("stale will took the room offline")
	}
	if !strings.HasPrefix(restored, "bailiff/v1/s/r/agent {") || !strings.Contains(restored, `"seq":5`) {
		t.Errorf("restored %q", restored)
	}
	// An older state arriving late changes nothing.
	r.Handle("bailiff/v1/s/r/d/proj/state", []byte(`{"reachable":true,"state":{"power":"off"},"at":"2026-11-29T09:59:00Z"}`))
	if v, _ := r.Room("s", "r"); v.Devices[1].State["power"] != "on" {
		t.Fatal("an older state replaced a newer one")
	}
	// The device is lost (internal/hub/alarms raises the alarms from these events).
	r.Handle("bailiff/v1/s/r/d/proj/state", []byte(`{"reachable":false,"state":{},"error":"dial: refused","at":"2026-11-29T10:00:01Z"}`))
	// The agent's own will: offline, devices shown unreachable.
	r.Handle("bailiff/v1/s/r/agent", []byte(`{"online":false,"agent":"a","version":"1","seq":5,"at":"2026-11-29T10:00:02Z"}`))
	v, _ = r.Room("s", "r")
	if v.Online || v.Devices[1].Reachable {
		t.Fatalf("after will: %+v", v)
	}
	var last map[string]any
	for _, ev := range drain(ch) {
		if ev.Type == "alarm" {
			t.Errorf("the registry sent an alarm event: %s", ev.Data)
		}
		if ev.Type == "agent" {
			json.Unmarshal(ev.Data, &last)
		}
	}
	if last == nil || last["online"] != false {
		t.Errorf("no agent event of the will: %v", last)
	}
	// Rooms only an agent told of are listed, unconfigured.
	r.Handle("bailiff/v1/s/x/d/cam/state", []byte(`{"reachable":true,"state":{},"at":"2026-11-29T10:00:00Z"}`))
	rooms := r.Rooms()
	if len(rooms) != 2 || rooms[1].Room != "x" || rooms[1].Configured {
		t.Errorf("rooms = %+v", rooms)
	}
}

func TestFeedDropsSlowSubscriber(t *testing.T) {
	f := NewFeed(2)
	slow, _ := f.Subscribe()
	fast, stopFast := f.Subscribe()
	defer stopFast()
	done := make(chan int)
	go func() {
		n := 0
		for range fast {
			n++
			if n == 5 {
				done <- n
				return
			}
		}
	}()
	for i := 0; i < 5; i++ {
		f.Publish("state", i)
		time.Sleep(time.Millisecond)
	}
	select {
	case <-done:
	case <-time.After(2 * time.Second):
		t.Fatal("the fast subscriber was held up")
	}
	got := drain(slow)
	if len(got) != 2 || f.Dropped() != 1 {
		t.Errorf("slow got %d events, dropped %d", len(got), f.Dropped())
	}
	if _, ok := <-slow; ok {
		t.Error("slow subscriber's channel not closed")
	}
}

// BenchmarkHandleState is the hub's work for one state message from an agent.
func BenchmarkHandleState(b *testing.B) {
	r := New(NewFeed(16), nil)
	r.SetRooms([]*config.Room{{Site: "s", Room: "r", Devices: []config.Device{{ID: "proj", Driver: "pjlink"}}}})
	ch, stop := r.feed.Subscribe()
	defer stop()
	go func() {
		for range ch {
		}
	}()
	msgs := [][]byte{
		[]byte(`{"reachable":true,"state":{"power":"on","lamp":1200},"at":"2026-11-29T10:00:00Z"}`),
		[]byte(`{"reachable":true,"state":{"power":"off","lamp":1200},"at":"2026-11-29T10:00:01Z"}`),
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		r.Handle("bailiff/v1/s/r/d/proj/state", msgs[i&1])
		i++
	}
}
