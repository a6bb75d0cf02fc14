package integration

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/bailiff/bailiff/internal/hub"
	"github.com/bailiff/bailiff/internal/testutil"
	"github.com/bailiff/bailiff/media/sfu"
	"github.com/bailiff/bailiff/media/sfu/sfutest"
	"github.com/bailiff/bailiff/media/source"
	"github.com/bailiff/bailiff/media/whip"
	"github.com/bailiff/bailiff/web"
	"github.com/pion/ice/v4"
	"github.com/pion/webrtc/v4"
)

// The two-network test runs the hub in this process, between two network namespaces made for
// it: "court" (the private court network, 10.98.P.0/24) and "internet" (10.98.O.0/24), each
// joined to this process's namespace by a veth pair. What the other side sees is checked by
// this test binary run again inside a namespace (`ip netns exec`), in the role netnsRoleEnv
// names (TestMain).

// netnsRoleEnv names the role of the test binary run inside a namespace; netnsSpecEnv carries
// its netnsSpec as JSON.
const (
	netnsRoleEnv = "BAILIFF_NETNS_ROLE"
	netnsSpecEnv = "BAILIFF_NETNS_SPEC"
)

// TestMain runs the binary as a namespace's prober when it is one (BAILIFF_NETNS_ROLE), else the
// tests; it removes what they left behind: encoded clips, and the PostgreSQL a test started.
func TestMain(m *testing.M) {
	if role := os.Getenv(netnsRoleEnv); role != "" {
		os.Exit(runInNamespace(role))
	}
	code := m.Run()
	sfutest.Cleanup()
	stopPostgres()
	os.Exit(code)
}

// netnsSpec tells the binary in a namespace what to probe and what each probe must find.
type netnsSpec struct {
	Probes []probe `json:"probes"`
	// Outside: the visitor's checks through the public listener.
	PublicURL string   `json:"public_url,omitempty"`
	Invite    string   `json:"invite,omitempty"`
	Stream    string   `json:"stream,omitempty"` // the invite's own stream name
	Staff     string   `json:"staff,omitempty"`  // a judge's session token, refused outside
	Clips     string   `json:"clips,omitempty"`  // directory of vp8.ivf and opus.ogg
	Visitor   []string `json:"visitor,omitempty"`
	// PublishVia is the TURN the visitor publishes through: "turns:" or "turn:tcp".
	PublishVia string `json:"publish_via,omitempty"`
}

// probe is one port of one address: what answers there must be Want.
type probe struct {
	Proto string `json:"proto"` // tcp or udp
	Addr  string `json:"addr"`  // ip:port
	Want  string `json:"want"`  // open, closed (TCP RST or ICMP port unreachable), or unreachable
	What  string `json:"what"`
}

// A court's two networks made of real interfaces: the hub listens for MQTT and the staff
// pages on the court network's address only, for the visitor's pages, invite-scoped WHIP/WHEP
// and TURN (UDP, TCP and TLS) on the internet's address only; its media UDP port is on the
// court side (visitors reach media through the TURN server, which relays to it). From the
// internet namespace every port the hub process has open is probed, on TCP and UDP, on the
// hub's outside address: only the public listener and TURN answer; everything else is refused
// by the kernel (no socket there). The court network's address cannot be reached from the
// internet namespace at all. On the public listener staff routes answer 404; a visitor
// publishes over WHIP through TURN over TLS (relay only) and watches its own stream over WHEP
// through TURN over UDP, all from the internet namespace. Twice: with TLS on (MQTT over TLS,
// HTTPS, TURN over TLS), and with it off (plain MQTT and HTTP; the visitor then publishes
// through TURN over TCP).
func TestTwoNetworksNamespaces(t *testing.T) {
	for _, withTLS := range []bool{true, false} {
		name := "plain"
		if withTLS {
			name = "tls"
		}
		t.Run(name, func(t *testing.T) { twoNetworksNamespaces(t, withTLS) })
	}
}

