// Package hubcli is the hub's command line: run the hub (or the demo), validate configs, and
// the technicians' admin commands. cmd/hub only calls Main.
package hubcli

import (
	"bufio"
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"os/user"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/bailiff/bailiff/internal/config"
	"github.com/bailiff/bailiff/internal/demo"
	"github.com/bailiff/bailiff/internal/hub"
	"github.com/bailiff/bailiff/internal/hub/audit"
	"github.com/bailiff/bailiff/internal/hub/broker"
	"github.com/bailiff/bailiff/internal/store"
	"github.com/bailiff/bailiff/web"
)

// Version is set at build time with -ldflags "-X …/hubcli.Version=…".
var Version = "dev"

const usage = `Usage:
  hub [--config FILE] [--http ADDR] [--mqtt ADDR] [--data DIR]   run the hub
  hub --demo [--http ADDR] [--mqtt ADDR] [--data DIR] [--allow-remote]
                                   run the demo: every example room with simulated devices
                                   (either also takes --pprof 127.0.0.1:PORT: Go's profiler)
  hub validate FILE…               check hub and room configs; exit 1 on any error
  hub agents add SITE/ROOM         issue an agent's broker credentials (prints them)
  hub agents remove SITE/ROOM      revoke an agent's credentials (password and certificates);
                                   a running hub ends its live session within seconds
  hub agents crl                   print the hub CA's revocation list of agent certificates
                                   (PEM), for an external broker (docs/OPERATIONS.md)
  hub ca                           print the hub's CA certificate (PEM) and, on standard
                                   error, its SHA-256 fingerprint; made on first use (tls.mode self)
  hub ca rotate|promote|retire      rotate the hub's CA in three steps with an overlap (tls.mode
                                   self; restart the hub after each): make the next CA, trusted
                                   beside the current one; make it the issuing CA; stop trusting
                                   the old one (docs/SECURITY.md)
  hub users add NAME ROLE          add or reset an API user; the password is read from
                                   BAILIFF_USER_PASSWORD or the first line of standard input
  hub observers add NAME           add a read-only MQTT user (password as for users)
  hub mosquitto-acl                print a mosquitto acl_file for the configured rooms
  hub verify-recording DIR…        check recordings' segments against their signed manifests;
                                   exit 1 if any was changed, removed, added or reordered
  hub verify-audit                 check the audit log's hash chain; exit 1 naming the first
                                   entry that was changed, removed or inserted
  hub firmware-key                 print the hub's firmware signing key's public half (hex),
                                   for devices to trust; made on first use
  hub keys rotate recording|invite retire the recording or invite signing key for a new one;
                                   what the old one signed still verifies (docs/SECURITY.md).
                                   Restart the hub afterwards
  hub version

The admin commands take --config FILE (default hub.yaml if present) to find the data directory.
`

// Main runs the hub command line and returns the exit code.
func Main(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		switch args[0] {
		case "validate":
			return validate(args[1:], stdout, stderr)
		case "agents", "users", "observers", "mosquitto-acl", "verify-recording", "verify-audit", "firmware-key", "ca", "keys":
			return admin(args, stdin, stdout, stderr)
		case "version":
			fmt.Fprintln(stdout, "bailiff hub", Version)
			return 0
		case "help", "-h", "--help":
			fmt.Fprint(stdout, usage)
			return 0
		}
	}
	return run(args, stdout, stderr)
}

