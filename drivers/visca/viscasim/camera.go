package viscasim

import (
	"bytes"
	"math"
	"time"
)

// Position limits, those of the EVI-D70 (pan F725h…08DBh, tilt FE70h…04B0h with the image
// not flipped), and the optical zoom range 0…4000h.
const (
	PanMin  = -0x08DB
	PanMax  = 0x08DB
	TiltMin = -0x0190
	TiltMax = 0x04B0
	ZoomMax = 0x4000
)

// Motion rates at Config.Speed 1: a pan-tilt speed step (VV, WW 01…18h) moves 100 units a
// second; zoom moves 1000 units a second per variable speed step plus one (0…7), and 8000 a
// second for direct zoom and presets.
const (
	unitsPerStep = 100
	zoomPerStep  = 1000
	zoomDirect   = 8000
)

// axis is one motor: pan, tilt or zoom. It moves at a constant rate, either driven (until a
// limit) or toward a target.
type axis struct {
	pos    float64 // at t0
	t0     time.Time
	vel    float64 // units a second while driven, signed
	toward bool    // moving toward target
	target float64
	rate   float64 // units a second toward target
	lo, hi float64
}

func (a *axis) at(now time.Time) float64 {
	dt := now.Sub(a.t0).Seconds()
	if dt < 0 {
		dt = 0
	}
	switch {
	case a.toward:
		d := a.target - a.pos
		if step := a.rate * dt; math.Abs(d) > step {
			return a.pos + math.Copysign(step, d)
		}
		return a.target
	case a.vel != 0:
		return math.Min(math.Max(a.pos+a.vel*dt, a.lo), a.hi)
	}
	return a.pos
}

// settle makes the position at now the new starting point.
func (a *axis) settle(now time.Time) {
	a.pos, a.t0 = a.at(now), now
	if a.toward && a.pos == a.target {
		a.toward = false
	}
}

func (a *axis) drive(now time.Time, vel float64) {
	a.settle(now)
	a.toward, a.vel = false, vel
}

func (a *axis) stop(now time.Time) { a.drive(now, 0) }

// goTo starts a move to target and returns how long it takes.
func (a *axis) goTo(now time.Time, target, rate float64) time.Duration {
	a.settle(now)
	a.vel, a.toward, a.target, a.rate = 0, true, target, rate
	return time.Duration(math.Abs(target-a.pos) / rate * float64(time.Second))
}

// arrive ends a move at its target now.
func (a *axis) arrive(now time.Time) {
	if a.toward {
		a.pos, a.t0, a.toward = a.target, now, false
	}
}

func (a *axis) moving(now time.Time) bool {
	if a.toward {
		return a.at(now) != a.target
	}
	// Driven, it stops at a limit as the position it reports (rounded) reaches it: a state
	// never shows the limit and the motor still moving.
	p := math.Round(a.at(now))
	return a.vel < 0 && p > a.lo || a.vel > 0 && p < a.hi
}

func (a *axis) value(now time.Time) int { return int(math.Round(a.at(now))) }

// job is a command that holds a socket until its completion.
type job struct {
	socket int
	out    replier
	timer  *time.Timer
	axes   []*axis
}

type preset struct{ pan, tilt, zoom float64 }

// camera is one simulated camera. Its fields are guarded by Sim.mu.
type camera struct {
	s       *Sim
	addr    int // 1-7; 0 until AddressSet on a serial line
	power   bool
	bootEnd time.Time
	pan     axis
	tilt    axis
	zoom    axis
	presets map[int]preset
	sockets [3]*job // 1 and 2
	faults  []Fault
}

func newCamera(s *Sim, now time.Time) *camera {
	c := &camera{s: s, power: s.cfg.On, presets: map[int]preset{}}
	c.pan = axis{t0: now, lo: PanMin, hi: PanMax}
	c.tilt = axis{t0: now, lo: TiltMin, hi: TiltMax}
	c.zoom = axis{t0: now, lo: 0, hi: ZoomMax}
	return c
}

// z is the header of the camera's replies: its address + 8, to the controller (0). Over IP
// the camera is 1.
func (c *camera) z() byte {
	if c.addr == 0 {
		return 0x90
	}
	return byte((c.addr + 8) << 4)
}

func (c *camera) emit(out replier, b ...byte) {
	c.s.emit(out, append(append([]byte{c.z()}, b...), 0xFF))
}