func twoNetworksNamespaces(t *testing.T, withTLS bool) {
	clips := sfutest.Load(t, sfutest.Small)
	base := freeSubnets(t, 2*(os.Getpid()%120))
	court := makeNetns(t, "court", base)
	inet := makeNetns(t, "inet", base+1)
	priv, out := court.hubIP, inet.hubIP

	port := func() string { _, p, _ := net.SplitHostPort(testutil.FreePort(t)); return p }
	turnPort := port()
	e := newEnvWith(t, 1, false, func(o *hub.Options) {
		o.Web = web.Handler()
		o.HTTPListen = net.JoinHostPort(priv, "0")
		o.PublicListen = net.JoinHostPort(out, "0")
		o.MQTTListen = net.JoinHostPort(priv, port())
		o.Media = sfu.Network{UDPAddr: net.JoinHostPort(priv, "0")}
		o.TURN = &hub.TURNOptions{Listen: net.JoinHostPort(out, turnPort), RelayPortMin: 45000, RelayPortMax: 47999, TTL: 10 * time.Minute}
		if withTLS {
			o.TLS = &hub.TLSOptions{MQTTListen: net.JoinHostPort(priv, port()), Names: []string{"localhost", "127.0.0.1", priv, out}}
			o.TURN.TLSListen = net.JoinHostPort(out, "0")
		}
	})
	e.httpAddr = e.hub.HTTPAddr()
	testutil.Eventually(t, 10*time.Second, "the room's agent online over the court network", func() bool { return e.hub.Registry().Online(site, "r1") })
	judge := e.login("judge")
	st, inv := e.call("POST", "/api/v1/invites", judge, map[string]any{"site": site, "room": "r1", "hearing": "h-1", "name": "A. Witness", "expires_in": "1h"})
	token, _ := inv["token"].(string)
	stream, _ := inv["stream"].(string)
	if st != 201 || token == "" {
		t.Fatalf("create invite: %d %v", st, inv)
	}
	caFile, scheme, via := "", "http://", "turn:tcp"
	if withTLS {
		caFile, scheme, via = filepath.Join(e.dir, "hub-ca.pem"), "https://", "turns:"
		if err := os.WriteFile(caFile, e.hub.CA().PEM, 0o644); err != nil {
			t.Fatal(err)
		}
	}

	// Every socket the process has bound: on the hub's outside address only the public
	// listener and TURN; none on every address; the media port on the court side.
	_, pubPort, _ := net.SplitHostPort(e.hub.PublicAddr())
	open := map[string]bool{"tcp " + pubPort: true, "tcp " + turnPort: true, "udp " + turnPort: true}
	if withTLS {
		open["tcp "+strconv.Itoa(e.hub.TURN().TLSPort())] = true
	}
	mediaPort := ""
	for _, a := range e.hub.SFU().UDPAddrs() {
		ua := a.(*net.UDPAddr)
		if ua.IP.String() != priv {
			t.Errorf("media UDP on %s, want %s", ua, priv)
		}
		mediaPort = strconv.Itoa(ua.Port)
	}
	_, httpPort, _ := net.SplitHostPort(e.httpAddr)
	_, mqttPort, _ := net.SplitHostPort(e.hub.BrokerURL()[strings.Index(e.hub.BrokerURL(), "://")+3:])
	var outside, courtSide []probe
	seen := map[string]bool{}
	for _, s := range boundSockets(t) {
		if s.ip == "0.0.0.0" || s.ip == "::" {
			t.Errorf("bound on every address: %s %s:%s", s.proto, s.ip, s.port)
		}
		if k := s.proto + " " + s.port; !seen[k] {
			seen[k] = true
			want := "closed"
			if open[k] {
				want = "open"
			}
			outside = append(outside, probe{s.proto, net.JoinHostPort(out, s.port), want, s.ip + ":" + s.port})
			outside = append(outside, probe{s.proto, net.JoinHostPort(priv, s.port), "unreachable", s.ip + ":" + s.port})
		}
	}
	for k := range open {
		if !seen[k] {
			t.Errorf("the scan did not find %s", k)
		}
	}
	for _, k := range []string{"tcp " + httpPort, "tcp " + mqttPort, "udp " + mediaPort} {
		if !seen[k] {
			t.Errorf("the scan did not find %s (staff HTTP, MQTT, media)", k)
		}
	}
	// The court network reaches the staff listener, MQTT and media, not the public ones.
	courtSide = []probe{
		{"tcp", net.JoinHostPort(priv, httpPort), "open", "the staff listener"},
		{"tcp", net.JoinHostPort(priv, mqttPort), "open", "MQTT"},
		{"tcp", net.JoinHostPort(priv, pubPort), "closed", "the public listener's port"},
		{"tcp", net.JoinHostPort(priv, turnPort), "closed", "TURN's port"},
		{"udp", net.JoinHostPort(priv, turnPort), "closed", "TURN's port"},
	}
	runNetns(t, court.ns, "probe", netnsSpec{Probes: courtSide}, caFile)

	runNetns(t, inet.ns, "outside", netnsSpec{
		Probes: outside, PublicURL: scheme + e.hub.PublicAddr(), Invite: token, Stream: stream, Staff: judge,
		Clips: clips.Dir, Visitor: hub.PublicFiles, PublishVia: via,
	}, caFile)
	if n := e.hub.TURN().Refused(); n != 0 {
		t.Errorf("the TURN server refused %d credentials", n)
	}
}

