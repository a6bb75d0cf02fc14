// Package loadgen plays many room agents and API clients against one hub and reports what the
// hub did under that load: how long the connect storm took, command latency, the state
// updates the hub took in, its CPU and memory, and every error by kind.
//
// Each simulated agent is a real MQTT client speaking contract v1 (see docs/MQTT.md) with
// devices that live in memory; the API clients send commands through the hub's HTTP API at a
// fixed rate, open-loop: a command's latency counts from when it was due, so a slow hub cannot
// hide its slowness by making the clients send less (no coordinated omission).
package loadgen

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"os"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Config is one load run.
type Config struct {
	Creds  *Creds // agents and the API user (from Provision or ReadCreds)
	Broker string // MQTT broker URL; empty: Creds.Broker
	HubURL string // the hub's HTTP API, e.g. http://127.0.0.1:8080

	Agents     int // how many of Creds.Agents to play; 0: all
	Devices    int // devices per agent, default 8
	MeterRooms int // rooms that publish meters at MeterRate, default 100 (capped at Agents)
	MeterRate  float64
	StateRate  float64       // device state changes per second over all agents, default 100
	Service    time.Duration // how long a simulated device takes to do a command, default 2ms
	Jitter     time.Duration // plus up to this much at random, default 3ms

	CommandRate float64 // API commands per second, default 200
	APIClients  int     // HTTP clients sending them, default 16

	Duration       time.Duration // the steady phase after the connect storm, default 60s
	ConnectTimeout time.Duration // the connect storm's limit, default 60s
	HubPID         int           // the hub's process, for CPU and RSS from /proc; 0: not measured
	Logger         *slog.Logger
}

func (c *Config) defaults() error {
	if c.Creds == nil || len(c.Creds.Agents) == 0 {
		return errors.New("loadgen: no agent credentials")
	}
	if c.Broker == "" {
		c.Broker = c.Creds.Broker
	}
	if c.Broker == "" || c.HubURL == "" {
		return errors.New("loadgen: the broker URL and the hub's URL are required")
	}
	c.HubURL = strings.TrimRight(c.HubURL, "/")
	if c.Agents == 0 {
		c.Agents = len(c.Creds.Agents)
	}
	if c.Agents < 0 || c.Agents > len(c.Creds.Agents) {
		return fmt.Errorf("loadgen: %d agents asked for, the credentials have %d", c.Agents, len(c.Creds.Agents))
	}
	def := func(v *float64, d float64) {
		if *v == 0 {
			*v = d
		}
	}
	if c.Devices == 0 {
		c.Devices = 8
	}
	if c.MeterRooms == 0 {
		c.MeterRooms = 100
	}
	c.MeterRooms = max(min(c.MeterRooms, c.Agents), 0)
	def(&c.MeterRate, 5)
	def(&c.StateRate, 100)
	def(&c.CommandRate, 200)
	if c.Service == 0 {
		c.Service = 2 * time.Millisecond
	}
	if c.Jitter == 0 {
		c.Jitter = 3 * time.Millisecond
	}
	if c.APIClients == 0 {
		c.APIClients = 16
	}
	if c.Duration == 0 {
		c.Duration = time.Minute
	}
	if c.ConnectTimeout == 0 {
		c.ConnectTimeout = time.Minute
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Devices < 1 || c.Devices > 64 || c.StateRate < 0 || c.CommandRate < 0 || c.MeterRate < 0 || c.APIClients < 1 {
		return errors.New("loadgen: devices must be 1-64, rates not negative, API clients at least 1")
	}
	return nil
}

// Generator runs one load.
type Generator struct {
	cfg    Config
	agents []*simAgent
	errs   errorCounts
	http   *http.Client
	token  string

	connected  atomic.Int64
	statesSent atomic.Int64
	metersSent atomic.Int64
}

// New checks cfg and makes a generator.
func New(cfg Config) (*Generator, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	g := &Generator{cfg: cfg}
	g.http = &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
		MaxIdleConnsPerHost: cfg.APIClients, MaxConnsPerHost: cfg.APIClients, IdleConnTimeout: time.Minute,
	}}
	return g, nil
}

