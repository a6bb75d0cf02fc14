// Package onvifsim is a PTZ camera that speaks ONVIF (SOAP 1.2 over HTTP) on loopback, for
// tests, hil-tests and the hub's --demo.
//
// It serves the operations a PTZ driver needs and no more: on the device service
// (/onvif/device_service) GetSystemDateAndTime, GetCapabilities and GetServices; on the media
// service (/onvif/media_service) GetProfiles, and GetStreamUri once ServeRTSP streams the
// camera's picture over RTSP; on the PTZ service (/onvif/ptz_service)
// ContinuousMove, Stop, GotoPreset, SetPreset, GetPresets and GetStatus. It checks WS-Security
// UsernameToken password digests (Base64(SHA-1(nonce + created + password))) with a window
// around its own clock, which may be skewed, and refuses a nonce used twice; it keeps the PTZ
// position, which moves while a continuous move runs; and it can be told to misbehave: answer
// slowly, not at all, with a body that is not XML, by closing the connection, or with a SOAP
// fault for any operation.
//
// It follows the ONVIF Core Specification (ver. 19.12: §5.11 errors, §5.12 security, §8.1.2
// capabilities and services, §8.3.6 system date and time), the PTZ Service Specification and
// the Media Service Specification. It shares no code with drivers/onvif, so the two check
// each other. A Sim has no global state, so one process can run many.
package onvifsim

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bailiff/bailiff/drivers"
	"github.com/bailiff/bailiff/drivers/internal/simkit"
)

// Paths of the services.
const (
	DevicePath = "/onvif/device_service"
	MediaPath  = "/onvif/media_service"
	PTZPath    = "/onvif/ptz_service"
)

// Config describes a simulated camera. The zero value is a camera without authentication,
// with the default profiles and presets, moving at DefaultSpeed.
type Config struct {
	// Username and Password, when Username is not "", turn on WS-Security: every operation
	// but the PRE_AUTH ones (GetSystemDateAndTime, GetCapabilities, GetServices) needs a valid
	// UsernameToken, and a token sent with a PRE_AUTH one must be valid too.
	Username, Password string
	// Profiles are the media profiles (GetProfiles). Default: "snapshot" (no PTZ), "main"
	// and "sub" (both with PTZ configuration "ptz0").
	Profiles []Profile
	// Presets are the presets at start. Default: tokens "1", "2", "3" named "Judge",
	// "Witness", "Counsel".
	Presets []Preset
	// MaxPresets is how many presets the camera holds (SetPreset answers TooManyPresets
	// beyond). Default 32.
	MaxPresets int
	// Speed is how far, in generic-space units per second, an axis moves at velocity 1.
	// Default DefaultSpeed.
	Speed float64
	// Clock is the simulator's idea of now; default time.Now. ClockSkew is added to it to
	// make the camera's clock: what GetSystemDateAndTime reports and tokens are checked against.
	Clock     func() time.Time
	ClockSkew time.Duration
	// AuthWindow is how far a token's Created may be from the camera's clock. Default 10s.
	AuthWindow time.Duration
	// XAddrHost is the host[:port] the XAddrs of GetCapabilities and GetServices name.
	// Default: the Host of the request.
	XAddrHost string
	// NoCapabilities makes GetCapabilities answer ActionNotSupported, as a camera that only
	// has GetServices does.
	NoCapabilities bool
	// Logger gets debug records; nil discards them. Passwords are never logged.
	Logger *slog.Logger
}

// DefaultSpeed is Config.Speed's default: a full pan from −1 to 1 takes 4 s at velocity 1.
const DefaultSpeed = 0.5

// Profile is a media profile.
type Profile struct {
	Token, Name string
	PTZ         bool // has a PTZ configuration
}

// Preset is a PTZ preset: its token, name and position.
type Preset struct {
	Token, Name     string
	Pan, Tilt, Zoom float64
}

// Mode is how the simulator answers requests: Normal, Slow (waits the delay set by SetDelay
// before each request), Silent (reads each request and never answers it, until the client
// gives up), Garbage (answers each request 200 OK with random bytes that are not XML), Drop
// (closes the connection on each request, without answering) or DropOnce (drops once, then
// back to Normal). It reads as its name in JSON.
type Mode = simkit.Mode

// The modes.
const (
	Normal   = simkit.Normal
	Slow     = simkit.Slow
	Silent   = simkit.Silent
	Garbage  = simkit.Garbage
	Drop     = simkit.Drop
	DropOnce = simkit.DropOnce
)

// Fault is a SOAP fault to answer. Code and Subcodes are QNames as they go on the wire
// ("env:Sender", "ter:InvalidArgVal", "ter:NoToken"): env: is SOAP 1.2's envelope namespace,
// ter: ONVIF's error namespace. The HTTP status is 400 for env:Sender, 500 otherwise
// (SOAP 1.2 HTTP binding).
type Fault struct {
	Code     string
	Subcodes []string
	Reason   string
}

