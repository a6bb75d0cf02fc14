// Package hub assembles the hub: store, broker (embedded or external), the MQTT client that
// is the hub's only way to agents, the registry, the command router and the HTTP API.
package hub

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bailiff/bailiff/internal/config"
	"github.com/bailiff/bailiff/internal/hub/alarms"
	"github.com/bailiff/bailiff/internal/hub/api"
	"github.com/bailiff/bailiff/internal/hub/audit"
	"github.com/bailiff/bailiff/internal/hub/auth"
	"github.com/bailiff/bailiff/internal/hub/broker"
	"github.com/bailiff/bailiff/internal/hub/commands"
	"github.com/bailiff/bailiff/internal/hub/hearings"
	"github.com/bailiff/bailiff/internal/hub/queue"
	"github.com/bailiff/bailiff/internal/hub/registry"
	"github.com/bailiff/bailiff/internal/hub/scenes"
	"github.com/bailiff/bailiff/internal/pki"
	"github.com/bailiff/bailiff/internal/store"
	"github.com/bailiff/bailiff/internal/wire"
	"github.com/bailiff/bailiff/media/record"
	"github.com/bailiff/bailiff/media/relay"
	"github.com/bailiff/bailiff/media/sfu"
	"github.com/bailiff/bailiff/media/whip"
	"github.com/pion/webrtc/v4"
)

// ExternalBroker is a broker the hub uses instead of embedding one.
type ExternalBroker struct {
	URL, Username, Password string
	// ShareGroup, when set, makes this hub one of a group sharing the broker and a
	// PostgreSQL store (shared.go).
	ShareGroup string
}

// Options configures a hub.
type Options struct {
	HTTPListen string // host:port of the API
	// PublicListen, when set, is a second HTTP(S) listener for the outside network that serves
	// only the visitor page, an invite's own view and invite-scoped WHIP/WHEP (public.go).
	PublicListen   string
	MQTTListen     string          // host:port of the embedded broker (ignored with External)
	External       *ExternalBroker // nil: embed the broker
	DataDir        string          // store and broker state
	Rooms          []*config.Room
	CommandTimeout time.Duration // default 5s
	Logger         *slog.Logger
	Version        string
	// Web serves everything outside /api, /healthz and /metrics (the panels); nil serves nothing.
	Web http.Handler
	// AgentBrokerURL is the broker URL given to agents that enroll (POST /api/v1/enroll);
	// "" gives the broker's own URL.
	AgentBrokerURL string
	// LampHours is the lamp-hours alarm threshold (hub.yaml alarms.lamp_hours); 0: 2000.
	LampHours int
	// Media is where WebRTC media flows (UDP address or port range, NAT addresses, which
	// interfaces and remote addresses ICE may use). The zero value: a port per session, all
	// interfaces.
	Media sfu.Network
	// ICEServers are STUN/TURN servers advertised to WHIP/WHEP clients in Link headers.
	ICEServers []webrtc.ICEServer
	// TURN, when set, runs the embedded TURN server; every WHIP/WHEP answer then carries a
	// short-lived credential for it.
	TURN *TURNOptions
	// TLS, when set, serves HTTPS and MQTT over TLS (tls.go).
	TLS *TLSOptions
	// Pull makes the hub a media origin for replica hubs and a replica of origin hubs
	// (media_pull.go).
	Pull PullOptions

	// StoreDriver is store.DriverSQLite ("" too: hub.db in DataDir) or store.DriverPostgres
	// (StoreDSN), which several hubs may share.
	StoreDriver, StoreDSN string
}

