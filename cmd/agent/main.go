// Command agent runs one room of Bailiff: it drives the room's devices and talks MQTT to the
// hub.
//
//	agent [--config ROOM.yaml] --broker URL [--credentials FILE] [--user U] [--password-file F] [--config-cache FILE] [--hub URL]
//	agent enroll --hub URL --token TOKEN [--ca-fingerprint SHA256 | --ca-file FILE] [--out FILE]
//	agent version
//
// "agent enroll" exchanges a one-time token a technician issued on the hub for the room's
// credentials and writes them to FILE (default credentials.yaml), readable by its owner only.
// The config the hub pushes is kept beside the credentials file (NAME.config.json), so that a
// restart runs it. With TLS on the hub, enrollment pins the hub's CA (the fingerprint the
// technician got with the token) and fetches a client certificate for the agent's own key;
// both go into the credentials file, and the agent then trusts only that CA. Without --config the agent takes its site and room from its user name and
// runs the config the hub pushes (or the one it kept). An agent with a certificate asks the
// hub at start and every 12 hours whether it needs a new one (and which CAs to trust, during a
// CA rotation), rewrites the credentials file when it does, and uses the new one from its next
// connection on (not with --ca-file).
//
// Credentials come from the credentials file, then BAILIFF_AGENT_BROKER, BAILIFF_AGENT_USER
// and BAILIFF_AGENT_PASSWORD, then the flags; each later source wins. SIGINT or SIGTERM stops
// the agent cleanly.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	_ "github.com/bailiff/bailiff/drivers/all"
	"github.com/bailiff/bailiff/internal/agent"
	"github.com/bailiff/bailiff/internal/config"
	"github.com/bailiff/bailiff/media/source"
)

// version is set at build time: -ldflags "-X main.version=v1.2.3".
var version = "dev"

func main() {
	if len(os.Args) == 2 && os.Args[1] == "version" {
		fmt.Println(version)
		return
	}
	if len(os.Args) >= 2 && os.Args[1] == "enroll" {
		os.Exit(enroll(os.Args[2:]))
	}
	fs := flag.NewFlagSet("agent", flag.ExitOnError)
	cfg := fs.String("config", "", "room config `FILE` (YAML); without it, the config the hub pushes")
	broker := fs.String("broker", "", "broker `URL`, e.g. tcp://hub:1883 (or "+agent.EnvBroker+")")
	creds := fs.String("credentials", "", "credentials `FILE`, as \"hub agents add SITE/ROOM\" prints it")
	user := fs.String("user", "", "MQTT user `NAME` (or "+agent.EnvUser+")")
	pwFile := fs.String("password-file", "", "`FILE` holding the MQTT password (or "+agent.EnvPassword+")")
	clientID := fs.String("client-id", "", "MQTT client `ID` (default agent/SITE/ROOM, the only one the hub's broker accepts)")
	level := fs.String("log-level", "info", "log `LEVEL`: debug, info, warn or error")
	cache := fs.String("config-cache", "", "`FILE` keeping the last config the hub pushed (default: beside --credentials, NAME.config.json)")
	hubURL := fs.String("hub", "", "the hub's HTTP base `URL` for media, e.g. http://hub:8080 (overrides the room's media.hub)")
	caFile := fs.String("ca-file", "", "CA certificate `FILE` (PEM) to trust for an ssl:// broker and an https:// hub, besides the credentials' CA")
	_ = fs.Parse(os.Args[1:])
	if fs.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "agent: unexpected argument %q\n", fs.Arg(0))
		fs.Usage()
		os.Exit(2)
	}

	if *cache == "" {
		*cache = agent.ConfigCacheFor(*creds)
	}
	err := run(*cfg, *level, *clientID, *cache, *hubURL, *caFile, agent.CredentialSources{
		File: *creds, Getenv: os.Getenv, Broker: *broker, User: *user, PasswordFile: *pwFile,
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func enroll(args []string) int {
	fs := flag.NewFlagSet("agent enroll", flag.ExitOnError)
	hubURL := fs.String("hub", "", "the hub's HTTP `URL`, e.g. http://hub.court.example:8080")
	token := fs.String("token", "", "the one-time enrollment `TOKEN` a technician issued")
	out := fs.String("out", "credentials.yaml", "credentials `FILE` to write (mode 0600)")
	fp := fs.String("ca-fingerprint", "", "SHA-256 `FINGERPRINT` of the hub's CA, as POST /api/v1/enrollments gave it with the token")
	caFile := fs.String("ca-file", "", "the hub's CA certificate `FILE` (PEM), instead of --ca-fingerprint")
	_ = fs.Parse(args)
	if *hubURL == "" || *token == "" || fs.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "usage: agent enroll --hub URL --token TOKEN [--ca-fingerprint SHA256 | --ca-file FILE] [--out FILE]")
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	e, err := agent.EnrollWith(ctx, agent.EnrollOptions{HubURL: *hubURL, Token: *token, CAFingerprint: *fp, CAFile: *caFile})
	if err == nil {
		err = agent.WriteCredentials(*out, e)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Printf("enrolled as the agent of %s/%s; credentials written to %s\nrun: agent --config ROOM.yaml --credentials %s\n", e.Site, e.Room, *out, *out)
	return 0
}

func run(cfgPath, level, clientID, cache, hubURL, caFile string, src agent.CredentialSources) error {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(level)); err != nil {
		return fmt.Errorf("agent: --log-level %q: want debug, info, warn or error", level)
	}
	creds, err := agent.ResolveCredentials(src)
	if err != nil {
		return err
	}
	tlsConf, err := creds.TLSConfig(caFile)
	if err != nil {
		return err
	}
	// An agent with a certificate from the hub checks it for renewal (and its trusted CAs for a
	// CA rotation) at start and twice a day; the new ones are used from the next connection.
	var live *agent.LiveTLS
	if creds.Certificate != "" && strings.HasPrefix(creds.Hub, "https://") && caFile == "" {
		if live, err = agent.NewLiveTLS(creds); err != nil {
			return err
		}
		tlsConf = live.Config()
	}
	var media source.Endpoint
	if tlsConf != nil {
		media.HTTP = &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: tlsConf, Proxy: http.ProxyFromEnvironment}}
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: lvl}))
	var room *config.Room
	if cfgPath != "" {
		room, err = config.LoadRoom(cfgPath)
	} else {
		room, err = agent.BootstrapRoom(creds.Username)
	}
	if err != nil {
		return err
	}
	a, err := agent.New(agent.Options{
		Room:          room,
		Broker:        creds.Broker,
		Username:      creds.Username,
		Password:      creds.Password,
		ClientID:      clientID,
		Version:       version,
		ConfigCache:   cache,
		HubURL:        hubURL,
		TLS:           tlsConf,
		MediaEndpoint: media,
		Logger:        logger,
	})
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if live != nil {
		go agent.RunRenewal(ctx, creds, agent.RenewOptions{HubURL: creds.Hub, CredentialsFile: src.File, TLS: live, Logger: logger})
	}
	return a.Run(ctx)
}
