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
	Alarms   Alarms   `yaml:"alarms" json:"alarms"`
	Media    Media    `yaml:"media" json:"media"`
	TLS      TLS      `yaml:"tls" json:"tls"`
	Store    Store    `yaml:"store" json:"store"`

	// File is the path the config was loaded from ("" for defaults only).
	File string `yaml:"-" json:"-"`
}

// HTTP is the API and panel listener.
type HTTP struct {
	Listen string `yaml:"listen" json:"listen"` // default 127.0.0.1:8080
	// PublicListen is a second listener for the outside network (host:port; "" = off): the
	// visitor page, an invite's own view and invite-only WHIP/WHEP; everything else 404.
	PublicListen string `yaml:"public_listen" json:"public_listen"`
}

// MQTT chooses the broker: embedded (Listen) or external (External.URL set).
type MQTT struct {
	Listen   string       `yaml:"listen" json:"listen"` // embedded broker listener; default 127.0.0.1:1883
	External ExternalMQTT `yaml:"external" json:"external"`
	// AgentURL is the broker URL the hub gives agents that enroll; default: tcp:// and
	// Listen, or External.URL.
	AgentURL string `yaml:"agent_url" json:"agent_url"`
}

// ExternalMQTT is an external broker the hub connects to as a client instead of embedding one.
type ExternalMQTT struct {
	URL          string `yaml:"url" json:"url"` // tcp://host:port; empty: use the embedded broker
	Username     string `yaml:"username" json:"username"`
	Password     string `yaml:"password" json:"-"`
	PasswordFile string `yaml:"password_file" json:"password_file"`
	// ShareGroup names the group of hubs sharing this broker and one PostgreSQL store
	// (several hubs): the work each message asks of one hub only comes through
	// $share/<group>/… subscriptions. Empty: this hub is alone.
	ShareGroup string `yaml:"share_group" json:"share_group"`
}

// Commands tunes the command router.
type Commands struct {
	Timeout Duration `yaml:"timeout" json:"timeout"` // default 5s
}

// Alarms tunes the alarms the hub raises.
type Alarms struct {
	// LampHours raises a lamp-hours alarm for a device whose lamp has run longer; default 2000.
	LampHours int `yaml:"lamp_hours" json:"lamp_hours"`
}

// Log sets the log level: debug, info, warn or error.
type Log struct {
	Level string `yaml:"level" json:"level"`
}

// Media says where the hub's WebRTC media (WHIP, WHEP, the SFU) may flow and what it tells
// clients about ICE servers. Ports are written as strings ("8189", "50000-50999") so that every
// key also works from the environment.
type Media struct {
	// UDP is the one UDP address every session's ICE shares (a UDP mux), host:port. An empty
	// host listens on every interface that Interfaces and Addresses allow. Default
	// 127.0.0.1:8189. Set it to "" to give each session a port of its own from UDPPorts.
	UDP string `yaml:"udp" json:"udp"`
	// UDPPorts is the range "min-max" of per-session ports, used when UDP is empty.
	UDPPorts string `yaml:"udp_ports" json:"udp_ports"`
	// Interfaces, when not empty, are the only network interfaces ICE uses (by name).
	Interfaces []string `yaml:"interfaces" json:"interfaces,omitempty"`
	// Addresses, when not empty, are the only local IP addresses ICE uses.
	Addresses []string `yaml:"addresses" json:"addresses,omitempty"`
	// NAT1To1 are the public addresses advertised in place of the hub's own (a hub behind a
	// 1:1 NAT).
	NAT1To1 []string `yaml:"nat_1to1" json:"nat_1to1,omitempty"`
	// ICEServers are STUN/TURN servers given to clients in the WHIP/WHEP Link headers.
	ICEServers []ICEServer `yaml:"ice_servers" json:"ice_servers,omitempty"`
	// TURN is the hub's embedded TURN server; off unless TURN.Listen is set.
	TURN TURN `yaml:"turn" json:"turn"`
	// Replicas are the hubs that may pull this hub's streams (view only).
	Replicas []Replica `yaml:"replicas" json:"replicas,omitempty"`
	// Origins are the hubs that carry the media of some rooms; this hub pulls their streams.
	Origins []Origin `yaml:"origins" json:"origins,omitempty"`
	// PullLinger is how long a pulled stream with no viewer is kept (default 5s).
	PullLinger Duration `yaml:"pull_linger" json:"pull_linger"`
}

// ICEServer is one STUN or TURN server advertised to clients.
type ICEServer struct {
	URLs       []string `yaml:"urls" json:"urls"`
	Username   string   `yaml:"username" json:"username,omitempty"`
	Credential string   `yaml:"credential" json:"-"`
}

