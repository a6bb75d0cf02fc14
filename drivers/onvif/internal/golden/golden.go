// Package golden holds the one table of ONVIF exchanges that the driver's codec test, its
// transcript test, the simulator's test and the fuzz seed corpora all use: the request body
// element the driver sends ⇄ the HTTP status and body the camera answers ⇄ what the driver
// decodes from it ⇄ the error it must return.
//
// It is internal to drivers/onvif and imported only by tests.
package golden

import (
	"fmt"
	"strings"
	"time"
)

// Now is the clock of the simulator in every exchange with a Setup.
var Now = time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)

// Host is the host the simulator's XAddrs name in the exchanges.
const Host = "192.0.2.10"

// Exchange is one request and its answer.
type Exchange struct {
	Name string
	Op   string // the operation, e.g. "ContinuousMove"
	Args Args   // what the driver is asked for
	// Request is the body element the driver sends for Op and Args, byte for byte.
	Request string
	Status  int    // HTTP status of the answer; 0 means 200
	Reply   string // HTTP body of the answer
	// Want is what the driver decodes from Reply (nil for operations with an empty answer
	// and for answers that do not decode):
	//   GetStatus                     the state fields ("pan", "tilt", "zoom", "moving", "ptz_error")
	//   GetPresets                    {"presets": ["token=name", …]}
	//   SetPreset                     {"token": "4"}
	//   GetProfiles                   {"profiles": [tokens], "ptz": [tokens with PTZ]}
	//   GetCapabilities, GetServices  {"media": path, "ptz": path}
	//   GetSystemDateAndTime          {"utc": RFC 3339, or "" without a UTC time}
	Want map[string]any
	Code string // contract error code the driver returns ("" for none)
	Auth bool   // the error is a refused authentication (onvif.ErrAuth)
	// Sim, when not nil, is a simulator setup in which onvifsim answers Request with exactly
	// Status and Reply (its clock at Now, its XAddrs naming Host, no authentication). Nil
	// for answers the simulator does not give.
	Sim *Setup
}

// HTTPStatus is the status of the answer, 200 when Status is 0.
func (e Exchange) HTTPStatus() int {
	if e.Status == 0 {
		return 200
	}
	return e.Status
}

// Args are the arguments of the driver's request.
type Args struct {
	Profile         string
	Pan, Tilt, Zoom float64
	MoveTimeout     time.Duration
	PresetToken     string
	PresetName      string
}

// Setup is the state of the simulator before the request.
type Setup struct {
	Presets        []Preset // nil: Default
	Position       [3]float64
	Velocity       [3]float64 // a continuous move under way
	MaxPresets     int
	NoCapabilities bool
	Fault          *Fault // answered to the exchange's operation
}

// Preset is a preset of the simulator.
type Preset struct {
	Token, Name     string
	Pan, Tilt, Zoom float64
}

// Fault is a SOAP fault as it goes on the wire ("env:Sender", "ter:NotAuthorized").
type Fault struct {
	Code     string
	Subcodes []string
	Reason   string
}

// Default are the presets of a Setup that names none.
var Default = []Preset{
	{Token: "1", Name: "Judge", Pan: -0.4, Tilt: 0.1, Zoom: 0.3},
	{Token: "2", Name: "Witness", Pan: 0.35, Tilt: 0, Zoom: 0.5},
	{Token: "3", Name: "Counsel", Pan: 0, Tilt: -0.2, Zoom: 0.2},
}

// Env wraps a body element into the envelope onvifsim answers with.
func Env(body string) string {
	return `<?xml version="1.0" encoding="UTF-8"?>` + "\n" +
		`<env:Envelope xmlns:env="http://www.w3.org/2003/05/soap-envelope" xmlns:ter="http://www.onvif.org/ver10/error"` +
		` xmlns:tt="http://www.onvif.org/ver10/schema" xmlns:tds="http://www.onvif.org/ver10/device/wsdl"` +
		` xmlns:trt="http://www.onvif.org/ver10/media/wsdl" xmlns:tptz="http://www.onvif.org/ver20/ptz/wsdl"><env:Body>` +
		body + `</env:Body></env:Envelope>`
}