// freeSubnets returns an even s from start on (wrapping) such that neither 10.98.s.0/24 nor
// 10.98.s+1.0/24 is in use on this machine (another run of this test, say).
func freeSubnets(t *testing.T, start int) int {
	t.Helper()
	out, err := exec.Command("ip", "-4", "-o", "addr", "show").CombinedOutput()
	if err != nil {
		t.Fatalf("ip addr show (the test needs iproute2): %v: %s", err, out)
	}
	for i := 0; i < 120; i++ {
		s := (start + 2*i) % 240
		if !strings.Contains(string(out), fmt.Sprintf(" 10.98.%d.", s)) && !strings.Contains(string(out), fmt.Sprintf(" 10.98.%d.", s+1)) {
			return s
		}
	}
	t.Fatal("no free 10.98.x.0/24 pair for the namespaces")
	return 0
}

// netns is a network namespace joined to this one by a veth pair: hubIP on this side,
// peerIP inside.
type netns struct{ ns, hubIP, peerIP string }

// makeNetns makes the namespace bailiff-{name}-{pid} on 10.98.{subnet}.0/24 and removes it
// (and the veth pair) when the test ends, whatever happens. A test that cannot make it fails.
func makeNetns(t *testing.T, name string, subnet int) netns {
	t.Helper()
	pid := strconv.Itoa(os.Getpid())
	n := netns{ns: "bailiff-" + name + "-" + pid, hubIP: fmt.Sprintf("10.98.%d.1", subnet), peerIP: fmt.Sprintf("10.98.%d.2", subnet)}
	hostIf := "bf" + name[:2] + "h" + pid // at most 15 characters
	peerIf := "bf" + name[:2] + "p" + pid
	if len(hostIf) > 15 {
		hostIf, peerIf = hostIf[:15], peerIf[:15]
	}
	ipCmd := func(args ...string) error {
		out, err := exec.Command("ip", args...).CombinedOutput()
		if err != nil {
			return fmt.Errorf("ip %s: %v: %s", strings.Join(args, " "), err, out)
		}
		return nil
	}
	_ = ipCmd("link", "del", hostIf) // a leftover of a killed run with this pid
	_ = ipCmd("netns", "del", n.ns)
	t.Cleanup(func() {
		_ = ipCmd("link", "del", hostIf)
		if err := ipCmd("netns", "del", n.ns); err != nil {
			t.Errorf("remove the namespace: %v", err)
		}
	})
	for _, args := range [][]string{
		{"netns", "add", n.ns},
		{"link", "add", hostIf, "type", "veth", "peer", "name", peerIf},
		{"link", "set", peerIf, "netns", n.ns},
		{"addr", "add", n.hubIP + "/24", "dev", hostIf},
		{"link", "set", hostIf, "up"},
		{"-n", n.ns, "addr", "add", n.peerIP + "/24", "dev", peerIf},
		{"-n", n.ns, "link", "set", peerIf, "up"},
		{"-n", n.ns, "link", "set", "lo", "up"},
	} {
		if err := ipCmd(args...); err != nil {
			t.Fatalf("making the network namespace %s (the test needs root and iproute2): %v", n.ns, err)
		}
	}
	return n
}

// runNetns runs this test binary inside ns in role with spec; the run's failures fail t.
func runNetns(t *testing.T, ns, role string, spec netnsSpec, caFile string) {
	t.Helper()
	j, _ := json.Marshal(spec)
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "ip", "netns", "exec", ns, exe)
	cmd.Env = append(os.Environ(), netnsRoleEnv+"="+role, netnsSpecEnv+"="+string(j))
	if caFile != "" {
		cmd.Env = append(cmd.Env, "SSL_CERT_FILE="+caFile) // pion's TURN-over-TLS client trusts the system's roots
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("in the %s namespace (%s): %v\n%s", ns, role, err, out)
	}
	t.Logf("in the %s namespace (%s):\n%s", ns, role, out)
}

