package onvifsim

import (
	"math"
	"time"
)

// limits of the generic position space: pan and tilt −1…1, zoom 0…1.
var (
	lo = [3]float64{-1, -1, 0}
	hi = [3]float64{1, 1, 1}
)

// ptzState is the position of the camera and the continuous move it makes.
type ptzState struct {
	pos     [3]float64 // pan, tilt, zoom
	vel     [3]float64 // velocity of each axis, −1…1
	since   time.Time  // when pos was computed
	until   time.Time  // end of the move's timeout; zero for none
	timeout time.Duration
}

// advance brings the position to now, stopping the move at its timeout.
func (p *ptzState) advance(now time.Time, speed float64) {
	end := now
	if !p.until.IsZero() && p.until.Before(now) {
		end = p.until
	}
	if dt := end.Sub(p.since).Seconds(); dt > 0 {
		for i := range p.pos {
			p.pos[i] = math.Max(lo[i], math.Min(hi[i], p.pos[i]+p.vel[i]*speed*dt))
		}
	}
	if !p.until.IsZero() && !now.Before(p.until) {
		p.vel, p.until, p.timeout = [3]float64{}, time.Time{}, 0
	}
	if now.After(p.since) {
		p.since = now
	}
}

// move starts a continuous move at vel; timeout > 0 stops it after that long.
func (p *ptzState) move(now time.Time, speed float64, vel [3]float64, timeout time.Duration) {
	p.advance(now, speed)
	p.vel, p.until, p.timeout = vel, time.Time{}, timeout
	if timeout > 0 {
		p.until = now.Add(timeout)
	}
}

// stop ends the move of the axes asked.
func (p *ptzState) stop(now time.Time, speed float64, panTilt, zoom bool) {
	p.advance(now, speed)
	if panTilt {
		p.vel[0], p.vel[1] = 0, 0
	}
	if zoom {
		p.vel[2] = 0
	}
	if p.vel == ([3]float64{}) {
		p.until, p.timeout = time.Time{}, 0
	}
}

// moving reports whether axis i moves: it has a velocity and is not held at the limit it
// moves toward.
func (p *ptzState) moving(i int) bool {
	v := p.vel[i]
	return (v > 0 && p.pos[i] < hi[i]) || (v < 0 && p.pos[i] > lo[i])
}

// goTo puts the camera at a preset's position, stopped (the simulated move is instant).
func (p *ptzState) goTo(now time.Time, pan, tilt, zoom float64) {
	*p = ptzState{pos: [3]float64{pan, tilt, zoom}, since: now}
}
