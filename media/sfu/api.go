package sfu

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"slices"
	"strconv"

	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/interceptor/pkg/nack"
	"github.com/pion/interceptor/pkg/report"
	"github.com/pion/logging"
	"github.com/pion/webrtc/v4"
)

// Codecs the hub forwards. Each side of a session negotiates from these;
// nothing is transcoded, so a viewer gets a track in the publisher's codec
// or not at all. RTX, RED and FEC are left out: retransmissions come on
// the media SSRC, which is what the NACK interceptors do.
var (
	videoFeedback = []webrtc.RTCPFeedback{
		{Type: webrtc.TypeRTCPFBNACK},
		{Type: webrtc.TypeRTCPFBNACK, Parameter: "pli"},
		{Type: webrtc.TypeRTCPFBCCM, Parameter: "fir"},
	}
	codecList = []webrtc.RTPCodecParameters{
		{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2,
			SDPFmtpLine: "minptime=10;useinbandfec=1"}, PayloadType: 111},
		{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000}, PayloadType: 96},
		{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeH264, ClockRate: 90000,
			SDPFmtpLine: "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f"}, PayloadType: 102},
		{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeH264, ClockRate: 90000,
			SDPFmtpLine: "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42001f"}, PayloadType: 104},
		{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeH264, ClockRate: 90000,
			SDPFmtpLine: "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=4d001f"}, PayloadType: 106},
		{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeH264, ClockRate: 90000,
			SDPFmtpLine: "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=640032"}, PayloadType: 108},
	}
)

func newMediaEngine() (*webrtc.MediaEngine, error) {
	m := &webrtc.MediaEngine{}
	for _, c := range codecList {
		kind := webrtc.RTPCodecTypeAudio
		if c.MimeType != webrtc.MimeTypeOpus {
			kind = webrtc.RTPCodecTypeVideo
			c.RTCPFeedback = slices.Clone(videoFeedback)
		}
		if err := m.RegisterCodec(c, kind); err != nil {
			return nil, fmt.Errorf("sfu: register codec %s: %w", c.MimeType, err)
		}
	}
	return m, nil
}

// apis holds the pion APIs: publishers' peer connections generate NACKs,
// receiver reports and TWCC feedback; each viewer's is made from viewSE
// and viewME (viewAPI).
type apis struct {
	publish  *webrtc.API
	viewSE   webrtc.SettingEngine
	viewME   *webrtc.MediaEngine
	mux      io.Closer // the UDP mux, when Network.UDPAddr is set
	muxAddrs []net.Addr
	ports    []*batchConn // the shared UDP port's sockets (one per address), when they batch
}

func newAPIs(o *Options) (*apis, error) {
	se, mux, addrs, ports, err := settingEngine(o)
	if err != nil {
		return nil, err
	}
	a := &apis{mux: mux, muxAddrs: addrs, ports: ports}
	fail := func(err error) (*apis, error) {
		if mux != nil {
			_ = mux.Close()
		}
		return nil, err
	}

	// Publishers.
	pm, err := newMediaEngine()
	if err != nil {
		return fail(err)
	}
	pr := &interceptor.Registry{}
	gen, err := nack.NewGeneratorInterceptor()
	if err != nil {
		return fail(fmt.Errorf("sfu: nack generator: %w", err))
	}
	pr.Add(gen)
	rr, err := report.NewReceiverInterceptor()
	if err != nil {
		return fail(fmt.Errorf("sfu: receiver reports: %w", err))
	}
	pr.Add(rr)
	if err := webrtc.ConfigureTWCCSender(pm, pr); err != nil {
		return fail(fmt.Errorf("sfu: twcc: %w", err))
	}
	a.publish = webrtc.NewAPI(webrtc.WithMediaEngine(pm), webrtc.WithInterceptorRegistry(pr), webrtc.WithSettingEngine(*se))

	// Viewers: each gets an API of its own (viewAPI), which notes its DTLS
	// secrets for the fast path; NACKs and sender reports are the viewer's
	// own (viewer.go), on either path, so they take no interceptor.
	vm, err := newMediaEngine()
	if err != nil {
		return fail(err)
	}
	a.viewME, a.viewSE = vm, *se
	return a, nil
}

