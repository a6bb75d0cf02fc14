package follow

import (
	"fmt"
	"slices"
	"testing"
	"time"
)

var seats = []Seat{
	{Channel: "1", Device: "bench-cam", Preset: 1, Stream: "bench-cam", Judge: true},
	{Channel: "2", Device: "wide-cam", Preset: 2, Stream: "wide-cam"},
	{Channel: "3", Device: "wide-cam", Preset: 3, Stream: "wide-cam"},
}

// step is one stretch of a script: from at, for dur, the levels are read
// every 100 ms (channels not named are at -80).
type step struct {
	at, dur time.Duration
	levels  map[string]float64
}

func loud(chs ...string) map[string]float64 {
	m := map[string]float64{}
	for _, c := range chs {
		m[c] = -20
	}
	return m
}

// alternate makes a and b speak in turn, each for every, from at for dur.
func alternate(a, b string, at, dur, every time.Duration) []step {
	var out []step
	for t, i := at, 0; t < at+dur; t, i = t+every, i+1 {
		ch := a
		if i%2 == 1 {
			ch = b
		}
		out = append(out, step{t, every, loud(ch)})
	}
	return out
}

func TestScenarios(t *testing.T) {
	o := Options{Seats: seats, MinLevel: -45, Attack: 400 * time.Millisecond, Hold: 3 * time.Second,
		Release: 1500 * time.Millisecond, Stale: time.Second}
	s := time.Second
	for _, c := range []struct {
		name   string
		script []step
		want   []string // "at:channel", at in ms from the start
	}{
		{"silence picks nobody", []step{{0, 5 * s, nil}}, nil},
		{"one speaker after the attack", []step{{0, 2 * s, loud("2")}}, []string{"400:2"}},
		{"a cough is not speech", []step{{0, 300 * time.Millisecond, loud("2")}, {300 * time.Millisecond, 3 * s, nil}}, nil},
		{"below the minimum level", []step{{0, 3 * s, map[string]float64{"2": -50}}}, nil},
		{"a second speaker after the first stops",
			[]step{{0, 4 * s, loud("2")}, {4 * s, 4 * s, loud("3")}}, []string{"400:2", "5500:3"}}, // 2 released at 3.9 s + 1.5 s
		{"the judge first when both speak",
			[]step{{0, 2 * s, loud("1", "2")}}, []string{"400:1"}},
		{"the judge takes over a speaker after the hold",
			[]step{{0, 2 * s, loud("2")}, {2 * s, 3 * s, loud("1", "2")}}, []string{"400:2", "3400:1"}},
		{"a speaker does not take over the judge still speaking",
			[]step{{0, 4 * s, loud("1")}, {4 * s, 4 * s, loud("1", "3")}}, []string{"400:1"}},
		{"quiet keeps the last pick", []step{{0, 1 * s, loud("3")}, {1 * s, 5 * s, nil}}, []string{"400:3"}},
		{"alternating speech every 500 ms does not flap",
			alternate("2", "3", 0, 10*s, 500*time.Millisecond), []string{"400:2"}},
		// 3 waits for the hold and for 2's release (last loud at 1.9 s);
		// then 3 speaks again within the hold; 2 takes over once 3 has
		// been quiet for the release.
		{"alternating every 2 s cuts after the hold and the release",
			alternate("2", "3", 0, 12*s, 2*s), []string{"400:2", "3500:3", "9500:2"}},
		{"a lost meter is silence", []step{{0, 1 * s, loud("2")}, {3 * s, 2 * s, loud("3")}}, []string{"400:2", "3400:3"}},
		{"a channel without a seat is ignored", []step{{0, 2 * s, loud("9")}}, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := New(o)
			start := time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC)
			var got []string
			for _, st := range c.script {
				for d := time.Duration(0); d < st.dur; d += 100 * time.Millisecond {
					at := st.at + d
					lv := map[string]float64{"1": -80, "2": -80, "3": -80, "9": -80}
					for k, v := range st.levels {
						lv[k] = v
					}
					if seat, ok := f.Levels(lv, start.Add(at)); ok {
						got = append(got, fmt.Sprintf("%d:%s", at.Milliseconds(), seat.Channel))
					}
				}
			}
			if !slices.Equal(got, c.want) {
				t.Errorf("picks %v, want %v", got, c.want)
			}
		})
	}
}

func TestResetAndCurrent(t *testing.T) {
	f := New(Options{Seats: seats})
	now := time.Now()
	if _, ok := f.Current(); ok {
		t.Fatal("a pick before any level")
	}
	for i := range 10 {
		f.Levels(loud("2"), now.Add(time.Duration(i)*100*time.Millisecond))
	}
	if s, ok := f.Current(); !ok || s.Channel != "2" {
		t.Fatalf("current %v %v", s, ok)
	}
	f.Reset()
	if _, ok := f.Current(); ok {
		t.Fatal("a pick after Reset")
	}
	if s, ok := f.Levels(loud("3"), now.Add(2*time.Second)); ok {
		t.Fatalf("picked %v without an attack", s)
	}
	if s, ok := f.Levels(loud("3"), now.Add(2500*time.Millisecond)); !ok || s.Channel != "3" {
		t.Fatalf("after Reset: %v %v", s, ok)
	}
}
