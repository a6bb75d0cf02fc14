package broker

import (
	"bytes"
	"sync"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/packets"
)

// retainGuard works around a data race in mochi-mqtt v2.7.9: a SUBSCRIBE scans the topic
// tree's retained-message paths without the lock under which a retained PUBLISH writes them
// (TopicsIndex.scanMessages reads particle.retainPath; RetainMessage writes it). A torn read
// of that string could crash the broker. The guard keeps the two apart: retained publishes
// share a read lock, a subscribe takes the write lock, each from the moment its packet is read
// until mochi has processed it.
//
// mochi calls OnPacketRead and then, on the same goroutine, processes the packet and calls
// OnPacketProcessed, except when the packet fails validation: the guard runs the same
// validation first and only locks for packets that will be processed.
type retainGuard struct {
	mqtt.HookBase
	aliasMax uint16

	mu   sync.RWMutex
	held sync.Map // *mqtt.Client → lockKind
}

type lockKind int

const (
	lockRead lockKind = iota + 1
	lockWrite
)

func (g *retainGuard) ID() string { return "bailiff-retain-guard" }

func (g *retainGuard) Provides(b byte) bool {
	return bytes.Contains([]byte{mqtt.OnPacketRead, mqtt.OnPacketProcessed}, []byte{b})
}

func (g *retainGuard) OnPacketRead(cl *mqtt.Client, pk packets.Packet) (packets.Packet, error) {
	switch pk.FixedHeader.Type {
	case packets.Publish:
		if pk.FixedHeader.Retain && pk.PublishValidate(g.aliasMax) == packets.CodeSuccess {
			g.mu.RLock()
			g.held.Store(cl, lockRead)
		}
	case packets.Subscribe:
		if pk.SubscribeValidate() == packets.CodeSuccess {
			g.mu.Lock()
			g.held.Store(cl, lockWrite)
		}
	}
	return pk, nil
}

func (g *retainGuard) OnPacketProcessed(cl *mqtt.Client, _ packets.Packet, _ error) {
	k, ok := g.held.LoadAndDelete(cl)
	if !ok {
		return
	}
	if k.(lockKind) == lockRead {
		g.mu.RUnlock()
	} else {
		g.mu.Unlock()
	}
}
