package onvif

import (
	"encoding/base64"
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/bailiff/bailiff/drivers"
	"github.com/bailiff/bailiff/drivers/onvif/internal/golden"
)

// The digest example of the ONVIF Application Programmer's Guide, checked with
// `(base64 -d <<<nonce; printf %s created password) | openssl sha1 -binary | base64`.
var vector = struct{ Nonce, Created, Password, Digest string }{
	Nonce: "LKqI6G/AikKCQrN0zqZFlg==", Created: "2010-09-16T07:50:45Z", Password: "userpassword",
	Digest: "tuOSpGlFlIXsozq4HFNeeGeFLEI=",
}

func TestDigestVector(t *testing.T) {
	nonce, err := base64.StdEncoding.DecodeString(vector.Nonce)
	if err != nil {
		t.Fatal(err)
	}
	if got := passwordDigest(nonce, vector.Created, vector.Password); got != vector.Digest {
		t.Fatalf("digest %s, want %s", got, vector.Digest)
	}
}

func TestTokenAndEnvelope(t *testing.T) {
	nonce := []byte("0123456789abcdef")
	tok := newToken("ad<min", "pw", nonce, time.Date(2024, 5, 6, 7, 8, 9, 123456789, time.FixedZone("x", 3600)))
	if tok.Created != "2024-05-06T06:08:09.123Z" {
		t.Fatalf("created %q", tok.Created)
	}
	env := string(envelope([]byte("<tptz:Stop/>"), &tok))
	for _, want := range []string{
		`<wsse:Username>ad&lt;min</wsse:Username>`,
		`<wsse:Nonce EncodingType="` + base64BinaryType + `">MDEyMzQ1Njc4OWFiY2RlZg==</wsse:Nonce>`,
		`<wsu:Created>2024-05-06T06:08:09.123Z</wsu:Created>`,
		`<wsse:Password Type="` + passwordDigestType + `">` + passwordDigest(nonce, tok.Created, "pw") + `</wsse:Password>`,
		`<s:Body><tptz:Stop/></s:Body></s:Envelope>`,
	} {
		if !strings.Contains(env, want) {
			t.Errorf("envelope lacks %s:\n%s", want, env)
		}
	}
	if strings.Contains(env, ">pw<") {
		t.Fatal("the password is in the envelope")
	}
	if plain := string(envelope([]byte("<x/>"), nil)); strings.Contains(plain, "Header") {
		t.Fatalf("envelope without a token has a header: %s", plain)
	}
}

// encode builds the request body of a golden exchange.
func encode(t testing.TB, e golden.Exchange) []byte {
	a := e.Args
	switch e.Op {
	case "ContinuousMove":
		return reqContinuousMove(a.Profile, a.Pan, a.Tilt, a.Zoom, a.MoveTimeout)
	case "Stop":
		return reqStop(a.Profile)
	case "GotoPreset":
		return reqGotoPreset(a.Profile, a.PresetToken)
	case "SetPreset":
		return reqSetPreset(a.Profile, a.PresetToken, a.PresetName)
	case "GetPresets":
		return reqGetPresets(a.Profile)
	case "GetStatus":
		return reqGetStatus(a.Profile)
	case "GetSystemDateAndTime":
		return reqSystemDateAndTime()
	case "GetCapabilities":
		return reqCapabilities()
	case "GetServices":
		return reqServices()
	case "GetProfiles":
		return reqProfiles()
	}
	t.Fatalf("no encoder for %s", e.Op)
	return nil
}

// decode reads the answer to op the way the driver does, into the form of golden.Exchange.Want.
func decode(op string, status int, body []byte) (map[string]any, error) {
	switch op {
	case "ContinuousMove", "Stop", "GotoPreset":
		return nil, parseEmpty(ops[op], status, body)
	case "SetPreset":
		tok, err := parseSetPreset(status, body)
		if err != nil {
			return nil, err
		}
		return map[string]any{"token": tok}, nil
	case "GetPresets":
		ps, err := parsePresets(status, body)
		if err != nil {
			return nil, err
		}
		out := []string{}
		for _, p := range ps {
			out = append(out, p.Token+"="+p.Name)
		}
		return map[string]any{"presets": out}, nil
	case "GetStatus":
		st, err := parseStatus(status, body)
		return st, err
	case "GetSystemDateAndTime":
		ts, ok, err := parseDateTime(status, body)
		if err != nil {
			return nil, err
		}
		utc := ""
		if ok {
			utc = ts.Format(time.RFC3339)
		}
		return map[string]any{"utc": utc}, nil
	case "GetCapabilities", "GetServices":
		parse := parseCapabilities
		if op == "GetServices" {
			parse = parseServices
		}
		e, err := parse(status, body)
		if err != nil {
			return nil, err
		}
		return map[string]any{"media": e.media, "ptz": e.ptz}, nil
	case "GetProfiles":
		ps, err := parseProfiles(status, body)
		if err != nil {
			return nil, err
		}
		all, ptz := []string{}, []string{}
		for _, p := range ps {
			all = append(all, p.Token)
			if p.PTZ {
				ptz = append(ptz, p.Token)
			}
		}
		return map[string]any{"profiles": all, "ptz": ptz}, nil
	}
	return nil, errors.New("no decoder for " + op)
}