func (c *camera) booting(now time.Time) bool { return now.Before(c.bootEnd) }

func (c *camera) freeSocket() int {
	for y := 1; y <= 2; y++ {
		if c.sockets[y] == nil {
			return y
		}
	}
	return 0
}

// finish ends j: its completion goes to its controller.
func (c *camera) finish(j *job) {
	if c.sockets[j.socket] != j {
		return
	}
	c.sockets[j.socket] = nil
	if j.timer != nil {
		j.timer.Stop()
	}
	c.emit(j.out, 0x50|byte(j.socket))
}

// abort ends j without a completion and stops its motors.
func (c *camera) abort(j *job, now time.Time) {
	c.sockets[j.socket] = nil
	if j.timer != nil {
		j.timer.Stop()
	}
	for _, a := range j.axes {
		a.stop(now)
	}
}

// supersede completes the jobs that move any of axes: a new motion command takes over.
func (c *camera) supersede(axes ...*axis) {
	for y := 1; y <= 2; y++ {
		j := c.sockets[y]
		if j == nil {
			continue
		}
		for _, a := range j.axes {
			if slicesContains(axes, a) {
				c.finish(j)
				break
			}
		}
	}
}

func slicesContains(list []*axis, a *axis) bool {
	for _, x := range list {
		if x == a {
			return true
		}
	}
	return false
}

// clear is IF_Clear: running commands are cancelled without a reply.
func (c *camera) clear(now time.Time) {
	for y := 1; y <= 2; y++ {
		if j := c.sockets[y]; j != nil {
			c.abort(j, now)
		}
	}
}

// state returns a snapshot at now.
func (c *camera) state(now time.Time) State {
	st := State{
		Address: c.addr, Power: c.power, Booting: c.booting(now),
		Pan: c.pan.value(now), Tilt: c.tilt.value(now), Zoom: c.zoom.value(now),
		Moving: c.pan.moving(now) || c.tilt.moving(now) || c.zoom.moving(now),
	}
	for y := 1; y <= 2; y++ {
		if c.sockets[y] != nil {
			st.Busy++
		}
	}
	for n := 0; n < c.s.cfg.Presets; n++ {
		if _, ok := c.presets[n]; ok {
			st.Presets = append(st.Presets, n)
		}
	}
	return st
}

// handle answers one packet addressed to this camera (header 8x, terminator FF), at now.
func (c *camera) handle(p []byte, now time.Time, out replier) {
	body := p[1 : len(p)-1]
	inquiry := len(body) >= 1 && body[0] == 0x09
	if len(c.faults) > 0 {
		f := c.faults[0]
		c.faults = c.faults[1:]
		if f != FaultSequence && f != FaultMessageType {
			c.fault(f, inquiry, out)
			return
		}
	}
	switch {
	case len(body) == 1 && body[0]&0xF0 == 0x20:
		c.cancel(int(body[0]&0x0F), now, out)
	case inquiry:
		c.inquiry(body, now, out)
	case len(body) >= 2 && body[0] == 0x01:
		c.command(body, now, out)
	default:
		c.emit(out, 0x60, 0x02)
	}
}

// fault answers with an error on demand.
func (c *camera) fault(f Fault, inquiry bool, out replier) {
	y := byte(c.freeSocket())
	switch {
	case inquiry:
		y = 0 // inquiries use no socket
	case y == 0:
		y = 1
	}
	switch f {
	case FaultLength:
		c.emit(out, 0x60, 0x01)
	case FaultSyntax:
		c.emit(out, 0x60, 0x02)
	case FaultBufferFull:
		c.emit(out, 0x60, 0x03)
	case FaultCancelled:
		if !inquiry {
			c.emit(out, 0x40|y)
		}
		c.emit(out, 0x60|y, 0x04)
	case FaultNoSocket:
		c.emit(out, 0x60|y, 0x05)
	case FaultNotExecutable:
		c.emit(out, 0x60|y, 0x41)
	}
}

// cancel is Cancel 8x 2y: the command in socket y is cancelled (6y 04, no completion), or
// there is none (6y 05).
func (c *camera) cancel(y int, now time.Time, out replier) {
	if y >= 1 && y <= 2 && c.sockets[y] != nil {
		c.abort(c.sockets[y], now)
		c.emit(out, 0x60|byte(y), 0x04)
		return
	}
	c.emit(out, 0x60|byte(y), 0x05)
}