// Hub is a running hub.
type Hub struct {
	opts      Options
	log       *slog.Logger
	store     *store.Store
	embedded  *broker.Embedded
	bus       *broker.Bus
	shared    *broker.Bus // the shared subscriptions' client; nil unless sharing (shared.go)
	hubFeed   *hubFeed    // feed events to and from the other hubs; nil unless sharing (hubfeed.go)
	feed      *registry.Feed
	reg       *registry.Registry
	router    *commands.Router
	metrics   *metrics
	http      *http.Server
	httpLn    net.Listener
	pubHTTP   *http.Server  // the public listener's server; nil when it is off
	pubLn     net.Listener  // nil when it is off
	pubDone   chan struct{} // closed when pubHTTP has stopped serving
	brokerURL string
	recKey    ed25519.PrivateKey // signs recording manifests
	sfu       *sfu.SFU
	whip      *whip.Server
	pull      *mediaPull // origins and replicas
	turn      *relay.Server
	invites   *invites
	recs      *recordings
	audit     *audit.Log
	actions   *hubActions
	scenes    *scenes.Runner
	hearings  *hearings.Service
	prov      *provisioning
	alarms    *alarms.Service
	fw        *firmware
	fwKey     ed25519.PrivateKey
	queues    *queue.Manager
	ca        *pki.CA                         // the CA that issues; nil without TLS
	trust     *pki.Trust                      // every CA trusted (a CA rotation's overlap); nil without TLS
	tlsCert   *tls.Certificate                // the hub's first server certificate; nil without TLS
	cert      atomic.Pointer[tls.Certificate] // the server certificate presented now (tlsrenew.go)
	programs  *programs                       // rooms' program streams, voice following, privacy (program.go)

	leading    atomic.Bool   // this hub runs the group's periodic jobs (leader.go)
	leaderDone chan struct{} // closed when lead has returned; nil before it starts

	cancel    context.CancelFunc
	serveDone chan struct{}
	closeOnce sync.Once
}

// OptionsFrom makes hub options from a loaded hub config and its rooms.
func OptionsFrom(c *config.Hub, rooms []*config.Room) (Options, error) {
	o := Options{
		HTTPListen:     c.HTTP.Listen,
		PublicListen:   c.HTTP.PublicListen,
		MQTTListen:     c.MQTT.Listen,
		DataDir:        c.DataDir(),
		Rooms:          rooms,
		CommandTimeout: c.Commands.Timeout.D(),
		AgentBrokerURL: c.MQTT.AgentURL,
		LampHours:      c.Alarms.LampHours,
		StoreDriver:    c.Store.Driver,
	}
	if c.Store.Driver == config.StorePostgres {
		dsn, err := c.StoreDSN()
		if err != nil {
			return o, err
		}
		o.StoreDSN = dsn
	}
	if e := c.MQTT.External; e.URL != "" {
		pw, err := c.MQTTPassword()
		if err != nil {
			return o, err
		}
		o.External = &ExternalBroker{URL: e.URL, Username: e.Username, Password: pw, ShareGroup: e.ShareGroup}
	}
	var err error
	if o.Media, o.ICEServers, o.TURN, err = MediaFrom(c); err != nil {
		return o, err
	}
	o.TLS = TLSFrom(c)
	o.Pull = PullFrom(c)
	return o, nil
}

