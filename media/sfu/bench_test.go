package sfu

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/bailiff/bailiff/media/sfu/sfutest"
	"github.com/pion/ice/v4"
	"github.com/pion/rtp"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"
)

// The forwarding benchmark: one publisher sends ≈2.5 Mb/s of H.264 (720p,
// 30 fps) and 64 kb/s of Opus to N viewers on loopback. The viewers run
// in a child process (this test binary again, TestViewerFarm), so the
// CPU the benchmark reports for the hub is the hub's (and the one
// publisher's), not the receivers'. Reported per N:
//
//	hub-cores     CPU of this process (hub + publisher) in cores
//	cpu%/viewer   hub-cores / N, in % of one core
//	farm-cores    CPU of the viewers' process
//	loss%         packets sent in the window that a viewer never read
//	p50-ms p90-ms p99-ms max-ms  publisher write → viewer read, every packet of every viewer
//	audio-p99-ms  the same for the audio packets alone
//	wire-p50-ms wire-p99-ms wire-max-ms wire-audio-p99-ms wire-loss%
//	              publisher write → the kernel's receipt at the viewer's
//	              socket (SO_TIMESTAMPNS): what the hub added, without the
//	              viewers' own scheduling
//	Mbps          the publisher's payload rate
//	floor-µs      before the run, what a datagram to 300 receivers costs this
//	              machine now (fanoutFloor, as BenchmarkFanoutFloor): its speed
//	              drifts by up to 2× from hour to hour, and this tells a slow
//	              machine from a slow hub
//
// Run: go test -run '^$' -bench BenchmarkForward -benchtime 1x ./media/sfu/
// SFU_BENCH_VIEWERS (default "10,50,100,300") and SFU_BENCH_SECONDS
// (default 5) change the sizes and the measuring window; SFU_BENCH_PACE=2.5
// makes the publisher pace its video like a browser (default: each frame
// in one burst, as a forwarded camera stream comes). SFU_BENCH_BATCH sets
// Options.WriteBatch (1: a sendto per packet, as before batching). The
// viewers' process runs at nice 19, standing for other machines, so the
// hub has the CPU first; SFU_BENCH_FARM_NICE=0 runs it at equal priority.
// SFU_BENCH_LIGHT=1 makes the viewers drop RTP at their sockets once the
// kernel's receive time is noted (ICE, DTLS, RTCP still go through): they
// cost next to nothing, only the wire-* figures are reported, and the hub
// has the 2 cores as it would with its viewers on other machines.

var benchSpec = sfutest.Spec{Size: "1280x720", FPS: 30, Seconds: 6, VideoBitrate: "2500k", AudioBitrate: "64k", Noise: 12}

var benchKey = Key{Site: "bench", Room: "room", Name: "cam"}

func benchEnvInts(name string, def []int) []int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	var out []int
	for _, f := range strings.Split(v, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err == nil && n > 0 {
			out = append(out, n)
		}
	}
	return out
}

func BenchmarkForward(b *testing.B) {
	for _, n := range benchEnvInts("SFU_BENCH_VIEWERS", []int{10, 50, 100, 300}) {
		b.Run("viewers="+strconv.Itoa(n), func(b *testing.B) {
			for range b.N {
				benchForward(b, n, false)
			}
		})
	}
}

// BenchmarkReplicaHop is BenchmarkForward with the viewers on a replica SFU that pulls the
// stream from the origin SFU the publisher sends to (both in this process, the pull's
// signalling a function call instead of HTTP): "direct" is the same publisher with its
// viewers on the origin, for comparison. The difference between the two is what the hop adds.
//
// Run: SFU_BENCH_VIEWERS=10,100 go test -run '^$' -bench BenchmarkReplicaHop -benchtime 1x ./media/sfu/
func BenchmarkReplicaHop(b *testing.B) {
	for _, n := range benchEnvInts("SFU_BENCH_VIEWERS", []int{10, 100}) {
		for _, hop := range []bool{false, true} {
			name := "direct"
			if hop {
				name = "hop"
			}
			b.Run(name+"/viewers="+strconv.Itoa(n), func(b *testing.B) {
				for range b.N {
					benchForward(b, n, hop)
				}
			})
		}
	}
}

