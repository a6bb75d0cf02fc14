package commands

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/bailiff/bailiff/internal/wire"
)

// echo is a publisher that answers each command with an ack through the router, like an agent.
type echo struct {
	mu    sync.Mutex
	r     *Router
	sent  []string
	reply func(c wire.Command) []byte // nil: no answer
}

func (e *echo) Publish(topic string, qos byte, retained bool, payload []byte) error {
	e.mu.Lock()
	e.sent = append(e.sent, topic)
	e.mu.Unlock()
	c, err := wire.DecodeCommand(payload)
	if err != nil {
		return err
	}
	if e.reply != nil {
		if b := e.reply(c); b != nil {
			go func() {
				e.r.HandleAck("bailiff/v1/s/r/d/p/ack", b)
				e.r.HandleAck("bailiff/v1/s/r/d/p/ack", b) // QoS 1 may deliver twice
			}()
		}
	}
	return nil
}

func TestRouter(t *testing.T) {
	var outcomes []string
	var omu sync.Mutex
	pub := &echo{}
	r := New(pub, 200*time.Millisecond, nil, func(a, code string, d time.Duration) {
		omu.Lock()
		outcomes = append(outcomes, a+":"+code)
		omu.Unlock()
	})
	pub.r = r
	pub.reply = func(c wire.Command) []byte {
		if c.Expires.IsZero() || c.By != "judge" {
			t.Errorf("command %+v: no expiry or author", c)
		}
		return wire.Encode(wire.Ack{ID: c.ID, OK: true, State: map[string]any{"power": "on"}})
	}
	ack, err := r.Send(context.Background(), "s", "r", "p", "power", json.RawMessage(`{"on":true}`), "judge")
	if err != nil || !ack.OK || ack.State["power"] != "on" {
		t.Fatalf("Send = %+v, %v", ack, err)
	}
	// Bad args never reach the broker.
	n := len(pub.sent)
	_, err = r.Send(context.Background(), "s", "r", "p", "power", json.RawMessage(`{"on":"x"}`), "judge")
	var we *wire.Error
	if !errors.As(err, &we) || we.Code != wire.CodeBadArgs || len(pub.sent) != n {
		t.Fatalf("bad args: %v, sent %d", err, len(pub.sent)-n)
	}
	// No answer: timeout, and a late ack is counted, not delivered.
	pub.reply = nil
	_, err = r.Send(context.Background(), "s", "r", "p", "refresh", nil, "judge")
	if !errors.As(err, &we) || we.Code != wire.CodeTimeout {
		t.Fatalf("no answer: %v", err)
	}
	r.HandleAck("t", []byte(`{"id":"gone","ok":true}`))
	r.HandleAck("t", []byte(`garbage`))
	if r.LateAcks() < 2 || r.Pending() != 0 { // the duplicate of the first ack, and "gone"
		t.Errorf("late acks %d, pending %d", r.LateAcks(), r.Pending())
	}
	omu.Lock()
	defer omu.Unlock()
	want := []string{"power:ok", "power:bad_args", "refresh:timeout"}
	if len(outcomes) != 3 || outcomes[0] != want[0] || outcomes[1] != want[1] || outcomes[2] != want[2] {
		t.Errorf("outcomes = %v, want %v", outcomes, want)
	}
}

func TestRouterConcurrent(t *testing.T) {
	pub := &echo{}
	r := New(pub, time.Second, nil, nil)
	pub.r = r
	pub.reply = func(c wire.Command) []byte {
		return wire.Encode(wire.Ack{ID: c.ID, OK: false, Error: &wire.Error{Code: wire.CodeBusy, Message: c.ID}})
	}
	var wg sync.WaitGroup
	for i := 0; i < 100; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ack, err := r.Send(context.Background(), "s", "r", "p", "refresh", nil, "t")
			if err != nil || ack.OK || ack.Error.Message != ack.ID {
				t.Errorf("ack %+v err %v: not its own", ack, err)
			}
		}()
	}
	wg.Wait()
}

