package onvif

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/bailiff/bailiff/drivers"
	"github.com/bailiff/bailiff/drivers/transport"
)

// DefaultPort is the port of the camera's HTTP service when the address names none.
const DefaultPort = 80

// DevicePath is the path of the device service (Core §5.1.1: every device serves it there).
const DevicePath = "/onvif/device_service"

// DefaultTimeout bounds one HTTP exchange when the context has no sooner deadline.
const DefaultTimeout = 3 * time.Second

// Options configures a Camera.
type Options struct {
	// Username and Password go into a WS-Security UsernameToken with a password digest on
	// every request but GetSystemDateAndTime; with no Username the requests carry none. The
	// password is never logged; Options prints it as "***".
	Username, Password string
	// Profile is the token of the media profile to drive. "" picks the first profile of
	// GetProfiles that has a PTZ configuration.
	Profile string
	// Timeout bounds one HTTP exchange when the context has no sooner deadline. Zero means
	// DefaultTimeout.
	Timeout time.Duration
	// MoveTimeout, when positive, goes with every ContinuousMove as its Timeout, so the camera
	// stops by itself if the stop never comes. Some cameras refuse it (ter:TimeoutNotSupported).
	MoveTimeout time.Duration
	// Client is the HTTP client; nil makes one that uses no proxy. Its Timeout should be zero:
	// the Camera bounds each exchange itself.
	Client *http.Client
	// Logger gets debug records (discovery, clock offset, retries); nil discards them.
	Logger *slog.Logger
}

// String prints the options with the password hidden.
func (o Options) String() string {
	pw := ""
	if o.Password != "" {
		pw = "***"
	}
	return fmt.Sprintf("{Username:%s Password:%s Profile:%s Timeout:%v MoveTimeout:%v}", o.Username, pw, o.Profile, o.Timeout, o.MoveTimeout)
}

// LogValue logs the options with the password hidden.
func (o Options) LogValue() slog.Value {
	return slog.GroupValue(slog.String("username", o.Username), slog.Bool("password_set", o.Password != ""),
		slog.String("profile", o.Profile), slog.Duration("timeout", o.Timeout))
}

// Camera is one ONVIF PTZ camera. It implements drivers.Device, drivers.PTZer and
// drivers.Presetter. Its methods are safe for concurrent use; operations run one at a time.
type Camera struct {
	base   string // "http://host:port"
	opts   Options
	log    *slog.Logger
	client *http.Client
	own    *http.Transport // the transport New made, nil with Options.Client

	now   func() time.Time // the agent's clock; tests replace it
	nonce func([]byte)     // fills a nonce; tests replace it

	sem  chan struct{} // held for a whole operation
	sess *session      // what discovery found; nil until then and after an error. Guarded by sem.

	life   context.Context // cancelled by Close: ends exchanges in flight
	kill   context.CancelFunc
	mu     sync.Mutex
	closed bool
}

var (
	_ drivers.Device    = (*Camera)(nil)
	_ drivers.PTZer     = (*Camera)(nil)
	_ drivers.Presetter = (*Camera)(nil)
)

