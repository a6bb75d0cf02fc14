package wire

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"time"
)

// MaxPayload is the largest payload any decoder accepts.
const MaxPayload = 256 << 10

// AgentStatus is the retained birth (online true) and last will (online false) of an agent.
type AgentStatus struct {
	Online  bool      `json:"online"`
	Agent   string    `json:"agent"`
	Version string    `json:"version"`
	Seq     uint64    `json:"seq"`
	At      time.Time `json:"at"`
	// Config is the room config the agent runs (an optional extension of v1).
	Config *ConfigStatus `json:"config,omitempty"`
}

// DeviceState is the retained state of one device.
type DeviceState struct {
	Reachable bool           `json:"reachable"`
	State     map[string]any `json:"state"`
	Error     string         `json:"error,omitempty"`
	// Driver names the driver that runs the device (an extension of v1; optional).
	Driver string `json:"driver,omitempty"`
	// Actions lists the actions the device supports (an extension of v1; optional).
	Actions []string  `json:"actions,omitempty"`
	At      time.Time `json:"at"`
}

// Command is a request to one device. Args are decoded per action by ParseArgs.
type Command struct {
	ID      string          `json:"id"`
	Action  string          `json:"action"`
	Args    json.RawMessage `json:"args,omitempty"`
	By      string          `json:"by,omitempty"`
	Expires time.Time       `json:"expires,omitzero"`
}

// Expired reports whether the command is past its expiry at now.
func (c *Command) Expired(now time.Time) bool {
	return !c.Expires.IsZero() && now.After(c.Expires)
}

// Ack ends one command: ok, or an error with a code.
type Ack struct {
	ID    string         `json:"id"`
	OK    bool           `json:"ok"`
	Error *Error         `json:"error,omitempty"`
	State map[string]any `json:"state,omitempty"`
}

// Event is something that happened at a device (a button, a ticket request, a fault, …).
// Type is required; every other field is kept in Fields.
type Event struct {
	Type   string
	Fields map[string]any
}

// Meter carries audio levels in dBFS, keyed "<device>/<channel>".
type Meter struct {
	Levels map[string]float64 `json:"levels"`
	At     time.Time          `json:"at"`
}

// Error codes of contract v1.
const (
	CodeUnsupported = "unsupported"
	CodeBadArgs     = "bad_args"
	CodeUnreachable = "unreachable"
	CodeDeviceError = "device_error"
	CodeTimeout     = "timeout"
	CodeExpired     = "expired"
	CodeBusy        = "busy"
	CodeForbidden   = "forbidden"
)

// Codes lists every error code of contract v1.
var Codes = []string{CodeUnsupported, CodeBadArgs, CodeUnreachable, CodeDeviceError, CodeTimeout, CodeExpired, CodeBusy, CodeForbidden}

// ValidCode reports whether c is an error code of contract v1.
func ValidCode(c string) bool {
	for _, k := range Codes {
		if k == c {
			return true
		}
	}
	return false
}

// Error is a command's error: a contract code and a message for people.
type Error struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// Errorf makes an *Error with the given code.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// CodeOf returns the contract code of err: its *Error's code, or device_error.
func CodeOf(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return CodeDeviceError
}

// Encode marshals v as compact JSON. It panics only on values that cannot be JSON (a bug).
func Encode(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("wire: encode %T: %v", v, err))
	}
	return b
}

// MarshalJSON writes the event's fields with its type.
func (e Event) MarshalJSON() ([]byte, error) {
	m := make(map[string]any, len(e.Fields)+1)
	for k, v := range e.Fields {
		m[k] = v
	}
	m["type"] = e.Type
	return json.Marshal(m)
}

func decodeStrict(what string, b []byte, v any) error {
	if len(b) > MaxPayload {
		return fmt.Errorf("wire: %s: payload of %d bytes exceeds %d", what, len(b), MaxPayload)
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		return fmt.Errorf("wire: %s: %w", what, err)
	}
	if d.More() {
		return fmt.Errorf("wire: %s: trailing data after the JSON object", what)
	}
	return nil
}

