package agent

import (
	"testing"
	"time"

	"github.com/bailiff/bailiff/internal/wire"
)

func TestCommandDeadline(t *testing.T) {
	now := time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		expires time.Time
		want    time.Time
	}{
		{time.Time{}, now.Add(5 * time.Second)},                                      // no expiry: the room's timeout
		{now.Add(10 * time.Second), now.Add(5 * time.Second)},                        // expiry later than the timeout
		{now.Add(3 * time.Second), now.Add(3*time.Second - ackMargin)},               // the hub gives up first
		{now.Add(100 * time.Millisecond), now.Add(100*time.Millisecond - ackMargin)}, // already too late
	} {
		if got := commandDeadline(wire.Command{Expires: c.expires}, now, 5*time.Second); !got.Equal(c.want) {
			t.Errorf("expires %v: deadline %v, want %v", c.expires, got, c.want)
		}
	}
}
