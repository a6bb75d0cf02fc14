package agent

import (
	mqtt "github.com/eclipse/paho.mqtt.golang"
	"github.com/eclipse/paho.mqtt.golang/packets"
)

// copyStore is paho's memory store, except that it keeps a copy of each PUBLISH packet put
// in it rather than the packet itself.
//
// After a reconnect paho's resume walks the store and sets the DUP flag on each stored
// PUBLISH to send it again. It runs concurrently with the on-connect handler and with
// everything else that may publish once the connection is up, so it can flag a packet that
// was just published on the new connection while the writer is encoding it: a data race
// (eclipse-paho/paho.mqtt.golang#703, open for v1.5). With a copy in the store, resume flags
// and resends the copy and the writer encodes the original. Such a message may then reach the
// broker twice, which QoS 1 allows.
type copyStore struct {
	*mqtt.MemoryStore
}

func newCopyStore() copyStore { return copyStore{mqtt.NewMemoryStore()} }

func (s copyStore) Put(key string, m packets.ControlPacket) {
	if p, ok := m.(*packets.PublishPacket); ok {
		c := *p // the publisher still owns p: nothing else has seen it yet
		m = &c
	}
	s.MemoryStore.Put(key, m)
}
