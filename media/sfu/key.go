package sfu

import (
	"fmt"
	"regexp"
)

// namePattern is what a site, room or stream name must match (the
// contract's ID pattern).
var namePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)

// Key names a stream: its room's site and room, and its name in the room.
type Key struct {
	Site, Room, Name string
}

// String gives "site/room/name".
func (k Key) String() string { return k.Site + "/" + k.Room + "/" + k.Name }

// Valid reports whether every part matches [a-z0-9][a-z0-9-]{0,62}.
func (k Key) Valid() error {
	for _, p := range [...]struct{ what, v string }{{"site", k.Site}, {"room", k.Room}, {"stream", k.Name}} {
		if !namePattern.MatchString(p.v) {
			return fmt.Errorf("%w: %s %q (want %s)", ErrBadKey, p.what, p.v, namePattern)
		}
	}
	return nil
}
