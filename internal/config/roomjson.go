package config

import (
	"bytes"
	"encoding/json"
	"fmt"

	"go.yaml.in/yaml/v3"
)

// ParseRoomJSON decodes a room config in its JSON form — as the hub publishes it on the room's
// config topic, with the same keys as the YAML file — and validates it exactly as ParseRoom
// does. Decoding is strict: a key the room config does not have, or data after the object, is
// an error. name is what errors give as the file. On a config error the error is an Errors.
func ParseRoomJSON(name string, data []byte) (*Room, error) {
	r := DefaultRoom()
	d := json.NewDecoder(bytes.NewReader(data))
	d.DisallowUnknownFields()
	if err := d.Decode(&r); err != nil {
		return nil, Errors{{File: name, Msg: "not a room config: " + err.Error()}}
	}
	if d.More() {
		return nil, Errors{{File: name, Msg: "not a room config: data after the JSON object"}}
	}
	r.File = name
	if err := r.Validate(); err != nil {
		return nil, err
	}
	return &r, nil
}

// RoomYAML renders r as a room config file (for a room that came from code rather than a
// file). ParseRoom reads it back to the same config.
func RoomYAML(r *Room) ([]byte, error) {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2) // as the example configs are written
	if err := enc.Encode(r); err != nil {
		return nil, fmt.Errorf("config: room %s/%s: %w", r.Site, r.Room, err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("config: room %s/%s: %w", r.Site, r.Room, err)
	}
	return buf.Bytes(), nil
}
