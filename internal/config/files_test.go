package config_test

import (
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/bailiff/bailiff/internal/config"
)

// writeFiles creates files (name → content) under a new temporary directory.
func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func room(id, extra string) string {
	return "site: demo-court\nroom: " + id + "\nkind: command-center\nname: Room " + id + "\n" + extra
}

func TestLoadRooms(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"b.yml":        room("b", ""),
		"a.yaml":       room("a", "devices:\n  - {id: wall-1, driver: pjlink, address: wall-1.local}\n"),
		"notes.txt":    "not a config",
		".hidden.yaml": "garbage: [",
		"sub/c.yaml":   "garbage: [",
	})
	rooms, err := config.LoadRooms(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(rooms) != 2 || rooms[0].Room != "a" || rooms[1].Room != "b" {
		t.Fatalf("rooms: %+v", rooms)
	}
	if rooms[0].File != filepath.Join(dir, "a.yaml") {
		t.Errorf("File = %q", rooms[0].File)
	}
}

func TestLoadRoomsErrors(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"a.yaml": room("courtroom-1", ""),
		"b.yaml": "# the same room again\n" + room("courtroom-1", ""),
		"c.yaml": room("c", "devices:\n  - id: x\n    driver: pjlink\n    address: \"h:\"\n"),
		"d.yaml": room("d", "poll: soon\n"),
		"e.yaml": room("e", ""),
	})
	a, b, c, d := filepath.Join(dir, "a.yaml"), filepath.Join(dir, "b.yaml"), filepath.Join(dir, "c.yaml"), filepath.Join(dir, "d.yaml")
	rooms, err := config.LoadRooms(dir)
	checkErr(t, err, []string{
		b + ":3: room: room demo-court/courtroom-1 is already defined in " + a,
		c + `:8: devices[0].address: "h:": missing port`,
		d + `:5: poll: "soon": not a duration`,
	})
	if len(rooms) != 2 || rooms[0].Room != "courtroom-1" || rooms[1].Room != "e" {
		t.Errorf("the rooms that loaded cleanly: %+v", rooms)
	}

	if _, err := config.LoadRooms(filepath.Join(dir, "missing")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing dir: %v", err)
	}
}

func TestValidateFile(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"hub.yaml":                  "http:\n  listen: 127.0.0.1:8080\nrooms: ./rooms\n",
		"rooms/a.yaml":              room("a", ""),
		"bad/hub.yaml":              "log:\n  level: loud\nrooms: r\n",
		"bad/r/x.yaml":              room("x", "colour: red\n"),
		"bad/r/y.yaml":              room("x", ""),
		"nodir/hub.yaml":            "data: d\nrooms: nowhere\n",
		"room.yaml":                 room("z", "devices:\n  - {id: p, driver: pjlink, address: p.local, poll: 2h}\n"),
		"empty.yaml":                "# nothing\n",
		"other.yaml":                "apiVersion: v1\nmetadata: {}\n",
		"defaultrooms/hub.yaml":     "log:\n  level: info\n",
		"defaultrooms/rooms/a.yaml": room("a", ""),
	})
	p := func(s string) string { return filepath.Join(dir, s) }
	tests := []struct {
		file string
		want []string
	}{
		{"hub.yaml", nil},
		{"rooms/a.yaml", nil},
		{"defaultrooms/hub.yaml", nil},
		{"bad/hub.yaml", []string{
			p("bad/hub.yaml") + `:2: log.level: unknown level "loud"; want one of debug, info, warn, error`,
			p("bad/r/x.yaml") + `:5: colour: unknown key; known keys: site, room, kind, name, poll, command_timeout, devices, scenes, queue, media`,
		}},
		{"nodir/hub.yaml", []string{p("nodir/hub.yaml") + `:2: rooms: directory "` + p("nodir/nowhere") + `" does not exist`}},
		{"room.yaml", []string{p("room.yaml") + ":6: devices[0].poll: must be 0 (the room's poll) or between 1s and 1h, got 2h"}},
		{"empty.yaml", []string{p("empty.yaml") + ": empty config: nothing to validate"}},
		{"other.yaml", []string{p("other.yaml") + ":1: neither a hub config nor a room config: want top-level keys site/room/devices (room) or http/mqtt/data/rooms/commands/log/alarms/media (hub), got apiVersion, metadata"}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			checkErr(t, config.ValidateFile(p(tt.file)), tt.want)
		})
	}
	if err := config.ValidateFile(p("missing.yaml")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}