// New starts a hub: it opens the store, starts or reaches the broker, subscribes to every
// agent topic and listens for HTTP. Serve it with Run.
func New(o Options) (h *Hub, err error) {
	if o.CommandTimeout == 0 {
		o.CommandTimeout = 5 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.DataDir == "" {
		return nil, errors.New("hub: a data directory is required")
	}
	h = &Hub{opts: o, log: o.Logger, serveDone: make(chan struct{})}
	started := h // "return nil, err" sets h to nil before this runs
	defer func() {
		if err != nil {
			started.Close()
		}
	}()
	if err := os.MkdirAll(o.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("hub: data directory: %w", err)
	}
	if h.store, err = store.OpenDriver(context.Background(), o.StoreDriver, filepath.Join(o.DataDir, "hub.db"), o.StoreDSN); err != nil {
		return nil, fmt.Errorf("hub: %w", err)
	}
	if h.recKey, err = RecordingKey(o.DataDir); err != nil {
		return nil, fmt.Errorf("hub: %w", err)
	}
	if h.fwKey, err = FirmwareKey(o.DataDir); err != nil {
		return nil, fmt.Errorf("hub: %w", err)
	}

	if err := h.setupTLS(); err != nil {
		return nil, err
	}
	user, password := broker.HubUser, auth.NewSecret()
	if o.External != nil {
		h.brokerURL, user, password = o.External.URL, o.External.Username, o.External.Password
	} else {
		bc := broker.EmbeddedConfig{
			Listen: o.MQTTListen, Persist: h.store, HubPassword: password,
			Auth: storeAuth{h.store}, Logger: h.log,
		}
		h.brokerTLS(&bc)
		h.embedded, err = broker.StartEmbedded(bc)
		if err != nil {
			return nil, fmt.Errorf("hub: %w", err)
		}
		h.brokerURL = h.embedded.URL()
	}

	h.feed = registry.NewFeed(256)
	h.reg = registry.New(h.feed, h.log)
	h.prov = &provisioning{h: h}
	rooms, err := h.prov.loadRooms(context.Background(), o.Rooms)
	if err != nil {
		return nil, err
	}
	h.reg.SetRooms(rooms)
	h.alarms, err = alarms.New(alarms.Config{Store: h.store, Rooms: h.reg, Feed: h.feed, Logger: h.log, LampHours: o.LampHours})
	if err != nil {
		return nil, fmt.Errorf("hub: %w", err)
	}
	h.metrics = newMetrics(h)

	nodeID := make([]byte, 4)
	rand.Read(nodeID)
	node := hex.EncodeToString(nodeID)
	bus, err := broker.DialBus(broker.BusConfig{
		URL: h.brokerURL, ClientID: "hub/" + node,
		Username: user, Password: password, Logger: h.log, TLS: h.busTLS(),
	}, 15*time.Second)
	if err != nil {
		return nil, fmt.Errorf("hub: %w", err)
	}
	h.bus = bus
	h.router = commands.New(bus, o.CommandTimeout, h.log, h.metrics.observeCommand)
	if h.sharing() {
		h.router.SetOrigin(node + "-")
	}
	if err := h.startQueues(); err != nil {
		return nil, err
	}
	h.reg.Restore = func(topic string, payload []byte) {
		if err := bus.Publish(topic, 1, true, payload); err != nil {
			h.log.Warn("restore agent status", "topic", topic, "error", err)
		}
	}
	handle := func(topic string, payload []byte, _ bool) {
		h.metrics.received(topic)
		h.reg.Handle(topic, payload)
	}
	for _, s := range []struct {
		filter string
		qos    byte
		h      broker.Handler
	}{
		{wire.FilterAgents, 1, handle},
		{wire.FilterStates, 1, handle},
		{wire.FilterEvents, 1, func(topic string, payload []byte, retained bool) {
			handle(topic, payload, retained)
			if !h.sharing() { // else one hub of the group takes it (shared.go)
				h.queueEvent(topic, payload)
			}
		}},
		{wire.FilterMeters, 0, handle},
		{wire.FilterAcks, 1, func(topic string, payload []byte, _ bool) {
			h.metrics.messages.Inc()
			h.router.HandleAck(topic, payload)
		}},
	} {
		if err := bus.Subscribe(s.filter, s.qos, s.h); err != nil {
			return nil, fmt.Errorf("hub: %w", err)
		}
	}
	if h.sharing() {
		if err := h.startShared(node, user, password); err != nil {
			return nil, err
		}
		if err := h.startHubFeed(node); err != nil {
			return nil, fmt.Errorf("hub: feed of the other hubs: %w", err)
		}
	}

	h.prov.publishAll()

	if h.invites, err = newInvites(h); err != nil {
		return nil, err
	}
	if err := h.startMedia(); err != nil {
		return nil, err
	}
	h.recs = &recordings{h: h, active: map[string]*activeRecording{}}
	h.recs.recoverAll(context.Background())
	if err := h.startPrograms(context.Background(), rooms); err != nil {
		return nil, err
	}
	h.audit = &audit.Log{Store: h.store, Log: h.log}
	h.actions = &hubActions{h: h}
	h.scenes = &scenes.Runner{Commands: h.router, Hub: h.actions, Room: h.prov.room, Online: h.reg.Online,
		Timeout: o.CommandTimeout, Report: h.sceneReport, Log: h.log}
	if h.sharing() {
		h.scenes.Exclusive = h.sceneLock
	}
	h.hearings = &hearings.Service{Store: h.store, Scenes: h.scenes, Recorder: recorder{h.recs}, Audit: h.audit,
		RoomKnown: func(site, room string) bool { _, ok := h.prov.room(site, room); return ok },
		Publish:   h.feed.Publish, Log: h.log, Ended: h.invites.hearingEnded}
	if _, err := h.hearings.RestoreRecordings(context.Background()); err != nil {
		h.log.Error("hearings in session", "error", err)
	}
	h.fw = &firmware{h: h, ctx: context.Background()}
	srv := &api.Server{
		Store: h.store, Registry: h.reg, Feed: h.feed, Commands: h.router,
		Metrics: h.metrics.handler(), Health: h.health, Log: h.log, Streams: h.streams, Recordings: h.recs,
		Audit: h.audit, AuditLog: h.store, Scenes: h.scenes, Hearings: h.hearings,
		Provisioning: h.prov, Alarms: alarmAPI{h.alarms},
		Invites:  h.invites,
		Firmware: h.fw, AgentAuth: h.agentAuth, LoginCounts: h.sharedLoginCounts(),
		Queues:   h.queues,
		Privacy:  h.Privacy,
		Agents:   h.prov,
		Programs: h.programs,
	}
	if h.ca != nil && h.ca.Key != nil {
		srv.Renewer = h.prov
	}
	mux := http.NewServeMux()
	apiH := srv.Handler()
	mux.Handle("/api/", apiH)
	mux.Handle("/healthz", apiH)
	mux.Handle("/metrics", apiH)
	mux.Handle("/whip/", h.whip)
	mux.Handle("/whep/", h.whip)
	if o.Web != nil {
		mux.Handle("/", o.Web)
	}
	if h.httpLn, err = net.Listen("tcp", o.HTTPListen); err != nil {
		return nil, fmt.Errorf("hub: http listen on %s: %w", o.HTTPListen, err)
	}
	h.httpLn = h.httpsListener(h.httpLn)
	baseCtx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	h.fw.ctx = baseCtx // before the first request: rollouts run until the hub closes
	// Rollouts the last run left running go on, known before the first request asks. With
	// several hubs, the leader resumes those that no hub runs (leader.go).
	if !h.sharing() {
		if n, err := h.fw.resumeRollouts(baseCtx); err != nil {
			h.log.Error("firmware rollouts to resume", "error", err)
		} else if n > 0 {
			h.log.Info("firmware rollouts resumed", "count", n)
		}
	}
	h.http = &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		BaseContext:       func(net.Listener) context.Context { return baseCtx },
		ErrorLog:          slog.NewLogLogger(h.log.Handler(), slog.LevelWarn),
	}
	go func() {
		defer close(h.serveDone)
		if err := h.http.Serve(h.httpLn); err != nil && !errors.Is(err, http.ErrServerClosed) {
			h.log.Error("http serve", "error", err)
		}
	}()
	if err := h.startPublic(baseCtx, apiH); err != nil {
		return nil, err
	}
	h.leaderDone = make(chan struct{})
	go h.lead(baseCtx) // alarms, session pruning, the queues' reset (leader.go)
	go h.fw.watch(baseCtx)
	go h.sweepRevoked(baseCtx)
	go h.renewServerCert(baseCtx)
	h.log.Info("hub started", "http", h.HTTPAddr(), "public_http", h.PublicAddr(), "mqtt", h.brokerURL, "rooms", len(rooms), "embedded_broker", h.embedded != nil)
	return h, nil
}

