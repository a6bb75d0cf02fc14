package integration

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"

	"github.com/bailiff/bailiff/drivers/visca/viscasim"
	"github.com/bailiff/bailiff/internal/agent"
	"github.com/bailiff/bailiff/internal/config"
	"github.com/bailiff/bailiff/internal/hub"
	"github.com/bailiff/bailiff/internal/testutil"
	"github.com/bailiff/bailiff/media/rtsp"
	"github.com/bailiff/bailiff/media/sfu/sfutest"
	"github.com/bailiff/bailiff/media/source"
)

// payloadSet remembers RTP payloads.
type payloadSet struct {
	mu  sync.Mutex
	set map[string]bool
}

func (p *payloadSet) add(b []byte) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.set == nil {
		p.set = map[string]bool{}
	}
	p.set[string(b)] = true
}

func (p *payloadSet) has(b []byte) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.set[string(b)]
}

// mediaRoom is a courtroom whose PTZ camera is a VISCA simulator that also serves RTSP, and
// whose agent publishes the camera and a looping clip.
type mediaRoom struct {
	room *config.Room
	sent payloadSet // H.264 payloads the camera sent
	cred hub.Credentials
	stop func()
}

func newMediaRoom(t *testing.T, e *env) *mediaRoom {
	t.Helper()
	m := &mediaRoom{}
	cam := viscasim.New(viscasim.Config{On: true})
	t.Cleanup(func() { cam.Close() })
	addr, err := cam.ListenTCP("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv, err := cam.ServeRTSP("127.0.0.1:0", rtsp.ServerOptions{User: "admin", Password: "cam-pw", Logger: testLogger(t),
		OnPacket: func(_ string, track int, p *rtp.Packet) {
			if track == 0 {
				m.sent.add(p.Payload)
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	rtspURL := "rtsp://admin:cam-pw@" + srv.URL(viscasim.RTSPPath)[len("rtsp://"):]
	m.room = &config.Room{Site: site, Room: "media", Kind: config.KindTechCourtroom, Name: "Media room",
		Poll: config.Duration(time.Second), Timeout: config.Duration(time.Second),
		Devices: []config.Device{{ID: "cam-bench", Driver: "visca", Address: addr}},
		Media: config.RoomMedia{Streams: []config.Stream{
			{Name: "bench-cam", Camera: &config.Camera{RTSP: rtspURL, Device: "cam-bench"}},
			{Name: "clip", Clip: &config.Clip{Video: "vp8", Audio: "opus"}},
		}}}
	if err := m.room.Validate(); err != nil {
		t.Fatal(err)
	}
	if m.cred, err = hub.AddAgent(context.Background(), e.hub.Store(), e.hub.BrokerURL(), site, m.room.Room); err != nil {
		t.Fatal(err)
	}
	a, err := agent.New(agent.Options{Room: m.room, Broker: m.cred.Broker, Username: m.cred.Username, Password: m.cred.Password,
		Version: "test", Logger: testLogger(t), MaxBackoff: 500 * time.Millisecond, HubURL: e.url(""),
		MediaEndpoint: loopbackMedia(t)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); a.Run(ctx) }()
	m.stop = func() { cancel(); <-done }
	t.Cleanup(m.stop)
	return m
}

// view watches a stream over WHEP as token.
func (e *env) view(t *testing.T, token, path string, o sfutest.ViewerOptions) *sfutest.Viewer {
	t.Helper()
	api, err := sfutest.NewAPI(true)
	if err != nil {
		t.Fatal(err)
	}
	v, err := sfutest.NewViewer(api, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	offer, err := v.Offer(ctx)
	if err != nil {
		t.Fatal(err)
	}
	st, answer, _ := e.whipPost(path, token, offer)
	if st != 201 {
		t.Fatalf("WHEP %s: %d %s", path, st, answer)
	}
	if err := v.SetAnswer(answer); err != nil {
		t.Fatal(err)
	}
	return v
}

// streamsLive lists the live streams of the media room by name.
func (e *env) streamsLive(token string) map[string]bool {
	_, body := e.call("GET", "/api/v1/streams", token, nil)
	list, _ := body["list"].([]any)
	out := map[string]bool{}
	for _, s := range list {
		if m, ok := s.(map[string]any); ok && m["room"] == "media" {
			out[m["name"].(string)] = true
		}
	}
	return out
}

// The camera path end to end: the VISCA simulator's RTSP → the agent's camera source → the
// hub's WHIP → SFU → a WHEP viewer that gets the camera's H.264 payloads byte for byte; the
// agent's clip likewise; the agent's token publishes only to its own room; and after a hub
// restart the agent publishes again by itself.
func TestAgentPublishesCameraAndClip(t *testing.T) {
	e := newEnv(t, 1, false)
	judge := e.login("judge")
	m := newMediaRoom(t, e)
	testutil.Eventually(t, 15*time.Second, "the agent's streams listed", func() bool {
		s := e.streamsLive(judge)
		return s["bench-cam"] && s["clip"]
	})

	var mu sync.Mutex
	var same, differ int
	v := e.view(t, judge, "/whep/court/media/bench-cam", sfutest.ViewerOptions{OnPacket: func(kind string, p *rtp.Packet) {
		if kind != "video" {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		if m.sent.has(p.Payload) {
			same++
		} else {
			differ++
		}
	}})
	testutil.Eventually(t, 15*time.Second, "the camera's H.264 and Opus at the viewer", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return same > 60 && v.Packets("audio") > 20
	})
	if c := v.Codec("video"); c != "video/H264" {
		t.Errorf("viewer's video codec %q: the path must not transcode", c)
	}
	mu.Lock()
	if differ > 0 {
		t.Errorf("%d video packets differ from what the camera sent (%d the same)", differ, same)
	}
	mu.Unlock()
	vc := e.view(t, judge, "/whep/court/media/clip", sfutest.ViewerOptions{})
	testutil.Eventually(t, 15*time.Second, "the clip at a viewer", func() bool { return vc.Packets("video") > 20 && vc.Packets("audio") > 20 })
	if c := vc.Codec("video"); c != "video/VP8" {
		t.Errorf("clip codec %q", c)
	}

	// The agent's token: its own room only; a wrong secret is unauthorized.
	pub, err := sfutest.NewPublisher(func() *webrtc.API { a, _ := sfutest.NewAPI(false); return a }(), "")
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	offer, err := pub.Offer(ctx)
	if err != nil {
		t.Fatal(err)
	}
	tok := agent.MediaToken(site, "media", m.cred.Password)
	if st, body, _ := e.whipPost("/whip/court/r1/intruder", tok, offer); st != 403 {
		t.Errorf("agent publishing to another room: %d %s", st, body)
	}
	if st, body, _ := e.whipPost("/whip/court/media/x", agent.MediaToken(site, "media", "wrong"), offer); st != 401 {
		t.Errorf("agent token with a wrong secret: %d %s", st, body)
	}
	if st, body, _ := e.whipPost("/whip/court/media/x", "agent.court.media", offer); st != 401 {
		t.Errorf("malformed agent token: %d %s", st, body)
	}

	// The hub restarts: the agent publishes again by itself.
	e.hub.Close()
	e.startHub()
	judge = e.login("judge")
	testutil.Eventually(t, 30*time.Second, "the agent's streams back after the hub restart", func() bool {
		s := e.streamsLive(judge)
		return s["bench-cam"] && s["clip"]
	})
	v2 := e.view(t, judge, "/whep/court/media/bench-cam", sfutest.ViewerOptions{NoAudio: true})
	testutil.Eventually(t, 15*time.Second, "the camera at a viewer after the restart", func() bool { return v2.Packets("video") > 30 })
}

// loopbackMedia is an agent's media endpoint settings for tests: peer connections on
// loopback only, quick reconnects.
func loopbackMedia(t testing.TB) source.Endpoint {
	t.Helper()
	se := webrtc.SettingEngine{}
	sfutest.LoopbackOnly(&se)
	api, err := source.NewAPI(&se)
	if err != nil {
		t.Fatal(err)
	}
	return source.Endpoint{API: api, MinBackoff: 100 * time.Millisecond, MaxBackoff: time.Second}
}
