package audio

import (
	"context"
	"time"
)

// maxLag is how far a paced reader may fall behind the clock (a suspended machine, a consumer
// that stalled) before it skips ahead rather than catching up in a burst.
const maxLag = 500 * time.Millisecond

// pace is the clock of the file and synthetic sources: it has fill make chunks of
// FrameDuration and hands them to fn as fast as a sound card would, until ctx is done (nil)
// or fill fails (its error). fill fills buf with whole sample frames and returns how many;
// a short count with an error is delivered before the error is returned.
//
// The number of frames due is counted from the start, not added per tick, so the pace does
// not drift with timer jitter or with a sample rate that FrameDuration does not divide.
func pace(ctx context.Context, f Format, fill func(buf []float32) (int, error), fn func(frame []float32)) error {
	per := f.chunkFrames()
	buf := make([]float32, per*f.Channels)
	lag := int64(f.SampleRate) * int64(maxLag) / int64(time.Second)
	tick := time.NewTicker(FrameDuration)
	defer tick.Stop()
	start := time.Now()
	var sent int64 // sample frames delivered
	for {
		if ctx.Err() != nil {
			return nil
		}
		due := framesIn(time.Since(start), f.SampleRate)
		if due-sent > lag {
			sent = due - int64(per) // fell behind: skip ahead, keep the chunk due now
		}
		for due-sent >= int64(per) {
			n, err := fill(buf)
			if n > 0 {
				fn(buf[:n*f.Channels])
			}
			if err != nil {
				return err
			}
			sent += int64(per)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

// framesIn is the number of sample frames at rate in d, without overflow for any d.
func framesIn(d time.Duration, rate int) int64 {
	s := int64(d / time.Second)
	ns := int64(d % time.Second)
	return s*int64(rate) + ns*int64(rate)/int64(time.Second)
}
