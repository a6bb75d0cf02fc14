package onvifsim

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/kerberos-io/onvif/gosoap"

	"github.com/bailiff/bailiff/drivers/onvif/internal/golden"
	"github.com/bailiff/bailiff/drivers/simreg"
	"github.com/bailiff/bailiff/internal/testutil"
)

// pathOf is the service path of each operation.
var pathOf = map[string]string{
	"GetSystemDateAndTime": DevicePath, "GetCapabilities": DevicePath, "GetServices": DevicePath,
	"GetProfiles":    MediaPath,
	"ContinuousMove": PTZPath, "Stop": PTZPath, "GotoPreset": PTZPath, "SetPreset": PTZPath, "GetPresets": PTZPath, "GetStatus": PTZPath,
}

// envelope wraps a body element and header blocks into a SOAP 1.2 request, declaring the
// prefixes the driver's requests use.
func envelope(body string, header ...string) []byte {
	h := ""
	if len(header) > 0 {
		h = "<s:Header>" + strings.Join(header, "") + "</s:Header>"
	}
	return []byte(`<?xml version="1.0" encoding="UTF-8"?><s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"` +
		` xmlns:tds="http://www.onvif.org/ver10/device/wsdl" xmlns:trt="http://www.onvif.org/ver10/media/wsdl"` +
		` xmlns:tptz="http://www.onvif.org/ver20/ptz/wsdl" xmlns:tt="http://www.onvif.org/ver10/schema">` + h +
		`<s:Body>` + body + `</s:Body></s:Envelope>`)
}