// runInNamespace is the test binary's work inside a namespace; it prints what it found and
// returns 1 when something is not as the spec wants.
func runInNamespace(role string) int {
	var spec netnsSpec
	if err := json.Unmarshal([]byte(os.Getenv(netnsSpecEnv)), &spec); err != nil {
		fmt.Println("bad spec:", err)
		return 2
	}
	failed := 0
	fail := func(format string, args ...any) {
		failed++
		fmt.Printf("FAIL: "+format+"\n", args...)
	}
	answered := 0
	for _, p := range spec.Probes {
		got := probePort(p.Proto, p.Addr)
		if got != p.Want {
			fail("%s %s (%s): %s, want %s", p.Proto, p.Addr, p.What, got, p.Want)
		} else if got == "open" {
			answered++
		}
	}
	fmt.Printf("%d ports probed, %d answered\n", len(spec.Probes), answered)
	if role == "outside" {
		if err := outsideVisitor(spec, fail); err != nil {
			fail("%v", err)
		}
	}
	if failed > 0 {
		return 1
	}
	return 0
}

// probePort says what answers at addr: "open" (a TCP connection is accepted; a UDP STUN
// binding request gets an answer), "closed" (TCP RST or ICMP port unreachable: no socket),
// "unreachable" (no route), or "silent" (no answer at all).
func probePort(proto, addr string) string {
	classify := func(err error) string {
		var ne net.Error
		switch {
		case errors.Is(err, syscall.ECONNREFUSED):
			return "closed"
		case errors.Is(err, syscall.ENETUNREACH), errors.Is(err, syscall.EHOSTUNREACH):
			return "unreachable"
		case errors.As(err, &ne) && ne.Timeout():
			return "silent"
		}
		return "error: " + err.Error()
	}
	if proto == "tcp" {
		c, err := net.DialTimeout("tcp", addr, 2*time.Second)
		if err != nil {
			return classify(err)
		}
		c.Close()
		return "open"
	}
	c, err := net.Dial("udp", addr)
	if err != nil {
		return classify(err)
	}
	defer c.Close()
	req := make([]byte, 20) // a STUN binding request, RFC 8489 §5
	binary.BigEndian.PutUint16(req[0:], 0x0001)
	binary.BigEndian.PutUint32(req[4:], 0x2112A442)
	copy(req[8:], "bailiff-prob")
	c.SetDeadline(time.Now().Add(1500 * time.Millisecond))
	if _, err := c.Write(req); err != nil {
		return classify(err)
	}
	buf := make([]byte, 1500)
	if _, err := c.Read(buf); err != nil {
		return classify(err)
	}
	return "open"
}

