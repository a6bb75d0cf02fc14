package source

import (
	"context"
	"log/slog"
	"time"
)

// retry runs once until ctx ends, again after each failure with a backoff from min doubling
// to max (back to min after a run of over 30 s). what names the thing in the log.
func retry(ctx context.Context, log *slog.Logger, what string, minB, maxB time.Duration, once func(context.Context) error) {
	backoff := minB
	for ctx.Err() == nil {
		start := time.Now()
		err := once(ctx)
		if ctx.Err() != nil {
			return
		}
		if time.Since(start) > 30*time.Second {
			backoff = minB
		}
		log.Warn(what+" stopped; retrying", "in", backoff, "error", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, maxB)
	}
}
