package hub

import (
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bailiff/bailiff/internal/config"
	"github.com/bailiff/bailiff/media/sfu"
	"github.com/bailiff/bailiff/media/sfu/sfutest"
	"github.com/bailiff/bailiff/media/whip"
)

func TestPullFrom(t *testing.T) {
	h, err := config.ParseHub("/etc/bailiff/hub.yaml", []byte(`
media:
  replicas: [{name: hub-b, token_file: keys/b.token}]
  origins:
    - url: https://hub-a:8443/
      rooms: [hq/*]
      token_file: /run/secrets/a.token
      ca_file: ca.pem
  pull_linger: 12s
`), nil)
	if err != nil {
		t.Fatal(err)
	}
	o := PullFrom(h)
	if len(o.Replicas) != 1 || o.Replicas[0] != (ReplicaOptions{Name: "hub-b", TokenFile: "/etc/bailiff/keys/b.token"}) ||
		len(o.Origins) != 1 || o.Origins[0].URL != "https://hub-a:8443" || o.Origins[0].TokenFile != "/run/secrets/a.token" ||
		o.Origins[0].CAFile != "/etc/bailiff/ca.pem" || o.Linger != 12*time.Second {
		t.Errorf("%+v", o)
	}
}

// startPullHub starts a hub with the given pull options.
func startPullHub(t *testing.T, o PullOptions) (*Hub, error) {
	t.Helper()
	h, err := New(Options{HTTPListen: "127.0.0.1:0", MQTTListen: "127.0.0.1:0", DataDir: t.TempDir(),
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Pull: o,
		Media: sfu.Network{UDPAddr: "127.0.0.1:0", Loopback: true, RemoteIPFilter: sfutest.Loopback}})
	if err == nil {
		t.Cleanup(func() { h.Close() })
	}
	return h, err
}

// A replica whose token file is missing or short does not start, and says which key and
// what to do; an origin makes its replica's secret and takes it for viewing only, and never
// for a room it pulls itself.
func TestReplicaCredentials(t *testing.T) {
	dir := t.TempDir()
	_, err := startPullHub(t, PullOptions{Origins: []OriginOptions{{URL: "http://127.0.0.1:1", Rooms: []string{"hq/*"},
		TokenFile: filepath.Join(dir, "missing.token")}}})
	if err == nil || !strings.Contains(err.Error(), "media.origins http://127.0.0.1:1: token_file") ||
		!strings.Contains(err.Error(), "copy it from the origin hub") {
		t.Errorf("missing token file: %v", err)
	}
	short := filepath.Join(dir, "short.token")
	if err := os.WriteFile(short, []byte("abc\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := startPullHub(t, PullOptions{Origins: []OriginOptions{{URL: "http://127.0.0.1:1", Rooms: []string{"hq/*"},
		TokenFile: short}}}); err == nil || !strings.Contains(err.Error(), "shorter than 16") {
		t.Errorf("short token: %v", err)
	}

	token := filepath.Join(dir, "keys", "hub-b.token")
	long := filepath.Join(dir, "long.token")
	if err := os.WriteFile(long, []byte("0123456789abcdef0123\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	h, err := startPullHub(t, PullOptions{Replicas: []ReplicaOptions{{Name: "hub-b", TokenFile: token}},
		Origins: []OriginOptions{{URL: "http://127.0.0.1:1", Rooms: []string{"north/court-9"}, TokenFile: long}}})
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(token)
	if err != nil {
		t.Fatalf("the origin made no secret for its replica: %v", err)
	}
	if fi, _ := os.Stat(token); fi.Mode().Perm() != 0o600 {
		t.Errorf("the secret's mode is %v", fi.Mode().Perm())
	}
	good := whip.ReplicaTokenPrefix + strings.TrimSpace(string(b))
	for _, c := range []struct {
		token, site, room string
		publish           bool
		ok                bool
		want              string
	}{
		{good, "hq", "court-1", false, true, ""},
		{good, "hq", "court-1", true, false, "may only view"},
		{good, "north", "court-9", false, false, "carried by http://127.0.0.1:1, not here"},
		{good + "x", "hq", "court-1", false, false, "unknown replica token"},
		{whip.ReplicaTokenPrefix, "hq", "court-1", false, false, "unknown replica token"},
	} {
		r := httptest.NewRequest("POST", "/whep/"+c.site+"/"+c.room+"/cam", nil)
		r.Header.Set("Authorization", "Bearer "+c.token)
		err := h.authorizeMedia(r, c.site, c.room, "cam", c.publish)
		if (err == nil) != c.ok || (err != nil && !strings.Contains(err.Error(), c.want)) {
			t.Errorf("%s/%s publish=%v: %v", c.site, c.room, c.publish, err)
		}
	}
	if o := h.mediaOrigin("north", "court-9"); o != "http://127.0.0.1:1" {
		t.Errorf("origin of north/court-9: %q", o)
	}
	if o := h.mediaOrigin("hq", "court-1"); o != "" {
		t.Errorf("origin of hq/court-1: %q", o)
	}
}
