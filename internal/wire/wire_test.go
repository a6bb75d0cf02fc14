package wire

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

var at = time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC)

func TestValidID(t *testing.T) {
	good := []string{"a", "0", "courtroom-1", "a-", strings.Repeat("a", 63)}
	bad := []string{"", "-a", "A", "a_b", "a/b", "a+", "#", "a b", strings.Repeat("a", 64), "é"}
	for _, s := range good {
		if !ValidID(s) {
			t.Errorf("ValidID(%q) = false", s)
		}
	}
	for _, s := range bad {
		if ValidID(s) {
			t.Errorf("ValidID(%q) = true", s)
		}
	}
}

// topicTable is the golden table of topics: name ⇄ parsed value ⇄ error.
var topicTable = []struct {
	name string
	want Topic
	err  string
}{
	{"bailiff/v1/court-a/room-1/agent", Topic{Site: "court-a", Room: "room-1", Kind: KindAgent}, ""},
	{"bailiff/v1/court-a/room-1/config", Topic{Site: "court-a", Room: "room-1", Kind: KindConfig}, ""},
	{"bailiff/v1/court-a/room-1/meter", Topic{Site: "court-a", Room: "room-1", Kind: KindMeter}, ""},
	{"bailiff/v1/s/r/d/proj/state", Topic{Site: "s", Room: "r", Device: "proj", Kind: KindState}, ""},
	{"bailiff/v1/s/r/d/proj/cmd", Topic{Site: "s", Room: "r", Device: "proj", Kind: KindCmd}, ""},
	{"bailiff/v1/s/r/d/proj/ack", Topic{Site: "s", Room: "r", Device: "proj", Kind: KindAck}, ""},
	{"bailiff/v1/s/r/d/proj/event", Topic{Site: "s", Room: "r", Device: "proj", Kind: KindEvent}, ""},
	{"bailiff/v2/s/r/agent", Topic{}, "not under bailiff/v1/"},
	{"bailiff/v1/s/r/state", Topic{}, `unknown room topic "state"`},
	{"bailiff/v1/s/r/d/proj/agent", Topic{}, `unknown device topic "agent"`},
	{"bailiff/v1/s/r/x/proj/state", Topic{}, "want …/d/{device}/{kind}"},
	{"bailiff/v1/S/r/agent", Topic{}, `invalid site ID "S"`},
	{"bailiff/v1/s/-r/agent", Topic{}, `invalid room ID "-r"`},
	{"bailiff/v1/s/r/d/+/state", Topic{}, `invalid device ID "+"`},
	{"bailiff/v1/s/r/d/proj/state/x", Topic{}, "wrong number of levels"},
	{"bailiff/v1/s/agent", Topic{}, "wrong number of levels"},
}

func TestTopics(t *testing.T) {
	for _, tc := range topicTable {
		got, err := ParseTopic(tc.name)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ParseTopic(%q) error = %v, want %q", tc.name, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ParseTopic(%q) = %+v, %v; want %+v", tc.name, got, err, tc.want)
			continue
		}
		if got.String() != tc.name {
			t.Errorf("%+v.String() = %q, want %q", got, got.String(), tc.name)
		}
	}
}

func TestAgentUser(t *testing.T) {
	u := AgentUser("court-a", "room-1")
	if u != "agent/court-a/room-1" {
		t.Fatalf("AgentUser = %q", u)
	}
	s, r, ok := ParseAgentUser(u)
	if !ok || s != "court-a" || r != "room-1" {
		t.Fatalf("ParseAgentUser = %q %q %v", s, r, ok)
	}
	for _, bad := range []string{"agent:a/b", "agent/a", "agent/A/b", "observer", "agent/a/b/c"} {
		if _, _, ok := ParseAgentUser(bad); ok {
			t.Errorf("ParseAgentUser(%q) ok", bad)
		}
	}
}

func ptr[T any](v T) *T { return &v }