// FaultEnv is the envelope of a fault as onvifsim answers it.
func FaultEnv(code, reason string, subcodes ...string) string {
	var b strings.Builder
	b.WriteString("<env:Fault><env:Code><env:Value>" + code + "</env:Value>")
	for _, s := range subcodes {
		b.WriteString("<env:Subcode><env:Value>" + s + "</env:Value>")
	}
	b.WriteString(strings.Repeat("</env:Subcode>", len(subcodes)))
	b.WriteString(`</env:Code><env:Reason><env:Text xml:lang="en">` + reason + "</env:Text></env:Reason></env:Fault>")
	return Env(b.String())
}

// Request bodies, as the driver writes them.

func move(profile, x, y, z, timeout string) string {
	t := ""
	if timeout != "" {
		t = "<tptz:Timeout>" + timeout + "</tptz:Timeout>"
	}
	return `<tptz:ContinuousMove><tptz:ProfileToken>` + profile + `</tptz:ProfileToken><tptz:Velocity><tt:PanTilt x="` + x +
		`" y="` + y + `"></tt:PanTilt><tt:Zoom x="` + z + `"></tt:Zoom></tptz:Velocity>` + t + `</tptz:ContinuousMove>`
}

func stop(profile string) string {
	return `<tptz:Stop><tptz:ProfileToken>` + profile + `</tptz:ProfileToken><tptz:PanTilt>true</tptz:PanTilt><tptz:Zoom>true</tptz:Zoom></tptz:Stop>`
}

func gotoPreset(profile, token string) string {
	return `<tptz:GotoPreset><tptz:ProfileToken>` + profile + `</tptz:ProfileToken><tptz:PresetToken>` + token + `</tptz:PresetToken></tptz:GotoPreset>`
}

func setPreset(profile, name, token string) string {
	s := `<tptz:SetPreset><tptz:ProfileToken>` + profile + `</tptz:ProfileToken>`
	if name != "" {
		s += `<tptz:PresetName>` + name + `</tptz:PresetName>`
	}
	if token != "" {
		s += `<tptz:PresetToken>` + token + `</tptz:PresetToken>`
	}
	return s + `</tptz:SetPreset>`
}

func ptzQuery(op, profile string) string {
	return `<tptz:` + op + `><tptz:ProfileToken>` + profile + `</tptz:ProfileToken></tptz:` + op + `>`
}

const (
	reqDateTime     = `<tds:GetSystemDateAndTime></tds:GetSystemDateAndTime>`
	reqCapabilities = `<tds:GetCapabilities><tds:Category>All</tds:Category></tds:GetCapabilities>`
	reqServices     = `<tds:GetServices><tds:IncludeCapability>false</tds:IncludeCapability></tds:GetServices>`
	reqProfiles     = `<trt:GetProfiles></trt:GetProfiles>`
)

// Answers onvifsim gives.

func status(x, y, z, pt, zm string) string {
	return `<tptz:GetStatusResponse><tptz:PTZStatus><tt:Position><tt:PanTilt x="` + x + `" y="` + y + `"/><tt:Zoom x="` + z +
		`"/></tt:Position><tt:MoveStatus><tt:PanTilt>` + pt + `</tt:PanTilt><tt:Zoom>` + zm + `</tt:Zoom></tt:MoveStatus>` +
		`<tt:UtcTime>2024-05-06T07:08:09Z</tt:UtcTime></tptz:PTZStatus></tptz:GetStatusResponse>`
}

func presets(ps ...Preset) string {
	var b strings.Builder
	b.WriteString("<tptz:GetPresetsResponse>")
	for _, p := range ps {
		fmt.Fprintf(&b, `<tptz:Preset token="%s"><tt:Name>%s</tt:Name><tt:PTZPosition><tt:PanTilt x="%v" y="%v"/><tt:Zoom x="%v"/></tt:PTZPosition></tptz:Preset>`,
			p.Token, p.Name, p.Pan, p.Tilt, p.Zoom)
	}
	b.WriteString("</tptz:GetPresetsResponse>")
	return b.String()
}

