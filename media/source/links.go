package source

import (
	"strings"

	"github.com/pion/webrtc/v4"
)

// maxICEServers bounds the ICE servers taken from a hub's Link headers.
const maxICEServers = 16

// parseICELinks reads the ICE servers a WHIP/WHEP answer names in its Link headers
// (RFC 9725 §4.6): <turn:host:3478?transport=udp>; rel="ice-server"; username="u";
// credential="p"; credential-type="password". Links of other relations, URLs that are not
// stun:, stuns:, turn: or turns:, and malformed links are left out.
func parseICELinks(values []string) []webrtc.ICEServer {
	var out []webrtc.ICEServer
	for _, v := range values {
		if len(v) > 8<<10 {
			continue
		}
		for v != "" && len(out) < maxICEServers {
			v = strings.TrimLeft(v, " \t,")
			if !strings.HasPrefix(v, "<") {
				break
			}
			end := strings.IndexByte(v, '>')
			if end < 0 {
				break
			}
			u := v[1:end]
			var params map[string]string
			params, v = linkParams(v[end+1:])
			if !isICEServerRel(params["rel"]) || !iceURL(u) {
				continue
			}
			s := webrtc.ICEServer{URLs: []string{u}}
			if params["username"] != "" {
				s.Username, s.Credential = params["username"], params["credential"]
			}
			out = append(out, s)
		}
	}
	return out
}

// linkParams reads ; name=value parameters (token or quoted-string) up to the next top-level
// comma, and returns them with the rest of the header.
func linkParams(s string) (map[string]string, string) {
	p := map[string]string{}
	for len(p) < 16 {
		s = strings.TrimLeft(s, " \t")
		if !strings.HasPrefix(s, ";") {
			break
		}
		s = strings.TrimLeft(s[1:], " \t")
		eq := strings.IndexAny(s, "=;,")
		if eq < 0 || s[eq] != '=' {
			name := s
			if eq >= 0 {
				name = s[:eq]
				s = s[eq:]
			} else {
				s = ""
			}
			p[strings.ToLower(strings.TrimSpace(name))] = ""
			continue
		}
		name := strings.ToLower(strings.TrimSpace(s[:eq]))
		s = strings.TrimLeft(s[eq+1:], " \t")
		var val string
		if strings.HasPrefix(s, `"`) {
			var b strings.Builder
			i := 1
			for ; i < len(s) && s[i] != '"'; i++ {
				if s[i] == '\\' && i+1 < len(s) {
					i++
				}
				b.WriteByte(s[i])
			}
			val, s = b.String(), s[min(i+1, len(s)):]
		} else {
			end := strings.IndexAny(s, ";,")
			if end < 0 {
				end = len(s)
			}
			val, s = strings.TrimSpace(s[:end]), s[end:]
		}
		p[name] = val
	}
	// Skip to the next link.
	if i := strings.IndexByte(s, ','); i >= 0 && !strings.HasPrefix(strings.TrimLeft(s, " \t"), ";") {
		return p, s[i:]
	}
	if strings.HasPrefix(strings.TrimLeft(s, " \t"), ",") {
		return p, s
	}
	return p, ""
}

func isICEServerRel(rel string) bool {
	for _, r := range strings.Fields(rel) {
		if strings.EqualFold(r, "ice-server") {
			return true
		}
	}
	return false
}

func iceURL(u string) bool {
	if len(u) > 512 || strings.ContainsAny(u, " \"\r\n") {
		return false
	}
	for _, p := range []string{"stun:", "stuns:", "turn:", "turns:"} {
		if strings.HasPrefix(u, p) && len(u) > len(p) {
			return true
		}
	}
	return false
}