func logger(w io.Writer, level slog.Level) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level}))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("hub", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, usage) }
	demoMode := fs.Bool("demo", false, "run the demo")
	cfgFile := fs.String("config", "", "hub config file (hub.yaml)")
	httpAddr := fs.String("http", "", "HTTP listen address (overrides http.listen)")
	mqttAddr := fs.String("mqtt", "", "embedded MQTT broker listen address (overrides mqtt.listen)")
	dataDir := fs.String("data", "", "data directory (overrides data)")
	allowRemote := fs.Bool("allow-remote", false, "let the demo listen on a non-loopback address")
	pprofAddr := fs.String("pprof", "", "serve Go's profiler (/debug/pprof/) on this loopback host:port")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "hub: unexpected argument %q\n%s", fs.Arg(0), usage)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if *pprofAddr != "" {
		ln, err := servePprof(*pprofAddr)
		if err != nil {
			fmt.Fprintln(stderr, "hub:", err)
			return 2
		}
		defer ln.Close()
	}

	if *demoMode {
		log := logger(stderr, slog.LevelWarn)
		err := demo.Run(ctx, demo.Options{
			HTTPListen: *httpAddr, MQTTListen: *mqttAddr, DataDir: *dataDir, AllowRemote: *allowRemote,
			Logger: log, Out: stdout, Version: Version,
		})
		if err != nil {
			fmt.Fprintln(stderr, "hub:", err)
			return 1
		}
		return 0
	}

	cfg, rooms, err := loadConfig(*cfgFile)
	if err != nil {
		fmt.Fprintln(stderr, "hub:", err)
		return 1
	}
	if *httpAddr != "" {
		cfg.HTTP.Listen = *httpAddr
	}
	if *mqttAddr != "" {
		cfg.MQTT.Listen = *mqttAddr
	}
	opts, err := hub.OptionsFrom(cfg, rooms)
	if err != nil {
		fmt.Fprintln(stderr, "hub:", err)
		return 1
	}
	if *dataDir != "" {
		opts.DataDir = *dataDir
	}
	opts.Logger = logger(stderr, cfg.Log.SlogLevel())
	opts.Version = Version
	opts.Web = web.Handler()
	h, err := hub.New(opts)
	if err != nil {
		fmt.Fprintln(stderr, "hub:", err)
		return 1
	}
	public := ""
	if a := h.PublicAddr(); a != "" {
		public = "  public http://" + a
	}
	fmt.Fprintf(stdout, "Bailiff hub: http://%s  mqtt %s  %d rooms%s\n", h.HTTPAddr(), h.BrokerURL(), len(rooms), public)
	h.Run(ctx)
	return 0
}

// loadConfig loads the hub config (defaults when file is "" and no hub.yaml is here) and the
// rooms of its rooms directory (none when it does not exist and no file named it).
func loadConfig(file string) (*config.Hub, []*config.Room, error) {
	explicit := file != ""
	if !explicit {
		if _, err := os.Stat("hub.yaml"); err == nil {
			file = "hub.yaml"
		}
	}
	var cfg *config.Hub
	var err error
	if file != "" {
		cfg, err = config.LoadHub(file, os.Environ())
	} else {
		cfg, err = config.ParseHub("(defaults)", nil, os.Environ())
	}
	if err != nil {
		return nil, nil, err
	}
	dir := cfg.RoomsDir()
	if _, statErr := os.Stat(dir); errors.Is(statErr, os.ErrNotExist) && !explicit {
		return cfg, nil, nil
	}
	rooms, err := config.LoadRooms(dir)
	if err != nil {
		return nil, nil, err
	}
	return cfg, rooms, nil
}

func validate(files []string, stdout, stderr io.Writer) int {
	if len(files) == 0 {
		fmt.Fprintln(stderr, "hub validate: name one or more config files")
		return 2
	}
	bad := 0
	for _, f := range files {
		if err := config.ValidateFile(f); err != nil {
			fmt.Fprintln(stderr, err)
			bad++
			continue
		}
		fmt.Fprintf(stdout, "%s: ok\n", f)
	}
	if bad > 0 {
		fmt.Fprintf(stderr, "%d of %d files have errors\n", bad, len(files))
		return 1
	}
	return 0
}