// New returns a Camera whose HTTP service is at addr: "host", "host:port" or
// "tcp://host:port", port DefaultPort when none is given. New does not touch the network;
// the first operation discovers the camera.
func New(addr string, opts Options) (*Camera, error) {
	base, err := baseURL(addr)
	if err != nil {
		return nil, fmt.Errorf("onvif: %w", err)
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	log := drivers.Logger(opts.Logger)
	c := &Camera{
		base:  base,
		opts:  opts,
		log:   log,
		now:   time.Now,
		nonce: func(b []byte) { rand.Read(b) },
		sem:   make(chan struct{}, 1),
	}
	c.client = opts.Client
	if c.client == nil {
		c.own = &http.Transport{
			Proxy:               nil, // cameras sit on the room's network, never behind the agent's proxy
			DialContext:         (&net.Dialer{KeepAlive: 30 * time.Second}).DialContext,
			MaxIdleConnsPerHost: 2,
			IdleConnTimeout:     30 * time.Second,
			DisableCompression:  true,
		}
		c.client = &http.Client{Transport: c.own}
	}
	c.life, c.kill = context.WithCancel(context.Background())
	return c, nil
}

func init() {
	drivers.Register(drivers.Info{
		Name:        "onvif",
		Description: "ONVIF PTZ cameras over HTTP (SOAP 1.2, WS-Security digest): pan/tilt/zoom, presets, position",
		Options:     []string{"username", "password", "profile"},
		DefaultPort: DefaultPort,
		New:         factory,
	})
}

// factory makes a Camera for one device of a room config. It does not touch the network.
func factory(cfg drivers.Config) (drivers.Device, error) {
	for k := range cfg.Options {
		switch k {
		case "username", "password", "profile":
		default:
			return nil, fmt.Errorf("onvif: device %q: unknown option %q (want username, password, profile): %w", cfg.ID, k, drivers.ErrBadArgs)
		}
	}
	o := Options{Username: cfg.Options["username"], Password: cfg.Options["password"],
		Profile: strings.TrimSpace(cfg.Options["profile"]), Logger: cfg.Logger}
	if o.Username == "" && o.Password != "" {
		return nil, fmt.Errorf("onvif: device %q: a password without a username: %w", cfg.ID, drivers.ErrBadArgs)
	}
	if strings.TrimSpace(cfg.Address) == "" {
		return nil, fmt.Errorf("onvif: device %q: no address: %w", cfg.ID, drivers.ErrBadArgs)
	}
	if _, err := baseURL(cfg.Address); err != nil {
		return nil, fmt.Errorf("onvif: device %q: %w", cfg.ID, err)
	}
	return New(cfg.Address, o)
}

// baseURL turns an address ("host", "host:port", "tcp://host:port") into the base URL of
// the camera's HTTP service.
func baseURL(addr string) (string, error) {
	kind, target, err := transport.Parse(strings.TrimSpace(addr), transport.Options{TCPPort: DefaultPort})
	if err != nil || kind != transport.TCP {
		return "", fmt.Errorf("address %q: want host, host:port or tcp://host:port: %w", addr, drivers.ErrBadArgs)
	}
	return "http://" + target, nil
}

// Close ends the exchanges in flight and releases the connections. Calls after Close fail
// with drivers.ErrUnreachable.
func (c *Camera) Close() error {
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
	c.kill()
	if c.own != nil {
		c.own.CloseIdleConnections()
	}
	return nil
}

func (c *Camera) isClosed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closed
}

// Drive moves the camera at a velocity (ContinuousMove): pan, tilt and zoom in −1…1, the
// camera's generic velocity space. 0, 0, 0 stops it (Stop). A value outside −1…1 is
// drivers.ErrBadArgs and nothing is sent.
func (c *Camera) Drive(ctx context.Context, pan, tilt, zoom float64) error {
	for _, v := range []float64{pan, tilt, zoom} {
		if math.IsNaN(v) || v < -1 || v > 1 {
			return fmt.Errorf("onvif: ptz %v %v %v: each must be in -1…1: %w", pan, tilt, zoom, drivers.ErrBadArgs)
		}
	}
	if speed(pan) == "0" && speed(tilt) == "0" && speed(zoom) == "0" {
		return c.Stop(ctx)
	}
	what := fmt.Sprintf("ptz %s %s %s", speed(pan), speed(tilt), speed(zoom))
	return c.do(ctx, what, func(ctx context.Context, s *session) error {
		return c.empty(ctx, s, opContinuousMove, reqContinuousMove(s.profile, pan, tilt, zoom, c.opts.MoveTimeout))
	})
}

// Stop stops pan, tilt and zoom.
func (c *Camera) Stop(ctx context.Context) error {
	return c.do(ctx, "ptz stop", func(ctx context.Context, s *session) error {
		return c.empty(ctx, s, opStop, reqStop(s.profile))
	})
}

