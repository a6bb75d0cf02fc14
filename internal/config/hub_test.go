package config_test

import (
	"errors"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/bailiff/bailiff/internal/config"
)

func TestDefaultHubValid(t *testing.T) {
	h := config.DefaultHub()
	if err := h.Validate(); err != nil {
		t.Fatal(err)
	}
	got, err := config.ParseHub("hub.yaml", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	h.File = "hub.yaml"
	if !reflect.DeepEqual(*got, h) {
		t.Errorf("empty file: got %+v, want the defaults %+v", *got, h)
	}
	if h.HTTP.Listen != "127.0.0.1:8080" || h.MQTT.Listen != "127.0.0.1:1883" || h.Data != "data" ||
		h.Rooms != "rooms" || h.Commands.Timeout.D() != 5*time.Second || h.Log.Level != "info" {
		t.Errorf("defaults: %+v", h)
	}
}

func TestParseHub(t *testing.T) {
	const f = "etc/hub.yaml"
	tests := []struct {
		name, yaml string
		env        []string
		want       []string // error lines; nil: valid
		check      func(*testing.T, *config.Hub)
	}{
		{name: "full", yaml: `
http: {listen: ":8080"}
mqtt:
  listen: 0.0.0.0:1883
data: /var/lib/bailiff
rooms: rooms.d
commands: {timeout: 250ms}
log: {level: debug}
`, check: func(t *testing.T, h *config.Hub) {
			if h.HTTP.Listen != ":8080" || h.MQTT.Listen != "0.0.0.0:1883" || h.Commands.Timeout.D() != 250*time.Millisecond || h.Log.Level != "debug" {
				t.Errorf("got %+v", h)
			}
			if got := h.DataDir(); got != "/var/lib/bailiff" {
				t.Errorf("DataDir = %q", got)
			}
			if got := h.RoomsDir(); got != filepath.Join("etc", "rooms.d") {
				t.Errorf("RoomsDir = %q", got)
			}
		}},
		{name: "external broker", yaml: `
mqtt:
  external:
    url: tls://broker.example:8883
    username: hub
    password_file: secret
`, check: func(t *testing.T, h *config.Hub) {
			if h.MQTT.External.URL != "tls://broker.example:8883" || h.MQTT.External.PasswordFile != "secret" {
				t.Errorf("got %+v", h.MQTT)
			}
		}},
		{name: "env overrides file", yaml: "http:\n  listen: 127.0.0.1:9000\ncommands:\n  timeout: 1s\n",
			env: []string{
				"PATH=/usr/bin", "BAILIFF_HTTP_LISTEN=0.0.0.0:8443", "BAILIFF_COMMANDS_TIMEOUT=30s",
				"BAILIFF_MQTT_EXTERNAL_URL=mqtt://emqx:1883", "BAILIFF_MQTT_EXTERNAL_PASSWORD=pw",
				"BAILIFF_DATA=/srv/data", "BAILIFF_ROOMS=/srv/rooms", "BAILIFF_LOG_LEVEL=warn",
				"BAILIFF_AGENT_BROKER=tcp://x:1", "BAILIFF_NOT_A_KEY=1", "bailiff_http_listen=bad", "BAILIFF_MQTT_LISTEN",
			},
			check: func(t *testing.T, h *config.Hub) {
				want := config.Hub{
					HTTP: config.HTTP{Listen: "0.0.0.0:8443"},
					MQTT: config.MQTT{Listen: "127.0.0.1:1883", External: config.ExternalMQTT{URL: "mqtt://emqx:1883", Password: "pw"}},
					Data: "/srv/data", Rooms: "/srv/rooms",
					Commands: config.Commands{Timeout: config.Duration(30 * time.Second)},
					Log:      config.Log{Level: "warn"}, Alarms: config.Alarms{LampHours: config.DefaultLampHours}, Media: config.DefaultHub().Media, TLS: config.DefaultHub().TLS, Store: config.DefaultHub().Store, File: f,
				}
				if !reflect.DeepEqual(*h, want) {
					t.Errorf("got  %+v\nwant %+v", *h, want)
				}
			}},
		{name: "bad env", yaml: "log:\n  level: info\n",
			env: []string{"BAILIFF_COMMANDS_TIMEOUT=abc", "BAILIFF_HTTP_LISTEN=localhost", "BAILIFF_LOG_LEVEL=loud"},
			want: []string{
				`env BAILIFF_COMMANDS_TIMEOUT: "abc": not a duration`,
				`env BAILIFF_HTTP_LISTEN: "localhost": missing port (want host:port, e.g. 127.0.0.1:8080)`,
				`env BAILIFF_LOG_LEVEL: unknown level "loud"; want one of debug, info, warn, error`,
			}},
		{name: "env with file errors", yaml: "http:\n  listen: 127.0.0.1\n",
			env: []string{"BAILIFF_COMMANDS_TIMEOUT=10m"},
			want: []string{
				f + `:2: http.listen: "127.0.0.1": missing port (want host:port, e.g. 127.0.0.1:8080)`,
				`env BAILIFF_COMMANDS_TIMEOUT: must be between 100ms and 5m, got 10m`,
			}},
		{name: "env password with password_file", yaml: "mqtt:\n  external:\n    url: tcp://b:1883\n    password_file: /run/pw\n",
			env:  []string{"BAILIFF_MQTT_EXTERNAL_PASSWORD=x"},
			want: []string{`env BAILIFF_MQTT_EXTERNAL_PASSWORD: password and password_file are mutually exclusive; set only one`}},
		{name: "bad values", yaml: `
http:
  listen: "127.0.0.1:http"
mqtt:
  listen: "[::1]:99999"
data: ""
commands:
  timeout: 50ms
log:
  level: Debug
`, want: []string{
			f + `:3: http.listen: "127.0.0.1:http": bad port "http": want a number`,
			f + `:5: mqtt.listen: "[::1]:99999": port 99999 out of range 0-65535`,
			f + `:6: data: required (a directory)`,
			f + `:8: commands.timeout: must be between 100ms and 5m, got 50ms`,
			f + `:10: log.level: unknown level "Debug" (did you mean "debug"?); want one of debug, info, warn, error`,
		}},
		{name: "bad external", yaml: `
mqtt:
  external:
    url: http://broker:1883
    password: a
    password_file: b
`, want: []string{
			f + `:4: mqtt.external.url: "http://broker:1883": scheme "http" not supported; want one of tcp, mqtt, ssl, tls`,
			f + `:5: mqtt.external.password: password and password_file are mutually exclusive; set only one`,
		}},
		{name: "public listener", yaml: "http:\n  listen: 10.0.0.5:8443\n  public_listen: 203.0.113.7:443\n",
			check: func(t *testing.T, h *config.Hub) {
				if h.HTTP.PublicListen != "203.0.113.7:443" {
					t.Errorf("public_listen = %q", h.HTTP.PublicListen)
				}
			}},
		{name: "bad public listener", yaml: "http:\n  public_listen: 203.0.113.7\n",
			want: []string{f + `:2: http.public_listen: "203.0.113.7": missing port (want host:port, e.g. 127.0.0.1:8080)`}},
		{name: "public listener on the private address", yaml: "http:\n  listen: 10.0.0.5:8443\n  public_listen: 10.0.0.5:8443\n",
			want: []string{f + `:3: http.public_listen: must differ from http.listen (10.0.0.5:8443)`}},
		{name: "external missing port", yaml: "mqtt:\n  external:\n    url: tcp://broker\n",
			want: []string{f + `:3: mqtt.external.url: "tcp://broker": missing port (e.g. tcp://broker.example:1883)`}},
		{name: "external credentials in url", yaml: "mqtt:\n  external:\n    url: tcp://hub:s3cret@broker:1883\n",
			want: []string{f + `:3: mqtt.external.url: credentials do not belong in the URL: use username and password or password_file`}},
		{name: "username without url", yaml: "mqtt:\n  external:\n    username: hub\n",
			want: []string{f + `:2: mqtt.external.url: required when username, password or password_file is set (without it the hub runs its own broker)`}},
		{name: "unknown and mistyped keys", yaml: `
htp:
  listen: :8080
mqtt:
  listen: [a]
commands:
  timeout: {s: 1}
logging: {}
`, want: []string{
			f + `:2: htp: unknown key; did you mean "http"?`,
			f + `:5: mqtt.listen: want a string, got a list`,
			f + `:7: commands.timeout: want a duration such as "5s", got a mapping`,
			f + `:8: logging: unknown key; known keys: http, mqtt, data, rooms, commands, log, alarms, media, tls, store`,
		}},
		{name: "yaml syntax", yaml: "http:\n  listen: [\n", want: []string{f + ":2: invalid YAML: did not find expected node content"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, err := config.ParseHub(f, []byte(tt.yaml), tt.env)
			if tt.want == nil {
				if err != nil {
					t.Fatalf("unexpected error:\n%v", err)
				}
				if tt.check != nil {
					tt.check(t, h)
				}
				return
			}
			if h != nil {
				t.Errorf("got a hub with errors")
			}
			checkErr(t, err, tt.want)
		})
	}
}

func TestErrorsAs(t *testing.T) {
	_, err := config.ParseHub("hub.yaml", []byte("log:\n  level: loud\n"), nil)
	var fe *config.FieldError
	if !errors.As(err, &fe) {
		t.Fatalf("errors.As(%v, *FieldError) = false", err)
	}
	want := config.FieldError{File: "hub.yaml", Line: 2, Key: "log.level", Msg: `unknown level "loud"; want one of debug, info, warn, error`}
	if *fe != want {
		t.Errorf("got %+v, want %+v", *fe, want)
	}
}

func TestValidateBuilt(t *testing.T) {
	// Validate on a config built in code: no file or line.
	h := config.DefaultHub()
	h.HTTP.Listen = "nohost"
	h.Log.Level = ""
	checkErr(t, h.Validate(), []string{
		`http.listen: "nohost": missing port (want host:port, e.g. 127.0.0.1:8080)`,
		`log.level: required; one of debug, info, warn, error`,
	})
	r := config.DefaultRoom()
	r.File = "api"
	r.Site, r.Room, r.Kind, r.Name = "s", "r", config.KindCommandCenter, "R"
	r.Devices = []config.Device{{ID: "d", Driver: "pjlink", Address: "[::1]"}, {ID: "e", Driver: "pjlink", Address: "[fe80::1%eth0]:4352"}}
	if err := r.Validate(); err != nil {
		t.Fatal(err)
	}
	r.Devices[0].Address = ""
	checkErr(t, r.Validate(), []string{"api: devices[0].address: required (host, or host:port; the port defaults to 4352)"})
	r.Poll = 0
	if got := r.DevicePoll(r.Devices[0]); got != config.DefaultPoll {
		t.Errorf("DevicePoll with no room poll = %v", got)
	}
}

func TestEnvName(t *testing.T) {
	for key, want := range map[string]string{
		"http.listen":                 "BAILIFF_HTTP_LISTEN",
		"mqtt.external.password_file": "BAILIFF_MQTT_EXTERNAL_PASSWORD_FILE",
		"commands.timeout":            "BAILIFF_COMMANDS_TIMEOUT",
	} {
		if got := config.EnvName(key); got != want {
			t.Errorf("EnvName(%q) = %q, want %q", key, got, want)
		}
	}
}
