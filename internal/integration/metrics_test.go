package integration

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/bailiff/bailiff/internal/loadgen"
	"github.com/bailiff/bailiff/internal/testutil"
	"github.com/bailiff/bailiff/media/sfu/sfutest"
)

// scrape reads the hub's real /metrics endpoint: metric name → value summed over its labels.
func (e *env) scrape() map[string]float64 {
	e.t.Helper()
	resp, err := http.Get(e.url("/metrics"))
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		e.t.Fatalf("GET /metrics: %s", resp.Status)
	}
	m, err := loadgen.ParseMetrics(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return m
}

// waitMetric waits until the named metric satisfies cond.
func (e *env) waitMetric(name string, d time.Duration, cond func(float64) bool) {
	e.t.Helper()
	var last float64
	deadline := time.Now().Add(d)
	for {
		if last = e.scrape()[name]; cond(last) {
			return
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("%s stayed at %v", name, last)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Every metric an operator watches moves when the thing it counts happens: agents, devices,
// commands, state messages, RTP in and out, viewers, recordings and their bytes and errors.
func TestMetricsMove(t *testing.T) {
	clips := sfutest.Load(t, sfutest.Small)
	e := newEnv(t, 1, false)
	judge, tech := e.login("judge"), e.login("tech")
	gt := func(v float64) func(float64) bool { return func(x float64) bool { return x > v } }
	eq := func(v float64) func(float64) bool { return func(x float64) bool { return x == v } }

	// Agents and devices.
	e.waitMetric("bailiff_agents_online", 10*time.Second, eq(1))
	e.waitMetric("bailiff_devices_unreachable", 10*time.Second, eq(0))
	m0 := e.scrape()
	if m0["bailiff_device_states_received_total"] < 2 {
		t.Errorf("states received %v: the room's two devices published theirs", m0["bailiff_device_states_received_total"])
	}
	e.sims["r1/display"].Close()
	e.waitMetric("bailiff_devices_unreachable", 10*time.Second, eq(1))

	// A command: the latency histogram counts it, and its state change is a state message.
	if st, body := e.command(judge, "r1", "projector", "power", map[string]any{"on": true}); st != 200 {
		t.Fatalf("command: %d %v", st, body)
	}
	m1 := e.scrape()
	if m1["bailiff_command_duration_seconds_count"] != m0["bailiff_command_duration_seconds_count"]+1 {
		t.Errorf("command histogram count %v → %v", m0["bailiff_command_duration_seconds_count"], m1["bailiff_command_duration_seconds_count"])
	}
	if m1["bailiff_command_duration_seconds_sum"] <= m0["bailiff_command_duration_seconds_sum"] {
		t.Error("command histogram sum did not grow")
	}
	e.waitMetric("bailiff_device_states_received_total", 5*time.Second, gt(m0["bailiff_device_states_received_total"]))

	// Media: a publisher, a recording, a viewer.
	for _, n := range []string{"bailiff_rtp_packets_received_total", "bailiff_rtp_packets_forwarded_total", "bailiff_viewers",
		"bailiff_viewers_fast_path", "bailiff_publishers", "bailiff_recording_bytes_total", "bailiff_recordings_active", "bailiff_recording_errors_total"} {
		if v, ok := m1[n]; !ok || v != 0 {
			t.Errorf("%s = %v (present %v) before any media", n, v, ok)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	api, err := sfutest.NewAPI(true)
	if err != nil {
		t.Fatal(err)
	}
	st, rec := e.call("POST", "/api/v1/recordings", judge, map[string]string{"site": site, "room": "r1"})
	recID, _ := rec["id"].(string)
	if st != 201 {
		t.Fatalf("start recording: %d %v", st, rec)
	}
	e.waitMetric("bailiff_recordings_active", time.Second, eq(1))
	pub, err := sfutest.NewPublisher(api, "video/VP8")
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	offer, _ := pub.Offer(ctx)
	st, answer, _ := e.whipPost("/whip/court/r1/program", tech, offer)
	if st != 201 {
		t.Fatalf("publish: %d %q", st, answer)
	}
	pub.SetAnswer(answer)
	go pub.Run(ctx, clips.VP8, clips.Opus)
	e.waitMetric("bailiff_publishers", 10*time.Second, eq(1))
	e.waitMetric("bailiff_rtp_packets_received_total", 10*time.Second, gt(20))
	e.waitMetric("bailiff_rtp_bytes_received_total", time.Second, gt(1000))
	e.waitMetric("bailiff_recording_bytes_total", 10*time.Second, gt(1000))
	if f := e.scrape()["bailiff_rtp_packets_forwarded_total"]; f != 0 {
		t.Errorf("%v packets forwarded with no viewer", f)
	}

	v, err := sfutest.NewViewer(api, sfutest.ViewerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	voffer, _ := v.Offer(ctx)
	st, vanswer, _ := e.whipPost("/whep/court/r1/program", judge, voffer)
	if st != 201 {
		t.Fatalf("view: %d %q", st, vanswer)
	}
	v.SetAnswer(vanswer)
	e.waitMetric("bailiff_viewers", 10*time.Second, eq(1))
	testutil.Eventually(t, 15*time.Second, "packets reach the viewer", func() bool { return v.Packets("video") > 20 })
	e.waitMetric("bailiff_viewers_fast_path", time.Second, eq(1))
	m2 := e.scrape()
	if m2["bailiff_rtp_packets_forwarded_total"] < float64(v.Packets("video")) || m2["bailiff_rtp_bytes_forwarded_total"] < 1000 {
		t.Errorf("forwarded %v packets, %v bytes; the viewer got %d video packets", m2["bailiff_rtp_packets_forwarded_total"],
			m2["bailiff_rtp_bytes_forwarded_total"], v.Packets("video"))
	}
	v.Close()
	e.waitMetric("bailiff_viewers", 10*time.Second, eq(0))
	if st, body := e.call("POST", "/api/v1/recordings/"+recID+"/stop", judge, nil); st != 200 {
		t.Fatalf("stop recording: %d %v", st, body)
	}
	e.waitMetric("bailiff_recordings_active", time.Second, eq(0))
	// Counters never go back when the things they counted end.
	m3 := e.scrape()
	for _, n := range []string{"bailiff_rtp_packets_received_total", "bailiff_rtp_packets_forwarded_total", "bailiff_recording_bytes_total"} {
		if m3[n] < m2[n] {
			t.Errorf("%s went back: %v → %v", n, m2[n], m3[n])
		}
	}

	// A recording that cannot start (its directory cannot be made) is a recording error.
	roomDir := filepath.Join(e.dir, "data", "recordings", site, "r1")
	os.RemoveAll(roomDir)
	if err := os.WriteFile(roomDir, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if st, body := e.call("POST", "/api/v1/recordings", judge, map[string]string{"site": site, "room": "r1"}); st < 500 {
		t.Fatalf("recording into a file: %d %v", st, body)
	}
	e.waitMetric("bailiff_recording_errors_total", time.Second, eq(1))

	// The agent leaves: agents online falls, and its devices count as unreachable.
	e.stopAgent("r1")
	e.waitMetric("bailiff_agents_online", 10*time.Second, eq(0))
	e.waitMetric("bailiff_devices_unreachable", time.Second, eq(2))
}