// decodeObject decodes b, which must be one JSON object, into v, accepting unknown fields
// (newer agents may add fields; contract v1 may be extended).
func decodeObject(what string, b []byte, v any) error {
	if len(b) > MaxPayload {
		return fmt.Errorf("wire: %s: payload of %d bytes exceeds %d", what, len(b), MaxPayload)
	}
	b = bytes.TrimSpace(b)
	if len(b) == 0 || b[0] != '{' {
		return fmt.Errorf("wire: %s: want a JSON object", what)
	}
	d := json.NewDecoder(bytes.NewReader(b))
	if err := d.Decode(v); err != nil {
		return fmt.Errorf("wire: %s: %w", what, err)
	}
	if d.More() {
		return fmt.Errorf("wire: %s: trailing data after the JSON object", what)
	}
	return nil
}

// DecodeAgentStatus parses an agent birth or will.
func DecodeAgentStatus(b []byte) (AgentStatus, error) {
	var a AgentStatus
	if err := decodeObject("agent status", b, &a); err != nil {
		return AgentStatus{}, err
	}
	if a.At.IsZero() {
		return AgentStatus{}, errors.New("wire: agent status: missing \"at\"")
	}
	return a, nil
}

// DecodeDeviceState parses a device state.
func DecodeDeviceState(b []byte) (DeviceState, error) {
	var s DeviceState
	if err := decodeObject("device state", b, &s); err != nil {
		return DeviceState{}, err
	}
	if s.At.IsZero() {
		return DeviceState{}, errors.New("wire: device state: missing \"at\"")
	}
	if s.State == nil {
		s.State = map[string]any{}
	}
	return s, nil
}

// DecodeCommand parses a command. It checks the envelope (id, action); ParseArgs checks args.
func DecodeCommand(b []byte) (Command, error) {
	var c Command
	if err := decodeStrict("command", b, &c); err != nil {
		return Command{}, err
	}
	if c.ID == "" || len(c.ID) > 128 {
		return c, errors.New("wire: command: \"id\" must be 1-128 characters")
	}
	if c.Action == "" {
		return c, errors.New("wire: command: missing \"action\"")
	}
	return c, nil
}

// DecodeAck parses an ack. An ack that is not ok carries an error with a contract code.
func DecodeAck(b []byte) (Ack, error) {
	var a Ack
	if err := decodeObject("ack", b, &a); err != nil {
		return Ack{}, err
	}
	if a.ID == "" {
		return Ack{}, errors.New("wire: ack: missing \"id\"")
	}
	if !a.OK {
		if a.Error == nil {
			return Ack{}, errors.New("wire: ack: not ok but no \"error\"")
		}
		if !ValidCode(a.Error.Code) {
			return Ack{}, fmt.Errorf("wire: ack: unknown error code %q", a.Error.Code)
		}
	}
	return a, nil
}

// DecodeEvent parses an event; "type" must be a non-empty string.
func DecodeEvent(b []byte) (Event, error) {
	var m map[string]any
	if err := decodeObject("event", b, &m); err != nil {
		return Event{}, err
	}
	t, ok := m["type"].(string)
	if !ok || t == "" {
		return Event{}, errors.New("wire: event: missing \"type\"")
	}
	delete(m, "type")
	return Event{Type: t, Fields: m}, nil
}

// DecodeMeter parses a meter message; levels are dBFS, at most 0 and finite.
func DecodeMeter(b []byte) (Meter, error) {
	var m Meter
	if err := decodeObject("meter", b, &m); err != nil {
		return Meter{}, err
	}
	for k, v := range m.Levels {
		if math.IsNaN(v) || v > 0 || v < -200 {
			return Meter{}, fmt.Errorf("wire: meter: level %q = %v: want -200…0 dBFS", k, v)
		}
	}
	return m, nil
}
