package demo

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/bailiff/bailiff/internal/testutil"
)

// The demo runs every example room with simulators, and every room's cameras (the VISCA
// simulators' RTSP streams) and microphones (clips) reach the hub's SFU.
func TestDemoPublishesMedia(t *testing.T) {
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
}
