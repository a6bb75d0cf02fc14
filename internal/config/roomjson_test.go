package config

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestParseRoomJSONRoundTrip(t *testing.T) {
	yml := "site: s\nroom: r\nkind: tech-courtroom\nname: Room\npoll: 2s\ndevices:\n  - id: p\n    driver: pjlink\n    address: 10.0.0.5\n    options: {password: x}\n  - id: d\n    driver: pjlink\n    address: 10.0.0.6:4352\n    poll: 5s\n"
	r, err := ParseRoom("r.yaml", []byte(yml))
	if err != nil {
		t.Fatal(err)
	}
	r.Revision = 4
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	got, err := ParseRoomJSON("pushed", b)
	if err != nil {
		t.Fatal(err)
	}
	got.File, r.File = "", ""
	if !reflect.DeepEqual(got, r) {
		t.Fatalf("JSON round trip:\n got %+v\nwant %+v", got, r)
	}
	y, err := RoomYAML(r)
	if err != nil {
		t.Fatal(err)
	}
	again, err := ParseRoom("again.yaml", y)
	if err != nil {
		t.Fatalf("RoomYAML does not parse back: %v\n%s", err, y)
	}
	again.File, again.Revision = "", 4
	if !reflect.DeepEqual(again, r) {
		t.Fatalf("YAML round trip:\n got %+v\nwant %+v", again, r)
	}
}

func TestParseRoomJSONErrors(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`{"site":"s","room":"r","kind":"tech-courtroom","name":"R","colour":1}`, `unknown field "colour"`},
		{`{"site":"s","room":"r","kind":"tech-courtroom","name":"R"} {}`, "data after the JSON object"},
		{`{"site":"s","room":"r","kind":"tech-courtroom","name":"R","poll":"fast"}`, "duration"},
		{`{"site":"s","room":"r","kind":"tech-courtroom","name":"R","devices":[{"id":"p","driver":"pjlink"}]}`, "devices[0].address"},
		{`{"site":"s","room":"r","kind":"tech-courtroom","name":"R","devices":[{"id":"p","driver":"nope","address":"h"}]}`, "unknown driver"},
		{`[]`, "not a room config"},
	} {
		_, err := ParseRoomJSON("pushed", []byte(tc.in))
		var es Errors
		if !errors.As(err, &es) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseRoomJSON(%s) = %v, want an Errors with %q", tc.in, err, tc.want)
		}
	}
	r, err := ParseRoomJSON("pushed", []byte(`{"site":"s","room":"r","kind":"tech-courtroom","name":"R"}`))
	if err != nil || r.Poll.D() != 10*time.Second || r.Timeout.D() != 5*time.Second {
		t.Fatalf("defaults: %+v %v", r, err)
	}
}

func TestHubAlarmsAndAgentURL(t *testing.T) {
	h, err := ParseHub("hub.yaml", []byte("alarms:\n  lamp_hours: 2500\nmqtt:\n  agent_url: tcp://hub.court.example:1883\n"), nil)
	if err != nil || h.Alarms.LampHours != 2500 || h.MQTT.AgentURL != "tcp://hub.court.example:1883" {
		t.Fatalf("ParseHub = %+v, %v", h, err)
	}
	h, err = ParseHub("hub.yaml", nil, []string{"BAILIFF_ALARMS_LAMP_HOURS=1500"})
	if err != nil || h.Alarms.LampHours != 1500 {
		t.Fatalf("from env: %+v, %v", h.Alarms, err)
	}
	if h, _ := ParseHub("hub.yaml", []byte("log:\n  level: info\n"), nil); h == nil || h.Alarms.LampHours != DefaultLampHours {
		t.Fatalf("default lamp hours: %+v", h)
	}
	for _, tc := range []struct {
		yaml string
		env  []string
		want string
	}{
		{"alarms:\n  lamp_hours: many\n", nil, "hub.yaml:2: alarms.lamp_hours: want a whole number"},
		{"alarms:\n  lamp_hours: 0\n", nil, "alarms.lamp_hours: must be between 1 and 100000"},
		{"alarms:\n  lamp_hours: [1]\n", nil, "want a whole number, got a list"},
		{"", []string{"BAILIFF_ALARMS_LAMP_HOURS=x"}, "env BAILIFF_ALARMS_LAMP_HOURS: want a whole number"},
		{"mqtt:\n  agent_url: ftp://x\n", nil, "mqtt.agent_url"},
	} {
		_, err := ParseHub("hub.yaml", []byte(tc.yaml), tc.env)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q %v: %v, want %q", tc.yaml, tc.env, err, tc.want)
		}
	}
}

// BenchmarkParseRoomJSON is the agent's check of a pushed config of 24 devices.
func BenchmarkParseRoomJSON(b *testing.B) {
	r := &Room{Site: "demo-court", Room: "courtroom-1", Kind: KindTechCourtroom, Name: "Courtroom 1",
		Poll: Duration(10 * time.Second), Timeout: Duration(5 * time.Second), Revision: 7}
	for i := 0; i < 24; i++ {
		r.Devices = append(r.Devices, Device{ID: fmt.Sprintf("projector-%d", i), Driver: "pjlink", Name: "Projector",
			Address: fmt.Sprintf("10.20.1.%d", i+10), Options: map[string]string{"password": "JBMIAProjectorLink"}})
	}
	data, err := json.Marshal(r)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseRoomJSON("pushed", data); err != nil {
			b.Fatal(err)
		}
	}
}