// check compares a decoded answer and its error with a golden exchange.
func check(t *testing.T, e golden.Exchange, got map[string]any, err error) {
	t.Helper()
	if e.Code == "" {
		if err != nil {
			t.Fatalf("error %v, want none", err)
		}
	} else {
		if err == nil {
			t.Fatalf("no error, want %s", e.Code)
		}
		if c := drivers.Code(err); c != e.Code {
			t.Fatalf("error %q has code %s, want %s", err, c, e.Code)
		}
		if errors.Is(err, ErrAuth) != e.Auth {
			t.Fatalf("error %q: ErrAuth in the chain %v, want %v", err, errors.Is(err, ErrAuth), e.Auth)
		}
		if e.Auth && !strings.Contains(err.Error(), "authentication failed") {
			t.Fatalf("error %q does not say authentication failed", err)
		}
		return
	}
	if e.Want == nil {
		if len(got) != 0 {
			t.Fatalf("decoded %v, want nothing", got)
		}
		return
	}
	if !reflect.DeepEqual(got, e.Want) {
		t.Fatalf("decoded %#v, want %#v", got, e.Want)
	}
}

func TestCodecGolden(t *testing.T) {
	for _, e := range golden.Exchanges {
		t.Run(e.Name, func(t *testing.T) {
			if got := string(encode(t, e)); got != e.Request {
				t.Fatalf("request\n%s\nwant\n%s", got, e.Request)
			}
			got, err := decode(e.Op, e.HTTPStatus(), []byte(e.Reply))
			check(t, e, got, err)
		})
	}
}

func TestGoldenNamesAreUnique(t *testing.T) {
	seen := map[string]bool{}
	for _, e := range golden.Exchanges {
		if seen[e.Name] {
			t.Errorf("golden exchange %q twice", e.Name)
		}
		seen[e.Name] = true
		if _, ok := ops[e.Op]; !ok {
			t.Errorf("%s: unknown operation %s", e.Name, e.Op)
		}
	}
}

func TestFaultClassification(t *testing.T) {
	for _, c := range []struct {
		f    Fault
		code string
		auth bool
	}{
		{Fault{Code: "Sender", Subcodes: []string{"NotAuthorized"}}, "device_error", true},
		{Fault{Code: "Sender", Subcodes: []string{"InvalidArgVal", "NoProfile"}}, "device_error", false},
		{Fault{Code: "Sender", Subcodes: []string{"InvalidArgVal", "NoToken"}}, "bad_args", false},
		{Fault{Code: "Sender", Subcodes: []string{"InvalidArgs"}}, "device_error", false},
		{Fault{Code: "Receiver", Subcodes: []string{"Action", "MovingPTZ"}}, "busy", false},
		{Fault{Code: "Receiver", Subcodes: []string{"ActionNotSupported"}}, "unsupported", false},
		{Fault{Code: "Sender", Subcodes: []string{"UnknownAction"}}, "unsupported", false},
		{Fault{Code: "MustUnderstand"}, "device_error", false},
		{Fault{Code: "FailedAuthentication"}, "device_error", true},
	} {
		if got := drivers.Code(&c.f); got != c.code || errors.Is(&c.f, ErrAuth) != c.auth {
			t.Errorf("%s: code %s auth %v, want %s %v", c.f.Codes(), got, errors.Is(&c.f, ErrAuth), c.code, c.auth)
		}
	}
	f := &Fault{Code: "Sender", Subcodes: []string{"InvalidArgVal", "NoToken"}, Reason: "No such preset"}
	if got, want := f.Error(), "fault Sender/InvalidArgVal/NoToken (No such preset): bad arguments"; got != want {
		t.Fatalf("Error() = %q, want %q", got, want)
	}
	if !f.Has("NoToken") || f.Has("NoProfile") || f.stale() {
		t.Fatal("Has/stale")
	}
}

func TestClean(t *testing.T) {
	for in, want := range map[string]string{
		"  a\n\tb  ":                "a b",
		"ctl\x01x":                  "ctl?x",
		"\xff\xfe":                  "?",
		strings.Repeat("x", 10):     strings.Repeat("x", 10),
		strings.Repeat("ab ", 100):  strings.TrimSpace(strings.Repeat("ab ", 40)) + " …",
		"":                          "",
		"NO error":                  "NO error",
		"line1\r\nline2\u2028line3": "line1 line2 line3",
	} {
		if got := clean(in, 120); got != want {
			t.Errorf("clean(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestSpeedAndDuration(t *testing.T) {
	for v, want := range map[float64]string{0: "0", math.Copysign(0, -1): "0", 1: "1", -1: "-1", 0.5: "0.5", 2: "1", -7: "-1",
		0.33333333: "0.3333", 0.00004: "0", -0.00004: "0", 1e-7: "0"} {
		if got := speed(v); got != want {
			t.Errorf("speed(%v) = %q, want %q", v, got, want)
		}
	}
	for d, want := range map[time.Duration]string{10 * time.Second: "PT10S", 1500 * time.Millisecond: "PT1.5S",
		90 * time.Second: "PT90S", time.Millisecond: "PT0.001S"} {
		if got := duration(d); got != want {
			t.Errorf("duration(%v) = %q, want %q", d, got, want)
		}
	}
}

func TestFindPreset(t *testing.T) {
	ps := []Preset{{"1", "Judge"}, {"2", "bailiff-7"}, {"007", "Clerk"}, {"PresetToken_3", "Witness"}, {"5", "BAILIFF-1"}}
	for n, want := range map[int]string{1: "5", 2: "2", 7: "2", 3: "", 4: "", 0: ""} {
		got, ok := FindPreset(ps, n)
		if got != want || ok != (want != "") {
			t.Errorf("FindPreset(%d) = %q, %v, want %q", n, got, ok, want)
		}
	}
	if got, _ := FindPreset([]Preset{{"007", "Clerk"}}, 7); got != "007" {
		t.Errorf("FindPreset 007 = %q", got)
	}
}
