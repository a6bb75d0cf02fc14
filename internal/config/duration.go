package config

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// String returns d as a Go duration string, without zero minutes and seconds: "5s", "2m",
// "1h", "1h30m", "250ms".
func (d Duration) String() string {
	s := time.Duration(d).String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-2]
	}
	return s
}

// MarshalYAML writes d as a duration string.
func (d Duration) MarshalYAML() (any, error) { return d.String(), nil }

// UnmarshalYAML reads a duration string such as "5s"; a null leaves d unchanged.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	if isNull(n) {
		return nil
	}
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("line %d: want a duration such as \"5s\", got %s", n.Line, describe(n))
	}
	v, msg := parseDuration(n.Value)
	if msg != "" {
		return fmt.Errorf("line %d: %s", n.Line, msg)
	}
	*d = Duration(v)
	return nil
}

// MarshalJSON writes d as a JSON string such as "5s".
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(d.String()) }

// UnmarshalJSON reads a JSON string such as "5s"; null leaves d unchanged.
func (d *Duration) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("config: duration: want a string such as \"5s\", got %s", b)
	}
	v, msg := parseDuration(s)
	if msg != "" {
		return fmt.Errorf("config: duration: %s", msg)
	}
	*d = Duration(v)
	return nil
}
