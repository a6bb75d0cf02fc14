// Package demo runs `hub --demo`: a hub with its embedded broker and store, every example room
// of configs/rooms with a real agent each, and a simulator behind every device, all in one
// process on loopback. Ctrl-C stops everything it started.
package demo

import (
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"os"
	"sort"
	"sync"

	"github.com/bailiff/bailiff/configs"
	"github.com/bailiff/bailiff/drivers/simreg"
	"github.com/bailiff/bailiff/drivers/transport"
	"github.com/bailiff/bailiff/internal/agent"
	"github.com/bailiff/bailiff/internal/config"
	"github.com/bailiff/bailiff/internal/hub"
	"github.com/bailiff/bailiff/internal/hub/auth"
	"github.com/bailiff/bailiff/media/sfu"
	"github.com/bailiff/bailiff/web"

	_ "github.com/bailiff/bailiff/drivers/all"        // every driver the agents may need
	_ "github.com/bailiff/bailiff/drivers/simreg/all" // and a simulator of each
)

// Password is the password of every demo login.
const Password = "demo"

// Users are the demo's API users and their roles.
var Users = [][2]string{{"technician", auth.RoleTechnician}, {"judge", auth.RoleJudge}, {"monitor", auth.RoleMonitor},
	{"clerk", auth.RoleClerk}, {"kiosk", auth.RoleKiosk}}

// Options configures the demo.
type Options struct {
	HTTPListen  string // default 127.0.0.1:8080
	MQTTListen  string // default 127.0.0.1:1883
	DataDir     string // "" makes a temporary one, removed at the end
	AllowRemote bool   // listen on a non-loopback address
	Logger      *slog.Logger
	Out         io.Writer // where the banner goes
	Version     string
	// Ready, if set, is called once everything runs.
	Ready func(*Demo)
}

// Demo is a running demo.
type Demo struct {
	Hub    *hub.Hub
	Rooms  []*config.Room
	Sims   map[string]simreg.Sim // "site/room/device" → simulator
	agents []*agent.Agent

	cameras, clips int // media streams the agents publish
}

// CheckLoopback refuses a listen address that is not on loopback.
func CheckLoopback(flag, addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("%s %q: %w", flag, addr, err)
	}
	if host == "localhost" {
		return nil
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("%s %q is not a loopback address: the demo's passwords are public; pass --allow-remote to listen there anyway", flag, addr)
	}
	return nil
}

// Rooms returns the example rooms of configs/rooms.
func Rooms() ([]*config.Room, error) {
	files, err := configs.RoomFiles()
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	var rooms []*config.Room
	var errs []error
	for _, n := range names {
		r, err := config.ParseRoom("configs/"+n, files[n])
		if err != nil {
			errs = append(errs, err)
			continue
		}
		rooms = append(rooms, r)
	}
	return rooms, errors.Join(errs...)
}

// Run runs the demo until ctx is done.
func Run(ctx context.Context, o Options) error {
	if o.HTTPListen == "" {
		o.HTTPListen = "127.0.0.1:8080"
	}
	if o.MQTTListen == "" {
		o.MQTTListen = "127.0.0.1:1883"
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Out == nil {
		o.Out = io.Discard
	}
	if !o.AllowRemote {
		for _, c := range [][2]string{{"--http", o.HTTPListen}, {"--mqtt", o.MQTTListen}} {
			if err := CheckLoopback(c[0], c[1]); err != nil {
				return fmt.Errorf("demo: %w", err)
			}
		}
	}
	if o.DataDir == "" {
		dir, err := os.MkdirTemp("", "bailiff-demo-")
		if err != nil {
			return fmt.Errorf("demo: %w", err)
		}
		defer os.RemoveAll(dir)
		o.DataDir = dir
	}
	d := &Demo{Sims: map[string]simreg.Sim{}}
	defer d.closeSims()
	rooms, err := Rooms()
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	// The simulated firmware-bridge devices trust the hub's firmware key (as real ones are
	// given it), so a technician can roll firmware out in the demo.
	fwKey, err := hub.FirmwareKey(o.DataDir)
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	trustFirmwareKey(rooms, fwKey.Public().(ed25519.PublicKey))
	if err := d.startSims(rooms, o.Logger); err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	d.Rooms = rooms
	d.cameras, d.clips = d.pointMedia(rooms, o.Logger)
	// The rooms now differ from their files (simulators' addresses, clips, the firmware key):
	// the hub stores, and pushes to the agents, the rooms as they are, not the files on disk
	// (which it would read again when run from the repository).
	for _, r := range rooms {
		r.File = ""
	}

	var media sfu.Network
	var turn *hub.TURNOptions
	if !o.AllowRemote {
		// Media on loopback only, like the rest of the demo. Browsers gather no loopback
		// candidates, so a TURN server on loopback relays for the panels' pages.
		media = sfu.Network{UDPAddr: "127.0.0.1:0", Loopback: true, RemoteIPFilter: net.IP.IsLoopback}
		turn = &hub.TURNOptions{Listen: "127.0.0.1:0"}
	}
	h, err := hub.New(hub.Options{
		HTTPListen: o.HTTPListen, MQTTListen: o.MQTTListen, DataDir: o.DataDir,
		Rooms: rooms, Logger: o.Logger, Version: o.Version, Web: web.Handler(), Media: media, TURN: turn,
	})
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	d.Hub = h
	defer h.Close()
	st := h.Store()
	for _, u := range Users {
		if err := hub.AddUser(ctx, st, u[0], u[1], Password); err != nil {
			return fmt.Errorf("demo: user %s: %w", u[0], err)
		}
	}
	if err := hub.AddObserver(ctx, st, "observer", Password); err != nil {
		return fmt.Errorf("demo: %w", err)
	}

	actx, stopAgents := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	defer func() {
		stopAgents()
		wg.Wait()
	}()
	mediaEP := mediaEndpoint(!o.AllowRemote)
	for _, r := range rooms {
		cred, err := hub.AddAgent(ctx, st, h.BrokerURL(), r.Site, r.Room)
		if err != nil {
			return fmt.Errorf("demo: %w", err)
		}
		a, err := agent.New(agent.Options{
			Room: r, Broker: cred.Broker, Username: cred.Username, Password: cred.Password,
			Version: o.Version, Logger: o.Logger,
			HubURL: "http://" + h.HTTPAddr(), MediaEndpoint: mediaEP,
		})
		if err != nil {
			return fmt.Errorf("demo: agent %s/%s: %w", r.Site, r.Room, err)
		}
		d.agents = append(d.agents, a)
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := a.Run(actx); err != nil {
				o.Logger.Error("demo agent stopped", "site", r.Site, "room", r.Room, "error", err)
			}
		}()
	}
	d.banner(o.Out)
	if o.Ready != nil {
		o.Ready(d)
	}
	<-ctx.Done()
	fmt.Fprintln(o.Out, "\nBailiff demo: stopping…")
	return nil
}

