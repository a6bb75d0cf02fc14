package hub

import (
	"context"
	"fmt"

	"github.com/bailiff/bailiff/internal/hub/auth"
	"github.com/bailiff/bailiff/internal/hub/broker"
	"github.com/bailiff/bailiff/internal/store"
	"github.com/bailiff/bailiff/internal/wire"
)

// Credentials are what an agent needs to log in to the broker.
type Credentials struct {
	Broker   string
	Username string
	Password string
}

// YAML renders credentials as the file `agent --credentials` reads.
func (c Credentials) YAML(site, room string) string {
	return fmt.Sprintf("# Bailiff agent credentials for %s/%s. Keep this file secret.\nbroker: %s\nusername: %s\npassword: %s\n",
		site, room, c.Broker, c.Username, c.Password)
}

// AddAgent issues new credentials for the agent of site/room, replacing any it had (the old
// password stops working at the agent's next login). Only the hash is stored.
func AddAgent(ctx context.Context, st *store.Store, brokerURL, site, room string) (Credentials, error) {
	if err := wire.CheckID("site", site); err != nil {
		return Credentials{}, err
	}
	if err := wire.CheckID("room", room); err != nil {
		return Credentials{}, err
	}
	secret := auth.NewSecret()
	if err := st.PutAgent(ctx, site, room, auth.HashSecret(secret)); err != nil {
		return Credentials{}, err
	}
	return Credentials{Broker: brokerURL, Username: wire.AgentUser(site, room), Password: secret}, nil
}

// AddUser creates or replaces an API user with an argon2id hash of password.
func AddUser(ctx context.Context, st *store.Store, name, role, password string) error {
	if name == "" || len(name) > 64 {
		return fmt.Errorf("user name must be 1-64 characters")
	}
	if !auth.ValidRole(role) {
		return fmt.Errorf("unknown role %q: want technician, judge, clerk, monitor, visitor or kiosk", role)
	}
	if len(password) < 4 {
		return fmt.Errorf("password too short")
	}
	h, err := auth.HashPassword(password)
	if err != nil {
		return err
	}
	return st.PutUser(ctx, store.User{Name: name, Role: role, Hash: h})
}

// AddObserver creates or replaces an MQTT user that may only read bailiff/#.
func AddObserver(ctx context.Context, st *store.Store, name, password string) error {
	if name == "" || broker.ReservedUser(name) {
		return fmt.Errorf("MQTT user name %q is reserved or empty", name)
	}
	h, err := auth.HashPassword(password)
	if err != nil {
		return err
	}
	return st.PutMQTTUser(ctx, store.MQTTUser{Name: name, Access: store.AccessRead, Hash: h})
}
