package config_test

import (
	"reflect"
	"testing"
	"time"

	"github.com/bailiff/bailiff/internal/config"
)

func TestMediaPullConfig(t *testing.T) {
	const f = "hub.yaml"
	h, err := config.ParseHub(f, []byte(`
media:
  replicas:
    - name: hub-b
      token_file: keys/replica-hub-b.token
  origins:
    - url: https://hub-a.court.example:8443
      rooms: [hq/court-1, north/*]
      token_file: keys/from-hub-a.token
  pull_linger: 20s
`), nil)
	if err != nil {
		t.Fatal(err)
	}
	m := h.Media
	if !reflect.DeepEqual(m.Replicas, []config.Replica{{Name: "hub-b", TokenFile: "keys/replica-hub-b.token"}}) ||
		!reflect.DeepEqual(m.Origins, []config.Origin{{URL: "https://hub-a.court.example:8443", Rooms: []string{"hq/court-1", "north/*"},
			TokenFile: "keys/from-hub-a.token"}}) || m.PullLinger.D() != 20*time.Second {
		t.Errorf("got %+v", m)
	}
	if h, err := config.ParseHub(f, nil, []string{"BAILIFF_MEDIA_PULL_LINGER=1m"}); err != nil || h.Media.PullLinger.D() != time.Minute {
		t.Errorf("from the environment: %v", err)
	}

	_, err = config.ParseHub(f, []byte(`
media:
  replicas:
    - name: Hub B
    - name: hub-c
      token_file: a
    - name: hub-c
      token_file: b
  origins:
    - url: ftp://hub-a
      rooms: [hq/court-1, hq, HQ/x]
    - url: http://hub-a:8080/api
      rooms: [hq/court-1]
      token_file: t
    - rooms: []
      token_file: t
  pull_linger: 100ms
`), nil)
	checkErr(t, err, []string{
		f + `:4: media.replicas[0].name: invalid replica ID "Hub B": want 1-63 characters of a-z, 0-9 and '-', not starting with '-'`,
		f + `:4: media.replicas[0].token_file: required: the file that holds the replica's secret (made on first start when missing)`,
		f + `:7: media.replicas[2].name: duplicate replica "hub-c" (also media.replicas[1])`,
		f + `:10: media.origins[0].url: "ftp://hub-a": want http://host[:port] or https://host[:port], nothing after the port`,
		f + `:10: media.origins[0].token_file: required: the file with the secret the origin hub made for this hub (its media.replicas[].token_file)`,
		f + `:11: media.origins[0].rooms[1]: "hq": want "site/room" or "site/*"`,
		f + `:11: media.origins[0].rooms[2]: invalid site ID "HQ": want 1-63 characters of a-z, 0-9 and '-', not starting with '-'`,
		f + `:12: media.origins[1].url: "http://hub-a:8080/api": want http://host[:port] or https://host[:port], nothing after the port`,
		f + `:13: media.origins[1].rooms[0]: "hq/court-1" is already carried by media.origins[0]: a room has one origin`,
		f + `:15: media.origins[2].url: required: the origin hub's HTTP address, e.g. http://10.1.0.5:8080`,
		f + `:15: media.origins[2].rooms: required: the rooms whose media that hub carries, "site/room" or "site/*"`,
		f + `:17: media.pull_linger: must be between 500ms and 10m, got 100ms`,
	})
}
