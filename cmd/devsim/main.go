// Command devsim runs one device simulator in a process of its own:
//
//	devsim --driver pjlink --id projector [--transport tcp|udp|serial] [--serial PATH]
//	       [--option key=value]… [--control 127.0.0.1:0] [--fast]
//
// It prints one JSON line {"driver","id","address","control","options"} and runs until SIGINT
// or SIGTERM. The control URL serves GET /state and POST /mode.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/bailiff/bailiff/drivers/simreg"
	"github.com/bailiff/bailiff/internal/devsim"
)

type kv map[string]string

func (m kv) String() string { return fmt.Sprint(map[string]string(m)) }
func (m kv) Set(s string) error {
	k, v, ok := strings.Cut(s, "=")
	if !ok || k == "" {
		return fmt.Errorf("want key=value, not %q", s)
	}
	m[k] = v
	return nil
}

func main() {
	opts := kv{}
	var o devsim.Options
	flag.StringVar(&o.Driver, "driver", "", "driver whose device to simulate (one of: "+strings.Join(simreg.Drivers(), ", ")+")")
	flag.StringVar(&o.Sim.ID, "id", "device", "device ID")
	flag.StringVar(&o.Sim.Name, "name", "", "device name")
	flag.StringVar(&o.Sim.Transport, "transport", "", "tcp, udp or serial (default: the device's usual one)")
	flag.StringVar(&o.Sim.SerialPath, "serial", "", "serve on this serial device (e.g. one end of a socat pty pair)")
	flag.StringVar(&o.Control, "control", "127.0.0.1:0", "loopback address of the control API")
	flag.BoolVar(&o.Sim.Fast, "fast", false, "shorten slow device behaviour (warm-up) for tests")
	flag.Var(opts, "option", "device option key=value (repeatable)")
	flag.Parse()
	if o.Driver == "" || flag.NArg() > 0 {
		flag.Usage()
		os.Exit(2)
	}
	o.Sim.Options = opts
	o.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	o.Sim.Logger = o.Logger
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := devsim.Run(ctx, o, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
