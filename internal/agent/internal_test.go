package agent

import (
	"testing"
	"time"

	"github.com/eclipse/paho.mqtt.golang/packets"
)

func TestRecoverID(t *testing.T) {
	long := make([]byte, 129)
	for i := range long {
		long[i] = 'x'
	}
	for _, tc := range []struct{ in, want string }{
		{`{"id":"a1","action":"power"}`, "a1"},
		{`{"id":"a1","action":"power","args":{"on":tr`, "a1"},
		{`{"action":"power","args":{"id":"inner","x":[1,{"id":"deep"}]},"id":"outer"}`, "outer"},
		{`{"action":"power","args":{"on":tr`, ""},
		{`{"id":42}`, ""},
		{`{"id":""}`, ""},
		{`{"id":"` + string(long) + `"}`, ""},
		{`["id","a1"]`, ""},
		{`"id"`, ""},
		{`not json`, ""},
		{``, ""},
		{`{"id":"a1"} trailing`, "a1"},
		{`  {"by":"x","id":"sp ace"}`, "sp ace"},
	} {
		if got := recoverID([]byte(tc.in)); got != tc.want {
			t.Errorf("recoverID(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func FuzzRecoverID(f *testing.F) {
	for _, s := range []string{`{"id":"a1","action":"power"}`, `{"a":[{"id":1}],"id":"x"`, `{`, `[`, ``} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if id := recoverID(b); len(id) > 128 {
			t.Fatalf("id of %d bytes", len(id))
		}
	})
}

func TestSeqGen(t *testing.T) {
	now := time.UnixMilli(1_000_000)
	g := seqGen{now: func() time.Time { return now }}
	if s := g.next(); s != 1_000_000 {
		t.Fatalf("first seq %d, want the clock in ms", s)
	}
	if s := g.next(); s != 1_000_001 {
		t.Fatalf("second seq in the same ms %d, want +1", s)
	}
	now = now.Add(time.Minute)
	if s := g.next(); s != 1_060_000 {
		t.Fatalf("seq after a minute %d, want the clock", s)
	}
	now = now.Add(-time.Hour) // the clock goes back
	if s := g.next(); s != 1_060_001 || g.last() != s {
		t.Fatalf("seq after the clock went back %d, want 1060001", s)
	}
}

func TestWithDefaultPort(t *testing.T) {
	for _, tc := range []struct {
		in   string
		port int
		want string
	}{
		{"10.0.0.7", 4352, "10.0.0.7:4352"},
		{"proj.local:1234", 4352, "proj.local:1234"},
		{"fe80::1", 4352, "[fe80::1]:4352"},
		{"[fe80::1]", 4352, "[fe80::1]:4352"},
		{"[fe80::1]:9", 4352, "[fe80::1]:9"},
		{"/dev/ttyUSB0", 4352, "/dev/ttyUSB0"},
		{"COM3", 4352, "COM3"},
		{"host", 0, "host"},
		{"", 4352, ""},
	} {
		if got := withDefaultPort(tc.in, tc.port); got != tc.want {
			t.Errorf("withDefaultPort(%q, %d) = %q, want %q", tc.in, tc.port, got, tc.want)
		}
	}
}

func TestCopyStoreKeepsACopy(t *testing.T) {
	s := newCopyStore()
	s.Open()
	p := packets.NewControlPacket(packets.Publish).(*packets.PublishPacket)
	p.Qos, p.MessageID, p.TopicName = 1, 7, "t"
	s.Put("o.7", p)
	got := s.Get("o.7").(*packets.PublishPacket)
	if got == p {
		t.Fatal("store holds the published packet itself")
	}
	got.Dup = true
	if p.Dup || got.TopicName != "t" || got.MessageID != 7 {
		t.Fatalf("copy %+v / original %+v", got, p)
	}
}
