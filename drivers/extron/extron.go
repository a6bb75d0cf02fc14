package extron

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/bailiff/bailiff/drivers"
	"github.com/bailiff/bailiff/drivers/internal/devlink"
	"github.com/bailiff/bailiff/drivers/transport"
)

// DefaultPort is the Telnet port SIS is served on.
const DefaultPort = 23

// DefaultTimeout bounds one exchange when the context has no sooner deadline.
const DefaultTimeout = 3 * time.Second

// batch is how many queries Poll sends back to back in one write.
const batch = 16

// maxOutputs bounds the outputs Poll reads, against a size that cannot be right.
const maxOutputs = 512

// Options configures a Switcher.
type Options struct {
	// Password is sent when a switcher reached over TCP asks for one. It is never logged;
	// Options prints it as "***".
	Password string
	// Inputs and Outputs, when not zero, replace the matrix size the switcher reports.
	Inputs, Outputs int
	// Timeout bounds one exchange (connect, greeting, commands, answers) when the context has
	// no sooner deadline. Zero means DefaultTimeout.
	Timeout time.Duration
	// Logger gets debug records (reconnects, greetings); nil discards them.
	Logger *slog.Logger
}

// String prints the options with the password hidden.
func (o Options) String() string {
	pw := ""
	if o.Password != "" {
		pw = "***"
	}
	return fmt.Sprintf("{Password:%s Inputs:%d Outputs:%d Timeout:%v}", pw, o.Inputs, o.Outputs, o.Timeout)
}

// LogValue logs the options with the password hidden.
func (o Options) LogValue() slog.Value {
	return slog.GroupValue(slog.Bool("password_set", o.Password != ""), slog.Int("inputs", o.Inputs),
		slog.Int("outputs", o.Outputs), slog.Duration("timeout", o.Timeout))
}

// Switcher is one Extron matrix switcher. It implements drivers.Device and drivers.Router.
// Its methods are safe for concurrent use; exchanges run one at a time.
type Switcher struct {
	dial func(ctx context.Context) (net.Conn, error)
	opts Options
	log  *slog.Logger

	mu sync.Mutex // held for a whole exchange

	links devlink.Keeper[*link]

	cmu   sync.Mutex // guards the fields below
	model string     // named by a greeting
	size  matrixSize // learned by Poll
}

var (
	_ drivers.Device = (*Switcher)(nil)
	_ drivers.Router = (*Switcher)(nil)
)

// New returns a Switcher reached through dial, which it calls whenever it needs a link (the
// first exchange, and after one was lost). New does not dial.
func New(dial func(ctx context.Context) (net.Conn, error), opts Options) *Switcher {
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	log := drivers.Logger(opts.Logger)
	s := &Switcher{dial: dial, opts: opts, log: log}
	s.links.Closed, s.links.Limit = errClosed, opts.Timeout
	return s
}

// Dial returns a dial function for New that opens address as drivers/transport reads it:
// "host[:port]" or "tcp://host[:port]" (DefaultPort when none is given), or
// "serial:/dev/ttyUSB0" with the line settings of serial (9600 8N1 when zero).
func Dial(address string, serial transport.Options) func(ctx context.Context) (net.Conn, error) {
	serial.TCPPort = DefaultPort
	return func(ctx context.Context) (net.Conn, error) { return transport.Dial(ctx, address, serial) }
}

// optionKeys are the room-config options the driver takes.
var optionKeys = []string{"password", "inputs", "outputs", "baud", "data_bits", "parity", "stop_bits"}

func init() {
	drivers.Register(drivers.Info{
		Name:        "extron",
		Description: "Extron matrix switchers over SIS (Telnet 23 or RS-232): audio/video ties, tie table, part number and firmware",
		Options:     optionKeys,
		DefaultPort: DefaultPort,
		New:         factory,
	})
}

// factory makes a Switcher for one device of a room config. It does not touch the network.
func factory(cfg drivers.Config) (drivers.Device, error) {
	for k := range cfg.Options {
		if !slices.Contains(optionKeys, k) {
			return nil, fmt.Errorf("extron: device %q: unknown option %q (want %s): %w",
				cfg.ID, k, strings.Join(optionKeys, ", "), drivers.ErrBadArgs)
		}
	}
	addr := strings.TrimSpace(cfg.Address)
	if addr == "" {
		return nil, fmt.Errorf("extron: device %q: no address: %w", cfg.ID, drivers.ErrBadArgs)
	}
	opts := Options{Password: cfg.Options["password"], Logger: cfg.Logger}
	for key, dst := range map[string]*int{"inputs": &opts.Inputs, "outputs": &opts.Outputs} {
		v, ok := cfg.Options[key]
		if !ok {
			continue
		}
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || n < 1 || n > maxOutputs {
			return nil, fmt.Errorf("extron: device %q: option %s %q: want 1-%d: %w", cfg.ID, key, v, maxOutputs, drivers.ErrBadArgs)
		}
		*dst = n
	}
	var topts transport.Options
	if err := transport.SerialOptions(cfg.Options, &topts); err != nil {
		return nil, fmt.Errorf("extron: device %q: %w: %w", cfg.ID, err, drivers.ErrBadArgs)
	}
	topts.TCPPort = DefaultPort
	kind, _, err := transport.Parse(addr, topts)
	if err != nil {
		return nil, fmt.Errorf("extron: device %q: %w: %w", cfg.ID, err, drivers.ErrBadArgs)
	}
	if kind == transport.UDP {
		return nil, fmt.Errorf("extron: device %q: SIS runs over TCP or a serial line, not UDP: %w", cfg.ID, drivers.ErrBadArgs)
	}
	return New(Dial(addr, topts), opts), nil
}

