package config

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // site time zones work on hosts without a zoneinfo database
	"unicode"
)

// Queue is a litigation hall's ticket queue: its services (each with its own number prefix),
// the windows that serve them, and the kiosk buttons that issue tickets. A room has a queue
// when Services is not empty. Numbers in YAML may be written bare (recall_within: 3).
type Queue struct {
	// TimeZone is the site's IANA time zone (e.g. Asia/Shanghai): the daily reset and the
	// statistics' days follow it. Default: the hub's local time zone.
	TimeZone string `yaml:"time_zone" json:"time_zone,omitempty"`
	// Reset is the time of day ("HH:MM", in TimeZone) when numbers start again at 1 and the
	// tickets still waiting or called are closed as expired; "off" never resets. Default 00:00.
	Reset string `yaml:"reset" json:"reset,omitempty"`
	// RecallWithin: a ticket marked no-show can be called back at its window until that
	// window has called this many further tickets. 0-100, default 3.
	RecallWithin string `yaml:"recall_within" json:"recall_within,omitempty"`
	// StatusURL, when set, is printed on tickets as a QR code; "{number}" in it becomes the
	// ticket's number.
	StatusURL string         `yaml:"status_url" json:"status_url,omitempty"`
	Services  []QueueService `yaml:"services" json:"services,omitempty"`
	Windows   []QueueWindow  `yaml:"windows" json:"windows,omitempty"`
	Buttons   []QueueButton  `yaml:"buttons" json:"buttons,omitempty"`
	Printers  []string       `yaml:"printers" json:"printers,omitempty"` // escpos devices tickets may be printed on
}

// QueueService is one category of business with its own ticket numbers (A001, A002, …).
type QueueService struct {
	ID     string            `yaml:"id" json:"id"`                   // as the API names it: {"service":"A"}
	Prefix string            `yaml:"prefix" json:"prefix,omitempty"` // 1-3 capital letters or digits; default the ID
	Name   string            `yaml:"name" json:"name"`               // shown and printed
	Names  map[string]string `yaml:"names" json:"names,omitempty"`   // the name by language ("zh", "en")
	Digits string            `yaml:"digits" json:"digits,omitempty"` // digits of the number, 2-5, default 3
}

// QueueWindow is one service window (counter) and the services its staff serve, in order.
type QueueWindow struct {
	ID       string            `yaml:"id" json:"id"`
	Name     string            `yaml:"name" json:"name"`             // shown and announced
	Names    map[string]string `yaml:"names" json:"names,omitempty"` // the name by language ("zh", "en")
	Services []string          `yaml:"services" json:"services"`
	// Policy picks the next ticket: "first-come" takes the earliest ticket of the first
	// service in Services that has one; "longest-wait" takes the earliest ticket of all of
	// them. Priority tickets go first under both. Default first-come.
	Policy string `yaml:"policy" json:"policy,omitempty"`
}

// QueueButton maps a device event (a GPIO kiosk button, a firmware-bridge keypad) to a ticket.
type QueueButton struct {
	Device   string            `yaml:"device" json:"device"`               // the device whose event it is
	Event    string            `yaml:"event" json:"event"`                 // the event's type, e.g. "button"
	Match    map[string]string `yaml:"match" json:"match,omitempty"`       // fields the event must have, e.g. pressed: "true"
	Service  string            `yaml:"service" json:"service"`             // the service of the ticket
	Priority string            `yaml:"priority" json:"priority,omitempty"` // "true": a priority ticket
	Printer  string            `yaml:"printer" json:"printer,omitempty"`   // an escpos device that prints it
}

// Queue policies.
const (
	QueueFirstCome   = "first-come"
	QueueLongestWait = "longest-wait"
)

// QueuePolicies lists the window policies.
var QueuePolicies = []string{QueueFirstCome, QueueLongestWait}

// Enabled reports whether the room has a queue.
func (q *Queue) Enabled() bool { return len(q.Services) > 0 }

