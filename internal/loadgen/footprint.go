package loadgen

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/bailiff/bailiff/drivers/simreg"
	"github.com/bailiff/bailiff/internal/config"
	"github.com/bailiff/bailiff/internal/demo"
	"github.com/bailiff/bailiff/internal/hub"
)

// FootprintConfig is a measurement of the real agent's footprint.
type FootprintConfig struct {
	AgentBin string        // the agent binary (cmd/agent)
	Room     string        // an example room of configs/rooms; default command-center (8 devices)
	Settle   time.Duration // after every device is reachable, before measuring; default 10s
	Duration time.Duration // the measurement; default 1 minute
	Logger   *slog.Logger
}

// Footprint is what the agent used.
type Footprint struct {
	Room     string        `json:"room"`
	Devices  int           `json:"devices"`
	Ready    time.Duration `json:"ready_ns"` // start → every device reachable at the hub
	Duration time.Duration `json:"duration_ns"`
	CPU      float64       `json:"cpu_percent"` // of one core, idle (polling only)
	RSS      int64         `json:"rss_bytes"`   // at the end
	PeakRSS  int64         `json:"peak_rss_bytes"`
}

func (f *Footprint) String() string {
	return fmt.Sprintf("agent, room %s with %d simulated devices: ready in %v; idle over %v: CPU %.2f%% of one core, RSS %.1f MiB (peak %.1f MiB)\n",
		f.Room, f.Devices, f.Ready.Round(time.Millisecond), f.Duration.Round(time.Second), f.CPU,
		float64(f.RSS)/(1<<20), float64(f.PeakRSS)/(1<<20))
}

// AgentFootprint runs the real agent binary for one example room against a hub with its
// embedded broker and a simulator behind every device (both in this process, so they do not
// count), waits until the hub sees every device reachable, lets it settle, then measures the
// agent process's CPU and memory while it is idle (polling its devices).
func AgentFootprint(ctx context.Context, c FootprintConfig) (*Footprint, error) {
	if c.Room == "" {
		c.Room = "command-center"
	}
	if c.Settle == 0 {
		c.Settle = 10 * time.Second
	}
	if c.Duration == 0 {
		c.Duration = time.Minute
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	rooms, err := demo.Rooms()
	if err != nil {
		return nil, err
	}
	var room *config.Room
	for _, r := range rooms {
		if r.Room == c.Room {
			room = r
		}
	}
	if room == nil {
		return nil, fmt.Errorf("loadgen: no example room %q", c.Room)
	}
	dir, err := os.MkdirTemp("", "bailiff-footprint-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	sims := map[string]simreg.Sim{}
	defer func() {
		for _, s := range sims {
			s.Close()
		}
	}()
	if err := demo.StartSims([]*config.Room{room}, sims, c.Logger); err != nil {
		return nil, err
	}
	h, err := hub.New(hub.Options{HTTPListen: "127.0.0.1:0", MQTTListen: "127.0.0.1:0", DataDir: filepath.Join(dir, "data"),
		Rooms: []*config.Room{room}, Logger: c.Logger})
	if err != nil {
		return nil, err
	}
	defer h.Close()
	creds, err := hub.AddAgent(ctx, h.Store(), h.BrokerURL(), room.Site, room.Room)
	if err != nil {
		return nil, err
	}
	roomFile, credsFile := filepath.Join(dir, "room.yaml"), filepath.Join(dir, "agent.yaml")
	b, err := yaml.Marshal(room)
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(roomFile, b, 0o600); err != nil {
		return nil, err
	}
	if err := os.WriteFile(credsFile, []byte(creds.YAML(room.Site, room.Room)), 0o600); err != nil {
		return nil, err
	}

	start := time.Now()
	cmd := exec.Command(c.AgentBin, "--config", roomFile, "--credentials", credsFile)
	cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("loadgen: start the agent: %w", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		cmd.Process.Signal(os.Interrupt)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
	}()
	f := &Footprint{Room: room.Site + "/" + room.Room, Devices: len(room.Devices)}
	for {
		if _, unreachable := h.Registry().Counts(); h.Registry().Online(room.Site, room.Room) && unreachable == 0 {
			break
		}
		select {
		case err := <-exited:
			return nil, fmt.Errorf("loadgen: the agent exited: %v", err)
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		if time.Since(start) > time.Minute {
			return nil, fmt.Errorf("loadgen: the room's devices were not all reachable within a minute")
		}
	}
	f.Ready = time.Since(start)
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-time.After(c.Settle):
	}
	pid := cmd.Process.Pid
	w := newProcWatch(pid)
	defer w.stop()
	cpu0, t0 := w.cpu(), time.Now()
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case err := <-exited:
		exited <- err
		return nil, fmt.Errorf("loadgen: the agent exited: %v", err)
	case <-time.After(c.Duration):
	}
	f.Duration = time.Since(t0)
	f.CPU = w.cpuSince(cpu0, f.Duration)
	f.RSS, f.PeakRSS = w.rss()
	return f, nil
}