// Run serves until ctx is done, then closes the hub.
func (h *Hub) Run(ctx context.Context) error {
	<-ctx.Done()
	h.Close()
	return nil
}

// Close stops the hub: HTTP (event streams end), the MQTT client, the broker, the store.
func (h *Hub) Close() {
	h.closeOnce.Do(func() {
		if h.http != nil {
			h.cancel()
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
			if h.pubHTTP != nil {
				h.pubHTTP.Shutdown(ctx)
				<-h.pubDone
			}
			h.http.Shutdown(ctx)
			cancel()
			<-h.serveDone
		} else if h.httpLn != nil {
			h.httpLn.Close()
		}
		if h.recs != nil {
			h.recs.stopAll()
		}
		if h.programs != nil {
			h.programs.close()
		}
		if h.whip != nil {
			h.whip.Close()
		}
		if h.turn != nil {
			h.turn.Close()
		}
		if h.sfu != nil {
			h.sfu.Close()
		}
		if h.hubFeed != nil {
			h.hubFeed.close()
		}
		if h.shared != nil {
			h.shared.Close()
		}
		if h.bus != nil {
			h.bus.Close()
		}
		if h.embedded != nil {
			if err := h.embedded.Close(); err != nil {
				h.log.Error("close broker", "error", err)
			}
		}
		if h.leaderDone != nil {
			<-h.leaderDone // its lock released before the store closes
		}
		if h.store != nil {
			h.store.Close()
		}
	})
}