func admin(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("hub "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfgFile := fs.String("config", "", "hub config file")
	dataDir := fs.String("data", "", "data directory (overrides the config's)")
	verb, rest := "", args[1:]
	if args[0] == "ca" && len(rest) > 0 && !strings.HasPrefix(rest[0], "-") {
		verb, rest = rest[0], rest[1:]
	}
	if args[0] != "mosquitto-acl" && args[0] != "verify-recording" && args[0] != "verify-audit" && args[0] != "firmware-key" && args[0] != "ca" {
		if len(rest) == 0 {
			fmt.Fprint(stderr, usage)
			return 2
		}
		verb, rest = rest[0], rest[1:]
	}
	a, err := parseInterleaved(fs, rest)
	if err != nil {
		return 2
	}
	cfg, rooms, err := loadConfig(*cfgFile)
	if err != nil {
		fmt.Fprintln(stderr, "hub:", err)
		return 1
	}
	if args[0] == "mosquitto-acl" {
		var rs [][2]string
		for _, r := range rooms {
			rs = append(rs, [2]string{r.Site, r.Room})
		}
		hubUser := cfg.MQTT.External.Username
		if hubUser == "" {
			hubUser = broker.HubUser
		}
		fmt.Fprint(stdout, broker.MosquittoACL(hubUser, a, rs))
		return 0
	}
	dir := cfg.DataDir()
	if *dataDir != "" {
		dir = *dataDir
	}
	if args[0] == "verify-recording" {
		return verifyRecordings(dir, a, stdout, stderr)
	}
	if args[0] == "firmware-key" {
		key, err := hub.FirmwareKey(dir)
		if err != nil {
			fmt.Fprintln(stderr, "hub:", err)
			return 1
		}
		fmt.Fprintln(stdout, hex.EncodeToString(key.Public().(ed25519.PublicKey)))
		return 0
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		fmt.Fprintln(stderr, "hub:", err)
		return 1
	}
	dsn, err := cfg.StoreDSN()
	if err != nil {
		fmt.Fprintln(stderr, "hub:", err)
		return 1
	}
	st, err := store.OpenDriver(context.Background(), cfg.Store.Driver, filepath.Join(dir, "hub.db"), dsn)
	if err != nil {
		fmt.Fprintln(stderr, "hub:", err)
		return 1
	}
	defer st.Close()
	ctx := context.Background()
	if args[0] == "verify-audit" {
		return verifyAudit(ctx, st, stdout, stderr)
	}
	// Admin changes go into the audit log, by the operating-system user who made them.
	record := func(action, target, result, detail string) {
		who := "cli"
		if u, err := user.Current(); err == nil {
			who = "cli:" + u.Username
		}
		if _, err := st.AppendAudit(ctx, store.AuditEntry{User: who, Action: action, Target: target, Result: result, Detail: detail}); err != nil {
			fmt.Fprintln(stderr, "hub: audit log:", err)
		}
	}
	switch args[0] + " " + verb {
	case "keys rotate":
		if len(a) != 1 {
			fmt.Fprint(stderr, "hub keys rotate recording|invite\n")
			return 2
		}
		r, err := hub.RotateKey(dir, a[0], time.Now())
		if err != nil {
			fmt.Fprintln(stderr, "hub: keys rotate:", err)
			return 1
		}
		record(audit.KeyRotate, a[0], audit.OK, "old "+r.Old+", new "+r.New)
		fmt.Fprintf(stdout, "%s key rotated: old %s (moved to %s: keep it offline or destroy it), new %s; restart the hub to sign with it\n",
			a[0], r.Old, r.Retired, r.New)
		return 0
	case "ca rotate", "ca promote", "ca retire":
		return caRotation(cfg, dir, verb, record, stdout, stderr)
	case "ca ", "agents crl":
		return caCommand(ctx, cfg, dir, st, args[0] == "ca", stdout, stderr)
	case "agents add", "agents remove":
		if len(a) != 1 {
			fmt.Fprintf(stderr, "hub agents %s SITE/ROOM\n", verb)
			return 2
		}
		site, room, ok := strings.Cut(a[0], "/")
		if !ok {
			fmt.Fprintf(stderr, "hub: %q: want SITE/ROOM\n", a[0])
			return 2
		}
		if verb == "remove" {
			// Its password and every certificate it was issued stop working; a running hub
			// ends the agent's live session within seconds (it sweeps for revoked agents).
			if err := st.RevokeAgent(ctx, site, room, time.Now()); err != nil {
				fmt.Fprintf(stderr, "hub: remove agent %s/%s: %v\n", site, room, err)
				return 1
			}
			record(audit.AgentRemove, site+"/"+room, audit.OK, "")
			fmt.Fprintf(stdout, "agent %s/%s removed: its password and certificates are revoked; it can no longer log in\n", site, room)
			return 0
		}
		url := cfg.MQTT.External.URL
		if url == "" {
			url = "tcp://" + cfg.MQTT.Listen
			if cfg.TLS.On() {
				url = "ssl://" + cfg.TLS.MQTTListen
			}
		}
		cred, err := hub.AddAgent(ctx, st, url, site, room)
		if err != nil {
			fmt.Fprintln(stderr, "hub:", err)
			return 1
		}
		record(audit.AgentAdd, site+"/"+room, audit.OK, "")
		if cfg.MQTT.External.URL != "" {
			fmt.Fprintln(stderr, "hub: note: with an external broker, also add this login to the broker (see docs/OPERATIONS.md)")
		}
		if cfg.TLS.On() {
			fmt.Fprintln(stderr, "hub: note: TLS is on: give the agent the hub's CA (hub ca > ca.pem; agent --ca-file ca.pem), or enroll it instead for a certificate")
		}
		fmt.Fprint(stdout, cred.YAML(site, room))
		return 0
	case "users add", "observers add":
		want := 2
		if args[0] == "observers" {
			want = 1
		}
		if len(a) != want {
			fmt.Fprint(stderr, usage)
			return 2
		}
		pw, err := readPassword(stdin)
		if err != nil {
			fmt.Fprintln(stderr, "hub:", err)
			return 1
		}
		if args[0] == "users" {
			err = hub.AddUser(ctx, st, a[0], a[1], pw)
		} else {
			err = hub.AddObserver(ctx, st, a[0], pw)
		}
		if err != nil {
			fmt.Fprintln(stderr, "hub:", err)
			return 1
		}
		if args[0] == "users" {
			record(audit.UserAdd, a[0], audit.OK, "role "+a[1])
			fmt.Fprintf(stdout, "user %s (%s) saved\n", a[0], a[1])
		} else {
			record(audit.ObserverAdd, a[0], audit.OK, "")
			fmt.Fprintf(stdout, "MQTT observer %s saved: it may read bailiff/# and publish nothing\n", a[0])
		}
		return 0
	}
	fmt.Fprint(stderr, usage)
	return 2
}

// parseInterleaved parses flags that may come before, between or after the positional
// arguments, and returns the positional ones.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return pos, nil
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

func readPassword(stdin io.Reader) (string, error) {
	if pw := os.Getenv("BAILIFF_USER_PASSWORD"); pw != "" {
		return pw, nil
	}
	line, err := bufio.NewReader(stdin).ReadString('\n')
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		if err != nil && !errors.Is(err, io.EOF) {
			return "", err
		}
		return "", errors.New("no password: set BAILIFF_USER_PASSWORD or write it on standard input")
	}
	return line, nil
}

