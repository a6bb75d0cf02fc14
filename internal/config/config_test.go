package config_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/bailiff/bailiff/internal/config"
)

// goodRoom is a valid room config; the bad cases below edit it.
const goodRoom = `site: demo-court
room: courtroom-1
kind: tech-courtroom
name: Courtroom 1
devices:
  - id: projector
    driver: pjlink
    address: 10.0.0.5
    options:
      password: secret
  - id: display-left
    driver: pjlink
    address: 10.0.0.6:4353
    poll: 30s
`

func errLines(err error) []string {
	if err == nil {
		return nil
	}
	return strings.Split(err.Error(), "\n")
}

func checkErr(t *testing.T, err error, want []string) {
	t.Helper()
	got := errLines(err)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("errors:\n got: %s\nwant: %s", strings.Join(got, "\n      "), strings.Join(want, "\n      "))
	}
	if err != nil {
		var errs config.Errors
		if !errors.As(err, &errs) {
			t.Errorf("error %T is not a config.Errors", err)
		}
	}
}

func TestParseRoomGood(t *testing.T) {
	r, err := config.ParseRoom("rooms/courtroom-1.yaml", []byte(goodRoom))
	if err != nil {
		t.Fatal(err)
	}
	want := &config.Room{
		Site: "demo-court", Room: "courtroom-1", Kind: config.KindTechCourtroom, Name: "Courtroom 1",
		Poll: config.Duration(10 * time.Second), Timeout: config.Duration(5 * time.Second),
		Devices: []config.Device{
			{ID: "projector", Driver: "pjlink", Address: "10.0.0.5", Options: map[string]string{"password": "secret"}},
			{ID: "display-left", Driver: "pjlink", Address: "10.0.0.6:4353", Poll: config.Duration(30 * time.Second)},
		},
		File: "rooms/courtroom-1.yaml",
	}
	if !reflect.DeepEqual(r, want) {
		t.Errorf("got  %+v\nwant %+v", r, want)
	}
	if got := r.DevicePoll(r.Devices[0]); got != 10*time.Second {
		t.Errorf("DevicePoll(projector) = %v, want the room's 10s", got)
	}
	if got := r.DevicePoll(r.Devices[1]); got != 30*time.Second {
		t.Errorf("DevicePoll(display-left) = %v, want its own 30s", got)
	}
	if d, ok := r.Device("display-left"); !ok || d != &r.Devices[1] {
		t.Errorf("Device(display-left) = %v, %v", d, ok)
	}
	if _, ok := r.Device("nope"); ok {
		t.Error("Device(nope) found")
	}
	if err := r.Validate(); err != nil {
		t.Errorf("Validate: %v", err)
	}
}

