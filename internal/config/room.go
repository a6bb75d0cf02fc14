package config

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"time"
)

// Room defaults.
const (
	DefaultPoll           = 10 * time.Second // room poll
	DefaultCommandTimeout = 5 * time.Second  // room command_timeout
)

// DefaultRoom returns a room config with the defaults set and nothing else.
func DefaultRoom() Room {
	return Room{Poll: Duration(DefaultPoll), Timeout: Duration(DefaultCommandTimeout)}
}

// LoadRoom reads and validates the room config at path. On a config error the error is an
// Errors.
func LoadRoom(path string) (*Room, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return ParseRoom(path, data)
}

// ParseRoom parses and validates a room config; name is the file name errors give.
func ParseRoom(name string, data []byte) (*Room, error) {
	r, _, errs := parseRoom(parseDocument(name, data))
	if len(errs) > 0 {
		return nil, errs
	}
	return r, nil
}

// parseRoom decodes doc into a Room over the defaults and validates it. It returns the Room
// even when there are errors.
func parseRoom(doc *document) (*Room, *document, Errors) {
	r := DefaultRoom()
	r.File = doc.name
	if doc.root != nil {
		doc.decode(doc.root, reflect.ValueOf(&r).Elem(), "")
	}
	if len(doc.errs) > 0 && doc.root == nil {
		return &r, doc, doc.errs
	}
	return &r, doc, doc.result(r.problems())
}

// LoadRooms loads every *.yaml and *.yml file in dir (not in subdirectories, not starting
// with "."), in name order. The errors of all files come back at once as an Errors, as does a
// site/room defined by two files. With a config error it also returns the rooms that loaded
// cleanly; it fails outright only when dir cannot be read (then errors.Is(err, fs.ErrNotExist)
// tells a missing directory).
func LoadRooms(dir string) ([]*Room, error) {
	rooms, errs, err := loadRooms(dir)
	if err != nil {
		return nil, err
	}
	return rooms, errs.err()
}

func loadRooms(dir string) ([]*Room, Errors, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, nil, fmt.Errorf("config: rooms: %w", err)
	}
	var (
		rooms []*Room
		errs  Errors
		seen  = map[string]string{} // site/room → file
	)
	for _, e := range entries {
		name := e.Name()
		ext := filepath.Ext(name)
		if e.IsDir() || strings.HasPrefix(name, ".") || (ext != ".yaml" && ext != ".yml") {
			continue
		}
		path := filepath.Join(dir, name)
		data, err := os.ReadFile(path)
		if err != nil {
			errs = append(errs, &FieldError{File: path, Msg: err.Error()})
			continue
		}
		r, doc, ferrs := parseRoom(parseDocument(path, data))
		if len(ferrs) > 0 {
			errs = append(errs, ferrs...)
			continue
		}
		id := r.Site + "/" + r.Room
		if other, dup := seen[id]; dup {
			fe := &FieldError{Key: "room", Msg: fmt.Sprintf("room %s is already defined in %s", id, other)}
			doc.locate(fe)
			errs = append(errs, fe)
			continue
		}
		seen[id] = path
		rooms = append(rooms, r)
	}
	return rooms, errs, nil
}

// Validate checks every key of r and returns all problems as Errors, or nil.
func (r *Room) Validate() error {
	ps := r.problems()
	for _, p := range ps {
		p.File = r.File
	}
	return Errors(ps).err()
}

func (r *Room) problems() problems {
	var p problems
	p.id("site", "site", r.Site)
	p.id("room", "room", r.Room)
	p.oneOf("kind", "kind", r.Kind, Kinds)
	p.name("name", r.Name, true)
	p.between("poll", r.Poll, time.Second, time.Hour)
	p.between("command_timeout", r.Timeout, 100*time.Millisecond, time.Minute)
	seen := map[string]int{}
	for i, d := range r.Devices {
		k := fmt.Sprintf("devices[%d]", i)
		p.uniqueID(k+".id", "device", "device ID", "devices", d.ID, i, seen)
		p.name(k+".name", d.Name, false)
		if d.Poll != 0 && (d.Poll.D() < time.Second || d.Poll.D() > time.Hour) {
			p.add(k+".poll", "must be 0 (the room's poll) or between 1s and 1h, got %s", d.Poll)
		}
		p.driver(k, d)
	}
	p.scenes(r)
	p.media(r)
	r.queueProblems(&p)
	return p
}