// Two routers (two hubs) on one broker each receive every ack: each completes its own
// commands once, and counts the other's acks as the other's, not as late.
func TestRoutersSharingAcks(t *testing.T) {
	pubA, pubB := &echo{}, &echo{}
	a, b := New(pubA, time.Second, nil, nil), New(pubB, time.Second, nil, nil)
	a.SetOrigin("hub-a-")
	b.SetOrigin("hub-b-")
	// The broker hands every ack to both hubs.
	both := func(c wire.Command) []byte {
		p := wire.Encode(wire.Ack{ID: c.ID, OK: true})
		go func() { a.HandleAck("bailiff/v1/s/r/d/p/ack", p); b.HandleAck("bailiff/v1/s/r/d/p/ack", p) }()
		return nil
	}
	pubA.r, pubB.r, pubA.reply, pubB.reply = a, b, both, both
	for i := range 6 {
		r := a
		if i%2 == 1 {
			r = b
		}
		if ack, err := r.Send(context.Background(), "s", "r", "p", "refresh", nil, "judge"); err != nil || !ack.OK {
			t.Fatalf("command %d: %+v %v", i, ack, err)
		}
	}
	// The other hub's copy of the last ack may still be on its way.
	for deadline := time.Now().Add(5 * time.Second); a.OtherAcks()+b.OtherAcks() < 6 && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
	}
	if a.LateAcks() != 0 || b.LateAcks() != 0 || a.OtherAcks() != 3 || b.OtherAcks() != 3 {
		t.Errorf("late %d/%d, other %d/%d; want 0/0, 3/3", a.LateAcks(), b.LateAcks(), a.OtherAcks(), b.OtherAcks())
	}
	a.HandleAck("t", []byte(`{"id":"hub-a-gone","ok":true}`))
	if a.LateAcks() != 1 {
		t.Errorf("an ack of a's own unknown command: late %d", a.LateAcks())
	}
}

// deadlinePub is a DeadlinePublisher whose broker is away (err) or takes the command late.
type deadlinePub struct {
	err     error
	ackFrom *Router // if set, the command is acked although the broker did not confirm it
}

func (d *deadlinePub) Publish(string, byte, bool, []byte) error {
	panic("the router must use PublishBy")
}

func (d *deadlinePub) PublishBy(topic string, retained bool, payload []byte, deadline time.Time) error {
	if d.ackFrom != nil {
		c, _ := wire.DecodeCommand(payload)
		go func() {
			time.Sleep(50 * time.Millisecond)
			d.ackFrom.HandleAck("bailiff/v1/s/r/d/p/ack", wire.Encode(wire.Ack{ID: c.ID, OK: true}))
		}()
	}
	return d.err
}

// A command the broker never took ends at once (it cannot run later); one the client may
// still deliver ends no sooner than its expiry, so it cannot run after its outcome; an ack
// that comes meanwhile is its outcome.
func TestRouterBrokerAway(t *testing.T) {
	const timeout = 300 * time.Millisecond
	var codes []string
	r := New(&deadlinePub{err: fmt.Errorf("x: %w", ErrNotSent)}, timeout, nil, func(_, code string, _ time.Duration) { codes = append(codes, code) })
	start := time.Now()
	_, err := r.Send(context.Background(), "s", "r", "p", "power", json.RawMessage(`{"on":true}`), "judge")
	if wire.CodeOf(err) != wire.CodeUnreachable || time.Since(start) > timeout/2 {
		t.Fatalf("not sent: %v after %s, want unreachable at once", err, time.Since(start))
	}

	r = New(&deadlinePub{err: errors.New("not acknowledged by the deadline")}, timeout, nil, func(_, code string, _ time.Duration) { codes = append(codes, code) })
	start = time.Now()
	_, err = r.Send(context.Background(), "s", "r", "p", "power", json.RawMessage(`{"on":true}`), "judge")
	if wire.CodeOf(err) != wire.CodeUnreachable || time.Since(start) < timeout {
		t.Fatalf("maybe sent: %v after %s, want unreachable after the expiry", err, time.Since(start))
	}

	p := &deadlinePub{err: errors.New("connection lost")}
	r = New(p, timeout, nil, func(_, code string, _ time.Duration) { codes = append(codes, code) })
	p.ackFrom = r
	if ack, err := r.Send(context.Background(), "s", "r", "p", "power", json.RawMessage(`{"on":true}`), "judge"); err != nil || !ack.OK {
		t.Fatalf("acked although unconfirmed: %+v %v", ack, err)
	}
	if want := []string{"unreachable", "unreachable", "ok"}; fmt.Sprint(codes) != fmt.Sprint(want) {
		t.Errorf("outcomes %v, want %v (one each)", codes, want)
	}
}
