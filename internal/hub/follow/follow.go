// Package follow is voice following: from a room's microphone levels it
// picks the active speaker, with hysteresis, and says which seat's camera
// to show. The hub turns each pick into a VISCA preset recall (a command
// through the command router) and a cut of the room's program stream.
//
// A microphone speaks when its level is at least MinLevel; it becomes the
// speaker once it has spoken without a break for Attack. A pick stands
// for at least Hold: no other seat is picked sooner, so alternating
// speech does not make the picture flap. When several microphones speak,
// the judge's comes first, then the loudest. When everybody is quiet the
// last pick stands.
package follow

import (
	"sync"
	"time"
)

// Seat is one microphone channel and the camera shot of its seat.
type Seat struct {
	Channel string // the microphone channel's name in the room's meter
	Device  string // the camera device whose preset frames the seat
	Preset  int    // that preset
	Stream  string // the camera's stream: the program shows it
	Judge   bool   // the judge's microphone: first when several speak
}

// Options tune the follower.
type Options struct {
	Seats    []Seat
	MinLevel float64       // dBFS a microphone must reach to count as speech
	Attack   time.Duration // speech without a break before a seat is picked
	Hold     time.Duration // a pick stands at least this long
	// Release: the seat picked keeps the picture while it spoke within
	// this (pauses between sentences, a quick exchange).
	Release time.Duration
	// Stale is how long a level counts without a new one (a lost meter
	// message is silence after it).
	Stale time.Duration
}

// Defaults fills what is unset: -45 dBFS, 400 ms attack, 3 s hold,
// 1.5 s release, 1 s stale.
func (o *Options) Defaults() {
	if o.MinLevel == 0 {
		o.MinLevel = -45
	}
	if o.Attack == 0 {
		o.Attack = 400 * time.Millisecond
	}
	if o.Hold == 0 {
		o.Hold = 3 * time.Second
	}
	if o.Release == 0 {
		o.Release = 1500 * time.Millisecond
	}
	if o.Stale == 0 {
		o.Stale = time.Second
	}
}

type channel struct {
	seat  Seat
	level float64
	at    time.Time // of the level
	since time.Time // speaking without a break since; zero when quiet
	loud  time.Time // last level at or above MinLevel
}

// Follower picks seats from levels. Its methods are safe for concurrent
// use; time comes in with each call, so a test drives it on a fake clock.
type Follower struct {
	o Options

	mu       sync.Mutex
	chans    map[string]*channel
	order    []string
	cur      string // channel picked
	pickedAt time.Time
}

// New makes a follower of the seats.
func New(o Options) *Follower {
	o.Defaults()
	f := &Follower{o: o, chans: map[string]*channel{}}
	for _, s := range o.Seats {
		if _, dup := f.chans[s.Channel]; dup {
			continue
		}
		f.chans[s.Channel] = &channel{seat: s}
		f.order = append(f.order, s.Channel)
	}
	return f
}

// Current returns the seat picked last, if any.
func (f *Follower) Current() (Seat, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, ok := f.chans[f.cur]
	if !ok {
		return Seat{}, false
	}
	return c.seat, true
}

// Reset forgets the pick (following was turned off and on again): the
// next speaker is picked without waiting for Hold.
func (f *Follower) Reset() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.cur = ""
	f.pickedAt = time.Time{}
}

// Levels takes one meter reading (channel → dBFS) at now and returns the
// seat to cut to, if the pick changed. Channels without a seat are left
// out.
func (f *Follower) Levels(levels map[string]float64, now time.Time) (Seat, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for name, lv := range levels {
		c := f.chans[name]
		if c == nil {
			continue
		}
		c.level, c.at = lv, now
		if lv >= f.o.MinLevel {
			c.loud = now
			if c.since.IsZero() {
				c.since = now
			}
		} else {
			c.since = time.Time{}
		}
	}
	// The candidate: speaking for Attack, fresh; the judge first, then
	// the loudest, then the order of the seats.
	var best *channel
	for _, name := range f.order {
		c := f.chans[name]
		if now.Sub(c.at) > f.o.Stale {
			c.since = time.Time{}
		}
		if c.since.IsZero() || now.Sub(c.since) < f.o.Attack {
			continue
		}
		if best == nil || (c.seat.Judge && !best.seat.Judge) ||
			(c.seat.Judge == best.seat.Judge && c.level > best.level) {
			best = c
		}
	}
	if best == nil || best.seat.Channel == f.cur {
		return Seat{}, false
	}
	// Nobody takes the picture within Hold; the one picked keeps it while
	// it spoke within Release, unless the judge takes it.
	if f.cur != "" {
		if now.Sub(f.pickedAt) < f.o.Hold {
			return Seat{}, false
		}
		cur := f.chans[f.cur]
		if now.Sub(cur.loud) <= f.o.Release && !(best.seat.Judge && !cur.seat.Judge) {
			return Seat{}, false
		}
	}
	f.cur, f.pickedAt = best.seat.Channel, now
	return best.seat, true
}