// messageTable is the golden table of payloads: bytes ⇄ decoded value ⇄ error. The same rows
// seed the fuzz tests.
var messageTable = []struct {
	kind Kind
	in   string
	want any
	err  string
}{
	{KindAgent, `{"online":true,"agent":"bailiff-agent","version":"1.0","seq":3,"at":"2026-11-29T10:00:00Z"}`,
		AgentStatus{Online: true, Agent: "bailiff-agent", Version: "1.0", Seq: 3, At: at}, ""},
	{KindAgent, `{"online":false,"agent":"a","version":"1","seq":3,"at":"2026-11-29T10:00:00Z","extra":1}`,
		AgentStatus{Agent: "a", Version: "1", Seq: 3, At: at}, ""},
	{KindAgent, `{"online":true}`, nil, `missing "at"`},
	{KindAgent, `[1]`, nil, "want a JSON object"},
	{KindAgent, `{"online":"yes","at":"2026-11-29T10:00:00Z"}`, nil, "cannot unmarshal string"},
	{KindState, `{"reachable":true,"state":{"power":"on"},"at":"2026-11-29T10:00:00Z"}`,
		DeviceState{Reachable: true, State: map[string]any{"power": "on"}, At: at}, ""},
	{KindState, `{"reachable":false,"error":"dial tcp: refused","at":"2026-11-29T10:00:00Z"}`,
		DeviceState{State: map[string]any{}, Error: "dial tcp: refused", At: at}, ""},
	{KindState, `{"reachable":true,"state":{}}`, nil, `missing "at"`},
	{KindState, `{"reachable":true,"at":"2026-11-29T10:00:00Z"} {}`, nil, "trailing data"},
	{KindCmd, `{"id":"c1","action":"power","args":{"on":true},"by":"judge","expires":"2026-11-29T10:00:00Z"}`,
		Command{ID: "c1", Action: "power", Args: json.RawMessage(`{"on":true}`), By: "judge", Expires: at}, ""},
	{KindCmd, `{"id":"c2","action":"refresh"}`, Command{ID: "c2", Action: "refresh"}, ""},
	{KindCmd, `{"action":"power"}`, nil, `"id" must be 1-128 characters`},
	{KindCmd, `{"id":"c3"}`, nil, `missing "action"`},
	{KindCmd, `{"id":"c4","action":"power","colour":"red"}`, nil, `unknown field "colour"`},
	{KindCmd, `{"id":"c5","action":"power"`, nil, "unexpected EOF"},
	{KindCmd, `not json`, nil, "invalid character"},
	{KindAck, `{"id":"c1","ok":true,"state":{"power":"on"}}`, Ack{ID: "c1", OK: true, State: map[string]any{"power": "on"}}, ""},
	{KindAck, `{"id":"c1","ok":false,"error":{"code":"timeout","message":"no reply"}}`,
		Ack{ID: "c1", Error: &Error{Code: "timeout", Message: "no reply"}}, ""},
	{KindAck, `{"id":"c1","ok":false}`, nil, `not ok but no "error"`},
	{KindAck, `{"id":"c1","ok":false,"error":{"code":"oops","message":""}}`, nil, `unknown error code "oops"`},
	{KindAck, `{"ok":true}`, nil, `missing "id"`},
	{KindEvent, `{"type":"button","pin":"GPIO4"}`, Event{Type: "button", Fields: map[string]any{"pin": "GPIO4"}}, ""},
	{KindEvent, `{"pin":"GPIO4"}`, nil, `missing "type"`},
	{KindEvent, `{"type":7}`, nil, `missing "type"`},
	{KindMeter, `{"levels":{"mic-1/1":-20.5,"mic-1/2":-90},"at":"2026-11-29T10:00:00Z"}`,
		Meter{Levels: map[string]float64{"mic-1/1": -20.5, "mic-1/2": -90}, At: at}, ""},
	{KindMeter, `{"levels":{"mic-1/1":3},"at":"2026-11-29T10:00:00Z"}`, nil, "want -200…0 dBFS"},
	{KindAgent, `{"online":true,"agent":"a","version":"1","seq":4,"at":"2026-11-29T10:00:00Z","config":{"revision":3,"rejected":4,"error":"devices[0].address: required"}}`,
		AgentStatus{Online: true, Agent: "a", Version: "1", Seq: 4, At: at, Config: &ConfigStatus{Revision: 3, Rejected: 4, Error: "devices[0].address: required"}}, ""},
	{KindConfig, `{"revision":2,"site":"court-a","room":"room-1","kind":"tech-courtroom","devices":[{"id":"p","driver":"pjlink","address":"10.0.0.5"}]}`,
		RoomConfig{Revision: 2, Site: "court-a", Room: "room-1", Body: json.RawMessage(`{"revision":2,"site":"court-a","room":"room-1","kind":"tech-courtroom","devices":[{"id":"p","driver":"pjlink","address":"10.0.0.5"}]}`)}, ""},
	{KindConfig, ` { "site" : "s", "room" : "r", "revision" : 1 } `,
		RoomConfig{Revision: 1, Site: "s", Room: "r", Body: json.RawMessage(`{"site":"s","room":"r","revision":1}`)}, ""},
	{KindConfig, `{"site":"s","room":"r"}`, nil, `missing "revision"`},
	{KindConfig, `{"revision":0,"site":"s","room":"r"}`, nil, "want a whole number ≥ 1"},
	{KindConfig, `{"revision":"3","site":"s","room":"r"}`, nil, "want a whole number ≥ 1"},
	{KindConfig, `{"revision":1.5,"site":"s","room":"r"}`, nil, "want a whole number ≥ 1"},
	{KindConfig, `{"revision":1,"room":"r"}`, nil, `"site" and "room" are required`},
	{KindConfig, `{"revision":1,"site":"S","room":"r"}`, nil, `invalid site ID "S"`},
	{KindConfig, `{"revision":1,"site":"s","room":7}`, nil, "cannot unmarshal number"},
	{KindConfig, `[{"revision":1}]`, nil, "want a JSON object"},
	{KindConfig, `{"revision":1,"site":"s","room":"r"} {}`, nil, "trailing data"},
}