// Close closes the link. Calls after Close fail with drivers.ErrUnreachable.
func (s *Switcher) Close() error {
	if err := s.links.Close(); err != nil {
		return fmt.Errorf("extron: close: %w", err)
	}
	return nil
}

// Command sends one SIS command as it is ("1*3!", "I", "3%") and returns the switcher's
// answer line. An E-code comes back as a *SISError in the chain.
func (s *Switcher) Command(ctx context.Context, cmd string) (string, error) {
	if cmd == "" || len(cmd) > 64 {
		return "", fmt.Errorf("extron: command %q: want 1-64 characters: %w", cmd, drivers.ErrBadArgs)
	}
	for i := 0; i < len(cmd); i++ {
		if cmd[i] < 0x20 && cmd[i] != 0x1B || cmd[i] > 0x7E {
			return "", fmt.Errorf("extron: command %q: want printable ASCII (and Esc): %w", cmd, drivers.ErrBadArgs)
		}
	}
	res, err := s.exchange(ctx, fmt.Sprintf("command %q", cmd), rawRequest(cmd))
	if err != nil {
		return "", err
	}
	if res[0].err != nil {
		return "", fmt.Errorf("extron: command %q: %w", cmd, res[0].err)
	}
	return res[0].v.(string), nil
}

// Route ties input to output: input a number (0 unties), output a number or "all", kind
// "av" (or ""), "video" or "audio". Arguments that do not parse, or are out of the known
// matrix size, are drivers.ErrBadArgs and nothing is sent.
func (s *Switcher) Route(ctx context.Context, input, output, kind string) error {
	in, out, k, err := parseRoute(input, output, kind)
	if err != nil {
		return fmt.Errorf("extron: route: %w", err)
	}
	return s.Tie(ctx, in, out, k)
}

// Tie ties input in to output out (0: every output) for kind k.
func (s *Switcher) Tie(ctx context.Context, in, out int, k Kind) error {
	what := fmt.Sprintf("route input %d to output %d (%s)", in, out, k)
	if out == 0 {
		what = fmt.Sprintf("route input %d to every output (%s)", in, k)
	}
	if err := s.checkRange(in, out, k); err != nil {
		return fmt.Errorf("extron: %s: %w", what, err)
	}
	res, err := s.exchange(ctx, what, tieRequest(in, out, k))
	if err != nil {
		return err
	}
	if res[0].err != nil {
		return fmt.Errorf("extron: %s: %w", what, res[0].err)
	}
	return nil
}

// checkRange checks a tie against the matrix size, when it is known.
func (s *Switcher) checkRange(in, out int, k Kind) error {
	if in < 0 || out < 0 || in > maxNumber || out > maxNumber {
		return fmt.Errorf("input %d, output %d: out of range: %w", in, out, drivers.ErrBadArgs)
	}
	switch k {
	case AV, Video, Audio, RGB:
	default:
		return fmt.Errorf("kind %v: %w", k, drivers.ErrBadArgs)
	}
	ins, outs := s.sizeFor(k)
	if ins > 0 && in > ins {
		return fmt.Errorf("input %d: the switcher has %d inputs: %w", in, ins, drivers.ErrBadArgs)
	}
	if outs > 0 && out > outs {
		return fmt.Errorf("output %d: the switcher has %d outputs: %w", out, outs, drivers.ErrBadArgs)
	}
	return nil
}

// sizeFor returns the known inputs and outputs for a kind of tie (0 when unknown).
func (s *Switcher) sizeFor(k Kind) (ins, outs int) {
	s.cmu.Lock()
	sz := s.size
	s.cmu.Unlock()
	ins, outs = sz.VideoInputs, sz.VideoOutputs
	if k == Audio && sz.AudioOutputs > 0 {
		ins, outs = sz.AudioInputs, sz.AudioOutputs
	}
	if s.opts.Inputs > 0 {
		ins = s.opts.Inputs
	}
	if s.opts.Outputs > 0 {
		outs = s.opts.Outputs
	}
	return ins, outs
}

