package config

import (
	"encoding/json"
	"errors"
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