// viewAPI makes the API of one viewer's peer connection.
func (a *apis) viewAPI(tap *keyTap) (*webrtc.API, error) {
	se := a.viewSE
	if err := tap.tune(&se); err != nil {
		return nil, err
	}
	return webrtc.NewAPI(webrtc.WithMediaEngine(a.viewME), webrtc.WithInterceptorRegistry(&interceptor.Registry{}),
		webrtc.WithSettingEngine(se)), nil
}

func (a *apis) close() error {
	if a.mux != nil {
		return a.mux.Close()
	}
	return nil
}

func settingEngine(o *Options) (*webrtc.SettingEngine, io.Closer, []net.Addr, []*batchConn, error) {
	n := &o.Network
	se := &webrtc.SettingEngine{LoggerFactory: pionLogs{o.Logger}}
	types := []webrtc.NetworkType{webrtc.NetworkTypeUDP4}
	iceTypes := []ice.NetworkType{ice.NetworkTypeUDP4}
	if n.IPv6 {
		types = append(types, webrtc.NetworkTypeUDP6)
		iceTypes = append(iceTypes, ice.NetworkTypeUDP6)
	}
	se.SetNetworkTypes(types)
	// mDNS would send multicast queries for .local candidates: the hub
	// learns a browser's address from its connectivity checks instead
	// (peer-reflexive candidates).
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	se.SetIncludeLoopbackCandidate(n.Loopback)
	var ifaceFilter func(string) bool
	if len(n.Interfaces) > 0 {
		ifaceFilter = func(name string) bool { return slices.Contains(n.Interfaces, name) }
		se.SetInterfaceFilter(ifaceFilter)
	}
	if n.RemoteIPFilter != nil {
		se.SetRemoteIPFilter(n.RemoteIPFilter)
	}
	var allowed []net.IP
	for _, a := range n.Addresses {
		allowed = append(allowed, net.ParseIP(a))
	}
	var ipFilter func(net.IP) bool
	if !n.Loopback || len(allowed) > 0 {
		ipFilter = func(ip net.IP) bool {
			if ip.IsLoopback() && !n.Loopback {
				return false
			}
			return len(allowed) == 0 || slices.ContainsFunc(allowed, ip.Equal)
		}
		se.SetIPFilter(ipFilter)
	}
	if len(n.NAT1To1IPs) > 0 {
		err := se.SetICEAddressRewriteRules(webrtc.ICEAddressRewriteRule{
			External: slices.Clone(n.NAT1To1IPs), AsCandidateType: webrtc.ICECandidateTypeHost,
			Mode: webrtc.ICEAddressRewriteReplace,
		})
		if err != nil {
			return nil, nil, nil, nil, fmt.Errorf("sfu: Options.Network.NAT1To1IPs: %w", err)
		}
	}
	if n.UDPAddr == "" {
		if n.PortMin != 0 || n.PortMax != 0 {
			if err := se.SetEphemeralUDPPortRange(n.PortMin, n.PortMax); err != nil {
				return nil, nil, nil, nil, fmt.Errorf("sfu: Options.Network port range: %w", err)
			}
		}
		return se, nil, nil, nil, nil
	}
	ua, err := net.ResolveUDPAddr("udp", n.UDPAddr)
	if err != nil {
		return nil, nil, nil, nil, fmt.Errorf("sfu: Options.Network.UDPAddr %q: %w", n.UDPAddr, err)
	}
	logger := pionLogs{o.Logger}.NewLogger("ice")
	ips := []net.IP{ua.IP}
	if ua.IP == nil || ua.IP.IsUnspecified() {
		// A socket on each address of the machine (those the filters
		// keep), each with its own mux: replies leave from the address
		// they were asked on.
		if ips, err = localIPs(n, ifaceFilter, ipFilter); err != nil {
			return nil, nil, nil, nil, fmt.Errorf("sfu: Options.Network.UDPAddr %q: %w", n.UDPAddr, err)
		}
	}
	var (
		muxes []ice.UDPMux
		addrs []net.Addr
		ports []*batchConn
	)
	closeAll := func() {
		for _, m := range muxes {
			_ = m.Close()
		}
	}
	port := ua.Port
	for _, ip := range ips {
		var conn *net.UDPConn
		if o.WriteBatch > 1 {
			conn, err = listenShared(ip, port)
		} else {
			conn, err = net.ListenUDP("udp", &net.UDPAddr{IP: ip, Port: port})
		}
		if err != nil {
			closeAll()
			return nil, nil, nil, nil, fmt.Errorf("sfu: listen on UDP %s: %w", net.JoinHostPort(ip.String(), strconv.Itoa(port)), err)
		}
		port = conn.LocalAddr().(*net.UDPAddr).Port // ":0": the same port on every address
		// Room for bursts of a publisher's keyframes; the kernel caps it.
		_ = conn.SetReadBuffer(4 << 20)
		_ = conn.SetWriteBuffer(4 << 20)
		var pc net.PacketConn = conn
		if o.WriteBatch > 1 {
			bc := newBatchConn(conn, o.WriteBatch, o.WriteWorkers)
			ports = append(ports, bc)
			pc = bc
		}
		muxes = append(muxes, ice.NewUDPMuxDefault(ice.UDPMuxParams{Logger: logger, UDPConn: pc}))
		addrs = append(addrs, conn.LocalAddr())
	}
	if len(muxes) == 1 {
		se.SetICEUDPMux(muxes[0])
		return se, muxes[0], addrs, ports, nil
	}
	mux := ice.NewMultiUDPMuxDefault(muxes...)
	se.SetICEUDPMux(mux)
	return se, mux, addrs, ports, nil
}

