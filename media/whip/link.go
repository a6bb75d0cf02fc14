package whip

import (
	"strings"

	"github.com/pion/webrtc/v4"
)

// maxLinks bounds how many ICE servers ParseLinks returns.
const maxLinks = 32

// ParseLinks reads the ICE servers of a WHIP/WHEP answer's Link headers (RFC 9725 §4.6):
// each link `<URL>; rel="ice-server"` with, for TURN, `username`, `credential` and
// `credential-type="password"`. Links of another rel, with a URL that is not stun:, stuns:,
// turn: or turns:, or that cannot be parsed are skipped. It is what a WHIP client (an agent,
// a test) uses; browsers do the same in JavaScript.
func ParseLinks(values []string) []webrtc.ICEServer {
	var out []webrtc.ICEServer
	for _, v := range values {
		for len(v) > 0 && len(out) < maxLinks {
			var link map[string]string
			var url string
			var ok bool
			url, link, v, ok = parseLink(v)
			if !ok {
				break
			}
			if !strings.EqualFold(link["rel"], "ice-server") || !validICEURL(url) {
				continue
			}
			s := webrtc.ICEServer{URLs: []string{url}}
			if u, c := link["username"], link["credential"]; u != "" && c != "" {
				if ct, has := link["credential-type"]; has && ct != "password" {
					continue
				}
				s.Username, s.Credential, s.CredentialType = u, c, webrtc.ICECredentialTypePassword
			}
			out = append(out, s)
		}
	}
	return out
}

// parseLink reads one link-value of a Link header (RFC 8288 §3) from the start of v and
// returns the rest after its comma.
func parseLink(v string) (url string, params map[string]string, rest string, ok bool) {
	v = strings.TrimLeft(v, " \t,")
	if !strings.HasPrefix(v, "<") {
		return "", nil, "", false
	}
	end := strings.IndexByte(v, '>')
	if end < 0 {
		return "", nil, "", false
	}
	url, v = v[1:end], v[end+1:]
	params = map[string]string{}
	for {
		v = strings.TrimLeft(v, " \t")
		if v == "" {
			return url, params, "", true
		}
		if v[0] == ',' {
			return url, params, v[1:], true
		}
		if v[0] != ';' {
			return "", nil, "", false
		}
		v = strings.TrimLeft(v[1:], " \t")
		i := strings.IndexAny(v, "=;,")
		if i < 0 {
			params[strings.ToLower(strings.TrimSpace(v))] = ""
			return url, params, "", true
		}
		name := strings.ToLower(strings.TrimSpace(v[:i]))
		if v[i] != '=' {
			params[name] = ""
			v = v[i:]
			continue
		}
		v = strings.TrimLeft(v[i+1:], " \t")
		var val string
		if strings.HasPrefix(v, `"`) {
			var b strings.Builder
			j := 1
			closed := false
			for ; j < len(v); j++ {
				c := v[j]
				if c == '\\' && j+1 < len(v) {
					j++
					b.WriteByte(v[j])
					continue
				}
				if c == '"' {
					closed = true
					break
				}
				b.WriteByte(c)
			}
			if !closed {
				return "", nil, "", false
			}
			val, v = b.String(), v[j+1:]
		} else {
			k := strings.IndexAny(v, ";,")
			if k < 0 {
				k = len(v)
			}
			val, v = strings.TrimSpace(v[:k]), v[k:]
		}
		if _, dup := params[name]; !dup {
			params[name] = val
		}
	}
}
