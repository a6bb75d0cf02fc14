package devsim

import (
	"bytes"
	"context"
	"net"
	"reflect"
	"testing"
	"time"

	"github.com/bailiff/bailiff/drivers/transport"
	"github.com/bailiff/bailiff/firmware-bridge/frame"
	"github.com/bailiff/bailiff/firmware-bridge/internal/golden"
)

// host is the agent's end of the line in a test.
type host struct {
	t    *testing.T
	conn net.Conn
	r    *frame.Reader
	w    *frame.Writer
	msgs chan frame.Message
}

func dial(t *testing.T, s *Sim) *host {
	t.Helper()
	conn, err := transport.Dial(context.Background(), s.Address(), transport.Options{Baud: 115200})
	if err != nil {
		t.Fatal(err)
	}
	h := &host{t: t, conn: conn, r: frame.NewReader(conn), w: frame.NewWriter(conn), msgs: make(chan frame.Message, 16)}
	go func() {
		defer close(h.msgs)
		for {
			m, err := h.r.Next()
			if err != nil {
				return
			}
			h.msgs <- m
		}
	}()
	t.Cleanup(func() { conn.Close() })
	return h
}

func (h *host) next() frame.Message {
	h.t.Helper()
	select {
	case m, ok := <-h.msgs:
		if !ok {
			h.t.Fatal("line closed")
		}
		return m
	case <-time.After(5 * time.Second):
		h.t.Fatal("no frame from the device within 5 s")
	}
	return nil
}

func (h *host) send(m frame.Message) {
	h.t.Helper()
	if err := h.w.Write(m); err != nil {
		h.t.Fatal(err)
	}
}

func (h *host) roundTrip(m frame.Message) frame.Message {
	h.t.Helper()
	h.send(m)
	return h.next()
}