func (g *Generator) serviceTime() time.Duration {
	return g.cfg.Service + rand.N(g.cfg.Jitter+1)
}

// Run plays the load: the connect storm, then Duration of steady load, then a clean stop
// (every agent publishes its offline status and disconnects). It returns the report even when
// it also returns an error (e.g. the storm did not finish in time).
func (g *Generator) Run(ctx context.Context) (*Report, error) {
	log := g.cfg.Logger
	r := &Report{Agents: g.cfg.Agents, Devices: g.cfg.Devices, MeterRooms: g.cfg.MeterRooms,
		CommandRate: g.cfg.CommandRate, StateRate: g.cfg.StateRate, Broker: g.cfg.Broker, hubPID: g.cfg.HubPID}
	defer func() { r.Errors = g.errs.snapshot() }()
	if err := g.login(ctx); err != nil {
		return r, err
	}
	base, err := g.scrape(ctx)
	if err != nil {
		return r, fmt.Errorf("loadgen: hub metrics: %w", err)
	}
	proc := newProcWatch(g.cfg.HubPID)
	defer proc.stop()

	// Connect storm: every agent at once.
	start := time.Now()
	cpu0 := proc.cpu()
	for i := range g.cfg.Agents {
		a := g.cfg.Creds.Agents[i]
		g.agents = append(g.agents, newSimAgent(g, a.Room, a.Password))
	}
	defer g.stopAgents()
	for _, a := range g.agents {
		a.client.Connect()
	}
	log.Info("connecting", "agents", len(g.agents))
	wantStates := base.states + float64(g.cfg.Agents*g.cfg.Devices)
	deadline := start.Add(g.cfg.ConnectTimeout)
	for {
		m, err := g.scrape(ctx)
		if err != nil {
			g.errs.add("metrics_scrape")
		} else if r.AgentsOnline = int(m.online - base.online); int(m.online) >= g.cfg.Agents && m.states >= wantStates {
			// The counter counts a state as it arrives (and an agent may send one twice):
			// the rooms' own view says when every device is known and can take commands.
			known, err := g.allDevicesKnown(ctx)
			if err != nil {
				g.errs.add("rooms_read")
			} else if known {
				break
			}
		}
		if time.Now().After(deadline) {
			r.ConnectStorm = time.Since(start)
			return r, fmt.Errorf("loadgen: only %d of %d agents online at the hub (and their states) after %v",
				max(r.AgentsOnline, 0), g.cfg.Agents, g.cfg.ConnectTimeout)
		}
		select {
		case <-ctx.Done():
			return r, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	r.ConnectStorm = time.Since(start)
	r.AgentsOnline = g.cfg.Agents
	r.StormCPU = proc.cpuSince(cpu0, r.ConnectStorm)
	log.Info("all agents online", "took", r.ConnectStorm)

	// Steady load.
	steady, cancel := context.WithTimeout(ctx, g.cfg.Duration)
	defer cancel()
	m0, err := g.scrape(ctx)
	if err != nil {
		return r, fmt.Errorf("loadgen: hub metrics: %w", err)
	}
	cpu1 := proc.cpu()
	self0, _ := ProcCPU(os.Getpid())
	t0 := time.Now()
	sent0 := g.statesSent.Load()
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); g.meters(steady) }()
	go func() { defer wg.Done(); g.stateChanges(steady) }()
	lat := g.commands(steady)
	wg.Wait()
	elapsed := time.Since(t0)
	// Read the hub even when the run was interrupted (Ctrl-C): the report covers what ran.
	end, cancelEnd := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancelEnd()
	m1, err := g.scrape(end)
	if err != nil {
		return r, fmt.Errorf("loadgen: hub metrics: %w", err)
	}
	r.Steady = elapsed
	r.SteadyCPU = proc.cpuSince(cpu1, elapsed)
	if self1, err := ProcCPU(os.Getpid()); err == nil && r.HubPID() != os.Getpid() {
		r.LoadgenCPU = 100 * (self1 - self0).Seconds() / elapsed.Seconds()
	}
	r.HubRSS, r.HubPeakRSS = proc.rss()
	r.StatesSent = float64(g.statesSent.Load()-sent0) / elapsed.Seconds()
	r.StatesSeen = (m1.states - m0.states) / elapsed.Seconds()
	r.MessagesSeen = (m1.messages - m0.messages) / elapsed.Seconds()
	r.Commands = lat.summary()
	r.Commands.HubP50 = quantileBound(m0.buckets, m1.buckets, 0.50)
	r.Commands.HubP99 = quantileBound(m0.buckets, m1.buckets, 0.99)
	return r, ctx.Err() // interrupted: the figures cover the time it ran
}

