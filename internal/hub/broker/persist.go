package broker

import (
	"bytes"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/hooks/storage"
	"github.com/mochi-mqtt/server/v2/packets"

	"github.com/bailiff/bailiff/internal/store"
)

// KV is where the embedded broker keeps its state across restarts. The hub's store
// implements it.
type KV interface {
	KVApply(ops []store.KVOp) error
	KVAll(bucket string, fn func(key string, value []byte) error) error
}

const (
	bucketClients  = "clients"
	bucketSubs     = "subscriptions"
	bucketRetained = "retained"
	bucketInflight = "inflight"
)

// persistHook is a mochi storage hook: sessions (clients and their subscriptions), retained
// messages and in-flight QoS 1/2 messages survive a restart of the hub.
//
// Mochi calls hooks on the clients' own goroutines. Writing there would make every client
// wait for the database and for each other, so the hook queues its changes and one writer
// goroutine applies them in batches, one transaction every flushEvery at most. A hub killed
// outright loses at most the last batch; agents republish their state when they reconnect.
type persistHook struct {
	mqtt.HookBase
	kv  KV
	log *slog.Logger

	mu      sync.Mutex
	pending []store.KVOp
	kick    chan struct{}
	stop    chan struct{}
	done    chan struct{}
}

const (
	flushEvery = 20 * time.Millisecond
	flushMax   = 2000
)

