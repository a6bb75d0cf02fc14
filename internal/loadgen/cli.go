package loadgen

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

const usage = `loadgen plays many room agents and API clients against one hub and reports what it did.

  loadgen provision --data DIR --agents N --creds FILE [--broker URL] [--site ID]
                    [--mosquitto DIR --mosquitto-listen HOST:PORT --hub-user U --hub-password P]
      Issue credentials for N agents (rooms r0001…) and an API technician "loadgen" in the
      store of the hub whose data directory is DIR (stopped or running), and write them to
      FILE. With --mosquitto, also write a password file, ACL and mosquitto.conf there for a
      mosquitto that the hub uses as its external broker.

  loadgen run --creds FILE --hub URL [--hub-pid PID | --hub-cmd "hub --config hub.yaml"] [flags]
      Connect the agents all at once, wait until the hub has them all online, then load the hub
      for --duration and report. --hub-pid names the hub's process to measure its CPU and
      memory; --hub-cmd starts the hub as a child first (and stops it at the end).

  loadgen agent-footprint --agent-bin PATH [--room command-center] [--settle 10s] [--duration 1m]
      Run the real agent binary for an example room (simulators and a hub in this process),
      and measure its resident memory and idle CPU once every device is reachable.
`

// Main runs the loadgen command line and returns the exit code.
func Main(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	switch args[0] {
	case "provision":
		return provisionCmd(ctx, args[1:], stdout, stderr)
	case "run":
		return runCmd(ctx, args[1:], stdout, stderr)
	case "agent-footprint":
		return footprintCmd(ctx, args[1:], stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	}
	fmt.Fprintf(stderr, "loadgen: unknown command %q\n%s", args[0], usage)
	return 2
}

func provisionCmd(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("loadgen provision", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dataDir := fs.String("data", "", "the hub's data directory (required)")
	n := fs.Int("agents", 1000, "how many agents")
	credsFile := fs.String("creds", "", "file to write the credentials to (required)")
	brokerURL := fs.String("broker", "tcp://127.0.0.1:1883", "the broker URL the agents use")
	site := fs.String("site", "load", "the site of the simulated rooms")
	mqDir := fs.String("mosquitto", "", "also write mosquitto's passwd, acl and mosquitto.conf in this directory")
	mqListen := fs.String("mosquitto-listen", "127.0.0.1:1883", "the address mosquitto.conf listens on")
	hubUser := fs.String("hub-user", "hub", "the hub's MQTT user for mosquitto")
	hubPassword := fs.String("hub-password", "", "the hub's MQTT password for mosquitto (required with --mosquitto)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *dataDir == "" || *credsFile == "" || fs.NArg() > 0 || (*mqDir != "" && *hubPassword == "") {
		fmt.Fprint(stderr, "loadgen provision: --data and --creds are required (and --hub-password with --mosquitto)\n")
		return 2
	}
	start := time.Now()
	c, err := ProvisionDataDir(ctx, *dataDir, *brokerURL, *site, *n)
	if err == nil {
		err = WriteCreds(*credsFile, c)
	}
	if err == nil && *mqDir != "" {
		err = WriteMosquitto(*mqDir, *mqListen, c, *hubUser, *hubPassword)
	}
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	fmt.Fprintf(stdout, "provisioned %d agents of site %s and API user %s in %v; credentials in %s\n",
		*n, *site, c.APIUser, time.Since(start).Round(time.Millisecond), *credsFile)
	return 0
}

func runCmd(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("loadgen run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c Config
	credsFile := fs.String("creds", "", "credentials file from loadgen provision (required)")
	fs.StringVar(&c.HubURL, "hub", "http://127.0.0.1:8080", "the hub's HTTP API")
	fs.StringVar(&c.Broker, "broker", "", "the broker URL (default: the one in the credentials)")
	fs.IntVar(&c.Agents, "agents", 0, "agents to play (default: all in the credentials)")
	fs.IntVar(&c.Devices, "devices", 8, "devices per agent")
	fs.IntVar(&c.MeterRooms, "meter-rooms", 100, "rooms that publish audio meters")
	fs.Float64Var(&c.MeterRate, "meter-rate", 5, "meters per second per metering room")
	fs.Float64Var(&c.StateRate, "state-rate", 100, "device state changes per second, over all agents")
	fs.DurationVar(&c.Service, "service", 2*time.Millisecond, "how long a device takes to do a command")
	fs.DurationVar(&c.Jitter, "jitter", 3*time.Millisecond, "plus up to this much at random")
	fs.Float64Var(&c.CommandRate, "rate", 200, "API commands per second (open loop)")
	fs.IntVar(&c.APIClients, "clients", 16, "API clients (HTTP connections) sending them")
	fs.DurationVar(&c.Duration, "duration", time.Minute, "how long the steady load lasts after the connect storm")
	fs.DurationVar(&c.ConnectTimeout, "connect-timeout", time.Minute, "how long the connect storm may take")
	fs.IntVar(&c.HubPID, "hub-pid", 0, "the hub's process ID, to measure its CPU and memory")
	hubCmd := fs.String("hub-cmd", "", "start the hub with this command line (split at spaces) and measure it")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	verbose := fs.Bool("v", false, "log progress to stderr")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *credsFile == "" || fs.NArg() > 0 || (*hubCmd != "" && c.HubPID != 0) {
		fmt.Fprint(stderr, "loadgen run: --creds is required; give --hub-pid or --hub-cmd, not both\n")
		return 2
	}
	creds, err := ReadCreds(*credsFile)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	c.Creds = creds
	if *verbose {
		c.Logger = slog.New(slog.NewTextHandler(stderr, nil))
	}
	if *hubCmd != "" {
		child, err := startChild(ctx, strings.Fields(*hubCmd), c.HubURL, stderr)
		if err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		defer child.stop(stderr)
		c.HubPID = child.cmd.Process.Pid
	}
	g, err := New(c)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	r, runErr := g.Run(ctx)
	if *asJSON {
		b, _ := json.MarshalIndent(r, "", " ")
		fmt.Fprintf(stdout, "%s\n", b)
	} else {
		fmt.Fprint(stdout, r)
	}
	if runErr != nil {
		fmt.Fprintln(stderr, runErr)
		return 1
	}
	return 0
}

// child is a hub the load generator started.
type child struct {
	cmd  *exec.Cmd
	done chan error
}

// startChild starts argv and waits until hubURL/healthz answers.
func startChild(ctx context.Context, argv []string, hubURL string, stderr io.Writer) (*child, error) {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = stderr, stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("loadgen: start the hub: %w", err)
	}
	ch := &child{cmd: cmd, done: make(chan error, 1)}
	go func() { ch.done <- cmd.Wait() }()
	deadline := time.Now().Add(30 * time.Second)
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(hubURL, "/")+"/healthz", nil)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return ch, nil
			}
		}
		select {
		case err := <-ch.done:
			return nil, fmt.Errorf("loadgen: the hub exited before it was healthy: %v", err)
		case <-ctx.Done():
			ch.stop(stderr)
			return nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			ch.stop(stderr)
			return nil, errors.New("loadgen: the hub was not healthy within 30s")
		}
	}
}