func (g *Generator) stopAgents() {
	var wg sync.WaitGroup
	sem := make(chan struct{}, 64)
	for _, a := range g.agents {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			a.stop()
		}()
	}
	wg.Wait()
	g.agents = nil
}

// meters publishes each metering room's levels at MeterRate, the rooms spread over the period.
func (g *Generator) meters(ctx context.Context) {
	if g.cfg.MeterRooms == 0 || g.cfg.MeterRate == 0 {
		return
	}
	period := time.Duration(float64(time.Second) / g.cfg.MeterRate)
	var wg sync.WaitGroup
	for i := range g.cfg.MeterRooms {
		a := g.agents[i]
		wg.Add(1)
		go func() {
			defer wg.Done()
			select {
			case <-ctx.Done():
				return
			case <-time.After(period * time.Duration(i) / time.Duration(g.cfg.MeterRooms)):
			}
			t := time.NewTicker(period)
			defer t.Stop()
			for {
				if a.connected.Load() {
					a.meter()
				}
				select {
				case <-ctx.Done():
					return
				case <-t.C:
				}
			}
		}()
	}
	wg.Wait()
}

// stateChanges changes a random device's state StateRate times a second.
func (g *Generator) stateChanges(ctx context.Context) {
	if g.cfg.StateRate == 0 {
		return
	}
	pace(ctx, g.cfg.StateRate, func(time.Time) {
		if a := g.agents[rand.IntN(len(g.agents))]; a.connected.Load() {
			a.changeState()
		}
	})
}

// pace calls f at rate per second until ctx ends, with the time each call was due; it catches
// up after a stall instead of skipping calls.
func pace(ctx context.Context, rate float64, f func(due time.Time)) {
	interval := time.Duration(float64(time.Second) / rate)
	tick := min(interval, 5*time.Millisecond)
	t := time.NewTicker(max(tick, time.Millisecond))
	defer t.Stop()
	start := time.Now()
	n := 0
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			for due := start.Add(time.Duration(n) * interval); !due.After(now); due = start.Add(time.Duration(n) * interval) {
				f(due)
				n++
			}
		}
	}
}

// errorCounts counts errors by kind.
type errorCounts struct {
	mu sync.Mutex
	m  map[string]int64
}

func (e *errorCounts) add(kind string) {
	e.mu.Lock()
	if e.m == nil {
		e.m = map[string]int64{}
	}
	e.m[kind]++
	e.mu.Unlock()
}

func (e *errorCounts) snapshot() map[string]int64 {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make(map[string]int64, len(e.m))
	for k, v := range e.m {
		out[k] = v
	}
	return out
}

