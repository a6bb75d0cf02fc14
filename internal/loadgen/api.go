package loadgen

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

func (g *Generator) login(ctx context.Context) error {
	body, _ := json.Marshal(map[string]string{"user": g.cfg.Creds.APIUser, "password": g.cfg.Creds.APIPassword})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, g.cfg.HubURL+"/api/v1/login", bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("loadgen: login: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := g.http.Do(req)
	if err != nil {
		return fmt.Errorf("loadgen: login: %w", err)
	}
	defer resp.Body.Close()
	var out struct {
		Token string `json:"token"`
	}
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return fmt.Errorf("loadgen: login as %s: %s: %s", g.cfg.Creds.APIUser, resp.Status, bytes.TrimSpace(b))
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || out.Token == "" {
		return fmt.Errorf("loadgen: login: no token in the answer (%v)", err)
	}
	g.token = out.Token
	return nil
}

// hubMetrics are the figures of the hub's /metrics the generator follows.
type hubMetrics struct {
	online   float64 // bailiff_agents_online
	states   float64 // bailiff_device_states_received_total
	messages float64 // bailiff_mqtt_messages_received_total
	// the hub's own command latency (router: publish → ack): bucket upper bound → count
	buckets map[float64]float64
}

func (g *Generator) scrape(ctx context.Context) (hubMetrics, error) {
	var m hubMetrics
	resp, err := g.get(ctx, "/metrics", false)
	if err != nil {
		return m, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return m, err
	}
	vals, err := ParseMetrics(bytes.NewReader(body))
	if err != nil {
		return m, err
	}
	m.buckets = histogram(body, "bailiff_command_duration_seconds_bucket")
	m.online = vals["bailiff_agents_online"]
	m.states = vals["bailiff_device_states_received_total"]
	m.messages = vals["bailiff_mqtt_messages_received_total"]
	return m, nil
}

// ParseMetrics reads Prometheus' text format and sums each metric's samples over its labels:
// name → value. Histograms come out as name_bucket, name_sum and name_count.
func ParseMetrics(r io.Reader) (map[string]float64, error) {
	out := map[string]float64{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		name, rest := line, ""
		if i := strings.IndexAny(line, "{ "); i >= 0 {
			name, rest = line[:i], line[i:]
		}
		if strings.HasPrefix(rest, "{") {
			j := strings.LastIndexByte(rest, '}')
			if j < 0 {
				return nil, fmt.Errorf("metrics: unterminated labels in %q", line)
			}
			rest = rest[j+1:]
		}
		f := strings.Fields(rest)
		if len(f) == 0 {
			return nil, fmt.Errorf("metrics: no value in %q", line)
		}
		v, err := strconv.ParseFloat(f[0], 64)
		if err != nil {
			return nil, fmt.Errorf("metrics: value of %q: %w", line, err)
		}
		out[name] += v
	}
	return out, sc.Err()
}

// histogram sums the buckets of one histogram over every label but le: le → count.
func histogram(text []byte, bucket string) map[float64]float64 {
	out := map[float64]float64{}
	for _, line := range strings.Split(string(text), "\n") {
		if !strings.HasPrefix(line, bucket+"{") {
			continue
		}
		_, rest, _ := strings.Cut(line, `le="`)
		le, rest, ok := strings.Cut(rest, `"`)
		f := strings.Fields(rest[strings.LastIndexByte(rest, '}')+1:])
		if !ok || len(f) == 0 {
			continue
		}
		b, err1 := strconv.ParseFloat(le, 64)
		v, err2 := strconv.ParseFloat(f[0], 64)
		if err1 == nil && err2 == nil {
			out[b] += v
		}
	}
	return out
}

// quantileBound is the upper bound of the bucket that holds quantile q of the observations
// that came between two scrapes of a cumulative histogram.
func quantileBound(before, after map[float64]float64, q float64) time.Duration {
	les := make([]float64, 0, len(after))
	for le := range after {
		les = append(les, le)
	}
	slices.Sort(les)
	if len(les) == 0 {
		return 0
	}
	total := after[les[len(les)-1]] - before[les[len(les)-1]]
	if total <= 0 {
		return 0
	}
	for _, le := range les {
		if after[le]-before[le] >= q*total {
			if math.IsInf(le, 1) {
				return -1
			}
			return time.Duration(le * float64(time.Second))
		}
	}
	return -1
}

// CommandStats summarises the API commands of a run. Latency is from when a command was due
// (not when a client got round to sending it) to the HTTP answer carrying the agent's ack.
type CommandStats struct {
	Sent   int           `json:"sent"`
	OK     int           `json:"ok"`
	Failed int           `json:"failed"`
	Rate   float64       `json:"acked_per_s"`
	P50    time.Duration `json:"p50_ns"`
	P99    time.Duration `json:"p99_ns"`
	Max    time.Duration `json:"max_ns"`
	// The hub's own view, from its histogram: the upper bound of the bucket holding its p50
	// and p99 of publish → ack (-1: beyond the last bucket). The difference to P50 and P99 is
	// the time spent in HTTP, the API (token, checks, audit log) and the client.
	HubP50 time.Duration `json:"hub_router_p50_bound_ns"`
	HubP99 time.Duration `json:"hub_router_p99_bound_ns"`
}

type latencies struct {
	mu       sync.Mutex
	ok       []time.Duration
	sent     int
	failed   int
	start    time.Time
	finished time.Time
}

func (l *latencies) summary() CommandStats {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := CommandStats{Sent: l.sent, OK: len(l.ok), Failed: l.failed}
	if len(l.ok) == 0 {
		return s
	}
	slices.Sort(l.ok)
	q := func(p float64) time.Duration { return l.ok[min(int(p*float64(len(l.ok))), len(l.ok)-1)] }
	s.P50, s.P99, s.Max = q(0.50), q(0.99), l.ok[len(l.ok)-1]
	if d := l.finished.Sub(l.start).Seconds(); d > 0 {
		s.Rate = float64(len(l.ok)) / d
	}
	return s
}

// commands sends CommandRate commands a second until ctx ends, from APIClients clients, and
// waits for the answers of all that were due.
func (g *Generator) commands(ctx context.Context) *latencies {
	l := &latencies{start: time.Now()}
	if g.cfg.CommandRate == 0 {
		l.finished = time.Now()
		return l
	}
	due := make(chan time.Time, 1<<16)
	var wg sync.WaitGroup
	for range g.cfg.APIClients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for d := range due {
				g.command(d, l)
			}
		}()
	}
	pace(ctx, g.cfg.CommandRate, func(d time.Time) {
		select {
		case due <- d:
		default:
			g.errs.add("client_backlog_full")
		}
	})
	close(due)
	wg.Wait()
	l.finished = time.Now()
	return l
}