func decode(k Kind, b []byte) (any, error) {
	switch k {
	case KindAgent:
		return DecodeAgentStatus(b)
	case KindState:
		return DecodeDeviceState(b)
	case KindCmd:
		return DecodeCommand(b)
	case KindAck:
		return DecodeAck(b)
	case KindEvent:
		return DecodeEvent(b)
	case KindMeter:
		return DecodeMeter(b)
	case KindConfig:
		return DecodeRoomConfig(b)
	}
	panic(k)
}

func TestMessages(t *testing.T) {
	for _, tc := range messageTable {
		got, err := decode(tc.kind, []byte(tc.in))
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("decode %s %s: error = %v, want %q", tc.kind, tc.in, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("decode %s %s: %v", tc.kind, tc.in, err)
			continue
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("decode %s %s:\n got %#v\nwant %#v", tc.kind, tc.in, got, tc.want)
			continue
		}
		// Encoding the decoded value and decoding it again gives the same value.
		again, err := decode(tc.kind, Encode(got))
		if err != nil || !reflect.DeepEqual(again, got) {
			t.Errorf("round trip %s %s: %#v, %v", tc.kind, tc.in, again, err)
		}
	}
}

func TestNewRoomConfig(t *testing.T) {
	c, err := NewRoomConfig(7, []byte(`{"site":"s","room":"r","revision":2,"kind":"tech-courtroom"}`))
	if err != nil {
		t.Fatal(err)
	}
	if c.Revision != 7 || string(c.Body) != `{"kind":"tech-courtroom","revision":7,"room":"r","site":"s"}` {
		t.Fatalf("NewRoomConfig = %d %s", c.Revision, c.Body)
	}
	for _, bad := range []string{`null`, `[]`, `{"site":"s"}`, `{"site":"s","room":"r/x"}`} {
		if _, err := NewRoomConfig(1, []byte(bad)); err == nil {
			t.Errorf("NewRoomConfig(%s) accepted", bad)
		}
	}
}

func TestOversizedPayload(t *testing.T) {
	big := `{"type":"x","pad":"` + strings.Repeat("a", MaxPayload) + `"}`
	if _, err := DecodeEvent([]byte(big)); err == nil || !strings.Contains(err.Error(), "exceeds") {
		t.Fatalf("oversized event: %v", err)
	}
}

