package onvifsim

import (
	"bytes"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/base64"
	"encoding/xml"
	"math"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Namespaces.
const (
	nsSOAP12 = "http://www.w3.org/2003/05/soap-envelope"
	nsSOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"
	nsDevice = "http://www.onvif.org/ver10/device/wsdl"
	nsMedia  = "http://www.onvif.org/ver10/media/wsdl"
	nsPTZ    = "http://www.onvif.org/ver20/ptz/wsdl"
	nsWSSE   = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"

	passwordDigest = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordDigest"
	base64Binary   = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#Base64Binary"

	panTiltVelocitySpace = "http://www.onvif.org/ver10/tptz/PanTiltSpaces/VelocityGenericSpace"
	zoomVelocitySpace    = "http://www.onvif.org/ver10/tptz/ZoomSpaces/VelocityGenericSpace"
)

// services maps a path onto its namespace and operations; an operation marked true is
// PRE_AUTH (Core §5.12.2.3): it needs no credentials.
var services = map[string]struct {
	ns  string
	ops map[string]bool
}{
	DevicePath: {nsDevice, map[string]bool{"GetSystemDateAndTime": true, "GetCapabilities": true, "GetServices": true}},
	MediaPath:  {nsMedia, map[string]bool{"GetProfiles": false, "GetStreamUri": false}},
	PTZPath: {nsPTZ, map[string]bool{"ContinuousMove": false, "Stop": false, "GotoPreset": false, "SetPreset": false,
		"GetPresets": false, "GetStatus": false}},
}

// request is a parsed SOAP request.
type request struct {
	op, space string // the body element
	token     *usernameToken
	args      args
}

type usernameToken struct {
	Username string `xml:"Username"`
	Password struct {
		Type  string `xml:"Type,attr"`
		Value string `xml:",chardata"`
	} `xml:"Password"`
	Nonce struct {
		EncodingType string `xml:"EncodingType,attr"`
		Value        string `xml:",chardata"`
	} `xml:"Nonce"`
	Created string `xml:"Created"`
}

type security struct {
	UsernameToken *usernameToken `xml:"UsernameToken"`
}

type vector struct {
	X     *string `xml:"x,attr"`
	Y     *string `xml:"y,attr"`
	Space string  `xml:"space,attr"`
}

// args are the elements of every operation served, by local name.
type args struct {
	ProfileToken *string `xml:"ProfileToken"`
	PresetToken  *string `xml:"PresetToken"`
	PresetName   *string `xml:"PresetName"`
	Velocity     *struct {
		PanTilt *vector `xml:"PanTilt"`
		Zoom    *vector `xml:"Zoom"`
	} `xml:"Velocity"`
	Timeout           *string  `xml:"Timeout"`
	PanTilt           *string  `xml:"PanTilt"` // Stop
	Zoom              *string  `xml:"Zoom"`    // Stop
	Category          []string `xml:"Category"`
	IncludeCapability *string  `xml:"IncludeCapability"`
}

func fault(code, reason string, subcodes ...string) *Fault {
	return &Fault{Code: code, Subcodes: subcodes, Reason: reason}
}

func senderFault(reason string, subcodes ...string) *Fault {
	return fault("env:Sender", reason, subcodes...)
}

// parseRequest parses a SOAP 1.2 request: the envelope, its security header, the body's
// first element and its arguments. A request it cannot take comes back as the fault to
// answer (Core §5.11.2.2).
func parseRequest(body []byte) (*request, *Fault) {
	d := xml.NewDecoder(bytes.NewReader(body))
	root, err := nextElement(d)
	if err != nil || root == nil {
		return nil, senderFault("Well-formed Error", "ter:WellFormed")
	}
	if root.Name.Local != "Envelope" || root.Name.Space != nsSOAP12 {
		return nil, fault("env:VersionMismatch", "SOAP version mismatch")
	}
	req := &request{}
	for {
		el, err := nextElement(d)
		if err != nil {
			return nil, senderFault("Well-formed Error", "ter:WellFormed")
		}
		if el == nil {
			return nil, senderFault("No Tag: the envelope has no body", "ter:Tag")
		}
		switch {
		case el.Name.Space == nsSOAP12 && el.Name.Local == "Header":
			if f := parseHeader(d, req); f != nil {
				return nil, f
			}
		case el.Name.Space == nsSOAP12 && el.Name.Local == "Body":
			op, err := nextElement(d)
			if err != nil {
				return nil, senderFault("Well-formed Error", "ter:WellFormed")
			}
			if op == nil {
				return nil, senderFault("No Tag: the body is empty", "ter:Tag")
			}
			req.op, req.space = op.Name.Local, op.Name.Space
			if err := d.DecodeElement(&req.args, op); err != nil {
				return nil, senderFault("Well-formed Error", "ter:WellFormed")
			}
			return req, nil
		default:
			return nil, senderFault("Tag Mismatch", "ter:TagMismatch")
		}
	}
}

// parseHeader reads the header's blocks: the WS-Security one, and any other only when it
// does not have to be understood.
func parseHeader(d *xml.Decoder, req *request) *Fault {
	for {
		el, err := nextElement(d)
		if err != nil {
			return senderFault("Well-formed Error", "ter:WellFormed")
		}
		if el == nil {
			return nil
		}
		if el.Name.Space == nsWSSE && el.Name.Local == "Security" {
			var sec security
			if err := d.DecodeElement(&sec, el); err != nil {
				return senderFault("Well-formed Error", "ter:WellFormed")
			}
			req.token = sec.UsernameToken
			continue
		}
		for _, a := range el.Attr {
			if a.Name.Space == nsSOAP12 && a.Name.Local == "mustUnderstand" && (a.Value == "1" || a.Value == "true") {
				return fault("env:MustUnderstand", "SOAP header blocks not understood")
			}
		}
		if err := d.Skip(); err != nil {
			return senderFault("Well-formed Error", "ter:WellFormed")
		}
	}
}

// nextElement returns the next child element of the current one, nil at its end.
func nextElement(d *xml.Decoder) (*xml.StartElement, error) {
	for {
		t, err := d.Token()
		if err != nil {
			return nil, err
		}
		switch t := t.(type) {
		case xml.StartElement:
			return &t, nil
		case xml.EndElement:
			return nil, nil
		}
	}
}

// Handle answers one request body posted to path: the HTTP status and body (nil for an
// HTTP error without SOAP, such as 404 for an unknown path). host is the Host of the request,
// which the XAddrs name unless Config.XAddrHost is set. Handle is ServeHTTP without the
// network and without misbehaviour.
func (s *Sim) Handle(host, path string, body []byte) (int, []byte) {
	if s.cfg.XAddrHost != "" {
		host = s.cfg.XAddrHost
	}
	svc, ok := services[path]
	if !ok {
		return http.StatusNotFound, nil
	}
	req, f := parseRequest(body)
	if f != nil {
		return f.status(), faultReply(f)
	}
	preAuth, ok := svc.ops[req.op]
	if !ok || req.space != svc.ns {
		return faultAnswer(senderFault("Unknown Action", "ter:UnknownAction"))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ops[req.op]++
	now := s.cfg.Clock()
	if s.cfg.Username != "" && (req.token != nil || !preAuth) {
		if why := s.verify(req.token, now.Add(s.cfg.ClockSkew)); why != "" {
			s.authFails.Add(1)
			s.log.Debug("onvifsim: authentication refused", "op", req.op, "why", why)
			return faultAnswer(FaultNotAuthorized)
		}
	}
	if f := s.faults[req.op]; f != nil {
		return faultAnswer(f)
	}
	if f := s.faults[""]; f != nil {
		return faultAnswer(f)
	}
	out, f := s.run(req, host, now)
	if f != nil {
		return faultAnswer(f)
	}
	return http.StatusOK, reply(out)
}

func faultAnswer(f *Fault) (int, []byte) { return f.status(), faultReply(f) }

// verify checks a UsernameToken against the camera's clock; it returns why it refuses it,
// or "" (WSS UsernameToken Profile 1.0 §3.1, ONVIF Core §5.12.3).
func (s *Sim) verify(tok *usernameToken, camNow time.Time) string {
	switch {
	case tok == nil:
		return "no UsernameToken"
	case tok.Username != s.cfg.Username:
		return "unknown user"
	case strings.TrimSpace(tok.Password.Type) != passwordDigest:
		return "password is not a digest"
	case tok.Nonce.EncodingType != "" && strings.TrimSpace(tok.Nonce.EncodingType) != base64Binary:
		return "nonce encoding not Base64Binary"
	}
	nonce, err := base64.StdEncoding.DecodeString(strings.TrimSpace(tok.Nonce.Value))
	if err != nil || len(nonce) == 0 {
		return "no nonce, or not base64"
	}
	created := strings.TrimSpace(tok.Created)
	t, err := time.Parse(time.RFC3339Nano, created)
	if err != nil {
		return "created is not a date-time"
	}
	if d := t.Sub(camNow); d > s.cfg.AuthWindow || d < -s.cfg.AuthWindow {
		return "created outside the window around the camera's clock"
	}
	h := sha1.New()
	h.Write(nonce)
	h.Write([]byte(created))
	h.Write([]byte(s.cfg.Password))
	want := base64.StdEncoding.EncodeToString(h.Sum(nil))
	if subtle.ConstantTimeCompare([]byte(strings.TrimSpace(tok.Password.Value)), []byte(want)) != 1 {
		return "wrong digest"
	}
	key := string(nonce)
	if exp, seen := s.nonces[key]; seen && camNow.Before(exp) {
		return "nonce used before"
	}
	if len(s.nonces) > 256 {
		for k, exp := range s.nonces {
			if !camNow.Before(exp) {
				delete(s.nonces, k)
			}
		}
	}
	s.nonces[key] = camNow.Add(2 * s.cfg.AuthWindow)
	return ""
}

// run performs an operation on the camera state (s.mu held) and returns the body element
// of the answer.
func (s *Sim) run(req *request, host string, now time.Time) (string, *Fault) {
	a := &req.args
	cam := now.Add(s.cfg.ClockSkew)
	switch req.op {
	case "GetSystemDateAndTime":
		return dateTimeReply(cam), nil
	case "GetCapabilities":
		return s.capabilities(a.Category, host)
	case "GetServices":
		if _, ok := parseBool(a.IncludeCapability, false); !ok || a.IncludeCapability == nil {
			return "", senderFault("Invalid Args: IncludeCapability", "ter:InvalidArgs")
		}
		return s.servicesReply(host), nil
	case "GetProfiles":
		return s.profilesReply(), nil
	case "GetStreamUri":
		return s.streamURIReply(a) // rtsp.go
	}
	// The PTZ service: every operation names a profile with a PTZ configuration.
	if a.ProfileToken == nil {
		return "", senderFault("Invalid Args: ProfileToken missing", "ter:InvalidArgs")
	}
	tok := strings.TrimSpace(*a.ProfileToken)
	var prof *Profile
	for i := range s.cfg.Profiles {
		if s.cfg.Profiles[i].Token == tok {
			prof = &s.cfg.Profiles[i]
		}
	}
	if prof == nil {
		return "", FaultNoProfile
	}
	if !prof.PTZ {
		return "", senderFault("The requested profile token does not reference a PTZ configuration", "ter:InvalidArgVal", "ter:NoPTZProfile")
	}
	s.lastProfile = tok
	speed := s.cfg.Speed
	switch req.op {
	case "ContinuousMove":
		vel, timeout, f := s.velocity(a)
		if f != nil {
			return "", f
		}
		s.ptz.move(now, speed, vel, timeout)
		return "<tptz:ContinuousMoveResponse/>", nil
	case "Stop":
		pt, ok1 := parseBool(a.PanTilt, true)
		zm, ok2 := parseBool(a.Zoom, true)
		if !ok1 || !ok2 {
			return "", senderFault("Invalid Args: PanTilt and Zoom are booleans", "ter:InvalidArgs")
		}
		s.ptz.stop(now, speed, pt, zm)
		return "<tptz:StopResponse/>", nil
	case "GotoPreset":
		if a.PresetToken == nil {
			return "", senderFault("Invalid Args: PresetToken missing", "ter:InvalidArgs")
		}
		i := s.preset(strings.TrimSpace(*a.PresetToken))
		if i < 0 {
			return "", senderFault("The requested preset token does not exist", "ter:InvalidArgVal", "ter:NoToken")
		}
		p := s.presets[i]
		s.ptz.goTo(now, p.Pan, p.Tilt, p.Zoom)
		return "<tptz:GotoPresetResponse/>", nil
	case "SetPreset":
		return s.setPreset(a, now)
	case "GetPresets":
		return s.presetsReply(), nil
	case "GetStatus":
		s.ptz.advance(now, speed)
		return s.statusReply(cam), nil
	}
	return "", senderFault("Unknown Action", "ter:UnknownAction")
}

// velocity reads the velocity and timeout of a ContinuousMove. An axis left out keeps its
// current velocity.
func (s *Sim) velocity(a *args) ([3]float64, time.Duration, *Fault) {
	vel := s.ptz.vel
	if a.Velocity == nil {
		return vel, 0, senderFault("Invalid Args: Velocity missing", "ter:InvalidArgs")
	}
	if pt := a.Velocity.PanTilt; pt != nil {
		if pt.Space != "" && pt.Space != panTiltVelocitySpace {
			return vel, 0, senderFault("Space not supported", "ter:InvalidArgVal", "ter:SpaceNotSupported")
		}
		for i, v := range []*string{pt.X, pt.Y} {
			x, f := axis(v)
			if f != nil {
				return vel, 0, f
			}
			vel[i] = x
		}
	}
	if z := a.Velocity.Zoom; z != nil {
		if z.Space != "" && z.Space != zoomVelocitySpace {
			return vel, 0, senderFault("Space not supported", "ter:InvalidArgVal", "ter:SpaceNotSupported")
		}
		x, f := axis(z.X)
		if f != nil {
			return vel, 0, f
		}
		vel[2] = x
	}
	var timeout time.Duration
	if a.Timeout != nil {
		d, ok := parseDuration(*a.Timeout)
		if !ok {
			return vel, 0, senderFault("Invalid Args: Timeout is not a duration", "ter:InvalidArgs")
		}
		timeout = d
	}
	return vel, timeout, nil
}

// axis reads one velocity component, −1…1.
func axis(v *string) (float64, *Fault) {
	if v == nil {
		return 0, senderFault("Required Attribute not present", "ter:MissingAttr")
	}
	x, err := strconv.ParseFloat(strings.TrimSpace(*v), 64)
	if err != nil || math.IsNaN(x) || math.IsInf(x, 0) {
		return 0, senderFault("Invalid Args: velocity is not a number", "ter:InvalidArgs")
	}
	if x < -1 || x > 1 {
		return 0, senderFault("Argument Value Invalid: velocity outside -1..1", "ter:InvalidArgVal")
	}
	return x, nil
}

// parseBool reads an xs:boolean; def when absent.
func parseBool(v *string, def bool) (bool, bool) {
	if v == nil {
		return def, true
	}
	switch strings.TrimSpace(*v) {
	case "true", "1":
		return true, true
	case "false", "0":
		return false, true
	}
	return false, false
}

var durationRE = regexp.MustCompile(`^PT(?:(\d{1,4})H)?(?:(\d{1,6})M)?(?:(\d{1,8}(?:\.\d{1,9})?)S)?$`)

// parseDuration reads the xs:duration forms a move timeout takes: PT[nH][nM][n[.n]S].
func parseDuration(v string) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	m := durationRE.FindStringSubmatch(v)
	if m == nil || v == "PT" {
		return 0, false
	}
	var d time.Duration
	if m[1] != "" {
		h, _ := strconv.Atoi(m[1])
		d += time.Duration(h) * time.Hour
	}
	if m[2] != "" {
		n, _ := strconv.Atoi(m[2])
		d += time.Duration(n) * time.Minute
	}
	if m[3] != "" {
		f, _ := strconv.ParseFloat(m[3], 64)
		d += time.Duration(f * float64(time.Second))
	}
	return d, true
}

func (s *Sim) preset(tok string) int {
	for i, p := range s.presets {
		if p.Token == tok {
			return i
		}
	}
	return -1
}

// setPreset stores the position: into an existing preset when a token is given, else into a
// new one, whose token is the lowest free number.
func (s *Sim) setPreset(a *args, now time.Time) (string, *Fault) {
	s.ptz.advance(now, s.cfg.Speed)
	if s.ptz.moving(0) || s.ptz.moving(1) || s.ptz.moving(2) {
		return "", FaultMovingPTZ
	}
	name := ""
	if a.PresetName != nil {
		name = strings.TrimSpace(*a.PresetName)
		if name == "" || utf8.RuneCountInString(name) > 64 || !utf8.ValidString(name) {
			return "", senderFault("The preset name is invalid", "ter:InvalidArgVal", "ter:InvalidPresetName")
		}
	}
	i := -1
	if a.PresetToken != nil {
		if i = s.preset(strings.TrimSpace(*a.PresetToken)); i < 0 {
			return "", senderFault("The requested preset token does not exist", "ter:InvalidArgVal", "ter:NoToken")
		}
	}
	if name != "" {
		for j, p := range s.presets {
			if j != i && p.Name == name {
				return "", senderFault("The requested name already exists for another preset", "ter:InvalidArgVal", "ter:PresetExist")
			}
		}
	}
	pos := s.ptz.pos
	if i < 0 {
		if len(s.presets) >= s.cfg.MaxPresets {
			return "", fault("env:Receiver", "Maximum number of presets reached", "ter:Action", "ter:TooManyPresets")
		}
		tok := "1"
		for n := 1; s.preset(tok) >= 0; n++ {
			tok = strconv.Itoa(n + 1)
		}
		if name == "" {
			name = "Preset " + tok
		}
		s.presets = append(s.presets, Preset{Token: tok, Name: name})
		i = len(s.presets) - 1
	}
	p := &s.presets[i]
	p.Pan, p.Tilt, p.Zoom = pos[0], pos[1], pos[2]
	if name != "" {
		p.Name = name
	}
	return "<tptz:SetPresetResponse><tptz:PresetToken>" + esc(p.Token) + "</tptz:PresetToken></tptz:SetPresetResponse>", nil
}

func (s *Sim) capabilities(categories []string, host string) (string, *Fault) {
	if s.cfg.NoCapabilities {
		return "", FaultActionNotSupported
	}
	want := map[string]bool{}
	for _, c := range categories {
		switch c = strings.TrimSpace(c); c {
		case "All":
			want["Device"], want["Media"], want["PTZ"] = true, true, true
		case "Device", "Media", "PTZ":
			want[c] = true
		default:
			return "", fault("env:Receiver", "The requested WSDL service category is not supported by the device",
				"ter:ActionNotSupported", "ter:NoSuchService")
		}
	}
	if len(categories) == 0 {
		want["Device"], want["Media"], want["PTZ"] = true, true, true
	}
	var b strings.Builder
	b.WriteString("<tds:GetCapabilitiesResponse><tds:Capabilities>")
	for _, c := range []struct{ name, path string }{{"Device", DevicePath}, {"Media", MediaPath}, {"PTZ", PTZPath}} {
		if want[c.name] {
			b.WriteString("<tt:" + c.name + "><tt:XAddr>" + esc("http://"+host+c.path) + "</tt:XAddr></tt:" + c.name + ">")
		}
	}
	b.WriteString("</tds:Capabilities></tds:GetCapabilitiesResponse>")
	return b.String(), nil
}

func (s *Sim) servicesReply(host string) string {
	var b strings.Builder
	b.WriteString("<tds:GetServicesResponse>")
	for _, sv := range []struct{ ns, path string }{{nsDevice, DevicePath}, {nsMedia, MediaPath}, {nsPTZ, PTZPath}} {
		b.WriteString("<tds:Service><tds:Namespace>" + sv.ns + "</tds:Namespace><tds:XAddr>" + esc("http://"+host+sv.path) +
			"</tds:XAddr><tds:Version><tt:Major>2</tt:Major><tt:Minor>60</tt:Minor></tds:Version></tds:Service>")
	}
	b.WriteString("</tds:GetServicesResponse>")
	return b.String()
}

func (s *Sim) profilesReply() string {
	var b strings.Builder
	b.WriteString("<trt:GetProfilesResponse>")
	for _, p := range s.cfg.Profiles {
		b.WriteString(`<trt:Profiles token="` + esc(p.Token) + `" fixed="true"><tt:Name>` + esc(p.Name) + "</tt:Name>")
		if p.PTZ {
			b.WriteString(`<tt:PTZConfiguration token="ptz0"><tt:Name>PTZ</tt:Name><tt:UseCount>1</tt:UseCount><tt:NodeToken>node0</tt:NodeToken></tt:PTZConfiguration>`)
		}
		b.WriteString("</trt:Profiles>")
	}
	b.WriteString("</trt:GetProfilesResponse>")
	return b.String()
}

func (s *Sim) presetsReply() string {
	var b strings.Builder
	b.WriteString("<tptz:GetPresetsResponse>")
	for _, p := range s.presets {
		b.WriteString(`<tptz:Preset token="` + esc(p.Token) + `"><tt:Name>` + esc(p.Name) + "</tt:Name><tt:PTZPosition>" +
			`<tt:PanTilt x="` + num(p.Pan) + `" y="` + num(p.Tilt) + `"/><tt:Zoom x="` + num(p.Zoom) + `"/></tt:PTZPosition></tptz:Preset>`)
	}
	b.WriteString("</tptz:GetPresetsResponse>")
	return b.String()
}

func (s *Sim) statusReply(cam time.Time) string {
	p := &s.ptz
	status := func(moving bool) string {
		if moving {
			return "MOVING"
		}
		return "IDLE"
	}
	return "<tptz:GetStatusResponse><tptz:PTZStatus><tt:Position>" +
		`<tt:PanTilt x="` + num(p.pos[0]) + `" y="` + num(p.pos[1]) + `"/><tt:Zoom x="` + num(p.pos[2]) + `"/></tt:Position>` +
		"<tt:MoveStatus><tt:PanTilt>" + status(p.moving(0) || p.moving(1)) + "</tt:PanTilt><tt:Zoom>" + status(p.moving(2)) +
		"</tt:Zoom></tt:MoveStatus><tt:UtcTime>" + cam.UTC().Format("2006-01-02T15:04:05Z") + "</tt:UtcTime></tptz:PTZStatus></tptz:GetStatusResponse>"
}

func dateTimeReply(cam time.Time) string {
	u := cam.UTC()
	i := strconv.Itoa
	return "<tds:GetSystemDateAndTimeResponse><tds:SystemDateAndTime><tt:DateTimeType>Manual</tt:DateTimeType>" +
		"<tt:DaylightSavings>false</tt:DaylightSavings><tt:TimeZone><tt:TZ>UTC0</tt:TZ></tt:TimeZone><tt:UTCDateTime>" +
		"<tt:Time><tt:Hour>" + i(u.Hour()) + "</tt:Hour><tt:Minute>" + i(u.Minute()) + "</tt:Minute><tt:Second>" + i(u.Second()) +
		"</tt:Second></tt:Time><tt:Date><tt:Year>" + i(u.Year()) + "</tt:Year><tt:Month>" + i(int(u.Month())) + "</tt:Month><tt:Day>" +
		i(u.Day()) + "</tt:Day></tt:Date></tt:UTCDateTime></tds:SystemDateAndTime></tds:GetSystemDateAndTimeResponse>"
}

// The envelope of every answer.
const (
	envelopeOpen = `<?xml version="1.0" encoding="UTF-8"?>` + "\n" +
		`<env:Envelope xmlns:env="` + nsSOAP12 + `" xmlns:ter="http://www.onvif.org/ver10/error" xmlns:tt="http://www.onvif.org/ver10/schema"` +
		` xmlns:tds="` + nsDevice + `" xmlns:trt="` + nsMedia + `" xmlns:tptz="` + nsPTZ + `"><env:Body>`
	envelopeClose = `</env:Body></env:Envelope>`
)

func reply(body string) []byte {
	return []byte(envelopeOpen + body + envelopeClose)
}

func faultReply(f *Fault) []byte {
	var b strings.Builder
	b.WriteString("<env:Fault><env:Code><env:Value>" + esc(f.Code) + "</env:Value>")
	for _, sc := range f.Subcodes {
		b.WriteString("<env:Subcode><env:Value>" + esc(sc) + "</env:Value>")
	}
	for range f.Subcodes {
		b.WriteString("</env:Subcode>")
	}
	b.WriteString(`</env:Code><env:Reason><env:Text xml:lang="en">` + esc(f.Reason) + "</env:Text></env:Reason></env:Fault>")
	return reply(b.String())
}

func esc(s string) string {
	var b strings.Builder
	xml.EscapeText(&b, []byte(s))
	return b.String()
}

// num formats a coordinate: at most 6 decimals, no "-0".
func num(v float64) string {
	v = math.Round(v*1e6) / 1e6
	if v == 0 {
		v = 0
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}