func start(t *testing.T, cfg Config) *Sim {
	t.Helper()
	s := New(cfg)
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestSimOverPTY(t *testing.T) {
	s := start(t, Config{})
	h := dial(t, s)

	// The device said hello when it started (the pty kept it); asked, it says it again.
	want := &frame.Hello{Proto: 1, Caps: frame.CapTally | frame.CapButton, MaxFrame: frame.MaxFrame,
		Version: frame.Version{Major: 1}, DeviceType: "tally-light", Serial: "SIM-0001"}
	if hello := h.next(); !reflect.DeepEqual(hello, want) {
		t.Fatalf("boot hello %+v", hello)
	}
	if hello := h.roundTrip(&frame.HelloRequest{}); !reflect.DeepEqual(hello, want) {
		t.Fatalf("hello %+v", hello)
	}
	if m := h.roundTrip(&frame.Ping{Nonce: 42}); !reflect.DeepEqual(m, &frame.Pong{Nonce: 42}) {
		t.Fatalf("ping answered %+v", m)
	}

	for _, c := range []struct {
		cmd    *frame.Command
		status frame.Status
		tally  int32
	}{
		{&frame.Command{ID: 1, Action: frame.ActionSet, Fields: []frame.Field{{Key: frame.KeyTally, Value: 1}}}, frame.StatusOK, 1},
		{&frame.Command{ID: 2, Action: frame.ActionSet, Fields: []frame.Field{{Key: frame.KeyTally, Value: 9}}}, frame.StatusBadArgs, 1},
		{&frame.Command{ID: 3, Action: frame.ActionSet, Fields: []frame.Field{{Key: frame.KeySign, Value: 1}}}, frame.StatusUnsupported, 1},
		{&frame.Command{ID: 4, Action: frame.ActionPulse, Fields: []frame.Field{{Key: frame.KeyRelay, Value: 100}}}, frame.StatusUnsupported, 1},
		{&frame.Command{ID: 5, Action: 0x7F}, frame.StatusUnsupported, 1},
		{&frame.Command{ID: 6, Action: frame.ActionGet}, frame.StatusOK, 1},
		{&frame.Command{ID: 7, Action: frame.ActionSet, Fields: []frame.Field{{Key: frame.KeyTally, Value: 2}}}, frame.StatusOK, 2},
	} {
		m := h.roundTrip(c.cmd)
		want := &frame.Ack{ID: c.cmd.ID, Status: c.status, Fields: []frame.Field{{Key: frame.KeyTally, Value: c.tally}, {Key: frame.KeyButton}}}
		if !reflect.DeepEqual(m, want) {
			t.Errorf("command %+v answered %+v, want %+v", c.cmd, m, want)
		}
	}
	if st := s.State(); st[frame.KeyTally] != 2 {
		t.Fatalf("state %v", st)
	}

	// A button press: event, then state.
	if err := s.Press(0); err != nil {
		t.Fatal(err)
	}
	if m := h.next(); !reflect.DeepEqual(m, &frame.Event{Code: frame.EventButtonPress, Fields: []frame.Field{{Key: frame.KeyIndex}}}) {
		t.Fatalf("press: %+v", m)
	}
	if m := h.next(); !reflect.DeepEqual(m, &frame.State{Fields: []frame.Field{{Key: frame.KeyTally, Value: 2}, {Key: frame.KeyButton, Value: 1}}}) {
		t.Fatalf("state after press: %+v", m)
	}
}

// TestSimMisbehaves checks that what the device is told to send wrong is dropped and counted
// by the host, and that both ends resynchronise.
func TestSimMisbehaves(t *testing.T) {
	s := start(t, Config{})
	h := dial(t, s)
	h.next() // the boot hello

	if err := s.SendGarbage(40); err != nil {
		t.Fatal(err)
	}
	if err := s.SendTruncated(); err != nil {
		t.Fatal(err)
	}
	if err := s.SendGarbage(3000); err != nil { // longer than any frame
		t.Fatal(err)
	}
	if m := h.roundTrip(&frame.Ping{Nonce: 1}); !reflect.DeepEqual(m, &frame.Pong{Nonce: 1}) {
		t.Fatalf("after garbage: %+v", m)
	}
	if st := h.r.Stats(); st.Dropped() != 3 || st.Oversized != 1 {
		t.Fatalf("host stats %+v", st)
	}

	// The host sends the device every bad golden frame: it drops and counts them all.
	var bad uint64
	for _, g := range golden.Frames {
		if g.Err == nil || bytes.IndexByte(g.Wire, 0) >= 0 {
			continue
		}
		bad++
		if _, err := h.conn.Write(append(append([]byte{0}, g.Wire...), 0)); err != nil {
			t.Fatal(err)
		}
	}
	if m := h.roundTrip(&frame.Ping{Nonce: 2}); !reflect.DeepEqual(m, &frame.Pong{Nonce: 2}) {
		t.Fatalf("after bad frames: %+v", m)
	}
	if st := s.Stats(); st.Dropped() != bad {
		t.Fatalf("device dropped %d frames (%+v), want %d", st.Dropped(), st, bad)
	}

	// Silent: no answer; then a reboot says hello again.
	s.SetSilent(true)
	h.send(&frame.Ping{Nonce: 3})
	select {
	case m := <-h.msgs:
		t.Fatalf("silent device answered %+v", m)
	case <-time.After(200 * time.Millisecond):
	}
	s.SetSilent(false)
	if err := s.Reboot(); err != nil {
		t.Fatal(err)
	}
	if m := h.next(); m.Type() != frame.TypeHello {
		t.Fatalf("after reboot: %+v", m)
	}
}

func TestSimCloseUnplugs(t *testing.T) {
	s := start(t, Config{})
	h := dial(t, s)
	h.next() // the boot hello
	done := make(chan error, 1)
	go func() { done <- s.Close() }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Close hangs")
	}
}

// TestSimResentCommand checks that a command sent again after a lost ack gets the first ack,
// not a second execution.
func TestSimResentCommand(t *testing.T) {
	s := start(t, Config{})
	h := dial(t, s)
	h.next() // the boot hello
	cmd := &frame.Command{ID: 9, Action: frame.ActionSet, Fields: []frame.Field{{Key: frame.KeyTally, Value: 3}}}
	first := h.roundTrip(cmd)
	if err := s.Press(0); err != nil { // the state moves on
		t.Fatal(err)
	}
	h.next()
	h.next()
	if again := h.roundTrip(cmd); !reflect.DeepEqual(again, first) {
		t.Fatalf("resent command acked %+v, first %+v", again, first)
	}
	if m := h.roundTrip(&frame.Command{ID: 10, Action: frame.ActionGet}); m.(*frame.Ack).Fields[1].Value != 1 {
		t.Fatalf("get: %+v", m)
	}
}