func (c *camera) inquiry(b []byte, now time.Time, out replier) {
	switch {
	case bytes.Equal(b, []byte{0x09, 0x04, 0x00}): // CAM_PowerInq
		v := byte(0x03)
		if c.power {
			v = 0x02
		}
		c.emit(out, 0x50, v)
	case bytes.Equal(b, []byte{0x09, 0x04, 0x47}): // CAM_ZoomPosInq
		c.emit(out, append([]byte{0x50}, nibbles(uint16(c.zoom.value(now)))...)...)
	case bytes.Equal(b, []byte{0x09, 0x06, 0x12}): // Pan-tiltPosInq
		a := append([]byte{0x50}, nibbles(uint16(int16(c.pan.value(now))))...)
		c.emit(out, append(a, nibbles(uint16(int16(c.tilt.value(now))))...)...)
	case bytes.Equal(b, []byte{0x09, 0x00, 0x02}): // CAM_VersionInq
		v, m, r := c.s.cfg.Vendor, c.s.cfg.Model, c.s.cfg.ROM
		c.emit(out, 0x50, byte(v>>8), byte(v), byte(m>>8), byte(m), byte(r>>8), byte(r), 0x02)
	default:
		c.emit(out, 0x60, 0x02)
	}
}

// run starts a command once accepted and returns how long it takes, and the motors it moves.
type run func(now time.Time) (time.Duration, []*axis)

func (c *camera) command(b []byte, now time.Time, out replier) {
	if bytes.Equal(b, []byte{0x01, 0x00, 0x01}) { // IF_Clear: no ACK, completion on socket 0
		c.clear(now)
		c.emit(out, 0x50)
		return
	}
	r, needOn := c.parse(b)
	if r == nil {
		c.emit(out, 0x60, 0x02)
		return
	}
	y := c.freeSocket()
	if y == 0 {
		c.emit(out, 0x60, 0x03)
		return
	}
	if c.booting(now) || needOn && !c.power {
		c.emit(out, 0x60|byte(y), 0x41)
		return
	}
	c.emit(out, 0x40|byte(y))
	wait, axes := r(now)
	if wait < time.Millisecond {
		for _, a := range axes {
			a.arrive(now) // too short to wait for: there at once
		}
		c.emit(out, 0x50|byte(y))
		return
	}
	j := &job{socket: y, out: out, axes: axes}
	c.sockets[y] = j
	s := c.s
	j.timer = time.AfterFunc(wait, func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.closed {
			return
		}
		now := s.now()
		for _, a := range j.axes {
			a.settle(now)
		}
		c.finish(j)
	})
}

