// Package golden holds the one table of button edge sequences that the debouncer's test, the
// button tests on fake pins, the simulator's test and the fuzz seed corpus all use: levels
// at times ⇄ the events the driver reports.
//
// It is internal to drivers/gpio and imported only by tests.
package golden

import "time"

const ms = time.Millisecond

// Step is the pin going to a level at a time after the start. An edge without a change of
// level (Level equal to the one before) is an edge a bouncing contact gives too fast to read.
type Step struct {
	At   time.Duration
	High bool
}

// Event is what the driver reports: the button pressed or released, At after the start
// (for the debouncer fed these exact times).
type Event struct {
	At      time.Duration
	Pressed bool
}

// Case is one edge sequence.
type Case struct {
	Name      string
	ActiveLow bool
	Debounce  time.Duration
	StartHigh bool // the level when watching starts
	Steps     []Step
	Want      []Event
	// Live marks the cases whose timing is coarse enough to replay on a fake pin in real
	// time: bounces within 5 ms, and 60 ms or more between what must count.
	Live bool
}

// Cases is the golden table.
var Cases = []Case{
	{Name: "clean press and release", Debounce: 20 * ms,
		Steps: []Step{{0, true}, {100 * ms, false}},
		Want:  []Event{{20 * ms, true}, {120 * ms, false}}, Live: true},
	{Name: "bouncy press", Debounce: 20 * ms,
		Steps: []Step{{0, true}, {1 * ms, false}, {2 * ms, true}, {3 * ms, false}, {5 * ms, true}},
		Want:  []Event{{25 * ms, true}}, Live: true},
	{Name: "bouncy press and release", Debounce: 20 * ms,
		Steps: []Step{{0, true}, {1 * ms, false}, {2 * ms, true}, {150 * ms, false}, {151 * ms, true}, {153 * ms, false}},
		Want:  []Event{{22 * ms, true}, {173 * ms, false}}, Live: true},
	{Name: "glitch shorter than the debounce", Debounce: 20 * ms,
		Steps: []Step{{0, true}, {5 * ms, false}},
		Want:  nil, Live: true},
	{Name: "active low press", ActiveLow: true, Debounce: 20 * ms, StartHigh: true,
		Steps: []Step{{0, false}, {1 * ms, true}, {2 * ms, false}, {100 * ms, true}},
		Want:  []Event{{22 * ms, true}, {120 * ms, false}}, Live: true},
	{Name: "active low glitch", ActiveLow: true, Debounce: 20 * ms, StartHigh: true,
		Steps: []Step{{10 * ms, false}, {12 * ms, true}},
		Want:  nil, Live: true},
	{Name: "chatter longer than the debounce", Debounce: 20 * ms,
		Steps: []Step{{0, true}, {15 * ms, false}, {30 * ms, true}, {45 * ms, false}, {60 * ms, true}},
		Want:  []Event{{80 * ms, true}}},
	{Name: "edge without a change restarts the wait", Debounce: 20 * ms,
		Steps: []Step{{0, true}, {10 * ms, true}},
		Want:  []Event{{30 * ms, true}}},
	{Name: "no debounce", Debounce: 0,
		Steps: []Step{{0, true}, {1 * ms, false}, {2 * ms, true}},
		Want:  []Event{{0, true}, {1 * ms, false}, {2 * ms, true}}},
	{Name: "two presses", Debounce: 20 * ms,
		Steps: []Step{{0, true}, {80 * ms, false}, {160 * ms, true}, {161 * ms, false}, {162 * ms, true}, {240 * ms, false}},
		Want:  []Event{{20 * ms, true}, {100 * ms, false}, {182 * ms, true}, {260 * ms, false}}, Live: true},
	{Name: "held at start", Debounce: 20 * ms, StartHigh: true,
		Steps: []Step{{50 * ms, false}},
		Want:  []Event{{70 * ms, false}}, Live: true},
	{Name: "long debounce", Debounce: 200 * ms,
		Steps: []Step{{0, true}, {150 * ms, false}, {160 * ms, true}},
		Want:  []Event{{360 * ms, true}}},
}

// Simulate is the reference model of a debounced button: the level an edge leaves counts
// when no other edge comes within Debounce after it (with a zero Debounce, at once), and it
// is reported, Debounce after the edge, when it differs from the level that counted before.
// Steps must be in time order. The driver's debouncer must agree with it on every sequence.
func Simulate(c Case) []Event {
	out := []Event{}
	stable := c.StartHigh
	for i, s := range c.Steps {
		at := s.At + c.Debounce
		if c.Debounce > 0 && i+1 < len(c.Steps) && c.Steps[i+1].At <= at {
			continue // another edge before the level held long enough
		}
		if s.High != stable {
			stable = s.High
			out = append(out, Event{At: at, Pressed: s.High != c.ActiveLow})
		}
	}
	return out
}
