package agent

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/bailiff/bailiff/internal/config"
	"github.com/bailiff/bailiff/internal/wire"
)

// Enrolled is what the hub gives an agent for an enrollment token.
type Enrolled struct {
	Site, Room  string
	Credentials Credentials
}

// enrollTimeout bounds the whole exchange with the hub.
const enrollTimeout = 30 * time.Second

// Enroll exchanges a one-time enrollment token (from POST /api/v1/enrollments, made by a
// technician) for the room agent's MQTT credentials at the hub's POST /api/v1/enroll. hubURL
// is the hub's HTTP base URL, e.g. http://hub.court.example:8080. client nil uses a client
// with a 30s timeout. The token is spent, whatever happens next.
func Enroll(ctx context.Context, hubURL, token string, client *http.Client) (Enrolled, error) {
	u, err := url.Parse(strings.TrimRight(hubURL, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return Enrolled{}, fmt.Errorf("agent: enroll: hub URL %q: want http(s)://host:port", hubURL)
	}
	token = strings.TrimSpace(token)
	if token == "" {
		return Enrolled{}, errors.New("agent: enroll: no token")
	}
	if client == nil {
		client = &http.Client{Timeout: enrollTimeout}
	}
	body, _ := json.Marshal(map[string]string{"token": token})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String()+"/api/v1/enroll", bytes.NewReader(body))
	if err != nil {
		return Enrolled{}, fmt.Errorf("agent: enroll: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return Enrolled{}, fmt.Errorf("agent: enroll at %s: %w", u.Redacted(), err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return Enrolled{}, fmt.Errorf("agent: enroll at %s: %w", u.Redacted(), err)
	}
	return parseEnrollAnswer(resp.StatusCode, resp.Status, raw)
}

// parseEnrollAnswer reads the hub's answer to POST /api/v1/enroll.
func parseEnrollAnswer(code int, status string, raw []byte) (Enrolled, error) {
	if code != http.StatusOK {
		var e struct {
			Error wire.Error `json:"error"`
		}
		if json.Unmarshal(raw, &e) == nil && e.Error.Message != "" {
			return Enrolled{}, fmt.Errorf("agent: enroll refused by the hub (%s): %s", status, oneLine(e.Error.Message))
		}
		return Enrolled{}, fmt.Errorf("agent: enroll refused by the hub: %s", status)
	}
	var c struct {
		Site, Room, Broker, Username, Password string
	}
	if err := json.Unmarshal(raw, &c); err != nil {
		return Enrolled{}, fmt.Errorf("agent: enroll: the hub's answer does not decode: %w", err)
	}
	if s, r, ok := wire.ParseAgentUser(c.Username); !ok || s != c.Site || r != c.Room || c.Password == "" || c.Broker == "" {
		return Enrolled{}, errors.New("agent: enroll: the hub's answer lacks the broker, a valid user name or the password")
	}
	if strings.ContainsAny(c.Broker+c.Password, "\r\n") {
		return Enrolled{}, errors.New("agent: enroll: the hub's answer has a line break in the broker or password")
	}
	if _, err := checkBroker(c.Broker); err != nil {
		return Enrolled{}, fmt.Errorf("agent: enroll: the hub gave %w", err)
	}
	return Enrolled{Site: c.Site, Room: c.Room, Credentials: Credentials{Broker: c.Broker, Username: c.Username, Password: c.Password}}, nil
}

// WriteCredentials writes e's credentials to path in the form LoadCredentials reads (and `hub
// agents add` prints), readable by the owner only (0600). It replaces the file atomically.
func WriteCredentials(path string, e Enrolled) error {
	values, err := yaml.Marshal(e.Credentials) // quotes what needs quoting
	if err != nil {
		return fmt.Errorf("agent: credentials: %w", err)
	}
	text := fmt.Sprintf("# Bailiff agent credentials for %s/%s. Keep this file secret.\n%s", e.Site, e.Room, values)
	if err := writeFile0600(path, []byte(text)); err != nil {
		return fmt.Errorf("agent: credentials: %w", err)
	}
	return nil
}

// writeFile0600 replaces path with data, mode 0600, through a temporary file and a rename.
func writeFile0600(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// ConfigCacheFor is where an agent whose credentials are in credFile keeps the last config
// the hub pushed: beside it, "NAME.config.json" for "NAME.yaml".
func ConfigCacheFor(credFile string) string {
	if credFile == "" {
		return ""
	}
	return strings.TrimSuffix(credFile, filepath.Ext(credFile)) + ".config.json"
}

// BootstrapRoom is the room an agent starts with when it has credentials but no config file:
// its site and room, from its user name (agent/SITE/ROOM), and no devices. The agent then
// runs the config the hub pushes on the room's retained config topic (or the one it kept from
// a previous run).
func BootstrapRoom(username string) (*config.Room, error) {
	site, room, ok := wire.ParseAgentUser(username)
	if !ok {
		return nil, fmt.Errorf("agent: without --config the credentials must name the room: user name %q is not agent/SITE/ROOM", username)
	}
	r := config.DefaultRoom()
	r.Site, r.Room, r.File = site, room, "(none: waiting for the hub's config)"
	return &r, nil
}