// localUpstream pulls from an SFU of the same process (benchmarks).
type localUpstream struct{ origin *SFU }

func (u localUpstream) Origin(Key) string { return "local" }

func (u localUpstream) Exchange(ctx context.Context, k Key, offer string) (string, func(), error) {
	sess, answer, err := u.origin.View(ctx, k, offer)
	if err != nil {
		return "", nil, err
	}
	return answer, func() { _ = sess.Close() }, nil
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func benchForward(b *testing.B, n int, hop bool) {
	seconds := benchEnvInts("SFU_BENCH_SECONDS", []int{5})[0]
	clips := sfutest.Load(b, benchSpec)
	floor := fanoutFloor(b, 300, 60000, nil, nil)
	o := testOptions()
	o.MaxViewers = n + 10
	o.WriteBatch = benchEnvInts("SFU_BENCH_BATCH", []int{DefaultWriteBatch})[0]
	o.WriteWorkers = benchEnvInts("SFU_BENCH_WRITERS", []int{0})[0]
	s := newTestSFU(b, o)
	views := s // where the viewers are
	if hop {
		ro := o
		ro.Upstream = localUpstream{s}
		views = newTestSFU(b, ro)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		offer, _ := io.ReadAll(io.LimitReader(r.Body, MaxSDP))
		_, answer, err := views.View(r.Context(), benchKey, string(offer))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		_, _ = io.WriteString(w, answer)
	}))
	defer srv.Close()

	// The publisher notes when it writes each packet.
	var sendAt [2][65536]atomic.Int64
	var payload atomic.Int64
	p, err := sfutest.NewPublisher(clientAPI(b, false), webrtc.MimeTypeH264)
	if err != nil {
		b.Fatal(err)
	}
	if v := os.Getenv("SFU_BENCH_PACE"); v != "" {
		p.Pace, _ = strconv.ParseFloat(v, 64)
	}
	p.OnSend = func(kind string, pkt *rtp.Packet) {
		k := 0
		if kind == "video" {
			k = 1
		}
		payload.Add(int64(len(pkt.Payload)))
		sendAt[k][pkt.SequenceNumber].Store(time.Now().UnixNano())
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	offer, err := p.Offer(ctx)
	if err != nil {
		b.Fatal(err)
	}
	ps, answer, err := s.Publish(ctx, benchKey, offer)
	if err != nil {
		b.Fatal(err)
	}
	if err := p.SetAnswer(answer); err != nil {
		b.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); p.Run(ctx, clips.H264, clips.Opus) }()
	defer func() { cancel(); wg.Wait(); _ = p.Close() }()
	if !sfutest.WaitFor(10*time.Second, func() bool { return len(ps.Stream().Tracks()) == 2 }) {
		b.Fatal("the publisher's tracks did not arrive")
	}

	out := filepath.Join(b.TempDir(), "farm.bin")
	// The viewers stand for other machines: at the lowest priority by
	// default, so the hub has the CPU first (SFU_BENCH_FARM_NICE=0: equal).
	args := []string{os.Args[0], "-test.run=^TestViewerFarm$", "-test.count=1"}
	nice := "19"
	if v, ok := os.LookupEnv("SFU_BENCH_FARM_NICE"); ok {
		nice = v
	}
	switch nice {
	case "0":
	case "idle": // SCHED_IDLE: only when nothing else wants the CPU
		args = append([]string{"chrt", "--idle", "0"}, args...)
	default:
		args = append([]string{"nice", "-n", nice}, args...)
	}
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Env = append(os.Environ(), "SFU_FARM_URL="+srv.URL, "SFU_FARM_N="+strconv.Itoa(n),
		"SFU_FARM_SECONDS="+strconv.Itoa(seconds), "SFU_FARM_OUT="+out)
	light := os.Getenv("SFU_BENCH_LIGHT") != ""
	if light {
		cmd.Env = append(cmd.Env, "SFU_FARM_LIGHT=1")
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	lines := bufio.NewScanner(stdout)
	var t0, t1 int64
	var farmCPU time.Duration
	var hubCPU time.Duration
	var p0 int64
	for lines.Scan() {
		f := strings.Fields(lines.Text())
		switch {
		case len(f) == 2 && f[0] == "FARM-START":
			t0, _ = strconv.ParseInt(f[1], 10, 64)
			hubCPU = -cpuTime()
			p0 = payload.Load()
		case len(f) == 4 && f[0] == "FARM-END":
			hubCPU += cpuTime()
			t1, _ = strconv.ParseInt(f[1], 10, 64)
			ns, _ := strconv.ParseInt(f[2], 10, 64)
			farmCPU = time.Duration(ns)
		default: // the farm's own output, its failure's reason included
			fmt.Fprintln(os.Stderr, "viewer farm:", lines.Text())
		}
	}
	if err := cmd.Wait(); err != nil {
		b.Fatalf("viewer farm: %v", err)
	}
	if t1 == 0 {
		b.Fatal("the viewer farm reported no window")
	}
	window := time.Duration(t1 - t0)
	mbps := float64(payload.Load()-p0) * 8 / window.Seconds() / 1e6

	// Every packet written inside the window (with 300 ms of margin) must
	// reach every viewer.
	lo, hi := t0+int64(300*time.Millisecond), t1-int64(300*time.Millisecond)
	var sentIn [2][65536]bool
	expected := 0
	for k := range 2 {
		for seq := range 65536 {
			if ts := sendAt[k][seq].Load(); ts >= lo && ts <= hi {
				sentIn[k][seq] = true
				expected++
			}
		}
	}
	f, err := os.Open(out)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	r := bufio.NewReader(f)
	var rec [11]byte
	var lat, audioLat, wireLat, wireAudioLat []int64
	received := 0
	for {
		if _, err := io.ReadFull(r, rec[:]); err != nil {
			break
		}
		k, seq, at := int(rec[0]), binary.LittleEndian.Uint16(rec[1:]), int64(binary.LittleEndian.Uint64(rec[3:]))
		if k > 3 {
			continue
		}
		if k >= 2 { // as the kernel received it
			if sentIn[k-2][seq] {
				wireLat = append(wireLat, at-sendAt[k-2][seq].Load())
				if k == 2 {
					wireAudioLat = append(wireAudioLat, at-sendAt[0][seq].Load())
				}
			}
			continue
		}
		if sentIn[k][seq] {
			received++
			lat = append(lat, at-sendAt[k][seq].Load())
			if k == 0 {
				audioLat = append(audioLat, at-sendAt[k][seq].Load())
			}
		}
	}
	slices.Sort(lat)
	slices.Sort(audioLat)
	slices.Sort(wireLat)
	slices.Sort(wireAudioLat)
	pctOf := func(lat []int64, q float64) float64 {
		if len(lat) == 0 {
			return 0
		}
		return float64(lat[int(q*float64(len(lat)-1))]) / 1e6
	}
	pct := func(q float64) float64 { return pctOf(lat, q) }
	loss := 100 * (1 - float64(received)/float64(expected*n))
	hubCores := hubCPU.Seconds() / window.Seconds()
	b.ReportMetric(hubCores, "hub-cores")
	b.ReportMetric(100*hubCores/float64(n), "cpu%/viewer")
	b.ReportMetric(farmCPU.Seconds()/window.Seconds(), "farm-cores")
	if !light { // light viewers read nothing: only the wire figures
		b.ReportMetric(loss, "loss%")
		b.ReportMetric(pct(0.5), "p50-ms")
		b.ReportMetric(pct(0.9), "p90-ms")
		b.ReportMetric(pct(0.99), "p99-ms")
		b.ReportMetric(pct(1), "max-ms")
		b.ReportMetric(pctOf(audioLat, 0.99), "audio-p99-ms")
	}
	b.ReportMetric(pctOf(wireLat, 0.9), "wire-p90-ms")
	b.ReportMetric(pctOf(wireLat, 0.5), "wire-p50-ms")
	b.ReportMetric(pctOf(wireLat, 0.99), "wire-p99-ms")
	b.ReportMetric(pctOf(wireLat, 1), "wire-max-ms")
	b.ReportMetric(pctOf(wireAudioLat, 0.99), "wire-audio-p99-ms")
	b.ReportMetric(100*(1-float64(len(wireLat))/float64(expected*n)), "wire-loss%")
	b.ReportMetric(mbps, "Mbps")
	b.ReportMetric(floor, "floor-µs")
	var dropped int64
	views.mu.Lock()
	for sess := range views.sessions {
		dropped += sess.Stats().Dropped
	}
	views.mu.Unlock()
	b.ReportMetric(float64(dropped), "queue-drops")
}