// errNoPreset marks a preset number the camera has no preset for.
var errNoPreset = errors.New("no such preset")

// RecallPreset moves the camera to preset n (GotoPreset); see FindPreset for which of the
// camera's presets is n. A camera without preset n answers drivers.ErrBadArgs.
func (c *Camera) RecallPreset(ctx context.Context, n int) error {
	if n < 0 {
		return fmt.Errorf("onvif: recall preset %d: %w", n, drivers.ErrBadArgs)
	}
	return c.do(ctx, fmt.Sprintf("recall preset %d", n), func(ctx context.Context, s *session) error {
		ps, err := c.presets(ctx, s)
		if err != nil {
			return err
		}
		tok, ok := FindPreset(ps, n)
		if !ok {
			return fmt.Errorf("%w %d on the camera (neither a preset named %s nor one with token %d): %w",
				errNoPreset, n, PresetName(n), n, drivers.ErrBadArgs)
		}
		return c.empty(ctx, s, opGotoPreset, reqGotoPreset(s.profile, tok))
	})
}

// StorePreset stores the current position as preset n (SetPreset): into the camera's preset
// n when FindPreset finds one (its name is kept), else into a new preset named PresetName(n).
func (c *Camera) StorePreset(ctx context.Context, n int) error {
	if n < 0 {
		return fmt.Errorf("onvif: store preset %d: %w", n, drivers.ErrBadArgs)
	}
	return c.do(ctx, fmt.Sprintf("store preset %d", n), func(ctx context.Context, s *session) error {
		ps, err := c.presets(ctx, s)
		if err != nil {
			return err
		}
		tok, ok := FindPreset(ps, n)
		name := ""
		if !ok {
			name = PresetName(n)
		}
		status, body, err := c.call(ctx, s, setPresetOp(tok), reqSetPreset(s.profile, tok, name))
		if err != nil {
			return err
		}
		got, err := parseSetPreset(status, body)
		if err != nil {
			return err
		}
		c.log.Debug("onvif: preset stored", "preset", n, "token", got)
		return nil
	})
}

// Presets returns the presets of the profile (GetPresets).
func (c *Camera) Presets(ctx context.Context) ([]Preset, error) {
	var out []Preset
	err := c.do(ctx, "presets", func(ctx context.Context, s *session) error {
		ps, err := c.presets(ctx, s)
		out = ps
		return err
	})
	return out, err
}

func (c *Camera) presets(ctx context.Context, s *session) ([]Preset, error) {
	status, body, err := c.call(ctx, s, opGetPresets, reqGetPresets(s.profile))
	if err != nil {
		return nil, err
	}
	return parsePresets(status, body)
}

// Poll asks the camera for its PTZ status (GetStatus) and returns "profile" (the media
// profile driven) with "pan", "tilt", "zoom", "moving" and "ptz_error" as parseStatus reads
// them. A camera that does not support GetStatus gives "profile" alone.
func (c *Camera) Poll(ctx context.Context) (drivers.State, error) {
	var st drivers.State
	err := c.do(ctx, "poll", func(ctx context.Context, s *session) error {
		status, body, err := c.call(ctx, s, opGetStatus, reqGetStatus(s.profile))
		if err != nil {
			return err
		}
		st, err = parseStatus(status, body)
		var f *Fault
		if errors.As(err, &f) && errors.Is(f, drivers.ErrUnsupported) {
			st, err = drivers.State{}, nil
		}
		if err != nil {
			return err
		}
		st["profile"] = s.profile
		return nil
	})
	if err != nil {
		return nil, err
	}
	return st, nil
}

// empty runs an operation whose answer is empty.
func (c *Camera) empty(ctx context.Context, s *session, o op, body []byte) error {
	status, reply, err := c.call(ctx, s, o, body)
	if err != nil {
		return err
	}
	return parseEmpty(o, status, reply)
}
