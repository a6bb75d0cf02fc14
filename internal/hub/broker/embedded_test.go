package broker

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bailiff/bailiff/internal/store"
	"github.com/bailiff/bailiff/internal/testutil"
)

// fixedAuth accepts the logins in its map.
type fixedAuth map[string]string

func (f fixedAuth) Authenticate(_ context.Context, user, pw string) error {
	if want, ok := f[user]; ok && want == pw {
		return nil
	}
	return errors.New("wrong password")
}

func start(t *testing.T, addr, dir string) *Embedded {
	t.Helper()
	var kv KV
	if dir != "" {
		st, err := store.Open(filepath.Join(dir, "hub.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		kv = st
	}
	e, err := StartEmbedded(EmbeddedConfig{
		Listen: addr, Persist: kv, HubPassword: "hubpw",
		Auth: fixedAuth{"agent/court/r1": "pw1", "agent/court/r2": "pw2", "observer": "obs"},
	})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestEmbeddedAuthAndACL(t *testing.T) {
	e := start(t, "127.0.0.1:0", "")
	defer e.Close()
	url := e.URL()

	// Refused logins.
	for _, c := range []struct{ user, pw, id string }{
		{"agent/court/r1", "wrong", "agent/court/r1"},
		{"agent/court/r1", "pw1", "agent/court/r2"}, // someone else's client ID
		{"nobody", "x", "x"},
		{"", "", "anon"},
		{"hub", "nope", "hub/1"},
		{"observer", "obs", "agent/court/r1"},
	} {
		if cl, err := testutil.Dial(url, c.user, c.pw, c.id); err == nil {
			cl.Disconnect(0)
			t.Errorf("login %q/%q as client %q accepted", c.user, c.pw, c.id)
		}
	}

	hub := testutil.MustDial(t, url, "hub", "hubpw", "hub/test")
	seen := testutil.MustSubscribe(t, hub, "bailiff/v1/#", 1)
	a1 := testutil.MustDial(t, url, "agent/court/r1", "pw1", "agent/court/r1")

	// Room A's agent may not read room B's commands nor anything outside its room.
	for _, f := range []string{"bailiff/v1/court/r2/d/+/cmd", "bailiff/#", "bailiff/v1/court/r1/d/+/state"} {
		if _, err := testutil.Subscribe(a1, f, 1); err == nil {
			t.Errorf("agent r1 subscribed to %s", f)
		}
	}
	cmds := testutil.MustSubscribe(t, a1, "bailiff/v1/court/r1/d/+/cmd", 1)

	// Room A's agent publishes to room B's state, then to its own: only its own arrives.
	// (QoS 0: dropped silently; QoS 1: the broker also disconnects the offender, below.)
	testutil.Publish(t, a1, "bailiff/v1/court/r2/d/proj/state", 0, true, `{"forged":true}`)
	testutil.Publish(t, a1, "bailiff/v1/court/r1/d/proj/cmd", 0, false, `{"forged":true}`)
	testutil.Publish(t, a1, "bailiff/v1/court/r1/d/proj/state", 1, true, `{"mine":true}`)
	seen.Wait(t, 3*time.Second, "own state", func(m testutil.Msg) bool { return m.Topic == "bailiff/v1/court/r1/d/proj/state" })
	for _, m := range seen.Messages() {
		if strings.Contains(string(m.Payload), "forged") {
			t.Errorf("forged message delivered on %s", m.Topic)
		}
	}

	// The observer reads everything and publishes nothing.
	obs := testutil.MustDial(t, url, "observer", "obs", "watcher")
	obsSeen := testutil.MustSubscribe(t, obs, "bailiff/#", 0)
	obsSeen.Wait(t, 3*time.Second, "retained state", func(m testutil.Msg) bool { return m.Retained })
	testutil.Publish(t, obs, "bailiff/v1/court/r1/d/proj/cmd", 0, false, `{"forged":"observer"}`)

	// The hub's command reaches the agent; the observer's did not.
	testutil.Publish(t, hub, "bailiff/v1/court/r1/d/proj/cmd", 1, false, `{"id":"1","action":"refresh"}`)
	cmds.Wait(t, 3*time.Second, "hub command", func(m testutil.Msg) bool { return strings.Contains(string(m.Payload), `"id":"1"`) })
	for _, m := range cmds.Messages() {
		if strings.Contains(string(m.Payload), "forged") {
			t.Errorf("forged command reached the agent: %s", m.Payload)
		}
	}
}

func TestEmbeddedDisconnectsForbiddenQoS1Publish(t *testing.T) {
	e := start(t, "127.0.0.1:0", "")
	defer e.Close()
	a1 := testutil.MustDial(t, e.URL(), "agent/court/r1", "pw1", "agent/court/r1")
	tok := a1.Publish("bailiff/v1/court/r2/d/proj/state", 1, true, `{"forged":true}`)
	tok.WaitTimeout(3 * time.Second)
	testutil.Eventually(t, 3*time.Second, "the offending agent is disconnected", func() bool { return !a1.IsConnectionOpen() })
}

func TestEmbeddedPersistsRetainedAndSessions(t *testing.T) {
	dir := t.TempDir()
	addr := testutil.FreePort(t)
	e := start(t, addr, dir)
	a := testutil.MustDial(t, e.URL(), "agent/court/r1", "pw1", "agent/court/r1")
	testutil.Publish(t, a, "bailiff/v1/court/r1/d/proj/state", 1, true, `{"kept":1}`)

	// A persistent session with a subscription, offline when a command is queued.
	o := persistentDial(t, e.URL(), "agent/court/r2", "pw2")
	testutil.MustSubscribe(t, o, "bailiff/v1/court/r2/d/+/cmd", 1)
	o.Disconnect(100)
	hub := testutil.MustDial(t, e.URL(), "hub", "hubpw", "hub/test")
	testutil.Publish(t, hub, "bailiff/v1/court/r2/d/proj/cmd", 1, false, `{"queued":1}`)
	hub.Disconnect(100)
	a.Disconnect(100)
	e.Close()

	e = start(t, addr, dir)
	defer e.Close()
	obs := testutil.MustDial(t, e.URL(), "observer", "obs", "watcher")
	col := testutil.MustSubscribe(t, obs, "bailiff/#", 0)
	col.Wait(t, 3*time.Second, "retained state after restart", func(m testutil.Msg) bool {
		return m.Retained && string(m.Payload) == `{"kept":1}`
	})

	// The session comes back with its subscription and the command queued for it.
	got := make(chan string, 1)
	o = persistentDialWith(t, e.URL(), "agent/court/r2", "pw2", func(topic string, p []byte) {
		select {
		case got <- string(p):
		default:
		}
	})
	select {
	case p := <-got:
		if p != `{"queued":1}` {
			t.Errorf("queued message = %s", p)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("queued QoS 1 command not delivered to the resumed session after a restart")
	}
}
