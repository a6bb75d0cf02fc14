package broker

import (
	"bytes"
	"context"
	"crypto/subtle"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"time"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/listeners"
	"github.com/mochi-mqtt/server/v2/packets"
)

// Authenticator checks an MQTT login that is not the hub's own. It is declared here and
// implemented by the hub over its store.
type Authenticator interface {
	// Authenticate returns nil when password is right for user.
	Authenticate(ctx context.Context, user, password string) error
}

// EmbeddedConfig configures the embedded broker.
type EmbeddedConfig struct {
	Listen      string // host:port of the MQTT TCP listener
	Persist     KV     // where sessions and retained messages persist (nil keeps them in memory)
	HubPassword string // the password of the hub's own login (user HubUser)
	Auth        Authenticator
	Logger      *slog.Logger
	// TLS, when set, makes the listener TLS only. With ClientCAs in it, an agent may log in
	// with a client certificate instead of a password (see certLogin).
	TLS *tls.Config
	// Certs checks agent certificates at connect (revocation); required with TLS ClientCAs.
	Certs CertChecker
}

// CertChecker decides whether a verified agent certificate may still log in.
type CertChecker interface {
	// CheckAgentCert returns nil when the certificate with serial (hex), issued to site/room,
	// is known and not revoked.
	CheckAgentCert(ctx context.Context, serial, site, room string) error
}

// Embedded is a mochi-mqtt broker inside the hub.
type Embedded struct {
	srv  *mqtt.Server
	tcp  *listeners.TCP
	hook *aclHook
	tls  bool
	log  *slog.Logger
}

