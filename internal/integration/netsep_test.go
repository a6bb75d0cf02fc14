package integration

import (
	"bufio"
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bailiff/bailiff/internal/hub"
	"github.com/bailiff/bailiff/internal/testutil"
	"github.com/bailiff/bailiff/media/sfu/sfutest"
	"github.com/bailiff/bailiff/web"
	"github.com/pion/webrtc/v4"
)

// outside is the loopback address that plays the outside network's side of the hub.
const outside = "127.0.0.2"

// Two networks: the hub's private listener (127.0.0.1) carries everything; its public listener
// (http.public_listen, on 127.0.0.2) answers only the visitor page and the files it loads, an
// invite's own view, and WHIP/WHEP for invite tokens. Nothing else of the hub is bound on the
// outside address but the TURN server.
func TestTwoNetworks(t *testing.T) {
	clips := sfutest.Load(t, sfutest.Small)
	e := newEnvWith(t, 1, false, func(o *hub.Options) {
		o.Web = web.Handler()
		o.PublicListen = outside + ":0"
		o.TURN = &hub.TURNOptions{Listen: outside + ":0", RelayPortMin: 45000, RelayPortMax: 47999, TTL: 10 * time.Minute}
	})
	pub := "http://" + e.hub.PublicAddr()
	if host, _, _ := net.SplitHostPort(e.hub.PublicAddr()); host != outside {
		t.Fatalf("public listener on %s", e.hub.PublicAddr())
	}
	turnPort := strconv.Itoa(e.hub.TURN().Port())

	// --- the scan: what the process has bound on the outside address (or on every address) ---
	_, pubPort, _ := net.SplitHostPort(e.hub.PublicAddr())
	found := map[string]bool{}
	for _, s := range boundSockets(t) {
		if s.ip != outside && s.ip != "0.0.0.0" && s.ip != "::" {
			continue
		}
		found[s.proto+" "+s.port] = true
		ok := s.ip == outside && (s.proto == "tcp" && (s.port == pubPort || s.port == turnPort) ||
			s.proto == "udp" && s.port == turnPort)
		if !ok {
			t.Errorf("bound on the outside: %s %s:%s", s.proto, s.ip, s.port)
		}
	}
	for _, want := range []string{"tcp " + pubPort, "tcp " + turnPort, "udp " + turnPort} {
		if !found[want] {
			t.Errorf("the scan did not find %s on %s: %v", want, outside, found)
		}
	}
	for name, addr := range map[string]string{"MQTT": e.mqttAddr, "the private HTTP listener": e.httpAddr} {
		_, port, _ := net.SplitHostPort(addr)
		if c, err := net.DialTimeout("tcp", net.JoinHostPort(outside, port), time.Second); err == nil {
			c.Close()
			t.Errorf("%s answers on %s", name, outside)
		}
	}

	judge, tech := e.login("judge"), e.login("tech")
	agent := "agent." + site + ".r1." + e.creds["r1"].Password
	st, inv := e.call("POST", "/api/v1/invites", judge, map[string]any{"site": site, "room": "r1", "hearing": "h-1", "name": "A. Witness", "expires_in": "1h"})
	token, _ := inv["token"].(string)
	stream, _ := inv["stream"].(string)
	if st != 201 || token == "" {
		t.Fatalf("create invite: %d %v", st, inv)
	}

	// --- refused on the outside (404: the listener does not show what exists elsewhere;
	// 403: a staff or agent token on WHIP/WHEP) ---
	const offer = "v=0\r\n" // refused before the offer is read
	for _, c := range []struct {
		method, path, token, body string
		want                      int
	}{
		{"POST", "/api/v1/login", "", `{"user":"judge","password":"pw-judge"}`, 404},
		{"GET", "/metrics", "", "", 404},
		{"GET", "/healthz", "", "", 404},
		{"GET", "/api/v1/rooms", judge, "", 404},
		{"GET", "/api/v1/rooms/court/r1", judge, "", 404},
		{"GET", "/api/v1/events", judge, "", 404},
		{"GET", "/api/v1/events?access_token=" + token, "", "", 404},
		{"GET", "/api/v1/streams", token, "", 404},
		{"GET", "/api/v1/invites", judge, "", 404},
		{"POST", "/api/v1/invites", judge, `{}`, 404},
		{"POST", "/api/v1/invite", token, "", 404},
		{"GET", "/", "", "", 404},
		{"GET", "/index.html", "", "", 404},
		{"GET", "/recordings.html", "", "", 404},
		{"GET", "/judge.html", "", "", 404},
		{"GET", "/app.js", "", "", 404},
		{"GET", "/lib.js", "", "", 404},
		{"GET", "/join/x", "", "", 404},
		{"GET", "/whep/court/r1/cam", token, "", 404},
		{"POST", "/whep/court/r1/cam", judge, offer, 403},
		{"POST", "/whip/court/r1/cam", tech, offer, 403},
		{"POST", "/whip/court/r1/cam", agent, offer, 403},
		{"POST", "/whep/court/r1/cam", agent, offer, 403},
		{"POST", "/whep/court/r1/cam", "", offer, 401},
	} {
		if got, body := rawCall(t, c.method, pub+c.path, c.token, c.body); got != c.want {
			t.Errorf("outside %s %s: %d %q, want %d", c.method, c.path, got, body, c.want)
		}
	}
	// OPTIONS gives TURN credentials to an invite only.
	if got := e.iceServersAt(pub, "/whep/court/r1/cam", judge, "turn:"); len(got) != 0 {
		t.Errorf("outside OPTIONS with a staff token gives ICE servers: %+v", got)
	}
	if got := e.iceServersAt(pub, "/whep/court/r1/cam", token, "turn:"); len(got) == 0 {
		t.Error("outside OPTIONS with an invite gives no TURN server")
	}
	// The private side still serves staff.
	for _, p := range []string{"/metrics", "/", "/recordings.html"} {
		if got, body := rawCall(t, "GET", e.url(p), "", ""); got != 200 {
			t.Errorf("inside GET %s: %d %q", p, got, body)
		}
	}

	// --- served on the outside: the visitor page and exactly what it loads ---
	loads := pageLoads(t, pub)
	slices.Sort(loads)
	want := slices.DeleteFunc(slices.Clone(hub.PublicFiles), func(p string) bool { return p == web.JoinPath || p == "/join.html" })
	slices.Sort(want)
	if !slices.Equal(loads, want) {
		t.Errorf("the visitor page loads %v; the public listener serves %v", loads, want)
	}
	for _, p := range hub.PublicFiles {
		if got, body := rawCall(t, "GET", pub+p, "", ""); got != 200 || len(body) == 0 {
			t.Errorf("outside GET %s: %d", p, got)
		}
		if got, _ := rawCall(t, "HEAD", pub+p, "", ""); got != 200 {
			t.Errorf("outside HEAD %s: %d", p, got)
		}
	}
	if got, body := rawCall(t, "GET", pub+"/api/v1/invite", token, ""); got != 200 || !strings.Contains(body, `"stream":"`+stream+`"`) {
		t.Errorf("outside GET /api/v1/invite: %d %s", got, body)
	}

	// --- media: the room's agent publishes inside; the visitor watches and speaks outside ---
	api, err := sfutest.NewAPI(true)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cam, err := sfutest.NewPublisher(api, webrtc.MimeTypeVP8)
	if err != nil {
		t.Fatal(err)
	}
	defer cam.Close()
	e.connect(ctx, cam, "/whip/court/r1/cam", agent)
	go cam.Run(ctx, clips.VP8, clips.Opus)
	testutil.Eventually(t, 10*time.Second, "the agent's stream", func() bool { return len(e.hub.SFU().Streams()) == 1 })

	v, err := sfutest.NewViewer(api, sfutest.ViewerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	loc := e.connectAt(ctx, pub, v, "/whep/court/r1/cam", token)
	testutil.Eventually(t, 15*time.Second, "the visitor sees video through the public listener", func() bool { return v.Frames() > 5 })

	vp, err := sfutest.NewPublisher(api, webrtc.MimeTypeVP8)
	if err != nil {
		t.Fatal(err)
	}
	defer vp.Close()
	e.connectAt(ctx, pub, vp, "/whip/court/r1/"+stream, token)
	go vp.Run(ctx, clips.VP8, clips.Opus)
	testutil.Eventually(t, 10*time.Second, "the visitor's stream", func() bool { return len(e.hub.SFU().Streams()) == 2 })

	// The visitor hangs up on the public listener; a staff token may not end it there.
	if got, body := rawCall(t, "DELETE", pub+loc, judge, ""); got != 403 {
		t.Errorf("outside DELETE with a staff token: %d %q", got, body)
	}
	if got, body := rawCall(t, "DELETE", pub+loc, token, ""); got != 200 {
		t.Errorf("outside DELETE with the invite: %d %q", got, body)
	}
	select {
	case <-v.Ended():
	case <-time.After(10 * time.Second):
		t.Error("the visitor's viewer still runs after DELETE")
	}
}

// The public listener speaks HTTPS with the hub's certificate when TLS is on, and still serves
// only the visitor's routes.
func TestTwoNetworksTLS(t *testing.T) {
	mqttTLS := testutil.FreePort(t)
	e := newEnvWith(t, 1, false, func(o *hub.Options) {
		o.Web = web.Handler()
		o.PublicListen = outside + ":0"
		o.TLS = &hub.TLSOptions{MQTTListen: mqttTLS, Names: []string{"localhost", "127.0.0.1", outside}}
	})
	pub := "https://" + e.hub.PublicAddr()
	judge := e.login("judge")
	st, inv := e.call("POST", "/api/v1/invites", judge, map[string]any{"site": site, "room": "r1", "hearing": "h-1", "name": "A. Witness"})
	token, _ := inv["token"].(string)
	if st != 201 || token == "" {
		t.Fatalf("create invite: %d %v", st, inv)
	}
	for _, c := range []struct {
		method, path, token string
		want                int
	}{
		{"GET", web.JoinPath, "", 200},
		{"GET", "/lib/api.js", "", 200},
		{"GET", "/api/v1/invite", token, 200},
		{"GET", "/api/v1/rooms", judge, 404},
		{"POST", "/api/v1/login", "", 404},
		{"GET", "/metrics", "", 404},
	} {
		if got, body := rawCallWith(t, e.https, c.method, pub+c.path, c.token, ""); got != c.want {
			t.Errorf("outside over TLS %s %s: %d %q, want %d", c.method, c.path, got, body, c.want)
		}
	}
	if got, _ := rawCall(t, "GET", "http://"+e.hub.PublicAddr()+web.JoinPath, "", ""); got != http.StatusBadRequest {
		t.Errorf("plain HTTP to the public listener with TLS on: %d, want 400", got)
	}
}

// rawCall makes a request and returns the status and the body.
func rawCall(t *testing.T, method, url, token, body string) (int, string) {
	t.Helper()
	return rawCallWith(t, http.DefaultClient, method, url, token, body)
}

// rawCallWith is rawCall with client.
func rawCallWith(t *testing.T, client *http.Client, method, url, token, body string) (int, string) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, _ := http.NewRequest(method, url, rd)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if strings.HasPrefix(body, "v=0") {
		req.Header.Set("Content-Type", "application/sdp")
	} else if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

var (
	htmlRef   = regexp.MustCompile(`(?:src|href)="(/[^"#?]*)"`)
	moduleRef = regexp.MustCompile(`(?m)^\s*import\s[^"]*"(/[^"]+)"`)
)

// pageLoads follows the visitor page's references (src, href, module imports) through the
// listener at base and returns every path it loads.
func pageLoads(t *testing.T, base string) []string {
	t.Helper()
	seen := map[string]bool{}
	var out []string
	var walk func(path string)
	walk = func(path string) {
		st, body := rawCall(t, "GET", base+path, "", "")
		if st != 200 {
			t.Errorf("the visitor page loads %s: %d", path, st)
			return
		}
		var refs [][]string
		switch {
		case strings.HasSuffix(path, ".js"):
			refs = moduleRef.FindAllStringSubmatch(body, -1)
		case !strings.HasSuffix(path, ".css"):
			refs = htmlRef.FindAllStringSubmatch(body, -1)
		}
		for _, m := range refs {
			if !seen[m[1]] {
				seen[m[1]] = true
				out = append(out, m[1])
				walk(m[1])
			}
		}
	}
	walk(web.JoinPath)
	return out
}

// iceServersAt is iceServers through the listener at base.
func (e *env) iceServersAt(base, path, token, only string) []webrtc.ICEServer {
	e.t.Helper()
	return e.iceServersFrom(base+path, token, only)
}

type boundSocket struct{ proto, ip, port string }

// boundSockets lists the TCP sockets this process listens on and the UDP sockets it has bound,
// from /proc.
func boundSockets(t *testing.T) []boundSocket {
	t.Helper()
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	mine := map[string]bool{}
	for _, fd := range fds {
		if l, err := os.Readlink(filepath.Join("/proc/self/fd", fd.Name())); err == nil && strings.HasPrefix(l, "socket:[") {
			mine[strings.TrimSuffix(strings.TrimPrefix(l, "socket:["), "]")] = true
		}
	}
	var out []boundSocket
	for _, f := range []string{"tcp", "tcp6", "udp", "udp6"} {
		file, err := os.Open("/proc/net/" + f)
		if err != nil {
			continue // no IPv6
		}
		sc := bufio.NewScanner(file)
		sc.Scan() // header
		for sc.Scan() {
			fs := strings.Fields(sc.Text())
			if len(fs) < 10 || !mine[fs[9]] {
				continue
			}
			proto := strings.TrimSuffix(f, "6")
			if proto == "tcp" && fs[3] != "0A" { // LISTEN
				continue
			}
			if proto == "udp" && fs[2] != "00000000:0000" && !strings.HasPrefix(fs[2], "00000000000000000000000000000000:") {
				continue // connected: not a server socket
			}
			ip, port, err := procAddr(fs[1])
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, boundSocket{proto, ip, port})
		}
		file.Close()
	}
	if len(out) == 0 {
		t.Fatal("no listening socket found in /proc")
	}
	return out
}

// procAddr decodes /proc/net's hex address: IPv4 as one little-endian word, IPv6 as four.
func procAddr(s string) (string, string, error) {
	h, p, ok := strings.Cut(s, ":")
	b, err := hex.DecodeString(h)
	port, err2 := strconv.ParseUint(p, 16, 16)
	if !ok || err != nil || err2 != nil || len(b)%4 != 0 {
		return "", "", fmt.Errorf("bad /proc address %q", s)
	}
	for i := 0; i < len(b); i += 4 {
		b[i], b[i+1], b[i+2], b[i+3] = b[i+3], b[i+2], b[i+1], b[i]
	}
	return net.IP(b).String(), strconv.Itoa(int(port)), nil
}
