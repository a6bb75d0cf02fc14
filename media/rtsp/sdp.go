package rtsp

import (
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// Bounds of an SDP.
const (
	MaxMedia         = 16      // m= sections
	MaxParamSetBytes = 4 << 10 // one decoded SPS or PPS
	maxSDPLines      = 1 << 10 // lines of an SDP
)

// Media is one m= section of a DESCRIBE answer, as far as a camera pull needs it.
type Media struct {
	Type        string // "video", "audio", …
	PayloadType uint8
	Codec       string // encoding name from rtpmap, upper case: "H264", "OPUS", "PCMU", …
	ClockRate   uint32
	Channels    int
	Fmtp        string            // the fmtp line's parameters as sent
	Params      map[string]string // the fmtp parameters, keys in lower case
	Control     string            // a=control as sent

	// H.264 only.
	SPS, PPS          []byte // from sprop-parameter-sets, when present
	ProfileLevelID    string // six hex digits, from the fmtp or the SPS
	PacketizationMode int
}

// Description is a parsed session description.
type Description struct {
	Control string // session-level a=control
	Media   []Media
}

// H264 returns the first H.264 video media, or nil.
func (d *Description) H264() *Media {
	for i := range d.Media {
		if d.Media[i].Type == "video" && d.Media[i].Codec == "H264" {
			return &d.Media[i]
		}
	}
	return nil
}

// Audio returns the first audio media of codec (upper case, e.g. "OPUS"), or nil.
func (d *Description) Audio(codec string) *Media {
	for i := range d.Media {
		if d.Media[i].Type == "audio" && d.Media[i].Codec == codec {
			return &d.Media[i]
		}
	}
	return nil
}

// staticPT are RFC 3551's static payload types a camera may use without an rtpmap.
var staticPT = map[uint8]struct {
	codec string
	rate  uint32
}{0: {"PCMU", 8000}, 8: {"PCMA", 8000}, 14: {"MPA", 90000}, 26: {"JPEG", 90000}, 33: {"MP2T", 90000}}

// ParseSDP parses an SDP (RFC 8866) for what a pull needs: media, codecs, fmtp and control.
// Unknown lines are ignored; only structural problems are errors.
func ParseSDP(b []byte) (*Description, error) {
	if len(b) > MaxBodyBytes {
		return nil, fmt.Errorf("%w: SDP of %d bytes", ErrTooLarge, len(b))
	}
	d := &Description{}
	pts := map[mediaKey][]uint8{}
	lines := strings.Split(strings.ReplaceAll(string(b), "\r\n", "\n"), "\n")
	if len(lines) > maxSDPLines {
		return nil, fmt.Errorf("%w: SDP of %d lines", ErrTooLarge, len(lines))
	}
	rtpmaps := map[mediaKey]map[uint8]string{}
	fmtps := map[mediaKey]map[uint8]string{}
	for i, line := range lines {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		if len(line) < 2 || line[1] != '=' {
			return nil, fmt.Errorf("%w: SDP line %d %q", ErrMalformed, i+1, clip(line))
		}
		val := line[2:]
		switch line[0] {
		case 'm':
			if len(d.Media) == MaxMedia {
				return nil, fmt.Errorf("%w: more than %d media", ErrTooLarge, MaxMedia)
			}
			f := strings.Fields(val)
			if len(f) < 4 {
				return nil, fmt.Errorf("%w: SDP line %d %q: want m=type port proto fmt…", ErrMalformed, i+1, clip(line))
			}
			d.Media = append(d.Media, Media{Type: f[0]})
			idx := len(d.Media) - 1
			var list []uint8
			for _, p := range f[3:] {
				if n, err := strconv.Atoi(p); err == nil && n >= 0 && n < 128 {
					list = append(list, uint8(n))
				}
			}
			key := mediaKey(idx)
			pts[key] = list
			rtpmaps[key] = map[uint8]string{}
			fmtps[key] = map[uint8]string{}
		case 'a':
			name, v, _ := strings.Cut(val, ":")
			idx := len(d.Media) - 1
			switch name {
			case "control":
				if idx < 0 {
					d.Control = v
				} else {
					d.Media[idx].Control = v
				}
			case "rtpmap", "fmtp":
				if idx < 0 {
					continue
				}
				ptS, rest, ok := strings.Cut(v, " ")
				pt, err := strconv.Atoi(ptS)
				if !ok || err != nil || pt < 0 || pt > 127 {
					continue
				}
				if name == "rtpmap" {
					rtpmaps[mediaKey(idx)][uint8(pt)] = strings.TrimSpace(rest)
				} else {
					fmtps[mediaKey(idx)][uint8(pt)] = strings.TrimSpace(rest)
				}
			}
		}
	}
	for i := range d.Media {
		m := &d.Media[i]
		key := mediaKey(i)
		for _, pt := range pts[key] {
			rm, ok := rtpmaps[key][pt]
			if !ok {
				if s, ok := staticPT[pt]; ok {
					m.PayloadType, m.Codec, m.ClockRate = pt, s.codec, s.rate
					break
				}
				continue
			}
			f := strings.Split(rm, "/")
			rate, err := strconv.ParseUint(f[len(f)-1], 10, 32)
			if len(f) >= 2 {
				rate, err = strconv.ParseUint(f[1], 10, 32)
			}
			if len(f) < 2 || err != nil || rate == 0 {
				continue
			}
			m.PayloadType, m.Codec, m.ClockRate = pt, strings.ToUpper(f[0]), uint32(rate)
			if len(f) >= 3 {
				m.Channels, _ = strconv.Atoi(f[2])
			}
			m.Fmtp = fmtps[key][pt]
			break
		}
		if m.Codec == "" && len(pts[key]) > 0 {
			m.PayloadType = pts[key][0]
		}
		m.Params = parseFmtp(m.Fmtp)
		if m.Codec == "H264" {
			if err := m.parseH264(); err != nil {
				return nil, fmt.Errorf("rtsp: SDP media %d: %w", i, err)
			}
		}
	}
	return d, nil
}

// mediaKey is a media's index: the maps are keyed by it because d.Media grows.
type mediaKey int

func parseFmtp(s string) map[string]string {
	out := map[string]string{}
	for _, p := range strings.Split(s, ";") {
		k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
		if k != "" {
			out[strings.ToLower(strings.TrimSpace(k))] = strings.TrimSpace(v)
		}
	}
	return out
}

// parseH264 reads sprop-parameter-sets, profile-level-id and packetization-mode (RFC 6184
// §8.1).
func (m *Media) parseH264() error {
	m.PacketizationMode, _ = strconv.Atoi(m.Params["packetization-mode"])
	if ps := m.Params["sprop-parameter-sets"]; ps != "" {
		for _, s := range strings.Split(ps, ",") {
			s = strings.TrimSpace(s)
			if s == "" {
				continue
			}
			if base64.StdEncoding.DecodedLen(len(s)) > MaxParamSetBytes {
				return fmt.Errorf("%w: a parameter set over %d bytes", ErrTooLarge, MaxParamSetBytes)
			}
			b, err := base64.StdEncoding.DecodeString(s)
			if err != nil {
				b, err = base64.RawStdEncoding.DecodeString(strings.TrimRight(s, "="))
			}
			if err != nil || len(b) == 0 {
				return fmt.Errorf("%w: sprop-parameter-sets %q is not base64", ErrMalformed, clip(s))
			}
			switch b[0] & 0x1f {
			case 7:
				m.SPS = b
			case 8:
				m.PPS = b
			}
		}
	}
	if pl := m.Params["profile-level-id"]; len(pl) == 6 {
		if _, err := hex.DecodeString(pl); err == nil {
			m.ProfileLevelID = strings.ToLower(pl)
		}
	}
	if m.ProfileLevelID == "" && len(m.SPS) >= 4 {
		m.ProfileLevelID = hex.EncodeToString(m.SPS[1:4])
	}
	return nil
}

// resolveControl resolves a control attribute against the base URL (RFC 2326 C.1.1): an
// absolute URL stays, "*" or "" is the base, anything else is relative to the base as a
// directory (as cameras mean it, whether or not the base ends in '/').
func resolveControl(base *url.URL, control string) (string, error) {
	if control == "" || control == "*" {
		return base.String(), nil
	}
	if strings.HasPrefix(strings.ToLower(control), "rtsp://") || strings.HasPrefix(strings.ToLower(control), "rtsps://") {
		u, err := url.Parse(control)
		if err != nil {
			return "", fmt.Errorf("%w: control %q", ErrMalformed, clip(control))
		}
		u.User = nil
		return u.String(), nil
	}
	b := *base
	b.RawQuery, b.Fragment = "", ""
	s := b.String()
	if !strings.HasSuffix(s, "/") {
		s += "/"
	}
	if base.RawQuery != "" && !strings.Contains(control, "?") {
		// A base with a query keeps it before the track part, as many cameras expect.
		s = strings.TrimSuffix(base.String(), "/") + "/"
	}
	return s + strings.TrimPrefix(control, "/"), nil
}
