package broker

import (
	"strings"
	"testing"
)

func TestAllowed(t *testing.T) {
	agent := IdentityOf("agent/court/r1")
	obs := IdentityOf("observer")
	hub := IdentityOf("hub")
	tests := []struct {
		id    Identity
		topic string
		write bool
		want  bool
	}{
		{agent, "bailiff/v1/court/r1/agent", true, true},
		{agent, "bailiff/v1/court/r1/meter", true, true},
		{agent, "bailiff/v1/court/r1/d/proj/state", true, true},
		{agent, "bailiff/v1/court/r1/d/proj/ack", true, true},
		{agent, "bailiff/v1/court/r1/d/proj/event", true, true},
		{agent, "bailiff/v1/court/r1/d/proj/cmd", true, false},   // only the hub sends commands
		{agent, "bailiff/v1/court/r1/config", true, false},       // only the hub sets config
		{agent, "bailiff/v1/court/r2/d/proj/state", true, false}, // another room
		{agent, "bailiff/v1/court2/r1/agent", true, false},       // another site
		{agent, "bailiff/v1/court/r1/d/+/state", true, false},    // not a topic name
		{agent, "bailiff/v1/court/r1/d/proj/state", false, false},
		{agent, "bailiff/v1/court/r1/d/+/cmd", false, true},
		{agent, "bailiff/v1/court/r1/d/proj/cmd", false, true},
		{agent, "bailiff/v1/court/r1/config", false, true},
		{agent, "bailiff/v1/court/r2/d/+/cmd", false, false},
		{agent, "bailiff/v1/court/r1/d/#", false, false},
		{agent, "bailiff/v1/court/r1/#", false, false},
		{agent, "#", false, false},
		{agent, "bailiff/v1/court/r1/agent/x", true, false},
		{obs, "bailiff/#", false, true},
		{obs, "bailiff/v1/court/r1/d/+/state", false, true},
		{obs, "bailiff/v1/court/r1/d/p/cmd", true, false},
		{obs, "#", false, false},
		{obs, "$SYS/#", false, false},
		{hub, "bailiff/v1/court/r1/d/p/cmd", true, true},
		{Identity{}, "bailiff/#", false, false},
	}
	for _, tc := range tests {
		if got := Allowed(tc.id, tc.topic, tc.write); got != tc.want {
			t.Errorf("Allowed(%+v, %q, write=%v) = %v, want %v", tc.id, tc.topic, tc.write, got, tc.want)
		}
	}
}

func TestClientIDAllowed(t *testing.T) {
	tests := []struct {
		user, client string
		want         bool
	}{
		{"agent/court/r1", "agent/court/r1", true},
		{"agent/court/r1", "agent/court/r2", false},
		{"agent/court/r1", "x", false},
		{"hub", "hub/1234", true},
		{"hub", "agent/court/r1", false},
		{"observer", "mosquitto_sub-1", true},
		{"observer", "agent/court/r1", false},
		{"observer", "hub/1", false},
		{"agent:court/r1", "x", false},
	}
	for _, tc := range tests {
		if got := ClientIDAllowed(IdentityOf(tc.user), tc.user, tc.client); got != tc.want {
			t.Errorf("ClientIDAllowed(%q, %q) = %v", tc.user, tc.client, got)
		}
	}
	if !ReservedUser("hub") || !ReservedUser("agent/a/b") || ReservedUser("observer") {
		t.Error("ReservedUser")
	}
}

func TestMosquittoACL(t *testing.T) {
	got := MosquittoACL("hub", []string{"observer"}, [][2]string{{"court", "r2"}, {"court", "r1"}})
	for _, want := range []string{
		"user hub\ntopic readwrite bailiff/v1/#\ntopic readwrite bailiff/hubs/v1/#\n",
		"user observer\ntopic read bailiff/v1/#\n",
		"user agent/court/r1\ntopic write bailiff/v1/court/r1/agent\ntopic write bailiff/v1/court/r1/meter\ntopic write bailiff/v1/court/r1/d/+/state\ntopic write bailiff/v1/court/r1/d/+/ack\ntopic write bailiff/v1/court/r1/d/+/event\ntopic read bailiff/v1/court/r1/config\ntopic read bailiff/v1/court/r1/d/+/cmd\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("ACL lacks\n%s\nin\n%s", want, got)
		}
	}
	if strings.Index(got, "agent/court/r1") > strings.Index(got, "agent/court/r2") {
		t.Error("rooms not sorted")
	}
}