// driver checks a device's driver, and its address and options against the driver's spec.
func (p *problems) driver(k string, d Device) {
	known := DriverNames()
	spec, ok := Drivers[d.Driver]
	if !ok {
		if d.Driver == "" {
			p.add(k+".driver", "required; one of %s", strings.Join(known, ", "))
			return
		}
		msg := "unknown driver " + quote(d.Driver)
		if s := suggest(d.Driver, known); s != "" {
			msg += fmt.Sprintf(" (did you mean %q?)", s)
		}
		p.add(k+".driver", "%s; known drivers: %s", msg, strings.Join(known, ", "))
		return
	}
	form, rest := addressForm(d.Address)
	if !slices.Contains(spec.Address, form) {
		want := make([]string, len(spec.Address))
		for i, f := range spec.Address {
			want[i] = addressForms[f]
		}
		switch {
		case form == AddressNone && spec.Address[0] == AddressTCP:
			p.add(k+".address", "%s", checkHostPort("", spec.DefaultPort))
		case form == AddressNone:
			p.add(k+".address", "required: %s", strings.Join(want, ", or "))
		default:
			p.add(k+".address", "driver %s does not take a %s address; want %s", d.Driver, form, strings.Join(want, ", or "))
		}
	} else {
		switch form {
		case AddressTCP:
			if msg := checkHostPort(rest, spec.DefaultPort); msg != "" {
				p.add(k+".address", "%s", msg)
			}
		case AddressUDP:
			if msg := checkHostPort(rest, spec.UDPPort); msg != "" {
				p.add(k+".address", "%s", msg)
			}
		case AddressSerial:
			if !strings.HasPrefix(rest, "/") || strings.ContainsAny(rest, " \t") {
				p.add(k+".address", "want a serial device path such as serial:/dev/ttyUSB0")
			}
		}
	}
	keys := make([]string, 0, len(d.Options))
	for o := range d.Options {
		keys = append(keys, o)
	}
	sort.Strings(keys)
	for _, o := range keys {
		if slices.Contains(spec.Options, o) {
			continue
		}
		optKey := joinKey(k+".options", o)
		switch {
		case len(spec.Options) == 0:
			p.add(optKey, "unknown option: driver %s takes no options", d.Driver)
		case suggest(o, spec.Options) != "":
			p.add(optKey, "unknown option for driver %s; did you mean %q?", d.Driver, suggest(o, spec.Options))
		default:
			p.add(optKey, "unknown option for driver %s; known options: %s", d.Driver, strings.Join(spec.Options, ", "))
		}
	}
}

var addressForms = map[string]string{
	AddressTCP:    "host:port (TCP)",
	AddressUDP:    "udp://host:port",
	AddressSerial: "serial:/dev/…",
	AddressNone:   "no address",
}

// addressForm tells which form an address has, and its part after the scheme.
func addressForm(a string) (form, rest string) {
	switch {
	case a == "":
		return AddressNone, ""
	case strings.HasPrefix(a, "serial:"):
		return AddressSerial, strings.TrimPrefix(a, "serial:")
	case strings.HasPrefix(a, "/dev/"):
		return AddressSerial, a
	case strings.HasPrefix(a, "udp://"):
		return AddressUDP, strings.TrimPrefix(a, "udp://")
	case strings.HasPrefix(a, "tcp://"):
		return AddressTCP, strings.TrimPrefix(a, "tcp://")
	}
	return AddressTCP, a
}

// DriverNames lists the names in Drivers, sorted.
func DriverNames() []string {
	names := make([]string, 0, len(Drivers))
	for n := range Drivers {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// DevicePoll returns how often d is polled: its own poll, else the room's (else the default).
func (r *Room) DevicePoll(d Device) time.Duration {
	switch {
	case d.Poll > 0:
		return d.Poll.D()
	case r.Poll > 0:
		return r.Poll.D()
	}
	return DefaultPoll
}

// Device returns the device with the given ID.
func (r *Room) Device(id string) (*Device, bool) {
	for i := range r.Devices {
		if r.Devices[i].ID == id {
			return &r.Devices[i], true
		}
	}
	return nil, false
}
