package config_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bailiff/bailiff/internal/config"
)

func TestStoreKeys(t *testing.T) {
	const f = "etc/hub.yaml"
	for _, c := range []struct {
		name, yaml string
		env        []string
		want       string // an error line; "" for valid
		driver     string
		dsn        string
	}{
		{name: "default is sqlite", driver: "sqlite"},
		{name: "postgres url", yaml: "store:\n  driver: postgres\n  dsn: postgres://hub@db.court.example/bailiff\n",
			driver: "postgres", dsn: "postgres://hub@db.court.example/bailiff"},
		{name: "postgres from env", env: []string{"BAILIFF_STORE_DRIVER=postgres", "BAILIFF_STORE_DSN=host=/run/postgresql dbname=bailiff"},
			driver: "postgres", dsn: "host=/run/postgresql dbname=bailiff"},
		{name: "unknown driver", yaml: "store:\n  driver: postgresql\n",
			want: f + `:2: store.driver: unknown driver "postgresql" (did you mean "postgres"?); want one of sqlite, postgres`},
		{name: "postgres without dsn", yaml: "store:\n  driver: postgres\n",
			want: f + ":1: store.dsn: required with store.driver: postgres"},
		{name: "dsn without postgres", yaml: "store:\n  dsn: postgres://x/y\n",
			want: f + ":2: store.dsn: only with store.driver: postgres"},
		{name: "both dsn and file", yaml: "store:\n  driver: postgres\n  dsn: postgres://x/y\n  dsn_file: secret\n",
			want: "store.dsn: dsn and dsn_file are mutually exclusive"},
		{name: "not a dsn", yaml: "store:\n  driver: postgres\n  dsn: mysql://x/y\n",
			want: "store.dsn: a URL must start with postgres:// or postgresql://"},
		{name: "hubs sharing a broker", yaml: "mqtt:\n  external:\n    url: tcp://broker:1883\n    share_group: court-hubs\nstore:\n  driver: postgres\n  dsn: postgres://hub@db/bailiff\n",
			driver: "postgres", dsn: "postgres://hub@db/bailiff"},
		{name: "share group without external broker", yaml: "mqtt:\n  external:\n    share_group: g\nstore:\n  driver: postgres\n  dsn: postgres://hub@db/bailiff\n",
			want: "mqtt.external.share_group: needs mqtt.external.url"},
		{name: "share group on sqlite", yaml: "mqtt:\n  external:\n    url: tcp://broker:1883\n    share_group: g\n",
			want: "mqtt.external.share_group: needs store.driver: postgres"},
		{name: "share group not a name", env: []string{"BAILIFF_MQTT_EXTERNAL_URL=tcp://b:1883", "BAILIFF_MQTT_EXTERNAL_SHARE_GROUP=a/b"},
			want: `env BAILIFF_MQTT_EXTERNAL_SHARE_GROUP: "a/b" is not a group name`},
		{name: "bad dsn from env is named", env: []string{"BAILIFF_STORE_DRIVER=postgres", "BAILIFF_STORE_DSN=s3cret"},
			want: "BAILIFF_STORE_DSN"},
	} {
		t.Run(c.name, func(t *testing.T) {
			h, err := config.ParseHub(f, []byte(c.yaml), c.env)
			if c.want != "" {
				if err == nil || !strings.Contains(err.Error(), c.want) {
					t.Fatalf("err = %v\nwant it to contain %q", err, c.want)
				}
				if strings.Contains(err.Error(), "s3cret") {
					t.Errorf("the error repeats the DSN: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			dsn, err := h.StoreDSN()
			if err != nil || h.Store.Driver != c.driver || dsn != c.dsn {
				t.Errorf("driver %q dsn %q (%v); want %q %q", h.Store.Driver, dsn, err, c.driver, c.dsn)
			}
		})
	}
}

func TestStoreDSNFile(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "dsn"), []byte("postgres://hub:pw@db/bailiff\n"), 0o600)
	os.WriteFile(filepath.Join(dir, "bad"), []byte("pw\n"), 0o600)
	h, err := config.ParseHub(filepath.Join(dir, "hub.yaml"), []byte("store:\n  driver: postgres\n  dsn_file: dsn\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if dsn, err := h.StoreDSN(); err != nil || dsn != "postgres://hub:pw@db/bailiff" {
		t.Fatalf("dsn %q %v", dsn, err)
	}
	h.Store.DSNFile = "bad"
	if _, err := h.StoreDSN(); err == nil || !strings.Contains(err.Error(), "store.dsn_file") || strings.Contains(err.Error(), "pw") {
		t.Fatalf("a file without a DSN: %v", err)
	}
	h.Store.DSNFile = "missing"
	if _, err := h.StoreDSN(); err == nil || !strings.Contains(err.Error(), "store.dsn_file") {
		t.Fatalf("a missing file: %v", err)
	}
}