const (
	dateTime = `<tds:GetSystemDateAndTimeResponse><tds:SystemDateAndTime><tt:DateTimeType>Manual</tt:DateTimeType>` +
		`<tt:DaylightSavings>false</tt:DaylightSavings><tt:TimeZone><tt:TZ>UTC0</tt:TZ></tt:TimeZone><tt:UTCDateTime>` +
		`<tt:Time><tt:Hour>7</tt:Hour><tt:Minute>8</tt:Minute><tt:Second>9</tt:Second></tt:Time><tt:Date><tt:Year>2024</tt:Year>` +
		`<tt:Month>5</tt:Month><tt:Day>6</tt:Day></tt:Date></tt:UTCDateTime></tds:SystemDateAndTime></tds:GetSystemDateAndTimeResponse>`
	capabilities = `<tds:GetCapabilitiesResponse><tds:Capabilities><tt:Device><tt:XAddr>http://192.0.2.10/onvif/device_service</tt:XAddr></tt:Device>` +
		`<tt:Media><tt:XAddr>http://192.0.2.10/onvif/media_service</tt:XAddr></tt:Media><tt:PTZ><tt:XAddr>http://192.0.2.10/onvif/ptz_service</tt:XAddr></tt:PTZ>` +
		`</tds:Capabilities></tds:GetCapabilitiesResponse>`
	services = `<tds:GetServicesResponse>` +
		`<tds:Service><tds:Namespace>http://www.onvif.org/ver10/device/wsdl</tds:Namespace><tds:XAddr>http://192.0.2.10/onvif/device_service</tds:XAddr><tds:Version><tt:Major>2</tt:Major><tt:Minor>60</tt:Minor></tds:Version></tds:Service>` +
		`<tds:Service><tds:Namespace>http://www.onvif.org/ver10/media/wsdl</tds:Namespace><tds:XAddr>http://192.0.2.10/onvif/media_service</tds:XAddr><tds:Version><tt:Major>2</tt:Major><tt:Minor>60</tt:Minor></tds:Version></tds:Service>` +
		`<tds:Service><tds:Namespace>http://www.onvif.org/ver20/ptz/wsdl</tds:Namespace><tds:XAddr>http://192.0.2.10/onvif/ptz_service</tds:XAddr><tds:Version><tt:Major>2</tt:Major><tt:Minor>60</tt:Minor></tds:Version></tds:Service>` +
		`</tds:GetServicesResponse>`
	ptzConfig = `<tt:PTZConfiguration token="ptz0"><tt:Name>PTZ</tt:Name><tt:UseCount>1</tt:UseCount><tt:NodeToken>node0</tt:NodeToken></tt:PTZConfiguration>`
	profiles  = `<trt:GetProfilesResponse><trt:Profiles token="snapshot" fixed="true"><tt:Name>Snapshot</tt:Name></trt:Profiles>` +
		`<trt:Profiles token="main" fixed="true"><tt:Name>Main</tt:Name>` + ptzConfig + `</trt:Profiles>` +
		`<trt:Profiles token="sub" fixed="true"><tt:Name>Sub</tt:Name>` + ptzConfig + `</trt:Profiles></trt:GetProfilesResponse>`
)

var (
	faultNotAuthorized = &Fault{"env:Sender", []string{"ter:NotAuthorized"}, "Sender not Authorized"}
	faultCritical      = &Fault{"env:Receiver", []string{"ter:CriticalError"}, "Critical Error"}
	faultNotSupported  = &Fault{"env:Receiver", []string{"ter:ActionNotSupported"}, "Optional Action Not Implemented"}
)

func env12(prefix, body string) string {
	return `<?xml version="1.0" encoding="UTF-8"?>` + "\n" + `<` + prefix + `:Envelope xmlns:` + prefix + `="http://www.w3.org/2003/05/soap-envelope"` +
		` xmlns:tt="http://www.onvif.org/ver10/schema" xmlns:tptz="http://www.onvif.org/ver20/ptz/wsdl" xmlns:tds="http://www.onvif.org/ver10/device/wsdl"` +
		` xmlns:trt="http://www.onvif.org/ver10/media/wsdl" xmlns:ter="http://www.onvif.org/ver10/error"` +
		` xmlns:wsse="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd">` + "\n" + body + "\n</" + prefix + ":Envelope>\n"
}