// libToken is the UsernameToken header kerberos-io/onvif makes: the simulator must take the
// library's tokens as well as the driver's.
func libToken(t testing.TB, user, password string) string {
	b, err := xml.Marshal(gosoap.NewSecurity(user, password))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func simFor(t testing.TB, op string, su *golden.Setup) *Sim {
	t.Helper()
	ps := su.Presets
	if ps == nil {
		ps = golden.Default
	}
	cfg := Config{Clock: func() time.Time { return golden.Now }, XAddrHost: golden.Host, MaxPresets: su.MaxPresets,
		NoCapabilities: su.NoCapabilities, Presets: []Preset{}}
	for _, p := range ps {
		cfg.Presets = append(cfg.Presets, Preset{Token: p.Token, Name: p.Name, Pan: p.Pan, Tilt: p.Tilt, Zoom: p.Zoom})
	}
	s := New(cfg)
	if err := s.SetPosition(su.Position[0], su.Position[1], su.Position[2]); err != nil {
		t.Fatal(err)
	}
	if su.Velocity != ([3]float64{}) {
		s.SetVelocity(su.Velocity[0], su.Velocity[1], su.Velocity[2])
	}
	if f := su.Fault; f != nil {
		s.SetFault(op, &Fault{Code: f.Code, Subcodes: f.Subcodes, Reason: f.Reason})
	}
	return s
}

func start(t testing.TB, s *Sim) string {
	t.Helper()
	addr, err := s.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return addr
}

func post(t testing.TB, addr, path string, body []byte) (int, string) {
	t.Helper()
	resp, err := http.Post("http://"+addr+path, "application/soap+xml; charset=utf-8", bytes.NewReader(body))
	if err != nil {
		t.Fatalf("post: %v", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	return resp.StatusCode, string(b)
}

// TestGoldenExchanges sends every golden request the simulator should answer, over HTTP, and
// checks the answer byte for byte.
func TestGoldenExchanges(t *testing.T) {
	n := 0
	for _, e := range golden.Exchanges {
		if e.Sim == nil {
			continue
		}
		n++
		t.Run(e.Name, func(t *testing.T) {
			s := simFor(t, e.Op, e.Sim)
			addr := start(t, s)
			status, reply := post(t, addr, pathOf[e.Op], envelope(e.Request))
			if status != e.HTTPStatus() || reply != e.Reply {
				t.Fatalf("answer %d\n%s\nwant %d\n%s", status, reply, e.HTTPStatus(), e.Reply)
			}
		})
	}
	if n < 20 {
		t.Fatalf("only %d golden exchanges for the simulator", n)
	}
}

func TestAuthentication(t *testing.T) {
	s := New(Config{Username: "admin", Password: "secret", ClockSkew: -30 * time.Minute, AuthWindow: 5 * time.Second})
	addr := start(t, s)
	profiles := `<trt:GetProfiles/>`

	// The library stamps tokens with the local clock, 30 minutes ahead of the camera's.
	if status, reply := post(t, addr, MediaPath, envelope(profiles, libToken(t, "admin", "secret"))); status != 400 || !strings.Contains(reply, "ter:NotAuthorized") {
		t.Fatalf("token outside the window: %d %s", status, reply)
	}
	s.cfg.ClockSkew = 0 // no other goroutine uses the simulator here
	good := envelope(profiles, libToken(t, "admin", "secret"))
	if status, reply := post(t, addr, MediaPath, good); status != 200 || !strings.Contains(reply, "GetProfilesResponse") {
		t.Fatalf("good token: %d %s", status, reply)
	}
	if status, _ := post(t, addr, MediaPath, good); status != 400 {
		t.Fatalf("replayed nonce accepted: %d", status)
	}
	for name, env := range map[string][]byte{
		"wrong password": envelope(profiles, libToken(t, "admin", "nope")),
		"wrong user":     envelope(profiles, libToken(t, "root", "secret")),
		"no token":       envelope(profiles),
		"password text": envelope(profiles, `<wsse:Security xmlns:wsse="`+nsWSSE+`"><wsse:UsernameToken><wsse:Username>admin</wsse:Username>`+
			`<wsse:Password>secret</wsse:Password><wsse:Created>`+time.Now().UTC().Format(time.RFC3339)+`</wsse:Created></wsse:UsernameToken></wsse:Security>`),
		"unknown must-understand header": envelope(profiles, libToken(t, "admin", "secret"), `<x:Trace xmlns:x="urn:x" s:mustUnderstand="true"/>`),
	} {
		status, reply := post(t, addr, MediaPath, env)
		want := "ter:NotAuthorized"
		if strings.HasPrefix(name, "unknown") {
			want = "env:MustUnderstand"
		}
		if status == 200 || !strings.Contains(reply, want) {
			t.Errorf("%s: %d %s, want %s", name, status, reply, want)
		}
	}
	// PRE_AUTH operations need no token, but a bad one is refused.
	if status, _ := post(t, addr, DevicePath, envelope(`<tds:GetSystemDateAndTime/>`)); status != 200 {
		t.Fatalf("GetSystemDateAndTime without a token: %d", status)
	}
	if status, _ := post(t, addr, DevicePath, envelope(`<tds:GetCapabilities/>`)); status != 200 {
		t.Fatalf("GetCapabilities without a token: %d", status)
	}
	if status, _ := post(t, addr, DevicePath, envelope(`<tds:GetCapabilities/>`, libToken(t, "admin", "bad"))); status != 400 {
		t.Fatalf("GetCapabilities with a bad token: %d", status)
	}
	if st := s.State(); st.AuthFails != 7 {
		t.Fatalf("%d authentication failures counted, want 7", st.AuthFails)
	}
}

func TestContinuousMove(t *testing.T) {
	c := testutil.NewClock(golden.Now)
	s := New(Config{Clock: c.Now, Speed: 0.5})
	move := func(x, y, z, extra string) (int, []byte) {
		return s.Handle("h", PTZPath, envelope(`<tptz:ContinuousMove><tptz:ProfileToken>main</tptz:ProfileToken><tptz:Velocity>`+
			`<tt:PanTilt x="`+x+`" y="`+y+`"/><tt:Zoom x="`+z+`"/></tptz:Velocity>`+extra+`</tptz:ContinuousMove>`))
	}
	if st, r := move("1", "-0.5", "0.2", ""); st != 200 {
		t.Fatalf("move: %d %s", st, r)
	}
	c.Add(time.Second)
	st := s.State()
	if !near(st.Pan, 0.5) || !near(st.Tilt, -0.25) || !near(st.Zoom, 0.1) || !st.PanTiltMoving || !st.ZoomMoving || st.LastProfile != "main" {
		t.Fatalf("after 1 s: %+v", st)
	}
	c.Add(10 * time.Second) // pan and tilt reach their limits, zoom too
	if st := s.State(); st.Pan != 1 || st.Tilt != -1 || st.Zoom != 1 || st.PanTiltMoving || st.ZoomMoving {
		t.Fatalf("at the limits: %+v", st)
	}
	// A move with a timeout stops by itself.
	if st, r := move("-1", "0", "0", "<tptz:Timeout>PT2S</tptz:Timeout>"); st != 200 {
		t.Fatalf("move with timeout: %d %s", st, r)
	}
	if st := s.State(); st.MoveTimeout != 2*time.Second {
		t.Fatalf("timeout %v", st.MoveTimeout)
	}
	c.Add(5 * time.Second)
	if st := s.State(); !near(st.Pan, 0) || st.PanTiltMoving || st.PanVel != 0 {
		t.Fatalf("after the timeout: %+v", st)
	}
	// Omitted axes keep their velocity; Stop stops only what it names.
	s.SetVelocity(0, 0, -1)
	if st, r := s.Handle("h", PTZPath, envelope(`<tptz:ContinuousMove><tptz:ProfileToken>main</tptz:ProfileToken><tptz:Velocity>`+
		`<tt:PanTilt x="0.2" y="0"/></tptz:Velocity></tptz:ContinuousMove>`)); st != 200 {
		t.Fatalf("pan only: %d %s", st, r)
	}
	if st := s.State(); st.PanVel != 0.2 || st.ZoomVel != -1 {
		t.Fatalf("velocities %+v", st)
	}
	s.Handle("h", PTZPath, envelope(`<tptz:Stop><tptz:ProfileToken>main</tptz:ProfileToken><tptz:Zoom>false</tptz:Zoom></tptz:Stop>`))
	if st := s.State(); st.PanVel != 0 || st.ZoomVel != -1 {
		t.Fatalf("after stopping pan/tilt: %+v", st)
	}
	s.Handle("h", PTZPath, envelope(`<tptz:Stop><tptz:ProfileToken>main</tptz:ProfileToken></tptz:Stop>`))
	if st := s.State(); st.ZoomVel != 0 {
		t.Fatalf("after Stop: %+v", st)
	}

	for name, c := range map[string]struct{ x, y, z, extra, want string }{
		"x out of range":       {"1.5", "0", "0", "", "ter:InvalidArgVal"},
		"not a number":         {"fast", "0", "0", "", "ter:InvalidArgs"},
		"NaN":                  {"NaN", "0", "0", "", "ter:InvalidArgs"},
		"bad timeout":          {"1", "0", "0", "<tptz:Timeout>10 seconds</tptz:Timeout>", "ter:InvalidArgs"},
		"timeout without time": {"1", "0", "0", "<tptz:Timeout>PT</tptz:Timeout>", "ter:InvalidArgs"},
	} {
		if st, r := move(c.x, c.y, c.z, c.extra); st != 400 || !strings.Contains(string(r), c.want) {
			t.Errorf("%s: %d %s, want %s", name, st, r, c.want)
		}
	}
	for name, c := range map[string]struct{ body, want string }{
		"missing y":     {`<tt:PanTilt x="1"/>`, "ter:MissingAttr"},
		"other space":   {`<tt:PanTilt x="1" y="0" space="http://www.onvif.org/ver10/tptz/PanTiltSpaces/VelocitySpaceDegrees"/>`, "ter:SpaceNotSupported"},
		"no velocity":   {"", "ter:InvalidArgs"},
		"no profile":    {"", "ter:InvalidArgs"},
		"unknown token": {`<tt:PanTilt x="1" y="0"/>`, "ter:NoProfile"},
		"no ptz":        {`<tt:PanTilt x="1" y="0"/>`, "ter:NoPTZProfile"},
	} {
		var body string
		switch name {
		case "no velocity":
			body = `<tptz:ContinuousMove><tptz:ProfileToken>main</tptz:ProfileToken></tptz:ContinuousMove>`
		case "no profile":
			body = `<tptz:ContinuousMove><tptz:Velocity><tt:PanTilt x="1" y="0"/></tptz:Velocity></tptz:ContinuousMove>`
		case "unknown token":
			body = `<tptz:ContinuousMove><tptz:ProfileToken>gone</tptz:ProfileToken><tptz:Velocity>` + c.body + `</tptz:Velocity></tptz:ContinuousMove>`
		case "no ptz":
			body = `<tptz:ContinuousMove><tptz:ProfileToken>snapshot</tptz:ProfileToken><tptz:Velocity>` + c.body + `</tptz:Velocity></tptz:ContinuousMove>`
		default:
			body = `<tptz:ContinuousMove><tptz:ProfileToken>main</tptz:ProfileToken><tptz:Velocity>` + c.body + `</tptz:Velocity></tptz:ContinuousMove>`
		}
		if st, r := s.Handle("h", PTZPath, envelope(body)); st != 400 || !strings.Contains(string(r), c.want) {
			t.Errorf("%s: %d %s, want %s", name, st, r, c.want)
		}
	}
}

func near(a, b float64) bool { return a-b < 1e-9 && b-a < 1e-9 }

func TestPresets(t *testing.T) {
	s := New(Config{Presets: []Preset{{Token: "1", Name: "Judge"}, {Token: "3", Name: "Counsel", Pan: 0.5}}, MaxPresets: 4})
	set := func(inner string) (int, string) {
		st, r := s.Handle("h", PTZPath, envelope(`<tptz:SetPreset><tptz:ProfileToken>main</tptz:ProfileToken>`+inner+`</tptz:SetPreset>`))
		return st, string(r)
	}
	if err := s.SetPosition(0.1, 0.2, 0.3); err != nil {
		t.Fatal(err)
	}
	if st, r := set(""); st != 200 || !strings.Contains(r, "<tptz:PresetToken>2</tptz:PresetToken>") {
		t.Fatalf("new preset: %d %s", st, r)
	}
	if st, r := set(`<tptz:PresetName>Clerk</tptz:PresetName>`); st != 200 || !strings.Contains(r, ">4<") {
		t.Fatalf("new named preset: %d %s", st, r)
	}
	if st, r := set(`<tptz:PresetName>Full</tptz:PresetName>`); st != 500 || !strings.Contains(r, "ter:TooManyPresets") {
		t.Fatalf("fifth preset: %d %s", st, r)
	}
	if st, r := set(`<tptz:PresetToken>1</tptz:PresetToken><tptz:PresetName>Bench</tptz:PresetName>`); st != 200 {
		t.Fatalf("rename: %d %s", st, r)
	}
	if st, r := set(`<tptz:PresetName>   </tptz:PresetName>`); st != 400 || !strings.Contains(r, "ter:InvalidPresetName") {
		t.Fatalf("blank name: %d %s", st, r)
	}
	got := s.State().Presets
	want := []Preset{{"1", "Bench", 0.1, 0.2, 0.3}, {"3", "Counsel", 0.5, 0, 0}, {"2", "Preset 2", 0.1, 0.2, 0.3}, {"4", "Clerk", 0.1, 0.2, 0.3}}
	if len(got) != len(want) {
		t.Fatalf("presets %+v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("preset %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	if st, r := s.Handle("h", PTZPath, envelope(`<tptz:GotoPreset><tptz:ProfileToken>main</tptz:ProfileToken><tptz:PresetToken>3</tptz:PresetToken></tptz:GotoPreset>`)); st != 200 {
		t.Fatalf("goto: %d %s", st, r)
	}
	if st := s.State(); st.Pan != 0.5 || st.Tilt != 0 || st.Zoom != 0 {
		t.Fatalf("after goto: %+v", st)
	}
}

func TestMalformedRequests(t *testing.T) {
	s := New(Config{})
	for name, c := range map[string]struct {
		path, body string
		status     int
		want       string
	}{
		"not xml":          {PTZPath, "\x01\x02", 400, "ter:WellFormed"},
		"empty":            {PTZPath, "", 400, "ter:WellFormed"},
		"soap 1.1":         {PTZPath, `<e:Envelope xmlns:e="http://schemas.xmlsoap.org/soap/envelope/"><e:Body/></e:Envelope>`, 500, "env:VersionMismatch"},
		"no body":          {PTZPath, `<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"></s:Envelope>`, 400, "ter:Tag"},
		"empty body":       {PTZPath, string(envelope("")), 400, "ter:Tag"},
		"unknown path":     {"/onvif/other", string(envelope("<tptz:Stop/>")), 404, ""},
		"wrong service":    {DevicePath, string(envelope("<tptz:Stop/>")), 400, "ter:UnknownAction"},
		"unknown action":   {PTZPath, string(envelope("<tptz:AbsoluteMove/>")), 400, "ter:UnknownAction"},
		"wrong namespace":  {PTZPath, string(envelope(`<Stop xmlns="urn:other"/>`)), 400, "ter:UnknownAction"},
		"bad stop flag":    {PTZPath, string(envelope(`<tptz:Stop><tptz:ProfileToken>main</tptz:ProfileToken><tptz:Zoom>yes</tptz:Zoom></tptz:Stop>`)), 400, "ter:InvalidArgs"},
		"category unknown": {DevicePath, string(envelope(`<tds:GetCapabilities><tds:Category>Analytics</tds:Category></tds:GetCapabilities>`)), 500, "ter:NoSuchService"},
		"services no flag": {DevicePath, string(envelope(`<tds:GetServices/>`)), 400, "ter:InvalidArgs"},
		"goto no token":    {PTZPath, string(envelope(`<tptz:GotoPreset><tptz:ProfileToken>main</tptz:ProfileToken></tptz:GotoPreset>`)), 400, "ter:InvalidArgs"},
	} {
		st, r := s.Handle("h", c.path, []byte(c.body))
		if st != c.status || !strings.Contains(string(r), c.want) {
			t.Errorf("%s: %d %s, want %d %s", name, st, r, c.status, c.want)
		}
		if c.status != 404 && !wellFormed(r) {
			t.Errorf("%s: answer is not well-formed XML: %s", name, r)
		}
	}
}

// wellFormed reports whether b is one well-formed XML document.
func wellFormed(b []byte) bool {
	d := xml.NewDecoder(bytes.NewReader(b))
	depth, roots := 0, 0
	for {
		t, err := d.Token()
		if errors.Is(err, io.EOF) {
			return depth == 0 && roots == 1
		}
		if err != nil {
			return false
		}
		switch t.(type) {
		case xml.StartElement:
			if depth == 0 {
				roots++
			}
			depth++
		case xml.EndElement:
			depth--
		}
	}
}

func TestCapabilitiesCategory(t *testing.T) {
	s := New(Config{XAddrHost: "cam:8080"})
	_, r := s.Handle("h", DevicePath, envelope(`<tds:GetCapabilities><tds:Category>PTZ</tds:Category></tds:GetCapabilities>`))
	if !strings.Contains(string(r), "<tt:PTZ><tt:XAddr>http://cam:8080/onvif/ptz_service</tt:XAddr></tt:PTZ>") || strings.Contains(string(r), "tt:Media") {
		t.Fatalf("PTZ capabilities: %s", r)
	}
}

func TestMisbehaviour(t *testing.T) {
	// Answers that must come get a long timeout; the silent camera's request gives up soon.
	client := &http.Client{Timeout: 5 * time.Second}
	req := envelope(`<tptz:GetStatus><tptz:ProfileToken>main</tptz:ProfileToken></tptz:GetStatus>`)
	do := func(addr string) (int, []byte, error) {
		resp, err := client.Post("http://"+addr+PTZPath, "application/soap+xml", bytes.NewReader(req))
		if err != nil {
			return 0, nil, err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return resp.StatusCode, b, err
	}
	t.Run("slow", func(t *testing.T) {
		s := New(Config{})
		addr := start(t, s)
		s.SetMode(Slow)
		s.SetDelay(100 * time.Millisecond)
		t0 := time.Now()
		if st, _, err := do(addr); err != nil || st != 200 || time.Since(t0) < 100*time.Millisecond {
			t.Fatalf("slow: %d %v after %v", st, err, time.Since(t0))
		}
	})
	t.Run("silent", func(t *testing.T) {
		s := New(Config{})
		addr := start(t, s)
		s.SetMode(Silent)
		c := &http.Client{Timeout: 300 * time.Millisecond}
		if resp, err := c.Post("http://"+addr+PTZPath, "application/soap+xml", bytes.NewReader(req)); err == nil {
			resp.Body.Close()
			t.Fatal("silent camera answered")
		}
		if s.State().Requests != 1 {
			t.Fatal("request not counted")
		}
	})
	t.Run("garbage", func(t *testing.T) {
		s := New(Config{})
		addr := start(t, s)
		s.SetMode(Garbage)
		st, b, err := do(addr)
		if err != nil || st != 200 || wellFormed(b) || len(b) == 0 || b[0] == '<' {
			t.Fatalf("garbage: %d %q %v", st, b, err)
		}
	})
	t.Run("drop", func(t *testing.T) {
		s := New(Config{})
		addr := start(t, s)
		s.SetMode(Drop)
		for i := 0; i < 2; i++ {
			if _, _, err := do(addr); err == nil {
				t.Fatal("dropped request answered")
			}
		}
	})
	t.Run("drop once", func(t *testing.T) {
		s := New(Config{})
		addr := start(t, s)
		s.SetMode(DropOnce)
		if _, _, err := do(addr); err == nil {
			t.Fatal("dropped request answered")
		}
		if st, _, err := do(addr); err != nil || st != 200 {
			t.Fatalf("after drop once: %d %v", st, err)
		}
	})
	t.Run("fault", func(t *testing.T) {
		s := New(Config{})
		addr := start(t, s)
		s.SetFault("", FaultCritical)
		if st, b, _ := do(addr); st != 500 || !strings.Contains(string(b), "ter:CriticalError") {
			t.Fatalf("fault: %d %s", st, b)
		}
		s.SetFault("", nil)
		s.SetFault("GetStatus", FaultInvalidArgVal)
		if st, b, _ := do(addr); st != 400 || !strings.Contains(string(b), "ter:InvalidArgVal") {
			t.Fatalf("op fault: %d %s", st, b)
		}
		s.SetFault("GetStatus", nil)
		if st, _, _ := do(addr); st != 200 {
			t.Fatalf("cleared: %d", st)
		}
	})
	t.Run("method", func(t *testing.T) {
		s := New(Config{})
		addr := start(t, s)
		resp, err := client.Get("http://" + addr + PTZPath)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 405 {
			t.Fatalf("GET: %d", resp.StatusCode)
		}
	})
}

func TestCloseEndsSilentRequests(t *testing.T) {
	s := New(Config{})
	addr, err := s.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.SetMode(Silent)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		req, _ := http.NewRequestWithContext(ctx, "POST", "http://"+addr+PTZPath, bytes.NewReader(envelope("<tptz:Stop/>")))
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		done <- err
	}()
	for s.State().Requests == 0 {
		time.Sleep(time.Millisecond)
	}
	t0 := time.Now()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(t0); d > time.Second {
		t.Fatalf("Close took %v", d)
	}
	if err := <-done; err == nil {
		t.Fatal("silent request answered")
	}
	if _, err := s.Listen("127.0.0.1:0"); err == nil {
		t.Fatal("Listen after Close")
	}
}

func TestRegistered(t *testing.T) {
	sim, err := simreg.Start("onvif", simreg.Options{ID: "cam", Name: "Camera", Fast: true,
		Options: map[string]string{"username": "admin", "password": "pw", "profile": "prof7"}})
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	if sim.Address() == "" {
		t.Fatal("no address")
	}
	s := sim.(registered).Sim
	if s.cfg.Username != "admin" || s.cfg.Password != "pw" || len(s.cfg.Profiles) != 1 || s.cfg.Profiles[0].Token != "prof7" || s.cfg.Speed != 5 {
		t.Fatalf("config %+v", s.cfg)
	}
	if _, err := simreg.Start("onvif", simreg.Options{ID: "cam", Transport: "serial"}); err == nil {
		t.Fatal("serial accepted")
	}
	b, err := json.Marshal(sim.(simreg.Inspector).Snapshot())
	if err != nil || !strings.Contains(string(b), `"Mode":"normal"`) {
		t.Fatalf("snapshot %s, %v", b, err)
	}
	m := sim.(simreg.Misbehaver)
	for _, mode := range []string{"slow", "silent", "garbage", "drop", "drop-once", "fault", "normal"} {
		if err := m.SetMode(mode); err != nil {
			t.Fatalf("mode %s: %v", mode, err)
		}
	}
	if err := m.SetMode("sideways"); err == nil {
		t.Fatal("unknown mode accepted")
	}
	m.SetMode("fault")
	if st, r := s.Handle("h", DevicePath, envelope(`<tds:GetSystemDateAndTime/>`)); st != 500 || !strings.Contains(string(r), "ter:CriticalError") {
		t.Fatalf("fault mode: %d %s", st, r)
	}
	m.SetMode("normal")
	if st, _ := s.Handle("h", DevicePath, envelope(`<tds:GetSystemDateAndTime/>`)); st != 200 {
		t.Fatalf("normal again: %d", st)
	}
}

func TestParseDuration(t *testing.T) {
	for in, want := range map[string]time.Duration{"PT10S": 10 * time.Second, "PT0.5S": 500 * time.Millisecond,
		"PT1M30S": 90 * time.Second, "PT1H": time.Hour, " PT2S ": 2 * time.Second} {
		if got, ok := parseDuration(in); !ok || got != want {
			t.Errorf("parseDuration(%q) = %v, %v", in, got, ok)
		}
	}
	for _, in := range []string{"", "PT", "P1D", "10", "PT-1S", "PTS", "PT1.S"} {
		if _, ok := parseDuration(in); ok {
			t.Errorf("parseDuration(%q) accepted", in)
		}
	}
}
