package config_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/bailiff/bailiff/internal/config"
)

// checkFuzzErr checks the shape of an error from ParseRoom or ParseHub: an Errors whose every
// FieldError is one line and names the file (or an env variable).
func checkFuzzErr(t *testing.T, name string, err error) {
	var errs config.Errors
	if !errors.As(err, &errs) {
		t.Fatalf("error %T is not a config.Errors: %v", err, err)
	}
	if len(errs) == 0 {
		t.Fatal("empty Errors")
	}
	for _, e := range errs {
		if e.File != name && e.Env == "" {
			t.Errorf("error does not name the file: %+v", e)
		}
		if e.Msg == "" || strings.Contains(e.Error(), "\n") {
			t.Errorf("error is not one non-empty line: %q", e.Error())
		}
	}
}

// FuzzParseRoom feeds arbitrary bytes to ParseRoom: it must not panic, must return a room or
// an Errors, and a room it accepts must validate and survive a YAML round trip.
func FuzzParseRoom(f *testing.F) {
	f.Add([]byte(goodRoom))
	f.Fuzz(func(t *testing.T, data []byte) {
		const name = "fuzz.yaml"
		r, err := config.ParseRoom(name, data)
		if err != nil {
			if r != nil {
				t.Fatal("a room and an error")
			}
			checkFuzzErr(t, name, err)
			return
		}
		if err := r.Validate(); err != nil {
			t.Fatalf("accepted room does not validate: %v", err)
		}
		out, err := yaml.Marshal(r)
		if err != nil {
			t.Fatalf("marshal: %v", err)
		}
		back, err := config.ParseRoom(name, out)
		if err != nil {
			t.Fatalf("re-parse of\n%s\nfailed: %v", out, err)
		}
		if !reflect.DeepEqual(back, r) {
			t.Fatalf("round trip:\n got %+v\nwant %+v", back, r)
		}
	})
}

// FuzzParseHub feeds arbitrary bytes and environment (one NAME=value a line) to ParseHub.
func FuzzParseHub(f *testing.F) {
	f.Add([]byte("http:\n  listen: 127.0.0.1:8080\n"), "BAILIFF_COMMANDS_TIMEOUT=2s")
	f.Fuzz(func(t *testing.T, data []byte, env string) {
		const name = "hub.yaml"
		h, err := config.ParseHub(name, data, strings.Split(env, "\n"))
		if err != nil {
			if h != nil {
				t.Fatal("a hub and an error")
			}
			checkFuzzErr(t, name, err)
			return
		}
		if err := h.Validate(); err != nil {
			t.Fatalf("accepted hub does not validate: %v", err)
		}
	})
}

// FuzzParseRoomJSON feeds arbitrary bytes to ParseRoomJSON (the agent's decoder of a pushed
// config): it must not panic, must return a room or an Errors, and a room it accepts must
// encode to JSON that it accepts again.
func FuzzParseRoomJSON(f *testing.F) {
	f.Add([]byte(`{"revision":2,"site":"s","room":"r","kind":"tech-courtroom","name":"R","poll":"2s","devices":[{"id":"p","driver":"pjlink","address":"10.0.0.5","options":{"password":"x"}}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		const name = "pushed"
		r, err := config.ParseRoomJSON(name, data)
		if err != nil {
			checkFuzzErr(t, name, err)
			return
		}
		b, err := json.Marshal(r)
		if err != nil {
			t.Fatalf("accepted room does not encode: %v", err)
		}
		if _, err := config.ParseRoomJSON(name, b); err != nil {
			t.Fatalf("accepted room's JSON %s is refused: %v", b, err)
		}
	})
}
