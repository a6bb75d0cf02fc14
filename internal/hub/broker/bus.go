package broker

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
)

// Handler receives one message of a subscription. It runs on the client's delivery
// goroutine: it must not block.
type Handler func(topic string, payload []byte, retained bool)

// Bus is the hub's MQTT client: the only way the hub's logic reaches agents, whichever the
// broker. Subscriptions are restored on every reconnect.
type Bus struct {
	c         paho.Client
	log       *slog.Logger
	mu        sync.Mutex
	subs      map[string]sub
	connected atomic.Bool
	onConnect func()
}

type sub struct {
	qos byte
	h   Handler
}

// BusConfig configures the hub's MQTT client.
type BusConfig struct {
	URL      string // tcp://host:port
	ClientID string // "hub/…"
	Username string
	Password string
	Logger   *slog.Logger
	// OnConnect runs after every (re)connect, once subscriptions are restored.
	OnConnect func()
	// TLS is the client TLS configuration for ssl:// brokers; nil: paho's default.
	TLS *tls.Config
}

// DialBus connects to the broker, retrying until timeout; afterwards it reconnects by itself.
func DialBus(cfg BusConfig, timeout time.Duration) (*Bus, error) {
	b := &Bus{log: cfg.Logger, subs: map[string]sub{}, onConnect: cfg.OnConnect}
	if b.log == nil {
		b.log = slog.Default()
	}
	o := paho.NewClientOptions().
		AddBroker(cfg.URL).
		SetClientID(cfg.ClientID).
		SetUsername(cfg.Username).
		SetPassword(cfg.Password).
		SetProtocolVersion(4).
		SetCleanSession(true).
		// Handlers run concurrently (faster than one at a time); the registry orders states by
		// their time, and the router matches acks by id.
		SetOrderMatters(false).
		SetKeepAlive(15 * time.Second).
		SetPingTimeout(5 * time.Second).
		SetConnectTimeout(5 * time.Second).
		SetAutoReconnect(true).
		SetConnectRetry(true).
		SetConnectRetryInterval(250 * time.Millisecond).
		SetMaxReconnectInterval(2 * time.Second).
		SetMessageChannelDepth(4096).
		SetOnConnectHandler(b.connected_).
		SetConnectionLostHandler(func(_ paho.Client, err error) {
			b.connected.Store(false)
			b.log.Warn("mqtt connection lost", "broker", cfg.URL, "error", err)
		})
	if cfg.TLS != nil {
		o.SetTLSConfig(cfg.TLS)
	}
	b.c = paho.NewClient(o)
	t := b.c.Connect()
	if !t.WaitTimeout(timeout) {
		b.c.Disconnect(0)
		return nil, fmt.Errorf("broker: connect to %s: no answer within %s", cfg.URL, timeout)
	}
	if err := t.Error(); err != nil {
		b.c.Disconnect(0)
		return nil, fmt.Errorf("broker: connect to %s: %w", cfg.URL, err)
	}
	return b, nil
}

func (b *Bus) connected_(c paho.Client) {
	b.mu.Lock()
	subs := make(map[string]sub, len(b.subs))
	for f, s := range b.subs {
		subs[f] = s
	}
	b.mu.Unlock()
	for f, s := range subs {
		if err := b.subscribe(f, s); err != nil {
			b.log.Error("mqtt resubscribe", "filter", f, "error", err)
		}
	}
	b.connected.Store(true)
	if b.onConnect != nil {
		go b.onConnect()
	}
}

func (b *Bus) subscribe(filter string, s sub) error {
	t := b.c.Subscribe(filter, s.qos, func(_ paho.Client, m paho.Message) {
		s.h(m.Topic(), m.Payload(), m.Retained())
	})
	if !t.WaitTimeout(5 * time.Second) {
		return errors.New("no SUBACK within 5s")
	}
	if err := t.Error(); err != nil {
		return err
	}
	if st, ok := t.(*paho.SubscribeToken); ok {
		for _, code := range st.Result() {
			if code == 0x80 {
				return errors.New("refused by the broker")
			}
		}
	}
	return nil
}

// Subscribe adds a subscription, kept across reconnects.
func (b *Bus) Subscribe(filter string, qos byte, h Handler) error {
	s := sub{qos: qos, h: h}
	b.mu.Lock()
	b.subs[filter] = s
	b.mu.Unlock()
	if err := b.subscribe(filter, s); err != nil {
		return fmt.Errorf("broker: subscribe %s: %w", filter, err)
	}
	return nil
}

// Publish sends a message and, for QoS 1, waits until the broker has it (or 5 s).
func (b *Bus) Publish(topic string, qos byte, retained bool, payload []byte) error {
	t := b.c.Publish(topic, qos, retained, payload)
	if qos == 0 {
		return nil
	}
	if !t.WaitTimeout(5 * time.Second) {
		return fmt.Errorf("broker: publish %s: not acknowledged within 5s", topic)
	}
	if err := t.Error(); err != nil {
		return fmt.Errorf("broker: publish %s: %w", topic, err)
	}
	return nil
}

// ErrNotSent is PublishBy's error for a message it did not hand to the client at all, because
// the broker was not connected: it can never be delivered later.
var ErrNotSent = errors.New("broker: not connected: message not sent")

// PublishBy sends a QoS 1 message only if the broker is connected now (else ErrNotSent, and
// nothing is queued to go out on a reconnect), and waits until the broker has it or deadline.
// A message that was handed over but not acknowledged may still reach the broker later.
func (b *Bus) PublishBy(topic string, retained bool, payload []byte, deadline time.Time) error {
	if !b.Connected() {
		return fmt.Errorf("publish %s: %w", topic, ErrNotSent)
	}
	t := b.c.Publish(topic, 1, retained, payload)
	if !t.WaitTimeout(time.Until(deadline)) {
		return fmt.Errorf("broker: publish %s: not acknowledged by the deadline", topic)
	}
	if err := t.Error(); err != nil {
		return fmt.Errorf("broker: publish %s: %w", topic, err)
	}
	return nil
}

// Connected reports whether the client is connected now.
func (b *Bus) Connected() bool { return b.connected.Load() && b.c.IsConnectionOpen() }

// Close disconnects.
func (b *Bus) Close() { b.c.Disconnect(250) }
