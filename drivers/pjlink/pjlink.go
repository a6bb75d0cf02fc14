package pjlink

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/bailiff/bailiff/drivers"
	"github.com/bailiff/bailiff/drivers/internal/devlink"
)

// DefaultPort is the TCP port of PJLink (spec §3).
const DefaultPort = 4352

// DefaultTimeout bounds one exchange when the context has no sooner deadline. The spec asks
// projectors to answer within 2 s.
const DefaultTimeout = 3 * time.Second

// Options configures a Projector.
type Options struct {
	// Password is the PJLink password, used only when the projector asks for one. It is
	// never logged; Options prints it as "***".
	Password string
	// Timeout bounds one exchange (connect, greeting, request, answer) when the context has
	// no sooner deadline. Zero means DefaultTimeout.
	Timeout time.Duration
	// Logger gets debug records (reconnects); nil discards them.
	Logger *slog.Logger
}

// String prints the options with the password hidden.
func (o Options) String() string {
	pw := ""
	if o.Password != "" {
		pw = "***"
	}
	return fmt.Sprintf("{Password:%s Timeout:%v}", pw, o.Timeout)
}

// LogValue logs the options with the password hidden.
func (o Options) LogValue() slog.Value {
	return slog.GroupValue(slog.Bool("password_set", o.Password != ""), slog.Duration("timeout", o.Timeout))
}

// Projector is one PJLink class 1 projector or display. It implements drivers.Device,
// drivers.Powerer, drivers.InputSelector, drivers.Blanker and drivers.Muter. Its methods
// are safe for concurrent use; exchanges run one at a time.
type Projector struct {
	dial func(ctx context.Context) (net.Conn, error)
	opts Options
	log  *slog.Logger

	mu sync.Mutex // held for a whole exchange

	links devlink.Keeper[*link]
}

var (
	_ drivers.Device        = (*Projector)(nil)
	_ drivers.Powerer       = (*Projector)(nil)
	_ drivers.InputSelector = (*Projector)(nil)
	_ drivers.Blanker       = (*Projector)(nil)
	_ drivers.Muter         = (*Projector)(nil)
)

// New returns a Projector that reaches the projector through dial, which the Projector calls
// whenever it needs a connection (the first exchange, and after one was lost). New does not
// dial.
func New(dial func(ctx context.Context) (net.Conn, error), opts Options) *Projector {
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	log := drivers.Logger(opts.Logger)
	p := &Projector{dial: dial, opts: opts, log: log}
	p.links.Closed, p.links.Limit = errClosed, opts.Timeout
	return p
}

// DialTCP returns a dial function for New that connects over TCP to addr, adding
// DefaultPort when addr has no port.
func DialTCP(addr string) func(ctx context.Context) (net.Conn, error) {
	addr = withDefaultPort(addr)
	d := &net.Dialer{KeepAlive: 15 * time.Second}
	return func(ctx context.Context) (net.Conn, error) { return d.DialContext(ctx, "tcp", addr) }
}

// withDefaultPort adds DefaultPort to an address that has none ("host", "10.0.0.7",
// "[fe80::1]", "fe80::1").
func withDefaultPort(addr string) string {
	if _, _, err := net.SplitHostPort(addr); err == nil {
		return addr
	}
	host := strings.TrimSuffix(strings.TrimPrefix(addr, "["), "]")
	return net.JoinHostPort(host, strconv.Itoa(DefaultPort))
}

func init() {
	drivers.Register(drivers.Info{
		Name:        "pjlink",
		Description: "PJLink class 1 projectors and displays over TCP: power, input, video and audio mute, lamp and error status",
		Options:     []string{"password"},
		DefaultPort: DefaultPort,
		New:         factory,
	})
}

// factory makes a Projector for one device of a room config. It does not touch the network.
func factory(cfg drivers.Config) (drivers.Device, error) {
	for k := range cfg.Options {
		if k != "password" {
			return nil, fmt.Errorf("pjlink: device %q: unknown option %q (want password): %w", cfg.ID, k, drivers.ErrBadArgs)
		}
	}
	if strings.TrimSpace(cfg.Address) == "" {
		return nil, fmt.Errorf("pjlink: device %q: no address: %w", cfg.ID, drivers.ErrBadArgs)
	}
	return New(DialTCP(cfg.Address), Options{Password: cfg.Options["password"], Logger: cfg.Logger}), nil
}