// farmConnect bounds the time the farm's viewers take to connect.
const farmConnect = 2 * time.Minute

// TestViewerFarm is the benchmark's child process: N WHEP-like viewers
// (offer POSTed to SFU_FARM_URL) that note when each packet arrives.
// It does nothing unless SFU_FARM_URL is set.
func TestViewerFarm(t *testing.T) {
	url := os.Getenv("SFU_FARM_URL")
	if url == "" {
		t.Skip("the viewer farm of BenchmarkForward")
	}
	n, _ := strconv.Atoi(os.Getenv("SFU_FARM_N"))
	seconds, _ := strconv.Atoi(os.Getenv("SFU_FARM_SECONDS"))
	type sample struct {
		kind byte
		seq  uint16
		at   int64
	}
	var recording atomic.Bool
	// logs[i][k]: viewer i's packets as read (k 0 audio, 1 video) and as
	// the kernel received them (k 2: by payload type, sorted out below).
	logs := make([][3][]sample, n)
	locks := make([][3]sync.Mutex, n)
	viewers := make([]*sfutest.Viewer, n)
	// Light viewers drop RTP at their socket once stamped (the wire figures only), so their
	// process costs next to nothing and the hub has the machine.
	light := os.Getenv("SFU_FARM_LIGHT") != ""
	// Light viewers' sockets are drained every 5 ms rather than read as
	// packets come: on loopback, waking a reader is work done in the
	// sending hub's system call, which viewers elsewhere would not cost it.
	poller := sfutest.NewPoller(5 * time.Millisecond)
	defer poller.Close()
	stamped := make([]atomic.Int64, n)
	kindOf := make([]map[uint8]byte, n) // payload type → 0 audio, 1 video, from the answer
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
	// Connecting is bounded: a hub that cannot take this many viewers fails the run with the
	// count and the first viewer's reason, rather than holding it for as long as they take.
	ctx, cancel := context.WithTimeout(context.Background(), farmConnect)
	defer cancel()
	var failed atomic.Int32
	var firstErr sync.Once
	var why error
	fail := func(i int, err error) {
		failed.Add(1)
		firstErr.Do(func() { why = fmt.Errorf("viewer %d: %w", i, err) })
	}
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			select {
			case sem <- struct{}{}:
				defer func() { <-sem }()
			case <-ctx.Done():
				fail(i, ctx.Err())
				return
			}
			onRTP := func(pt uint8, seq uint16, at int64) {
				stamped[i].Add(1)
				if recording.Load() {
					locks[i][2].Lock()
					logs[i][2] = append(logs[i][2], sample{pt, seq, at})
					locks[i][2].Unlock()
				}
			}
			var conn net.PacketConn
			if light {
				pc, err := poller.Listen(1 << 20)
				if err != nil {
					fail(i, err)
					return
				}
				pc.OnRTP = onRTP
				conn = pc
			} else {
				sc, err := sfutest.ListenStamped("127.0.0.1:0", 1<<20)
				if err != nil {
					fail(i, err)
					return
				}
				sc.OnRTP = onRTP
				conn = sc
			}
			mux := ice.NewUDPMuxDefault(ice.UDPMuxParams{UDPConn: conn})
			api, err := sfutest.NewAPIWith(false, func(se *webrtc.SettingEngine) { se.SetICEUDPMux(mux) })
			if err != nil {
				fail(i, err)
				return
			}
			v, err := sfutest.NewViewer(api, sfutest.ViewerOptions{OnPacket: func(kind string, p *rtp.Packet) {
				if !recording.Load() {
					return
				}
				k := byte(0)
				if kind == "video" {
					k = 1
				}
				at := time.Now().UnixNano()
				locks[i][k].Lock()
				logs[i][k] = append(logs[i][k], sample{k, p.SequenceNumber, at})
				locks[i][k].Unlock()
			}})
			if err != nil {
				fail(i, err)
				return
			}
			viewers[i] = v
			offer, err := v.Offer(ctx)
			if err != nil {
				fail(i, err)
				return
			}
			req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(offer))
			if err != nil {
				fail(i, err)
				return
			}
			req.Header.Set("Content-Type", "application/sdp")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				fail(i, err)
				return
			}
			answer, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				fail(i, fmt.Errorf("%s: %s", resp.Status, bytes.TrimSpace(answer)))
				return
			}
			if err := v.SetAnswer(string(answer)); err != nil {
				fail(i, err)
				return
			}
			kindOf[i] = payloadKinds(string(answer))
		}()
	}
	wg.Wait()
	if failed.Load() > 0 {
		t.Fatalf("%d of %d viewers failed to connect within %v; the first: %v", failed.Load(), n, farmConnect, why)
	}
	receiving := func() (k int) {
		for i, v := range viewers {
			if stamped[i].Load() > 0 && (light || v.Packets("video") > 0) {
				k++
			}
		}
		return k
	}
	if !sfutest.WaitFor(60*time.Second, func() bool { return receiving() == n }) {
		t.Fatalf("%d of %d viewers receive after a minute", receiving(), n)
	}
	time.Sleep(time.Second) // warm up
	for i := range logs {
		for k := range 3 {
			locks[i][k].Lock()
			logs[i][k] = make([]sample, 0, 400*seconds)
			locks[i][k].Unlock()
		}
	}
	cpu0 := cpuTime()
	t0 := time.Now().UnixNano()
	recording.Store(true)
	fmt.Printf("FARM-START %d\n", t0)
	time.Sleep(time.Duration(seconds) * time.Second)
	recording.Store(false)
	t1 := time.Now().UnixNano()
	cpu := cpuTime() - cpu0
	// Let the last packets' callbacks finish before reading the logs.
	time.Sleep(100 * time.Millisecond)
	f, err := os.Create(os.Getenv("SFU_FARM_OUT"))
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(f)
	var rec [11]byte
	for i := range logs {
		for k := range 3 {
			locks[i][k].Lock()
			samples := logs[i][k]
			locks[i][k].Unlock()
			for _, s := range samples {
				rec[0] = s.kind
				if k == 2 { // kernel receive time: 2 audio, 3 video
					kind, ok := kindOf[i][s.kind]
					if !ok {
						continue
					}
					rec[0] = 2 + kind
				}
				binary.LittleEndian.PutUint16(rec[1:], s.seq)
				binary.LittleEndian.PutUint64(rec[3:], uint64(s.at))
				_, _ = w.Write(rec[:])
			}
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	_ = f.Close()
	fmt.Printf("FARM-END %d %d %d\n", t1, int64(cpu), n)
	for _, v := range viewers {
		_ = v.Close()
	}
}

// payloadKinds maps the payload types of an SDP to 0 (audio) or 1 (video).
func payloadKinds(answer string) map[uint8]byte {
	out := map[uint8]byte{}
	var d sdp.SessionDescription
	if d.Unmarshal([]byte(answer)) != nil {
		return out
	}
	for _, m := range d.MediaDescriptions {
		k := byte(0)
		if m.MediaName.Media == "video" {
			k = 1
		}
		for _, f := range m.MediaName.Formats {
			if pt, err := strconv.Atoi(f); err == nil && pt >= 0 && pt < 128 {
				out[uint8(pt)] = k
			}
		}
	}
	return out
}