// Exchanges is the golden table.
var Exchanges = []Exchange{
	// ContinuousMove and Stop.
	{Name: "move right", Op: "ContinuousMove", Args: Args{Profile: "main", Pan: 0.5},
		Request: move("main", "0.5", "0", "0", ""), Reply: Env("<tptz:ContinuousMoveResponse/>"), Sim: &Setup{}},
	{Name: "move down left zooming in", Op: "ContinuousMove", Args: Args{Profile: "main", Pan: -0.25, Tilt: -1, Zoom: 0.75},
		Request: move("main", "-0.25", "-1", "0.75", ""), Reply: Env("<tptz:ContinuousMoveResponse/>"), Sim: &Setup{}},
	{Name: "move rounded", Op: "ContinuousMove", Args: Args{Profile: "sub", Pan: 0.123456, Tilt: 1e-7, Zoom: -0.00005},
		Request: move("sub", "0.1235", "0", "-0.0001", ""), Reply: Env("<tptz:ContinuousMoveResponse/>"), Sim: &Setup{}},
	{Name: "move with timeout", Op: "ContinuousMove", Args: Args{Profile: "main", Tilt: 0.3, MoveTimeout: 1500 * time.Millisecond},
		Request: move("main", "0", "0.3", "0", "PT1.5S"), Reply: Env("<tptz:ContinuousMoveResponse/>"), Sim: &Setup{}},
	{Name: "move profile without ptz", Op: "ContinuousMove", Args: Args{Profile: "snapshot", Pan: 1},
		Request: move("snapshot", "1", "0", "0", ""), Status: 400,
		Reply: FaultEnv("env:Sender", "The requested profile token does not reference a PTZ configuration", "ter:InvalidArgVal", "ter:NoPTZProfile"),
		Code:  "unsupported", Sim: &Setup{}},
	{Name: "move unknown profile", Op: "ContinuousMove", Args: Args{Profile: "gone", Pan: 1},
		Request: move("gone", "1", "0", "0", ""), Status: 400,
		Reply: FaultEnv("env:Sender", "The requested profile token does not exist", "ter:InvalidArgVal", "ter:NoProfile"),
		Code:  "device_error", Sim: &Setup{}},
	{Name: "move not authorized", Op: "ContinuousMove", Args: Args{Profile: "main", Pan: 1},
		Request: move("main", "1", "0", "0", ""), Status: 400,
		Reply: FaultEnv("env:Sender", "Sender not Authorized", "ter:NotAuthorized"),
		Code:  "device_error", Auth: true, Sim: &Setup{Fault: faultNotAuthorized}},
	{Name: "move timeout not supported", Op: "ContinuousMove", Args: Args{Profile: "main", Pan: 1, MoveTimeout: 10 * time.Second},
		Request: move("main", "1", "0", "0", "PT10S"), Status: 400,
		Reply: FaultEnv("env:Sender", "Timeout not supported", "ter:InvalidArgVal", "ter:TimeoutNotSupported"), Code: "unsupported",
		Sim: &Setup{Fault: &Fault{"env:Sender", []string{"ter:InvalidArgVal", "ter:TimeoutNotSupported"}, "Timeout not supported"}}},
	{Name: "stop", Op: "Stop", Args: Args{Profile: "main"},
		Request: stop("main"), Reply: Env("<tptz:StopResponse/>"), Sim: &Setup{Velocity: [3]float64{0.5, 0, 0}}},
	{Name: "stop critical error", Op: "Stop", Args: Args{Profile: "main"},
		Request: stop("main"), Status: 500, Reply: FaultEnv("env:Receiver", "Critical Error", "ter:CriticalError"),
		Code: "device_error", Sim: &Setup{Fault: faultCritical}},

	// Presets.
	{Name: "goto preset", Op: "GotoPreset", Args: Args{Profile: "main", PresetToken: "2"},
		Request: gotoPreset("main", "2"), Reply: Env("<tptz:GotoPresetResponse/>"), Sim: &Setup{}},
	{Name: "goto unknown preset", Op: "GotoPreset", Args: Args{Profile: "main", PresetToken: "9"},
		Request: gotoPreset("main", "9"), Status: 400,
		Reply: FaultEnv("env:Sender", "The requested preset token does not exist", "ter:InvalidArgVal", "ter:NoToken"),
		Code:  "bad_args", Sim: &Setup{}},
	{Name: "set new preset", Op: "SetPreset", Args: Args{Profile: "main", PresetName: "bailiff-7"},
		Request: setPreset("main", "bailiff-7", ""), Reply: Env("<tptz:SetPresetResponse><tptz:PresetToken>4</tptz:PresetToken></tptz:SetPresetResponse>"),
		Want: map[string]any{"token": "4"}, Sim: &Setup{}},
	{Name: "set existing preset", Op: "SetPreset", Args: Args{Profile: "main", PresetToken: "2"},
		Request: setPreset("main", "", "2"), Reply: Env("<tptz:SetPresetResponse><tptz:PresetToken>2</tptz:PresetToken></tptz:SetPresetResponse>"),
		Want: map[string]any{"token": "2"}, Sim: &Setup{}},
	{Name: "set preset while moving", Op: "SetPreset", Args: Args{Profile: "main", PresetToken: "2"},
		Request: setPreset("main", "", "2"), Status: 500,
		Reply: FaultEnv("env:Receiver", "Preset cannot be set while PTZ unit is moving", "ter:Action", "ter:MovingPTZ"),
		Code:  "busy", Sim: &Setup{Velocity: [3]float64{0, 0.2, 0}}},
	{Name: "set unknown preset", Op: "SetPreset", Args: Args{Profile: "main", PresetToken: "8"},
		Request: setPreset("main", "", "8"), Status: 400,
		Reply: FaultEnv("env:Sender", "The requested preset token does not exist", "ter:InvalidArgVal", "ter:NoToken"),
		Code:  "bad_args", Sim: &Setup{}},
	{Name: "set preset name taken", Op: "SetPreset", Args: Args{Profile: "main", PresetName: "Judge"},
		Request: setPreset("main", "Judge", ""), Status: 400,
		Reply: FaultEnv("env:Sender", "The requested name already exists for another preset", "ter:InvalidArgVal", "ter:PresetExist"),
		Code:  "bad_args", Sim: &Setup{}},
	{Name: "set preset camera full", Op: "SetPreset", Args: Args{Profile: "main", PresetName: "bailiff-4"},
		Request: setPreset("main", "bailiff-4", ""), Status: 500,
		Reply: FaultEnv("env:Receiver", "Maximum number of presets reached", "ter:Action", "ter:TooManyPresets"),
		Code:  "device_error", Sim: &Setup{MaxPresets: 3}},
	{Name: "presets", Op: "GetPresets", Args: Args{Profile: "main"},
		Request: ptzQuery("GetPresets", "main"), Reply: Env(presets(Default...)),
		Want: map[string]any{"presets": []string{"1=Judge", "2=Witness", "3=Counsel"}}, Sim: &Setup{}},
	{Name: "no presets", Op: "GetPresets", Args: Args{Profile: "main"},
		Request: ptzQuery("GetPresets", "main"), Reply: Env("<tptz:GetPresetsResponse></tptz:GetPresetsResponse>"),
		Want: map[string]any{"presets": []string{}}, Sim: &Setup{Presets: []Preset{}}},
	{Name: "presets with escaped name", Op: "GetPresets", Args: Args{Profile: "main"},
		Request: ptzQuery("GetPresets", "main"), Reply: Env(presets(Preset{Token: "7", Name: "Bench &amp; bar"})),
		Want: map[string]any{"presets": []string{"7=Bench & bar"}}, Sim: &Setup{Presets: []Preset{{Token: "7", Name: "Bench & bar"}}}},
	{Name: "presets vendor layout", Op: "GetPresets", Args: Args{Profile: "Profile_1"},
		Request: ptzQuery("GetPresets", "Profile_1"),
		Reply: env12("SOAP-ENV", `<SOAP-ENV:Header></SOAP-ENV:Header>
<SOAP-ENV:Body>
  <tptz:GetPresetsResponse>
    <tptz:Preset token="1">
      <tt:Name>Richterbank</tt:Name>
      <tt:PTZPosition>
        <tt:PanTilt x="0.25" y="-0.1" space="http://www.onvif.org/ver10/tptz/PanTiltSpaces/PositionGenericSpace"/>
        <tt:Zoom x="0" space="http://www.onvif.org/ver10/tptz/ZoomSpaces/PositionGenericSpace"/>
      </tt:PTZPosition>
    </tptz:Preset>
    <tptz:Preset token=""><tt:Name>no token</tt:Name></tptz:Preset>
    <tptz:Preset token="PresetToken_12"><tt:Name>  Zeugen
      stand </tt:Name></tptz:Preset>
  </tptz:GetPresetsResponse>
</SOAP-ENV:Body>`),
		Want: map[string]any{"presets": []string{"1=Richterbank", "PresetToken_12=Zeugen stand"}}},
	{Name: "presets latin-1", Op: "GetPresets", Args: Args{Profile: "main"},
		Request: ptzQuery("GetPresets", "main"),
		Reply:   strings.Replace(Env(presets(Preset{Token: "1", Name: "Gerichtss\xe4le"})), `encoding="UTF-8"`, `encoding="ISO-8859-1"`, 1),
		Want:    map[string]any{"presets": []string{"1=Gerichtssäle"}}},
	{Name: "presets utf-16", Op: "GetPresets", Args: Args{Profile: "main"},
		Request: ptzQuery("GetPresets", "main"),
		Reply:   strings.Replace(Env(presets(Default...)), `encoding="UTF-8"`, `encoding="UTF-16"`, 1), Code: "device_error"},

	// GetStatus.
	{Name: "status idle", Op: "GetStatus", Args: Args{Profile: "main"},
		Request: ptzQuery("GetStatus", "main"), Reply: Env(status("-0.4", "0.1", "0.3", "IDLE", "IDLE")),
		Want: map[string]any{"pan": -0.4, "tilt": 0.1, "zoom": 0.3, "moving": false}, Sim: &Setup{Position: [3]float64{-0.4, 0.1, 0.3}}},
	{Name: "status moving", Op: "GetStatus", Args: Args{Profile: "main"},
		Request: ptzQuery("GetStatus", "main"), Reply: Env(status("0", "0", "0.5", "MOVING", "IDLE")),
		Want: map[string]any{"pan": 0.0, "tilt": 0.0, "zoom": 0.5, "moving": true}, Sim: &Setup{Position: [3]float64{0, 0, 0.5}, Velocity: [3]float64{0.5, 0, 0}}},
	{Name: "status zooming at the limit", Op: "GetStatus", Args: Args{Profile: "main"},
		Request: ptzQuery("GetStatus", "main"), Reply: Env(status("1", "-1", "1", "IDLE", "IDLE")),
		Want: map[string]any{"pan": 1.0, "tilt": -1.0, "zoom": 1.0, "moving": false}, Sim: &Setup{Position: [3]float64{1, -1, 1}, Velocity: [3]float64{1, -1, 1}}},
	{Name: "status vendor layout", Op: "GetStatus", Args: Args{Profile: "Profile_1"},
		Request: ptzQuery("GetStatus", "Profile_1"),
		Reply: env12("s", `<s:Body><tptz:GetStatusResponse><tptz:PTZStatus>
<tt:Position><tt:PanTilt space="http://www.onvif.org/ver10/tptz/PanTiltSpaces/PositionGenericSpace" x="0.123456" y="-0.9999"/><tt:Zoom x="1E-1"/></tt:Position>
<tt:MoveStatus><tt:PanTilt>moving</tt:PanTilt><tt:Zoom>IDLE</tt:Zoom></tt:MoveStatus>
<tt:Error>NO error</tt:Error><tt:UtcTime>2024-05-06T07:08:09.5Z</tt:UtcTime></tptz:PTZStatus></tptz:GetStatusResponse></s:Body>`),
		Want: map[string]any{"pan": 0.123, "tilt": -1.0, "zoom": 0.1, "moving": true, "ptz_error": "NO error"}},
	{Name: "status without position", Op: "GetStatus", Args: Args{Profile: "main"},
		Request: ptzQuery("GetStatus", "main"),
		Reply:   Env(`<tptz:GetStatusResponse><tptz:PTZStatus><tt:MoveStatus><tt:PanTilt>IDLE</tt:PanTilt></tt:MoveStatus></tptz:PTZStatus></tptz:GetStatusResponse>`),
		Want:    map[string]any{"moving": false}},
	{Name: "status empty", Op: "GetStatus", Args: Args{Profile: "main"},
		Request: ptzQuery("GetStatus", "main"), Reply: Env(`<tptz:GetStatusResponse/>`), Want: map[string]any{}},
	{Name: "status soap 1.1", Op: "GetStatus", Args: Args{Profile: "main"},
		Request: ptzQuery("GetStatus", "main"),
		Reply: `<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>` +
			`<GetStatusResponse xmlns="http://www.onvif.org/ver20/ptz/wsdl"><PTZStatus><Position xmlns="http://www.onvif.org/ver10/schema"><PanTilt x="0.5" y="0.5"/></Position></PTZStatus></GetStatusResponse></soap:Body></soap:Envelope>`,
		Want: map[string]any{"pan": 0.5, "tilt": 0.5}},
	{Name: "status position not a number", Op: "GetStatus", Args: Args{Profile: "main"},
		Request: ptzQuery("GetStatus", "main"), Reply: Env(status("left", "0", "0", "IDLE", "IDLE")), Code: "device_error"},
	{Name: "status position NaN", Op: "GetStatus", Args: Args{Profile: "main"},
		Request: ptzQuery("GetStatus", "main"), Reply: Env(status("NaN", "0", "0", "IDLE", "IDLE")), Code: "device_error"},
	{Name: "status position infinite", Op: "GetStatus", Args: Args{Profile: "main"},
		Request: ptzQuery("GetStatus", "main"), Reply: Env(status("0", "0", "+Inf", "IDLE", "IDLE")), Code: "device_error"},
	{Name: "status not supported", Op: "GetStatus", Args: Args{Profile: "main"},
		Request: ptzQuery("GetStatus", "main"), Status: 500, Reply: FaultEnv("env:Receiver", "Optional Action Not Implemented", "ter:ActionNotSupported"),
		Code: "unsupported", Sim: &Setup{Fault: faultNotSupported}},

	// Discovery.
	{Name: "system date and time", Op: "GetSystemDateAndTime",
		Request: reqDateTime, Reply: Env(dateTime), Want: map[string]any{"utc": "2024-05-06T07:08:09Z"}, Sim: &Setup{}},
	{Name: "system date and time local only", Op: "GetSystemDateAndTime",
		Request: reqDateTime, Reply: Env(`<tds:GetSystemDateAndTimeResponse><tds:SystemDateAndTime><tt:DateTimeType>NTP</tt:DateTimeType>` +
			`<tt:LocalDateTime><tt:Time><tt:Hour>9</tt:Hour><tt:Minute>8</tt:Minute><tt:Second>9</tt:Second></tt:Time></tt:LocalDateTime></tds:SystemDateAndTime></tds:GetSystemDateAndTimeResponse>`),
		Want: map[string]any{"utc": ""}},
	{Name: "system date and time month 13", Op: "GetSystemDateAndTime",
		Request: reqDateTime, Reply: Env(strings.Replace(dateTime, "<tt:Month>5</tt:Month>", "<tt:Month>13</tt:Month>", 1)), Code: "device_error"},
	{Name: "capabilities", Op: "GetCapabilities",
		Request: reqCapabilities, Reply: Env(capabilities),
		Want: map[string]any{"media": "/onvif/media_service", "ptz": "/onvif/ptz_service"}, Sim: &Setup{}},
	{Name: "capabilities without ptz", Op: "GetCapabilities",
		Request: reqCapabilities, Reply: Env(`<tds:GetCapabilitiesResponse><tds:Capabilities><tt:Media><tt:XAddr>http://10.1.2.3:8080/onvif/Media?x=1</tt:XAddr></tt:Media></tds:Capabilities></tds:GetCapabilitiesResponse>`),
		Want: map[string]any{"media": "/onvif/Media?x=1", "ptz": ""}},
	{Name: "capabilities bad xaddr", Op: "GetCapabilities",
		Request: reqCapabilities, Reply: Env(`<tds:GetCapabilitiesResponse><tds:Capabilities><tt:PTZ><tt:XAddr>ptz service</tt:XAddr></tt:PTZ></tds:Capabilities></tds:GetCapabilitiesResponse>`),
		Code: "device_error"},
	{Name: "capabilities not supported", Op: "GetCapabilities",
		Request: reqCapabilities, Status: 500, Reply: FaultEnv("env:Receiver", "Optional Action Not Implemented", "ter:ActionNotSupported"),
		Code: "unsupported", Sim: &Setup{NoCapabilities: true}},
	{Name: "services", Op: "GetServices",
		Request: reqServices, Reply: Env(services),
		Want: map[string]any{"media": "/onvif/media_service", "ptz": "/onvif/ptz_service"}, Sim: &Setup{}},
	{Name: "profiles", Op: "GetProfiles",
		Request: reqProfiles, Reply: Env(profiles),
		Want: map[string]any{"profiles": []string{"snapshot", "main", "sub"}, "ptz": []string{"main", "sub"}}, Sim: &Setup{}},

	// Faults, refused credentials, and answers that are not SOAP.
	{Name: "fault wsse failed authentication", Op: "GetStatus", Args: Args{Profile: "main"},
		Request: ptzQuery("GetStatus", "main"), Status: 500,
		Reply: env12("env", `<env:Body><env:Fault><env:Code><env:Value>env:Sender</env:Value><env:Subcode><env:Value>wsse:FailedAuthentication</env:Value></env:Subcode></env:Code>`+
			`<env:Reason><env:Text xml:lang="en">The security token could not be authenticated or authorized</env:Text></env:Reason></env:Fault></env:Body>`),
		Code: "device_error", Auth: true},
	{Name: "http 401 without a body", Op: "GetStatus", Args: Args{Profile: "main"},
		Request: ptzQuery("GetStatus", "main"), Status: 401, Reply: "", Code: "device_error", Auth: true},
	{Name: "http 401 html", Op: "GetProfiles",
		Request: reqProfiles, Status: 401, Reply: "<html><body>401 Unauthorized</body></html>", Code: "device_error", Auth: true},
	{Name: "soap 1.1 client fault", Op: "Stop", Args: Args{Profile: "main"},
		Request: stop("main"), Status: 500,
		Reply: `<?xml version="1.0"?><SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/"><SOAP-ENV:Body><SOAP-ENV:Fault>` +
			`<faultcode>SOAP-ENV:Client</faultcode><faultstring>Method 'Stop' not implemented</faultstring></SOAP-ENV:Fault></SOAP-ENV:Body></SOAP-ENV:Envelope>`,
		Code: "device_error"},
	{Name: "fault nested subcodes", Op: "GotoPreset", Args: Args{Profile: "main", PresetToken: "1"},
		Request: gotoPreset("main", "1"), Status: 400,
		Reply: FaultEnv("env:Sender", "Vendor detail", "ter:InvalidArgVal", "ter:NoToken", "x:Vendor1", "x:Vendor2", "x:Vendor3", "x:Vendor4", "x:Vendor5", "x:Vendor6", "x:Vendor7", "x:Vendor8"),
		Code:  "bad_args"},
	{Name: "fault unknown code", Op: "GotoPreset", Args: Args{Profile: "main", PresetToken: "1"},
		Request: gotoPreset("main", "1"), Status: 500, Reply: FaultEnv("env:Receiver", "Motor stalled", "acme:MotorStall"), Code: "device_error"},
	{Name: "fault without a code", Op: "Stop", Args: Args{Profile: "main"},
		Request: stop("main"), Status: 500, Reply: Env(`<env:Fault><env:Reason><env:Text>?</env:Text></env:Reason></env:Fault>`), Code: "device_error"},
	{Name: "garbage", Op: "GetStatus", Args: Args{Profile: "main"},
		Request: ptzQuery("GetStatus", "main"), Reply: "\x01\x9b\x13zz<\x00", Code: "device_error"},
	{Name: "empty answer", Op: "ContinuousMove", Args: Args{Profile: "main", Pan: 1},
		Request: move("main", "1", "0", "0", ""), Reply: "", Code: "device_error"},
	{Name: "http 404 html", Op: "GetCapabilities",
		Request: reqCapabilities, Status: 404, Reply: "<html><body>Not Found</body></html>", Code: "device_error"},
	{Name: "answer to another request", Op: "GetStatus", Args: Args{Profile: "main"},
		Request: ptzQuery("GetStatus", "main"), Reply: Env("<tptz:StopResponse/>"), Code: "device_error"},
	{Name: "truncated envelope", Op: "GetStatus", Args: Args{Profile: "main"},
		Request: ptzQuery("GetStatus", "main"), Reply: Env(status("0", "0", "0", "IDLE", "IDLE"))[:300], Code: "device_error"},
	{Name: "envelope without a body", Op: "Stop", Args: Args{Profile: "main"},
		Request: stop("main"), Reply: `<env:Envelope xmlns:env="http://www.w3.org/2003/05/soap-envelope"><env:Header/></env:Envelope>`, Code: "device_error"},
	{Name: "empty body", Op: "Stop", Args: Args{Profile: "main"},
		Request: stop("main"), Reply: Env(""), Code: "device_error"},
	{Name: "not an envelope", Op: "Stop", Args: Args{Profile: "main"},
		Request: stop("main"), Reply: `<?xml version="1.0"?><StopResponse/>`, Code: "device_error"},
	{Name: "response with error status", Op: "Stop", Args: Args{Profile: "main"},
		Request: stop("main"), Status: 500, Reply: Env("<tptz:StopResponse/>"), Code: "device_error"},
}