// Tied returns the input tied to output out for kind k (Video or Audio), 0 for none.
func (s *Switcher) Tied(ctx context.Context, out int, k Kind) (int, error) {
	what := fmt.Sprintf("read the %s tie of output %d", k, out)
	if out < 1 || out > maxNumber || (k != Video && k != Audio && k != RGB) {
		return 0, fmt.Errorf("extron: %s: want an output number and video or audio: %w", what, drivers.ErrBadArgs)
	}
	res, err := s.exchange(ctx, what, viewRequest(out, k))
	if err != nil {
		return 0, err
	}
	if res[0].err != nil {
		return 0, fmt.Errorf("extron: %s: %w", what, res[0].err)
	}
	return res[0].v.(int), nil
}

// audioRefused reports an E-code that says the switcher has no audio matrix.
func audioRefused(err error) bool {
	var se *SISError
	return errors.As(err, &se) && (se.Code == "E10" || se.Code == "E14" || se.Code == "E18")
}

// Poll reads the switcher's size, part number, firmware and tie table; see the package
// documentation for the fields and for when it returns a state together with an error.
func (s *Switcher) Poll(ctx context.Context) (drivers.State, error) {
	res, err := s.exchange(ctx, "poll information", infoRequest, partRequest, firmwareRequest)
	if err != nil {
		return nil, err
	}
	st := drivers.State{}
	if res[1].err == nil {
		st["part_number"] = res[1].v.(string)
	}
	if res[2].err == nil {
		st["firmware"] = res[2].v.(string)
	}
	s.cmu.Lock()
	if s.model != "" {
		st["model"] = s.model
	}
	s.cmu.Unlock()

	var sz matrixSize
	if res[0].err == nil {
		sz = res[0].v.(matrixSize)
	} else if s.opts.Outputs > 0 {
		// No size from the switcher: probe audio on as many outputs as video.
		sz.AudioInputs, sz.AudioOutputs = s.opts.Inputs, s.opts.Outputs
	}
	if s.opts.Inputs > 0 {
		sz.VideoInputs = s.opts.Inputs
		if sz.AudioOutputs > 0 {
			sz.AudioInputs = s.opts.Inputs
		}
	}
	if s.opts.Outputs > 0 {
		sz.VideoOutputs = s.opts.Outputs
		if sz.AudioOutputs > 0 {
			sz.AudioOutputs = s.opts.Outputs
		}
	}
	if sz.VideoOutputs == 0 {
		return st, fmt.Errorf("extron: poll: the switcher does not report its size (%v); set the outputs option: %w",
			res[0].err, drivers.ErrDevice)
	}
	if sz.VideoOutputs > maxOutputs || sz.AudioOutputs > maxOutputs {
		return st, fmt.Errorf("extron: poll: size %dx%d: more than %d outputs: %w", sz.VideoInputs, sz.VideoOutputs, maxOutputs, drivers.ErrDevice)
	}
	s.cmu.Lock()
	s.size = sz
	s.cmu.Unlock()
	if sz.VideoInputs > 0 {
		st["inputs"] = sz.VideoInputs
	}
	st["outputs"] = sz.VideoOutputs

	var faults []string
	video, err := s.readTies(ctx, Video, sz.VideoOutputs, &faults)
	if err != nil {
		return nil, err
	}
	st["video"] = video
	if sz.AudioOutputs > 0 {
		audio, err := s.readTies(ctx, Audio, sz.AudioOutputs, &faults)
		if err != nil {
			return nil, err
		}
		if audio != nil {
			st["audio"] = audio
		}
	}
	if len(faults) > 0 {
		return st, fmt.Errorf("extron: poll: %s: %w", strings.Join(faults, "; "), drivers.ErrDevice)
	}
	return st, nil
}

// readTies reads the tie of outputs 1…n for kind k, batch queries at a time. It returns nil
// for audio when the switcher refuses audio queries. E-codes are added to faults.
func (s *Switcher) readTies(ctx context.Context, k Kind, n int, faults *[]string) (map[string]int, error) {
	ties := make(map[string]int, n)
	for first := 1; first <= n; first += batch {
		reqs := make([]request, 0, batch)
		for out := first; out < first+batch && out <= n; out++ {
			reqs = append(reqs, viewRequest(out, k))
		}
		res, err := s.exchange(ctx, fmt.Sprintf("poll %s ties", k), reqs...)
		if err != nil {
			return nil, err
		}
		for i, r := range res {
			out := first + i
			switch {
			case r.err == nil:
				ties[strconv.Itoa(out)] = r.v.(int)
			case k == Audio && out == 1 && audioRefused(r.err):
				return nil, nil
			default:
				*faults = append(*faults, fmt.Sprintf("%s tie of output %d: %v", k, out, r.err))
			}
		}
	}
	return ties, nil
}