// Faults ONVIF defines, ready to inject with SetFault.
var (
	FaultNotAuthorized      = &Fault{"env:Sender", []string{"ter:NotAuthorized"}, "Sender not Authorized"}
	FaultInvalidArgVal      = &Fault{"env:Sender", []string{"ter:InvalidArgVal"}, "Argument Value Invalid"}
	FaultActionNotSupported = &Fault{"env:Receiver", []string{"ter:ActionNotSupported"}, "Optional Action Not Implemented"}
	FaultNoProfile          = &Fault{"env:Sender", []string{"ter:InvalidArgVal", "ter:NoProfile"}, "The requested profile token does not exist"}
	FaultMovingPTZ          = &Fault{"env:Receiver", []string{"ter:Action", "ter:MovingPTZ"}, "Preset cannot be set while PTZ unit is moving"}
	FaultCritical           = &Fault{"env:Receiver", []string{"ter:CriticalError"}, "Critical Error"}
)

func (f *Fault) status() int {
	if f.Code == "env:Sender" {
		return http.StatusBadRequest
	}
	return http.StatusInternalServerError
}

// State is a snapshot of the simulated camera.
type State struct {
	Pan, Tilt, Zoom                  float64
	PanVel, TiltVel, ZoomVel         float64
	PanTiltMoving, ZoomMoving        bool
	Presets                          []Preset
	Mode                             Mode
	LastProfile                      string // the ProfileToken of the last PTZ request
	MoveTimeout                      time.Duration
	Requests, Connections, AuthFails int
}

// Sim is a simulated ONVIF PTZ camera. Its methods are safe for concurrent use.
type Sim struct {
	cfg Config
	log *slog.Logger

	mu          sync.Mutex // guards the camera state below
	ptz         ptzState
	presets     []Preset
	lastProfile string
	faults      map[string]*Fault // by operation; "" for every one
	nonces      map[string]time.Time
	ops         map[string]int

	simkit.Behaviour // SetMode, SetDelay

	smu    sync.Mutex // guards the fields below
	srv    *http.Server
	ln     net.Listener
	closed bool
	done   chan struct{}
	wg     sync.WaitGroup // handlers and the server goroutine

	requests    atomic.Int64
	connections atomic.Int64
	authFails   atomic.Int64

	streamURI atomic.Pointer[string] // GetStreamUri's answer, once ServeRTSP runs
}

// New returns a simulator for cfg. It panics on an invalid cfg (a duplicate token, a preset
// outside the generic space): a programming error.
func New(cfg Config) *Sim {
	if cfg.Profiles == nil {
		cfg.Profiles = []Profile{{"snapshot", "Snapshot", false}, {"main", "Main", true}, {"sub", "Sub", true}}
	}
	if cfg.Presets == nil {
		cfg.Presets = []Preset{
			{Token: "1", Name: "Judge", Pan: -0.4, Tilt: 0.1, Zoom: 0.3},
			{Token: "2", Name: "Witness", Pan: 0.35, Tilt: 0, Zoom: 0.5},
			{Token: "3", Name: "Counsel", Pan: 0, Tilt: -0.2, Zoom: 0.2},
		}
	}
	if cfg.MaxPresets <= 0 {
		cfg.MaxPresets = 32
	}
	if cfg.Speed <= 0 {
		cfg.Speed = DefaultSpeed
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	if cfg.AuthWindow <= 0 {
		cfg.AuthWindow = 10 * time.Second
	}
	seen := map[string]bool{}
	for _, p := range cfg.Profiles {
		if p.Token == "" || seen["profile "+p.Token] {
			panic(fmt.Sprintf("onvifsim: profile token %q empty or twice", p.Token))
		}
		seen["profile "+p.Token] = true
	}
	for _, p := range cfg.Presets {
		if p.Token == "" || seen["preset "+p.Token] || !inSpace(p.Pan, p.Tilt, p.Zoom) {
			panic(fmt.Sprintf("onvifsim: preset %+v: empty or duplicate token, or outside the generic space", p))
		}
		seen["preset "+p.Token] = true
	}
	log := drivers.Logger(cfg.Logger)
	s := &Sim{
		cfg:     cfg,
		log:     log,
		presets: append([]Preset(nil), cfg.Presets...),
		faults:  map[string]*Fault{},
		nonces:  map[string]time.Time{},
		ops:     map[string]int{},
		done:    make(chan struct{}),
	}
	s.ptz.since = cfg.Clock()
	return s
}

func inSpace(pan, tilt, zoom float64) bool {
	return pan >= -1 && pan <= 1 && tilt >= -1 && tilt <= 1 && zoom >= 0 && zoom <= 1
}

// Listen starts serving HTTP on a TCP address ("127.0.0.1:0" picks a free port) and returns
// the address it listens on.
func (s *Sim) Listen(addr string) (string, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", fmt.Errorf("onvifsim: listen: %w", err)
	}
	s.smu.Lock()
	defer s.smu.Unlock()
	if s.closed || s.srv != nil {
		ln.Close()
		if s.closed {
			return "", errors.New("onvifsim: listen: simulator closed")
		}
		return "", errors.New("onvifsim: listen: already listening")
	}
	s.ln = ln
	s.srv = &http.Server{
		Handler:           s,
		ReadHeaderTimeout: 5 * time.Second,
		ConnState: func(_ net.Conn, st http.ConnState) {
			if st == http.StateNew {
				s.connections.Add(1)
			}
		},
		ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Debug("onvifsim: serve", "error", err)
		}
	}()
	return ln.Addr().String(), nil
}

