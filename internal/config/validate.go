package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strings"
)

// Top-level keys that tell a room config from a hub config.
var (
	roomMarkers = []string{"site", "room", "devices"}
	hubMarkers  = []string{"http", "mqtt", "data", "rooms", "commands", "log", "alarms", "media"}
)

// ValidateFile checks one config file, as "hub validate FILE…" does. A file with a top-level
// site, room or devices key is a room config; one with http, mqtt, data, rooms, commands,
// log or media is a hub config, and then the rooms directory it names is loaded and checked too. The
// file is checked as written: BAILIFF_* variables are not applied. Config errors come back as
// an Errors.
func ValidateFile(path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	doc := parseDocument(path, data)
	if len(doc.errs) > 0 {
		return doc.errs
	}
	keys := doc.topKeys()
	isRoom := slices.ContainsFunc(keys, func(k string) bool { return slices.Contains(roomMarkers, k) })
	isHub := slices.ContainsFunc(keys, func(k string) bool { return slices.Contains(hubMarkers, k) })
	switch {
	case isRoom:
		_, _, errs := parseRoom(doc)
		return errs.err()
	case isHub:
		h, errs := parseHub(doc, nil)
		if h.Rooms == "" || doc.failed["rooms"] {
			return errs.err()
		}
		_, rerrs, err := loadRooms(h.RoomsDir())
		if err != nil {
			msg := err.Error()
			if errors.Is(err, fs.ErrNotExist) {
				msg = fmt.Sprintf("directory %s does not exist", quote(h.RoomsDir()))
			}
			fe := &FieldError{Key: "rooms", Msg: msg}
			doc.locate(fe)
			errs = append(errs, fe)
		}
		return append(errs, rerrs...).err()
	case len(keys) == 0:
		return Errors{{File: path, Msg: "empty config: nothing to validate"}}
	default:
		if len(keys) > 10 {
			keys = append(keys[:10:10], "…")
		}
		return Errors{{File: path, Line: doc.root.Line, Msg: fmt.Sprintf(
			"neither a hub config nor a room config: want top-level keys %s (room) or %s (hub), got %s",
			strings.Join(roomMarkers, "/"), strings.Join(hubMarkers, "/"), strings.Join(keys, ", "))}}
	}
}
