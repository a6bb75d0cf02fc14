package agent

import (
	"testing"
	"time"
)

// An unreachable device is polled again after a wait that doubles from pollRetryStart and
// never grows past the poll period, MaxBackoff or pollRetryMax: however long a device was
// away (a room polled every 10 s, the default 30 s MaxBackoff), it is seen back within
// seconds of answering again.
func TestNextRetry(t *testing.T) {
	for _, c := range []struct {
		period, maxBackoff time.Duration
		want               []time.Duration
	}{
		{10 * time.Second, DefaultMaxBackoff, []time.Duration{500 * time.Millisecond, time.Second, 2 * time.Second, 2 * time.Second, 2 * time.Second}},
		{time.Second, DefaultMaxBackoff, []time.Duration{500 * time.Millisecond, time.Second, time.Second}},
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
