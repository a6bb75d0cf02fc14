package sfu

import (
	"fmt"
	"log/slog"
	"net"
	"runtime"
	"time"
)

// Defaults for Options.
const (
	DefaultViewerQueue      = 512 // packets per fan-out worker: ~1.5 s of a 2.5 Mb/s video track and its audio
	DefaultKeyframeInterval = 500 * time.Millisecond
	DefaultTrackWait        = 5 * time.Second
	DefaultGatherTimeout    = 5 * time.Second
	DefaultConnectTimeout   = 30 * time.Second
	DefaultMaxViewers       = 500
	DefaultNACKBuffer       = 1024 // packets each viewer's video track keeps for retransmission
	DefaultWriteBatch       = 64   // packets per sendmmsg on the shared UDP port
	// MaxSDP is the largest offer Publish and View take, in bytes.
	MaxSDP = 64 << 10
	// MaxMediaSections is the most m= sections an offer may have.
	MaxMediaSections = 16
)

// Options configure an SFU. The zero value, but for Network, is usable.
type Options struct {
	// Network says where ICE listens and what it advertises.
	Network Network
	// ViewerQueue bounds each fan-out worker's queue of packets to send to
	// its viewers (an eighth for audio). A packet that finds it full is
	// dropped for that worker's viewers and counted for each.
	ViewerQueue int
	// KeyframeInterval is the least time between two PLIs sent to a
	// publisher's track; requests in between are folded into one sent when
	// it has passed.
	KeyframeInterval time.Duration
	// TrackWait is how long View waits for a fresh publisher's tracks.
	TrackWait time.Duration
	// GatherTimeout bounds ICE gathering for an answer.
	GatherTimeout time.Duration
	// ConnectTimeout closes a session that has not connected by then.
	ConnectTimeout time.Duration
	// MaxViewers per stream; View fails with ErrTooManyViewers past it.
	MaxViewers int
	// NACKBuffer: how many sent packets each viewer's video track keeps to
	// answer NACKs; a power of two.
	NACKBuffer uint16
	// WriteBatch is the most packets one system call sends on the shared
	// UDP port (Network.UDPAddr with a specific host): writes queue and one
	// writer sends them with sendmmsg. 1 sends every packet with its own
	// sendto, from the writing goroutine. Default DefaultWriteBatch.
	WriteBatch int
	// WriteWorkers is how many fan-out workers write packets to the
	// viewers (each viewer belongs to one), and how many writers send the
	// shared port's other datagrams, each for its own share of the
	// destinations. Default: one per processor (GOMAXPROCS).
	WriteWorkers int
	// Upstream, when set, makes this SFU a replica for the streams whose
	// origin it names: a viewer of such a stream that is not here starts a
	// pull from the origin, which this SFU forwards to any number of its own
	// viewers.
	Upstream Upstream
	// PullLinger is how long a pulled stream stays with no viewer before the
	// pull stops (default DefaultPullLinger).
	PullLinger time.Duration
	// PullRetry is how long a pulled stream whose origin session ended keeps
	// trying to pull it again before it ends (default DefaultPullRetry).
	PullRetry time.Duration
	// Logger; slog.Default() when nil.
	Logger *slog.Logger
}

// Network configures ICE. Tests use Network{UDPAddr: "127.0.0.1:0",
// Loopback: true}; production uses one fixed UDP port (":8189") or a port
// range, and NAT1To1IPs when the hub sits behind a 1:1 NAT.
type Network struct {
	// UDPAddr, when set, is the one UDP address every session's ICE shares
	// (a UDP mux). An unspecified host (":8189") listens on every interface
	// (those Interfaces allows). Empty: each session gets its own port from
	// PortMin…PortMax (any port when both are zero).
	UDPAddr string
	// PortMin and PortMax bound the per-session ports when UDPAddr is empty.
	PortMin, PortMax uint16
	// NAT1To1IPs replace the addresses of the host candidates the hub
	// advertises (a hub behind a 1:1 NAT with these public addresses).
	NAT1To1IPs []string
	// Loopback: advertise loopback candidates (tests; a hub reached only
	// through a local relay).
	Loopback bool
	// Interfaces, when not empty, are the only interfaces ICE uses.
	Interfaces []string
	// Addresses, when not empty, are the only local IP addresses ICE uses.
	Addresses []string
	// IPv6: gather IPv6 candidates too.
	IPv6 bool
	// RemoteIPFilter, when set, keeps only the remote candidates whose
	// address it accepts: the hub never sends a connectivity check
	// anywhere else (tests accept loopback only; a hub may refuse its own
	// management networks).
	RemoteIPFilter func(net.IP) bool
}

func (o *Options) setDefaults() error {
	if o.ViewerQueue <= 0 {
		o.ViewerQueue = DefaultViewerQueue
	}
	if o.KeyframeInterval <= 0 {
		o.KeyframeInterval = DefaultKeyframeInterval
	}
	if o.TrackWait <= 0 {
		o.TrackWait = DefaultTrackWait
	}
	if o.GatherTimeout <= 0 {
		o.GatherTimeout = DefaultGatherTimeout
	}
	if o.ConnectTimeout <= 0 {
		o.ConnectTimeout = DefaultConnectTimeout
	}
	if o.MaxViewers <= 0 {
		o.MaxViewers = DefaultMaxViewers
	}
	if o.PullLinger <= 0 {
		o.PullLinger = DefaultPullLinger
	}
	if o.PullRetry <= 0 {
		o.PullRetry = DefaultPullRetry
	}
	if o.WriteBatch <= 0 {
		o.WriteBatch = DefaultWriteBatch
	}
	if o.WriteWorkers <= 0 {
		o.WriteWorkers = runtime.GOMAXPROCS(0)
	}
	if o.NACKBuffer == 0 {
		o.NACKBuffer = DefaultNACKBuffer
	}
	if o.NACKBuffer&(o.NACKBuffer-1) != 0 || o.NACKBuffer < 64 {
		return fmt.Errorf("sfu: Options.NACKBuffer %d is not a power of two ≥ 64", o.NACKBuffer)
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	n := &o.Network
	if n.UDPAddr != "" {
		if _, err := net.ResolveUDPAddr("udp", n.UDPAddr); err != nil {
			return fmt.Errorf("sfu: Options.Network.UDPAddr %q: %w", n.UDPAddr, err)
		}
	}
	if n.PortMin > n.PortMax {
		return fmt.Errorf("sfu: Options.Network.PortMin %d > PortMax %d", n.PortMin, n.PortMax)
	}
	for _, ip := range n.Addresses {
		if net.ParseIP(ip) == nil {
			return fmt.Errorf("sfu: Options.Network.Addresses: %q is not an IP address", ip)
		}
	}
	for _, ip := range n.NAT1To1IPs {
		if net.ParseIP(ip) == nil {
			return fmt.Errorf("sfu: Options.Network.NAT1To1IPs: %q is not an IP address", ip)
		}
	}
	return nil
}