// HTTPAddr is the address the API listens on.
func (h *Hub) HTTPAddr() string { return h.httpLn.Addr().String() }

// BrokerURL is the URL agents connect to.
func (h *Hub) BrokerURL() string { return h.brokerURL }

// Embedded is the embedded broker, nil with an external one.
func (h *Hub) Embedded() *broker.Embedded { return h.embedded }

// Store is the hub's store.
func (h *Hub) Store() *store.Store { return h.store }

// Registry is the hub's picture of the rooms.
func (h *Hub) Registry() *registry.Registry { return h.reg }

func (h *Hub) health(ctx context.Context) map[string]error {
	out := map[string]error{"store": h.store.Ping(ctx)}
	if h.bus.Connected() {
		out["broker"] = nil
	} else {
		out["broker"] = errors.New("the hub is not connected to the MQTT broker")
	}
	return out
}

// storeAuth checks agents' and MQTT users' logins against the store.
type storeAuth struct{ st *store.Store }

func (a storeAuth) Authenticate(ctx context.Context, user, password string) error {
	if site, room, ok := wire.ParseAgentUser(user); ok {
		h, err := a.st.AgentHash(ctx, site, room)
		if err != nil {
			return fmt.Errorf("agent %s/%s: %w", site, room, err)
		}
		if !auth.CheckSecret(h, password) {
			return errors.New("wrong password")
		}
		return nil
	}
	u, err := a.st.MQTTUser(ctx, user)
	if err != nil {
		return err
	}
	return auth.CheckPassword(u.Hash, password)
}

// Key paths in the data directory.
const (
	recordingKeyFile = "keys/recording.key" // the hub's ed25519 key for recording manifests
	firmwareKeyFile  = "keys/firmware.key"  // the hub's ed25519 key for firmware image manifests
	keyringFile      = "keys/keyring.pem"   // every public key that ever signed, for verification
)

// RecordingKey loads the hub's recording key from the data directory, making one on first
// start, and makes sure its public half is in the keyring (so recordings it signs still
// verify after the key is rotated).
func RecordingKey(dataDir string) (ed25519.PrivateKey, error) {
	return signingKey(dataDir, recordingKeyFile)
}

// FirmwareKey loads the hub's firmware signing key (for firmware image manifests) from the
// data directory, making one on first start, as RecordingKey does. Devices trust its public
// half (hub firmware-key prints it).
func FirmwareKey(dataDir string) (ed25519.PrivateKey, error) {
	return signingKey(dataDir, firmwareKeyFile)
}

// signingKey loads (or makes) the ed25519 key at file in the data directory and adds its
// public half to the keyring.
func signingKey(dataDir, file string) (ed25519.PrivateKey, error) {
	return keyWithRing(dataDir, file, keyringFile)
}

// keyWithRing loads (or makes) the ed25519 key at file in the data directory and adds its
// public half to the keyring at ring.
func keyWithRing(dataDir, file, ring string) (ed25519.PrivateKey, error) {
	key, err := record.LoadOrCreateKey(filepath.Join(dataDir, file))
	if err != nil {
		return nil, err
	}
	if err := record.AddToKeyring(filepath.Join(dataDir, ring), key.Public().(ed25519.PublicKey)); err != nil {
		return nil, err
	}
	return key, nil
}

// VerifyRecording checks a recording directory against the keyring of the data directory.
func VerifyRecording(dataDir, dir string) (*record.Report, error) {
	ring, err := record.LoadKeyring(filepath.Join(dataDir, keyringFile))
	if err != nil {
		return nil, err
	}
	return record.VerifyWithKeyring(dir, ring)
}

// Bus is the hub's MQTT client.
func (h *Hub) Bus() *broker.Bus { return h.bus }

// housekeeping deletes expired API sessions every hour until ctx ends.
func (h *Hub) housekeeping(ctx context.Context) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		if n, err := h.store.PruneSessions(ctx, time.Now()); err != nil && ctx.Err() == nil {
			h.log.Warn("prune sessions", "error", err)
		} else if n > 0 {
			h.log.Info("pruned expired sessions", "count", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
