package loadgen

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strings"

	"github.com/bailiff/bailiff/internal/hub"
	"github.com/bailiff/bailiff/internal/hub/auth"
	"github.com/bailiff/bailiff/internal/hub/broker"
	"github.com/bailiff/bailiff/internal/store"
	"github.com/bailiff/bailiff/internal/wire"
)

// APIUser is the technician the load generator logs in as.
const APIUser = "loadgen"

// Creds is what the load generator needs to play the agents and the API clients: the file
// `loadgen provision` writes and `loadgen run --creds` reads. It holds passwords: keep it
// private.
type Creds struct {
	Broker      string       `json:"broker"`
	Site        string       `json:"site"`
	APIUser     string       `json:"api_user"`
	APIPassword string       `json:"api_password"`
	Agents      []AgentCreds `json:"agents"`
}

// AgentCreds are one simulated agent's login.
type AgentCreds struct {
	Room     string `json:"room"`
	Password string `json:"password"`
}

// RoomID is the ID of the i-th simulated room (0-based): r0001, r0002, …
func RoomID(i int) string { return fmt.Sprintf("r%04d", i+1) }

// DeviceID is the ID of the j-th device (0-based) of a simulated room: d1 … d8.
func DeviceID(j int) string { return fmt.Sprintf("d%d", j+1) }

// Provision issues credentials for n agents of site (rooms RoomID(0…n-1)) and an API
// technician in the hub's store, through the hub's own admin functions, and returns them.
// It works on the store of a stopped hub as well as a running one.
func Provision(ctx context.Context, st *store.Store, brokerURL, site string, n int) (*Creds, error) {
	if err := wire.CheckID("site", site); err != nil {
		return nil, err
	}
	if n < 1 || n > 9999 {
		return nil, fmt.Errorf("loadgen: agents must be 1 to 9999, not %d", n)
	}
	c := &Creds{Broker: brokerURL, Site: site, APIUser: APIUser, APIPassword: auth.NewSecret()}
	if err := hub.AddUser(ctx, st, c.APIUser, "technician", c.APIPassword); err != nil {
		return nil, fmt.Errorf("loadgen: API user: %w", err)
	}
	for i := range n {
		ac, err := hub.AddAgent(ctx, st, brokerURL, site, RoomID(i))
		if err != nil {
			return nil, fmt.Errorf("loadgen: %w", err)
		}
		c.Agents = append(c.Agents, AgentCreds{Room: RoomID(i), Password: ac.Password})
	}
	return c, nil
}

// ProvisionDataDir opens (or makes) the store in a hub's data directory and provisions it.
func ProvisionDataDir(ctx context.Context, dataDir, brokerURL, site string, n int) (*Creds, error) {
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("loadgen: data directory: %w", err)
	}
	st, err := store.Open(filepath.Join(dataDir, "hub.db"))
	if err != nil {
		return nil, fmt.Errorf("loadgen: %w", err)
	}
	defer st.Close()
	return Provision(ctx, st, brokerURL, site, n)
}

// WriteCreds writes creds to file, readable by its owner only.
func WriteCreds(file string, c *Creds) error {
	b, err := json.MarshalIndent(c, "", " ")
	if err != nil {
		return err
	}
	return os.WriteFile(file, append(b, '\n'), 0o600)
}

// ReadCreds reads a file WriteCreds wrote.
func ReadCreds(file string) (*Creds, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("loadgen: credentials: %w", err)
	}
	return parseCreds(file, b)
}

func parseCreds(file string, b []byte) (*Creds, error) {
	var c Creds
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, fmt.Errorf("loadgen: credentials %s: %w", file, err)
	}
	if err := wire.CheckID("site", c.Site); err != nil {
		return nil, fmt.Errorf("loadgen: credentials %s: %w", file, err)
	}
	if c.APIUser == "" || c.APIPassword == "" || len(c.Agents) == 0 {
		return nil, fmt.Errorf("loadgen: credentials %s: api_user, api_password and agents are required", file)
	}
	for _, a := range c.Agents {
		if err := wire.CheckID("room", a.Room); err != nil {
			return nil, fmt.Errorf("loadgen: credentials %s: %w", file, err)
		}
	}
	return &c, nil
}

// WriteMosquitto writes, into dir, what mosquitto needs to accept the hub and the simulated
// agents: a password file ("passwd", hashed with mosquitto_passwd -U), the contract's ACL
// ("acl", as `hub mosquitto-acl` makes it) and "mosquitto.conf" listening on listen
// (host:port) with them, run as the current user. Start it with `mosquitto -c DIR/mosquitto.conf`.
func WriteMosquitto(dir, listen string, c *Creds, hubUser, hubPassword string) error {
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return fmt.Errorf("loadgen: mosquitto listen address: %w", err)
	}
	me, err := user.Current()
	if err != nil {
		return err
	}
	dir, err = filepath.Abs(dir)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	var pw strings.Builder
	fmt.Fprintf(&pw, "%s:%s\n", hubUser, hubPassword)
	rooms := make([][2]string, 0, len(c.Agents))
	for _, a := range c.Agents {
		fmt.Fprintf(&pw, "%s:%s\n", wire.AgentUser(c.Site, a.Room), a.Password)
		rooms = append(rooms, [2]string{c.Site, a.Room})
	}
	pwFile := filepath.Join(dir, "passwd")
	if err := os.WriteFile(pwFile, []byte(pw.String()), 0o600); err != nil {
		return err
	}
	if out, err := exec.Command("mosquitto_passwd", "-U", pwFile).CombinedOutput(); err != nil {
		os.Remove(pwFile) // never leave the passwords in clear
		return fmt.Errorf("loadgen: mosquitto_passwd -U: %v: %s", err, out)
	}
	aclFile := filepath.Join(dir, "acl")
	if err := os.WriteFile(aclFile, []byte(broker.MosquittoACL(hubUser, nil, rooms)), 0o600); err != nil {
		return err
	}
	// As root mosquitto would drop to a user that cannot read these private files: run it as
	// their owner. Nagle's algorithm off, or every ack waits for a delayed TCP ACK.
	conf := fmt.Sprintf(`user %s
listener %s %s
allow_anonymous false
password_file %s
acl_file %s
persistence false
log_dest stderr
log_type error
log_type warning
set_tcp_nodelay true
max_queued_messages 10000
`, me.Username, port, host, pwFile, aclFile)
	return os.WriteFile(filepath.Join(dir, "mosquitto.conf"), []byte(conf), 0o600)
}
