// Package wire is the MQTT contract v1 between Bailiff agents and the hub: topic names, message
// types, their encoders and validating decoders. It imports nothing of the project, so every
// other package can depend on it.
package wire

import (
	"fmt"
	"strings"
)

// Prefix starts every topic of contract v1.
const Prefix = "bailiff/v1"

// Kind names the last element(s) of a topic: what the message on it is.
type Kind string

// The topic kinds of contract v1.
const (
	KindAgent  Kind = "agent"  // bailiff/v1/{site}/{room}/agent, retained
	KindConfig Kind = "config" // bailiff/v1/{site}/{room}/config, retained
	KindMeter  Kind = "meter"  // bailiff/v1/{site}/{room}/meter, QoS 0
	KindState  Kind = "state"  // bailiff/v1/{site}/{room}/d/{device}/state, retained
	KindCmd    Kind = "cmd"    // bailiff/v1/{site}/{room}/d/{device}/cmd, QoS 1
	KindAck    Kind = "ack"    // bailiff/v1/{site}/{room}/d/{device}/ack, QoS 1
	KindEvent  Kind = "event"  // bailiff/v1/{site}/{room}/d/{device}/event
)

// DeviceKind reports whether k is a per-device topic kind (under …/d/{device}/).
func (k Kind) DeviceKind() bool {
	switch k {
	case KindState, KindCmd, KindAck, KindEvent:
		return true
	}
	return false
}

func (k Kind) roomKind() bool {
	switch k {
	case KindAgent, KindConfig, KindMeter:
		return true
	}
	return false
}

// Topic is a parsed contract topic. Device is empty for room-level kinds.
type Topic struct {
	Site, Room, Device string
	Kind               Kind
}

// ValidID reports whether s is a valid site, room or device ID: [a-z0-9][a-z0-9-]{0,62}.
func ValidID(s string) bool {
	if len(s) == 0 || len(s) > 63 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		case c == '-' && i > 0:
		default:
			return false
		}
	}
	return true
}

// CheckID returns an error naming what (e.g. "site") when id is not a valid ID.
func CheckID(what, id string) error {
	if !ValidID(id) {
		return fmt.Errorf("invalid %s ID %q: want 1-63 characters of a-z, 0-9 and '-', not starting with '-'", what, id)
	}
	return nil
}

// RoomTopic returns bailiff/v1/{site}/{room}/{kind} for a room-level kind.
func RoomTopic(site, room string, k Kind) string {
	return Prefix + "/" + site + "/" + room + "/" + string(k)
}

// DeviceTopic returns bailiff/v1/{site}/{room}/d/{device}/{kind}.
func DeviceTopic(site, room, device string, k Kind) string {
	return Prefix + "/" + site + "/" + room + "/d/" + device + "/" + string(k)
}

// String returns the topic name.
func (t Topic) String() string {
	if t.Kind.DeviceKind() {
		return DeviceTopic(t.Site, t.Room, t.Device, t.Kind)
	}
	return RoomTopic(t.Site, t.Room, t.Kind)
}

// Filters the hub subscribes to.
const (
	FilterAgents = Prefix + "/+/+/agent"
	FilterStates = Prefix + "/+/+/d/+/state"
	FilterAcks   = Prefix + "/+/+/d/+/ack"
	FilterEvents = Prefix + "/+/+/d/+/event"
	FilterMeters = Prefix + "/+/+/meter"
	FilterAll    = Prefix + "/#"
)

// Hub-to-hub topics: what the hubs of a share group tell one another, outside the agents'
// tree so that no agent or observer ACL rule of contract v1 reaches it (only the hub's login
// may read or write it).
const (
	HubsPrefix = "bailiff/hubs/v1"
	// FilterHubFeeds matches every hub's feed topic (HubFeedTopic).
	FilterHubFeeds = HubsPrefix + "/feed/+"
	// FilterHubsAll is every hub-to-hub topic, for a broker's ACL.
	FilterHubsAll = HubsPrefix + "/#"
)

// HubFeedTopic is the topic on which the hub with node ID node publishes its own feed events.
func HubFeedTopic(node string) string { return HubsPrefix + "/feed/" + node }

// RoomFilter returns the filter of every device topic of kind k in one room.
func RoomFilter(site, room string, k Kind) string {
	return Prefix + "/" + site + "/" + room + "/d/+/" + string(k)
}

// ParseTopic parses a contract v1 topic name and validates its IDs.
func ParseTopic(name string) (Topic, error) {
	rest, ok := strings.CutPrefix(name, Prefix+"/")
	if !ok {
		return Topic{}, fmt.Errorf("wire: topic %q: not under %s/", name, Prefix)
	}
	parts := strings.Split(rest, "/")
	var t Topic
	switch len(parts) {
	case 3:
		t = Topic{Site: parts[0], Room: parts[1], Kind: Kind(parts[2])}
		if !t.Kind.roomKind() {
			return Topic{}, fmt.Errorf("wire: topic %q: unknown room topic %q", name, parts[2])
		}
	case 5:
		if parts[2] != "d" {
			return Topic{}, fmt.Errorf("wire: topic %q: want …/d/{device}/{kind}", name)
		}
		t = Topic{Site: parts[0], Room: parts[1], Device: parts[3], Kind: Kind(parts[4])}
		if !t.Kind.DeviceKind() {
			return Topic{}, fmt.Errorf("wire: topic %q: unknown device topic %q", name, parts[4])
		}
		if err := CheckID("device", t.Device); err != nil {
			return Topic{}, fmt.Errorf("wire: topic %q: %w", name, err)
		}
	default:
		return Topic{}, fmt.Errorf("wire: topic %q: wrong number of levels", name)
	}
	if err := CheckID("site", t.Site); err != nil {
		return Topic{}, fmt.Errorf("wire: topic %q: %w", name, err)
	}
	if err := CheckID("room", t.Room); err != nil {
		return Topic{}, fmt.Errorf("wire: topic %q: %w", name, err)
	}
	return t, nil
}

// AgentUser is the MQTT user name, and the client ID, of the agent of one room:
// "agent/{site}/{room}". (Contract v1 first wrote "agent:{site}/{room}"; a ':' cannot stand in a
// user name of mosquitto's password file, so the external-broker mode could not work with it.)
func AgentUser(site, room string) string { return "agent/" + site + "/" + room }

// ParseAgentUser returns the site and room of an agent user name, ok false when it is not one.
func ParseAgentUser(user string) (site, room string, ok bool) {
	rest, found := strings.CutPrefix(user, "agent/")
	if !found {
		return "", "", false
	}
	site, room, found = strings.Cut(rest, "/")
	if !found || !ValidID(site) || !ValidID(room) {
		return "", "", false
	}
	return site, room, true
}