// Addr returns the address Listen listens on, or "" before Listen.
func (s *Sim) Addr() string {
	s.smu.Lock()
	defer s.smu.Unlock()
	if s.ln == nil {
		return ""
	}
	return s.ln.Addr().String()
}

// Close stops the server, closes every connection (ending silent answers) and waits for the
// handlers.
func (s *Sim) Close() error {
	s.smu.Lock()
	if s.closed {
		s.smu.Unlock()
		return nil
	}
	s.closed = true
	close(s.done)
	srv := s.srv
	s.smu.Unlock()
	var err error
	if srv != nil {
		err = srv.Close()
	}
	s.wg.Wait()
	if err != nil {
		return fmt.Errorf("onvifsim: close: %w", err)
	}
	return nil
}

// SetFault makes the simulator answer operation op ("ContinuousMove"; "" for every
// operation) with f, until SetFault(op, nil). Authentication is checked first.
func (s *Sim) SetFault(op string, f *Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if f == nil {
		delete(s.faults, op)
		return
	}
	c := *f
	c.Subcodes = append([]string(nil), f.Subcodes...)
	s.faults[op] = &c
}

// Ops returns how many times each operation was asked for (well-formed requests only).
func (s *Sim) Ops() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int, len(s.ops))
	for k, v := range s.ops {
		out[k] = v
	}
	return out
}

// State returns a snapshot of the camera.
func (s *Sim) State() State {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ptz.advance(s.cfg.Clock(), s.cfg.Speed)
	p := s.ptz
	return State{
		Pan: p.pos[0], Tilt: p.pos[1], Zoom: p.pos[2],
		PanVel: p.vel[0], TiltVel: p.vel[1], ZoomVel: p.vel[2],
		PanTiltMoving: p.moving(0) || p.moving(1), ZoomMoving: p.moving(2),
		Presets:     append([]Preset(nil), s.presets...),
		Mode:        s.Mode(),
		LastProfile: s.lastProfile,
		MoveTimeout: p.timeout,
		Requests:    int(s.requests.Load()), Connections: int(s.connections.Load()), AuthFails: int(s.authFails.Load()),
	}
}

// SetPosition puts the camera at a position, stopped.
func (s *Sim) SetPosition(pan, tilt, zoom float64) error {
	if !inSpace(pan, tilt, zoom) {
		return fmt.Errorf("onvifsim: position %v %v %v outside the generic space", pan, tilt, zoom)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ptz = ptzState{pos: [3]float64{pan, tilt, zoom}, since: s.cfg.Clock()}
	return nil
}

// SetVelocity starts a continuous move, as ContinuousMove without a timeout does.
func (s *Sim) SetVelocity(pan, tilt, zoom float64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ptz.move(s.cfg.Clock(), s.cfg.Speed, [3]float64{pan, tilt, zoom}, 0)
}

// maxBody bounds a request body.
const maxBody = 64 << 10

// ServeHTTP serves one request, misbehaving as the mode says.
func (s *Sim) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.smu.Lock()
	if s.closed {
		s.smu.Unlock()
		http.Error(w, "closed", http.StatusServiceUnavailable)
		return
	}
	s.wg.Add(1)
	s.smu.Unlock()
	defer s.wg.Done()

	s.requests.Add(1)
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		http.Error(w, "request too large or cut short", http.StatusBadRequest)
		return
	}
	mode, delay := s.Take()
	switch mode {
	case Silent:
		select {
		case <-r.Context().Done():
		case <-s.done:
			abort(w)
		}
		return
	case Drop, DropOnce:
		abort(w)
		return
	case Garbage:
		w.Header().Set("Content-Type", "application/soap+xml; charset=utf-8")
		w.WriteHeader(http.StatusOK)
		w.Write(garbage())
		return
	case Slow:
		t := time.NewTimer(delay)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return
		case <-s.done:
			t.Stop()
			abort(w)
			return
		}
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		http.Error(w, "POST a SOAP request", http.StatusMethodNotAllowed)
		return
	}
	status, reply := s.Handle(r.Host, r.URL.Path, body)
	if reply == nil {
		http.Error(w, http.StatusText(status), status)
		return
	}
	w.Header().Set("Content-Type", "application/soap+xml; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(reply)))
	w.WriteHeader(status)
	w.Write(reply)
}

// abort closes the connection of a request without answering it.
func abort(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if c, _, err := hj.Hijack(); err == nil {
			c.Close()
			return
		}
	}
	panic(http.ErrAbortHandler) // net/http closes the connection and logs nothing
}

// garbage returns random bytes that are not XML: a control byte first.
func garbage() []byte {
	b := simkit.RandomBytes(16, 63)
	b[0] = 1 + b[0]%8 // 0x01-0x08: never '<', never whitespace
	return b
}
