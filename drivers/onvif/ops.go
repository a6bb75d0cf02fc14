package onvif

import (
	"encoding/xml"
	"fmt"
	"math"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/kerberos-io/onvif/device"
	"github.com/kerberos-io/onvif/media"
	"github.com/kerberos-io/onvif/ptz"
	"github.com/kerberos-io/onvif/xsd"
	tt "github.com/kerberos-io/onvif/xsd/onvif"

	"github.com/bailiff/bailiff/drivers"
)

// service is the ONVIF service an operation belongs to.
type service int

const (
	deviceService service = iota
	mediaService
	ptzService
)

func (s service) String() string {
	switch s {
	case mediaService:
		return "media"
	case ptzService:
		return "ptz"
	}
	return "device"
}

// op is one ONVIF operation the driver uses.
type op struct {
	name    string // e.g. "ContinuousMove"
	service service
	// auth: the request carries the UsernameToken. GetSystemDateAndTime goes without, as the
	// driver asks it to learn the camera's clock before it can make a token the camera takes
	// (it is PRE_AUTH, Core §8.3.6).
	auth bool
	// idempotent: sending it twice does what sending it once does, so the driver may send it
	// again on a new connection after a connection failed.
	idempotent bool
}

var (
	opSystemDateAndTime = op{"GetSystemDateAndTime", deviceService, false, true}
	opCapabilities      = op{"GetCapabilities", deviceService, true, true}
	opServices          = op{"GetServices", deviceService, true, true}
	opProfiles          = op{"GetProfiles", mediaService, true, true}
	opContinuousMove    = op{"ContinuousMove", ptzService, true, true}
	opStop              = op{"Stop", ptzService, true, true}
	opGotoPreset        = op{"GotoPreset", ptzService, true, true}
	opSetPreset         = op{"SetPreset", ptzService, true, true} // see setPresetOp
	opGetPresets        = op{"GetPresets", ptzService, true, true}
	opGetStatus         = op{"GetStatus", ptzService, true, true}
)

// setPresetOp is SetPreset, which is idempotent only when it names the preset to overwrite:
// without a token the camera makes a new preset each time.
func setPresetOp(token string) op {
	o := opSetPreset
	o.idempotent = token != ""
	return o
}

// ops lists the operations by name, for tests.
var ops = map[string]op{}

func init() {
	for _, o := range []op{opSystemDateAndTime, opCapabilities, opServices, opProfiles, opContinuousMove,
		opStop, opGotoPreset, opSetPreset, opGetPresets, opGetStatus} {
		ops[o.name] = o
	}
}

// Request bodies. The elements are the request types of kerberos-io/onvif, marshalled with
// encoding/xml, except the velocity of ContinuousMove: the library's tt:Vector2D drops an x or
// y of 0 (omitempty) where the schema requires both.

func marshal(v any) []byte {
	b, err := xml.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("onvif: marshal %T: %v", v, err)) // fixed types: a programming error
	}
	return b
}

func reqSystemDateAndTime() []byte { return marshal(device.GetSystemDateAndTime{}) }

func reqCapabilities() []byte {
	return marshal(device.GetCapabilities{Category: []tt.CapabilityCategory{"All"}})
}

func reqServices() []byte { return marshal(device.GetServices{IncludeCapability: false}) }

func reqProfiles() []byte { return marshal(media.GetProfiles{}) }

type velocity struct {
	PanTilt vector2 `xml:"tt:PanTilt"`
	Zoom    vector1 `xml:"tt:Zoom"`
}

type vector2 struct {
	X string `xml:"x,attr"`
	Y string `xml:"y,attr"`
}

type vector1 struct {
	X string `xml:"x,attr"`
}