func newPersistHook(kv KV, log *slog.Logger) *persistHook {
	h := &persistHook{kv: kv, log: log, kick: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
	go h.writer()
	return h
}

func (h *persistHook) writer() {
	defer close(h.done)
	t := time.NewTicker(flushEvery)
	defer t.Stop()
	for {
		select {
		case <-t.C:
		case <-h.kick:
		case <-h.stop:
			h.flush()
			return
		}
		h.flush()
	}
}

func (h *persistHook) flush() {
	h.mu.Lock()
	ops := h.pending
	h.pending = nil
	h.mu.Unlock()
	if len(ops) == 0 {
		return
	}
	if err := h.kv.KVApply(ops); err != nil {
		h.log.Error("broker persistence: write", "ops", len(ops), "error", err)
	}
}

func (h *persistHook) queue(op store.KVOp) {
	h.mu.Lock()
	h.pending = append(h.pending, op)
	n := len(h.pending)
	h.mu.Unlock()
	if n >= flushMax {
		select {
		case h.kick <- struct{}{}:
		default:
		}
	}
}

// Stop writes what is queued; mochi calls it when the broker closes.
func (h *persistHook) Stop() error {
	select {
	case <-h.done:
	default:
		close(h.stop)
		<-h.done
	}
	return nil
}

func (h *persistHook) ID() string { return "bailiff-persist" }

func (h *persistHook) Provides(b byte) bool {
	return bytes.Contains([]byte{
		mqtt.OnSessionEstablished, mqtt.OnDisconnect, mqtt.OnSubscribed, mqtt.OnUnsubscribed,
		mqtt.OnRetainMessage, mqtt.OnWillSent, mqtt.OnQosPublish, mqtt.OnQosComplete, mqtt.OnQosDropped,
		mqtt.OnClientExpired, mqtt.OnRetainedExpired,
		mqtt.StoredClients, mqtt.StoredSubscriptions, mqtt.StoredInflightMessages, mqtt.StoredRetainedMessages,
	}, []byte{b})
}

type marshaler interface{ MarshalBinary() ([]byte, error) }

func (h *persistHook) put(bucket, key string, v marshaler) {
	b, err := v.MarshalBinary()
	if err != nil {
		h.log.Error("broker persistence: encode", "bucket", bucket, "error", err)
		return
	}
	h.queue(store.KVOp{Bucket: bucket, Key: key, Value: b})
}

func (h *persistHook) del(bucket, key string) { h.queue(store.KVOp{Bucket: bucket, Key: key}) }

// clientPrefix starts every key of one client's subscriptions and in-flight messages. The
// length makes it unambiguous whatever the client ID holds.
func clientPrefix(client string) string { return strconv.Itoa(len(client)) + ":" + client + "|" }

func subKey(client, filter string) string { return clientPrefix(client) + filter }

func inflightKey(client string, id uint16) string {
	return clientPrefix(client) + strconv.Itoa(int(id))
}

func (h *persistHook) saveClient(cl *mqtt.Client) {
	p := cl.Properties.Props
	h.put(bucketClients, cl.ID, &storage.Client{
		ID: cl.ID, T: storage.ClientKey, Remote: cl.Net.Remote, Listener: cl.Net.Listener,
		Username: cl.Properties.Username, Clean: cl.Properties.Clean, ProtocolVersion: cl.Properties.ProtocolVersion,
		Properties: storage.ClientProperties{
			SessionExpiryInterval: p.SessionExpiryInterval, AuthenticationMethod: p.AuthenticationMethod,
			AuthenticationData: p.AuthenticationData, RequestProblemInfo: p.RequestProblemInfo,
			RequestResponseInfo: p.RequestResponseInfo, ReceiveMaximum: p.ReceiveMaximum,
			TopicAliasMaximum: p.TopicAliasMaximum, User: p.User, MaximumPacketSize: p.MaximumPacketSize,
		},
		Will: storage.ClientWill(cl.Properties.Will),
	})
}

func (h *persistHook) OnSessionEstablished(cl *mqtt.Client, _ packets.Packet) { h.saveClient(cl) }
func (h *persistHook) OnWillSent(cl *mqtt.Client, _ packets.Packet)           { h.saveClient(cl) }

func (h *persistHook) OnDisconnect(cl *mqtt.Client, _ error, expire bool) {
	if !expire || cl.StopCause() == packets.ErrSessionTakenOver {
		return
	}
	h.forget(cl.ID)
}

func (h *persistHook) OnClientExpired(cl *mqtt.Client) { h.forget(cl.ID) }

// forget removes a client with its subscriptions and in-flight messages.
func (h *persistHook) forget(id string) {
	h.del(bucketClients, id)
	for _, b := range []string{bucketSubs, bucketInflight} {
		h.queue(store.KVOp{Bucket: b, Key: clientPrefix(id), Prefix: true})
	}
}

func (h *persistHook) OnSubscribed(cl *mqtt.Client, pk packets.Packet, codes []byte) {
	for i, f := range pk.Filters {
		if i < len(codes) && codes[i] >= 0x80 {
			continue // refused
		}
		h.put(bucketSubs, subKey(cl.ID, f.Filter), &storage.Subscription{
			ID: subKey(cl.ID, f.Filter), T: storage.SubscriptionKey, Client: cl.ID, Qos: codes[i],
			Filter: f.Filter, Identifier: f.Identifier, NoLocal: f.NoLocal,
			RetainHandling: f.RetainHandling, RetainAsPublished: f.RetainAsPublished,
		})
	}
}

func (h *persistHook) OnUnsubscribed(cl *mqtt.Client, pk packets.Packet) {
	for _, f := range pk.Filters {
		h.del(bucketSubs, subKey(cl.ID, f.Filter))
	}
}

func message(t string, clientID string, pk packets.Packet) *storage.Message {
	p := pk.Properties
	return &storage.Message{
		T: t, Client: clientID, Origin: pk.Origin, FixedHeader: pk.FixedHeader, TopicName: pk.TopicName,
		Payload: pk.Payload, Created: pk.Created, PacketID: pk.PacketID,
		Properties: storage.MessageProperties{
			PayloadFormat: p.PayloadFormat, MessageExpiryInterval: p.MessageExpiryInterval,
			ContentType: p.ContentType, ResponseTopic: p.ResponseTopic, CorrelationData: p.CorrelationData,
			SubscriptionIdentifier: p.SubscriptionIdentifier, TopicAlias: p.TopicAlias, User: p.User,
		},
	}
}

func (h *persistHook) OnRetainMessage(cl *mqtt.Client, pk packets.Packet, r int64) {
	if r == -1 {
		h.del(bucketRetained, pk.TopicName)
		return
	}
	m := message(storage.RetainedKey, cl.ID, pk)
	m.ID = pk.TopicName
	h.put(bucketRetained, pk.TopicName, m)
}

func (h *persistHook) OnRetainedExpired(topic string) { h.del(bucketRetained, topic) }

func (h *persistHook) OnQosPublish(cl *mqtt.Client, pk packets.Packet, sent int64, _ int) {
	if cl.Properties.Clean {
		return // a clean session's in-flight messages die with its connection anyway
	}
	m := message(storage.InflightKey, cl.ID, pk)
	m.ID = inflightKey(cl.ID, pk.PacketID)
	m.Sent = sent
	h.put(bucketInflight, m.ID, m)
}

func (h *persistHook) OnQosComplete(cl *mqtt.Client, pk packets.Packet) {
	if cl.Properties.Clean {
		return
	}
	h.del(bucketInflight, inflightKey(cl.ID, pk.PacketID))
}

func (h *persistHook) OnQosDropped(cl *mqtt.Client, pk packets.Packet) { h.OnQosComplete(cl, pk) }

type unmarshaler[T any] interface {
	*T
	UnmarshalBinary([]byte) error
}

func loadAll[T any, P unmarshaler[T]](h *persistHook, bucket string) ([]T, error) {
	var out []T
	err := h.kv.KVAll(bucket, func(k string, v []byte) error {
		var x T
		if err := P(&x).UnmarshalBinary(v); err != nil {
			// One unreadable record must not keep the broker from starting: skip it.
			h.log.Error("broker persistence: unreadable record skipped", "bucket", bucket, "error", err)
			return nil
		}
		out = append(out, x)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("broker persistence: %w", err)
	}
	return out, nil
}

func (h *persistHook) StoredClients() ([]storage.Client, error) {
	return loadAll[storage.Client](h, bucketClients)
}

func (h *persistHook) StoredSubscriptions() ([]storage.Subscription, error) {
	return loadAll[storage.Subscription](h, bucketSubs)
}

func (h *persistHook) StoredRetainedMessages() ([]storage.Message, error) {
	return loadAll[storage.Message](h, bucketRetained)
}

func (h *persistHook) StoredInflightMessages() ([]storage.Message, error) {
	return loadAll[storage.Message](h, bucketInflight)
}