func TestLoadHubAndRoom(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"hub.yaml":  "data: state\nmqtt:\n  external:\n    url: ssl://b:8883\n    password_file: pw\n",
		"pw":        "s3cret\n",
		"room.yaml": room("r", ""),
	})
	h, err := config.LoadHub(filepath.Join(dir, "hub.yaml"), []string{"BAILIFF_LOG_LEVEL=error"})
	if err != nil {
		t.Fatal(err)
	}
	if h.DataDir() != filepath.Join(dir, "state") || h.RoomsDir() != filepath.Join(dir, "rooms") || h.Log.Level != "error" {
		t.Errorf("got %+v, DataDir %q, RoomsDir %q", h, h.DataDir(), h.RoomsDir())
	}
	if pw, err := h.MQTTPassword(); err != nil || pw != "s3cret" {
		t.Errorf("MQTTPassword = %q, %v", pw, err)
	}
	h, err = config.LoadHub("", []string{"BAILIFF_HTTP_LISTEN=:9999"})
	if err != nil || h.HTTP.Listen != ":9999" || h.DataDir() != "data" {
		t.Errorf("LoadHub(\"\") = %+v, %v", h, err)
	}
	if _, err := config.LoadHub(filepath.Join(dir, "nope.yaml"), nil); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing hub file: %v", err)
	}
	r, err := config.LoadRoom(filepath.Join(dir, "room.yaml"))
	if err != nil || r.Room != "r" {
		t.Errorf("LoadRoom = %+v, %v", r, err)
	}
}

func TestDuration(t *testing.T) {
	for _, tt := range []struct {
		d    time.Duration
		want string
	}{
		{5 * time.Second, "5s"}, {250 * time.Millisecond, "250ms"}, {2 * time.Minute, "2m"},
		{time.Hour, "1h"}, {90 * time.Minute, "1h30m"}, {0, "0s"}, {61 * time.Second, "1m1s"},
	} {
		d := config.Duration(tt.d)
		if got := d.String(); got != tt.want {
			t.Errorf("String(%v) = %q, want %q", tt.d, got, tt.want)
		}
		j, err := json.Marshal(d)
		if err != nil || string(j) != `"`+tt.want+`"` {
			t.Errorf("MarshalJSON(%v) = %s, %v", tt.d, j, err)
		}
		var back config.Duration
		if err := json.Unmarshal(j, &back); err != nil || back != d {
			t.Errorf("UnmarshalJSON(%s) = %v, %v", j, back, err)
		}
		y, err := yaml.Marshal(struct{ D config.Duration }{d})
		if err != nil || strings.TrimSpace(string(y)) != "d: "+tt.want {
			t.Errorf("MarshalYAML(%v) = %q, %v", tt.d, y, err)
		}
		var yback struct{ D config.Duration }
		if err := yaml.Unmarshal(y, &yback); err != nil || yback.D != d {
			t.Errorf("UnmarshalYAML(%q) = %v, %v", y, yback.D, err)
		}
	}
	var d config.Duration
	for _, bad := range []string{`5`, `"abc"`, `{}`} {
		if err := json.Unmarshal([]byte(bad), &d); err == nil {
			t.Errorf("UnmarshalJSON(%s): no error", bad)
		}
	}
	if err := yaml.Unmarshal([]byte("d: 5"), &struct{ D *config.Duration }{&d}); err == nil || !strings.Contains(err.Error(), "missing unit") {
		t.Errorf("UnmarshalYAML(5): %v", err)
	}
}

// TestRoomJSONRoundTrip checks that a room survives the JSON the hub publishes to an agent.
func TestRoomJSONRoundTrip(t *testing.T) {
	r, err := config.ParseRoom("r.yaml", []byte(goodRoom))
	if err != nil {
		t.Fatal(err)
	}
	r.Revision = 7
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"poll":"10s"`) || !strings.Contains(string(b), `"revision":7`) {
		t.Errorf("JSON: %s", b)
	}
	back := config.DefaultRoom()
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	back.File = r.File
	if err := back.Validate(); err != nil {
		t.Fatal(err)
	}
	b2, _ := json.Marshal(&back)
	if string(b2) != string(b) {
		t.Errorf("round trip:\n%s\n%s", b, b2)
	}
}
