package demo

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bailiff/bailiff/internal/config"
	"github.com/bailiff/bailiff/internal/testutil"
)

// The demo runs every example room with simulators, and every room's cameras (the VISCA
// simulators' RTSP streams) and microphones (clips) reach the hub's SFU.
func TestDemoPublishesMedia(t *testing.T) {
	// From the repository's root, as `go run ./cmd/hub --demo` runs: the room files are on
	// disk there too, and the hub must still store and push the rooms as the demo made them.
	t.Chdir(filepath.Join("..", ".."))
	ready := make(chan *Demo, 1)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, Options{HTTPListen: testutil.FreePort(t), MQTTListen: testutil.FreePort(t),
			Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Ready: func(d *Demo) { ready <- d }})
	}()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()
	var d *Demo
	select {
	case d = <-ready:
	case err := <-done:
		t.Fatalf("the demo stopped: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("the demo did not start in 30 s")
	}
	want := map[string]string{ // stream → its video codec ("" audio only)
		"courtroom-1/bench-cam": "video/H264", "courtroom-1/witness-cam": "video/H264", "courtroom-1/counsel-cam": "video/H264",
		"courtroom-1/room-mics": "", "command-center/entrance-cam": "video/H264", "command-center/lobby-cam": "video/H264",
		"interrogation-1/camera": "video/H264", "interrogation-1/table-mic": "", "reception-1/camera": "video/H264", "reception-1/desk-mic": "",
	}
	if d.cameras != 7 || d.clips != 3 {
		t.Errorf("%d simulated cameras and %d clips, want 7 and 3", d.cameras, d.clips)
	}
	testutil.Eventually(t, 30*time.Second, "every room's streams at the hub", func() bool {
		got := map[string]string{}
		for _, s := range d.Hub.SFU().Streams() {
			v := ""
			for _, tr := range s.Tracks {
				if strings.HasPrefix(tr.MimeType, "video/") {
					v = tr.MimeType
				}
			}
			got[s.Room+"/"+s.Name] = v
		}
		for k, codec := range want {
			if c, ok := got[k]; !ok || c != codec {
				return false
			}
		}
		return true
	})
	// What the hub stored and pushes to each agent is the room as the demo runs it: its
	// devices at their simulators, its media on simulators and clips — not the file's gear.
	latest, err := d.Hub.Store().LatestRoomConfigs(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	byRoom := map[string]*config.Room{}
	for _, r := range d.Rooms {
		byRoom[r.Site+"/"+r.Room] = r
	}
	for _, c := range latest {
		stored, err := config.ParseRoom(c.Site+"/"+c.Room, []byte(c.YAML))
		want := byRoom[c.Site+"/"+c.Room]
		if err != nil || want == nil {
			t.Fatalf("stored %s/%s: %v", c.Site, c.Room, err)
		}
		for i, dev := range stored.Devices {
			if dev.Address != want.Devices[i].Address {
				t.Errorf("%s/%s device %s stored at %q, runs at %q", c.Site, c.Room, dev.ID, dev.Address, want.Devices[i].Address)
			}
		}
		for i, st := range stored.Media.Streams {
			if st.Kind() != want.Media.Streams[i].Kind() || st.Camera != nil && st.Camera.RTSP != want.Media.Streams[i].Camera.RTSP {
				t.Errorf("%s/%s stream %s stored as %s, runs as %s", c.Site, c.Room, st.Name, st.Kind(), want.Media.Streams[i].Kind())
			}
		}
	}
}
