package onvifsim

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/bailiff/bailiff/drivers/onvif/internal/golden"
	"github.com/bailiff/bailiff/internal/testutil/fuzzseed"
)

// FuzzHandle feeds a request body to the simulator's parser and operations, as a POST to one
// of its services, and checks the answer is one well-formed SOAP envelope and the camera
// stays in its space.
func FuzzHandle(f *testing.F) {
	for _, e := range golden.Exchanges {
		f.Add(envelope(e.Request), pathOf[e.Op])
	}
	f.Add(envelope(`<tptz:GetStatus><tptz:ProfileToken>main</tptz:ProfileToken></tptz:GetStatus>`, libToken(f, "admin", "pw")), PTZPath)
	f.Fuzz(func(t *testing.T, body []byte, path string) {
		now := time.Unix(1e9, 0)
		s := New(Config{Username: "admin", Password: "pw", Clock: func() time.Time { return now }, AuthWindow: 100 * 365 * 24 * time.Hour})
		// Half the inputs run without authentication, so the operations are reached.
		if len(body)%2 == 0 {
			s.cfg.Username = ""
		}
		status, reply := s.Handle("cam", path, body)
		switch status {
		case 200, 400, 500:
			if !wellFormed(reply) || !bytes.HasPrefix(reply, []byte(envelopeOpen)) || !bytes.HasSuffix(reply, []byte(envelopeClose)) {
				t.Fatalf("answer %d is not one SOAP envelope: %q", status, reply)
			}
			if (status == 200) == bytes.Contains(reply, []byte("<env:Fault>")) {
				t.Fatalf("status %d with answer %q", status, reply)
			}
		case 404:
			if _, ok := services[path]; ok || reply != nil {
				t.Fatalf("404 for %q with %q", path, reply)
			}
		default:
			t.Fatalf("status %d", status)
		}
		now = now.Add(time.Hour)
		st := s.State()
		if !inSpace(st.Pan, st.Tilt, st.Zoom) {
			t.Fatalf("position %v %v %v outside the space", st.Pan, st.Tilt, st.Zoom)
		}
		for _, v := range []float64{st.PanVel, st.TiltVel, st.ZoomVel} {
			if v < -1 || v > 1 {
				t.Fatalf("velocity %v", v)
			}
		}
		for _, p := range st.Presets {
			if p.Token == "" || strings.TrimSpace(p.Token) != p.Token || !inSpace(p.Pan, p.Tilt, p.Zoom) {
				t.Fatalf("preset %+v", p)
			}
		}
	})
}

// TestSeedCorpus checks that testdata/fuzz holds every golden request as a seed; run
// go test ./drivers/onvif/onvifsim -run TestSeedCorpus -update-corpus to write them.
func TestSeedCorpus(t *testing.T) {
	c := fuzzseed.Corpus{}
	for _, e := range golden.Exchanges {
		c.Add("FuzzHandle", e.Name, []byte(envelope(e.Request)), pathOf[e.Op])
	}
	fuzzseed.Check(t, c)
}