// parse checks a command and returns what it does; nil when it is not one the camera takes
// (a syntax error). needOn is false for the power command.
func (c *camera) parse(b []byte) (r run, needOn bool) {
	speed := c.s.cfg.Speed
	ptRate := func(v byte) float64 { return float64(v) * unitsPerStep * speed }
	switch {
	case len(b) == 4 && b[1] == 0x04 && b[2] == 0x00 && (b[3] == 0x02 || b[3] == 0x03): // CAM_Power
		on := b[3] == 0x02
		return func(now time.Time) (time.Duration, []*axis) {
			switch {
			case on && !c.power:
				c.power, c.bootEnd = true, now.Add(c.s.cfg.BootTime)
				return c.s.cfg.BootTime, nil
			case !on && c.power:
				c.power = false
				c.supersede(&c.pan, &c.tilt, &c.zoom)
				for _, a := range []*axis{&c.pan, &c.tilt, &c.zoom} {
					a.stop(now)
				}
			}
			return 0, nil
		}, false
	case len(b) == 4 && b[1] == 0x04 && b[2] == 0x07: // CAM_Zoom
		p := b[3]
		var vel float64
		switch {
		case p == 0x00:
		case p == 0x02:
			vel = 4 * zoomPerStep * speed
		case p == 0x03:
			vel = -4 * zoomPerStep * speed
		case p&0xF0 == 0x20 && p&0x0F <= 7:
			vel = float64(p&0x0F+1) * zoomPerStep * speed
		case p&0xF0 == 0x30 && p&0x0F <= 7:
			vel = -float64(p&0x0F+1) * zoomPerStep * speed
		default:
			return nil, true
		}
		return func(now time.Time) (time.Duration, []*axis) {
			c.supersede(&c.zoom)
			c.zoom.drive(now, vel)
			return 0, nil
		}, true
	case len(b) == 7 && b[1] == 0x04 && b[2] == 0x47: // CAM_Zoom Direct
		v, ok := fromNibbles(b[3:7])
		if !ok || v > ZoomMax {
			return nil, true
		}
		return func(now time.Time) (time.Duration, []*axis) {
			c.supersede(&c.zoom)
			return c.zoom.goTo(now, float64(v), zoomDirect*speed), []*axis{&c.zoom}
		}, true
	case len(b) == 7 && b[1] == 0x06 && b[2] == 0x01: // Pan-tiltDrive
		vv, ww, dp, dt := b[3], b[4], b[5], b[6]
		if vv < 1 || vv > 0x18 || ww < 1 || ww > 0x17 || dp < 1 || dp > 3 || dt < 1 || dt > 3 {
			return nil, true
		}
		pv := map[byte]float64{0x01: -1, 0x02: 1, 0x03: 0}[dp] * ptRate(vv)
		tv := map[byte]float64{0x01: 1, 0x02: -1, 0x03: 0}[dt] * ptRate(ww)
		return func(now time.Time) (time.Duration, []*axis) {
			c.supersede(&c.pan, &c.tilt)
			c.pan.drive(now, pv)
			c.tilt.drive(now, tv)
			return 0, nil
		}, true
	case len(b) == 13 && b[1] == 0x06 && b[2] == 0x02: // Pan-tiltDrive AbsolutePosition
		vv, ww := b[3], b[4]
		p, ok1 := fromNibbles(b[5:9])
		t, ok2 := fromNibbles(b[9:13])
		pan, tilt := float64(int16(p)), float64(int16(t))
		if !ok1 || !ok2 || vv < 1 || vv > 0x18 || ww < 1 || ww > 0x17 ||
			pan < PanMin || pan > PanMax || tilt < TiltMin || tilt > TiltMax {
			return nil, true
		}
		return c.moveTo(pan, tilt, ptRate(vv), ptRate(ww), -1, 0), true
	case len(b) == 3 && b[1] == 0x06 && (b[2] == 0x04 || b[2] == 0x05): // Home, Reset
		return c.moveTo(0, 0, ptRate(0x18), ptRate(0x17), -1, 0), true
	case len(b) == 5 && b[1] == 0x04 && b[2] == 0x3F && b[3] <= 0x02: // CAM_Memory
		n := int(b[4])
		if n >= c.s.cfg.Presets {
			return nil, true
		}
		switch b[3] {
		case 0x00:
			return func(time.Time) (time.Duration, []*axis) { delete(c.presets, n); return 0, nil }, true
		case 0x01:
			return func(now time.Time) (time.Duration, []*axis) {
				c.presets[n] = preset{c.pan.at(now), c.tilt.at(now), c.zoom.at(now)}
				return 0, nil
			}, true
		}
		p := c.presets[n] // an empty preset is the home position, wide
		return c.moveTo(p.pan, p.tilt, ptRate(0x18), ptRate(0x17), p.zoom, zoomDirect*speed), true
	}
	return nil, true
}

// moveTo moves pan and tilt (and zoom, when zoom >= 0) to a position.
func (c *camera) moveTo(pan, tilt, pr, tr, zoom, zr float64) run {
	return func(now time.Time) (time.Duration, []*axis) {
		axes := []*axis{&c.pan, &c.tilt}
		if zoom >= 0 {
			axes = append(axes, &c.zoom)
		}
		c.supersede(axes...)
		wait := max(c.pan.goTo(now, pan, pr), c.tilt.goTo(now, tilt, tr))
		if zoom >= 0 {
			wait = max(wait, c.zoom.goTo(now, zoom, zr))
		}
		return wait, axes
	}
}

func nibbles(v uint16) []byte {
	return []byte{byte(v>>12) & 0xF, byte(v>>8) & 0xF, byte(v>>4) & 0xF, byte(v) & 0xF}
}

func fromNibbles(b []byte) (uint16, bool) {
	var v uint16
	for _, n := range b {
		if n > 0xF {
			return 0, false
		}
		v = v<<4 | uint16(n)
	}
	return v, true
}
