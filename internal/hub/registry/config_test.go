package registry

import (
	"testing"
)

// TestRebirthOrder: an agent publishes its birth again, with the same seq, when its config
// changes; handled out of order, the newer birth stands, and the will still counts.
func TestRebirthOrder(t *testing.T) {
	feed := NewFeed(16)
	r := New(feed, nil)
	const topic = "bailiff/v1/s/r/agent"
	newer := `{"online":true,"agent":"a","version":"1","seq":5,"at":"2026-11-29T10:00:01Z","config":{"revision":2}}`
	older := `{"online":true,"agent":"a","version":"1","seq":5,"at":"2026-11-29T10:00:00Z","config":{"revision":0}}`
	r.Handle(topic, []byte(newer))
	r.Handle(topic, []byte(older))
	v, _ := r.Room("s", "r")
	if v.Agent == nil || v.Agent.Config == nil || v.Agent.Config.Revision != 2 {
		t.Fatalf("agent = %+v, want the newer birth (config revision 2)", v.Agent)
	}
	r.Handle(topic, []byte(`{"online":false,"agent":"a","version":"1","seq":5,"at":"2026-11-29T09:59:59Z"}`))
	if r.Online("s", "r") {
		t.Fatal("the will of the same connection was ignored")
	}
}