// trustFirmwareKey sets the firmware_key option of every fwbridge device that has none.
func trustFirmwareKey(rooms []*config.Room, pub ed25519.PublicKey) {
	for _, r := range rooms {
		for i := range r.Devices {
			dev := &r.Devices[i]
			if dev.Driver != "fwbridge" || dev.Options["firmware_key"] != "" {
				continue
			}
			if dev.Options == nil {
				dev.Options = map[string]string{}
			}
			dev.Options["firmware_key"] = hex.EncodeToString(pub)
		}
	}
}

// startSims starts a simulator for every device of rooms, of the transport its address
// names, and points the device at it.
func (d *Demo) startSims(rooms []*config.Room, log *slog.Logger) error {
	return StartSims(rooms, d.Sims, log)
}

// StartSims starts a simulator for every device of rooms, of the transport its address names,
// points the device at it (address and the options the simulator needs) and adds it to sims
// ("site/room/device"). The caller closes them, also after an error.
func StartSims(rooms []*config.Room, sims map[string]simreg.Sim, log *slog.Logger) error {
	for _, r := range rooms {
		for i := range r.Devices {
			dev := &r.Devices[i]
			kind, _, err := transport.Parse(dev.Address, transport.Options{TCPPort: 1, UDPPort: 1})
			if err != nil || dev.Address == "" {
				kind = "" // no address (GPIO pins, a sound card): the simulator's own way
			}
			sim, err := simreg.Start(dev.Driver, simreg.Options{ID: dev.ID, Name: dev.Name, Options: dev.Options, Transport: kind, Logger: log})
			if err != nil {
				return fmt.Errorf("%s/%s: %w", r.Site, r.Room, err)
			}
			sims[r.Site+"/"+r.Room+"/"+dev.ID] = sim
			dev.Address = sim.Address()
			if do, ok := sim.(simreg.DeviceOptions); ok {
				if dev.Options == nil {
					dev.Options = map[string]string{}
				}
				maps.Copy(dev.Options, do.DeviceOptions())
			}
		}
	}
	return nil
}

func (d *Demo) closeSims() {
	for _, s := range d.Sims {
		s.Close()
	}
}

func (d *Demo) banner(w io.Writer) {
	url := "http://" + d.Hub.HTTPAddr()
	fmt.Fprintf(w, `
Bailiff demo is running.

  Panel and API   %s
  MQTT broker     %s  (read-only login: observer / %s)
  Logins          technician / %s    judge / %s    monitor / %s
                  clerk and kiosk (the hall's queue) / %s
  Queue pages     %s/queue/display.html  kiosk.html?printer=kiosk-1-printer  window.html  stats.html
  Rooms           %d, with %d simulated devices
  Media           %d simulated cameras over RTSP and %d looping clips, published by the agents
                  (GET /api/v1/streams lists them; watch one over WHEP at /whep/SITE/ROOM/STREAM)
%s
  Try:  curl -s %s/healthz
        TOKEN=$(curl -s -H 'Content-Type: application/json' -d '{"user":"judge","password":"%s"}' %s/api/v1/login | sed 's/.*"token":"\([^"]*\)".*/\1/')
        curl -s -H "Authorization: Bearer $TOKEN" %s/api/v1/rooms
        mosquitto_sub -h %s -p %s -u observer -P %s -t 'bailiff/#' -v

Press Ctrl-C to stop.
`, url, d.Hub.BrokerURL(), Password, Password, Password, Password, Password, url, len(d.Rooms), len(d.Sims), d.cameras, d.clips,
		screens(url), url, Password, url, url, hostOf(d.Hub.BrokerURL()), portOf(d.Hub.BrokerURL()), Password)
}

// screens lists the demo's pages (docs/OPERATIONS.md, "The screens").
func screens(url string) string {
	const room = "?site=demo-court&room=courtroom-1"
	return fmt.Sprintf("  Screens         %s/judge.html%s  (judge)\n"+
		"                  %s/wall.html  and  %s/display.html%s  (monitor)\n", url, room, url, url, room)
}

func hostOf(u string) string {
	h, _, _ := net.SplitHostPort(u[len("tcp://"):])
	return h
}

func portOf(u string) string {
	_, p, _ := net.SplitHostPort(u[len("tcp://"):])
	return p
}