// get GETs path from the hub (with the generator's token when authed) and answers an error
// for any status but 200.
func (g *Generator) get(ctx context.Context, path string, authed bool) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, g.cfg.HubURL+path, nil)
	if err != nil {
		return nil, err
	}
	if authed {
		req.Header.Set("Authorization", "Bearer "+g.token)
	}
	resp, err := g.http.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		return nil, fmt.Errorf("GET %s: %s", path, resp.Status)
	}
	return resp, nil
}

// allDevicesKnown: the hub's rooms (GET /api/v1/rooms) hold every device of every simulated
// agent with a state, so that a command to any of them finds it.
func (g *Generator) allDevicesKnown(ctx context.Context) (bool, error) {
	resp, err := g.get(ctx, "/api/v1/rooms", true)
	if err != nil {
		return false, err
	}
	defer resp.Body.Close()
	var rooms []struct {
		Site, Room string
		Devices    []struct {
			ID    string
			State map[string]any
		}
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 256<<20)).Decode(&rooms); err != nil {
		return false, fmt.Errorf("GET /api/v1/rooms: %w", err)
	}
	known := map[string]bool{}
	for _, rm := range rooms {
		for _, d := range rm.Devices {
			if d.State != nil {
				known[rm.Site+"/"+rm.Room+"/"+d.ID] = true
			}
		}
	}
	for _, a := range g.agents {
		for _, d := range a.devices {
			if !known[a.site+"/"+a.room+"/"+d] {
				return false, nil
			}
		}
	}
	return true, nil
}

// command sends one power command to a random device of a random agent.
func (g *Generator) command(due time.Time, l *latencies) {
	a := g.agents[rand.IntN(len(g.agents))]
	dev := a.devices[rand.IntN(len(a.devices))]
	body := fmt.Appendf(nil, `{"action":"power","args":{"on":%t}}`, rand.IntN(2) == 0)
	url := fmt.Sprintf("%s/api/v1/rooms/%s/%s/devices/%s/commands", g.cfg.HubURL, a.site, a.room, dev)
	req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+g.token)
	req.Header.Set("Content-Type", "application/json")
	l.mu.Lock()
	l.sent++
	l.mu.Unlock()
	resp, err := g.http.Do(req)
	if err != nil {
		g.errs.add("http_transport")
		l.mu.Lock()
		l.failed++
		l.mu.Unlock()
		return
	}
	var out struct {
		OK    bool `json:"ok"`
		Error struct {
			Code string `json:"code"`
		} `json:"error"`
	}
	err = json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&out)
	resp.Body.Close()
	took := time.Since(due)
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case err != nil:
		g.errs.add(fmt.Sprintf("http_%d_bad_body", resp.StatusCode))
		l.failed++
	case resp.StatusCode != http.StatusOK || !out.OK:
		g.errs.add(fmt.Sprintf("http_%d_%s", resp.StatusCode, out.Error.Code))
		l.failed++
	default:
		l.ok = append(l.ok, took)
	}
}