// Location returns the queue's time zone (the hub's local one when unset or unknown).
func (q *Queue) Location() *time.Location {
	if q.TimeZone == "" {
		return time.Local
	}
	loc, err := time.LoadLocation(q.TimeZone)
	if err != nil {
		return time.Local
	}
	return loc
}

// ResetAt returns the daily reset as an offset from midnight, and false for "off".
func (q *Queue) ResetAt() (time.Duration, bool) {
	if q.Reset == "off" {
		return 0, false
	}
	d, _ := parseClock(q.Reset)
	return d, true
}

// Recalls returns RecallWithin as a number.
func (q *Queue) Recalls() int {
	if q.RecallWithin == "" {
		return 3
	}
	n, _ := strconv.Atoi(strings.TrimSpace(q.RecallWithin))
	return n
}

// PrefixOf returns the number prefix of a service.
func (s QueueService) PrefixOf() string {
	if s.Prefix != "" {
		return s.Prefix
	}
	return strings.ToUpper(s.ID)
}

// DigitsOf returns how many digits the service's numbers have.
func (s QueueService) DigitsOf() int {
	n, err := strconv.Atoi(strings.TrimSpace(s.Digits))
	if err != nil || n == 0 {
		return 3
	}
	return n
}

// IsPriority reports whether the button issues priority tickets.
func (b QueueButton) IsPriority() bool { v, _ := strconv.ParseBool(b.Priority); return v }

// CheckServiceID says what is wrong with a service ID, or "".
func CheckServiceID(id string) string {
	switch {
	case id == "":
		return "required"
	case len(id) > 16 || strings.ContainsFunc(id, func(c rune) bool {
		return !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-')
	}):
		return fmt.Sprintf("invalid service ID %s: want 1-16 letters, digits or '-'", quote(id))
	}
	return ""
}

// parseClock parses "HH:MM" into an offset from midnight.
func parseClock(s string) (time.Duration, bool) {
	if s == "" {
		return 0, true
	}
	h, m, ok := strings.Cut(s, ":")
	if !ok || len(h) != 2 || len(m) != 2 {
		return 0, false
	}
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if err1 != nil || err2 != nil || hh < 0 || hh > 23 || mm < 0 || mm > 59 {
		return 0, false
	}
	return time.Duration(hh)*time.Hour + time.Duration(mm)*time.Minute, true
}