// TURN configures the embedded TURN server (RFC 8656) that relays media for clients that
// cannot reach the hub directly. Clients get short-lived credentials (TURN REST style) with
// every WHIP/WHEP session.
type TURN struct {
	// Listen is host:port of the TURN server, on UDP and TCP both; empty: no TURN server.
	Listen string `yaml:"listen" json:"listen"`
	// TLSListen is host:port of TURN over TLS (turns:) with the hub's certificate; empty: off.
	// Needs tls.mode self or files.
	TLSListen string `yaml:"tls_listen" json:"tls_listen"`
	// Realm of the long-term credentials; default "bailiff".
	Realm string `yaml:"realm" json:"realm"`
	// PublicIP is the address clients reach the TURN server at and the relayed address it
	// advertises; default: the host of Listen (which must then be an IP address).
	PublicIP string `yaml:"public_ip" json:"public_ip"`
	// RelayAddress is the local IP relayed sockets are bound to; default: the host of
	// Listen, or every address for an unspecified one.
	RelayAddress string `yaml:"relay_address" json:"relay_address"`
	// RelayPorts is the port range "min-max" of relayed addresses; default 49152-65535.
	RelayPorts string `yaml:"relay_ports" json:"relay_ports"`
	// CredentialTTL is how long a minted credential stays valid; default 1h.
	CredentialTTL Duration `yaml:"credential_ttl" json:"credential_ttl"`
	// SecretFile holds the HMAC secret of the credentials; default keys/turn.secret in the data
	// directory, made on first start. Relative to the hub file.
	SecretFile string `yaml:"secret_file" json:"secret_file"`
}

// Room is one room's config: its identity, kind and devices.
type Room struct {
	Site     string    `yaml:"site" json:"site"`
	Room     string    `yaml:"room" json:"room"`
	Kind     string    `yaml:"kind" json:"kind"`
	Name     string    `yaml:"name" json:"name"`
	Poll     Duration  `yaml:"poll" json:"poll"`                       // default health-poll period; default 10s
	Timeout  Duration  `yaml:"command_timeout" json:"command_timeout"` // per-command device timeout; default 5s
	Devices  []Device  `yaml:"devices" json:"devices"`
	Scenes   []Scene   `yaml:"scenes,omitempty" json:"scenes,omitempty"`
	Queue    Queue     `yaml:"queue,omitempty" json:"queue,omitzero"` // a litigation hall's ticket queue; see queue.go
	Media    RoomMedia `yaml:"media,omitempty" json:"media"`          // what the agent publishes and plays (roommedia.go)
	Revision int64     `yaml:"-" json:"revision,omitempty"`           // set by the hub when it publishes the config

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

// Scene is a named sequence of steps the hub runs in a room (start-hearing, privacy-on, …).
type Scene struct {
	Name    string `yaml:"name" json:"name"`                   // an ID: a-z, 0-9 and "-"
	Title   string `yaml:"title" json:"title,omitempty"`       // shown on the panels; default the name
	OnError string `yaml:"on_error" json:"on_error,omitempty"` // default of its steps: abort or continue
	Steps   []Step `yaml:"steps" json:"steps"`
}

// Step is one step of a scene: a device command (Device, Action, Args), a hub action (Hub),
// or a group of steps run at the same time (Parallel).
type Step struct {
	Device   string   `yaml:"device" json:"device,omitempty"`
	Action   string   `yaml:"action" json:"action,omitempty"`
	Args     Args     `yaml:"args" json:"args,omitempty"`
	Hub      string   `yaml:"hub" json:"hub,omitempty"`
	Timeout  Duration `yaml:"timeout" json:"timeout,omitempty"`   // 0: the hub's commands.timeout
	OnError  string   `yaml:"on_error" json:"on_error,omitempty"` // abort or continue; "": the scene's
	Parallel []Step   `yaml:"parallel" json:"parallel,omitempty"`
}

// Scene step error policies.
const (
	OnErrorAbort    = "abort"    // skip the steps after a failed one
	OnErrorContinue = "continue" // go on with the next step
)

// Hub actions a scene step may take.
const (
	HubStartRecording = "start-recording" // record every stream of the room
	HubStopRecording  = "stop-recording"  // seal the room's recording
	HubPrivacyOn      = "privacy-on"      // raise the room's privacy flag (bench conference)
	HubPrivacyOff     = "privacy-off"     // lower it
)

// HubActions lists the hub actions of scene steps.
var HubActions = []string{HubStartRecording, HubStopRecording, HubPrivacyOn, HubPrivacyOff}

// Scene returns the scene with the given name.
func (r *Room) Scene(name string) (*Scene, bool) {
	for i := range r.Scenes {
		if r.Scenes[i].Name == name {
			return &r.Scenes[i], true
		}
	}
	return nil, false
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