// Close closes the connection. Calls after Close fail with drivers.ErrUnreachable.
func (p *Projector) Close() error {
	if err := p.links.Close(); err != nil {
		return fmt.Errorf("pjlink: close: %w", err)
	}
	return nil
}

// Command sends one class 1 command, "%1cmd param", and returns the projector's answer (the
// text after "="). A query has param "?". An error answer comes back as a *ReplyError in the
// chain.
func (p *Projector) Command(ctx context.Context, cmd, param string) (string, error) {
	return p.exchange(ctx, cmd+" "+param, cmd, param)
}

// set sends a set command, whose answer must be OK.
func (p *Projector) set(ctx context.Context, what, cmd, param string) error {
	payload, err := p.exchange(ctx, what, cmd, param)
	if err != nil {
		return err
	}
	if err := checkOK(cmd, payload); err != nil {
		return fmt.Errorf("pjlink: %s: %w", what, err)
	}
	return nil
}

// SetPower switches the projector on (POWR 1) or to standby (POWR 0). While it warms up or
// cools down most projectors answer ERR3: drivers.ErrBusy.
func (p *Projector) SetPower(ctx context.Context, on bool) error {
	param := "0"
	if on {
		param = "1"
	}
	return p.set(ctx, "power "+drivers.OnOff(on), "POWR", param)
}

// SetInput selects an input (INPT): a code of spec §4.3 ("31") or a friendly name of one
// ("rgb1", "video2", "digital1", "storage1", "network1"). Anything else is drivers.ErrBadArgs
// and nothing is sent.
func (p *Projector) SetInput(ctx context.Context, source string) error {
	code, err := inputCode(source)
	if err != nil {
		return fmt.Errorf("pjlink: input: %w", err)
	}
	return p.set(ctx, "input "+code, "INPT", code)
}

// SetBlank mutes (AVMT 11) or shows (AVMT 10) the picture.
func (p *Projector) SetBlank(ctx context.Context, on bool) error {
	param := "10"
	if on {
		param = "11"
	}
	return p.set(ctx, "blank "+drivers.OnOff(on), "AVMT", param)
}

// SetMute mutes (AVMT 21) or unmutes (AVMT 20) the audio. A projector has one audio
// channel: channel must be "".
func (p *Projector) SetMute(ctx context.Context, channel string, on bool) error {
	if channel != "" {
		return fmt.Errorf("pjlink: mute: channel %q: a projector has one audio channel, leave it empty: %w", channel, drivers.ErrBadArgs)
	}
	param := "20"
	if on {
		param = "21"
	}
	return p.set(ctx, "mute "+drivers.OnOff(on), "AVMT", param)
}

// Poll queries the projector's state; see the package documentation for the fields and for
// when it returns a state together with an error.
func (p *Projector) Poll(ctx context.Context) (drivers.State, error) {
	st := drivers.State{}
	var failed []string // commands answered ERR4
	var faults []string // values that do not decode, ERST errors
	for _, cmd := range queries {
		payload, err := p.exchange(ctx, "poll "+cmd, cmd, "?")
		if err != nil {
			var re *ReplyError
			if !errors.As(err, &re) {
				return nil, err
			}
			if re.Code == "ERR4" {
				failed = append(failed, cmd)
			}
			continue // ERR1-3: not supported, or not now (off, warming): leave it out
		}
		fields, err := decodeQuery(cmd, payload)
		for k, v := range fields {
			st[k] = v
		}
		if err != nil {
			var ve *valueError
			if !errors.As(err, &ve) {
				return nil, fmt.Errorf("pjlink: poll %s: %w", cmd, err)
			}
			faults = append(faults, ve.msg)
		}
	}
	if len(failed) > 0 {
		faults = append([]string{"projector failure (ERR4) answering " + strings.Join(failed, ", ")}, faults...)
	}
	if len(faults) > 0 {
		return st, fmt.Errorf("pjlink: poll: %s: %w", strings.Join(faults, "; "), drivers.ErrDevice)
	}
	return st, nil
}
