// Package config loads and validates the hub's config and the rooms' configs: defaults, then
// the YAML file, then BAILIFF_* environment variables, then validation. Every error names the
// file, the key and what is wrong, and all errors of a file are reported at once.
package config

import "time"

// Hub is the hub's own config (hub.yaml).
type Hub struct {
	HTTP     HTTP     `yaml:"http" json:"http"`
	MQTT     MQTT     `yaml:"mqtt" json:"mqtt"`
	Data     string   `yaml:"data" json:"data"`   // directory for the store and broker state; relative to the file
	Rooms    string   `yaml:"rooms" json:"rooms"` // directory of room configs (*.yaml); relative to the file
	Commands Commands `yaml:"commands" json:"commands"`
	Log      Log      `yaml:"log" json:"log"`

	// File is the path the config was loaded from ("" for defaults only).
	File string `yaml:"-" json:"-"`
}

// HTTP is the API and panel listener.
type HTTP struct {
	Listen string `yaml:"listen" json:"listen"` // default 127.0.0.1:8080
}

// MQTT chooses the broker: embedded (Listen) or external (External.URL set).
type MQTT struct {
	Listen   string       `yaml:"listen" json:"listen"` // embedded broker listener; default 127.0.0.1:1883
	External ExternalMQTT `yaml:"external" json:"external"`
}

// ExternalMQTT is an external broker the hub connects to as a client instead of embedding one.
type ExternalMQTT struct {
	URL          string `yaml:"url" json:"url"` // tcp://host:port; empty: use the embedded broker
	Username     string `yaml:"username" json:"username"`
	Password     string `yaml:"password" json:"-"`
	PasswordFile string `yaml:"password_file" json:"password_file"`
}

// Commands tunes the command router.
type Commands struct {
	Timeout Duration `yaml:"timeout" json:"timeout"` // default 5s
}

// Log sets the log level: debug, info, warn or error.
type Log struct {
	Level string `yaml:"level" json:"level"`
}

// Room is one room's config: its identity, kind and devices.
type Room struct {
	Site     string   `yaml:"site" json:"site"`
	Room     string   `yaml:"room" json:"room"`
	Kind     string   `yaml:"kind" json:"kind"`
	Name     string   `yaml:"name" json:"name"`
	Poll     Duration `yaml:"poll" json:"poll"`                       // default health-poll period; default 10s
	Timeout  Duration `yaml:"command_timeout" json:"command_timeout"` // per-command device timeout; default 5s
	Devices  []Device `yaml:"devices" json:"devices"`
	Queue    Queue    `yaml:"queue" json:"queue,omitzero"` // a litigation hall's ticket queue; see queue.go
	Revision int64    `yaml:"-" json:"revision,omitempty"` // set by the hub when it publishes the config

	File string `yaml:"-" json:"-"`
}

// Device is one device of a room.
type Device struct {
	ID      string            `yaml:"id" json:"id"`
	Driver  string            `yaml:"driver" json:"driver"`
	Name    string            `yaml:"name" json:"name"`
	Address string            `yaml:"address" json:"address"`
	Poll    Duration          `yaml:"poll" json:"poll"` // 0: the room's poll
	Options map[string]string `yaml:"options" json:"options,omitempty"`
}

// Duration is a time.Duration written as "5s", "250ms", "2m" in YAML and JSON.
type Duration time.Duration

// D returns d as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// Room kinds.
const (
	KindTechCourtroom       = "tech-courtroom"
	KindRemoteInterrogation = "remote-interrogation"
	KindVisitorReception    = "visitor-reception"
	KindCommandCenter       = "command-center"
	KindLitigationHall      = "litigation-hall"
)

// Kinds lists every room kind.
var Kinds = []string{KindTechCourtroom, KindRemoteInterrogation, KindVisitorReception, KindCommandCenter, KindLitigationHall}
