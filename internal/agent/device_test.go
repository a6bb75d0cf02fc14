package agent

import (
	"testing"
	"time"

	"github.com/bailiff/bailiff/internal/config"
)

// An unreachable device is polled again after a wait that doubles from pollRetryStart and
// never grows past the poll period, MaxBackoff or pollRetryMax: however long a device was
// away (a room polled every 10 s, a MaxBackoff of 30 s), it is seen back within
// seconds of answering again.
func TestNextRetry(t *testing.T) {
	for _, c := range []struct {
		period, maxBackoff time.Duration
		want               []time.Duration
	}{
		{10 * time.Second, 30 * time.Second, []time.Duration{500 * time.Millisecond, time.Second, 2 * time.Second, 2 * time.Second, 2 * time.Second}},
		{time.Second, 30 * time.Second, []time.Duration{500 * time.Millisecond, time.Second, time.Second}},
		{10 * time.Second, 200 * time.Millisecond, []time.Duration{200 * time.Millisecond, 200 * time.Millisecond}},
	} {
		var retry time.Duration
		for i, want := range c.want {
			if retry = nextRetry(retry, c.period, c.maxBackoff); retry != want {
				t.Errorf("period %s, MaxBackoff %s: wait %d is %s, want %s", c.period, c.maxBackoff, i+1, retry, want)
			}
		}
	}
}

// With the default options the agent tries the broker again at least every 3 s, so a room is
// back at the hub within seconds of its broker coming back after a long outage (paho's wait
// doubles up to this; with the former 30 s a 15 s outage left the room away for 15 s more).
func TestReconnectBackoffDefault(t *testing.T) {
	a, err := New(Options{Room: &config.Room{Site: "s", Room: "r", Kind: config.KindTechCourtroom, Name: "R",
		Poll: config.Duration(time.Second), Timeout: config.Duration(time.Second)}, Broker: "tcp://127.0.0.1:1"})
	if err != nil {
		t.Fatal(err)
	}
	if got := a.clientOptions().MaxReconnectInterval; got <= 0 || got > 3*time.Second {
		t.Errorf("broker reconnect backoff up to %s, want at most 3s", got)
	}
}

// The retry of an unreachable device counts from the start of the poll that failed: after a
// poll that timed out (longer than the retry) the next starts at once.
func TestRetryWait(t *testing.T) {
	for _, c := range []struct{ retry, took, want time.Duration }{
		{2 * time.Second, 10 * time.Millisecond, 1990 * time.Millisecond},
		{2 * time.Second, 4 * time.Second, 0},
		{500 * time.Millisecond, 500 * time.Millisecond, 0},
	} {
		if got := retryWait(c.retry, c.took); got != c.want {
			t.Errorf("retryWait(%s, %s) = %s, want %s", c.retry, c.took, got, c.want)
		}
	}
}