func (r *Room) queueProblems(p *problems) {
	q := &r.Queue
	if !q.Enabled() {
		if len(q.Windows) > 0 || len(q.Buttons) > 0 || len(q.Printers) > 0 {
			p.add("queue.services", "required: a queue with windows, buttons or printers needs at least one service")
		}
		return
	}
	if q.TimeZone != "" {
		if _, err := time.LoadLocation(q.TimeZone); err != nil || strings.EqualFold(q.TimeZone, "local") {
			p.add("queue.time_zone", "unknown time zone %s: want an IANA name such as Asia/Shanghai or UTC", quote(q.TimeZone))
		}
	}
	if q.Reset != "off" {
		if _, ok := parseClock(q.Reset); !ok {
			p.add("queue.reset", "want a time of day HH:MM (e.g. \"00:00\") or \"off\", got %s", quote(q.Reset))
		}
	}
	if q.RecallWithin != "" {
		if n, err := strconv.Atoi(strings.TrimSpace(q.RecallWithin)); err != nil || n < 0 || n > 100 {
			p.add("queue.recall_within", "want a number of calls 0-100, got %s", quote(q.RecallWithin))
		}
	}
	if q.StatusURL != "" && !(strings.HasPrefix(q.StatusURL, "http://") || strings.HasPrefix(q.StatusURL, "https://")) ||
		strings.ContainsFunc(q.StatusURL, unicode.IsControl) || len(q.StatusURL) > 500 {
		p.add("queue.status_url", "want an http:// or https:// URL of at most 500 characters without control characters")
	}
	services := map[string]int{}
	prefixes := map[string]int{}
	for i, s := range q.Services {
		k := fmt.Sprintf("queue.services[%d]", i)
		if msg := CheckServiceID(s.ID); msg != "" {
			p.add(k+".id", "%s", msg)
		}
		p.unique(services, k+".id", "queue.services", "service ID", s.ID, i)
		pre := s.PrefixOf()
		if len(pre) < 1 || len(pre) > 3 || strings.ContainsFunc(pre, func(c rune) bool { return !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') }) {
			key := k + ".prefix"
			if s.Prefix == "" {
				key = k + ".id"
			}
			p.add(key, "number prefix %s: want 1-3 capital letters or digits (set prefix when the ID is not one)", quote(pre))
		} else if j, dup := prefixes[pre]; dup {
			p.add(k+".prefix", "prefix %q is already used by queue.services[%d]", pre, j)
		} else {
			prefixes[pre] = i
		}
		p.name(k+".name", s.Name, true)
		for lang, n := range s.Names {
			p.name(joinKey(k+".names", lang), n, true)
		}
		if s.Digits != "" {
			if n, err := strconv.Atoi(strings.TrimSpace(s.Digits)); err != nil || n < 2 || n > 5 {
				p.add(k+".digits", "want 2-5 digits, got %s", quote(s.Digits))
			}
		}
	}
	unknownService := func(key, id string) {
		known := make([]string, 0, len(q.Services))
		for _, s := range q.Services {
			known = append(known, s.ID)
		}
		msg := "unknown service " + quote(id)
		if sg := suggest(id, known); sg != "" {
			msg += fmt.Sprintf(" (did you mean %q?)", sg)
		}
		p.add(key, "%s; services: %s", msg, strings.Join(known, ", "))
	}
	windows := map[string]int{}
	for i, w := range q.Windows {
		k := fmt.Sprintf("queue.windows[%d]", i)
		p.uniqueID(k+".id", "window", "window ID", "queue.windows", w.ID, i, windows)
		p.name(k+".name", w.Name, true)
		for lang, n := range w.Names {
			p.name(joinKey(k+".names", lang), n, true)
		}
		if len(w.Services) == 0 {
			p.add(k+".services", "required: the services this window serves, in order")
		}
		for j, s := range w.Services {
			if _, ok := services[s]; !ok {
				unknownService(fmt.Sprintf("%s.services[%d]", k, j), s)
			} else if slices.Index(w.Services, s) != j {
				p.add(fmt.Sprintf("%s.services[%d]", k, j), "service %q is listed twice", s)
			}
		}
		if w.Policy != "" {
			p.oneOf(k+".policy", "policy", w.Policy, QueuePolicies)
		}
	}
	if len(q.Windows) == 0 {
		p.add("queue.windows", "required: at least one window serving the services")
	}
	printer := func(key, id string) {
		d, ok := r.Device(id)
		switch {
		case !ok:
			p.add(key, "no device %s in this room", quote(id))
		case d.Driver != "escpos":
			p.add(key, "device %q is a %s, not a ticket printer (escpos)", id, d.Driver)
		}
	}
	for i, id := range q.Printers {
		printer(fmt.Sprintf("queue.printers[%d]", i), id)
	}
	for i, b := range q.Buttons {
		k := fmt.Sprintf("queue.buttons[%d]", i)
		if b.Device == "" {
			p.add(k+".device", "required: the device whose event issues the ticket")
		} else if _, ok := r.Device(b.Device); !ok {
			p.add(k+".device", "no device %s in this room", quote(b.Device))
		}
		if b.Event == "" {
			p.add(k+".event", "required: the event type, e.g. button")
		}
		if _, ok := services[b.Service]; !ok {
			if b.Service == "" {
				p.add(k+".service", "required")
			} else {
				unknownService(k+".service", b.Service)
			}
		}
		if b.Priority != "" {
			if _, err := strconv.ParseBool(b.Priority); err != nil {
				p.add(k+".priority", "want true or false, got %s", quote(b.Priority))
			}
		}
		if b.Printer != "" {
			printer(k+".printer", b.Printer)
		}
	}
}