// speed formats a velocity component: clamped to -1…1, rounded to 4 decimals.
func speed(v float64) string {
	if math.IsNaN(v) {
		v = 0
	}
	v = math.Round(math.Max(-1, math.Min(1, v))*1e4) / 1e4
	if v == 0 {
		v = 0 // no "-0"
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}

// duration formats an xs:duration of whole milliseconds or more: "PT10S", "PT0.5S".
func duration(d time.Duration) string {
	return "PT" + strconv.FormatFloat(d.Round(time.Millisecond).Seconds(), 'f', -1, 64) + "S"
}

func reqContinuousMove(profile string, pan, tilt, zoom float64, timeout time.Duration) []byte {
	p := tt.ReferenceToken(profile)
	m := ptz.ContinuousMove{
		ProfileToken: &p,
		Velocity:     velocity{PanTilt: vector2{X: speed(pan), Y: speed(tilt)}, Zoom: vector1{X: speed(zoom)}},
	}
	if timeout > 0 {
		d := xsd.Duration(duration(timeout))
		m.Timeout = &d
	}
	return marshal(m)
}

func reqStop(profile string) []byte {
	return marshal(ptz.Stop{ProfileToken: tt.ReferenceToken(profile), PanTilt: true, Zoom: true})
}

func reqGotoPreset(profile, token string) []byte {
	p, t := tt.ReferenceToken(profile), tt.ReferenceToken(token)
	return marshal(ptz.GotoPreset{ProfileToken: &p, PresetToken: &t})
}

// reqSetPreset stores the current position: into the preset token when not "", else into a
// new preset named name.
func reqSetPreset(profile, token, name string) []byte {
	p := tt.ReferenceToken(profile)
	m := ptz.SetPreset{ProfileToken: &p}
	if token != "" {
		t := tt.ReferenceToken(token)
		m.PresetToken = &t
	}
	if name != "" {
		n := xsd.String(name)
		m.PresetName = &n
	}
	return marshal(m)
}

func reqGetPresets(profile string) []byte {
	return marshal(ptz.GetPresets{ProfileToken: tt.ReferenceToken(profile)})
}

func reqGetStatus(profile string) []byte {
	return marshal(ptz.GetStatus{ProfileToken: tt.ReferenceToken(profile)})
}

// Answers. Each parse function reads the HTTP status and body of the answer to its request.

// parseEmpty reads the empty answer of ContinuousMove, Stop and GotoPreset.
func parseEmpty(o op, status int, body []byte) error {
	return decodeReply(status, body, o.name+"Response", nil)
}

type dateTimeResponse struct {
	SystemDateAndTime struct {
		UTCDateTime *struct {
			Date struct {
				Year  int `xml:"Year"`
				Month int `xml:"Month"`
				Day   int `xml:"Day"`
			} `xml:"Date"`
			Time struct {
				Hour   int `xml:"Hour"`
				Minute int `xml:"Minute"`
				Second int `xml:"Second"`
			} `xml:"Time"`
		} `xml:"UTCDateTime"`
	} `xml:"SystemDateAndTime"`
}

// parseDateTime reads GetSystemDateAndTime's UTC time. ok is false when the camera gives
// no UTC time (old cameras give only a local one).
func parseDateTime(status int, body []byte) (t time.Time, ok bool, err error) {
	var r dateTimeResponse
	if err := decodeReply(status, body, "GetSystemDateAndTimeResponse", &r); err != nil {
		return time.Time{}, false, err
	}
	u := r.SystemDateAndTime.UTCDateTime
	if u == nil {
		return time.Time{}, false, nil
	}
	d, c := u.Date, u.Time
	if d.Year < 1970 || d.Year > 9999 || d.Month < 1 || d.Month > 12 || d.Day < 1 || d.Day > 31 ||
		c.Hour < 0 || c.Hour > 23 || c.Minute < 0 || c.Minute > 59 || c.Second < 0 || c.Second > 60 {
		return time.Time{}, false, garbled("UTC date and time %04d-%02d-%02d %02d:%02d:%02d out of range",
			d.Year, d.Month, d.Day, c.Hour, c.Minute, c.Second)
	}
	return time.Date(d.Year, time.Month(d.Month), d.Day, c.Hour, c.Minute, c.Second, 0, time.UTC), true, nil
}

type capabilitiesResponse struct {
	Capabilities struct {
		Media *struct {
			XAddr string `xml:"XAddr"`
		} `xml:"Media"`
		PTZ *struct {
			XAddr string `xml:"XAddr"`
		} `xml:"PTZ"`
	} `xml:"Capabilities"`
}

// endpoints are the paths of the media and PTZ services, from their XAddrs; "" when the
// camera has none.
type endpoints struct{ media, ptz string }

// parseCapabilities reads the media and PTZ XAddrs of GetCapabilities (Core §8.1.2.4).
func parseCapabilities(status int, body []byte) (endpoints, error) {
	var r capabilitiesResponse
	if err := decodeReply(status, body, "GetCapabilitiesResponse", &r); err != nil {
		return endpoints{}, err
	}
	var e endpoints
	var err error
	if m := r.Capabilities.Media; m != nil {
		if e.media, err = xaddrPath(m.XAddr); err != nil {
			return endpoints{}, err
		}
	}
	if p := r.Capabilities.PTZ; p != nil {
		if e.ptz, err = xaddrPath(p.XAddr); err != nil {
			return endpoints{}, err
		}
	}
	return e, nil
}

type servicesResponse struct {
	Service []struct {
		Namespace string `xml:"Namespace"`
		XAddr     string `xml:"XAddr"`
	} `xml:"Service"`
}

// parseServices reads the media and PTZ XAddrs of GetServices (Core §8.1.2.2).
func parseServices(status int, body []byte) (endpoints, error) {
	var r servicesResponse
	if err := decodeReply(status, body, "GetServicesResponse", &r); err != nil {
		return endpoints{}, err
	}
	var e endpoints
	for _, s := range r.Service {
		var dst *string
		switch strings.TrimSpace(s.Namespace) {
		case nsMedia:
			dst = &e.media
		case nsPTZ:
			dst = &e.ptz
		default:
			continue
		}
		p, err := xaddrPath(s.XAddr)
		if err != nil {
			return endpoints{}, err
		}
		if *dst == "" {
			*dst = p
		}
	}
	return e, nil
}

// xaddrPath returns the path (and query) of a service address. The driver sends every request
// to the host and port of the configured address, whatever host an XAddr names: cameras behind
// NAT or a port forward report addresses the agent cannot reach.
func xaddrPath(xaddr string) (string, error) {
	f := strings.Fields(xaddr)
	if len(f) == 0 {
		return "", garbled("empty XAddr")
	}
	u, err := url.Parse(f[0])
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", garbled("XAddr %q is not an http URL", clean(f[0], 80))
	}
	p := u.EscapedPath()
	if p == "" {
		p = "/"
	}
	if u.RawQuery != "" {
		p += "?" + u.RawQuery
	}
	return p, nil
}

