package config

import (
	"fmt"
	"os"
	"regexp"
	"strings"
)

var shareGroupRe = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// Store drivers (store.driver).
const (
	StoreSQLite   = "sqlite"
	StorePostgres = "postgres"
)

// StoreDrivers are the values of store.driver.
var StoreDrivers = []string{StoreSQLite, StorePostgres}

// Store chooses the hub's database: embedded SQLite (hub.db in the data directory), or
// PostgreSQL, which several hubs can share.
type Store struct {
	Driver string `yaml:"driver" json:"driver"` // sqlite (default) or postgres
	// DSN is the PostgreSQL connection string: a URL (postgres://user@host:5432/db) or
	// libpq's key=value pairs. It may hold a password, so it is never logged nor shown.
	DSN string `yaml:"dsn" json:"-"`
	// DSNFile is a file holding the DSN, relative to the hub file (a Docker or systemd secret).
	DSNFile string `yaml:"dsn_file" json:"dsn_file"`
}

func (h *Hub) storeProblems(p *problems) {
	if g := h.MQTT.External.ShareGroup; g != "" {
		switch {
		case !shareGroupRe.MatchString(g):
			p.add("mqtt.external.share_group", "%s is not a group name: 1 to 64 letters, digits, '-' or '_'", quote(g))
		case h.MQTT.External.URL == "":
			p.add("mqtt.external.share_group", "needs mqtt.external.url: hubs share an external broker (the embedded one serves its own hub only)")
		case h.Store.Driver != StorePostgres:
			p.add("mqtt.external.share_group", "needs store.driver: postgres: hubs that share agents share their users, sessions, hearings and audit log in one database")
		}
	}
	s := h.Store
	p.oneOf("store.driver", "driver", s.Driver, StoreDrivers)
	if s.Driver != StorePostgres {
		if s.DSN != "" || s.DSNFile != "" {
			p.add("store.dsn", "only with store.driver: postgres (SQLite is the file hub.db in the data directory)")
		}
		return
	}
	switch {
	case s.DSN != "" && s.DSNFile != "":
		p.add("store.dsn", "dsn and dsn_file are mutually exclusive; set only one")
	case s.DSN == "" && s.DSNFile == "":
		p.add("store.dsn", "required with store.driver: postgres (a URL postgres://user@host/db or key=value pairs), or store.dsn_file")
	case s.DSN != "":
		if msg := checkDSN(s.DSN); msg != "" {
			p.add("store.dsn", "%s", msg)
		}
	}
}

// checkDSN checks the form of a PostgreSQL DSN without repeating it (it may hold a password).
func checkDSN(dsn string) string {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		return ""
	}
	if strings.Contains(dsn, "://") {
		return "a URL must start with postgres:// or postgresql://"
	}
	if !strings.Contains(dsn, "=") {
		return "not a PostgreSQL connection string: want a URL postgres://user@host/db or key=value pairs (host=… dbname=…)"
	}
	return ""
}

// StoreDSN returns the PostgreSQL DSN: store.dsn, or the content of store.dsn_file (resolved
// like DataDir) without its trailing line break.
func (h *Hub) StoreDSN() (string, error) {
	s := h.Store
	if s.DSNFile == "" {
		return s.DSN, nil
	}
	b, err := os.ReadFile(h.resolve(s.DSNFile))
	if err != nil {
		return "", fmt.Errorf("config: store.dsn_file: %w", err)
	}
	dsn := strings.TrimRight(string(b), "\r\n")
	if msg := checkDSN(dsn); msg != "" {
		return "", fmt.Errorf("config: store.dsn_file %s: %s", h.resolve(s.DSNFile), msg)
	}
	return dsn, nil
}