// outsideVisitor is the visitor on the internet: the public pages answer, staff routes do
// not, and media goes through TURN.
func outsideVisitor(spec netnsSpec, fail func(string, ...any)) error {
	client := &http.Client{Timeout: 10 * time.Second} // trusts the hub's CA by SSL_CERT_FILE
	do := func(method, path, token, ctype, body string) (int, string, http.Header, error) {
		req, _ := http.NewRequest(method, spec.PublicURL+path, strings.NewReader(body))
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		if ctype != "" {
			req.Header.Set("Content-Type", ctype)
		}
		resp, err := client.Do(req)
		if err != nil {
			return 0, "", nil, err
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b), resp.Header, nil
	}
	for _, p := range spec.Visitor {
		if st, _, _, err := do("GET", p, "", "", ""); err != nil || st != 200 {
			fail("visitor GET %s: %d %v", p, st, err)
		}
	}
	if st, body, _, err := do("GET", "/api/v1/invite", spec.Invite, "", ""); err != nil || st != 200 || !strings.Contains(body, spec.Stream) {
		fail("GET /api/v1/invite: %d %v %s", st, err, body)
	}
	for _, c := range []struct{ method, path, token, body string }{
		{"POST", "/api/v1/login", "", `{"user":"judge","password":"pw-judge"}`},
		{"GET", "/api/v1/rooms", spec.Staff, ""},
		{"GET", "/api/v1/invites", spec.Staff, ""},
		{"GET", "/api/v1/recordings", spec.Staff, ""},
		{"GET", "/api/v1/events", spec.Staff, ""},
		{"GET", "/metrics", "", ""},
		{"GET", "/healthz", "", ""},
		{"GET", "/", "", ""},
		{"GET", "/index.html", "", ""},
		{"GET", "/judge.html", "", ""},
		{"DELETE", "/api/v1/agents/court/r1", spec.Staff, ""},
	} {
		ctype := ""
		if c.body != "" {
			ctype = "application/json"
		}
		if st, body, _, err := do(c.method, c.path, c.token, ctype, c.body); err != nil || st != 404 {
			fail("staff route %s %s on the public listener: %d %v %q, want 404", c.method, c.path, st, err, body)
		}
	}
	fmt.Println("public listener: visitor routes 200, staff routes 404")

	// Media through TURN only: publish over TURN over TLS, watch it back over TURN over UDP.
	// servers gives the TURN servers of the Link headers whose URL starts with only ("turn:tcp":
	// TURN over TCP).
	servers := func(path, only string) ([]webrtc.ICEServer, error) {
		_, _, h, err := do("OPTIONS", path, spec.Invite, "", "")
		if err != nil {
			return nil, err
		}
		var out []webrtc.ICEServer
		for _, s := range whip.ParseLinks(h.Values("Link")) {
			var urls []string
			for _, u := range s.URLs {
				if strings.HasPrefix(u, only) || only == "turn:tcp" && strings.HasPrefix(u, "turn:") && strings.HasSuffix(u, "transport=tcp") {
					urls = append(urls, u)
				}
			}
			if len(urls) > 0 {
				s.URLs = urls
				out = append(out, s)
			}
		}
		if len(out) == 0 {
			return nil, fmt.Errorf("OPTIONS %s: no %s server in %v", path, only, h.Values("Link"))
		}
		return out, nil
	}
	api, err := relayOnlyAPI()
	if err != nil {
		return err
	}
	vp8, err := sfutest.ReadIVF(filepath.Join(spec.Clips, "vp8.ivf"), time.Second/30)
	if err != nil {
		return err
	}
	opus, err := sfutest.ReadOgg(filepath.Join(spec.Clips, "opus.ogg"))
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	path := "/whip/court/r1/" + spec.Stream
	turns, err := servers(path, spec.PublishVia)
	if err != nil {
		return err
	}
	relay := func(s []webrtc.ICEServer) webrtc.Configuration {
		return webrtc.Configuration{ICEServers: s, ICETransportPolicy: webrtc.ICETransportPolicyRelay}
	}
	pub, err := sfutest.NewPublisherConfig(api, webrtc.MimeTypeVP8, relay(turns))
	if err != nil {
		return err
	}
	defer pub.Close()
	connect := func(p interface {
		Offer(context.Context) (string, error)
		SetAnswer(string) error
	}, path string) error {
		offer, err := p.Offer(ctx)
		if err != nil {
			return err
		}
		if !strings.Contains(offer, "typ relay") || strings.Contains(offer, "typ host") {
			return fmt.Errorf("%s: the offer should hold relay candidates only:\n%s", path, offer)
		}
		st, answer, _, err := do("POST", path, spec.Invite, "application/sdp", offer)
		if err != nil || st != 201 {
			return fmt.Errorf("POST %s: %d %v %s", path, st, err, answer)
		}
		return p.SetAnswer(answer)
	}
	if err := connect(pub, path); err != nil {
		return err
	}
	go pub.Run(ctx, vp8, opus)
	udp, err := servers("/whep/court/r1/"+spec.Stream, "turn:")
	for i := range udp {
		udp[i].URLs = slices.DeleteFunc(udp[i].URLs, func(u string) bool { return !strings.HasSuffix(u, "transport=udp") })
	}
	if err != nil {
		return err
	}
	v, err := sfutest.NewViewer(api, sfutest.ViewerOptions{Config: relay(udp)})
	if err != nil {
		return err
	}
	defer v.Close()
	// The stream is there once the hub has the publisher's tracks.
	var werr error
	for range 50 {
		if werr = connect(v, "/whep/court/r1/"+spec.Stream); werr == nil {
			break
		}
		time.Sleep(200 * time.Millisecond)
		v.Close()
		if v, err = sfutest.NewViewer(api, sfutest.ViewerOptions{Config: relay(udp)}); err != nil {
			return err
		}
	}
	if werr != nil {
		return werr
	}
	if !sfutest.WaitFor(30*time.Second, func() bool { return v.Frames() > 10 && v.Packets("audio") > 20 }) {
		return fmt.Errorf("the visitor's own stream through TURN: %d video frames, %d audio packets", v.Frames(), v.Packets("audio"))
	}
	fmt.Printf("media through %s and back through TURN over UDP: %d video frames, %d audio packets\n", spec.PublishVia, v.Frames(), v.Packets("audio"))
	return nil
}

// relayOnlyAPI is a WebRTC API for a client outside (the agent's, media/source): UDP and TCP
// over IPv4, no mDNS; the peer connections it makes use relay candidates only.
func relayOnlyAPI() (*webrtc.API, error) {
	se := &webrtc.SettingEngine{}
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4, webrtc.NetworkTypeTCP4})
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	return source.NewAPI(se)
}
