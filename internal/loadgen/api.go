package loadgen

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
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
}

func (g *Generator) scrape(ctx context.Context) (hubMetrics, error) {
	var m hubMetrics
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, g.cfg.HubURL+"/metrics", nil)
	if err != nil {
		return m, err
	}
	resp, err := g.http.Do(req)
	if err != nil {
		return m, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return m, fmt.Errorf("GET /metrics: %s", resp.Status)
	}
	vals, err := ParseMetrics(resp.Body)
	if err != nil {
		return m, err
	}
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