func verifyRecordings(dataDir string, dirs []string, stdout, stderr io.Writer) int {
	if len(dirs) == 0 {
		fmt.Fprintln(stderr, "hub verify-recording: name one or more recording directories")
		return 2
	}
	bad := 0
	for _, d := range dirs {
		rep, err := hub.VerifyRecording(dataDir, d)
		if err != nil {
			fmt.Fprintf(stderr, "%s: %v\n", d, err)
			bad++
			continue
		}
		fmt.Fprintf(stdout, "%s: %s\n", d, rep.String())
		if !rep.OK() {
			bad++
		}
	}
	if bad > 0 {
		return 1
	}
	return 0
}

// verifyAudit checks the audit log's chain and says where it breaks.
func verifyAudit(ctx context.Context, st *store.Store, stdout, stderr io.Writer) int {
	rep, err := st.VerifyAudit(ctx)
	var ce *store.ChainError
	if errors.As(err, &ce) {
		fmt.Fprintf(stderr, "audit log: BROKEN at entry %d: %s (%d entries before it verify; last good hash %s)\n", ce.Seq, ce.Reason, rep.Entries, rep.Head)
		return 1
	}
	if err != nil {
		fmt.Fprintln(stderr, "hub:", err)
		return 1
	}
	fmt.Fprintf(stdout, "audit log: ok, %d entries, head %s\n", rep.Entries, rep.Head)
	return 0
}