// Report is what a run measured.
type Report struct {
	Agents       int     `json:"agents"`
	Devices      int     `json:"devices_per_agent"`
	MeterRooms   int     `json:"meter_rooms"`
	CommandRate  float64 `json:"command_rate"`
	StateRate    float64 `json:"state_rate"`
	Broker       string  `json:"broker"`
	AgentsOnline int     `json:"agents_online"`

	ConnectStorm time.Duration `json:"connect_storm_ns"` // all agents online and their states seen
	StormCPU     float64       `json:"storm_cpu_percent"`
	Steady       time.Duration `json:"steady_ns"`
	SteadyCPU    float64       `json:"steady_cpu_percent"`  // hub CPU, % of one core
	HubRSS       int64         `json:"hub_rss_bytes"`       // at the end
	HubPeakRSS   int64         `json:"hub_peak_rss_bytes"`  // highest the kernel saw (VmHWM)
	LoadgenCPU   float64       `json:"loadgen_cpu_percent"` // the generator's own CPU (same machine)
	hubPID       int

	StatesSent   float64 `json:"states_sent_per_s"`   // state messages the agents published
	StatesSeen   float64 `json:"states_seen_per_s"`   // state messages the hub took in
	MessagesSeen float64 `json:"messages_seen_per_s"` // all agent messages the hub took in

	Commands CommandStats     `json:"commands"`
	Errors   map[string]int64 `json:"errors"`
}

// HubPID is the process measured as the hub.
func (r *Report) HubPID() int { return r.hubPID }

// ErrorCount is the sum of every error kind.
func (r *Report) ErrorCount() int64 {
	var n int64
	for _, v := range r.Errors {
		n += v
	}
	return n
}

// String renders the report for people.
func (r *Report) String() string {
	var b strings.Builder
	mib := func(v int64) string { return fmt.Sprintf("%.0f MiB", float64(v)/(1<<20)) }
	fmt.Fprintf(&b, "agents %d × %d devices, %d metering rooms, %.0f commands/s, %.0f state changes/s, broker %s\n",
		r.Agents, r.Devices, r.MeterRooms, r.CommandRate, r.StateRate, r.Broker)
	fmt.Fprintf(&b, "connect storm   %v for %d agents online (and their states) at the hub; hub CPU %.0f%%\n",
		r.ConnectStorm.Round(time.Millisecond), r.AgentsOnline, r.StormCPU)
	c := r.Commands
	fmt.Fprintf(&b, "commands        %d sent, %d ok, %d failed; latency p50 %v p99 %v max %v; %.1f/s acked\n",
		c.Sent, c.OK, c.Failed, c.P50.Round(10*time.Microsecond), c.P99.Round(10*time.Microsecond), c.Max.Round(10*time.Microsecond), c.Rate)
	if c.HubP99 != 0 {
		fmt.Fprintf(&b, "                hub's router (publish → ack): p50 ≤ %v, p99 ≤ %v (-1: beyond its last bucket)\n", c.HubP50, c.HubP99)
	}
	fmt.Fprintf(&b, "state updates   %.0f/s sent by agents, %.0f/s taken in by the hub (all agent messages: %.0f/s)\n",
		r.StatesSent, r.StatesSeen, r.MessagesSeen)
	if r.HubPeakRSS > 0 {
		fmt.Fprintf(&b, "hub             CPU %.0f%% of one core over %v; RSS %s now, %s peak\n",
			r.SteadyCPU, r.Steady.Round(time.Second), mib(r.HubRSS), mib(r.HubPeakRSS))
	}
	if r.LoadgenCPU > 0 {
		fmt.Fprintf(&b, "loadgen         CPU %.0f%% of one core (its agents and clients share the machine)\n", r.LoadgenCPU)
	}
	if len(r.Errors) == 0 {
		b.WriteString("errors          none\n")
	} else {
		kinds := make([]string, 0, len(r.Errors))
		for k := range r.Errors {
			kinds = append(kinds, k)
		}
		sort.Strings(kinds)
		b.WriteString("errors         ")
		for _, k := range kinds {
			fmt.Fprintf(&b, " %s=%d", k, r.Errors[k])
		}
		b.WriteString("\n")
	}
	return b.String()
}