func TestParseRoomErrors(t *testing.T) {
	const f = "rooms/courtroom-1.yaml"
	known := strings.Join(config.DriverNames(), ", ")
	edit := func(old, new string) string {
		if !strings.Contains(goodRoom, old) {
			panic("no " + old)
		}
		return strings.Replace(goodRoom, old, new, 1)
	}
	tests := []struct {
		name, yaml string
		want       []string
	}{
		{"unknown key", edit("name: Courtroom 1", "name: Courtroom 1\ncolour: blue"),
			[]string{f + ":5: colour: unknown key; known keys: site, room, kind, name, poll, command_timeout, devices, scenes, queue, media"}},
		{"unknown key suggestion", edit("    address: 10.0.0.5\n", "    adress: 10.0.0.5\n"),
			[]string{f + ":6: devices[0].address: required (host, or host:port; the port defaults to 4352)",
				f + `:8: devices[0].adress: unknown key; did you mean "address"?`}},
		{"bad type", edit("kind: tech-courtroom", "kind: [tech-courtroom]"),
			[]string{f + ":3: kind: want a string, got a list"}},
		{"bad type list", edit("devices:\n", "devices: projector\nx:\n"),
			[]string{f + ":5: devices: want a list, got a string", f + `:6: x: unknown key; known keys: site, room, kind, name, poll, command_timeout, devices, scenes, queue, media`}},
		{"bad duration", edit("name: Courtroom 1", "name: Courtroom 1\npoll: often"),
			[]string{f + `:5: poll: "often": not a duration`}},
		{"duration without unit", edit("poll: 30s", "poll: 30"),
			[]string{f + `:14: devices[1].poll: "30": not a duration: missing unit (e.g. "5s", "250ms", "2m")`}},
		{"duration out of range", edit("name: Courtroom 1", "name: Courtroom 1\ncommand_timeout: 2m"),
			[]string{f + ":5: command_timeout: must be between 100ms and 1m, got 2m"}},
		{"device poll out of range", edit("poll: 30s", "poll: 500ms"),
			[]string{f + ":14: devices[1].poll: must be 0 (the room's poll) or between 1s and 1h, got 500ms"}},
		{"missing port", edit("10.0.0.6:4353", `"10.0.0.6:"`),
			[]string{f + `:13: devices[1].address: "10.0.0.6:": missing port`}},
		{"bad port", edit("10.0.0.6:4353", `10.0.0.6:70000`),
			[]string{f + `:13: devices[1].address: "10.0.0.6:70000": port 70000 out of range 1-65535`}},
		{"address is a URL", edit("10.0.0.6:4353", `http://10.0.0.6:4353`),
			[]string{f + `:13: devices[1].address: "http://10.0.0.6:4353": want host or host:port, not a URL`}},
		{"missing address", edit("    address: 10.0.0.6:4353\n", ""),
			[]string{f + ":11: devices[1].address: required (host, or host:port; the port defaults to 4352)"}},
		{"bad site id", edit("site: demo-court", "site: Demo_Court"),
			[]string{f + `:1: site: invalid site ID "Demo_Court": want 1-63 characters of a-z, 0-9 and '-', not starting with '-'`}},
		{"bad device id", edit("id: projector", "id: -projector"),
			[]string{f + `:6: devices[0].id: invalid device ID "-projector": want 1-63 characters of a-z, 0-9 and '-', not starting with '-'`}},
		{"missing room", edit("room: courtroom-1\n", ""),
			[]string{f + ": room: required"}},
		{"unknown kind", edit("kind: tech-courtroom", "kind: courtroom"),
			[]string{f + `:3: kind: unknown kind "courtroom" (did you mean "tech-courtroom"?); want one of tech-courtroom, remote-interrogation, visitor-reception, command-center, litigation-hall`}},
		{"name too long", edit("name: Courtroom 1", "name: "+strings.Repeat("x", 201)),
			[]string{f + ":4: name: too long: 201 characters, at most 200"}},
		{"unknown driver", edit("driver: pjlink\n    address: 10.0.0.5", "driver: pjlnk\n    address: 10.0.0.5"),
			[]string{f + `:7: devices[0].driver: unknown driver "pjlnk" (did you mean "pjlink"?); known drivers: ` + known}},
		{"unknown option", edit("password: secret", "password: secret\n      passwd: secret"),
			[]string{f + `:11: devices[0].options.passwd: unknown option for driver pjlink; did you mean "password"?`}},
		{"duplicate device id", edit("id: display-left", "id: projector"),
			[]string{f + `:11: devices[1].id: duplicate device ID "projector" (also devices[0])`}},
		{"duplicate key", edit("name: Courtroom 1", "name: Courtroom 1\nname: Courtroom 2"),
			[]string{f + ":5: name: duplicate key (first at line 4)"}},
		{"yaml syntax", edit("room: courtroom-1", "room: courtroom-1\n  kind: x"),
			[]string{f + ":3: invalid YAML: mapping values are not allowed in this context"}},
		{"not a mapping", "- a\n- b\n",
			[]string{f + ":1: want a mapping of keys at the top level, got a list"}},
		{"two documents", goodRoom + "---\nsite: x\n",
			[]string{f + ":15: invalid YAML: more than one YAML document; a config file holds one"}},
		{"device not a mapping", edit("devices:\n", "devices:\n  - projector\n"),
			[]string{f + ":6: devices[0]: want a mapping, got a string"}},
		{"merge key", "base: &b {id: x}\n" + goodRoom,
			[]string{f + `:1: base: unknown key; known keys: site, room, kind, name, poll, command_timeout, devices, scenes, queue, media`}},
		{"many errors at once", `site: Demo
room: ""
kind: tech-courtroom
name: Courtroom 1
devices:
  - id: projector
    driver: pjlink
    address: "10.0.0.5:"
  - id: projector
    driver: teleporter
`, []string{
			f + ":1: site: invalid site ID \"Demo\": want 1-63 characters of a-z, 0-9 and '-', not starting with '-'",
			f + ":2: room: required",
			f + `:8: devices[0].address: "10.0.0.5:": missing port`,
			f + `:9: devices[1].id: duplicate device ID "projector" (also devices[0])`,
			f + `:10: devices[1].driver: unknown driver "teleporter"; known drivers: ` + known,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := config.ParseRoom(f, []byte(tt.yaml))
			if r != nil {
				t.Errorf("got a room with errors")
			}
			checkErr(t, err, tt.want)
		})
	}
}
