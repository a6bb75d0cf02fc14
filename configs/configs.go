// Package configs holds the example configs shipped with Bailiff: hub.yaml and one room
// config per room kind under rooms/. The demo runs them (with simulator addresses); tests
// check that they validate.
package configs

import (
	"embed"
	"io/fs"
)

// FS holds hub.yaml and rooms/*.yaml.
//
//go:embed hub.yaml rooms/*.yaml
var FS embed.FS

// RoomFiles returns the example room configs by name ("rooms/courtroom-1.yaml") for
// config.ParseRoom.
func RoomFiles() (map[string][]byte, error) {
	names, err := fs.Glob(FS, "rooms/*.yaml")
	if err != nil {
		return nil, err
	}
	out := make(map[string][]byte, len(names))
	for _, n := range names {
		b, err := fs.ReadFile(FS, n)
		if err != nil {
			return nil, err
		}
		out[n] = b
	}
	return out, nil
}
