package hub

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/bailiff/bailiff/firmware-bridge/frame"
	"github.com/bailiff/bailiff/internal/hub/api"
	"github.com/bailiff/bailiff/internal/hub/auth"
	"github.com/bailiff/bailiff/internal/hub/registry"
	"github.com/bailiff/bailiff/internal/store"
	"github.com/bailiff/bailiff/internal/wire"
)

// The firmware service: an upload is signed with the hub's firmware key, listed, served to a
// technician and to an agent with its own credentials, and never served once changed on disk.
func TestFirmwareImages(t *testing.T) {
	data := t.TempDir()
	st, err := store.Open(filepath.Join(data, "hub.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	key, err := FirmwareKey(data)
	if err != nil {
		t.Fatal(err)
	}
	if again, _ := FirmwareKey(data); !again.Equal(key) {
		t.Fatal("a second start made another firmware key")
	}
	if rk, _ := RecordingKey(data); rk.Equal(key) {
		t.Fatal("the firmware key is the recording key")
	}
	h := &Hub{opts: Options{DataDir: data}, store: st, fwKey: key, log: slog.New(slog.DiscardHandler)}
	h.fw = &firmware{h: h}
	ctx := context.Background()
	tech, agentSecret := "tech-token", "agent-secret"
	if err := st.PutUser(ctx, store.User{Name: "tech", Role: auth.RoleTechnician, Hash: "x"}); err != nil {
		t.Fatal(err)
	}
	if err := st.PutSession(ctx, store.Session{TokenHash: auth.HashSecret(tech), User: "tech", Role: auth.RoleTechnician, Expires: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if err := st.PutAgent(ctx, "court", "room-1", auth.HashSecret(agentSecret)); err != nil {
		t.Fatal(err)
	}
	srv := &api.Server{Store: st, Firmware: h.fw, AgentAuth: h.agentAuth, Log: h.log}
	ts := httptest.NewServer(srv.Handler())
	defer ts.Close()
	do := func(method, path, token string, body []byte) (*http.Response, []byte) {
		t.Helper()
		req, _ := http.NewRequest(method, ts.URL+path, bytes.NewReader(body))
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		if body != nil {
			req.Header.Set("Content-Type", "application/octet-stream")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, b
	}

	image := bytes.Repeat([]byte("firmware"), 1000)
	resp, body := do("POST", "/api/v1/firmware?device_type=tally-light&version=1.2.0&min_version=1.0.0", tech, image)
	if resp.StatusCode != 201 {
		t.Fatalf("upload: %d %s", resp.StatusCode, body)
	}
	var v FirmwareView
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatal(err)
	}
	pub, _ := hex.DecodeString(v.PublicKey)
	if err := v.Manifest.Verify(ed25519.PublicKey(pub), key.Public().(ed25519.PublicKey)); err != nil {
		t.Fatal(err)
	}
	if err := v.Manifest.CheckImage(image); err != nil || v.Manifest.Version != (frame.Version{Major: 1, Minor: 2}) ||
		v.Manifest.MinVersion == nil || v.UploadedBy != "tech" {
		t.Fatalf("view %+v (%v)", v, err)
	}

	for _, c := range []struct {
		path, token string
		body        []byte
		want        int
	}{
		{"/api/v1/firmware?device_type=tally-light&version=1.2.0", tech, image, 409},
		{"/api/v1/firmware?device_type=Tally&version=1.3.0", tech, image, 400},
		{"/api/v1/firmware?device_type=tally-light&version=1.3", tech, image, 400},
		{"/api/v1/firmware?device_type=tally-light&version=1.3.0", tech, []byte{}, 400},
		{"/api/v1/firmware?device_type=tally-light&version=1.3.0", "", image, 401},
	} {
		if resp, body := do("POST", c.path, c.token, c.body); resp.StatusCode != c.want {
			t.Errorf("POST %s: %d %s, want %d", c.path, resp.StatusCode, body, c.want)
		}
	}
	// The same as a multipart form (curl -F image=@fw.bin -F device_type=… -F version=…).
	var form bytes.Buffer
	mw := multipart.NewWriter(&form)
	mw.WriteField("device_type", "tally-light")
	mw.WriteField("version", "1.3.0")
	fw, _ := mw.CreateFormFile("image", "fw.bin")
	fw.Write(image[:5000])
	mw.Close()
	req, _ := http.NewRequest("POST", ts.URL+"/api/v1/firmware", &form)
	req.Header.Set("Authorization", "Bearer "+tech)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	mresp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	mbody, _ := io.ReadAll(mresp.Body)
	mresp.Body.Close()
	var mv FirmwareView
	if mresp.StatusCode != 201 || json.Unmarshal(mbody, &mv) != nil || mv.Manifest.Size != 5000 || mv.Manifest.Version.Minor != 3 {
		t.Fatalf("multipart upload: %d %s", mresp.StatusCode, mbody)
	}
	if resp, body := do("GET", "/api/v1/firmware", tech, nil); resp.StatusCode != 200 || bytes.Count(body, []byte(`"id"`)) != 2 {
		t.Fatalf("list: %d %s", resp.StatusCode, body)
	}
	img := "/api/v1/firmware/images/" + v.ID
	for token, want := range map[string]int{
		tech: 200, "agent.court.room-1." + agentSecret: 200, "agent.court.room-1.wrong": 401,
		"agent.court.room-2." + agentSecret: 401, "agent.bad": 401, "": 401,
	} {
		resp, body := do("GET", img, token, nil)
		if resp.StatusCode != want || (want == 200 && !bytes.Equal(body, image)) {
			t.Errorf("image with %q: %d (%d bytes), want %d", token, resp.StatusCode, len(body), want)
		}
	}
	if resp, _ := do("GET", "/api/v1/firmware/images/fw-none", tech, nil); resp.StatusCode != 404 {
		t.Errorf("unknown image: %d", resp.StatusCode)
	}
	// Changed on disk: refused.
	path := filepath.Join(data, firmwareDir, v.ID+".bin")
	b, _ := os.ReadFile(path)
	b[10] ^= 1
	os.WriteFile(path, b, 0o600)
	if resp, _ := do("GET", img, tech, nil); resp.StatusCode != 500 {
		t.Errorf("tampered image served: %d", resp.StatusCode)
	}
}

// A rollout follows a device's steps from its state when its events were missed.
func TestRolloutStepsFromState(t *testing.T) {
	h, st := rolloutHub(t)
	if err := st.PutFirmwareImage(context.Background(), store.FirmwareImage{ID: "fw-1", DeviceType: "tally-light", Version: "1.1.0",
		Manifest: "{}", File: "x", Created: time.Now()}); err != nil {
		t.Fatal(err)
	}
	rs := h.fw.rolloutState()
	rs.active["ro-1"] = &RolloutView{ID: "ro-1", Image: "fw-1", State: RolloutRunning, Created: time.Now(),
		Devices: []RolloutDevice{{Site: "court", Room: "r1", Device: "tally", Step: StepSent}}}
	state := func(rollout, step string) {
		h.reg.Handle(wire.DeviceTopic("court", "r1", "tally", wire.KindState), []byte(`{"reachable":true,"state":{"firmware":"1.1.0",`+
			`"firmware_update":{"rollout":"`+rollout+`","step":"`+step+`","percent":100}},"at":"2026-11-29T10:00:00Z"}`))
	}
	state("ro-other", "failed") // another rollout's: not this one's
	h.fw.stepsFromStates("ro-1", []int{0})
	if d := h.fw.device("ro-1", 0); d.Step != StepSent {
		t.Fatalf("took another rollout's step: %+v", d)
	}
	state("ro-1", "confirmed")
	h.fw.stepsFromStates("ro-1", []int{0})
	if d := h.fw.device("ro-1", 0); d.Step != "confirmed" || d.Percent != 100 {
		t.Fatalf("step %+v", d)
	}
	v, err := h.fw.GetRollout(context.Background(), "ro-1")
	if err != nil || v.(RolloutView).Devices[0].Step != "confirmed" {
		t.Fatalf("GetRollout %+v %v", v, err)
	}
}

// Once a device's update has ended, a late step of its course (an event or a state that is
// older than the event that ended it) changes nothing; a device the hub gave up on that
// confirms after all is shown confirmed.
func TestRolloutEndedStepsStay(t *testing.T) {
	h, _ := rolloutHub(t)
	rs := h.fw.rolloutState()
	rs.active["ro-1"] = &RolloutView{ID: "ro-1", Image: "fw-1", State: RolloutRunning, Created: time.Now(),
		Devices: []RolloutDevice{{Site: "court", Room: "r1", Device: "a", Step: StepSent}, {Site: "court", Room: "r1", Device: "b", Step: StepSent}}}
	for _, c := range []struct {
		dev, step, want string
	}{
		{"a", "verifying", "verifying"},
		{"a", "failed", "failed"},
		{"a", "verifying", "failed"}, // late: its state was read after the event that ended it
		{"a", "downloading", "failed"},
		{"a", "confirmed", "confirmed"}, // the hub gave up on it; it confirmed after all
		{"a", "failed", "confirmed"},
		{"b", "rolled_back", "rolled_back"},
		{"b", "rebooting", "rolled_back"},
		{"b", "confirmed", "rolled_back"},
	} {
		h.fw.setStep("ro-1", "court", "r1", c.dev, c.step, 0, "")
		i := 0
		if c.dev == "b" {
			i = 1
		}
		if got := h.fw.device("ro-1", i).Step; got != c.want {
			t.Fatalf("%s after %s: %s, want %s", c.dev, c.step, got, c.want)
		}
	}
}

// rolloutHub is a hub with just what rollouts need: a store, a registry and its feed.
func rolloutHub(t *testing.T) (*Hub, *store.Store) {
	t.Helper()
	data := t.TempDir()
	st, err := store.Open(filepath.Join(data, "hub.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	log := slog.New(slog.DiscardHandler)
	feed := registry.NewFeed(16)
	h := &Hub{opts: Options{DataDir: data}, store: st, log: log, feed: feed, reg: registry.New(feed, log)}
	h.fw = &firmware{h: h, ctx: context.Background()}
	return h, st
}