// stop asks the hub to stop (SIGTERM) and kills it if it has not within 10s.
func (c *child) stop(stderr io.Writer) {
	c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-c.done:
		if err != nil {
			fmt.Fprintf(stderr, "loadgen: the hub exited: %v\n", err)
		}
	case <-time.After(10 * time.Second):
		c.cmd.Process.Kill()
		<-c.done
		fmt.Fprintln(stderr, "loadgen: the hub did not stop within 10s; killed")
	}
}

func footprintCmd(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("loadgen agent-footprint", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c FootprintConfig
	fs.StringVar(&c.AgentBin, "agent-bin", "", "the agent binary (required)")
	fs.StringVar(&c.Room, "room", "command-center", "the example room of configs/rooms")
	fs.DurationVar(&c.Settle, "settle", 10*time.Second, "wait this long after every device is reachable")
	fs.DurationVar(&c.Duration, "duration", time.Minute, "measure for this long")
	asJSON := fs.Bool("json", false, "print the figures as JSON")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if c.AgentBin == "" || fs.NArg() > 0 {
		fmt.Fprint(stderr, "loadgen agent-footprint: --agent-bin is required\n")
		return 2
	}
	f, err := AgentFootprint(ctx, c)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	if *asJSON {
		b, _ := json.MarshalIndent(f, "", " ")
		fmt.Fprintf(stdout, "%s\n", b)
	} else {
		fmt.Fprint(stdout, f)
	}
	return 0
}