// StartEmbedded starts the broker and its listener. The broker enforces the contract's
// authentication and ACL for every client, and restores sessions and retained messages from
// DataDir.
func StartEmbedded(cfg EmbeddedConfig) (*Embedded, error) {
	if cfg.Auth == nil || cfg.HubPassword == "" {
		return nil, errors.New("broker: an authenticator and a hub password are required")
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	caps := mqtt.NewDefaultServerCapabilities()
	caps.MaximumSessionExpiryInterval = 7 * 24 * 3600 // forget a disconnected session after a week
	caps.MaximumMessageExpiryInterval = 24 * 3600
	srv := mqtt.New(&mqtt.Options{
		Capabilities:           caps,
		Logger:                 log.With("component", "mqtt"),
		SysTopicResendInterval: 10,
	})
	if cfg.TLS != nil && cfg.TLS.ClientCAs != nil && cfg.Certs == nil {
		return nil, errors.New("broker: a certificate checker is required when clients may present certificates")
	}
	hook := &aclHook{auth: cfg.Auth, hubPassword: cfg.HubPassword, certs: cfg.Certs, log: log}
	if err := srv.AddHook(hook, nil); err != nil {
		return nil, fmt.Errorf("broker: %w", err)
	}
	if err := srv.AddHook(&retainGuard{aliasMax: caps.TopicAliasMaximum}, nil); err != nil {
		return nil, fmt.Errorf("broker: %w", err)
	}
	if cfg.Persist != nil {
		if err := srv.AddHook(newPersistHook(cfg.Persist, log), nil); err != nil {
			return nil, fmt.Errorf("broker: session store: %w", err)
		}
	}
	tcp := listeners.NewTCP(listeners.Config{ID: "tcp", Address: cfg.Listen, TLSConfig: cfg.TLS})
	if err := srv.AddListener(stopAcceptingFirst{tcp}); err != nil {
		srv.Close()
		return nil, fmt.Errorf("broker: listen on %s: %w", cfg.Listen, err)
	}
	if err := srv.Serve(); err != nil {
		srv.Close()
		return nil, fmt.Errorf("broker: serve: %w", err)
	}
	return &Embedded{srv: srv, tcp: tcp, hook: hook, tls: cfg.TLS != nil, log: log}, nil
}

// stopAcceptingFirst closes its listener's socket before the listener's clients. mochi closes
// the clients first: a client that reconnects at once (an agent) then reaches the closing
// broker, whose socket still accepts, and waits for a CONNACK that never comes until its
// connect timeout, long after a restarted broker is back.
type stopAcceptingFirst struct{ *listeners.TCP }

func (l stopAcceptingFirst) Close(closeClients listeners.CloseFn) {
	l.TCP.Close(func(string) {}) // marks the listener ended and closes its socket
	closeClients(l.ID())
}

// Addr is the address the listener is bound to.
func (e *Embedded) Addr() string { return e.tcp.Address() }

// URL is the broker's URL for clients, tcp://host:port, or ssl://host:port with TLS.
func (e *Embedded) URL() string {
	if e.tls {
		return "ssl://" + e.Addr()
	}
	return "tcp://" + e.Addr()
}

// Close stops the broker; its sessions and retained messages stay in its store. mochi's Close
// can deadlock when a client connects or disconnects at the same moment (mochi-mqtt/server
// issue 488), so Close gives it closeWait and then returns regardless, saying so.
func (e *Embedded) Close() error {
	done := make(chan error, 1)
	go func() { done <- e.srv.Close() }()
	select {
	case err := <-done:
		return err
	case <-time.After(closeWait):
		return fmt.Errorf("broker: did not stop within %s (mochi-mqtt issue 488); going on", closeWait)
	}
}

const closeWait = 5 * time.Second

// Disconnect ends the connection of a client by ID (revocation; tests), as if its network
// had failed: its will is published.
func (e *Embedded) Disconnect(clientID string) bool {
	cl, ok := e.srv.Clients.Get(clientID)
	if !ok {
		return false
	}
	e.srv.DisconnectClient(cl, packets.ErrNotAuthorized)
	return true
}

// Clients is the number of connected clients.
func (e *Embedded) Clients() int {
	n := 0
	for _, cl := range e.srv.Clients.GetAll() {
		if !cl.Closed() {
			n++
		}
	}
	return n
}

// aclHook authenticates logins and enforces the room-scoped ACL.
type aclHook struct {
	mqtt.HookBase
	auth        Authenticator
	hubPassword string
	certs       CertChecker
	log         *slog.Logger
}

func (h *aclHook) ID() string { return "bailiff-acl" }

func (h *aclHook) Provides(b byte) bool {
	return bytes.Contains([]byte{mqtt.OnConnectAuthenticate, mqtt.OnACLCheck}, []byte{b})
}

func (h *aclHook) OnConnectAuthenticate(cl *mqtt.Client, pk packets.Packet) bool {
	user := string(pk.Connect.Username)
	if done, ok := h.certLogin(cl, user); done {
		return ok
	}
	id := IdentityOf(user)
	if id.Role == RoleNone {
		h.log.Warn("mqtt login refused", "user", user, "client", cl.ID, "error", "no such user")
		return false
	}
	if !ClientIDAllowed(id, user, cl.ID) {
		h.log.Warn("mqtt login refused", "user", user, "client", cl.ID, "error", "client ID not allowed for this user")
		return false
	}
	pw := string(pk.Connect.Password)
	if id.Role == RoleHub {
		if subtle.ConstantTimeCompare([]byte(h.hubPassword), []byte(pw)) == 1 {
			return true
		}
		h.log.Warn("mqtt login refused", "user", user, "client", cl.ID, "error", "wrong password")
		return false
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := h.auth.Authenticate(ctx, user, pw); err != nil {
		h.log.Warn("mqtt login refused", "user", user, "client", cl.ID, "error", err)
		return false
	}
	return true
}

func (h *aclHook) OnACLCheck(cl *mqtt.Client, topic string, write bool) bool {
	ok := Allowed(IdentityOf(string(cl.Properties.Username)), topic, write)
	if !ok {
		h.log.Warn("mqtt access denied", "client", cl.ID, "topic", topic, "write", write)
	}
	return ok
}
