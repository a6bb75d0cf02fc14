// Command agent runs one room of Bailiff: it drives the room's devices and talks MQTT to the
// hub.
//
//	agent --config ROOM.yaml --broker URL [--credentials FILE] [--user U] [--password-file F] [--hub URL]
//	agent version
//
// Credentials come from the credentials file, then BAILIFF_AGENT_BROKER, BAILIFF_AGENT_USER
// and BAILIFF_AGENT_PASSWORD, then the flags; each later source wins. SIGINT or SIGTERM stops
// the agent cleanly.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	_ "github.com/bailiff/bailiff/drivers/all"
	"github.com/bailiff/bailiff/internal/agent"
	"github.com/bailiff/bailiff/internal/config"
)

// version is set at build time: -ldflags "-X main.version=v1.2.3".
var version = "dev"

func main() {
	if len(os.Args) == 2 && os.Args[1] == "version" {
		fmt.Println(version)
		return
	}
	fs := flag.NewFlagSet("agent", flag.ExitOnError)
	cfg := fs.String("config", "", "room config `FILE` (YAML)")
	broker := fs.String("broker", "", "broker `URL`, e.g. tcp://hub:1883 (or "+agent.EnvBroker+")")
	creds := fs.String("credentials", "", "credentials `FILE`, as \"hub agents add SITE/ROOM\" prints it")
	user := fs.String("user", "", "MQTT user `NAME` (or "+agent.EnvUser+")")
	pwFile := fs.String("password-file", "", "`FILE` holding the MQTT password (or "+agent.EnvPassword+")")
	clientID := fs.String("client-id", "", "MQTT client `ID` (default agent/SITE/ROOM, the only one the hub's broker accepts)")
	level := fs.String("log-level", "info", "log `LEVEL`: debug, info, warn or error")
	hubURL := fs.String("hub", "", "the hub's HTTP base `URL` for media, e.g. http://hub:8080 (overrides the room's media.hub)")
	_ = fs.Parse(os.Args[1:])
	if fs.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "agent: unexpected argument %q\n", fs.Arg(0))
		fs.Usage()
		os.Exit(2)
	}

	err := run(*cfg, *level, *clientID, *hubURL, agent.CredentialSources{
		File: *creds, Getenv: os.Getenv, Broker: *broker, User: *user, PasswordFile: *pwFile,
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func run(cfgPath, level, clientID, hubURL string, src agent.CredentialSources) error {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(level)); err != nil {
		return fmt.Errorf("agent: --log-level %q: want debug, info, warn or error", level)
	}
	if cfgPath == "" {
		return errors.New("agent: --config is required")
	}
	room, err := config.LoadRoom(cfgPath)
	if err != nil {
		return err
	}
	creds, err := agent.ResolveCredentials(src)
	if err != nil {
		return err
	}
	a, err := agent.New(agent.Options{
		Room:     room,
		Broker:   creds.Broker,
		Username: creds.Username,
		Password: creds.Password,
		ClientID: clientID,
		HubURL:   hubURL,
		Version:  version,
		Logger:   slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: lvl})),
	})
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return a.Run(ctx)
}
