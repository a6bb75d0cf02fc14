package config

import (
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/bailiff/bailiff/internal/wire"
)

// problems collects validation errors by key; the caller fills in file and line.
type problems []*FieldError

func (p *problems) add(key, format string, args ...any) {
	*p = append(*p, &FieldError{Key: key, Msg: fmt.Sprintf(format, args...)})
}

// id checks a site, room or device ID.
func (p *problems) id(key, what, s string) {
	if s == "" {
		p.add(key, "required")
		return
	}
	if err := wire.CheckID(what, s); err != nil {
		p.add(key, "%s", err.Error())
	}
}

// unique checks that id (item i of the list listKey) is not an earlier item's, and remembers it.
func (p *problems) unique(seen map[string]int, key, listKey, what, id string, i int) {
	if j, dup := seen[id]; dup && id != "" {
		p.add(key, "duplicate %s %q (also %s[%d])", what, id, listKey, j)
		return
	}
	seen[id] = i
}

// uniqueID checks the ID of element i of a list (what it is an ID of, for the ID's own check),
// and that no earlier element has it (seen: ID → index, updated).
func (p *problems) uniqueID(key, what, label, list, id string, i int, seen map[string]int) {
	p.id(key, what, id)
	p.unique(seen, key, list, label, id, i)
}

const maxNameLen = 200 // characters of a room or device name

// name checks a display name.
func (p *problems) name(key, s string, required bool) {
	switch {
	case strings.TrimSpace(s) == "":
		if required {
			p.add(key, "required")
		} else if s != "" {
			p.add(key, "blank: leave it out or write a name")
		}
	case !utf8.ValidString(s):
		p.add(key, "not valid UTF-8")
	case utf8.RuneCountInString(s) > maxNameLen:
		p.add(key, "too long: %d characters, at most %d", utf8.RuneCountInString(s), maxNameLen)
	case strings.ContainsFunc(s, unicode.IsControl):
		p.add(key, "must not contain control characters such as line breaks")
	}
}

// between checks that lo <= d <= hi.
func (p *problems) between(key string, d Duration, lo, hi time.Duration) {
	if d.D() < lo || d.D() > hi {
		p.add(key, "must be between %s and %s, got %s", Duration(lo), Duration(hi), d)
	}
}

// oneOf checks that s is one of want.
func (p *problems) oneOf(key, what, s string, want []string) {
	for _, w := range want {
		if s == w {
			return
		}
	}
	if s == "" {
		p.add(key, "required; one of %s", strings.Join(want, ", "))
		return
	}
	msg := fmt.Sprintf("unknown %s %s", what, quote(s))
	if sg := suggest(s, want); sg != "" {
		msg += fmt.Sprintf(" (did you mean %q?)", sg)
	}
	p.add(key, "%s; want one of %s", msg, strings.Join(want, ", "))
}

// checkListen checks a listen address: host:port, where host may be empty (every interface)
// and port 0 picks a free port. It returns what is wrong, or "".
func checkListen(s string) string {
	if s == "" {
		return "required (host:port, e.g. 127.0.0.1:8080)"
	}
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		if !strings.Contains(s, ":") {
			return quote(s) + ": missing port (want host:port, e.g. 127.0.0.1:8080)"
		}
		return quote(s) + ": want host:port (an IPv6 host goes in brackets: [::1]:8080)"
	}
	if host != "" && !validHost(host) {
		return fmt.Sprintf("%s: bad host %s", quote(s), quote(host))
	}
	if msg := checkPort(port, 0); msg != "" {
		return quote(s) + ": " + msg
	}
	return ""
}

// checkPort checks a decimal port number from lo to 65535.
func checkPort(port string, lo int) string {
	if port == "" {
		return "missing port"
	}
	n, err := strconv.Atoi(port)
	if err != nil || port[0] == '+' || port[0] == '-' {
		return fmt.Sprintf("bad port %s: want a number", quote(port))
	}
	if n < lo || n > 65535 {
		return fmt.Sprintf("port %d out of range %d-65535", n, lo)
	}
	return ""
}

// checkHostPort checks a device's network address: host or host:port (port 1-65535), an IPv6
// host in brackets. A port is required when defaultPort is 0.
func checkHostPort(s string, defaultPort int) string {
	if s == "" {
		if defaultPort == 0 {
			return "required (host:port)"
		}
		return fmt.Sprintf("required (host, or host:port; the port defaults to %d)", defaultPort)
	}
	if strings.Contains(s, "://") {
		return quote(s) + ": want host or host:port, not a URL"
	}
	var host, port string
	hasPort := true
	switch {
	case strings.HasPrefix(s, "[") && strings.HasSuffix(s, "]"):
		host, hasPort = s[1:len(s)-1], false
		if a, err := netip.ParseAddr(host); err != nil || !a.Is6() {
			return fmt.Sprintf("%s: bad IPv6 address %s", quote(s), quote(host))
		}
	case strings.Count(s, ":") == 0:
		host, hasPort = s, false
	case strings.Count(s, ":") > 1 && !strings.HasPrefix(s, "["):
		return quote(s) + ": an IPv6 address goes in brackets, e.g. [fe80::1]:4352"
	default:
		var err error
		host, port, err = net.SplitHostPort(s)
		if err != nil {
			return quote(s) + ": want host or host:port"
		}
	}
	if !validHost(host) {
		return fmt.Sprintf("%s: bad host %s", quote(s), quote(host))
	}
	if !hasPort {
		if defaultPort == 0 {
			return quote(s) + ": missing port"
		}
		return ""
	}
	if msg := checkPort(port, 1); msg != "" {
		return quote(s) + ": " + msg
	}
	return ""
}

// validHost reports whether h is an IP address or a host name.
func validHost(h string) bool {
	if _, err := netip.ParseAddr(h); err == nil {
		return true
	}
	if h == "" || len(h) > 253 {
		return false
	}
	for _, label := range strings.Split(strings.TrimSuffix(h, "."), ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return false
			}
		}
	}
	return true
}

// brokerSchemes are the URL schemes an external broker may use.
var brokerSchemes = []string{"tcp", "mqtt", "ssl", "tls"}

// checkBrokerURL checks an external broker URL: scheme://host:port. It never quotes a URL that
// carries credentials.
func checkBrokerURL(s string) string {
	const example = " (e.g. tcp://broker.example:1883)"
	u, err := url.Parse(s)
	if err != nil || u.Opaque != "" || u.Host == "" {
		if err == nil && u.User != nil {
			return "want scheme://host:port" + example
		}
		if strings.Contains(s, "@") {
			return "not a broker URL" + example
		}
		return quote(s) + ": want scheme://host:port" + example
	}
	shown := quote(s)
	if u.User != nil {
		return "credentials do not belong in the URL: use username and password or password_file"
	}
	scheme := strings.ToLower(u.Scheme)
	ok := false
	for _, b := range brokerSchemes {
		ok = ok || scheme == b
	}
	if !ok {
		return fmt.Sprintf("%s: scheme %s not supported; want one of %s", shown, quote(u.Scheme), strings.Join(brokerSchemes, ", "))
	}
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return shown + ": want scheme://host:port with nothing after the port"
	}
	host, port, err := net.SplitHostPort(u.Host)
	if err != nil {
		return shown + ": missing port" + example
	}
	if !validHost(host) {
		return fmt.Sprintf("%s: bad host %s", shown, quote(host))
	}
	if msg := checkPort(port, 1); msg != "" {
		return shown + ": " + msg
	}
	return ""
}
