package wire

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
)

// RoomConfig is the retained message on bailiff/v1/{site}/{room}/config: the room config the
// hub wants the room's agent to run, as one JSON object (the JSON form of a room config file:
// site, room, kind, name, poll, command_timeout, devices, …) with the member "revision".
//
// wire checks the envelope only: a JSON object whose "revision" is a whole number of at least
// 1 and whose "site" and "room" are valid IDs. The members of the room config itself are the
// config package's to decode and validate (wire imports nothing of the project), so Body keeps
// the whole object.
type RoomConfig struct {
	Revision int64
	Site     string
	Room     string
	// Body is the whole object as received (compacted), "revision" included.
	Body json.RawMessage
}

// ConfigStatus is what an agent reports of its room config in its status (an optional
// extension of v1): the revision it runs, and the last revision it refused and why.
type ConfigStatus struct {
	// Revision is the revision the agent runs; 0 when it runs its local config file.
	Revision int64 `json:"revision"`
	// Rejected is the newest revision the agent refused; left out when none.
	Rejected int64 `json:"rejected,omitempty"`
	// Error is why Rejected was refused.
	Error string `json:"error,omitempty"`
}

// MarshalJSON writes the config's object as received.
func (c RoomConfig) MarshalJSON() ([]byte, error) {
	if len(c.Body) == 0 {
		return nil, errors.New("wire: room config: no body")
	}
	return c.Body, nil
}

// NewRoomConfig makes the config message of a room config's JSON object (as encoding/json
// writes a config.Room) at revision rev: it sets "revision" and checks the result as
// DecodeRoomConfig does.
func NewRoomConfig(rev int64, room []byte) (RoomConfig, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(room, &m); err != nil {
		return RoomConfig{}, fmt.Errorf("wire: room config: %w", err)
	}
	if m == nil {
		return RoomConfig{}, errors.New("wire: room config: want a JSON object")
	}
	m["revision"] = json.RawMessage(fmt.Sprint(rev))
	b, err := json.Marshal(m)
	if err != nil {
		return RoomConfig{}, fmt.Errorf("wire: room config: %w", err)
	}
	return DecodeRoomConfig(b)
}

// DecodeRoomConfig parses a config message's envelope. An empty payload (a cleared retained
// message) is an error; the caller tells it apart first if it cares.
func DecodeRoomConfig(b []byte) (RoomConfig, error) {
	var env struct {
		Revision json.RawMessage `json:"revision"`
		Site     *string         `json:"site"`
		Room     *string         `json:"room"`
	}
	if err := decodeObject("room config", b, &env); err != nil {
		return RoomConfig{}, err
	}
	if env.Revision == nil {
		return RoomConfig{}, errors.New(`wire: room config: missing "revision"`)
	}
	rev, err := strconv.ParseInt(string(env.Revision), 10, 64)
	if err != nil || rev < 1 {
		return RoomConfig{}, fmt.Errorf(`wire: room config: "revision" %.32s: want a whole number ≥ 1`, env.Revision)
	}
	if env.Site == nil || env.Room == nil {
		return RoomConfig{}, errors.New(`wire: room config: "site" and "room" are required`)
	}
	if err := CheckID("site", *env.Site); err != nil {
		return RoomConfig{}, fmt.Errorf("wire: room config: %w", err)
	}
	if err := CheckID("room", *env.Room); err != nil {
		return RoomConfig{}, fmt.Errorf("wire: room config: %w", err)
	}
	var body bytes.Buffer
	if err := json.Compact(&body, bytes.TrimSpace(b)); err != nil {
		return RoomConfig{}, fmt.Errorf("wire: room config: %w", err)
	}
	return RoomConfig{Revision: rev, Site: *env.Site, Room: *env.Room, Body: body.Bytes()}, nil
}