// localIPs lists the machine's addresses that ICE may use: up
// interfaces the filters keep, IPv4, and IPv6 when asked (not link-local,
// which needs a zone).
func localIPs(n *Network, ifaceFilter func(string) bool, ipFilter func(net.IP) bool) ([]net.IP, error) {
	ifaces, err := net.Interfaces()
	if err != nil {
		return nil, err
	}
	var out []net.IP
	for _, ifc := range ifaces {
		if ifc.Flags&net.FlagUp == 0 || ifaceFilter != nil && !ifaceFilter(ifc.Name) {
			continue
		}
		as, err := ifc.Addrs()
		if err != nil {
			continue
		}
		for _, a := range as {
			ipn, ok := a.(*net.IPNet)
			if !ok {
				continue
			}
			ip := ipn.IP
			switch {
			case ip.IsLoopback() && !n.Loopback,
				ip.To4() == nil && (!n.IPv6 || ip.IsLinkLocalUnicast()),
				ipFilter != nil && !ipFilter(ip):
				continue
			}
			out = append(out, ip)
		}
	}
	if len(out) == 0 {
		return nil, errors.New("no local address to listen on")
	}
	return out, nil
}

// LoggerFactory gives pion's logs to l the way the SFU does (for the hub's other pion
// servers, such as its TURN server).
func LoggerFactory(l *slog.Logger) logging.LoggerFactory { return pionLogs{l} }

// pionLogs sends pion's errors to slog at Warn and its warnings at Debug:
// pion warns of much that is routine for a server (a peer that went away).
type pionLogs struct{ l *slog.Logger }

func (p pionLogs) NewLogger(scope string) logging.LeveledLogger {
	return pionLogger{p.l.With("pion", scope)}
}

type pionLogger struct{ l *slog.Logger }

func (p pionLogger) Trace(string)          {}
func (p pionLogger) Tracef(string, ...any) {}
func (p pionLogger) Debug(string)          {}
func (p pionLogger) Debugf(string, ...any) {}
func (p pionLogger) Info(string)           {}
func (p pionLogger) Infof(string, ...any)  {}
func (p pionLogger) Warn(msg string)       { p.l.Debug(msg) }
func (p pionLogger) Warnf(f string, a ...any) {
	if p.l.Enabled(context.Background(), slog.LevelDebug) {
		p.l.Debug(fmt.Sprintf(f, a...))
	}
}
func (p pionLogger) Error(msg string) { p.l.Warn(msg) }
func (p pionLogger) Errorf(f string, a ...any) {
	p.l.Warn(fmt.Sprintf(f, a...))
}
