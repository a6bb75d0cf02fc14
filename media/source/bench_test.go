package source

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/pion/rtp"

	"github.com/bailiff/bailiff/media/clips"
	"github.com/bailiff/bailiff/media/rtsp"
	"github.com/bailiff/bailiff/media/sfu/sfutest"
)

// The camera path benchmark: N camera sources in this process each pull ≈2.5 Mb/s of H.264
// (720p, 30 fps) and Opus over RTSP/TCP and publish it over WHIP. The RTSP camera and the hub
// (SFU and WHIP) run in a child process (this test binary again, TestCameraBenchFarm), so the
// CPU reported is the agent's alone. Reported per N:
//
//	agent-cores   CPU of this process in cores
//	cpu%/stream   agent-cores / N, in % of one core
//	Mbps/stream   H.264 and Opus payload read from the camera
//
// Run: go test -run '^$' -bench BenchmarkCameraPath -benchtime 1x ./media/source/
// CAMERA_BENCH_STREAMS (default "1,4") and CAMERA_BENCH_SECONDS (default 5) change the sizes
// and the measuring window.

var cameraBenchSpec = sfutest.Spec{Size: "1280x720", FPS: 30, Seconds: 4, VideoBitrate: "2500k", AudioBitrate: "64k", Noise: 12}

func benchInts(name string, def []int) []int {
	var out []int
	for _, f := range strings.Split(os.Getenv(name), ",") {
		if n, err := strconv.Atoi(strings.TrimSpace(f)); err == nil && n > 0 {
			out = append(out, n)
		}
	}
	if len(out) == 0 {
		return def
	}
	return out
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// TestCameraBenchFarm is the other side of BenchmarkCameraPath: a hub and an RTSP camera
// serving the benchmark's clip, until its standard input closes.
func TestCameraBenchFarm(t *testing.T) {
	if os.Getenv("CAMERA_BENCH_FARM") == "" {
		t.Skip("the hub and camera of BenchmarkCameraPath")
	}
	c := sfutest.Load(t, cameraBenchSpec)
	video := &clips.Clip{Codec: clips.H264, ClockRate: 90000, Frames: c.H264}
	video.SPS, video.PPS = clips.ParameterSets(c.H264)
	video.ProfileLevelID = fmt.Sprintf("%x", video.SPS[1:4])
	audio := &clips.Clip{Codec: clips.Opus, ClockRate: 48000, Channels: 2, Frames: c.Opus}
	h := startHub(t, "127.0.0.1:0")
	cam := rtsp.NewServer(rtsp.ServerOptions{Logger: quiet(), MaxConns: 256})
	if err := cam.AddPath("cam", video, audio); err != nil {
		t.Fatal(err)
	}
	addr, err := cam.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer cam.Close()
	fmt.Printf("FARM %s rtsp://%s/cam\n", h.url(""), addr)
	_, _ = bufio.NewReader(os.Stdin).ReadString('\n') // until the benchmark closes our stdin
}

func BenchmarkCameraPath(b *testing.B) {
	for _, n := range benchInts("CAMERA_BENCH_STREAMS", []int{1, 4}) {
		b.Run(fmt.Sprintf("streams=%d", n), func(b *testing.B) {
			for b.Loop() {
				benchCameraPath(b, n)
			}
		})
	}
}

func benchCameraPath(b *testing.B, n int) {
	seconds := benchInts("CAMERA_BENCH_SECONDS", []int{5})[0]
	cmd := exec.Command(os.Args[0], "-test.run=^TestCameraBenchFarm$", "-test.v")
	cmd.Env = append(os.Environ(), "CAMERA_BENCH_FARM=1")
	cmd.Stderr = os.Stderr
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	defer func() { stdin.Close(); _ = cmd.Wait() }()
	var hubURL, camURL string
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		if f := strings.Fields(sc.Text()); len(f) == 3 && f[0] == "FARM" {
			hubURL, camURL = f[1], f[2]
			break
		}
	}
	if camURL == "" {
		b.Fatal("the farm did not start")
	}
	go func() {
		for sc.Scan() {
		}
	}()
	var bytesIn atomic.Int64
	cams := make([]*Camera, n)
	var stops []func()
	defer func() {
		for _, s := range stops {
			s()
		}
	}()
	for i := range n {
		ep := Endpoint{URL: hubURL + "/whip/court/r1/cam-" + strconv.Itoa(i), Token: token, API: testAPI(b), Logger: quiet()}
		c, err := NewCamera(CameraOptions{RTSP: camURL, Publish: ep, Logger: quiet(),
			OnPacket: func(_ bool, p *rtp.Packet) { bytesIn.Add(int64(len(p.Payload))) }})
		if err != nil {
			b.Fatal(err)
		}
		cams[i] = c
		stops = append(stops, start(c))
	}
	deadline := time.Now().Add(30 * time.Second)
	for _, c := range cams {
		for c.Publisher() == nil || !c.Publisher().Connected() {
			if time.Now().After(deadline) {
				b.Fatal("the cameras did not all publish within 30 s")
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	time.Sleep(time.Second) // warm up
	in0 := bytesIn.Load()
	cpu0, t0 := cpuTime(), time.Now()
	time.Sleep(time.Duration(seconds) * time.Second)
	cpu, wall := cpuTime()-cpu0, time.Since(t0)
	in1 := bytesIn.Load()
	cores := cpu.Seconds() / wall.Seconds()
	b.ReportMetric(cores, "agent-cores")
	b.ReportMetric(100*cores/float64(n), "cpu%/stream")
	b.ReportMetric(float64(in1-in0)*8/wall.Seconds()/1e6/float64(n), "Mbps/stream")
}

// BenchmarkH264Fixer is the per-packet cost of the camera path's rewriting, on the bundled
// clip's packets (parameter sets in band: nothing added, nothing split).
func BenchmarkH264Fixer(b *testing.B) {
	p := clips.NewPlayer(clips.MustGet(clips.H264), clips.PlayerOptions{})
	var pkts []*rtp.Packet
	for range 60 {
		ps, _ := p.Next()
		pkts = append(pkts, ps...)
	}
	f := newH264Fixer(0)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		f.push(pkts[i%len(pkts)])
		i++
	}
}