// profile is a media profile of the camera.
type profile struct {
	Token, Name string
	PTZ         bool // the profile has a PTZ configuration
}

type profilesResponse struct {
	Profiles []struct {
		Token            string `xml:"token,attr"`
		Name             string `xml:"Name"`
		PTZConfiguration *struct {
			Token string `xml:"token,attr"`
		} `xml:"PTZConfiguration"`
	} `xml:"Profiles"`
}

// parseProfiles reads GetProfiles (Media Service). Profiles without a token are left out.
func parseProfiles(status int, body []byte) ([]profile, error) {
	var r profilesResponse
	if err := decodeReply(status, body, "GetProfilesResponse", &r); err != nil {
		return nil, err
	}
	out := []profile{}
	for _, p := range r.Profiles {
		tok := strings.TrimSpace(p.Token)
		if tok == "" {
			continue
		}
		out = append(out, profile{Token: tok, Name: clean(p.Name, 64), PTZ: p.PTZConfiguration != nil})
	}
	return out, nil
}

// Preset is a PTZ preset of the camera.
type Preset struct {
	Token string // the camera's reference token
	Name  string
}

// parsePresets reads GetPresets. Presets without a token are left out.
func parsePresets(status int, body []byte) ([]Preset, error) {
	var r ptz.GetPresetsResponse
	if err := decodeReply(status, body, "GetPresetsResponse", &r); err != nil {
		return nil, err
	}
	out := []Preset{}
	for _, p := range r.Preset {
		tok := strings.TrimSpace(string(p.Token))
		if tok == "" {
			continue
		}
		out = append(out, Preset{Token: tok, Name: clean(string(p.Name), 64)})
	}
	return out, nil
}

// parseSetPreset reads the token of the preset SetPreset stored.
func parseSetPreset(status int, body []byte) (string, error) {
	var r ptz.SetPresetResponse
	if err := decodeReply(status, body, "SetPresetResponse", &r); err != nil {
		return "", err
	}
	return strings.TrimSpace(string(r.PresetToken)), nil
}

// parseStatus reads GetStatus into the state fields Poll publishes: "pan", "tilt" (−1…1 in
// the generic space) and "zoom" (0…1) when the camera reports its position, "moving" when it
// reports its move status, and "ptz_error" when it reports an error text.
func parseStatus(status int, body []byte) (drivers.State, error) {
	var r ptz.GetStatusResponse
	if err := decodeReply(status, body, "GetStatusResponse", &r); err != nil {
		return nil, err
	}
	s := r.PTZStatus
	st := drivers.State{}
	if pt := s.Position.PanTilt; pt != nil {
		if !finite(pt.X) || !finite(pt.Y) {
			return nil, garbled("pan/tilt position %v %v", pt.X, pt.Y)
		}
		st["pan"], st["tilt"] = round3(pt.X), round3(pt.Y)
	}
	if z := s.Position.Zoom; z != nil {
		if !finite(z.X) {
			return nil, garbled("zoom position %v", z.X)
		}
		st["zoom"] = round3(z.X)
	}
	pt, zm := strings.TrimSpace(s.MoveStatus.PanTilt), strings.TrimSpace(s.MoveStatus.Zoom)
	if pt != "" || zm != "" {
		st["moving"] = strings.EqualFold(pt, "MOVING") || strings.EqualFold(zm, "MOVING")
	}
	if e := clean(s.Error, 120); e != "" {
		st["ptz_error"] = e
	}
	return st, nil
}

// finite reports whether v is a number a position can be (no NaN, no infinity, no
// absurdly large value).
func finite(v float64) bool { return !math.IsNaN(v) && math.Abs(v) < 1e9 }

func round3(v float64) float64 {
	r := math.Round(v*1000) / 1000
	if r == 0 {
		return 0
	}
	return r
}