func TestArgs(t *testing.T) {
	tests := []struct {
		action, args string
		want         any
		code         string
	}{
		{ActPower, `{"on":true}`, &PowerArgs{On: ptr(true)}, ""},
		{ActPower, `{}`, nil, CodeBadArgs},
		{ActPower, `{"on":"yes"}`, nil, CodeBadArgs},
		{ActPower, `{"on":true,"x":1}`, nil, CodeBadArgs},
		{ActInput, `{"source":"hdmi1"}`, &InputArgs{Source: "hdmi1"}, ""},
		{ActInput, `{"source":""}`, nil, CodeBadArgs},
		{ActMute, `{"on":false,"channel":"3"}`, &MuteArgs{On: ptr(false), Channel: "3"}, ""},
		{ActGain, `{"db":-6.5}`, &GainArgs{DB: ptr(-6.5)}, ""},
		{ActGain, `{"db":100}`, nil, CodeBadArgs},
		{ActPreset, `{"recall":3}`, &PresetArgs{Recall: ptr(3)}, ""},
		{ActPreset, `{"recall":3,"store":4}`, nil, CodeBadArgs},
		{ActPreset, `{}`, nil, CodeBadArgs},
		{ActPreset, `{"store":256}`, nil, CodeBadArgs},
		{ActPTZ, `{"pan":-1,"tilt":0.5,"zoom":0}`, &PTZArgs{Pan: -1, Tilt: 0.5}, ""},
		{ActPTZ, `{"pan":1.5}`, nil, CodeBadArgs},
		{ActBlank, `{"on":true}`, &BlankArgs{On: ptr(true)}, ""},
		{ActRoute, `{"input":"1","output":"3","kind":"video"}`, &RouteArgs{Input: "1", Output: "3", Kind: "video"}, ""},
		{ActRoute, `{"input":"1","output":"3","kind":"smell"}`, nil, CodeBadArgs},
		{ActRelay, `{"on":false}`, &RelayArgs{On: ptr(false)}, ""},
		{ActTally, `{"color":"amber"}`, &TallyArgs{Color: "amber"}, ""},
		{ActTally, `{"color":"blue"}`, nil, CodeBadArgs},
		{ActTally, `{}`, nil, CodeBadArgs},
		{ActFirmwareUpdate, `{"image":"fw-1","url":"http://hub:8080/api/v1/firmware/images/fw-1","manifest":{"size":1}}`,
			&FirmwareUpdateArgs{Image: "fw-1", URL: "http://hub:8080/api/v1/firmware/images/fw-1", Manifest: json.RawMessage(`{"size":1}`)}, ""},
		{ActFirmwareUpdate, `{"image":"fw-1","url":"file:///etc/passwd","manifest":{}}`, nil, CodeBadArgs},
		{ActFirmwareUpdate, `{"image":"fw-1","url":"http://h/x","manifest":"x"}`, nil, CodeBadArgs},
		{ActFirmwareUpdate, `{"url":"http://h/x","manifest":{}}`, nil, CodeBadArgs},
		{ActPulse, `{"ms":250}`, &PulseArgs{MS: 250}, ""},
		{ActPulse, `{"ms":0}`, nil, CodeBadArgs},
		{ActPrint, `{"number":"A017","service":"Filing"}`, &PrintArgs{Number: "A017", Service: "Filing"}, ""},
		{ActPrint, `{}`, nil, CodeBadArgs},
		{ActRefresh, ``, &RefreshArgs{}, ""},
		{ActRefresh, `null`, &RefreshArgs{}, ""},
		{"explode", `{}`, nil, CodeUnsupported},
		{ActPower, `{"on":true} {}`, nil, CodeBadArgs},
	}
	for _, tc := range tests {
		got, err := ParseArgs(tc.action, json.RawMessage(tc.args))
		if tc.code != "" {
			var we *Error
			if !errors.As(err, &we) || we.Code != tc.code {
				t.Errorf("ParseArgs(%s, %s) = %v, want code %s", tc.action, tc.args, err, tc.code)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("ParseArgs(%s, %s) = %#v, %v; want %#v", tc.action, tc.args, got, err, tc.want)
		}
	}
	if len(ActionNames()) != 14 {
		t.Errorf("ActionNames = %v", ActionNames())
	}
}

func TestCommandExpired(t *testing.T) {
	c := Command{Expires: at}
	if c.Expired(at) || !c.Expired(at.Add(time.Millisecond)) {
		t.Error("Expired")
	}
	if (&Command{}).Expired(at) {
		t.Error("a command with no expiry expired")
	}
}

func TestErrors(t *testing.T) {
	e := Errorf(CodeBusy, "warming up %d", 30)
	if e.Error() != "busy: warming up 30" || CodeOf(e) != CodeBusy || CodeOf(errors.New("x")) != CodeDeviceError {
		t.Errorf("Error = %q", e.Error())
	}
	for _, c := range Codes {
		if !ValidCode(c) {
			t.Errorf("ValidCode(%q)", c)
		}
	}
	ev := Event{Type: "button", Fields: map[string]any{"type": "ignored", "n": 1}}
	if got := string(Encode(ev)); got != `{"n":1,"type":"button"}` {
		t.Errorf("event encodes as %s", got)
	}
}

func BenchmarkDecodeDeviceState(b *testing.B) {
	p := []byte(`{"reachable":true,"state":{"power":"on","input":"31","video_mute":false,"audio_mute":false,"lamps":[{"hours":1234,"on":true}]},"driver":"pjlink","at":"2026-11-29T10:00:00Z"}`)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DecodeDeviceState(p); err != nil {
			b.Fatal(err)
		}
	}
}
